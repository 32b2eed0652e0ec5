package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// DeadLetter moves msg to the dead-letter queue in one transaction, keeping
// its id, body, SentAt and user attributes and adding the reason and the
// source queue as attributes. The moved message is visible at once and its
// receive count starts again at zero.
func (q *queue) DeadLetter(ctx context.Context, msg *drivers.Message, reason string) error {
	if msg == nil {
		return fmt.Errorf("dead-letter message from queue %q: message is nil", q.name)
	}

	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", msg.ID, q.name, q.deadLetterQueue, err)
	}
	defer q.driver.leave()

	id, token, err := parseReceipt(msg.ReceiptHandle)
	if err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", msg.ID, q.name, q.deadLetterQueue, err)
	}

	var found bool
	err = q.driver.writer.do(ctx, func(s *writeStatements) (bool, error) {
		var err error
		found, err = q.moveToDeadLetterQueue(s, id, token, reason)

		return found, err
	})
	if err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", id, q.name, q.deadLetterQueue, err)
	}

	if !found {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: receipt handle %q: %w", id, q.name, q.deadLetterQueue, msg.ReceiptHandle, drivers.ErrInvalidReceipt)
	}

	q.driver.watcher.notifyOne(q.deadLetterQueue)

	return nil
}

// moveToDeadLetterQueue runs the statements of DeadLetter inside the
// writer's open transaction and reports whether token is the message's
// current receipt token. It reads the stored attributes rather than the
// caller's copy, which a handler may have changed.
func (q *queue) moveToDeadLetterQueue(s *writeStatements, id, token, reason string) (found bool, err error) {
	var stored *string
	err = s.storedAttributes.QueryRow(
		sql.Named("id", id),
		sql.Named("queue", q.name),
		sql.Named("receipt", token),
	).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	attributes, err := decodeAttributes(stored)
	if err != nil {
		return false, err
	}

	if attributes == nil {
		attributes = make(map[string]drivers.Attribute, 2)
	}
	attributes[drivers.DeadLetterReasonAttribute] = drivers.Attribute{DataType: "String", StringValue: reason}
	attributes[drivers.DeadLetterSourceAttribute] = drivers.Attribute{DataType: "String", StringValue: q.name}

	encoded, err := encodeAttributes(attributes)
	if err != nil {
		return false, err
	}

	_, err = s.moveToDeadLetter.Exec(
		sql.Named("target", q.deadLetterQueue),
		sql.Named("attributes", encoded),
		sql.Named("now", time.Now().UnixMilli()),
		sql.Named("id", id),
	)
	if err != nil {
		return false, err
	}

	return true, nil
}
