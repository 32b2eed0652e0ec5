package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// skipUnlessFIFO skips the test when the backend has no FIFO queues.
func skipUnlessFIFO(t *testing.T, s *suite) {
	t.Helper()

	if !s.opts.FIFO {
		t.Skip("skipped: the backend has no FIFO queues (Options.FIFO is false)")
	}
}

// setupFIFO returns a fixture whose queue is a FIFO queue.
func (s *suite) setupFIFO(t *testing.T) *fixture {
	t.Helper()

	return s.setupQueue(t, QueueSpec{Name: newFIFOQueueName(), FIFO: true})
}

func testFIFORequiresGroup(t *testing.T, s *suite) {
	skipUnlessFIFO(t, s)
	f := s.setupFIFO(t)

	_, err := f.driver.Send(f.ctx, f.queue.Name(), drivers.OutgoingMessage{Body: []byte("no group"), DeduplicationID: "1"})

	assert.Error(t, err, "a FIFO queue should reject a message without GroupID")
	assert.NotErrorIs(t, err, drivers.ErrClosed, "a missing GroupID is not a closed driver")
}

func testFIFOGroupOrder(t *testing.T, s *suite) {
	skipUnlessFIFO(t, s)
	f := s.setupFIFO(t)

	first := f.sendMessage(drivers.OutgoingMessage{Body: []byte("first"), GroupID: "orders", DeduplicationID: "1"})
	second := f.sendMessage(drivers.OutgoingMessage{Body: []byte("second"), GroupID: "orders", DeduplicationID: "2"})

	msg := f.receiveOne(f.queue, request(time.Minute, 0))
	assert.Equal(t, first, msg.ID, "the group's first message should come first")
	assert.Equal(t, "orders", msg.GroupID)

	f.requireEmpty(f.queue, "no message of a group should be delivered while another of the group is in flight")

	require.NoError(t, f.queue.Ack(f.ctx, msg.ReceiptHandle), "ack the first message")

	next := f.receiveOne(f.queue, request(time.Minute, f.promptLimit()))
	assert.Equal(t, second, next.ID, "the group's second message should follow once the first is acked")
	assert.Equal(t, "orders", next.GroupID)
}

func testFIFODeduplication(t *testing.T, s *suite) {
	skipUnlessFIFO(t, s)
	f := s.setupFIFO(t)

	duplicate := drivers.OutgoingMessage{Body: []byte("once"), GroupID: "orders", DeduplicationID: "same"}
	f.sendMessage(duplicate)
	f.sendMessage(duplicate)

	msgs := f.receive(f.queue, drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute})

	assert.Len(t, msgs, 1, "two sends with one DeduplicationID should enqueue one message")
}

func testFIFODeadLetter(t *testing.T, s *suite) {
	skipUnlessFIFO(t, s)
	f := s.setupFIFO(t)
	deadLetterQueue := deadLetterQueueName(f.queue.Name())
	source := f.open(f.queue.Name(), drivers.OpenOptions{DeadLetterQueue: deadLetterQueue})

	f.sendMessage(drivers.OutgoingMessage{Body: []byte("poison"), GroupID: "orders", DeduplicationID: "1"})
	msg := f.receiveOne(source, request(time.Minute, 0))

	require.NoError(t, source.DeadLetter(f.ctx, msg, "handler failed"), "dead-letter the message")

	dead := f.receiveOne(f.open(deadLetterQueue, drivers.OpenOptions{}), request(time.Minute, f.promptLimit()))
	assert.Equal(t, []byte("poison"), dead.Body, "the body should be kept")
	assert.Equal(t, "orders", dead.GroupID, "the message group should be kept")
	assert.Equal(t, "handler failed", dead.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue, "the reason should be recorded")
}
