package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

func TestReloadSwapsBinaryUnderLoad(t *testing.T) {
	const total = 300
	dir := t.TempDir()
	pluginPath := filepath.Join(dir, "behave")
	buildtest.BinaryAt(t, "./host/testdata/plugins/behave", pluginPath, "-ldflags=-X main.version=v1")
	nextBuild := filepath.Join(dir, "behave-v2")
	buildtest.BinaryAt(t, "./host/testdata/plugins/behave", nextBuild, "-ldflags=-X main.version=v2")

	driver, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	require.NoError(t, err)
	defer driver.Close()

	record := filepath.Join(dir, "events.jsonl")
	cfg := &config.Config{
		File:    filepath.Join(dir, "listeners.hcl"),
		Host:    config.Host{ShutdownTimeout: 30 * time.Second},
		Drivers: []config.Driver{{Kind: "sqlite"}},
		Listeners: []config.Listener{{
			Name: "swap", Plugin: pluginPath, Driver: "sqlite", Queue: "jobs",
			Workers: 8, AutoAck: true, MaxMessages: 1, MaxRetries: 3,
			VisibilityTimeout: 30 * time.Second, RetryDelay: time.Second, MaxRetryDelay: time.Second,
			Config: []byte(`{"record_file": "` + record + `"}`),
		}},
	}
	for i := range total {
		_, err := driver.Send(context.Background(), "jobs", drivers.OutgoingMessage{
			Body: fmt.Appendf(nil, `{"action": "sleep", "ms": 20, "key": "m%d"}`, i),
		})
		require.NoError(t, err)
	}

	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info, JSONFormat: true})
	h := host.New(cfg, logger, host.WithDriver("sqlite", driver))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, nil) }()
	defer func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	}()

	b := &bundle{record: record}
	require.Eventually(t, func() bool { return b.count(t, "handled", "") >= total/4 }, within, tick, "handling under way")

	// Replace the binary the way a deploy does: write aside, rename over.
	staged := pluginPath + ".new"
	data, err := os.ReadFile(nextBuild)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(staged, data, 0o755))
	require.NoError(t, os.Rename(staged, pluginPath))
	require.NoError(t, h.Reload(cfg), "reload")

	require.Eventually(t, func() bool { return b.count(t, "handled", "") >= total }, 2*within, tick, "every message handled")
	cancel()
	require.NoError(t, <-done)
	done <- nil

	handled := map[string]int{}
	versions := map[string]int{}
	shutdowns := map[string]int{}
	for _, e := range b.events(t) {
		switch e.Event {
		case "handled":
			handled[e.Key]++
			versions[e.Version]++
		case "shutdown":
			shutdowns[e.Version]++
		}
	}
	for i := range total {
		key := fmt.Sprintf("m%d", i)
		assert.Equal(t, 1, handled[key], "message %s handled exactly once", key)
	}
	assert.Positive(t, versions["v1"], "the old binary handled messages before the swap")
	assert.Positive(t, versions["v2"], "handling resumed on the new binary")
	assert.Equal(t, 1, shutdowns["v1"], "the old plugin ran its shutdown hook when it was retired")
	assert.Equal(t, 1, shutdowns["v2"], "the new plugin ran its shutdown hook when the host stopped")

	visible, inFlight, err := driver.Depth(context.Background(), "jobs")
	require.NoError(t, err)
	assert.Equal(t, 0, visible+inFlight, "nothing left in the queue")
	assert.Contains(t, logs.String(), "listener swapped to a new plugin")
}
