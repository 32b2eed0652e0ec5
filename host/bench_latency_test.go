package host_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// BenchmarkSendToHandle measures the latency from sending a message on an
// idle embedded queue to the start of Handle in the plugin. The message is
// sent through a second driver on the same SQLite file, as vega-host send
// in another process would. The plugin stamps the start of Handle with its
// own clock, which is the same machine's.
func BenchmarkSendToHandle(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "queue.db")
	hostDriver, err := sqlite.Open(path)
	require.NoError(b, err)
	defer hostDriver.Close()
	sender, err := sqlite.Open(path)
	require.NoError(b, err)
	defer sender.Close()

	record := filepath.Join(dir, "events.jsonl")
	cfg := &config.Config{
		File:    filepath.Join(dir, "bench.hcl"),
		Host:    config.Host{ShutdownTimeout: 10 * time.Second},
		Drivers: []config.Driver{{Kind: "sqlite"}},
		Listeners: []config.Listener{{
			Name: "latency", Plugin: buildtest.Binary(b, "./host/testdata/plugins/behave"), Driver: "sqlite", Queue: "jobs",
			Workers: 1, AutoAck: true, MaxMessages: 1, MaxRetries: 3,
			VisibilityTimeout: 30 * time.Second, RetryDelay: time.Second, MaxRetryDelay: time.Second,
			Config: []byte(`{"record_file": "` + record + `"}`),
		}},
	}
	h := host.New(cfg, hclog.NewNullLogger(), host.WithDriver("sqlite", hostDriver))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, nil) }()
	defer func() {
		cancel()
		<-done
	}()

	b2 := &bundle{record: record}
	waitFor(b, func() bool { return b2.count(b, "startup", "") == 1 })

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		key := fmt.Sprintf("k%d", i)
		// Let the queue go idle, so each message wakes a waiting receive.
		time.Sleep(20 * time.Millisecond)

		sent := time.Now()
		_, err := sender.Send(context.Background(), "jobs", drivers.OutgoingMessage{
			Body: []byte(`{"action": "ok", "key": "` + key + `"}`),
		})
		require.NoError(b, err)

		var started int64
		waitFor(b, func() bool {
			for _, e := range b2.events(b) {
				if e.Event == "start" && e.Key == key {
					started = e.At
					return true
				}
			}
			return false
		})
		latencies = append(latencies, time.Duration(started-sent.UnixNano()))
	}
	b.StopTimer()

	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
