package metrics_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/metrics"
)

func TestMetricsScrapedValues(t *testing.T) {
	b := setup(t)
	m := b.metrics

	m.Received("emails", 3)
	m.Received("emails", 2)
	m.Received("emails", 0)
	m.Received("emails", -4)
	m.Received("sms", 1)
	m.Outcome("emails", metrics.OutcomeAcked)
	m.Outcome("emails", metrics.OutcomeAcked)
	m.Outcome("emails", metrics.OutcomeRetried)
	m.Outcome("emails", metrics.OutcomeDeadLettered)
	m.Outcome("emails", metrics.OutcomeReleased)
	m.InFlight("emails", 3)
	m.InFlight("emails", -1)
	m.ReceiveError("emails")
	m.PluginStarted("emails")
	m.PluginStarted("emails")
	m.PluginCrashed("emails")
	m.PluginRestarted("emails")
	m.VisibilityExtended("emails")
	m.VisibilityExtended("emails")
	m.VisibilityExtended("emails")

	families := b.scrape(t)

	cases := []struct {
		name   string
		labels labels
		want   float64
	}{
		{"vega_messages_received_total", labels{"listener": "emails"}, 5},
		{"vega_messages_received_total", labels{"listener": "sms"}, 1},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "acked"}, 2},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "retried"}, 1},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "dead_lettered"}, 1},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "released"}, 1},
		{"vega_messages_in_flight", labels{"listener": "emails"}, 2},
		{"vega_receive_errors_total", labels{"listener": "emails"}, 1},
		{"vega_plugin_starts_total", labels{"listener": "emails"}, 2},
		{"vega_plugin_crashes_total", labels{"listener": "emails"}, 1},
		{"vega_plugin_restarts_total", labels{"listener": "emails"}, 1},
		{"vega_visibility_extensions_total", labels{"listener": "emails"}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.labels["listener"]+tc.labels["outcome"], func(t *testing.T) {
			assert.Equal(t, tc.want, value(t, families, tc.name, tc.labels))
		})
	}
}

func TestMetricsFamilyTypesAndHelp(t *testing.T) {
	b := setup(t)
	b.metrics.InitListener("emails")
	b.metrics.HandlerDone("emails", time.Millisecond, metrics.ResultOK)

	families := b.scrape(t)

	cases := []struct {
		name string
		kind dto.MetricType
	}{
		{"vega_messages_received_total", dto.MetricType_COUNTER},
		{"vega_messages_total", dto.MetricType_COUNTER},
		{"vega_handler_duration_seconds", dto.MetricType_HISTOGRAM},
		{"vega_messages_in_flight", dto.MetricType_GAUGE},
		{"vega_receive_errors_total", dto.MetricType_COUNTER},
		{"vega_plugin_starts_total", dto.MetricType_COUNTER},
		{"vega_plugin_crashes_total", dto.MetricType_COUNTER},
		{"vega_plugin_restarts_total", dto.MetricType_COUNTER},
		{"vega_visibility_extensions_total", dto.MetricType_COUNTER},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			family, ok := families[tc.name]
			require.True(t, ok, "family %s is missing", tc.name)
			assert.Equal(t, tc.kind, family.GetType())
			assert.NotEmpty(t, family.GetHelp())
		})
	}
}

func TestHandlerDurationHistogram(t *testing.T) {
	b := setup(t)
	b.metrics.HandlerDone("emails", 3*time.Millisecond, metrics.ResultOK)
	b.metrics.HandlerDone("emails", 1500*time.Millisecond, metrics.ResultOK)
	b.metrics.HandlerDone("emails", 2*time.Minute, metrics.ResultError)
	b.metrics.HandlerDone("emails", 20*time.Second, metrics.ResultTimeout)
	b.metrics.HandlerDone("emails", 40*time.Millisecond, metrics.ResultCrashed)

	families := b.scrape(t)

	ok := find(families, "vega_handler_duration_seconds", labels{"listener": "emails", "result": "ok"})
	require.NotNil(t, ok)
	histogram := ok.GetHistogram()
	assert.Equal(t, uint64(2), histogram.GetSampleCount())
	assert.InDelta(t, 1.503, histogram.GetSampleSum(), 1e-9)

	buckets := histogram.GetBucket()
	require.GreaterOrEqual(t, len(buckets), 2)
	assert.Equal(t, 0.001, buckets[0].GetUpperBound(), "the smallest bucket is 1 ms")
	assert.Equal(t, 600.0, buckets[len(buckets)-2].GetUpperBound(), "the largest finite bucket is 10 minutes")
	assert.True(t, math.IsInf(buckets[len(buckets)-1].GetUpperBound(), 1), "the text format ends with the +Inf bucket")
	for _, bucket := range buckets {
		switch bucket.GetUpperBound() {
		case 0.0025:
			assert.Equal(t, uint64(0), bucket.GetCumulativeCount(), "3 ms is above 2.5 ms")
		case 0.005:
			assert.Equal(t, uint64(1), bucket.GetCumulativeCount(), "3 ms is in the 5 ms bucket")
		case 2.5:
			assert.Equal(t, uint64(2), bucket.GetCumulativeCount(), "1.5 s is in the 2.5 s bucket")
		}
	}

	for _, result := range []string{metrics.ResultError, metrics.ResultTimeout, metrics.ResultCrashed} {
		metric := find(families, "vega_handler_duration_seconds", labels{"listener": "emails", "result": result})
		require.NotNil(t, metric, "result %s", result)
		assert.Equal(t, uint64(1), metric.GetHistogram().GetSampleCount(), "result %s", result)
	}
}

func TestInitListenerCreatesZeroSeries(t *testing.T) {
	b := setup(t)
	b.metrics.InitListener("emails")

	families := b.scrape(t)

	series := []struct {
		name   string
		labels labels
	}{
		{"vega_messages_received_total", labels{"listener": "emails"}},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "acked"}},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "retried"}},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "dead_lettered"}},
		{"vega_messages_total", labels{"listener": "emails", "outcome": "released"}},
		{"vega_messages_in_flight", labels{"listener": "emails"}},
		{"vega_receive_errors_total", labels{"listener": "emails"}},
		{"vega_plugin_starts_total", labels{"listener": "emails"}},
		{"vega_plugin_crashes_total", labels{"listener": "emails"}},
		{"vega_plugin_restarts_total", labels{"listener": "emails"}},
		{"vega_visibility_extensions_total", labels{"listener": "emails"}},
	}
	for _, s := range series {
		t.Run(s.name+"/"+s.labels["outcome"], func(t *testing.T) {
			assert.Equal(t, 0.0, value(t, families, s.name, s.labels))
		})
	}
}

func TestRegistryHasRuntimeCollectors(t *testing.T) {
	b := setup(t)

	families := b.scrape(t)

	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		assert.Contains(t, families, name)
	}
	assert.Contains(t, families, "promhttp_metric_handler_requests_total", "the handler counts its own scrapes")
}

func TestMetricsNamesFollowConventions(t *testing.T) {
	b := setup(t)
	b.metrics.InitListener("emails")
	b.metrics.HandlerDone("emails", time.Second, metrics.ResultOK)

	families := b.scrape(t)

	for name, family := range families {
		if !strings.HasPrefix(name, "vega_") {
			continue
		}
		if family.GetType() == dto.MetricType_COUNTER {
			assert.True(t, strings.HasSuffix(name, "_total"), "counter %s ends in _total", name)
		}
		assert.Equal(t, strings.ToLower(name), name, "%s is snake_case", name)
	}
}

func TestNilMetricsIsNoOp(t *testing.T) {
	var m *metrics.Metrics

	assert.NotPanics(t, func() {
		m.InitListener("emails")
		m.Received("emails", 1)
		m.Outcome("emails", metrics.OutcomeAcked)
		m.HandlerDone("emails", time.Second, metrics.ResultOK)
		m.InFlight("emails", 1)
		m.ReceiveError("emails")
		m.PluginStarted("emails")
		m.PluginCrashed("emails")
		m.PluginRestarted("emails")
		m.VisibilityExtended("emails")
		m.WatchQueueDepth("emails", "jobs", nil)
	})
	assert.Nil(t, m.Registry())
}

func TestServerWithoutMetrics(t *testing.T) {
	server := metrics.NewServer("127.0.0.1:0", nil, nil, nil)
	require.NoError(t, server.Start())
	t.Cleanup(func() { shutdown(t, server) })
	base := "http://" + server.Addr()

	assert.Equal(t, http.StatusNotFound, request(t, http.MethodGet, base+"/metrics").code)
	assert.Equal(t, http.StatusOK, request(t, http.MethodGet, base+"/healthz").code)
	assert.Equal(t, http.StatusServiceUnavailable, request(t, http.MethodGet, base+"/readyz").code, "no status source means no ready listener")
}
