//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// A plugin that handles messages and is then killed from outside, as by
// the kernel's OOM killer, is not crash-looping. So each kill must cost a
// restart, never the listener. restart_limit exists to stop plugins that
// cannot start or die before doing any work.
func TestKilledWorkingPluginIsRestarted(t *testing.T) {
	const restartLimit = 3
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./testing/chaos/chaosplugin")

	dir := t.TempDir()
	record := filepath.Join(dir, "records.txt")
	pidFile := filepath.Join(dir, "plugin.pid")
	configPath := filepath.Join(dir, "listeners.hcl")
	content := fmt.Sprintf(`driver "sqlite" {
  path = "queue.db"
}

listener "chaos" {
  plugin        = %q
  queue         = %q
  workers       = 1
  restart_limit = %d
  config = {
    record_file = %q
    pid_file    = %q
  }
}
`, plugin, queueName, restartLimit, record, pidFile)
	require.NoError(t, os.WriteFile(configPath, []byte(content), 0o644))

	driver, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	require.NoError(t, err)
	defer driver.Close()
	// Seqs that are not multiples of 20 always succeed.
	for seq := 1; seq <= 2000; seq++ {
		if seq%20 == 0 {
			continue
		}
		body := []byte(`{"seq": ` + strconv.Itoa(seq) + `}`)
		_, err := driver.Send(context.Background(), queueName, drivers.OutgoingMessage{Body: body})
		require.NoError(t, err)
	}

	logPath := filepath.Join(dir, "host.log")
	host, err := startHost(vegaHost, configPath, logPath)
	require.NoError(t, err)
	defer func() { _ = host.kill() }()

	killed := map[int]bool{}
	for kill := 1; kill <= restartLimit; kill++ {
		var pid int
		require.Eventually(t, func() bool {
			pid = workingPlugin(t, pidFile, record, killed)
			return pid != 0 || host.exited()
		}, 30*time.Second, 20*time.Millisecond, "a new plugin process handles messages before kill %d", kill)
		require.False(t, host.exited(), "the host exited before kill %d, the last lines of its log:\n%s", kill, lastLines(logPath, 5))

		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		killed[pid] = true
	}

	var pid int
	require.Eventually(t, func() bool {
		pid = workingPlugin(t, pidFile, record, killed)
		return pid != 0 || host.exited()
	}, 30*time.Second, 20*time.Millisecond, "a plugin handles messages after the last kill or the host exits")
	assert.False(t, host.exited(), "the host keeps running after %d kills of plugins that handled messages; the last lines of its log:\n%s",
		restartLimit, lastLines(logPath, 5))
	assert.NotZero(t, pid, "a plugin started after the last kill handles messages")
}

// workingPlugin returns the pid in the pid file when that process is not
// in killed and has handled a message, or 0.
func workingPlugin(t *testing.T, pidFile, record string, killed map[int]bool) int {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err, "pid file %q", data)
	if killed[pid] {
		return 0
	}

	records, err := readRecords(record)
	require.NoError(t, err)
	for _, rec := range records {
		if rec.event == "done" && rec.pid == pid {
			return pid
		}
	}
	return 0
}
