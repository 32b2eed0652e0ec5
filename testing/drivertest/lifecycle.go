package drivertest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

func testCloseUnblocksReceive(t *testing.T, s *suite) {
	f := s.setup(t)
	waitTime := f.ticks(100)

	results := f.receiveAsync(f.ctx, f.queue, request(time.Minute, waitTime))

	// Give the Receive time to start waiting. Should it start after Close,
	// it fails with ErrClosed as well.
	f.pause(f.ticks(2))

	closedAt := time.Now()
	require.NoError(t, f.driver.Close(), "close the driver")

	result := f.awaitResult(results, waitTime+f.promptLimit(), "receive waiting when the driver closes")
	assert.ErrorIs(t, result.err, drivers.ErrClosed, "a waiting receive should fail with ErrClosed when the driver closes")
	assert.Empty(t, result.msgs)
	assert.Less(t, result.returnedAt.Sub(closedAt), f.promptLimit(), "Close should end a waiting receive at once")
}

func testCallsAfterClose(t *testing.T, s *suite) {
	f := s.setup(t)
	msg := f.receiveAfterSend("payload")

	require.NoError(t, f.driver.Close(), "close the driver")

	calls := []struct {
		name string
		call func() error
	}{
		{"open", func() error {
			_, err := f.driver.Open(f.ctx, f.queue.Name(), drivers.OpenOptions{})
			return err
		}},
		{"send", func() error {
			_, err := f.driver.Send(f.ctx, f.queue.Name(), drivers.OutgoingMessage{Body: []byte("late")})
			return err
		}},
		{"receive", func() error {
			_, err := f.queue.Receive(f.ctx, request(time.Minute, 0))
			return err
		}},
		{"ack", func() error {
			return f.queue.Ack(f.ctx, msg.ReceiptHandle)
		}},
		{"change visibility", func() error {
			return f.queue.ChangeVisibility(f.ctx, msg.ReceiptHandle, 0)
		}},
		{"dead-letter", func() error {
			return f.queue.DeadLetter(f.ctx, msg, "late")
		}},
		{"close", func() error {
			return f.driver.Close()
		}},
	}

	if depther, ok := f.driver.(drivers.Depther); ok {
		calls = append(calls, struct {
			name string
			call func() error
		}{"depth", func() error {
			_, _, err := depther.Depth(f.ctx, f.queue.Name())
			return err
		}})
	}

	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()

			assert.True(t, errors.Is(err, drivers.ErrClosed), "%s after Close should fail with ErrClosed, got %v", tt.name, err)
		})
	}
}
