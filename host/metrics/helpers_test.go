package metrics_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/metrics"
)

// requestTimeout bounds every HTTP request of the tests.
const requestTimeout = 10 * time.Second

// client makes one connection per request, so no idle connection
// outlives a test and trips goleak.
var client = &http.Client{
	Timeout:   requestTimeout,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// bundle is a started server and the collaborators a test drives.
type bundle struct {
	metrics *metrics.Metrics
	server  *metrics.Server
	source  *fakeSource
}

// setup starts a server on a free loopback port with new metrics and a
// fake status source, and shuts it down when the test ends.
func setup(t *testing.T) *bundle {
	t.Helper()

	m := metrics.New()
	source := &fakeSource{}
	server := metrics.NewServer("127.0.0.1:0", m, source, hclog.NewNullLogger())
	require.NoError(t, server.Start())
	t.Cleanup(func() { shutdown(t, server) })

	return &bundle{metrics: m, server: server, source: source}
}

// shutdown stops server within a deadline and checks that it stopped
// cleanly.
func shutdown(t *testing.T, server *metrics.Server) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	assert.NoError(t, server.Shutdown(ctx))
}

// fakeSource is a StatusSource that returns what the test set, and
// records the context of the last call.
type fakeSource struct {
	mu        sync.Mutex
	listeners []metrics.ListenerStatus
	lastCtx   context.Context
}

func (f *fakeSource) set(listeners ...metrics.ListenerStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listeners = listeners
}

func (f *fakeSource) Status(ctx context.Context) []metrics.ListenerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastCtx = ctx
	return f.listeners
}

func (f *fakeSource) lastContext() context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCtx
}

// response is what a test reads back from one request.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// request sends one request with method to url and reads the whole
// response.
func request(t *testing.T, method, url string) response {
	t.Helper()

	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{code: resp.StatusCode, header: resp.Header, body: body}
}

// get sends a GET to path on the server.
func (b *bundle) get(t *testing.T, path string) response {
	t.Helper()
	return request(t, http.MethodGet, "http://"+b.server.Addr()+path)
}

// scrape fetches /metrics over HTTP and parses the text format.
func (b *bundle) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()

	resp := b.get(t, "/metrics")
	require.Equal(t, http.StatusOK, resp.code, "GET /metrics: %s", resp.body)

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(resp.body))
	require.NoError(t, err, "parse /metrics:\n%s", resp.body)
	return families
}

// labels is the label set of one sample.
type labels map[string]string

// find returns the sample of the named family whose labels are exactly
// want, or nil when there is none.
func find(families map[string]*dto.MetricFamily, name string, want labels) *dto.Metric {
	family, ok := families[name]
	if !ok {
		return nil
	}

	for _, metric := range family.GetMetric() {
		got := labels{}
		for _, pair := range metric.GetLabel() {
			got[pair.GetName()] = pair.GetValue()
		}
		if len(got) != len(want) {
			continue
		}

		matched := true
		for name, value := range want {
			if got[name] != value {
				matched = false
			}
		}
		if matched {
			return metric
		}
	}
	return nil
}

// value returns the value of a counter or gauge sample, failing the test
// when the sample is missing.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, want labels) float64 {
	t.Helper()

	metric := find(families, name, want)
	require.NotNil(t, metric, "no sample %s%v", name, want)
	switch {
	case metric.Counter != nil:
		return metric.GetCounter().GetValue()
	case metric.Gauge != nil:
		return metric.GetGauge().GetValue()
	case metric.Untyped != nil:
		return metric.GetUntyped().GetValue()
	}
	require.FailNow(t, "sample is neither a counter nor a gauge", "%s%v", name, want)
	return 0
}
