package drivertest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// Names of backend attributes that every driver sets, as in Amazon SQS.
const (
	attributeSentTimestamp = "SentTimestamp"
	attributeReceiveCount  = "ApproximateReceiveCount"
)

func testRoundTrip(t *testing.T, s *suite) {
	f := s.setup(t)

	userAttributes := map[string]drivers.Attribute{
		"tenant":  {DataType: "String", StringValue: "acme"},
		"retries": {DataType: "Number", StringValue: "3"},
		"digest":  {DataType: "Binary", BinaryValue: []byte{0x00, 0xff, 0x10}},
	}

	beforeSend := time.Now()
	id := f.sendMessage(drivers.OutgoingMessage{Body: []byte("hello"), UserAttributes: userAttributes})
	afterSend := time.Now()

	msg := f.receiveOne(f.queue, request(time.Minute, 0))

	assert.Equal(t, id, msg.ID, "received message should have the id that Send returned")
	assert.Equal(t, f.queue.Name(), msg.Queue)
	assert.Equal(t, []byte("hello"), msg.Body)
	assert.Equal(t, userAttributes, msg.UserAttributes, "user attributes should arrive unchanged")
	assert.Equal(t, 1, msg.ReceiveCount, "the first receive should count 1")
	assert.NotEmpty(t, msg.ReceiptHandle)
	assert.WithinRange(t, msg.SentAt, beforeSend.Add(-time.Millisecond), afterSend.Add(time.Millisecond), "SentAt should be the time of Send")

	assert.Equal(t, "1", msg.Attributes[attributeReceiveCount])
	sentMillis, err := strconv.ParseInt(msg.Attributes[attributeSentTimestamp], 10, 64)
	if assert.NoError(t, err, "attribute %s should be Unix milliseconds", attributeSentTimestamp) {
		assert.Equal(t, msg.SentAt.UnixMilli(), sentMillis, "attribute %s should match SentAt", attributeSentTimestamp)
	}

	require.NoError(t, f.queue.Ack(f.ctx, msg.ReceiptHandle), "ack the received message")

	f.requireEmpty(f.queue, "an acked message should be gone")
	f.checkStaleCall(func() error { return f.queue.Ack(f.ctx, msg.ReceiptHandle) }, "a second ack of the same receipt")
}

func testReceiveMax(t *testing.T, s *suite) {
	tests := []struct {
		name              string
		sent              int
		max               int
		visibilityTimeout time.Duration
	}{
		{"fewer than sent", 5, 3, time.Minute},
		{"one", 5, 1, time.Minute},
		{"more than sent", 3, 10, time.Minute},
		{"zero visibility timeout", 3, 10, 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := s.setup(t)

			for i := range tt.sent {
				f.send("message " + strconv.Itoa(i))
			}

			msgs := f.receive(f.queue, drivers.ReceiveRequest{Max: tt.max, VisibilityTimeout: tt.visibilityTimeout})

			assert.NotEmpty(t, msgs, "a receive from a queue with visible messages should return some")
			assert.LessOrEqual(t, len(msgs), tt.max, "a receive should never return more than Max messages")

			ids := make(map[string]bool, len(msgs))
			for _, msg := range msgs {
				assert.False(t, ids[msg.ID], "message %s returned twice by one receive", msg.ID)
				ids[msg.ID] = true
			}
		})
	}
}

func testInvalidArguments(t *testing.T, s *suite) {
	f := s.setup(t)
	msg := f.receiveAfterSend("payload")

	tests := []struct {
		name string
		call func() error
	}{
		{"receive with max zero", func() error {
			_, err := f.queue.Receive(f.ctx, drivers.ReceiveRequest{Max: 0, VisibilityTimeout: time.Second})
			return err
		}},
		{"receive with negative visibility timeout", func() error {
			_, err := f.queue.Receive(f.ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: -time.Second})
			return err
		}},
		{"receive with negative wait time", func() error {
			_, err := f.queue.Receive(f.ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Second, WaitTime: -time.Second})
			return err
		}},
		{"send with negative delay", func() error {
			_, err := f.driver.Send(f.ctx, f.queue.Name(), drivers.OutgoingMessage{Body: []byte("x"), Delay: -time.Second})
			return err
		}},
		{"send to empty queue name", func() error {
			_, err := f.driver.Send(f.ctx, "", drivers.OutgoingMessage{Body: []byte("x")})
			return err
		}},
		{"open empty queue name", func() error {
			_, err := f.driver.Open(f.ctx, "", drivers.OpenOptions{})
			return err
		}},
		{"change visibility to negative timeout", func() error {
			return f.queue.ChangeVisibility(f.ctx, msg.ReceiptHandle, -time.Second)
		}},
		{"ack with malformed receipt", func() error {
			return f.queue.Ack(f.ctx, "not a receipt handle")
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()

			assert.Error(t, err, "the call should reject its arguments")
			assert.NotErrorIs(t, err, drivers.ErrClosed, "an invalid argument is not a closed driver")
		})
	}

	require.NoError(t, f.queue.Ack(f.ctx, msg.ReceiptHandle), "the rejected calls should leave the received message ackable")
}

// receiveAfterSend sends body to the fixture's queue and receives it with a
// visibility timeout that does not lapse during the test.
func (f *fixture) receiveAfterSend(body string) *drivers.Message {
	f.t.Helper()

	id := f.send(body)
	msg := f.receiveOne(f.queue, request(time.Minute, 0))
	require.Equal(f.t, id, msg.ID, "received message should be the one just sent")

	return msg
}
