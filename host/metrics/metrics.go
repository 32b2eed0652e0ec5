// Package metrics exposes the host's Prometheus metrics and its health
// endpoints.
//
// Metrics holds every collector in a registry of its own, so tests and
// embedding programs never share the global default registry. Server
// serves that registry on /metrics next to /healthz and /readyz.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// namespace prefixes every metric name of the host.
const namespace = "vega"

// Outcome is the final action the host took on a received message.
type Outcome string

// Outcomes recorded by Outcome.
const (
	// OutcomeAcked is a message deleted after its handler succeeded.
	OutcomeAcked Outcome = "acked"
	// OutcomeRetried is a message hidden for a backoff delay after its
	// handler failed, to be received again.
	OutcomeRetried Outcome = "retried"
	// OutcomeDeadLettered is a message moved to the dead-letter queue.
	OutcomeDeadLettered Outcome = "dead_lettered"
	// OutcomeReleased is a message made visible again without counting as
	// a failure, for example because the plugin died or the host stopped.
	OutcomeReleased Outcome = "released"
)

// Results of a handler call, the result label of HandlerDone.
const (
	// ResultOK is a handler that returned without an error.
	ResultOK = "ok"
	// ResultError is a handler that returned an error.
	ResultError = "error"
	// ResultTimeout is a handler cancelled by the listener's handler
	// timeout.
	ResultTimeout = "timeout"
	// ResultCrashed is a handler whose plugin process died or lost its
	// connection during the call.
	ResultCrashed = "crashed"
)

// handlerDurationBuckets are the upper bounds in seconds of the handler
// duration histogram. They span queue jobs from a 1 ms cache write to a
// 10 minute report, about 2.5 times apart.
var handlerDurationBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600,
}

// Metrics holds the host's Prometheus collectors in its own registry.
//
// Every method is safe for concurrent use and is a no-op on a nil
// *Metrics, so code paths without metrics need no checks.
type Metrics struct {
	registry *prometheus.Registry
	// extra holds gatherers served next to the registry, such as the
	// plugins' own metrics.
	extra []prometheus.Gatherer

	received             *prometheus.CounterVec
	settled              *prometheus.CounterVec
	handlerDuration      *prometheus.HistogramVec
	inFlight             *prometheus.GaugeVec
	receiveErrors        *prometheus.CounterVec
	pluginStarts         *prometheus.CounterVec
	pluginCrashes        *prometheus.CounterVec
	pluginRestarts       *prometheus.CounterVec
	visibilityExtensions *prometheus.CounterVec
	queueDepth           *queueDepthCollector
}

// New returns metrics registered in a new registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		received: newCounterVec("messages_received_total",
			"Messages received from the listener's queue.", "listener"),
		settled: newCounterVec("messages_total",
			"Messages settled by the host, by outcome: acked, retried, dead_lettered or released.", "listener", "outcome"),
		handlerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "handler_duration_seconds",
			Help:      "Time from handing a message to the plugin until the handler call returned, by result: ok, error, timeout or crashed.",
			Buckets:   handlerDurationBuckets,
		}, []string{"listener", "result"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "messages_in_flight",
			Help:      "Messages received by the listener and not yet settled.",
		}, []string{"listener"}),
		receiveErrors: newCounterVec("receive_errors_total",
			"Receive calls on the listener's queue that failed.", "listener"),
		pluginStarts: newCounterVec("plugin_starts_total",
			"Plugin processes started for the listener, the first start included.", "listener"),
		pluginCrashes: newCounterVec("plugin_crashes_total",
			"Plugin processes of the listener that exited or lost their connection while the host still needed them.", "listener"),
		pluginRestarts: newCounterVec("plugin_restarts_total",
			"Plugin processes started for the listener to replace one that exited.", "listener"),
		visibilityExtensions: newCounterVec("visibility_extensions_total",
			"Visibility timeouts extended for messages whose handler was still running.", "listener"),
		queueDepth: newQueueDepthCollector(),
	}

	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.received,
		m.settled,
		m.handlerDuration,
		m.inFlight,
		m.receiveErrors,
		m.pluginStarts,
		m.pluginCrashes,
		m.pluginRestarts,
		m.visibilityExtensions,
		m.queueDepth,
	)
	return m
}

func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      name,
		Help:      help,
	}, labels)
}

// AddGatherer serves g's metrics on /metrics next to the registry's. Call
// it before the Server is created.
func (m *Metrics) AddGatherer(g prometheus.Gatherer) {
	if m == nil {
		return
	}
	m.extra = append(m.extra, g)
}

// Gatherer returns the registry together with the added gatherers.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	if m == nil {
		return nil
	}
	return append(prometheus.Gatherers{m.registry}, m.extra...)
}

// Registry returns the registry that holds every collector, or nil on a
// nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

// InitListener creates the listener's counters and its in-flight gauge at
// zero, so that rate() and absent() queries see the series before the
// first message or plugin start.
func (m *Metrics) InitListener(listener string) {
	if m == nil {
		return
	}

	for _, counter := range []*prometheus.CounterVec{
		m.received, m.receiveErrors, m.pluginStarts, m.pluginCrashes,
		m.pluginRestarts, m.visibilityExtensions,
	} {
		counter.WithLabelValues(listener)
	}
	for _, outcome := range []Outcome{OutcomeAcked, OutcomeRetried, OutcomeDeadLettered, OutcomeReleased} {
		m.settled.WithLabelValues(listener, string(outcome))
	}
	m.inFlight.WithLabelValues(listener)
}

// Received adds n messages received from the listener's queue. An n of
// zero or less is ignored, because a counter cannot go down.
func (m *Metrics) Received(listener string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.received.WithLabelValues(listener).Add(float64(n))
}

// Outcome counts one message that the host settled with outcome.
func (m *Metrics) Outcome(listener string, outcome Outcome) {
	if m == nil {
		return
	}
	m.settled.WithLabelValues(listener, string(outcome)).Inc()
}

// HandlerDone records the duration of one handler call that ended with
// result, one of ResultOK, ResultError, ResultTimeout or ResultCrashed.
func (m *Metrics) HandlerDone(listener string, d time.Duration, result string) {
	if m == nil {
		return
	}

	// NOTE: result and outcome values are not checked against the
	// constants, so any other string adds a series of its own.
	m.handlerDuration.WithLabelValues(listener, result).Observe(d.Seconds())
}

// InFlight adds delta, positive or negative, to the listener's count of
// messages received and not yet settled.
func (m *Metrics) InFlight(listener string, delta int) {
	if m == nil {
		return
	}
	m.inFlight.WithLabelValues(listener).Add(float64(delta))
}

// ReceiveError counts one failed receive call on the listener's queue.
func (m *Metrics) ReceiveError(listener string) {
	if m == nil {
		return
	}
	m.receiveErrors.WithLabelValues(listener).Inc()
}

// PluginStarted counts one plugin process started for the listener,
// whether it is the first start or a restart.
func (m *Metrics) PluginStarted(listener string) {
	if m == nil {
		return
	}
	m.pluginStarts.WithLabelValues(listener).Inc()
}

// PluginCrashed counts one plugin process of the listener that ended on
// its own.
func (m *Metrics) PluginCrashed(listener string) {
	if m == nil {
		return
	}
	m.pluginCrashes.WithLabelValues(listener).Inc()
}

// PluginRestarted counts one plugin process started to replace one that
// ended.
func (m *Metrics) PluginRestarted(listener string) {
	if m == nil {
		return
	}
	m.pluginRestarts.WithLabelValues(listener).Inc()
}

// VisibilityExtended counts one visibility timeout extended for a message
// whose handler was still running.
func (m *Metrics) VisibilityExtended(listener string) {
	if m == nil {
		return
	}
	m.visibilityExtensions.WithLabelValues(listener).Inc()
}
