package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/testing/drivertest"
)

// Bounds on how long a waiting Receive may take to return a message that
// another connection sent. File notifications usually wake it within a
// millisecond, and the median bound stays far enough below
// sqlite.DefaultPollInterval to fail when only the poll wakes it. The
// bounds leave room for a loaded machine and the race detector.
const (
	maxMedianWakeLatency = 50 * time.Millisecond
	maxWakeLatency       = 500 * time.Millisecond
)

// Environment of the child process in TestSendFromOtherProcessWakesReceive.
const (
	childDatabaseEnv = "VEGA_SQLITE_TEST_CHILD_DATABASE"
	childQueueEnv    = "VEGA_SQLITE_TEST_CHILD_QUEUE"
	childBodyEnv     = "VEGA_SQLITE_TEST_CHILD_BODY"
)

func TestSendFromOtherDriverWakesReceive(t *testing.T) {
	tests := []struct {
		name string
		opts []sqlite.Option
		// busy makes the receiving Driver write to another queue all the
		// time, which suspends its file watch.
		busy bool
	}{
		{name: "file notifications"},
		{name: "receiving driver busy", busy: true},
		{name: "polling only", opts: []sqlite.Option{sqlite.WithFileNotifications(false), sqlite.WithPollInterval(5 * time.Millisecond)}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newDatabasePath(t)
			receiver := openDriver(t, path, tt.opts...)
			sender := openDriver(t, path, tt.opts...)
			q := openQueue(t, receiver, "emails")

			if tt.busy {
				keepSending(t, receiver, "reports")
			}

			latencies := measureOtherDriverWakes(t, q, sender)

			t.Logf("latency from Send on one driver to Receive on another: median %s, max %s over %d rounds", latencies[len(latencies)/2], latencies[len(latencies)-1], len(latencies))

			assert.Less(t, latencies[len(latencies)/2], maxMedianWakeLatency, "a waiting receive should usually get a message sent through another driver within a few milliseconds")
			assert.Less(t, latencies[len(latencies)-1], maxWakeLatency, "a waiting receive should get a message sent through another driver within about one poll interval")
		})
	}
}

// measureOtherDriverWakes sends messages through sender, one at a time, to
// a Receive waiting on q, and returns the sorted latencies from the return
// of each Send to the return of the Receive. They leave out the time Send
// waits for the write lock, which a busy receiving Driver holds most of the
// time.
func measureOtherDriverWakes(t *testing.T, q drivers.Queue, sender drivers.Driver) []time.Duration {
	t.Helper()

	const rounds = 20
	latencies := make([]time.Duration, 0, rounds)

	for round := range rounds {
		results := receiveAsync(t.Context(), q, 10*time.Second)

		// Give the Receive time to start waiting; should it start later, it
		// finds the message at once.
		pause(t, 20*time.Millisecond)

		body := "round " + strconv.Itoa(round)
		_, err := sender.Send(t.Context(), q.Name(), drivers.OutgoingMessage{Body: []byte(body)})
		sentAt := time.Now()
		require.NoError(t, err)

		result := awaitResult(t, results, 15*time.Second)
		require.NoError(t, result.err, "round %d", round)
		require.Len(t, result.msgs, 1, "round %d: the waiting receive should get the message", round)
		assert.Equal(t, body, string(result.msgs[0].Body))

		latencies = append(latencies, result.returnedAt.Sub(sentAt))
		require.NoError(t, q.Ack(t.Context(), result.msgs[0].ReceiptHandle))
	}

	slices.Sort(latencies)

	return latencies
}

// keepSending sends to queue through d until the test ends.
func keepSending(t *testing.T, d drivers.Driver, queue string) {
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})

	go func() {
		defer close(stopped)

		for ctx.Err() == nil {
			_, err := d.Send(ctx, queue, drivers.OutgoingMessage{Body: []byte("filler")})
			if err != nil && ctx.Err() == nil {
				t.Errorf("send filler message to queue %q: %v", queue, err)
				return
			}
		}
	}()

	t.Cleanup(func() {
		cancel()
		<-stopped
	})
}

func TestConcurrentReceiversOnTwoDrivers(t *testing.T) {
	path := newDatabasePath(t)
	first := openDriver(t, path)
	second := openDriver(t, path)

	const total = 300
	for i := range total {
		_, err := first.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte("message " + strconv.Itoa(i))})
		require.NoError(t, err)
	}

	drivertest.CheckExclusiveReceives(t, total, 50*time.Millisecond, openQueue(t, first, "emails"), openQueue(t, second, "emails"))
}

func TestSendFromOtherProcessWakesReceive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}

	path := newDatabasePath(t)
	receiver := openDriver(t, path)
	q := openQueue(t, receiver, "emails")

	results := receiveAsync(t.Context(), q, 30*time.Second)

	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(),
		childDatabaseEnv+"="+path,
		childQueueEnv+"=emails",
		childBodyEnv+"=from another process",
	)
	output, err := child.Output()
	require.NoError(t, err, "child process that sends the message failed: %s", output)

	sentAt, err := parseChildOutput(string(output))
	require.NoError(t, err)

	result := awaitResult(t, results, 30*time.Second)
	require.NoError(t, result.err)
	require.Len(t, result.msgs, 1, "the waiting receive should get the message that the child process sent")
	assert.Equal(t, "from another process", string(result.msgs[0].Body))

	latency := result.returnedAt.Sub(sentAt)
	t.Logf("latency from Send in the child process to Receive: %s", latency)
	assert.Less(t, latency, maxWakeLatency, "a waiting receive should get a message sent by another process within a few poll intervals")
}

// runChildSend sends one message to the database at path, as the child
// process of TestSendFromOtherProcessWakesReceive, and prints the time
// Send returned as Unix nanoseconds. It returns the exit code.
func runChildSend(path string) int {
	d, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = d.Close() }()

	_, err = d.Send(context.Background(), os.Getenv(childQueueEnv), drivers.OutgoingMessage{Body: []byte(os.Getenv(childBodyEnv))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	fmt.Printf("sent %d\n", time.Now().UnixNano())

	return 0
}

func parseChildOutput(output string) (time.Time, error) {
	for line := range strings.Lines(output) {
		value, ok := strings.CutPrefix(strings.TrimSpace(line), "sent ")
		if !ok {
			continue
		}

		nanos, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse send time %q of child process: %w", value, err)
		}

		return time.Unix(0, nanos), nil
	}

	return time.Time{}, fmt.Errorf("child process output %q has no send time", output)
}

type receiveResult struct {
	msgs       []*drivers.Message
	err        error
	returnedAt time.Time
}

// receiveAsync starts a Receive of one message in a goroutine.
func receiveAsync(ctx context.Context, q drivers.Queue, waitTime time.Duration) <-chan receiveResult {
	results := make(chan receiveResult, 1)

	go func() {
		msgs, err := q.Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute, WaitTime: waitTime})
		results <- receiveResult{msgs: msgs, err: err, returnedAt: time.Now()}
	}()

	return results
}

func awaitResult(t *testing.T, results <-chan receiveResult, timeout time.Duration) receiveResult {
	t.Helper()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case result := <-results:
		return result
	case <-timer.C:
		require.FailNow(t, "receive did not return in time", "no result after %s", timeout)
		return receiveResult{}
	}
}

// pause waits for d, so that time passes between two steps of a test.
func pause(t *testing.T, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-t.Context().Done():
	case <-timer.C:
	}
}
