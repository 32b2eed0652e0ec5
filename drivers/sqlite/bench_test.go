package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maragu.dev/goqite"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
)

// The benchmarks in this file use only the API that the driver had before
// group commit and file notifications, so that they can measure an older
// version of the package too.

// benchmarkBody is the body of every message that the benchmarks send.
var benchmarkBody = []byte(strings.Repeat("x", 100))

// messagesPerRound is how many messages one iteration of
// BenchmarkEndToEnd sends through each queue.
const messagesPerRound = 2000

// goqitePollIntervals are the intervals at which idle goqite consumers poll
// in BenchmarkEndToEnd, because goqite has no long polling: its
// ReceiveAndWait polls. 100 ms is the default of goqite's jobs runner. A
// short interval finds new messages sooner, and a long one leaves the
// database to the producer, so the benchmark runs all three and compares
// with the fastest.
var goqitePollIntervals = []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}

// BenchmarkEndToEnd moves messagesPerRound messages per iteration through
// each queue: one producer sends them while some consumers receive one
// message at a time, handle it (no-op) and ack it. It reports the messages
// per second of each queue and the ratio of this driver's rate to the
// fastest goqite setup. The queues take turns in every iteration, so that
// all see the same load from the rest of the machine.
//
//   - sqlite: this driver, Receive with Max 1 and one Ack per message.
//   - sqlite-max10: this driver, Receive with Max 10 and one AckBatch per
//     receive where the driver has it.
//   - goqite-<interval>: maragu.dev/goqite on its own database file
//     through the same SQLite driver (modernc.org/sqlite), set up as its
//     README shows: one connection, WAL, busy timeout 5 s, and
//     synchronous=NORMAL as here. Idle consumers poll at the interval.
func BenchmarkEndToEnd(b *testing.B) {
	for _, consumers := range []int{1, 4, 16} {
		b.Run("consumers="+strconv.Itoa(consumers), func(b *testing.B) {
			queues := []benchmarkQueue{
				newDriverQueue(b, "sqlite", 1),
				newDriverQueue(b, "sqlite-max10", 10),
			}
			for _, interval := range goqitePollIntervals {
				queues = append(queues, newGoqiteQueue(b, interval))
			}
			elapsed := make([]time.Duration, len(queues))

			for b.Loop() {
				for i, q := range queues {
					elapsed[i] += runRound(b, q, consumers)
				}
			}

			rates := make([]float64, len(queues))
			for i, q := range queues {
				rates[i] = float64(b.N*messagesPerRound) / elapsed[i].Seconds()
				b.ReportMetric(rates[i], q.name()+"-msgs/s")
			}

			fastestGoqite := slices.Max(rates[2:])
			b.ReportMetric(rates[0]/fastestGoqite, "sqlite/goqite")
			b.ReportMetric(rates[1]/fastestGoqite, "sqlite-max10/goqite")
			// The time per iteration covers all queues, which makes it
			// meaningless on its own.
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchmarkQueue is a queue under BenchmarkEndToEnd.
type benchmarkQueue interface {
	name() string
	send(ctx context.Context) error
	// receive waits for messages until ctx ends and returns the handles to
	// ack them with.
	receive(ctx context.Context) ([]string, error)
	ack(ctx context.Context, handles []string) error
}

// runRound sends messagesPerRound messages through q and returns how long
// it took until the consumers acked the last one.
func runRound(b *testing.B, q benchmarkQueue, consumers int) time.Duration {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()

	var (
		acked    atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)

	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}

	start := time.Now()

	for range consumers {
		wg.Go(func() {
			for ctx.Err() == nil {
				handles, err := q.receive(ctx)
				if err != nil {
					if ctx.Err() == nil {
						fail(fmt.Errorf("receive from %s: %w", q.name(), err))
					}
					return
				}

				if len(handles) == 0 {
					continue
				}

				// Handling the message is a no-op.
				if err := q.ack(ctx, handles); err != nil {
					fail(fmt.Errorf("ack in %s: %w", q.name(), err))
					return
				}

				if acked.Add(int64(len(handles))) >= messagesPerRound {
					cancel()
				}
			}
		})
	}

	wg.Go(func() {
		for range messagesPerRound {
			if err := q.send(ctx); err != nil {
				if ctx.Err() == nil {
					fail(fmt.Errorf("send to %s: %w", q.name(), err))
				}
				return
			}
		}
	})

	wg.Wait()
	elapsed := time.Since(start)

	if firstErr != nil {
		b.Fatal(firstErr)
	}
	if got := acked.Load(); got != messagesPerRound {
		b.Fatalf("%s: %d of %d messages acked", q.name(), got, messagesPerRound)
	}

	return elapsed
}

// driverQueue runs BenchmarkEndToEnd on this driver.
type driverQueue struct {
	label  string
	max    int
	driver *sqlite.Driver
	queue  drivers.Queue
}

func newDriverQueue(b *testing.B, label string, maxMessages int) *driverQueue {
	d := openDriver(b, newDatabasePath(b))

	return &driverQueue{label: label, max: maxMessages, driver: d, queue: openQueue(b, d, "benchmark")}
}

func (q *driverQueue) name() string { return q.label }

func (q *driverQueue) send(ctx context.Context) error {
	_, err := q.driver.Send(ctx, "benchmark", drivers.OutgoingMessage{Body: benchmarkBody})
	return err
}

func (q *driverQueue) receive(ctx context.Context) ([]string, error) {
	msgs, err := q.queue.Receive(ctx, drivers.ReceiveRequest{Max: q.max, VisibilityTimeout: time.Minute, WaitTime: 5 * time.Second})
	if err != nil {
		return nil, err
	}

	handles := make([]string, len(msgs))
	for i, msg := range msgs {
		handles[i] = msg.ReceiptHandle
	}

	return handles, nil
}

// batchAcker matches drivers.BatchAcker, which older versions of the
// drivers package lack.
type batchAcker interface {
	AckBatch(ctx context.Context, receipts []string) []error
}

func (q *driverQueue) ack(ctx context.Context, handles []string) error {
	if acker, ok := q.queue.(batchAcker); ok && len(handles) > 1 {
		return errors.Join(acker.AckBatch(ctx, handles)...)
	}

	for _, handle := range handles {
		if err := q.queue.Ack(ctx, handle); err != nil {
			return err
		}
	}

	return nil
}

// goqiteQueue runs BenchmarkEndToEnd on goqite.
type goqiteQueue struct {
	queue        *goqite.Queue
	pollInterval time.Duration
}

func newGoqiteQueue(b *testing.B, pollInterval time.Duration) *goqiteQueue {
	schema := readGoqiteSchema(b)

	path := filepath.Join(b.TempDir(), "goqite.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatalf("open goqite database: %v", err)
	}
	b.Cleanup(func() { _ = db.Close() })

	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)

	if _, err := db.ExecContext(b.Context(), schema); err != nil {
		b.Fatalf("create goqite schema: %v", err)
	}

	return &goqiteQueue{
		queue:        goqite.New(goqite.NewOpts{DB: db, Name: "benchmark", Timeout: time.Minute}),
		pollInterval: pollInterval,
	}
}

// readGoqiteSchema returns the SQLite schema that goqite ships in its
// module, which its users run themselves. The benchmark reads it from the
// module cache rather than keeping a copy that could drift.
func readGoqiteSchema(b *testing.B) string {
	b.Helper()

	output, err := exec.CommandContext(b.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "maragu.dev/goqite").Output()
	if err != nil {
		b.Skipf("skipped: locate the goqite module with go list: %v", err)
	}

	schema, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(output)), "schema_sqlite.sql"))
	if err != nil {
		b.Skipf("skipped: read the goqite schema: %v", err)
	}

	return string(schema)
}

func (q *goqiteQueue) name() string { return "goqite-" + q.pollInterval.String() }

func (q *goqiteQueue) send(ctx context.Context) error {
	return q.queue.Send(ctx, goqite.Message{Body: benchmarkBody})
}

func (q *goqiteQueue) receive(ctx context.Context) ([]string, error) {
	msg, err := q.queue.ReceiveAndWait(ctx, q.pollInterval)
	if err != nil {
		return nil, err
	}

	return []string{string(msg.ID)}, nil
}

func (q *goqiteQueue) ack(ctx context.Context, handles []string) error {
	for _, handle := range handles {
		if err := q.queue.Delete(ctx, goqite.ID(handle)); err != nil {
			return err
		}
	}

	return nil
}

// latencySamplePause is how long BenchmarkWakeLatency lets a Receive wait
// before it sends, so that the Receive is waiting rather than starting.
const latencySamplePause = 5 * time.Millisecond

// BenchmarkWakeLatency measures the time from the start of a Send to the
// return of a Receive that was waiting on the empty queue, one sample per
// iteration, and reports the median and the 99th percentile in
// milliseconds. The sender is the receiving Driver itself, a second Driver
// on the same file in this process, or a child process. Run it with a fixed
// count, such as -benchtime=1000x.
func BenchmarkWakeLatency(b *testing.B) {
	b.Run("same-driver", func(b *testing.B) {
		d := openDriver(b, newDatabasePath(b))

		measureWakeLatency(b, openQueue(b, d, "emails"), func() (time.Time, error) {
			start := time.Now()
			_, err := d.Send(b.Context(), "emails", drivers.OutgoingMessage{Body: benchmarkBody})
			return start, err
		})
	})

	b.Run("second-driver", func(b *testing.B) {
		path := newDatabasePath(b)
		receiver := openDriver(b, path)
		sender := openDriver(b, path)

		measureWakeLatency(b, openQueue(b, receiver, "emails"), func() (time.Time, error) {
			start := time.Now()
			_, err := sender.Send(b.Context(), "emails", drivers.OutgoingMessage{Body: benchmarkBody})
			return start, err
		})
	})

	b.Run("child-process", func(b *testing.B) {
		path := newDatabasePath(b)
		receiver := openDriver(b, path)
		child := startSenderProcess(b, path, "emails")

		measureWakeLatency(b, openQueue(b, receiver, "emails"), child.send)
	})
}

// measureWakeLatency takes one sample per iteration: it starts a Receive
// on q, pauses, calls send and records the time from the start that send
// returns to the return of the Receive.
func measureWakeLatency(b *testing.B, q drivers.Queue, send func() (time.Time, error)) {
	b.Helper()

	ctx := b.Context()
	latencies := make([]time.Duration, 0, b.N)

	for b.Loop() {
		results := make(chan receiveResult, 1)
		go func() {
			msgs, err := q.Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute, WaitTime: 10 * time.Second})
			results <- receiveResult{msgs: msgs, err: err, returnedAt: time.Now()}
		}()

		pauseBenchmark(b, latencySamplePause)

		sentAt, err := send()
		if err != nil {
			b.Fatalf("send: %v", err)
		}

		result := <-results
		if result.err != nil {
			b.Fatalf("receive: %v", result.err)
		}
		if len(result.msgs) != 1 {
			b.Fatalf("receive returned %d messages after its wait time, expected the sent one", len(result.msgs))
		}

		latencies = append(latencies, result.returnedAt.Sub(sentAt))

		if err := q.Ack(ctx, result.msgs[0].ReceiptHandle); err != nil {
			b.Fatalf("ack: %v", err)
		}
	}

	slices.Sort(latencies)
	b.ReportMetric(percentile(latencies, 0.50).Seconds()*1000, "p50-ms")
	b.ReportMetric(percentile(latencies, 0.99).Seconds()*1000, "p99-ms")
	b.ReportMetric(latencies[len(latencies)-1].Seconds()*1000, "max-ms")
	// The time per iteration is mostly the pause, which makes it
	// meaningless.
	b.ReportMetric(0, "ns/op")
}

// percentile returns the p-th quantile of sorted by the nearest-rank
// method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted))+0.5) - 1
	rank = max(0, min(rank, len(sorted)-1))

	return sorted[rank]
}

func pauseBenchmark(b *testing.B, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-b.Context().Done():
	case <-timer.C:
	}
}

// Environment of the child process of BenchmarkWakeLatency.
const (
	senderDatabaseEnv = "VEGA_SQLITE_BENCH_SENDER_DATABASE"
	senderQueueEnv    = "VEGA_SQLITE_BENCH_SENDER_QUEUE"
)

// senderProcess is a child process that sends one message per line it
// reads and writes the Unix nanoseconds at which each Send started.
type senderProcess struct {
	stdin  io.Writer
	stdout *bufio.Scanner
}

func startSenderProcess(b *testing.B, path, queue string) *senderProcess {
	b.Helper()

	// The child exits when its standard input closes, which the cleanup
	// does. A command bound to b.Context() would be killed first, because
	// that context ends before cleanups run.
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), senderDatabaseEnv+"="+path, senderQueueEnv+"="+queue)
	cmd.Stderr = os.Stderr

	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}

	if err := cmd.Start(); err != nil {
		b.Fatalf("start sender process: %v", err)
	}

	b.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("sender process: %v", err)
		}
	})

	return &senderProcess{stdin: stdin, stdout: bufio.NewScanner(stdout)}
}

func (p *senderProcess) send() (time.Time, error) {
	if _, err := io.WriteString(p.stdin, "send\n"); err != nil {
		return time.Time{}, fmt.Errorf("write to sender process: %w", err)
	}

	if !p.stdout.Scan() {
		return time.Time{}, fmt.Errorf("read from sender process: %w", errors.Join(p.stdout.Err(), io.ErrUnexpectedEOF))
	}

	return parseChildOutput(p.stdout.Text())
}

// runSenderProcess is the child process of BenchmarkWakeLatency. It returns
// the exit code.
func runSenderProcess(path string) int {
	d, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = d.Close() }()

	queue := os.Getenv(senderQueueEnv)
	lines := bufio.NewScanner(os.Stdin)

	for lines.Scan() {
		start := time.Now()
		if _, err := d.Send(context.Background(), queue, drivers.OutgoingMessage{Body: benchmarkBody}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}

		fmt.Printf("sent %d\n", start.UnixNano())
	}

	return 0
}
