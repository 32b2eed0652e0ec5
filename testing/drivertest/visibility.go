package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// clockTolerance allows for backends that store times in whole
// milliseconds, which can make a message visible up to a millisecond early.
const clockTolerance = 2 * time.Millisecond

func testVisibilityExpiry(t *testing.T, s *suite) {
	f := s.setup(t)
	id := f.send("payload")

	beforeFirst := time.Now()
	first := f.receiveOne(f.queue, request(f.ticks(2), 0))
	require.Equal(t, id, first.ID)

	f.requireEmpty(f.queue, "a received message should stay hidden during its visibility timeout")

	second := f.receiveOne(f.queue, request(time.Minute, f.ticks(40)))
	elapsed := time.Since(beforeFirst)

	assert.Equal(t, id, second.ID, "the same message should be delivered again")
	assert.Equal(t, 2, second.ReceiveCount, "the second receive should count 2")
	assert.Equal(t, "2", second.Attributes[attributeReceiveCount])
	assert.NotEqual(t, first.ReceiptHandle, second.ReceiptHandle, "each receive should get a new receipt handle")
	assert.GreaterOrEqual(t, elapsed, f.ticks(2)-clockTolerance, "the message came back before its visibility timeout of %s", f.ticks(2))
	assert.Less(t, elapsed, f.promptLimit(), "a waiting receive should get the message soon after its visibility lapses, not at the end of its wait time")
}

func testStaleReceipt(t *testing.T, s *suite) {
	operations := []struct {
		name string
		call func(f *fixture, stale *drivers.Message) error
	}{
		{"ack", func(f *fixture, stale *drivers.Message) error {
			return f.queue.Ack(f.ctx, stale.ReceiptHandle)
		}},
		{"change visibility", func(f *fixture, stale *drivers.Message) error {
			return f.queue.ChangeVisibility(f.ctx, stale.ReceiptHandle, time.Minute)
		}},
		{"dead-letter", func(f *fixture, stale *drivers.Message) error {
			return f.queue.DeadLetter(f.ctx, stale, "stale receipt")
		}},
	}

	staleness := []struct {
		name string
		// onceValid is true for handles that were valid once, which a
		// backend with Options.StaleReceiptsAccepted may accept.
		onceValid bool
		// makeStale receives a message and returns it with a receipt
		// handle that is no longer current.
		makeStale func(f *fixture) *drivers.Message
	}{
		{"after redelivery", true, func(f *fixture) *drivers.Message {
			first := f.receiveAfterSendWithTimeout("payload", f.ticks(1))
			second := f.receiveOne(f.queue, request(time.Minute, f.promptLimit()))
			require.Equal(f.t, first.ID, second.ID, "the message should be delivered again once its visibility lapses")

			return first
		}},
		{"after ack", true, func(f *fixture) *drivers.Message {
			msg := f.receiveAfterSend("payload")
			require.NoError(f.t, f.queue.Ack(f.ctx, msg.ReceiptHandle))

			return msg
		}},
		{"after dead-letter", true, func(f *fixture) *drivers.Message {
			msg := f.receiveAfterSend("payload")
			require.NoError(f.t, f.queue.DeadLetter(f.ctx, msg, "test"))

			return msg
		}},
		{"malformed", false, func(f *fixture) *drivers.Message {
			return &drivers.Message{ID: "missing", Queue: f.queue.Name(), ReceiptHandle: "not-a-receipt-handle"}
		}},
		{"from another queue", false, func(f *fixture) *drivers.Message {
			other := f.open(f.queue.Name()+"-other", drivers.OpenOptions{})
			_, err := f.driver.Send(f.ctx, other.Name(), drivers.OutgoingMessage{Body: []byte("elsewhere")})
			require.NoError(f.t, err)

			return f.receiveOne(other, request(time.Minute, 0))
		}},
	}

	for _, op := range operations {
		for _, st := range staleness {
			t.Run(op.name+" "+st.name, func(t *testing.T) {
				f := s.setup(t)
				stale := st.makeStale(f)

				err := op.call(f, stale)

				if st.onceValid {
					f.checkStaleCall(func() error { return err }, op.name+" with a receipt handle that is no longer current")
					return
				}
				assert.ErrorIs(t, err, drivers.ErrInvalidReceipt, "%s with a receipt handle that is no longer current should be rejected", op.name)
			})
		}
	}
}

func testReleaseNow(t *testing.T, s *suite) {
	f := s.setup(t)
	first := f.receiveAfterSend("payload")

	require.NoError(t, f.queue.ChangeVisibility(f.ctx, first.ReceiptHandle, 0), "release the message")

	second := f.receiveOne(f.queue, request(time.Minute, 0))
	assert.Equal(t, first.ID, second.ID, "a released message should be visible at once")
	assert.Equal(t, 2, second.ReceiveCount)
	assert.NotEqual(t, first.ReceiptHandle, second.ReceiptHandle)
}

func testReleaseAfterDelay(t *testing.T, s *suite) {
	f := s.setup(t)
	first := f.receiveAfterSend("payload")

	releasedAt := time.Now()
	require.NoError(t, f.queue.ChangeVisibility(f.ctx, first.ReceiptHandle, f.ticks(3)), "delay the redelivery")

	f.requireEmpty(f.queue, "a message released with a delay should stay hidden until the delay passes")

	second := f.receiveOne(f.queue, request(time.Minute, f.ticks(40)))
	elapsed := time.Since(releasedAt)

	assert.Equal(t, first.ID, second.ID)
	assert.Equal(t, 2, second.ReceiveCount)
	assert.GreaterOrEqual(t, elapsed, f.ticks(3)-clockTolerance, "the message came back before its delay of %s", f.ticks(3))
	assert.Less(t, elapsed, f.promptLimit(), "a waiting receive should get the message soon after its delay")
}

func testExtendVisibility(t *testing.T, s *suite) {
	f := s.setup(t)
	msg := f.receiveAfterSendWithTimeout("payload", f.ticks(2))

	require.NoError(t, f.queue.ChangeVisibility(f.ctx, msg.ReceiptHandle, f.ticks(20)), "extend the visibility timeout")

	f.pause(f.ticks(4))
	f.requireEmpty(f.queue, "an extended message should stay hidden past its original visibility timeout")

	assert.NoError(t, f.queue.Ack(f.ctx, msg.ReceiptHandle), "the receipt handle should stay current after an extension")
}

func testDelayedSend(t *testing.T, s *suite) {
	f := s.setup(t)

	sentAt := time.Now()
	id := f.sendMessage(drivers.OutgoingMessage{Body: []byte("later"), Delay: f.ticks(3)})

	f.requireEmpty(f.queue, "a delayed message should stay hidden until its delay passes")

	msg := f.receiveOne(f.queue, request(time.Minute, f.ticks(40)))
	elapsed := time.Since(sentAt)

	assert.Equal(t, id, msg.ID)
	assert.Equal(t, 1, msg.ReceiveCount, "a delay is not a receive")
	assert.GreaterOrEqual(t, elapsed, f.ticks(3)-clockTolerance, "the message arrived before its delay of %s", f.ticks(3))
	assert.Less(t, elapsed, f.promptLimit(), "a waiting receive should get the message soon after its delay")
}

// checkStaleCall checks the error of call, made with a receipt handle that
// is no longer current: drivers.ErrInvalidReceipt, or with
// Options.StaleReceiptsAccepted also nil, which the test then logs.
// description names the call for messages.
func (f *fixture) checkStaleCall(call func() error, description string) {
	f.t.Helper()

	err := call()
	if f.opts.StaleReceiptsAccepted && err == nil {
		f.t.Logf("tolerated: %s succeeded, as Options.StaleReceiptsAccepted allows", description)
		return
	}
	assert.ErrorIs(f.t, err, drivers.ErrInvalidReceipt, "%s should be rejected", description)
}

// receiveAfterSendWithTimeout sends body and receives it with the given
// visibility timeout.
func (f *fixture) receiveAfterSendWithTimeout(body string, visibilityTimeout time.Duration) *drivers.Message {
	f.t.Helper()

	id := f.send(body)
	msg := f.receiveOne(f.queue, request(visibilityTimeout, 0))
	require.Equal(f.t, id, msg.ID, "received message should be the one just sent")

	return msg
}
