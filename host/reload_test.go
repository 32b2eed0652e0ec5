package host_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// reloadSetup runs a host on a memory driver with the given listeners and
// returns it with its driver, record file and log.
func reloadSetup(t *testing.T, names ...string) (*host.Host, *config.Config, *memory.Driver, *bundle, *syncBuffer) {
	t.Helper()
	record := filepath.Join(t.TempDir(), "events.jsonl")
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")

	cfg := &config.Config{
		File:    "test.hcl",
		Host:    config.Host{ShutdownTimeout: 10 * time.Second},
		Drivers: []config.Driver{{Kind: "memory"}},
	}
	for _, name := range names {
		cfg.Listeners = append(cfg.Listeners, reloadListener(name, plugin, record))
	}

	driver := memory.New()
	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug, JSONFormat: true})
	h := host.New(cfg, logger, host.WithDriver("memory", driver))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, driver.Close())
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return h, cfg, driver, &bundle{record: record, driver: driver}, logs
}

func reloadListener(name, plugin, record string) config.Listener {
	return config.Listener{
		Name: name, Plugin: plugin, Driver: "memory", Queue: name,
		Workers: 1, AutoAck: true, MaxMessages: 1, MaxRetries: 3,
		VisibilityTimeout: 30 * time.Second, RetryDelay: time.Second, MaxRetryDelay: time.Second,
		Config: []byte(`{"record_file": "` + record + `"}`),
	}
}

// copyConfig returns a copy of cfg whose listener slice can change alone.
func copyConfig(cfg *config.Config) *config.Config {
	next := *cfg
	next.Listeners = append([]config.Listener(nil), cfg.Listeners...)
	return &next
}

func TestReloadKeepsUnchangedListener(t *testing.T) {
	h, cfg, _, b, logs := reloadSetup(t, "a")
	b.queue = "a"
	b.send(t, `{"action": "ok", "key": "before"}`)
	require.Eventually(t, func() bool { return b.count(t, "handled", "before") == 1 }, within, tick)

	require.NoError(t, h.Reload(copyConfig(cfg)))
	b.send(t, `{"action": "ok", "key": "after"}`)
	require.Eventually(t, func() bool { return b.count(t, "handled", "after") == 1 }, within, tick)

	assert.Equal(t, 1, b.count(t, "startup", ""), "an unchanged listener keeps its plugin")
	assert.Contains(t, logs.String(), `"kept":1`)
}

func TestReloadAddsAndRemovesListeners(t *testing.T) {
	h, cfg, _, b, logs := reloadSetup(t, "a", "b")

	b.queue = "b"
	b.send(t, `{"action": "sleep", "ms": 1000, "key": "draining"}`)
	require.Eventually(t, func() bool { return b.count(t, "start", "draining") == 1 }, within, tick)

	next := copyConfig(cfg)
	next.Listeners = []config.Listener{cfg.Listeners[0], reloadListener("c", cfg.Listeners[0].Plugin, recordPath(cfg))}
	require.NoError(t, h.Reload(next))

	b.queue = "c"
	b.send(t, `{"action": "ok", "key": "new"}`)
	require.Eventually(t, func() bool { return b.count(t, "handled", "new") == 1 }, within, tick, "an added listener starts")
	require.Eventually(t, func() bool { return b.count(t, "handled", "draining") == 1 }, within, tick,
		"a removed listener finishes its message in flight")
	require.Eventually(t, func() bool { return b.count(t, "shutdown", "") == 1 }, within, tick, "the removed listener's plugin stops")

	visible, inFlight := b.depth(t, "b")
	assert.Equal(t, 0, visible+inFlight, "the removed listener acked its message")
	assert.Contains(t, logs.String(), "listener removed, draining")
}

func TestReloadKeepsOldPluginWhenNewOneFails(t *testing.T) {
	h, cfg, _, b, logs := reloadSetup(t, "a")
	b.queue = "a"

	broken := filepath.Join(t.TempDir(), "broken")
	require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\necho not a plugin\n"), 0o755))
	next := copyConfig(cfg)
	next.Listeners[0].Plugin = broken

	require.NoError(t, h.Reload(next))
	b.send(t, `{"action": "ok", "key": "still"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "still") == 1 }, within, tick,
		"the old plugin keeps handling")
	assert.Contains(t, logs.String(), "swap failed, the listener keeps its previous plugin")
	assert.Equal(t, 1, b.count(t, "startup", ""))
}

// recordPath returns the record file named in the first listener's config.
func recordPath(cfg *config.Config) string {
	config := string(cfg.Listeners[0].Config)
	const prefix = `{"record_file": "`
	return config[len(prefix) : len(config)-2]
}
