package drivertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testLongPollWakesOnSend(t *testing.T, s *suite) {
	f := s.setup(t)
	waitTime := f.ticks(100)

	results := f.receiveAsync(f.ctx, f.queue, request(time.Minute, waitTime))

	// Give the Receive time to start waiting. Should it start later, it
	// finds the message at once and the checks below still hold.
	f.pause(f.ticks(2))

	sentAt := time.Now()
	id := f.send("wake up")

	result := f.awaitResult(results, waitTime+f.promptLimit(), "receive waiting for a sent message")
	require.NoError(t, result.err)
	require.Len(t, result.msgs, 1, "the waiting receive should return the sent message")

	assert.Equal(t, id, result.msgs[0].ID)
	assert.Less(t, result.returnedAt.Sub(sentAt), f.promptLimit(), "a waiting receive should return soon after a send, well before its wait time of %s", waitTime)
}

func testLongPollWakesOnRelease(t *testing.T, s *suite) {
	f := s.setup(t)
	msg := f.receiveAfterSend("payload")
	waitTime := f.ticks(100)

	results := f.receiveAsync(f.ctx, f.queue, request(time.Minute, waitTime))
	f.pause(f.ticks(2))

	releasedAt := time.Now()
	require.NoError(t, f.queue.ChangeVisibility(f.ctx, msg.ReceiptHandle, 0), "release the message")

	result := f.awaitResult(results, waitTime+f.promptLimit(), "receive waiting for a released message")
	require.NoError(t, result.err)
	require.Len(t, result.msgs, 1, "the waiting receive should return the released message")

	assert.Equal(t, msg.ID, result.msgs[0].ID)
	assert.Less(t, result.returnedAt.Sub(releasedAt), f.promptLimit(), "a waiting receive should return soon after a release, well before its wait time of %s", waitTime)
}

func testLongPollTimesOut(t *testing.T, s *suite) {
	f := s.setup(t)
	waitTime := f.ticks(2)

	start := time.Now()
	msgs, err := f.queue.Receive(f.ctx, request(time.Minute, waitTime))
	elapsed := time.Since(start)

	require.NoError(t, err, "a receive that finds nothing should not fail")
	assert.Empty(t, msgs)
	assert.GreaterOrEqual(t, elapsed, waitTime, "a receive on an empty queue should wait its full wait time")
	assert.Less(t, elapsed, waitTime+f.promptLimit(), "a receive on an empty queue should return soon after its wait time")
}

func testReceiveContextEnds(t *testing.T, s *suite) {
	tests := []struct {
		name string
		// newContext returns the context for a Receive that would
		// otherwise wait 100 ticks.
		newContext func(f *fixture) (context.Context, context.CancelFunc)
		wantErr    error
	}{
		{"cancelled while waiting", func(f *fixture) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(f.ctx)
			timer := time.AfterFunc(f.ticks(2), cancel)

			return ctx, func() { timer.Stop(); cancel() }
		}, context.Canceled},
		{"deadline while waiting", func(f *fixture) (context.Context, context.CancelFunc) {
			return context.WithTimeout(f.ctx, f.ticks(2))
		}, context.DeadlineExceeded},
		{"cancelled before the call", func(f *fixture) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(f.ctx)
			cancel()

			return ctx, cancel
		}, context.Canceled},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := s.setup(t)
			ctx, cancel := tt.newContext(f)
			defer cancel()

			start := time.Now()
			msgs, err := f.queue.Receive(ctx, request(time.Minute, f.ticks(100)))
			elapsed := time.Since(start)

			assert.ErrorIs(t, err, tt.wantErr)
			assert.Empty(t, msgs)
			assert.Less(t, elapsed, f.promptLimit(), "Receive should return soon after its context ends, not at the end of its wait time")
		})
	}
}
