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
	err = q.driver.writer.doStatement(ctx, func(s *writeStatements) (bool, error) {
		result, err := s.changeVisibility.Exec(
			sql.Named("visible_at", visibleAt),
			sql.Named("id", id),
			sql.Named("queue", q.name),
			sql.Named("receipt", token),
		)
		if err != nil {
			return false, err
		}

		updated, err = result.RowsAffected()

		return updated > 0, err
	})
	if err != nil {
		return fmt.Errorf("change visibility of message %q in queue %q: %w", id, q.name, err)
	}

	if updated == 0 {
		return fmt.Errorf("change visibility of message %q in queue %q: receipt handle %q: %w", id, q.name, receipt, drivers.ErrInvalidReceipt)
	}

	// A released message needs one Receive. A message hidden for a while
	// may become visible before the timers of the waiting Receives expire,
	// so all of them look again.
	if timeout == 0 {
		q.driver.watcher.notifyOne(q.name)
	} else {
		q.driver.watcher.notifyQueue(q.name)
	}

	return nil
}
