package drivertest

import (
	"testing"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// Benchmark measures one message's trip through a driver: Send, Receive and
// Ack, and reports the rate as the msgs/s metric. Its sub-benchmarks are
// Serial (one goroutine, one message per receive), Parallel (GOMAXPROCS
// goroutines, see testing.B.RunParallel) and Batch10 (ten sends, then
// receives of up to ten messages).
func Benchmark(b *testing.B, newDriver func(b *testing.B) drivers.Driver) {
	b.Run("Serial", func(b *testing.B) {
		q := setupBenchmark(b, newDriver)
		body := []byte("benchmark message")

		for b.Loop() {
			sendReceiveAck(b, q, body, 1)
		}

		reportRate(b, b.N)
	})

	b.Run("Parallel", func(b *testing.B) {
		q := setupBenchmark(b, newDriver)
		body := []byte("benchmark message")

		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sendReceiveAck(b, q, body, 1)
			}
		})

		reportRate(b, b.N)
	})

	b.Run("Batch10", func(b *testing.B) {
		q := setupBenchmark(b, newDriver)
		body := []byte("benchmark message")

		for b.Loop() {
			sendReceiveAck(b, q, body, 10)
		}

		reportRate(b, 10*b.N)
	})
}

// benchmarkQueue is a queue handle with the driver that sends to it.
type benchmarkQueue struct {
	driver drivers.Driver
	queue  drivers.Queue
}

func setupBenchmark(b *testing.B, newDriver func(b *testing.B) drivers.Driver) benchmarkQueue {
	b.Helper()

	driver := newDriver(b)
	b.Cleanup(func() { _ = driver.Close() })

	q, err := driver.Open(b.Context(), "benchmark", drivers.OpenOptions{})
	if err != nil {
		b.Fatalf("open queue %q: %v", "benchmark", err)
	}

	return benchmarkQueue{driver: driver, queue: q}
}

// sendReceiveAck sends count messages, then receives and acks as many. A
// receive may return messages that another goroutine sent; every goroutine
// still finds one, because each sends before it receives.
func sendReceiveAck(b *testing.B, q benchmarkQueue, body []byte, count int) {
	ctx := b.Context()

	for range count {
		if _, err := q.driver.Send(ctx, q.queue.Name(), drivers.OutgoingMessage{Body: body}); err != nil {
			b.Errorf("send to queue %q: %v", q.queue.Name(), err)
			return
		}
	}

	for received := 0; received < count; {
		msgs, err := q.queue.Receive(ctx, drivers.ReceiveRequest{Max: count - received, VisibilityTimeout: time.Minute, WaitTime: time.Second})
		if err != nil {
			b.Errorf("receive from queue %q: %v", q.queue.Name(), err)
			return
		}

		if len(msgs) == 0 {
			b.Errorf("receive from queue %q: no message within 1s although one was sent", q.queue.Name())
			return
		}

		for _, msg := range msgs {
			if err := q.queue.Ack(ctx, msg.ReceiptHandle); err != nil {
				b.Errorf("ack message %s in queue %q: %v", msg.ID, q.queue.Name(), err)
				return
			}
		}

		received += len(msgs)
	}
}

func reportRate(b *testing.B, messages int) {
	b.ReportMetric(float64(messages)/b.Elapsed().Seconds(), "msgs/s")
}
