// Package host runs the listeners of a loaded configuration: one driver
// per driver block, and for each listener a supervised plugin process fed
// by a runner.
package host

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/metrics"
)

// ErrAllListenersFailed is returned by Run when no listener could run.
var ErrAllListenersFailed = errors.New("every listener failed")

// ErrNotRunning is returned by Reload when Run is not running.
var ErrNotRunning = errors.New("the host is not running")

// Host runs every listener of one configuration.
type Host struct {
	cfg    *config.Config
	logger hclog.Logger

	drivers map[string]drivers.Driver
	// injected holds the kinds of drivers given with WithDriver, which
	// the host uses but does not close.
	injected map[string]bool

	// socketDir holds the folders of the plugins' Unix sockets.
	socketDir string
	metrics   *metrics.Metrics

	// reloads carries Reload requests to Run; failed carries the names of
	// listeners whose plugin failed for good.
	reloads chan reloadRequest
	failed  chan string
	// retiring counts listeners that a reload replaced or removed and that
	// are still finishing their messages.
	retiring sync.WaitGroup

	mu        sync.Mutex
	listeners []*listener
	// startFailures holds the status of listeners that could not start,
	// for the health endpoint.
	startFailures []metrics.ListenerStatus
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
		reloads:  make(chan reloadRequest),
		failed:   make(chan string, 64),
	}
	for _, option := range options {
		option(h)
	}
	h.metrics.AddGatherer(prometheus.GathererFunc(h.gatherPluginMetrics))
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

	for _, cfg := range h.cfg.Listeners {
		if l := h.addListener(ctx, cfg); l != nil {
			h.mu.Lock()
			h.listeners = append(h.listeners, l)
			h.mu.Unlock()
		}
	}
	h.logger.Info("host running, starting plugins", "listeners", len(h.cfg.Listeners), "config", h.cfg.File)

	allFailed := h.serve(ctx)

	h.logger.Info("shutting down", "shutdown_timeout", h.cfg.Host.ShutdownTimeout.String())
	h.shutdown(hardStop)
	h.logger.Info("host stopped")

	if allFailed {
		return fmt.Errorf("run %s: %w", h.cfg.File, ErrAllListenersFailed)
	}
	return nil
}

// serve handles reloads and listener failures until ctx ends or every
// listener has failed, and reports the latter.
func (h *Host) serve(ctx context.Context) bool {
	for {
		if h.allFailed() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case request := <-h.reloads:
			request.done <- h.applyReload(ctx, request.cfg)
		case <-h.failed:
		}
	}
}

// allFailed reports whether no configured listener can run.
func (h *Host) allFailed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()

	for _, l := range h.listeners {
		if l.runErr() == nil {
			return false
		}
	}
	return len(h.listeners)+len(h.startFailures) > 0
}

// addListener builds and starts one listener. A listener that cannot
// start is logged and recorded for the health endpoint, and nil returned.
func (h *Host) addListener(ctx context.Context, cfg config.Listener) *listener {
	h.metrics.InitListener(cfg.Name)
	l, err := h.newListener(ctx, cfg)
	if err != nil {
		h.logger.Error("listener failed to start", "listener", cfg.Name, "error", err)
		h.recordStartFailure(cfg, err)
		return nil
	}
	l.start(h.failed)
	return l
}

// shutdown stops every listener: polling ends, handlers get the shutdown
// timeout (cut short by hardStop), then plugins stop.
func (h *Host) shutdown(hardStop <-chan struct{}) {
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

	h.mu.Lock()
	listeners := append([]*listener(nil), h.listeners...)
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Go(func() { l.stop(ctx) })
	}
	wg.Wait()
	h.retiring.Wait()
}
