package metrics_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/metrics"
)

func TestHealthzReturnsOK(t *testing.T) {
	b := setup(t)

	resp := b.get(t, "/healthz")

	assert.Equal(t, http.StatusOK, resp.code)
	assert.Equal(t, "application/json", resp.header.Get("Content-Type"))
	assert.JSONEq(t, `{"status":"ok"}`, string(resp.body))
}

func TestReadyzReportsListeners(t *testing.T) {
	running := func(name string) metrics.ListenerStatus {
		return metrics.ListenerStatus{Name: name, Queue: name + "-queue", State: "running", PluginPID: 4242, QueueReachable: true}
	}

	cases := []struct {
		name       string
		listeners  []metrics.ListenerStatus
		wantCode   int
		wantStatus string
	}{
		{
			name:       "all running",
			listeners:  []metrics.ListenerStatus{running("emails"), running("sms")},
			wantCode:   http.StatusOK,
			wantStatus: "ready",
		},
		{
			name: "plugin starting",
			listeners: []metrics.ListenerStatus{
				running("emails"),
				{Name: "sms", Queue: "sms-queue", State: "starting", QueueReachable: true},
			},
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not_ready",
		},
		{
			name: "plugin failed",
			listeners: []metrics.ListenerStatus{
				{Name: "emails", Queue: "emails-queue", State: "failed", Restarts: 3, Error: "plugin handshake failed", QueueReachable: true},
			},
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not_ready",
		},
		{
			name: "queue unreachable",
			listeners: []metrics.ListenerStatus{
				{Name: "emails", Queue: "emails-queue", State: "running", PluginPID: 4242, Error: "connection refused"},
			},
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not_ready",
		},
		{
			name:       "no listeners",
			listeners:  nil,
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not_ready",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			b.source.set(tc.listeners...)

			resp := b.get(t, "/readyz")

			assert.Equal(t, tc.wantCode, resp.code)
			assert.Equal(t, "application/json", resp.header.Get("Content-Type"))

			var readiness metrics.Readiness
			require.NoError(t, json.Unmarshal(resp.body, &readiness), "body: %s", resp.body)
			assert.Equal(t, tc.wantStatus, readiness.Status)
			assert.Equal(t, tc.wantCode == http.StatusOK, readiness.Ready())
			assert.Len(t, readiness.Listeners, len(tc.listeners))
			if len(tc.listeners) > 0 {
				assert.Equal(t, tc.listeners, readiness.Listeners)
			}
		})
	}
}

func TestReadyzJSONFieldNames(t *testing.T) {
	b := setup(t)
	b.source.set(metrics.ListenerStatus{
		Name: "emails", Queue: "jobs", State: "failed", PluginPID: 0, Restarts: 2,
		Error: "plugin exited", QueueReachable: true,
	})

	resp := b.get(t, "/readyz")

	assert.JSONEq(t, `{
		"status": "not_ready",
		"listeners": [{
			"name": "emails",
			"queue": "jobs",
			"state": "failed",
			"plugin_pid": 0,
			"restarts": 2,
			"error": "plugin exited",
			"queue_reachable": true
		}]
	}`, string(resp.body))
}

func TestReadyzGivesSourceDeadline(t *testing.T) {
	b := setup(t)

	b.get(t, "/readyz")

	ctx := b.source.lastContext()
	require.NotNil(t, ctx, "the server calls the status source")
	deadline, ok := ctx.Deadline()
	require.True(t, ok, "the status source gets a deadline")
	assert.WithinDuration(t, time.Now(), deadline, 5*time.Second)
}

func TestHealthEndpointsRejectPost(t *testing.T) {
	b := setup(t)
	base := "http://" + b.server.Addr()

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		t.Run(path, func(t *testing.T) {
			resp := request(t, http.MethodPost, base+path)

			assert.Equal(t, http.StatusMethodNotAllowed, resp.code)
		})
	}
}
