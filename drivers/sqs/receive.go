package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vega-host/vega-host/drivers"
)

// maxReceiveMessages is the most messages one ReceiveMessage call returns.
const maxReceiveMessages = 10

// systemAttributes are the system attributes that Receive requests. They
// fill Message.ReceiveCount, SentAt and GroupID, and the first-receive time
// bounds visibility extensions.
var systemAttributes = []types.MessageSystemAttributeName{
	types.MessageSystemAttributeNameApproximateReceiveCount,
	types.MessageSystemAttributeNameSentTimestamp,
	types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
	types.MessageSystemAttributeNameMessageGroupId,
}

// allMessageAttributes requests every user attribute of a message.
var allMessageAttributes = []string{"All"}

// Receive returns up to min(req.Max, 10) messages with one ReceiveMessage
// call. It hides them for req.VisibilityTimeout, rounded up to whole
// seconds, and long polls for the shorter of req.WaitTime, rounded up to
// whole seconds, and Config.WaitTimeSeconds. Cancelling ctx or closing the
// driver aborts the long poll at once.
//
// With a zero req.VisibilityTimeout the messages are released right after
// the receive, because service/sqs v1.53.0 leaves a zero VisibilityTimeout
// out of the request and SQS would apply the queue's default instead.
// receiveMargin is how long a receive may take beyond its long-poll wait
// before it is abandoned as a network failure.
const receiveMargin = 5 * time.Second

func (q *queue) Receive(ctx context.Context, req drivers.ReceiveRequest) ([]*drivers.Message, error) {
	if err := validateReceiveRequest(req); err != nil {
		return nil, fmt.Errorf("receive from queue %q: %w", q.info.name, err)
	}

	if err := q.driver.enter(); err != nil {
		return nil, fmt.Errorf("receive from queue %q: %w", q.info.name, err)
	}
	defer q.driver.leave()

	if err := ctx.Err(); err != nil {
		return nil, err
	}

	callCtx, release := q.driver.untilClosed(ctx)
	defer release()

	// A server that stops responding mid-call, such as a paused process or
	// a half-open connection, would hold the long poll forever, since the
	// SDK's HTTP client sets no overall timeout. The call gets its wait
	// time and a margin, then fails like any network error.
	callCtx, cancel := context.WithTimeout(callCtx, min(req.WaitTime, q.driver.cfg.waitTime())+receiveMargin)
	defer cancel()

	// NOTE: when the SDK's checksum check fails, the whole receive fails
	// and its messages stay hidden until their visibility timeout lapses.
	output, err := q.driver.client.ReceiveMessage(callCtx, q.receiveInput(req))
	if err != nil {
		return nil, q.receiveError(ctx, callCtx, err)
	}

	messages := make([]*drivers.Message, 0, len(output.Messages))
	for _, received := range output.Messages {
		messages = append(messages, q.convert(received))
	}

	if req.VisibilityTimeout == 0 {
		q.releaseAll(ctx, messages)
	}

	return messages, nil
}

func validateReceiveRequest(req drivers.ReceiveRequest) error {
	switch {
	case req.Max < 1:
		return fmt.Errorf("%w: max is %d, must be at least 1", errInvalidArgument, req.Max)
	case req.VisibilityTimeout < 0:
		return fmt.Errorf("%w: visibility timeout %s is negative", errInvalidArgument, req.VisibilityTimeout)
	case req.VisibilityTimeout > maxVisibility:
		return fmt.Errorf("%w: visibility timeout %s is longer than the SQS maximum of %s", errInvalidArgument, req.VisibilityTimeout, maxVisibility)
	case req.WaitTime < 0:
		return fmt.Errorf("%w: wait time %s is negative", errInvalidArgument, req.WaitTime)
	}
	return nil
}

// receiveInput builds the ReceiveMessage request for req.
func (q *queue) receiveInput(req drivers.ReceiveRequest) *sqs.ReceiveMessageInput {
	waitTime := min(req.WaitTime, q.driver.cfg.waitTime())

	return &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.info.url),
		MaxNumberOfMessages:         int32(min(req.Max, maxReceiveMessages)),
		VisibilityTimeout:           wholeSeconds(req.VisibilityTimeout),
		WaitTimeSeconds:             wholeSeconds(waitTime),
		MessageSystemAttributeNames: systemAttributes,
		MessageAttributeNames:       allMessageAttributes,
	}
}

// receiveError returns the error of a failed ReceiveMessage call: ctx's
// error when the caller's context ended, drivers.ErrClosed when Close
// aborted the call, and the classified SDK error otherwise.
func (q *queue) receiveError(ctx, callCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if errors.Is(context.Cause(callCtx), drivers.ErrClosed) {
		return fmt.Errorf("receive from queue %q: %w", q.info.name, drivers.ErrClosed)
	}
	return fmt.Errorf("receive from queue %q: %w", q.info.name, classify(err))
}

// convert turns a received SQS message into a drivers.Message and records
// its first-receive time.
func (q *queue) convert(received types.Message) *drivers.Message {
	msg := &drivers.Message{
		ID:             aws.ToString(received.MessageId),
		Queue:          q.info.name,
		Body:           []byte(aws.ToString(received.Body)),
		Attributes:     received.Attributes,
		UserAttributes: make(map[string]drivers.Attribute, len(received.MessageAttributes)),
		ReceiptHandle:  aws.ToString(received.ReceiptHandle),
		GroupID:        received.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
	}

	for name, value := range received.MessageAttributes {
		msg.UserAttributes[name] = drivers.Attribute{
			DataType:    aws.ToString(value.DataType),
			StringValue: aws.ToString(value.StringValue),
			BinaryValue: value.BinaryValue,
		}
	}

	if count, err := strconv.Atoi(received.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		msg.ReceiveCount = count
	}

	if sent, ok := millisecondsAttribute(received.Attributes, types.MessageSystemAttributeNameSentTimestamp); ok {
		msg.SentAt = sent
	}

	if first, ok := millisecondsAttribute(received.Attributes, types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp); ok {
		q.receipts.add(msg.ReceiptHandle, first)
	}

	return msg
}

// millisecondsAttribute parses a system attribute that holds Unix
// milliseconds.
func millisecondsAttribute(attributes map[string]string, name types.MessageSystemAttributeName) (time.Time, bool) {
	millis, err := strconv.ParseInt(attributes[string(name)], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(millis), true
}

// releaseAll makes messages visible again at once. A failure leaves a
// message hidden for the queue's default visibility timeout, so it is
// logged and not returned.
func (q *queue) releaseAll(ctx context.Context, messages []*drivers.Message) {
	var wg sync.WaitGroup
	for _, msg := range messages {
		wg.Go(func() {
			if err := q.changeVisibility(ctx, msg.ReceiptHandle, 0); err != nil {
				q.logger.Warn("release after a receive with zero visibility timeout failed; the message stays hidden for the queue's default visibility timeout",
					"message_id", msg.ID, "error", err)
			}
		})
	}
	wg.Wait()
}
