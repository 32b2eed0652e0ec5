package sqlite

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults of the options.
const (
	// DefaultBusyTimeout is how long a statement waits for another
	// connection's lock on the database before it fails with SQLITE_BUSY.
	DefaultBusyTimeout = 5 * time.Second

	// DefaultPollInterval is how often the driver checks the database for
	// changes made by other processes while a Receive is waiting, besides
	// the checks that file notifications trigger.
	DefaultPollInterval = 250 * time.Millisecond
)

// Option configures Open.
type Option func(*config)

type config struct {
	busyTimeout       time.Duration
	pollInterval      time.Duration
	fileNotifications bool
	logger            hclog.Logger
}

func defaultConfig() config {
	return config{
		busyTimeout:       DefaultBusyTimeout,
		pollInterval:      DefaultPollInterval,
		fileNotifications: true,
		logger:            hclog.NewNullLogger(),
	}
}

// WithBusyTimeout sets how long a statement waits for a lock that another
// connection or process holds, as PRAGMA busy_timeout does. SQLite counts it
// in whole milliseconds. The default is DefaultBusyTimeout.
func WithBusyTimeout(timeout time.Duration) Option {
	return func(c *config) { c.busyTimeout = timeout }
}

// WithPollInterval sets how often the driver checks for messages that other
// processes sent or released while a Receive waits. With file
// notifications, a write by another process triggers a check within
// milliseconds, and the interval only bounds the wait when a notification
// does not arrive.
// Without them, the interval is the latency of such messages. Each check is
// one small query. Messages sent through the same Driver wake a waiting
// Receive at once regardless. The default is DefaultPollInterval.
func WithPollInterval(interval time.Duration) Option {
	return func(c *config) { c.pollInterval = interval }
}

// WithFileNotifications sets whether the driver watches the database file
// and its WAL for writes by other processes (inotify on Linux, through
// fsnotify). Turn it off where the folder cannot be watched and set a
// shorter poll interval instead. When the watch fails to start, the driver
// logs a warning and polls. The default is on.
func WithFileNotifications(enabled bool) Option {
	return func(c *config) { c.fileNotifications = enabled }
}

// WithLogger sets the logger for errors that no call can return, such as a
// failed check for changes by other processes. The default discards them.
func WithLogger(logger hclog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// validate returns every invalid option at once.
func (c config) validate() error {
	var errs []error

	if c.busyTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("busy timeout %s is invalid, must be at least 1ms", c.busyTimeout))
	}

	if c.pollInterval <= 0 {
		errs = append(errs, fmt.Errorf("poll interval %s is invalid, must be positive", c.pollInterval))
	}

	if c.logger == nil {
		errs = append(errs, errors.New("logger is nil"))
	}

	return errors.Join(errs...)
}
