//go:build unix

package sqlite_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// idleWaitTime is the wait time of each Receive in BenchmarkIdleReceive.
const idleWaitTime = time.Second

// BenchmarkIdleReceive measures the CPU time that the process spends while
// one Receive waits on an empty queue, one wait of idleWaitTime per
// iteration, and reports it as cpu-% of one core. Run it with a fixed
// count, such as -benchtime=10x.
func BenchmarkIdleReceive(b *testing.B) {
	d := openDriver(b, newDatabasePath(b))
	q := openQueue(b, d, "emails")

	before := processCPUTime(b)
	start := time.Now()

	for b.Loop() {
		msgs, err := q.Receive(b.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute, WaitTime: idleWaitTime})
		if err != nil {
			b.Fatalf("receive: %v", err)
		}
		if len(msgs) != 0 {
			b.Fatalf("receive from the empty queue returned %d messages", len(msgs))
		}
	}

	cpu := processCPUTime(b) - before
	wall := time.Since(start)

	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
}

// processCPUTime returns the user and system CPU time of the process so
// far.
func processCPUTime(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatalf("read CPU time: %v", err)
	}

	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
