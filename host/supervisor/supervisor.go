package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/sethvargo/go-retry"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// Restart backoff: the first restart comes quickly so a single crash costs
// little, repeated ones slow down to the cap.
const (
	restartBaseDelay = 200 * time.Millisecond
	restartMaxDelay  = time.Minute
	// healthyPeriod is how long a plugin must run, unless it handled a
	// message, before a crash counts as the first of a new series rather
	// than the next of the old one.
	healthyPeriod = time.Minute
	// exitPollInterval is how often the supervisor checks that the plugin
	// process is alive.
	exitPollInterval = 50 * time.Millisecond
	// exitStatusWait bounds the wait for the exit status of a plugin
	// whose connection broke.
	exitStatusWait = time.Second
)

// DefaultRestartLimit is how many failed starts or crashes in a row mark a
// plugin failed when the spec sets no limit.
const DefaultRestartLimit = 10

// ErrRestartLimit marks a plugin that failed to start or crashed too many
// times in a row.
var ErrRestartLimit = errors.New("plugin restart limit reached")

// State is the supervisor's view of its plugin.
type State string

// States a supervisor reports.
const (
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateFailed   State = "failed"
	StateStopped  State = "stopped"
)

// Supervisor keeps one listener's plugin process running.
type Supervisor struct {
	spec   Spec
	host   proto.HostServer
	logger hclog.Logger
	// onExit runs after a plugin process ended on its own, before the
	// restart, so the runner can release the messages it was handling. It
	// returns their ids for the crash log.
	onExit func(*Instance) []string

	mu      sync.Mutex
	current *Instance
	ready   chan struct{} // closed while current is set
	state   State
	lastErr error
	starts  int
}

// New returns a supervisor for spec. host serves the plugin's calls back
// to the host; onExit may be nil.
func New(spec Spec, host proto.HostServer, logger hclog.Logger, onExit func(*Instance) []string) *Supervisor {
	if onExit == nil {
		onExit = func(*Instance) []string { return nil }
	}
	return &Supervisor{
		spec:   spec,
		host:   host,
		logger: logger,
		onExit: onExit,
		ready:  make(chan struct{}),
		state:  StateStarting,
	}
}

// Run starts the plugin and restarts it with backoff whenever it exits,
// until ctx ends. It returns nil when ctx ends. It returns an error, and
// leaves the supervisor in StateFailed, when the binary cannot work with
// this host (ErrHandshake) or when RestartLimit starts or crashes in a row
// failed (ErrRestartLimit).
func (s *Supervisor) Run(ctx context.Context) error {
	failures := 0
	for {
		instance, err := Start(ctx, s.spec, s.host, s.logger)
		if ctx.Err() != nil {
			if instance != nil {
				s.setCurrent(instance)
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrHandshake) {
				s.fail(err)
				return err
			}

			failures++
			if failures >= s.restartLimit() {
				err = fmt.Errorf("%w: %d starts failed in a row, the last with: %w", ErrRestartLimit, failures, err)
				s.fail(err)
				return err
			}
			delay := restartDelay(failures)
			s.setError(err)
			s.logger.Error("plugin failed to start", "attempt", failures, "retry_in", delay.String(), "error", err)
			if !sleep(ctx, delay) {
				return nil
			}
			continue
		}

		started := time.Now()
		s.setCurrent(instance)
		s.logger.Info("plugin started", "pid", instance.Pid(), "path", s.spec.Path)

		if !waitExit(ctx, instance) {
			return nil
		}
		s.handleCrash(instance)

		// A plugin that ran for a while or handled messages before it
		// crashed is not crash-looping: its crash starts a new series.
		if time.Since(started) > healthyPeriod || instance.Progressed() {
			failures = 0
		}
		failures++
		if failures >= s.restartLimit() {
			err := fmt.Errorf("%w: the plugin crashed %d times in a row without a healthy minute between", ErrRestartLimit, failures)
			s.fail(err)
			return err
		}
		delay := restartDelay(failures)
		s.logger.Warn("restarting plugin", "attempt", failures, "delay", delay.String())
		if !sleep(ctx, delay) {
			return nil
		}
	}
}

// handleCrash takes a plugin that exited on its own out of service,
// releases its messages and logs the crash with their ids.
func (s *Supervisor) handleCrash(instance *Instance) {
	s.clearCurrent()
	waitExited(instance, exitStatusWait)
	messageIDs := s.onExit(instance)
	instance.Kill()
	s.spec.Metrics.PluginCrashed(s.spec.Listener)

	s.logger.Error("plugin crashed", "pid", instance.Pid(), "status", instance.ExitStatus(), "message_ids", messageIDs)
	s.logger.Debug("last stderr lines of the crashed plugin", "pid", instance.Pid(), "stderr", instance.StderrTail())
}

func (s *Supervisor) restartLimit() int {
	if s.spec.RestartLimit > 0 {
		return s.spec.RestartLimit
	}
	return DefaultRestartLimit
}

// Acquire returns the running plugin, waiting for a start or restart to
// finish. It fails when ctx ends or the plugin has failed for good.
func (s *Supervisor) Acquire(ctx context.Context) (*Instance, error) {
	for {
		s.mu.Lock()
		current, ready, state, lastErr := s.current, s.ready, s.state, s.lastErr
		s.mu.Unlock()

		if current != nil && current.usable() {
			return current, nil
		}
		if state == StateFailed || state == StateStopped {
			return nil, fmt.Errorf("plugin of listener %q is %s: %w", s.spec.Listener, state, lastErr)
		}

		if current != nil {
			// The instance broke but the supervisor has not replaced it
			// yet; wait for it to notice.
			if !sleep(ctx, exitPollInterval) {
				return nil, context.Cause(ctx)
			}
			continue
		}

		select {
		case <-ready:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// Stop runs the shutdown hook of the running plugin, bounded by ctx, and
// then kills the process.
func (s *Supervisor) Stop(ctx context.Context) {
	s.mu.Lock()
	current := s.current
	s.current = nil
	if s.state != StateFailed {
		s.state = StateStopped
	}
	s.mu.Unlock()

	if current == nil {
		return
	}
	if err := current.Shutdown(ctx); err != nil {
		s.logger.Error("plugin shutdown hook failed", "error", err)
	}
	current.Kill()
	s.logger.Debug("plugin stopped", "pid", current.Pid())
}

// State returns the plugin's state and the last start error, if any.
func (s *Supervisor) State() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.lastErr
}

// Current returns the running plugin without waiting, or nil when none is
// usable now.
func (s *Supervisor) Current() *Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil || !s.current.usable() {
		return nil
	}
	return s.current
}

// Pid returns the process id of the running plugin, or 0 when none runs.
func (s *Supervisor) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return 0
	}
	return s.current.Pid()
}

// Restarts returns how many times the plugin was started again after its
// first start.
func (s *Supervisor) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.starts-1, 0)
}

func (s *Supervisor) setCurrent(instance *Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.starts++
	s.spec.Metrics.PluginStarted(s.spec.Listener)
	if s.starts > 1 {
		s.spec.Metrics.PluginRestarted(s.spec.Listener)
	}
	s.current = instance
	s.state = StateRunning
	s.lastErr = nil
	close(s.ready)
}

func (s *Supervisor) clearCurrent() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.current = nil
	s.state = StateStarting
	s.ready = make(chan struct{})
}

func (s *Supervisor) setError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
}

func (s *Supervisor) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.state = StateFailed
	s.lastErr = err
	close(s.ready) // wakes waiters so they see the failure
}

// waitExit blocks until the instance's process exits or its connection
// breaks (true) or ctx ends (false).
func waitExit(ctx context.Context, instance *Instance) bool {
	ticker := time.NewTicker(exitPollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-ticker.C:
			if !instance.usable() {
				return true
			}
		}
	}
}

// waitExited gives a process whose connection broke a moment to exit, so
// the log can show its exit status.
func waitExited(instance *Instance, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !instance.Exited() && time.Now().Before(deadline) {
		time.Sleep(exitPollInterval / 5)
	}
}

// restartDelay returns the jittered exponential delay before restart
// number attempt (1-based).
func restartDelay(attempt int) time.Duration {
	backoff := retry.NewExponential(restartBaseDelay)
	backoff = retry.WithJitterPercent(10, backoff)
	backoff = retry.WithCappedDuration(restartMaxDelay, backoff)

	var delay time.Duration
	for range attempt {
		delay, _ = backoff.Next()
	}
	return delay
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
