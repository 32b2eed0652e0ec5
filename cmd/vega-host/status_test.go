package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/metrics"
)

// statusConfig writes a config with one listener whose plugin is a shell
// script and, unless metricsAddr is empty, a host block that sets
// metrics_addr. It returns the config's path.
func statusConfig(t *testing.T, metricsAddr string) string {
	t.Helper()

	dir := t.TempDir()
	plugin := filepath.Join(dir, "plugin.sh")
	require.NoError(t, os.WriteFile(plugin, []byte("#!/bin/sh\nexit 0\n"), 0o755))

	var hcl strings.Builder
	if metricsAddr != "" {
		fmt.Fprintf(&hcl, "host {\n  metrics_addr = %q\n}\n\n", metricsAddr)
	}
	fmt.Fprintf(&hcl, "listener \"emails\" {\n  plugin = %q\n  queue  = \"jobs\"\n}\n", plugin)

	path := filepath.Join(dir, "listeners.hcl")
	require.NoError(t, os.WriteFile(path, []byte(hcl.String()), 0o644))
	return path
}

// startStatusServer starts a metrics server on a free loopback port that
// reports listeners, and stops it when the test ends.
func startStatusServer(t *testing.T, listeners ...metrics.ListenerStatus) string {
	t.Helper()

	source := metrics.StatusSourceFunc(func(context.Context) []metrics.ListenerStatus { return listeners })
	server := metrics.NewServer("127.0.0.1:0", metrics.New(), source, nil)
	require.NoError(t, server.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, server.Shutdown(ctx))
	})
	return server.Addr()
}

// runStatus runs the status command and returns its output and the exit
// status that main would use.
func runStatus(t *testing.T, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()

	var out, errOut bytes.Buffer
	err = statusCommand(args, &out, &errOut)

	code = 0
	if err != nil {
		code = 1
		var exit *exitError
		if errors.As(err, &exit) {
			code = exit.code
		}
	}
	return out.String(), errOut.String(), code, err
}

var (
	runningEmails = metrics.ListenerStatus{Name: "emails", Queue: "jobs", State: "running", PluginPID: 4242, QueueReachable: true}
	runningSMS    = metrics.ListenerStatus{Name: "sms", Queue: "texts", State: "running", PluginPID: 4343, Restarts: 2, QueueReachable: true}
	failedSMS     = metrics.ListenerStatus{Name: "sms", Queue: "texts", State: "failed", Restarts: 5, Error: "plugin exited: status 1\nstack trace follows"}
)

func TestStatusTable(t *testing.T) {
	cases := []struct {
		name      string
		listeners []metrics.ListenerStatus
		wantCode  int
		wantLines []string
	}{
		{
			name:      "ready",
			listeners: []metrics.ListenerStatus{runningEmails, runningSMS},
			wantCode:  0,
			wantLines: []string{
				`^LISTENER\s+STATE\s+PID\s+RESTARTS\s+QUEUE\s+ERROR$`,
				`^emails\s+running\s+4242\s+0\s+jobs\s+-$`,
				`^sms\s+running\s+4343\s+2\s+texts\s+-$`,
				`^ready$`,
			},
		},
		{
			name:      "not ready",
			listeners: []metrics.ListenerStatus{runningEmails, failedSMS},
			wantCode:  1,
			wantLines: []string{
				`^LISTENER\s+STATE\s+PID\s+RESTARTS\s+QUEUE\s+ERROR$`,
				`^emails\s+running\s+4242\s+0\s+jobs\s+-$`,
				`^sms\s+failed\s+-\s+5\s+texts \(unreachable\)\s+plugin exited: status 1$`,
				`^not ready$`,
			},
		},
		{
			name:      "no listeners",
			listeners: nil,
			wantCode:  1,
			wantLines: []string{
				`^LISTENER\s+STATE\s+PID\s+RESTARTS\s+QUEUE\s+ERROR$`,
				`^not ready$`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			config := statusConfig(t, startStatusServer(t, tc.listeners...))

			stdout, stderr, code, _ := runStatus(t, "-config", config)

			assert.Equal(t, tc.wantCode, code, "stderr: %s", stderr)
			assert.Empty(t, stderr)
			lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			require.Len(t, lines, len(tc.wantLines), "output:\n%s", stdout)
			for i, pattern := range tc.wantLines {
				assert.Regexp(t, pattern, lines[i], "line %d", i+1)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	cases := []struct {
		name       string
		listeners  []metrics.ListenerStatus
		wantCode   int
		wantStatus string
	}{
		{name: "ready", listeners: []metrics.ListenerStatus{runningEmails}, wantCode: 0, wantStatus: "ready"},
		{name: "not ready", listeners: []metrics.ListenerStatus{failedSMS}, wantCode: 1, wantStatus: "not_ready"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			config := statusConfig(t, startStatusServer(t, tc.listeners...))

			stdout, stderr, code, _ := runStatus(t, "-config", config, "-json")

			assert.Equal(t, tc.wantCode, code, "stderr: %s", stderr)
			var readiness metrics.Readiness
			require.NoError(t, json.Unmarshal([]byte(stdout), &readiness), "stdout: %s", stdout)
			assert.Equal(t, tc.wantStatus, readiness.Status)
			assert.Equal(t, tc.listeners, readiness.Listeners)
		})
	}
}

func TestStatusHostUnreachable(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := listener.Addr().String()
	require.NoError(t, listener.Close())
	config := statusConfig(t, addr)

	_, _, code, err := runStatus(t, "-config", config)

	assert.Equal(t, 1, code)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no host answers on "+addr+"; is vega-host run running with this config?")
	assert.NotContains(t, err.Error(), "\n", "the reason fits on one line")
}

func TestStatusRequiresMetricsAddr(t *testing.T) {
	config := statusConfig(t, "")

	_, _, code, err := runStatus(t, "-config", config)

	assert.Equal(t, 1, code)
	assert.ErrorContains(t, err, "set metrics_addr in the host block")
}

func TestStatusRejectsForeignServer(t *testing.T) {
	foreign := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(foreign.Close)
	addr := strings.TrimPrefix(foreign.URL, "http://")
	config := statusConfig(t, addr)

	_, _, code, err := runStatus(t, "-config", config)

	assert.Equal(t, 1, code)
	assert.ErrorContains(t, err, "404")
	assert.ErrorContains(t, err, "is "+addr+" the metrics_addr of a vega-host?")
}

func TestStatusRejectsNonJSONResponse(t *testing.T) {
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("all good"))
	}))
	t.Cleanup(foreign.Close)
	config := statusConfig(t, strings.TrimPrefix(foreign.URL, "http://"))

	_, _, code, err := runStatus(t, "-config", config)

	assert.Equal(t, 1, code)
	assert.ErrorContains(t, err, "decode the /readyz response")
}

func TestStatusTimesOut(t *testing.T) {
	unblock := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-unblock:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(unblock) })
	addr := strings.TrimPrefix(slow.URL, "http://")
	config := statusConfig(t, addr)

	started := time.Now()
	_, _, code, err := runStatus(t, "-config", config, "-timeout", "100ms")

	assert.Equal(t, 1, code)
	assert.ErrorContains(t, err, "no host responded on "+addr+" within 100ms")
	assert.Less(t, time.Since(started), 5*time.Second, "-timeout bounds the wait")
}

func TestDialAddr(t *testing.T) {
	cases := []struct {
		metricsAddr string
		want        string
	}{
		{"127.0.0.1:9464", "127.0.0.1:9464"},
		{"localhost:9464", "localhost:9464"},
		{":9464", "127.0.0.1:9464"},
		{"0.0.0.0:9464", "127.0.0.1:9464"},
		{"[::]:9464", "[::1]:9464"},
		{"[::1]:9464", "[::1]:9464"},
	}
	for _, tc := range cases {
		t.Run(tc.metricsAddr, func(t *testing.T) {
			assert.Equal(t, tc.want, dialAddr(tc.metricsAddr))
		})
	}
}
