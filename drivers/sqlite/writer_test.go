package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// setupWriter opens a Driver on a new database and returns it and its
// writer. The Driver is closed when the test ends.
func setupWriter(t *testing.T) (*Driver, *writer) {
	t.Helper()

	d, err := Open(filepath.Join(t.TempDir(), "vega.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })

	return d, d.writer
}

// holdLead runs an operation that blocks inside its transaction until the
// returned function is called, so that operations submitted meanwhile queue
// up behind it. It waits until the operation runs. The operation may run
// again when another one in its transaction fails, and then it does not
// block.
func holdLead(t *testing.T, w *writer) (release func()) {
	t.Helper()

	running := make(chan struct{})
	unblock := make(chan struct{})
	done := make(chan error, 1)
	var once sync.Once

	go func() {
		done <- w.do(context.Background(), func(*writeStatements) (bool, error) {
			once.Do(func() {
				close(running)
				<-unblock
			})
			return false, nil
		})
	}()

	<-running

	return func() {
		close(unblock)
		require.NoError(t, <-done, "the operation that held the lead failed")
	}
}

// waitQueued waits until n operations wait for a leader.
func waitQueued(t *testing.T, w *writer, n int) {
	t.Helper()

	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()

		return len(w.queued) >= n
	}, 5*time.Second, time.Millisecond, "%d operations should queue behind the leader", n)
}

// insertOperation returns an applyFunc that inserts a message with id.
func insertOperation(id string) applyFunc {
	return func(s *writeStatements) (bool, error) {
		now := time.Now().UnixMilli()
		_, err := s.insert.Exec(
			sql.Named("id", id),
			sql.Named("queue", "emails"),
			sql.Named("body", []byte("payload")),
			sql.Named("attributes", nil),
			sql.Named("sent_at", now),
			sql.Named("visible_at", now),
		)

		return err == nil, err
	}
}

func TestWriterCommitsQueuedOperationsTogether(t *testing.T) {
	d, w := setupWriter(t)
	release := holdLead(t, w)

	const callers = 20
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			errs <- w.doStatement(context.Background(), insertOperation("message-"+strconv.Itoa(i)))
		}()
	}
	waitQueued(t, w, callers)

	commitsBefore := w.commits.Load()
	release()

	for range callers {
		assert.NoError(t, <-errs)
	}
	assert.Equal(t, int64(1), w.commits.Load()-commitsBefore, "the operations queued behind one transaction should commit in one transaction")

	visible, _, err := d.Depth(t.Context(), "emails")
	require.NoError(t, err)
	assert.Equal(t, callers, visible, "every queued insert should be committed")
}

func TestWriterFailedOperationSparesOthers(t *testing.T) {
	d, w := setupWriter(t)
	release := holdLead(t, w)

	errBroken := errors.New("broken operation")
	results := make(map[string]chan error)
	operations := map[string]applyFunc{
		"first":  insertOperation("first"),
		"broken": func(*writeStatements) (bool, error) { return false, errBroken },
		"last":   insertOperation("last"),
	}

	// Each caller queues before the next, so that the broken operation sits
	// between the other two in one transaction.
	for i, name := range []string{"first", "broken", "last"} {
		results[name] = make(chan error, 1)
		go func() { results[name] <- w.do(context.Background(), operations[name]) }()
		waitQueued(t, w, i+1)
	}

	release()

	assert.NoError(t, <-results["first"], "an operation before the failed one should commit")
	assert.ErrorIs(t, <-results["broken"], errBroken, "the failed operation should get its own error")
	assert.NoError(t, <-results["last"], "an operation after the failed one should commit")

	visible, _, err := d.Depth(t.Context(), "emails")
	require.NoError(t, err)
	assert.Equal(t, 2, visible, "both inserts should be committed once")
}

func TestWriterAbandonedOperationNeverRuns(t *testing.T) {
	_, w := setupWriter(t)
	release := holdLead(t, w)

	ctx, cancel := context.WithCancel(t.Context())
	var ran bool
	result := make(chan error, 1)
	go func() {
		result <- w.do(ctx, func(*writeStatements) (bool, error) {
			ran = true
			return false, nil
		})
	}()
	waitQueued(t, w, 1)

	cancel()
	err := <-result
	release()

	assert.ErrorIs(t, err, context.Canceled, "the caller should get the context's error")

	// A later operation runs after every earlier one, so ran is final.
	require.NoError(t, w.do(t.Context(), func(*writeStatements) (bool, error) { return false, nil }))
	assert.False(t, ran, "an operation abandoned before it started should never run")
}

func TestWriterQueueNeverWaitsWithoutLeader(t *testing.T) {
	_, w := setupWriter(t)

	// Callers that come and go while others lead must always find a
	// leader, or some of them would wait forever.
	const callers, rounds = 8, 200
	var wg sync.WaitGroup
	for caller := range callers {
		wg.Go(func() {
			for round := range rounds {
				ctx, cancel := context.WithTimeout(t.Context(), time.Duration(round%3)*time.Millisecond)
				err := w.doStatement(ctx, insertOperation("message-"+strconv.Itoa(caller)+"-"+strconv.Itoa(round)))
				cancel()

				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("caller %d, round %d: %v", caller, round, err)
					return
				}
			}
		})
	}

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()

	select {
	case <-done:
	case <-time.After(30 * time.Second):
		require.FailNow(t, "callers still wait after 30s, so an operation was left without a leader")
	}
}

func TestReceiveWakePassesToNextReceive(t *testing.T) {
	d, _ := setupWriter(t)
	w := d.watcher

	first, err := w.subscribe(t.Context(), "emails")
	require.NoError(t, err)
	second, err := w.subscribe(t.Context(), "emails")
	require.NoError(t, err)
	defer second.cancel(false)

	w.notifyOne("emails")

	assert.Len(t, first.wake, 1, "the first waiting Receive should be woken")
	assert.Empty(t, second.wake, "one message should wake one Receive")

	// The woken Receive leaves without a message, for example because its
	// context ended, so the wake must reach the other one.
	first.cancel(false)

	assert.Len(t, second.wake, 1, "the wake should pass to the next waiting Receive")
}

func TestAckBatchReportsEachReceipt(t *testing.T) {
	d, _ := setupWriter(t)
	ctx := t.Context()

	q, err := d.Open(ctx, "emails", drivers.OpenOptions{})
	require.NoError(t, err)

	for range 3 {
		_, err := d.Send(ctx, "emails", drivers.OutgoingMessage{Body: []byte("payload")})
		require.NoError(t, err)
	}

	msgs, err := q.Receive(ctx, drivers.ReceiveRequest{Max: 3, VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	require.Len(t, msgs, 3)

	acker, ok := q.(drivers.BatchAcker)
	require.True(t, ok, "the sqlite queue should implement drivers.BatchAcker")

	staleReceipt := msgs[0].ID + ".0123456789abcdef"
	errs := acker.AckBatch(ctx, []string{
		msgs[0].ReceiptHandle,
		"malformed",
		msgs[1].ReceiptHandle,
		staleReceipt,
		msgs[0].ReceiptHandle,
		msgs[2].ReceiptHandle,
	})
	require.Len(t, errs, 6, "AckBatch should return one error per receipt")

	assert.NoError(t, errs[0], "a current receipt should be acked")
	assert.ErrorIs(t, errs[1], drivers.ErrInvalidReceipt, "a malformed receipt should be rejected")
	assert.NoError(t, errs[2], "a current receipt should be acked")
	assert.ErrorIs(t, errs[3], drivers.ErrInvalidReceipt, "a receipt with a wrong token should be rejected")
	assert.ErrorIs(t, errs[4], drivers.ErrInvalidReceipt, "a receipt acked earlier in the batch should be rejected")
	assert.NoError(t, errs[5], "a current receipt should be acked")

	visible, inFlight, err := d.Depth(ctx, "emails")
	require.NoError(t, err)
	assert.Zero(t, visible+inFlight, "every acked message should be gone")
}

func TestAckBatchAfterClose(t *testing.T) {
	d, _ := setupWriter(t)

	q, err := d.Open(t.Context(), "emails", drivers.OpenOptions{})
	require.NoError(t, err)
	require.NoError(t, d.Close())

	errs := q.(drivers.BatchAcker).AckBatch(t.Context(), []string{"a.b", "c.d"})

	require.Len(t, errs, 2)
	for i, err := range errs {
		assert.ErrorIs(t, err, drivers.ErrClosed, "receipt %d", i)
	}
}
