package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// defaultDepthTimeout bounds the depth calls of one scrape. It stays well
// under Prometheus's default scrape timeout of 10 seconds, so a slow queue
// backend costs its own samples and not the whole scrape.
const defaultDepthTimeout = 2 * time.Second

// Values of the state label of vega_queue_messages.
const (
	depthStateVisible  = "visible"
	depthStateInFlight = "in_flight"
)

// depthFunc returns how many messages of a queue are visible and how many
// are in flight.
type depthFunc func(ctx context.Context) (visible, inFlight int, err error)

// depthKey identifies one watched queue.
type depthKey struct {
	listener string
	queue    string
}

// depthWatch is one queue whose depth is read at scrape time.
type depthWatch struct {
	key   depthKey
	depth depthFunc
	// busy is set while a depth call runs, so a backend that hangs past
	// the timeout holds one goroutine rather than one more per scrape.
	busy atomic.Bool
}

// depthSample is the result of one depth call.
type depthSample struct {
	key      depthKey
	visible  int
	inFlight int
	err      error
}

// queueDepthCollector reports vega_queue_messages by calling the watched
// depth functions at scrape time.
type queueDepthCollector struct {
	desc    *prometheus.Desc
	timeout time.Duration
	// errors counts depth calls that failed, timed out or were skipped
	// because the previous one had not returned.
	errors *prometheus.CounterVec

	mu      sync.Mutex
	watches map[depthKey]*depthWatch
}

func newQueueDepthCollector() *queueDepthCollector {
	return &queueDepthCollector{
		desc: prometheus.NewDesc(
			prometheus.BuildFQName(namespace, "", "queue_messages"),
			"Messages in the listener's queue at scrape time, by state: visible (ready to receive) or in_flight (received and not yet settled, or delayed).",
			[]string{"listener", "queue", "state"}, nil,
		),
		timeout: defaultDepthTimeout,
		errors: newCounterVec("queue_depth_errors_total",
			"Queue depth reads at scrape time that failed or timed out; the scrape then has no vega_queue_messages samples for the queue.", "listener", "queue"),
		watches: make(map[depthKey]*depthWatch),
	}
}

// WatchQueueDepth makes every scrape report the depth of the listener's
// queue as vega_queue_messages{listener,queue,state}. depth is called at
// scrape time with a context that ends after a short timeout (2 seconds).
// When it fails or times out, the scrape has no sample for the queue and
// vega_queue_depth_errors_total counts the failure.
//
// Watching the same listener and queue again replaces the earlier depth
// function, and a nil depth stops the watch.
func (m *Metrics) WatchQueueDepth(listener, queue string, depth func(ctx context.Context) (visible, inFlight int, err error)) {
	if m == nil {
		return
	}
	m.queueDepth.watch(depthKey{listener: listener, queue: queue}, depth)
}

func (c *queueDepthCollector) watch(key depthKey, depth depthFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if depth == nil {
		delete(c.watches, key)
		c.errors.DeleteLabelValues(key.listener, key.queue)
		return
	}

	c.watches[key] = &depthWatch{key: key, depth: depth}
	c.errors.WithLabelValues(key.listener, key.queue)
}

// Describe implements prometheus.Collector.
func (c *queueDepthCollector) Describe(descs chan<- *prometheus.Desc) {
	descs <- c.desc
	c.errors.Describe(descs)
}

// Collect implements prometheus.Collector. The error counter is collected
// after the depth calls, so one scrape shows the depth samples and the
// errors of the same round.
func (c *queueDepthCollector) Collect(metrics chan<- prometheus.Metric) {
	c.collectDepths(metrics)
	c.errors.Collect(metrics)
}

// collectDepths calls every depth function at once and waits for them
// until the timeout.
func (c *queueDepthCollector) collectDepths(metrics chan<- prometheus.Metric) {
	watches := c.snapshot()
	if len(watches) == 0 {
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	// The buffer holds every result, so a call that returns after the
	// timeout never blocks its goroutine.
	samples := make(chan depthSample, len(watches))
	pending := make(map[depthKey]bool, len(watches))
	for _, w := range watches {
		if !w.busy.CompareAndSwap(false, true) {
			c.errors.WithLabelValues(w.key.listener, w.key.queue).Inc()
			continue
		}
		pending[w.key] = true

		// NOTE: a depth function that ignores ctx keeps this goroutine
		// until it returns; busy stops later scrapes from adding more.
		go func() {
			defer w.busy.Store(false)
			visible, inFlight, err := w.depth(ctx)
			samples <- depthSample{key: w.key, visible: visible, inFlight: inFlight, err: err}
		}()
	}

	for len(pending) > 0 {
		select {
		case sample := <-samples:
			delete(pending, sample.key)
			c.report(metrics, sample)
		case <-ctx.Done():
			for key := range pending {
				c.errors.WithLabelValues(key.listener, key.queue).Inc()
			}
			return
		}
	}
}

// report sends the two samples of one depth call, or counts its error.
func (c *queueDepthCollector) report(metrics chan<- prometheus.Metric, sample depthSample) {
	listener, queue := sample.key.listener, sample.key.queue
	if sample.err != nil {
		c.errors.WithLabelValues(listener, queue).Inc()
		return
	}

	metrics <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(sample.visible), listener, queue, depthStateVisible)
	metrics <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(sample.inFlight), listener, queue, depthStateInFlight)
}

func (c *queueDepthCollector) snapshot() []*depthWatch {
	c.mu.Lock()
	defer c.mu.Unlock()

	watches := make([]*depthWatch, 0, len(c.watches))
	for _, w := range c.watches {
		watches = append(watches, w)
	}
	return watches
}
