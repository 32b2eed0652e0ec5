package sqs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vega-host/vega-host/drivers"
)

// deadLetterHold is how long DeadLetter hides the source message while it
// copies it, so that no other receiver gets it during the move.
const deadLetterHold = time.Minute

// DeadLetter moves a received message to the dead-letter queue that Open
// resolved, or leaves it to the queue's redrive policy.
//
// With a dead-letter queue from OpenOptions it checks the receipt handle by
// hiding the message for one more minute, sends the body and user
// attributes, plus drivers.DeadLetterReasonAttribute and
// drivers.DeadLetterSourceAttribute, to the dead-letter queue and then
// deletes the source message. SQS cannot do both in one step. When the send
// fails, the source message is kept and an error returned. When the delete
// fails after the send, the message is in both queues and the error states
// that.
// A FIFO dead-letter queue gets the message's group, or the message id when
// it has none, and the message id as deduplication id.
//
// Without a configured queue but with a RedrivePolicy, DeadLetter makes the
// message visible again at once and returns nil: SQS moves it to the
// policy's queue once its receive count passes maxReceiveCount. Without
// either, it returns an error wrapping ErrNoDeadLetterQueue and the message
// stays, to be received again when its visibility timeout lapses.
func (q *queue) DeadLetter(ctx context.Context, msg *drivers.Message, reason string) error {
	if msg == nil {
		return fmt.Errorf("dead-letter message from queue %q: %w: the message is nil", q.info.name, errInvalidArgument)
	}

	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q: %w", msg.ID, q.info.name, err)
	}
	defer q.driver.leave()

	switch {
	case q.deadLetter != nil:
		if err := q.moveToDeadLetterQueue(ctx, msg, reason); err != nil {
			return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", msg.ID, q.info.name, q.deadLetter.name, err)
		}
		return nil

	case q.info.redrivePolicy != "":
		if err := q.changeVisibility(ctx, msg.ReceiptHandle, 0); err != nil {
			return fmt.Errorf("dead-letter message %q from queue %q by its redrive policy: release it: %w", msg.ID, q.info.name, err)
		}
		return nil

	default:
		return fmt.Errorf("dead-letter message %q from queue %q: %w: set dead_letter_queue on the listener or a RedrivePolicy on the queue; the message stays in the queue",
			msg.ID, q.info.name, ErrNoDeadLetterQueue)
	}
}

// moveToDeadLetterQueue copies msg to q.deadLetter and deletes the source.
func (q *queue) moveToDeadLetterQueue(ctx context.Context, msg *drivers.Message, reason string) error {
	// SQS accepts the handle of a deleted message in DeleteMessage, but not
	// in ChangeMessageVisibility. Checking the handle first keeps a message
	// that was acked already out of the dead-letter queue.
	if err := q.changeVisibility(ctx, msg.ReceiptHandle, deadLetterHold); err != nil {
		return fmt.Errorf("hold the source message: %w", err)
	}

	input, err := q.deadLetterInput(msg, reason)
	if err != nil {
		return fmt.Errorf("%w; the source message stays in its queue", err)
	}

	output, err := q.driver.client.SendMessage(ctx, input)
	if err != nil {
		return fmt.Errorf("send the copy, source message kept: %w", classify(err))
	}

	if err := q.delete(ctx, msg.ReceiptHandle); err != nil {
		return fmt.Errorf("copy sent as message %q, but delete the source message: %w", aws.ToString(output.MessageId), err)
	}

	return nil
}

// deadLetterInput builds the SendMessage request of the copy, after the
// checks that Send makes.
func (q *queue) deadLetterInput(msg *drivers.Message, reason string) (*sqs.SendMessageInput, error) {
	attributes := make(map[string]drivers.Attribute, len(msg.UserAttributes)+2)
	maps.Copy(attributes, msg.UserAttributes)
	attributes[drivers.DeadLetterReasonAttribute] = drivers.Attribute{DataType: "String", StringValue: nonEmpty(reason)}
	attributes[drivers.DeadLetterSourceAttribute] = drivers.Attribute{DataType: "String", StringValue: q.info.name}

	outgoing := drivers.OutgoingMessage{Body: msg.Body, UserAttributes: attributes}
	if q.deadLetter.fifo {
		outgoing.GroupID = msg.GroupID
		if outgoing.GroupID == "" {
			outgoing.GroupID = msg.ID
		}
		outgoing.DeduplicationID = msg.ID
	}

	input, err := sendInput(q.deadLetter, outgoing)
	if errors.Is(err, errInvalidArgument) && len(attributes) > maxMessageAttributes {
		// NOTE: a message with more than 8 user attributes cannot be
		// dead-lettered here, because the reason and source attributes
		// would pass the SQS limit of 10; it stays in its queue.
		return nil, fmt.Errorf("%w (the message has %d user attributes and the dead-letter copy adds 2)", err, len(msg.UserAttributes))
	}
	return input, err
}

// nonEmpty returns reason, or a placeholder for an empty one, because SQS
// rejects empty attribute values.
func nonEmpty(reason string) string {
	if reason == "" {
		return "(no reason given)"
	}
	return reason
}
