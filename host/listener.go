package host

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/runner"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// pluginStopTimeout bounds the shutdown hook of a plugin that stops.
const pluginStopTimeout = 10 * time.Second

// listener is the runtime of one listener block: a runner polling its
// queue and a supervisor keeping its plugin running, each with its own
// lifetime so that plugins outlive polling while handlers finish.
type listener struct {
	cfg        config.Listener
	logger     hclog.Logger
	driver     drivers.Driver
	runner     *runner.Runner
	supervisor *supervisor.Supervisor
	// binaryHash is the plugin binary's hash when the listener was built,
	// so a reload can tell a new binary from the same one.
	binaryHash string

	stopPolling    context.CancelFunc
	stopSupervisor context.CancelFunc
	polling        chan struct{} // closed when the runner returns
	supervising    chan struct{} // closed when the supervisor returns

	mu  sync.Mutex
	err error // cause of a listener stop for good
}

// newListener opens the listener's queue and builds its runner and
// supervisor.
func (h *Host) newListener(ctx context.Context, cfg config.Listener) (*listener, error) {
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
		Listener:     cfg.Name,
		Path:         cfg.Plugin,
		Env:          cfg.Env,
		LogLevel:     h.cfg.Host.LogLevel,
		SocketDir:    h.socketDir,
		RestartLimit: cfg.RestartLimit,
		SHA256:       cfg.SHA256,
		MemoryLimit:  cfg.MemoryLimit,
		CPULimit:     cfg.CPULimit,
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
		cfg:         cfg,
		logger:      logger,
		driver:      driver,
		runner:      r,
		supervisor:  supervisor.New(spec, r, logger, r.ReleaseInstance),
		binaryHash:  binaryHash(cfg.Plugin),
		polling:     make(chan struct{}),
		supervising: make(chan struct{}),
	}, nil
}

// start runs the supervisor and the runner. A runner that stops because
// its plugin failed for good sends the listener's name on failed.
func (l *listener) start(failed chan<- string) {
	pollCtx, stopPolling := context.WithCancel(context.Background())
	supervisorCtx, stopSupervisor := context.WithCancel(context.Background())
	l.stopPolling, l.stopSupervisor = stopPolling, stopSupervisor

	go func() {
		defer close(l.supervising)
		_ = l.supervisor.Run(supervisorCtx)
	}()
	go func() {
		defer close(l.polling)
		if err := l.runner.Run(pollCtx, l.supervisor); err != nil {
			l.setErr(err)
			l.logger.Error("listener stopped", "error", err)
			failed <- l.cfg.Name
		}
	}()
}

// waitRunning waits until the plugin finished its handshake and startup
// hook, or failed for good.
func (l *listener) waitRunning(ctx context.Context) error {
	_, err := l.supervisor.Acquire(ctx)
	return err
}

// stop ends polling, gives running handlers until drainCtx ends, then
// runs the plugin's shutdown hook and stops it.
func (l *listener) stop(drainCtx context.Context) {
	l.stopPolling()
	<-l.polling

	if err := l.runner.Drain(drainCtx); err != nil {
		l.logger.Warn("handlers did not finish in time, their messages were released", "error", err)
	}

	l.stopSupervisor()
	<-l.supervising

	ctx, cancel := context.WithTimeout(context.Background(), pluginStopTimeout)
	defer cancel()
	l.supervisor.Stop(ctx)
}

func (l *listener) setErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *listener) runErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
