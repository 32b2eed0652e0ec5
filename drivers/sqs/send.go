package sqs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vega-host/vega-host/drivers"
)

// maxDelay is the longest per-message delay that SQS accepts.
const maxDelay = 15 * time.Minute

// Send sends msg to the queue with the given name or URL and returns the
// message id that SQS assigned. The delay is rounded up to whole seconds.
//
// Before any request, Send rejects a message that SQS would reject. That is
// a message larger than the queue's MaximumMessageSize (an error wrapping
// ErrMessageTooLarge), a body that is not text, or more than 10 user
// attributes. On a FIFO queue it is a message without GroupID, one without
// DeduplicationID unless the queue deduplicates by content, or one with a
// delay. On a standard queue it is a message with GroupID or
// DeduplicationID.
func (d *Driver) Send(ctx context.Context, queue string, msg drivers.OutgoingMessage) (string, error) {
	if err := d.enter(); err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, err)
	}
	defer d.leave()

	if queue == "" {
		return "", errors.New("send: the queue name is empty; give a queue name or URL")
	}

	info, err := d.resolve(ctx, queue)
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, err)
	}

	input, err := sendInput(info, msg)
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, err)
	}

	output, err := d.client.SendMessage(ctx, input)
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, classify(err))
	}

	return aws.ToString(output.MessageId), nil
}

// sendInput checks msg against the queue's rules and builds the
// SendMessage request.
func sendInput(queue *queueInfo, msg drivers.OutgoingMessage) (*sqs.SendMessageInput, error) {
	if err := validateBody(msg.Body); err != nil {
		return nil, err
	}

	if err := checkSize(queue, msg.Body, msg.UserAttributes); err != nil {
		return nil, err
	}

	attributes, err := messageAttributes(msg.UserAttributes)
	if err != nil {
		return nil, err
	}

	if err := checkDelay(queue, msg.Delay); err != nil {
		return nil, err
	}

	if err := checkFIFOFields(queue, msg); err != nil {
		return nil, err
	}

	input := &sqs.SendMessageInput{
		QueueUrl:          aws.String(queue.url),
		MessageBody:       aws.String(string(msg.Body)),
		MessageAttributes: attributes,
		DelaySeconds:      wholeSeconds(msg.Delay),
	}
	if msg.GroupID != "" {
		input.MessageGroupId = aws.String(msg.GroupID)
	}
	if msg.DeduplicationID != "" {
		input.MessageDeduplicationId = aws.String(msg.DeduplicationID)
	}

	return input, nil
}

func checkDelay(queue *queueInfo, delay time.Duration) error {
	switch {
	case delay < 0:
		return fmt.Errorf("%w: the delay %s is negative", errInvalidArgument, delay)
	case delay > maxDelay:
		return fmt.Errorf("%w: the delay %s is longer than the SQS maximum of %s", errInvalidArgument, delay, maxDelay)
	case delay > 0 && queue.fifo:
		return fmt.Errorf("%w: FIFO queue %q does not accept a delay per message; set DelaySeconds on the queue instead", errInvalidArgument, queue.name)
	}
	return nil
}

// checkFIFOFields checks GroupID and DeduplicationID against the queue's
// type. A FIFO queue requires a group, and a deduplication id unless it
// deduplicates by content. A standard queue takes neither.
func checkFIFOFields(queue *queueInfo, msg drivers.OutgoingMessage) error {
	if !queue.fifo {
		if msg.GroupID != "" || msg.DeduplicationID != "" {
			return fmt.Errorf("%w: queue %q is a standard queue, which takes no GroupID or DeduplicationID; use a FIFO queue for ordered groups", errInvalidArgument, queue.name)
		}
		return nil
	}

	if msg.GroupID == "" {
		return fmt.Errorf("%w: FIFO queue %q requires a GroupID on every message", errInvalidArgument, queue.name)
	}
	if msg.DeduplicationID == "" && !queue.contentBasedDeduplication {
		return fmt.Errorf("%w: FIFO queue %q requires a DeduplicationID, because its ContentBasedDeduplication is off", errInvalidArgument, queue.name)
	}
	return nil
}
