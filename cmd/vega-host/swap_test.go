package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/buildtest"
)

// handledEvent is the part of a behave record line the swap test reads.
type handledEvent struct {
	Event   string `json:"event"`
	Key     string `json:"key"`
	Version string `json:"version"`
}

func readHandled(t *testing.T, path string) []handledEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)

	var events []handledEvent
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var e handledEvent
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &e))
		if e.Event == "handled" || e.Event == "shutdown" {
			events = append(events, e)
		}
	}
	return events
}

func TestSighupSwapsBinaryUnderLoad(t *testing.T) {
	const total = 300
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	dir := t.TempDir()
	plugin := filepath.Join(dir, "behave")
	buildtest.BinaryAt(t, "./host/testdata/plugins/behave", plugin, "-ldflags=-X main.version=v1")
	next := filepath.Join(dir, "behave-v2")
	buildtest.BinaryAt(t, "./host/testdata/plugins/behave", next, "-ldflags=-X main.version=v2")

	record := filepath.Join(dir, "events.jsonl")
	configPath := filepath.Join(dir, "listeners.hcl")
	writeFile(t, configPath, fmt.Sprintf(`
listener "swap" {
  plugin  = %q
  queue   = "jobs"
  workers = 8
  config = {
    record_file = %q
  }
}
`, plugin, record))

	var lines strings.Builder
	for i := range total {
		fmt.Fprintf(&lines, `{"action": "sleep", "ms": 20, "key": "m%d"}`+"\n", i)
	}
	output, err := vega(t, vegaHost, lines.String(), "send", "-config", configPath, "-queue", "jobs", "-")
	require.NoError(t, err, output)

	host := startHostProcess(t, vegaHost, configPath)
	require.Eventually(t, func() bool { return len(readHandled(t, record)) >= total/4 }, within, 20*time.Millisecond,
		"handling under way")

	// Deploy the new build the usual way: write it aside, rename it over
	// the old one, then ask the running host to reload.
	data, err := os.ReadFile(next)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(plugin+".new", data, 0o755))
	require.NoError(t, os.Rename(plugin+".new", plugin))
	output, err = vega(t, vegaHost, "", "reload", "-config", configPath)
	require.NoError(t, err, output)

	require.Eventually(t, func() bool {
		count := 0
		for _, e := range readHandled(t, record) {
			if e.Event == "handled" {
				count++
			}
		}
		return count >= total
	}, 2*within, 20*time.Millisecond, "every message handled")
	assert.Equal(t, 0, host.stop(t), "exit status after SIGTERM")

	handled := map[string]int{}
	versions := map[string]int{}
	shutdowns := map[string]int{}
	for _, e := range readHandled(t, record) {
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
	assert.Positive(t, versions["v1"], "the old build handled messages before the reload")
	assert.Positive(t, versions["v2"], "handling resumed on the new build")
	assert.Equal(t, 1, shutdowns["v1"], "the old plugin stopped after finishing its messages")
	assert.Contains(t, host.output.String(), "listener swapped to a new plugin")
}
