package host_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/config"
)

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := listener.Addr().String()
	require.NoError(t, listener.Close())
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	response, err := client.Get(url)
	require.NoError(t, err)
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	require.NoError(t, err)
	return response.StatusCode, string(body)
}

// sample returns the value of the metric line that matches name and labels
// exactly, or -1 when the scrape has no such line.
func sample(scrape, series string) float64 {
	pattern := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	match := pattern.FindStringSubmatch(scrape)
	if match == nil {
		return -1
	}
	value, _ := strconv.ParseFloat(match[1], 64)
	return value
}

func TestMetricsAfterRealTraffic(t *testing.T) {
	addr := freeAddr(t)
	b := startHostWith(t, func(h *config.Host) { h.MetricsAddr = addr }, func(l *config.Listener) {
		l.Workers = 1
		l.RetryOnError = true
		l.MaxRetries = 1
		l.VisibilityTimeout = time.Second
	})

	for range 3 {
		b.send(t, `{"action": "ok", "key": "ok"}`)
	}
	b.send(t, `{"action": "fail", "key": "bad"}`)
	b.send(t, `{"action": "exit", "first_only": true, "key": "crash"}`)
	b.send(t, `{"action": "sleep", "ms": 1200, "key": "slow"}`)

	require.Eventually(t, func() bool {
		return b.count(t, "handled", "ok") == 3 && b.count(t, "handled", "crash") == 1 &&
			b.count(t, "handled", "slow") == 1 && len(b.dlqPeek(t)) == 1
	}, within, tick, "all traffic settled")

	metricsURL := "http://" + addr + "/metrics"
	want := map[string]float64{
		`vega_messages_total{listener="behave",outcome="acked"}`:              5,
		`vega_messages_total{listener="behave",outcome="retried"}`:            1,
		`vega_messages_total{listener="behave",outcome="dead_lettered"}`:      1,
		`vega_messages_total{listener="behave",outcome="released"}`:           1,
		`vega_messages_received_total{listener="behave"}`:                     8,
		`vega_plugin_crashes_total{listener="behave"}`:                        1,
		`vega_plugin_restarts_total{listener="behave"}`:                       1,
		`vega_plugin_starts_total{listener="behave"}`:                         2,
		`vega_messages_in_flight{listener="behave"}`:                          0,
		`vega_queue_messages{listener="behave",queue="jobs",state="visible"}`: 0,
	}
	require.Eventually(t, func() bool {
		_, scrape := get(t, metricsURL)
		for series, value := range want {
			if sample(scrape, series) != value {
				return false
			}
		}
		return true
	}, within, tick, "metrics reach the expected values")

	_, scrape := get(t, metricsURL)
	for series, value := range want {
		assert.Equal(t, value, sample(scrape, series), series)
	}
	assert.GreaterOrEqual(t, sample(scrape, `vega_visibility_extensions_total{listener="behave"}`), float64(1),
		"the 1.2 s handler outlived a third of the 1 s visibility timeout")
	assert.GreaterOrEqual(t, sample(scrape, `vega_handler_duration_seconds_count{listener="behave",result="ok"}`), float64(5))
	assert.Equal(t, float64(1), sample(scrape, `vega_handler_duration_seconds_count{listener="behave",result="crashed"}`))
	// The plugin's own counter counts since its last start, and the
	// restarted plugin handled at least the message that crashed it.
	assert.GreaterOrEqual(t, sample(scrape, `behave_handled_total{listener="behave"}`), float64(1),
		"the plugin's own metrics are served with a listener label")
}

func TestHealthEndpoints(t *testing.T) {
	addr := freeAddr(t)
	b := startHostWith(t, func(h *config.Host) { h.MetricsAddr = addr })
	b.send(t, `{"action": "ok", "key": "warmup"}`)
	require.Eventually(t, func() bool { return b.count(t, "handled", "warmup") == 1 }, within, tick)

	code, body := get(t, "http://"+addr+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status": "ok"}`, body)

	code, body = get(t, "http://"+addr+"/readyz")
	assert.Equal(t, http.StatusOK, code, body)
	var readiness struct {
		Status    string `json:"status"`
		Listeners []struct {
			Name           string `json:"name"`
			State          string `json:"state"`
			PluginPID      int    `json:"plugin_pid"`
			QueueReachable bool   `json:"queue_reachable"`
		} `json:"listeners"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &readiness))
	assert.Equal(t, "ready", readiness.Status)
	require.Len(t, readiness.Listeners, 1)
	assert.Equal(t, "behave", readiness.Listeners[0].Name)
	assert.Equal(t, "running", readiness.Listeners[0].State)
	assert.Positive(t, readiness.Listeners[0].PluginPID)
	assert.True(t, readiness.Listeners[0].QueueReachable)

	require.NoError(t, b.stop(t))
	client := http.Client{Timeout: time.Second}
	_, err := client.Get(fmt.Sprintf("http://%s/healthz", addr))
	assert.Error(t, err, "the endpoint closes with the host")
}
