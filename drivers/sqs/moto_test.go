package sqs_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
)

// lockedBuffer is a log output that tests read while the driver writes.
type lockedBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.String()
}

// withLogger makes the driver log to output.
func withLogger(output *lockedBuffer) func(*sqs.Config) {
	return func(cfg *sqs.Config) {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: output, Level: hclog.Debug})
	}
}

// receiveOne receives one message from queue, waiting up to 5 seconds.
func receiveOne(t *testing.T, queue drivers.Queue, visibilityTimeout time.Duration) *drivers.Message {
	t.Helper()

	msgs, err := queue.Receive(t.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: visibilityTimeout, WaitTime: 5 * time.Second})
	require.NoError(t, err, "receive from queue %q", queue.Name())
	require.Len(t, msgs, 1, "receive from queue %q", queue.Name())

	return msgs[0]
}

func TestReceiveKeepsAttributeTypes(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("attributes")
	moto.CreateQueue(t, name, nil)
	driver := newDriver(t)
	queue, err := driver.Open(t.Context(), name, drivers.OpenOptions{})
	require.NoError(t, err)

	attributes := map[string]drivers.Attribute{
		"tenant":   {DataType: "String", StringValue: "acme"},
		"retries":  {DataType: "Number", StringValue: "3"},
		"count":    {DataType: "Number.int", StringValue: "42"},
		"digest":   {DataType: "Binary", BinaryValue: []byte{0, 1, 254, 255}},
		"language": {DataType: "String.iso639", StringValue: "en"},
	}
	id, err := driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte(`{"to":"a@example.com"}`), UserAttributes: attributes})
	require.NoError(t, err)

	msg := receiveOne(t, queue, time.Minute)

	assert.Equal(t, id, msg.ID)
	assert.Equal(t, attributes, msg.UserAttributes, "user attributes should keep their types and values")
	assert.Equal(t, 1, msg.ReceiveCount)
	assert.WithinDuration(t, time.Now(), msg.SentAt, time.Minute)
	assert.NotEmpty(t, msg.Attributes["ApproximateFirstReceiveTimestamp"], "system attributes should be in Attributes")
	assert.Empty(t, msg.GroupID, "a standard queue has no groups")
}

func TestMaximumMessageSizeOnMoto(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("small")
	moto.CreateQueue(t, name, map[string]string{"MaximumMessageSize": "1024"})
	driver := newDriver(t)

	_, err := driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte(strings.Repeat("x", 1024))})
	require.NoError(t, err, "a message of exactly MaximumMessageSize should be sent")

	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte(strings.Repeat("x", 1025))})
	assert.ErrorIs(t, err, sqs.ErrMessageTooLarge)
}

func TestOpenByQueueURL(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("by-url")
	url := moto.CreateQueue(t, name, nil)
	driver := newDriver(t)

	queue, err := driver.Open(t.Context(), url, drivers.OpenOptions{})
	require.NoError(t, err)
	_, err = driver.Send(t.Context(), url, drivers.OutgoingMessage{Body: []byte("hello")})
	require.NoError(t, err)

	msg := receiveOne(t, queue, time.Minute)
	assert.Equal(t, url, msg.Queue)
	require.NoError(t, queue.Ack(t.Context(), msg.ReceiptHandle))
}

func TestDeadLetterWithoutAnyDeadLetterQueue(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("no-dlq")
	moto.CreateQueue(t, name, nil)
	logs := &lockedBuffer{}
	driver := newDriver(t, withLogger(logs))

	queue, err := driver.Open(t.Context(), name, drivers.OpenOptions{})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "[WARN]", "Open should warn")
	assert.Contains(t, logs.String(), "failed messages have nowhere to go", "the warning should say why")

	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte("poison")})
	require.NoError(t, err)
	msg := receiveOne(t, queue, time.Minute)

	err = queue.DeadLetter(t.Context(), msg, "handler failed")

	assert.ErrorIs(t, err, sqs.ErrNoDeadLetterQueue)
	require.NoError(t, queue.ChangeVisibility(t.Context(), msg.ReceiptHandle, 0), "the message should still be in flight")
	again := receiveOne(t, queue, time.Minute)
	assert.Equal(t, msg.ID, again.ID, "the message should stay in its queue")
}

func TestDeadLetterByRedrivePolicy(t *testing.T) {
	t.Parallel()

	deadLetterName := mototest.QueueName("redrive-dlq")
	deadLetterURL := moto.CreateQueue(t, deadLetterName, nil)
	attributes, err := moto.Client().GetQueueAttributes(t.Context(), getQueueArn(deadLetterURL))
	require.NoError(t, err)
	arn := attributes.Attributes["QueueArn"]

	name := mototest.QueueName("redrive")
	moto.CreateQueue(t, name, map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"1"}`, arn),
	})
	logs := &lockedBuffer{}
	driver := newDriver(t, withLogger(logs))

	queue, err := driver.Open(t.Context(), name, drivers.OpenOptions{})
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), "[WARN]", "a queue with a redrive policy needs no warning")

	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte("poison")})
	require.NoError(t, err)
	msg := receiveOne(t, queue, time.Minute)

	require.NoError(t, queue.DeadLetter(t.Context(), msg, "handler failed"), "dead-letter by redrive policy")

	// The released message has been received maxReceiveCount times, so
	// the next receive makes SQS move it.
	msgs, err := queue.Receive(t.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, msgs, "the message should have moved to the dead-letter queue")

	deadLetters, err := driver.Open(t.Context(), deadLetterName, drivers.OpenOptions{})
	require.NoError(t, err)
	dead := receiveOne(t, deadLetters, time.Minute)
	assert.Equal(t, msg.ID, dead.ID, "SQS moves the original message")
}

func TestDeadLetterKeepsSourceWhenSendFails(t *testing.T) {
	t.Parallel()

	deadLetterName := mototest.QueueName("tiny-dlq")
	moto.CreateQueue(t, deadLetterName, map[string]string{"MaximumMessageSize": "1024"})
	name := mototest.QueueName("source")
	moto.CreateQueue(t, name, nil)
	driver := newDriver(t)

	queue, err := driver.Open(t.Context(), name, drivers.OpenOptions{DeadLetterQueue: deadLetterName})
	require.NoError(t, err)
	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte(strings.Repeat("x", 1000))})
	require.NoError(t, err)
	msg := receiveOne(t, queue, time.Minute)

	err = queue.DeadLetter(t.Context(), msg, strings.Repeat("reason ", 10))

	assert.ErrorIs(t, err, sqs.ErrMessageTooLarge, "the copy with the reason does not fit the dead-letter queue")
	require.NoError(t, queue.ChangeVisibility(t.Context(), msg.ReceiptHandle, 0), "the source message should still be in flight")
	again := receiveOne(t, queue, time.Minute)
	assert.Equal(t, msg.ID, again.ID, "the source message should be kept")
}

func TestDepthCountsDelayedAsInFlight(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("depth")
	moto.CreateQueue(t, name, nil)
	driver := newDriver(t)

	_, err := driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte("now")})
	require.NoError(t, err)
	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte("later"), Delay: time.Minute})
	require.NoError(t, err)

	visible, inFlight, err := driver.Depth(t.Context(), name)

	require.NoError(t, err)
	assert.Equal(t, 1, visible, "visible messages")
	assert.Equal(t, 1, inFlight, "delayed messages count as in flight")
}

// getQueueArn returns the request for a queue's ARN.
func getQueueArn(url string) *awssqs.GetQueueAttributesInput {
	return &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}}
}

func TestReceiveWithZeroVisibilityTimeout(t *testing.T) {
	t.Parallel()

	name := mototest.QueueName("zero-visibility")
	moto.CreateQueue(t, name, map[string]string{"VisibilityTimeout": "600"})
	driver := newDriver(t)
	queue, err := driver.Open(t.Context(), name, drivers.OpenOptions{})
	require.NoError(t, err)
	_, err = driver.Send(t.Context(), name, drivers.OutgoingMessage{Body: []byte("peek")})
	require.NoError(t, err)

	first := receiveOne(t, queue, 0)
	again := receiveOne(t, queue, time.Minute)

	assert.Equal(t, first.ID, again.ID, "a message received with zero visibility timeout should be visible at once, not after the queue's 600 seconds")
	assert.Equal(t, 2, again.ReceiveCount)
}
