package sqs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
)

// withQueueAttributes makes the fake's queue report attributes.
func withQueueAttributes(fake *fakeSQS, attributes map[string]string) {
	fake.handle("GetQueueAttributes", func(map[string]any) fakeResponse {
		return ok(map[string]any{"Attributes": attributes})
	})
}

// acceptSends makes the fake accept every SendMessage. Its response has the
// body's MD5 and no SequenceNumber, as moto's has for FIFO queues.
func acceptSends(fake *fakeSQS) {
	fake.handle("SendMessage", func(request map[string]any) fakeResponse {
		body, _ := request["MessageBody"].(string)
		return ok(map[string]any{"MessageId": "m-1", "MD5OfMessageBody": md5Hex(body)})
	})
}

func TestSendHonoursMaximumMessageSize(t *testing.T) {
	t.Parallel()

	// 1,024 bytes: a 1,000-byte body plus the attribute "tenant" (6),
	// "String" (6) and a 12-byte value.
	attributes := map[string]drivers.Attribute{"tenant": {DataType: "String", StringValue: "acme-limited"}}

	tests := []struct {
		name     string
		body     int
		wantSent bool
	}{
		{"at the limit", 1000, true},
		{"one byte over", 1001, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			withQueueAttributes(fake, map[string]string{"MaximumMessageSize": "1024"})
			acceptSends(fake)

			_, err := fake.driver(t).Send(t.Context(), "emails", drivers.OutgoingMessage{
				Body:           []byte(strings.Repeat("x", tt.body)),
				UserAttributes: attributes,
			})

			if tt.wantSent {
				require.NoError(t, err)
				assert.Len(t, fake.requestsOf("SendMessage"), 1)
				return
			}
			assert.ErrorIs(t, err, sqs.ErrMessageTooLarge)
			assert.ErrorContains(t, err, "1025 bytes", "the error should give the message's size")
			assert.ErrorContains(t, err, "at most 1024", "the error should give the queue's limit")
			assert.Empty(t, fake.requestsOf("SendMessage"), "a message too large should not reach SQS")
		})
	}
}

func TestSendFIFOWithoutSequenceNumber(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	withQueueAttributes(fake, map[string]string{"MaximumMessageSize": "262144", "FifoQueue": "true"})
	acceptSends(fake)

	id, err := fake.driver(t).Send(t.Context(), "emails.fifo", drivers.OutgoingMessage{
		Body: []byte("hello"), GroupID: "orders", DeduplicationID: "1",
	})

	require.NoError(t, err, "a response without SequenceNumber should be accepted")
	assert.Equal(t, "m-1", id)

	requests := fake.requestsOf("SendMessage")
	require.Len(t, requests, 1)
	assert.Equal(t, "orders", requests[0]["MessageGroupId"])
	assert.Equal(t, "1", requests[0]["MessageDeduplicationId"])
}

func TestSendRejectsBeforeAnyRequest(t *testing.T) {
	t.Parallel()

	standard := map[string]string{"MaximumMessageSize": "262144", "FifoQueue": "false"}
	fifo := map[string]string{"MaximumMessageSize": "262144", "FifoQueue": "true"}

	tests := []struct {
		name       string
		attributes map[string]string
		msg        drivers.OutgoingMessage
		wantErr    string
	}{
		{"FIFO without group", fifo, drivers.OutgoingMessage{Body: []byte("x"), DeduplicationID: "1"}, "requires a GroupID"},
		{"FIFO without deduplication id", fifo, drivers.OutgoingMessage{Body: []byte("x"), GroupID: "g"}, "requires a DeduplicationID"},
		{"FIFO with delay", fifo, drivers.OutgoingMessage{Body: []byte("x"), GroupID: "g", DeduplicationID: "1", Delay: time.Second}, "does not accept a delay"},
		{"standard with group", standard, drivers.OutgoingMessage{Body: []byte("x"), GroupID: "g"}, "standard queue"},
		{"empty body", standard, drivers.OutgoingMessage{}, "body is empty"},
		{"binary body", standard, drivers.OutgoingMessage{Body: []byte{0xff, 0xfe}}, "not valid UTF-8"},
		{"control character", standard, drivers.OutgoingMessage{Body: []byte("a\x00b")}, "U+0000"},
		{"delay too long", standard, drivers.OutgoingMessage{Body: []byte("x"), Delay: 16 * time.Minute}, "longer than the SQS maximum"},
		{"unknown data type", standard, drivers.OutgoingMessage{Body: []byte("x"),
			UserAttributes: map[string]drivers.Attribute{"a": {DataType: "Text", StringValue: "v"}}}, `data type "Text"`},
		{"empty attribute value", standard, drivers.OutgoingMessage{Body: []byte("x"),
			UserAttributes: map[string]drivers.Attribute{"a": {DataType: "String"}}}, "empty value"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			withQueueAttributes(fake, tt.attributes)
			acceptSends(fake)

			_, err := fake.driver(t).Send(t.Context(), "emails", tt.msg)

			assert.ErrorContains(t, err, tt.wantErr)
			assert.Empty(t, fake.requestsOf("SendMessage"), "a rejected message should not reach SQS")
		})
	}
}

func TestSendFIFOContentBasedDeduplication(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	withQueueAttributes(fake, map[string]string{"MaximumMessageSize": "262144", "FifoQueue": "true", "ContentBasedDeduplication": "true"})
	acceptSends(fake)

	_, err := fake.driver(t).Send(t.Context(), "emails.fifo", drivers.OutgoingMessage{Body: []byte("hello"), GroupID: "orders"})

	require.NoError(t, err, "a queue with content-based deduplication needs no DeduplicationID")
	requests := fake.requestsOf("SendMessage")
	require.Len(t, requests, 1)
	assert.NotContains(t, requests[0], "MessageDeduplicationId")
}

func TestReceiveRequestShape(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		waitTime    int // Config.WaitTimeSeconds
		req         drivers.ReceiveRequest
		wantMax     float64
		wantTimeout float64
		wantWait    float64
	}{
		{"max capped at 10", 0, drivers.ReceiveRequest{Max: 25, VisibilityTimeout: 30 * time.Second, WaitTime: 5 * time.Second}, 10, 30, 5},
		{"timeouts rounded up", 0, drivers.ReceiveRequest{Max: 3, VisibilityTimeout: 1500 * time.Millisecond, WaitTime: 200 * time.Millisecond}, 3, 2, 1},
		{"wait capped by SQS limit", 0, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute, WaitTime: time.Minute}, 1, 60, 20},
		{"wait capped by config", 4, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute, WaitTime: 10 * time.Second}, 1, 60, 4},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			fake.handle("ReceiveMessage", func(map[string]any) fakeResponse { return ok(map[string]any{}) })
			driver, err := sqs.New(t.Context(), sqs.Config{
				Region: "us-east-1", EndpointURL: fake.server.URL, AccessKeyID: "a", SecretAccessKey: "b", WaitTimeSeconds: tt.waitTime,
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = driver.Close() })
			queue, err := driver.Open(t.Context(), "emails", drivers.OpenOptions{})
			require.NoError(t, err)

			_, err = queue.Receive(t.Context(), tt.req)
			require.NoError(t, err)

			requests := fake.requestsOf("ReceiveMessage")
			require.Len(t, requests, 1)
			request := requests[0]
			assert.Equal(t, tt.wantMax, request["MaxNumberOfMessages"], "MaxNumberOfMessages")
			assert.Equal(t, tt.wantTimeout, request["VisibilityTimeout"], "VisibilityTimeout")
			assert.Equal(t, tt.wantWait, request["WaitTimeSeconds"], "WaitTimeSeconds")
			assert.Equal(t, []any{"All"}, request["MessageAttributeNames"], "MessageAttributeNames")
			assert.ElementsMatch(t, []any{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "MessageGroupId"},
				request["MessageSystemAttributeNames"], "MessageSystemAttributeNames")
		})
	}
}
