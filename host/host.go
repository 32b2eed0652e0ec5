// Package host runs the listeners of a loaded configuration: one driver
// per driver block, and for each listener a supervised plugin process fed
// by a runner.
package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/host/runner"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// pluginStopTimeout bounds the shutdown hook of each plugin at shutdown.
const pluginStopTimeout = 10 * time.Second

// ErrAllListenersFailed is returned by Run when no listener could run.
var ErrAllListenersFailed = errors.New("every listener failed")

// Host runs every listener of one configuration.
type Host struct {
	cfg    *config.Config
	logger hclog.Logger

	drivers map[string]drivers.Driver
	// injected holds the kinds of drivers given with WithDriver, which
	// the host uses but does not close.
	injected  map[string]bool
	listeners []*listener

	// socketDir holds the folders of the plugins' Unix sockets.
	socketDir string

	metrics *metrics.Metrics
	// startFailures holds the status of listeners that could not start,
	// for the health endpoint.
	startFailures []metrics.ListenerStatus
	mu            sync.Mutex
}

// listener is the runtime of one listener block.
type listener struct {
	cfg        config.Listener
	logger     hclog.Logger
	driver     drivers.Driver
	runner     *runner.Runner
	supervisor *supervisor.Supervisor

	mu  sync.Mutex
	err error // cause of a listener stop for good
}

// Option changes how New builds a Host.
type Option func(*Host)

// WithDriver makes the host use driver for the driver block of that kind
// instead of opening one. The caller keeps ownership and closes it. Tests
// and the author harness use it to share a memory driver with the host.
func WithDriver(kind string, driver drivers.Driver) Option {
	return func(h *Host) {
		h.drivers[kind] = driver
		h.injected[kind] = true
	}
}

// New returns a host for cfg that logs to logger.
func New(cfg *config.Config, logger hclog.Logger, options ...Option) *Host {
	h := &Host{
		cfg:      cfg,
		logger:   logger,
		drivers:  make(map[string]drivers.Driver),
		injected: make(map[string]bool),
		metrics:  metrics.New(),
	}
	for _, option := range options {
		option(h)
	}
	return h
}

// Run starts every listener and blocks until ctx ends, then shuts down:
// polling stops, running handlers get the host's shutdown timeout, shutdown
// hooks run and plugins stop. Closing hardStop during the shutdown cuts the
// wait short and releases the messages still in flight. Run returns nil
// after a clean shutdown and an error wrapping ErrAllListenersFailed when
// no listener could run.
func (h *Host) Run(ctx context.Context, hardStop <-chan struct{}) error {
	socketDir, err := prepareSocketDir(h.logger)
	if err != nil {
		return err
	}
	h.socketDir = socketDir

	if err := h.openDrivers(); err != nil {
		return err
	}
	defer h.closeDrivers()

	server, err := h.startMetricsServer()
	if err != nil {
		return err
	}
	defer h.stopMetricsServer(server)

	// Plugins must outlive polling so that running handlers can finish, so
	// supervisors get their own context, ended after the drain.
	supervisorCtx, stopSupervisors := context.WithCancel(context.Background())
	defer stopSupervisors()

	var supervisors, runners sync.WaitGroup
	failed := make(chan struct{}, len(h.cfg.Listeners))
	for _, listenerCfg := range h.cfg.Listeners {
		h.metrics.InitListener(listenerCfg.Name)
		l, err := h.startListener(ctx, listenerCfg)
		if err != nil {
			h.logger.Error("listener failed to start", "listener", listenerCfg.Name, "error", err)
			h.recordStartFailure(listenerCfg, err)
			failed <- struct{}{}
			continue
		}
		h.mu.Lock()
		h.listeners = append(h.listeners, l)
		h.mu.Unlock()

		supervisors.Go(func() { _ = l.supervisor.Run(supervisorCtx) })
		runners.Go(func() {
			if err := l.runner.Run(ctx, l.supervisor); err != nil {
				l.setErr(err)
				l.logger.Error("listener stopped", "error", err)
				failed <- struct{}{}
			}
		})
	}
	h.logger.Info("host running, starting plugins", "listeners", len(h.listeners), "config", h.cfg.File)

	allFailed := h.waitForStop(ctx, failed)

	h.logger.Info("shutting down", "shutdown_timeout", h.cfg.Host.ShutdownTimeout.String())
	runners.Wait()
	h.drain(hardStop)

	stopSupervisors()
	supervisors.Wait()
	h.stopPlugins()
	h.logger.Info("host stopped")

	if allFailed {
		return fmt.Errorf("run %s: %w", h.cfg.File, ErrAllListenersFailed)
	}
	return nil
}

// waitForStop blocks until ctx ends or every listener has failed, and
// reports the latter.
func (h *Host) waitForStop(ctx context.Context, failed <-chan struct{}) bool {
	count := 0
	for {
		if count == len(h.cfg.Listeners) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-failed:
			count++
		}
	}
}

// startListener opens the listener's queue and builds its runner and
// supervisor.
func (h *Host) startListener(ctx context.Context, cfg config.Listener) (*listener, error) {
	driver, ok := h.drivers[cfg.Driver]
	if !ok {
		return nil, fmt.Errorf("listener %q uses driver %q, which is not configured", cfg.Name, cfg.Driver)
	}
	queue, err := driver.Open(ctx, cfg.Queue, drivers.OpenOptions{DeadLetterQueue: cfg.DeadLetterQueue})
	if err != nil {
		return nil, fmt.Errorf("open queue %q of listener %q: %w", cfg.Queue, cfg.Name, err)
	}

	if depther, ok := driver.(drivers.Depther); ok {
		h.metrics.WatchQueueDepth(cfg.Name, cfg.Queue, func(ctx context.Context) (int, int, error) {
			return depther.Depth(ctx, cfg.Queue)
		})
	}

	logger := h.logger.With("listener", cfg.Name)
	r := runner.New(cfg, queue, driver, logger, h.metrics)
	spec := supervisor.Spec{
		Listener: cfg.Name,
		Path:     cfg.Plugin,
		Env:          cfg.Env,
		LogLevel:     h.cfg.Host.LogLevel,
		SocketDir:    h.socketDir,
		RestartLimit: cfg.RestartLimit,
		Metrics:      h.metrics,
		Startup: &proto.StartupRequest{
			Listener:   cfg.Name,
			Queue:      cfg.Queue,
			ConfigJson: cfg.Config,
			AutoAck:    cfg.AutoAck,
			Workers:    uint32(cfg.Workers),
		},
	}
	return &listener{
		cfg:        cfg,
		logger:     logger,
		driver:     driver,
		runner:     r,
		supervisor: supervisor.New(spec, r, logger, r.ReleaseInstance),
	}, nil
}

// drain gives running handlers the shutdown timeout, cut short by hardStop.
func (h *Host) drain(hardStop <-chan struct{}) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), h.cfg.Host.ShutdownTimeout,
		fmt.Errorf("shutdown timeout of %s passed", h.cfg.Host.ShutdownTimeout))
	defer cancel()
	go func() {
		select {
		case <-hardStop:
			h.logger.Warn("second signal, releasing the messages in flight and exiting")
			cancel()
		case <-ctx.Done():
		}
	}()

	var wg sync.WaitGroup
	for _, l := range h.listeners {
		wg.Go(func() {
			if err := l.runner.Drain(ctx); err != nil {
				l.logger.Warn("handlers did not finish in time, their messages were released", "error", err)
			}
		})
	}
	wg.Wait()
}

// stopPlugins runs every plugin's shutdown hook and stops its process.
func (h *Host) stopPlugins() {
	var wg sync.WaitGroup
	for _, l := range h.listeners {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), pluginStopTimeout)
			defer cancel()
			l.supervisor.Stop(ctx)
		})
	}
	wg.Wait()
}

func (l *listener) setErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}
