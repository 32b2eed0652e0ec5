package host_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// BenchmarkPluginColdStart measures one plugin start: exec, go-plugin
// handshake with AutoMTLS, the host service over the broker, and the
// startup hook.
func BenchmarkPluginColdStart(b *testing.B) {
	spec := supervisor.Spec{
		Listener:  "noop",
		Path:      buildtest.Binary(b, "./host/testdata/plugins/noop"),
		SocketDir: b.TempDir(),
		Startup:   &proto.StartupRequest{Listener: "noop", Queue: "bench", AutoAck: true, Workers: 1},
	}
	logger := hclog.NewNullLogger()

	b.ResetTimer()
	for range b.N {
		instance, err := supervisor.Start(context.Background(), spec, proto.UnimplementedHostServer{}, logger)
		require.NoError(b, err)
		b.StopTimer()
		instance.Kill()
		b.StartTimer()
	}
}

// BenchmarkCrashToHandling measures the time from a plugin crash to the
// restarted plugin finishing the redelivered message: crash detection,
// the first restart backoff, a cold start, and the redelivery.
func BenchmarkCrashToHandling(b *testing.B) {
	b.StopTimer()
	for i := range b.N {
		bundle := startHost(b, func(l *config.Listener) { l.Workers = 1 })
		key := fmt.Sprintf("crash-%d", i)
		waitFor(b, func() bool { return bundle.count(b, "startup", "") == 1 })

		b.StartTimer()
		bundle.send(b, `{"action": "exit", "first_only": true, "key": "`+key+`"}`)
		waitFor(b, func() bool { return bundle.count(b, "handled", key) == 1 })
		b.StopTimer()

		require.NoError(b, bundle.stop(b))
	}
}

// BenchmarkIdleHostMemory measures the resident memory of a vega-host
// process running 10 idle listeners on the embedded queue, after every
// plugin has started. Plugins are separate processes and not counted.
func BenchmarkIdleHostMemory(b *testing.B) {
	vegaHost := buildtest.Binary(b, "./cmd/vega-host")
	plugin := buildtest.Binary(b, "./host/testdata/plugins/noop")
	dir := b.TempDir()
	metricsAddr := freeAddr(b)

	var hcl strings.Builder
	fmt.Fprintf(&hcl, "host {\n  metrics_addr = %q\n  log_level = \"warn\"\n}\n", metricsAddr)
	for i := range 10 {
		fmt.Fprintf(&hcl, "listener \"idle-%d\" {\n  plugin = %q\n  queue = \"idle-%d\"\n}\n", i, plugin, i)
	}
	configPath := filepath.Join(dir, "listeners.hcl")
	require.NoError(b, os.WriteFile(configPath, []byte(hcl.String()), 0o644))

	var rss []float64
	for range b.N {
		cmd := exec.Command(vegaHost, "run", "-config", configPath)
		require.NoError(b, cmd.Start())
		waitFor(b, func() bool {
			response, err := http.Get("http://" + metricsAddr + "/readyz")
			if err != nil {
				return false
			}
			response.Body.Close()
			return response.StatusCode == http.StatusOK
		})
		// Let the host settle after the starts before reading its memory.
		time.Sleep(2 * time.Second)
		rss = append(rss, float64(residentKiB(b, cmd.Process.Pid))/1024)

		require.NoError(b, cmd.Process.Signal(os.Interrupt))
		require.NoError(b, cmd.Wait())
	}
	b.ReportMetric(mean(rss), "host-rss-MiB")
}

// residentKiB returns VmRSS of a process from /proc.
func residentKiB(b *testing.B, pid int) int {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(b, err)
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
			require.NoError(b, err)
			return kib
		}
	}
	b.Fatalf("no VmRSS line in /proc/%d/status", pid)
	return 0
}

func mean(values []float64) float64 {
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

// waitFor polls condition until it holds, failing after a minute.
func waitFor(b *testing.B, condition func() bool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for !condition() {
		if time.Now().After(deadline) {
			b.Fatalf("condition not met within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}
