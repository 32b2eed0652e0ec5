package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

func TestDriverKeepsMessagesAcrossReopen(t *testing.T) {
	ctx := t.Context()
	path := newDatabasePath(t)
	const visibilityTimeout = 300 * time.Millisecond

	before := openDriver(t, path)
	beforeQueue := openQueue(t, before, "emails")

	inFlightID, err := before.Send(ctx, "emails", drivers.OutgoingMessage{Body: []byte("in flight")})
	require.NoError(t, err)

	receivedAt := time.Now()
	msgs, err := beforeQueue.Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: visibilityTimeout})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "receive the first message before the reopen")
	inFlight := msgs[0]
	require.Equal(t, inFlightID, inFlight.ID)

	visibleID, err := before.Send(ctx, "emails", drivers.OutgoingMessage{
		Body:           []byte("visible"),
		UserAttributes: map[string]drivers.Attribute{"tenant": {DataType: "String", StringValue: "acme"}},
	})
	require.NoError(t, err)

	require.NoError(t, before.Close(), "close the database")

	after := openDriver(t, path)
	afterQueue := openQueue(t, after, "emails")

	visible, inFlightCount, err := after.Depth(ctx, "emails")
	require.NoError(t, err)
	assert.Equal(t, 1, visible, "the message that was visible should still be visible after the reopen")
	assert.Equal(t, 1, inFlightCount, "the received message should still be in flight after the reopen")

	msgs, err = afterQueue.Receive(ctx, drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "only the visible message should be received before the visibility timeout lapses")
	assert.Equal(t, visibleID, msgs[0].ID)
	assert.Equal(t, []byte("visible"), msgs[0].Body)
	assert.Equal(t, "acme", msgs[0].UserAttributes["tenant"].StringValue)
	assert.Equal(t, 1, msgs[0].ReceiveCount)

	msgs, err = afterQueue.Receive(ctx, drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute, WaitTime: 5 * time.Second})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "the in-flight message should come back once its visibility timeout lapses")
	assert.Equal(t, inFlightID, msgs[0].ID)
	assert.Equal(t, 2, msgs[0].ReceiveCount, "the redelivery should count the receive before the reopen")
	assert.GreaterOrEqual(t, time.Since(receivedAt), visibilityTimeout-2*time.Millisecond, "the in-flight message came back before its visibility timeout")

	assert.ErrorIs(t, afterQueue.Ack(ctx, inFlight.ReceiptHandle), drivers.ErrInvalidReceipt, "the receipt from before the redelivery should be rejected")
	assert.NoError(t, afterQueue.Ack(ctx, msgs[0].ReceiptHandle), "the new receipt should be accepted")
}

func TestDriverAcksReceiptAcrossReopen(t *testing.T) {
	ctx := t.Context()
	path := newDatabasePath(t)

	before := openDriver(t, path)
	_, err := before.Send(ctx, "emails", drivers.OutgoingMessage{Body: []byte("payload")})
	require.NoError(t, err)

	msgs, err := openQueue(t, before, "emails").Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	require.Len(t, msgs, 1)

	require.NoError(t, before.Close(), "close the database")

	after := openDriver(t, path)
	require.NoError(t, openQueue(t, after, "emails").Ack(ctx, msgs[0].ReceiptHandle), "a receipt handle should stay valid across a reopen")

	visible, inFlight, err := after.Depth(ctx, "emails")
	require.NoError(t, err)
	assert.Zero(t, visible, "the acked message should be gone")
	assert.Zero(t, inFlight, "the acked message should be gone")
}
