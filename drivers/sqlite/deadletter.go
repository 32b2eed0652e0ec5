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

	err = retryBusy(ctx, func() error {
		return q.moveToDeadLetterQueue(ctx, id, token, reason)
	})
	if err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", id, q.name, q.deadLetterQueue, err)
	}

	q.driver.watcher.notify(q.deadLetterQueue)

	return nil
}

// moveToDeadLetterQueue runs the transaction of DeadLetter. It reads the
// stored attributes rather than the caller's copy, which a handler may have
// changed.
func (q *queue) moveToDeadLetterQueue(ctx context.Context, id, token, reason string) error {
	tx, err := q.driver.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()

	var stored *string
	err = tx.QueryRowContext(ctx,
		`SELECT attributes FROM messages WHERE id = :id AND queue = :queue AND receipt = :receipt`,
		sql.Named("id", id),
		sql.Named("queue", q.name),
		sql.Named("receipt", token),
	).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("receipt handle %q: %w", formatReceipt(id, token), drivers.ErrInvalidReceipt)
	}
	if err != nil {
		return err
	}

	attributes, err := decodeAttributes(stored)
	if err != nil {
		return err
	}

	if attributes == nil {
		attributes = make(map[string]drivers.Attribute, 2)
	}
	attributes[drivers.DeadLetterReasonAttribute] = drivers.Attribute{DataType: "String", StringValue: reason}
	attributes[drivers.DeadLetterSourceAttribute] = drivers.Attribute{DataType: "String", StringValue: q.name}

	encoded, err := encodeAttributes(attributes)
	if err != nil {
		return err
	}

	_, err = tx.ExecContext(ctx,
		`UPDATE messages
		SET queue = :target, attributes = :attributes, visible_at = :now,
			receive_count = 0, receipt = NULL, first_received_at = NULL
		WHERE id = :id`,
		sql.Named("target", q.deadLetterQueue),
		sql.Named("attributes", encoded),
		sql.Named("now", time.Now().UnixMilli()),
		sql.Named("id", id),
	)
	if err != nil {
		return err
	}

	return tx.Commit()
}
