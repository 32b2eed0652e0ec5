package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

func testDepth(t *testing.T, s *suite) {
	f := s.setup(t)

	depther, ok := f.driver.(drivers.Depther)
	if !ok {
		t.Skip("the driver does not implement drivers.Depther")
	}

	f.send("first")
	f.send("second")
	f.sendMessage(drivers.OutgoingMessage{Body: []byte("delayed"), Delay: time.Minute})
	msg := f.receiveOne(f.queue, request(time.Minute, 0))

	steps := []struct {
		name         string
		action       func()
		wantVisible  int
		wantInFlight int
	}{
		{"one received and one delayed", func() {}, 1, 2},
		{"after ack", func() {
			require.NoError(t, f.queue.Ack(f.ctx, msg.ReceiptHandle))
		}, 1, 1},
	}

	for _, step := range steps {
		step.action()

		visible, inFlight, err := depther.Depth(f.ctx, f.queue.Name())
		require.NoError(t, err, "depth %s", step.name)

		assert.Equal(t, step.wantVisible, visible, "visible messages %s", step.name)
		assert.Equal(t, step.wantInFlight, inFlight, "in-flight messages %s", step.name)
	}

	if s.opts.CreateQueue != nil {
		_, _, err := depther.Depth(f.ctx, newQueueName())
		assert.ErrorIs(t, err, drivers.ErrQueueNotFound, "depth of a queue that was never created")
		return
	}

	visible, inFlight, err := depther.Depth(f.ctx, "never-used")
	require.NoError(t, err, "depth of a queue that was never used")
	assert.Zero(t, visible, "a queue that was never used has no visible messages")
	assert.Zero(t, inFlight, "a queue that was never used has no messages in flight")
}
