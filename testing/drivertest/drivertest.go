// Package drivertest is the conformance suite that every queue driver runs
// from its own tests, so that the host can rely on the same behaviour from
// each backend: visibility timeouts, receipt handles, long polling, dead
// letters, concurrency and shutdown.
//
// A driver package calls Run from a test function:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, func(t *testing.T) drivers.Driver { return memory.New() })
//	}
package drivertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// DefaultTick is the suite's unit of time when Options.Tick is zero.
const DefaultTick = 50 * time.Millisecond

// Options adapts the suite to a backend. The zero value suits a backend
// with the full semantics of the contract, such as memory and sqlite. Each
// field that relaxes a check names the tests it changes, and those tests
// log what they skipped or tolerated.
type Options struct {
	// Tick is the unit of time of the suite: visibility timeouts, delays
	// and waits are small multiples of it, and a step that should happen
	// at once must happen within 20 ticks. Zero means DefaultTick. A
	// backend with coarse timers needs a larger tick, and one that counts
	// visibility timeouts in whole seconds (SQS) a tick of one second.
	Tick time.Duration

	// CreateQueue creates a queue before the suite opens it, for backends
	// whose drivers do not create queues on demand (SQS). With it, the
	// suite also checks that Open and Depth of a missing queue fail with
	// drivers.ErrQueueNotFound. Nil means the driver creates queues.
	CreateQueue func(t *testing.T, spec QueueSpec)

	// StaleReceiptsAccepted marks a backend that may accept a receipt
	// handle that is no longer current, because the message was received
	// again, acked or dead-lettered (SQS: DeleteMessage succeeds with such
	// a handle). Calls with such handles may then succeed or fail with
	// drivers.ErrInvalidReceipt; malformed handles and handles from another
	// queue must still fail.
	StaleReceiptsAccepted bool

	// DuplicateDeliveries marks a backend that may deliver a message to two
	// concurrent receivers (standard SQS queues). The concurrency test then
	// requires every message at least once and logs duplicates.
	DuplicateDeliveries bool

	// NoDefaultDeadLetterQueue marks a driver that does not dead-letter to
	// the queue named with drivers.DefaultDeadLetterSuffix when
	// OpenOptions.DeadLetterQueue is empty (SQS, which uses the queue's
	// redrive policy instead). The suite skips that case.
	NoDefaultDeadLetterQueue bool

	// FIFO runs the tests of FIFO queues: message groups, deduplication and
	// dead letters that keep their group. Their queue names end in ".fifo",
	// as SQS requires.
	FIFO bool
}

// QueueSpec describes a queue that the suite creates with
// Options.CreateQueue.
type QueueSpec struct {
	Name string
	// FIFO requests a FIFO queue without content-based deduplication.
	FIFO bool
}

// Run runs the conformance suite with default options. newDriver must
// return a new driver with no messages on each call. The suite closes each
// driver when its test ends, so newDriver only needs to clean up what the
// driver leaves behind, such as files.
func Run(t *testing.T, newDriver func(t *testing.T) drivers.Driver) {
	t.Helper()

	RunWithOptions(t, newDriver, Options{})
}

// RunWithOptions runs the conformance suite as parallel subtests of t.
func RunWithOptions(t *testing.T, newDriver func(t *testing.T) drivers.Driver, opts Options) {
	t.Helper()

	tick := opts.Tick
	if tick <= 0 {
		tick = DefaultTick
	}

	s := &suite{newDriver: newDriver, tick: tick, opts: opts}

	tests := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReceiveMax", testReceiveMax},
		{"InvalidArguments", testInvalidArguments},
		{"VisibilityExpiry", testVisibilityExpiry},
		{"StaleReceipt", testStaleReceipt},
		{"ReleaseNow", testReleaseNow},
		{"ReleaseAfterDelay", testReleaseAfterDelay},
		{"ExtendVisibility", testExtendVisibility},
		{"DelayedSend", testDelayedSend},
		{"DeadLetter", testDeadLetter},
		{"LongPollWakesOnSend", testLongPollWakesOnSend},
		{"LongPollWakesOnRelease", testLongPollWakesOnRelease},
		{"LongPollTimesOut", testLongPollTimesOut},
		{"ReceiveContextEnds", testReceiveContextEnds},
		{"ConcurrentReceivers", testConcurrentReceivers},
		{"CloseUnblocksReceive", testCloseUnblocksReceive},
		{"CallsAfterClose", testCallsAfterClose},
		{"Depth", testDepth},
		{"MissingQueue", testMissingQueue},
		{"FIFORequiresGroup", testFIFORequiresGroup},
		{"FIFOGroupOrder", testFIFOGroupOrder},
		{"FIFODeduplication", testFIFODeduplication},
		{"FIFODeadLetter", testFIFODeadLetter},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tt.run(t, s)
		})
	}
}

// suite holds what every test of the suite shares.
type suite struct {
	newDriver func(t *testing.T) drivers.Driver
	tick      time.Duration
	opts      Options
}

// fixture is one test's driver, with an open queue on it.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	driver drivers.Driver
	queue  drivers.Queue
	tick   time.Duration
	opts   Options
	// created holds the names of the queues made with Options.CreateQueue.
	created map[string]bool
}

// setup returns a new driver and a queue with a name unique to the test.
// The driver is closed when the test ends.
func (s *suite) setup(t *testing.T) *fixture {
	t.Helper()

	return s.setupQueue(t, QueueSpec{Name: newQueueName()})
}

// setupQueue returns a new driver and the queue that spec describes.
func (s *suite) setupQueue(t *testing.T, spec QueueSpec) *fixture {
	t.Helper()

	driver := s.newDriver(t)
	t.Cleanup(func() {
		err := driver.Close()
		if err != nil && !errors.Is(err, drivers.ErrClosed) {
			t.Errorf("close driver: %v", err)
		}
	})

	f := &fixture{t: t, ctx: t.Context(), driver: driver, tick: s.tick, opts: s.opts, created: make(map[string]bool)}
	var opts drivers.OpenOptions
	if s.opts.NoDefaultDeadLetterQueue {
		// Tests that dead-letter from the fixture's queue need a queue to
		// move messages to.
		opts.DeadLetterQueue = deadLetterQueueName(spec.Name)
	}

	f.createQueue(spec)
	f.queue = f.open(spec.Name, opts)

	return f
}

// newQueueName returns a queue name that no other test uses.
func newQueueName() string {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])

	return "drivertest-" + hex.EncodeToString(suffix[:])
}

// fifoSuffix ends the name of every FIFO queue, as SQS requires.
const fifoSuffix = ".fifo"

// newFIFOQueueName returns a FIFO queue name that no other test uses.
func newFIFOQueueName() string {
	return newQueueName() + fifoSuffix
}

// deadLetterQueueName returns the name of queue's dead-letter queue, with
// drivers.DefaultDeadLetterSuffix before any ".fifo" suffix.
func deadLetterQueueName(queue string) string {
	base, fifo := strings.CutSuffix(queue, fifoSuffix)
	if fifo {
		return base + drivers.DefaultDeadLetterSuffix + fifoSuffix
	}
	return queue + drivers.DefaultDeadLetterSuffix
}

// ticks returns n units of the suite's time.
func (f *fixture) ticks(n int) time.Duration {
	return time.Duration(n) * f.tick
}

// promptLimit is how long a step that should happen at once may take.
func (f *fixture) promptLimit() time.Duration {
	return f.ticks(20)
}

// open opens the named queue, after creating it and its dead-letter queue
// when the backend needs that. The queues are standard ones unless the
// fixture's queue is FIFO.
func (f *fixture) open(name string, opts drivers.OpenOptions) drivers.Queue {
	f.t.Helper()

	fifo := strings.HasSuffix(name, fifoSuffix)
	f.createQueue(QueueSpec{Name: name, FIFO: fifo})
	if opts.DeadLetterQueue != "" {
		f.createQueue(QueueSpec{Name: opts.DeadLetterQueue, FIFO: strings.HasSuffix(opts.DeadLetterQueue, fifoSuffix)})
	}

	q, err := f.driver.Open(f.ctx, name, opts)
	require.NoError(f.t, err, "open queue %q", name)

	return q
}

// createQueue creates the queue with Options.CreateQueue, once per
// fixture, when the backend needs that.
func (f *fixture) createQueue(spec QueueSpec) {
	f.t.Helper()

	if f.opts.CreateQueue == nil || f.created[spec.Name] {
		return
	}

	f.opts.CreateQueue(f.t, spec)
	f.created[spec.Name] = true
}

// send sends a message with body and no attributes to the fixture's queue.
func (f *fixture) send(body string) string {
	f.t.Helper()

	return f.sendMessage(drivers.OutgoingMessage{Body: []byte(body)})
}

func (f *fixture) sendMessage(msg drivers.OutgoingMessage) string {
	f.t.Helper()

	id, err := f.driver.Send(f.ctx, f.queue.Name(), msg)
	require.NoError(f.t, err, "send to queue %q", f.queue.Name())
	require.NotEmpty(f.t, id, "Send returned an empty message id")

	return id
}

// request returns a ReceiveRequest for one message.
func request(visibilityTimeout, waitTime time.Duration) drivers.ReceiveRequest {
	return drivers.ReceiveRequest{Max: 1, VisibilityTimeout: visibilityTimeout, WaitTime: waitTime}
}

func (f *fixture) receive(q drivers.Queue, req drivers.ReceiveRequest) []*drivers.Message {
	f.t.Helper()

	msgs, err := q.Receive(f.ctx, req)
	require.NoError(f.t, err, "receive from queue %q", q.Name())

	return msgs
}

// receiveOne receives from q and requires exactly one message.
func (f *fixture) receiveOne(q drivers.Queue, req drivers.ReceiveRequest) *drivers.Message {
	f.t.Helper()

	msgs := f.receive(q, req)
	require.Len(f.t, msgs, 1, "receive from queue %q with max 1 and wait time %s should return one message", q.Name(), req.WaitTime)

	return msgs[0]
}

// requireEmpty receives from q without waiting and requires no message.
// The failure message is expectation.
func (f *fixture) requireEmpty(q drivers.Queue, expectation string) {
	f.t.Helper()

	msgs := f.receive(q, drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute})
	require.Empty(f.t, msgs, expectation)
}

// pause waits for d, so that time passes between two steps of a test. It
// returns early when the test's context ends.
func (f *fixture) pause(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-f.ctx.Done():
	case <-timer.C:
	}
}

// receiveResult is the outcome of a Receive run in a goroutine, with the
// time it returned.
type receiveResult struct {
	msgs       []*drivers.Message
	err        error
	returnedAt time.Time
}

// receiveAsync starts a Receive on q in a goroutine and returns the channel
// that gets its result.
func (f *fixture) receiveAsync(ctx context.Context, q drivers.Queue, req drivers.ReceiveRequest) <-chan receiveResult {
	results := make(chan receiveResult, 1)

	go func() {
		msgs, err := q.Receive(ctx, req)
		results <- receiveResult{msgs: msgs, err: err, returnedAt: time.Now()}
	}()

	return results
}

// awaitResult returns the result of a receiveAsync, failing the test when
// it does not arrive within timeout. The failure message names the receive
// with description.
func (f *fixture) awaitResult(results <-chan receiveResult, timeout time.Duration, description string) receiveResult {
	f.t.Helper()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case result := <-results:
		return result
	case <-timer.C:
		require.FailNow(f.t, "receive did not return in time", "%s: no result after %s", description, timeout)
		return receiveResult{}
	}
}
