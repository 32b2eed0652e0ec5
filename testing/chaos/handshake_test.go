//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// A plugin process can die before its handshake for reasons unrelated to
// its binary, such as the kernel's OOM killer or an operator's kill. The
// host must treat that as a crash to restart after a backoff, as it does
// once the plugin runs.
func TestPluginKilledBeforeHandshakeIsRestarted(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./testing/chaos/chaosplugin")

	dir := t.TempDir()
	record := filepath.Join(dir, "records.txt")
	counter := filepath.Join(dir, "early-deaths")
	configPath := filepath.Join(dir, "listeners.hcl")
	content := fmt.Sprintf(`driver "sqlite" {
  path = "queue.db"
}

listener "chaos" {
  plugin = %q
  queue  = %q
  env    = [%q]
  config = {
    record_file = %q
  }
}
`, plugin, queueName, dieBeforeHandshakeEnvForTest, record)
	require.NoError(t, os.WriteFile(configPath, []byte(content), 0o644))

	driver, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	require.NoError(t, err)
	defer driver.Close()
	_, err = driver.Send(context.Background(), queueName, drivers.OutgoingMessage{Body: []byte(`{"seq": 1}`)})
	require.NoError(t, err)

	logPath := filepath.Join(dir, "host.log")
	host, err := startHost(vegaHost, configPath, logPath, dieBeforeHandshakeEnvForTest+"="+counter)
	require.NoError(t, err)
	defer func() { _ = host.kill() }()

	handled := func() bool {
		records, err := readRecords(record)
		require.NoError(t, err)
		for _, rec := range records {
			if rec.event == "done" && rec.seq == 1 {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool { return handled() || host.exited() }, 30*time.Second, 20*time.Millisecond,
		"the message is handled or the host exits")

	deaths, err := os.ReadFile(counter)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(deaths), "\n"), "the plugin killed itself before its handshake on its first three starts")
	assert.False(t, host.exited(), "the host keeps running; the last lines of its log:\n%s", lastLines(logPath, 5))
	assert.True(t, handled(), "a later start of the plugin handles the message")
}

// dieBeforeHandshakeEnvForTest repeats the plugin's variable name, which
// lives in another main package.
const dieBeforeHandshakeEnvForTest = "CHAOS_DIE_BEFORE_HANDSHAKE"
