package host

import (
	"context"
	"errors"
	"time"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/metrics"
)

// metricsShutdownTimeout bounds the shutdown of the metrics server.
const metricsShutdownTimeout = 5 * time.Second

// Metrics returns the host's collectors.
func (h *Host) Metrics() *metrics.Metrics {
	return h.metrics
}

// Status returns the state of every listener, as /readyz reports it.
func (h *Host) Status(ctx context.Context) []metrics.ListenerStatus {
	h.mu.Lock()
	listeners := append([]*listener(nil), h.listeners...)
	statuses := append([]metrics.ListenerStatus(nil), h.startFailures...)
	h.mu.Unlock()

	for _, l := range listeners {
		state, err := l.supervisor.State()
		status := metrics.ListenerStatus{
			Name:           l.cfg.Name,
			Queue:          l.cfg.Queue,
			State:          string(state),
			PluginPID:      l.supervisor.Pid(),
			Restarts:       l.supervisor.Restarts(),
			QueueReachable: queueReachable(ctx, l.driver, l.cfg.Queue),
		}
		if runErr := l.runErr(); runErr != nil {
			err = runErr
		}
		if err != nil {
			status.Error = err.Error()
		}
		statuses = append(statuses, status)
	}
	return statuses
}

// queueReachable reports whether a driver that can count a queue gets a
// count back. Other drivers count as reachable once the queue was opened.
func queueReachable(ctx context.Context, driver drivers.Driver, queue string) bool {
	depther, ok := driver.(drivers.Depther)
	if !ok {
		return true
	}
	_, _, err := depther.Depth(ctx, queue)
	return err == nil
}

// recordStartFailure keeps the status of a listener that could not start.
func (h *Host) recordStartFailure(cfg config.Listener, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.startFailures = append(h.startFailures, metrics.ListenerStatus{
		Name:  cfg.Name,
		Queue: cfg.Queue,
		State: "failed",
		Error: err.Error(),
	})
}

// startMetricsServer serves /metrics, /healthz and /readyz when the host
// block sets metrics_addr, and returns nil otherwise.
func (h *Host) startMetricsServer() (*metrics.Server, error) {
	if h.cfg.Host.MetricsAddr == "" {
		return nil, nil
	}
	server := metrics.NewServer(h.cfg.Host.MetricsAddr, h.metrics, metrics.StatusSourceFunc(h.Status), h.logger)
	if err := server.Start(); err != nil {
		return nil, err
	}
	return server, nil
}

func (h *Host) stopMetricsServer(server *metrics.Server) {
	if server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		h.logger.Warn("stop metrics server failed", "error", err)
	}
}
