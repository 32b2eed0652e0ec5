package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// queue is a handle on one queue of a Driver.
type queue struct {
	driver          *Driver
	name            string
	deadLetterQueue string
}

var _ drivers.Queue = (*queue)(nil)

// Name returns the queue's name.
func (q *queue) Name() string { return q.name }

// Ack deletes the message that receipt identifies.
func (q *queue) Ack(ctx context.Context, receipt string) error {
	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("ack message in queue %q: %w", q.name, err)
	}
	defer q.driver.leave()

	id, token, err := parseReceipt(receipt)
	if err != nil {
		return fmt.Errorf("ack message in queue %q: %w", q.name, err)
	}

	var deleted int64
	err = retryBusy(ctx, func() error {
		result, err := q.driver.stmts.ack.ExecContext(ctx,
			sql.Named("id", id),
			sql.Named("queue", q.name),
			sql.Named("receipt", token),
		)
		if err != nil {
			return err
		}

		deleted, err = result.RowsAffected()

		return err
	})
	if err != nil {
		return fmt.Errorf("ack message %q in queue %q: %w", id, q.name, err)
	}

	if deleted == 0 {
		return fmt.Errorf("ack message %q in queue %q: receipt handle %q: %w", id, q.name, receipt, drivers.ErrInvalidReceipt)
	}

	return nil
}

// ChangeVisibility hides the message that receipt identifies for timeout
// from now. A zero timeout makes it visible at once. Receives waiting in
// this process wake to take the new time into account.
func (q *queue) ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("change visibility of message in queue %q: %w", q.name, err)
	}
	defer q.driver.leave()

	if timeout < 0 {
		return fmt.Errorf("change visibility of message in queue %q: timeout %s is invalid, must be zero or positive", q.name, timeout)
	}

	id, token, err := parseReceipt(receipt)
	if err != nil {
		return fmt.Errorf("change visibility of message in queue %q: %w", q.name, err)
	}

	visibleAt := time.Now().Add(timeout).UnixMilli()

	var updated int64
	err = retryBusy(ctx, func() error {
		result, err := q.driver.writer.ExecContext(ctx,
			`UPDATE messages SET visible_at = :visible_at WHERE id = :id AND queue = :queue AND receipt = :receipt`,
			sql.Named("visible_at", visibleAt),
			sql.Named("id", id),
			sql.Named("queue", q.name),
			sql.Named("receipt", token),
		)
		if err != nil {
			return err
		}

		updated, err = result.RowsAffected()

		return err
	})
	if err != nil {
		return fmt.Errorf("change visibility of message %q in queue %q: %w", id, q.name, err)
	}

	if updated == 0 {
		return fmt.Errorf("change visibility of message %q in queue %q: receipt handle %q: %w", id, q.name, receipt, drivers.ErrInvalidReceipt)
	}

	q.driver.watcher.notify(q.name)

	return nil
}
