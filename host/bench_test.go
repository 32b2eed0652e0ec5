package host_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// benchWorkers is the concurrency of both sides of the throughput
// comparison.
const benchWorkers = 16

// cpuTime returns the CPU time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var usage syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &usage))
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// fill sends n messages with a small JSON body.
func fill(b *testing.B, driver drivers.Driver, queue string, n int) {
	b.Helper()
	body := []byte(`{"id": 1}`)
	for range n {
		_, err := driver.Send(context.Background(), queue, drivers.OutgoingMessage{Body: body})
		require.NoError(b, err)
	}
}

// waitEmpty blocks until queue has no visible or in-flight message.
func waitEmpty(b *testing.B, driver *memory.Driver, queue string) {
	b.Helper()
	for {
		visible, inFlight, err := driver.Depth(context.Background(), queue)
		require.NoError(b, err)
		if visible+inFlight == 0 {
			return
		}
		// Depth walks the whole queue, so polling it often would count
		// towards the host CPU being measured.
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkPluginNoop measures messages through a real plugin process
// with a no-op handler on the memory driver: throughput and the host's own
// CPU time per message (the plugin's CPU is not counted).
func BenchmarkPluginNoop(b *testing.B) {
	for _, maxMessages := range []int{1, 10} {
		b.Run(map[int]string{1: "max_messages=1", 10: "max_messages=10"}[maxMessages], func(b *testing.B) {
			benchmarkPlugin(b, maxMessages)
		})
	}
}

func benchmarkPlugin(b *testing.B, maxMessages int) {
	driver := memory.New()
	defer driver.Close()
	cfg := &config.Config{
		File:    "bench.hcl",
		Host:    config.Host{ShutdownTimeout: 10 * time.Second},
		Drivers: []config.Driver{{Kind: "memory"}},
		Listeners: []config.Listener{{
			Name: "noop", Plugin: buildtest.Binary(b, "./host/testdata/plugins/noop"), Driver: "memory", Queue: "bench",
			Workers: benchWorkers, AutoAck: true, MaxMessages: maxMessages, MaxRetries: 3,
			VisibilityTimeout: 30 * time.Second, RetryDelay: time.Second, MaxRetryDelay: time.Second,
			Config: []byte("{}"),
		}},
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: hclogDiscard{}})
	h := host.New(cfg, logger, host.WithDriver("memory", driver))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, nil) }()
	defer func() {
		cancel()
		<-done
	}()

	// Warm up: the plugin starts and the first messages pass.
	fill(b, driver, "bench", 1000)
	waitEmpty(b, driver, "bench")

	statuses := h.Status(context.Background())
	require.Len(b, statuses, 1)
	pluginPid := statuses[0].PluginPID

	fill(b, driver, "bench", b.N)
	started, cpuStarted, pluginStarted := time.Now(), cpuTime(b), processCPU(b, pluginPid)
	b.ResetTimer()
	waitEmpty(b, driver, "bench")
	b.StopTimer()

	elapsed, cpu, pluginCPU := time.Since(started), cpuTime(b)-cpuStarted, processCPU(b, pluginPid)-pluginStarted
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "host-cpu-µs/msg")
	b.ReportMetric(float64(pluginCPU.Microseconds())/float64(b.N), "plugin-cpu-µs/msg")
}

// processCPU returns the CPU time of another process from /proc, in the
// kernel's clock ticks of 10 ms.
func processCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(b, err)
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14 and stime 15.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	require.NoError(b, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	require.NoError(b, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// BenchmarkInProcessNoop is the baseline of BenchmarkPluginNoop: the same
// no-op handler called in the benchmark's own process by workers that
// receive from and ack on the memory driver, with no plugin in between.
func BenchmarkInProcessNoop(b *testing.B) {
	driver := memory.New()
	defer driver.Close()
	queue, err := driver.Open(context.Background(), "bench", drivers.OpenOptions{})
	require.NoError(b, err)
	handler := func(context.Context, *drivers.Message) error { return nil }

	fill(b, driver, "bench", b.N)
	started, cpuStarted := time.Now(), cpuTime(b)
	b.ResetTimer()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range benchWorkers {
		go func() {
			for ctx.Err() == nil {
				messages, err := queue.Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: 30 * time.Second, WaitTime: time.Second})
				if err != nil {
					return
				}
				for _, msg := range messages {
					if handler(ctx, msg) == nil {
						_ = queue.Ack(ctx, msg.ReceiptHandle)
					}
				}
			}
		}()
	}
	waitEmpty(b, driver, "bench")
	b.StopTimer()

	elapsed, cpu := time.Since(started), cpuTime(b)-cpuStarted
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "host-cpu-µs/msg")
}

// hclogDiscard drops the benchmark host's log output.
type hclogDiscard struct{}

func (hclogDiscard) Write(p []byte) (int, error) { return len(p), nil }
