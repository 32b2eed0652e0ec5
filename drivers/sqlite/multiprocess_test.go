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

// maxWakeLatency bounds how long a waiting Receive may take to return a
// message that another connection sent. The driver polls every 3 ms by
// default; the bound leaves room for a loaded machine and the race
// detector.
const maxWakeLatency = 250 * time.Millisecond

// Environment of the child process in TestSendFromOtherProcessWakesReceive.
const (
	childDatabaseEnv = "VEGA_SQLITE_TEST_CHILD_DATABASE"
	childQueueEnv    = "VEGA_SQLITE_TEST_CHILD_QUEUE"
	childBodyEnv     = "VEGA_SQLITE_TEST_CHILD_BODY"
)

func TestSendFromOtherDriverWakesReceive(t *testing.T) {
	path := newDatabasePath(t)
	receiver := openDriver(t, path)
	sender := openDriver(t, path)
	q := openQueue(t, receiver, "emails")

	const rounds = 20
	latencies := make([]time.Duration, 0, rounds)

	for round := range rounds {
		results := receiveAsync(t.Context(), q, 10*time.Second)

		// Give the Receive time to start waiting; should it start later, it
		// finds the message at once.
		pause(t, 20*time.Millisecond)

		body := "round " + strconv.Itoa(round)
		sentAt := time.Now()
		_, err := sender.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte(body)})
		require.NoError(t, err)

		result := awaitResult(t, results, 15*time.Second)
		require.NoError(t, result.err, "round %d", round)
		require.Len(t, result.msgs, 1, "round %d: the waiting receive should get the message", round)
		assert.Equal(t, body, string(result.msgs[0].Body))

		latencies = append(latencies, result.returnedAt.Sub(sentAt))
		require.NoError(t, q.Ack(t.Context(), result.msgs[0].ReceiptHandle))
	}

	slices.Sort(latencies)
	t.Logf("latency from Send on one driver to Receive on another: median %s, max %s over %d rounds", latencies[rounds/2], latencies[rounds-1], rounds)

	assert.Less(t, latencies[rounds-1], maxWakeLatency, "a waiting receive should get a message sent through another driver within a few poll intervals")
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
