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

	// DefaultPollInterval is how often the driver checks the database file
	// for changes made by other processes while a Receive is waiting.
	DefaultPollInterval = 3 * time.Millisecond
)

// Option configures Open.
type Option func(*config)

type config struct {
	busyTimeout  time.Duration
	pollInterval time.Duration
	logger       hclog.Logger
}

func defaultConfig() config {
	return config{
		busyTimeout:  DefaultBusyTimeout,
		pollInterval: DefaultPollInterval,
		logger:       hclog.NewNullLogger(),
	}
}

// WithBusyTimeout sets how long a statement waits for a lock that another
// connection or process holds, as PRAGMA busy_timeout does. SQLite counts it
// in whole milliseconds. The default is DefaultBusyTimeout.
func WithBusyTimeout(timeout time.Duration) Option {
	return func(c *config) { c.busyTimeout = timeout }
}

// WithPollInterval sets how often a waiting Receive checks for messages
// that other processes sent or released. A shorter interval lowers the
// latency of such messages and costs one small query per interval while any
// Receive waits. Messages sent through the same Driver wake a waiting
// Receive at once regardless. The default is DefaultPollInterval.
func WithPollInterval(interval time.Duration) Option {
	return func(c *config) { c.pollInterval = interval }
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
