package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vega-host/vega-host/drivers"
)

var _ drivers.BatchAcker = (*queue)(nil)

// Acks of concurrent callers share write transactions (see writer), so
// callers need not batch acks to scale. AckBatch saves the overhead per
// call on top of that when a caller has several receipts at once.

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
	err = q.driver.writer.doStatement(ctx, func(s *writeStatements) (bool, error) {
		var err error
		deleted, err = q.deleteReceived(s, id, token)

		return deleted > 0, err
	})
	if err != nil {
		return fmt.Errorf("ack message %q in queue %q: %w", id, q.name, err)
	}

	if deleted == 0 {
		return fmt.Errorf("ack message %q in queue %q: receipt handle %q: %w", id, q.name, receipt, drivers.ErrInvalidReceipt)
	}

	return nil
}

// AckBatch deletes the messages that receipts identify in one transaction
// and returns one error per receipt, in order. An entry is nil for a
// deleted message and wraps drivers.ErrInvalidReceipt for an unknown or
// stale receipt. When the transaction fails, every valid receipt gets its
// error.
func (q *queue) AckBatch(ctx context.Context, receipts []string) []error {
	errs := make([]error, len(receipts))

	if err := q.driver.enter(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("ack messages in queue %q: %w", q.name, err)
		}
		return errs
	}
	defer q.driver.leave()

	type parsedReceipt struct {
		index     int
		id, token string
	}

	valid := make([]parsedReceipt, 0, len(receipts))
	for i, receipt := range receipts {
		id, token, err := parseReceipt(receipt)
		if err != nil {
			errs[i] = fmt.Errorf("ack message in queue %q: %w", q.name, err)
			continue
		}

		valid = append(valid, parsedReceipt{index: i, id: id, token: token})
	}

	if len(valid) == 0 {
		return errs
	}

	deleted := make([]int64, len(valid))
	err := q.driver.writer.do(ctx, func(s *writeStatements) (bool, error) {
		changed := false
		for i, receipt := range valid {
			var err error
			deleted[i], err = q.deleteReceived(s, receipt.id, receipt.token)
			if err != nil {
				return false, err
			}

			changed = changed || deleted[i] > 0
		}

		return changed, nil
	})

	for i, receipt := range valid {
		switch {
		case err != nil:
			errs[receipt.index] = fmt.Errorf("ack message %q in queue %q: %w", receipt.id, q.name, err)
		case deleted[i] == 0:
			errs[receipt.index] = fmt.Errorf("ack message %q in queue %q: receipt handle %q: %w", receipt.id, q.name, receipts[receipt.index], drivers.ErrInvalidReceipt)
		}
	}

	return errs
}

// deleteReceived deletes the message with id if token is its current
// receipt token, inside the writer's open transaction, and returns how
// many rows it deleted: 1 or 0.
func (q *queue) deleteReceived(s *writeStatements, id, token string) (int64, error) {
	result, err := s.ack.Exec(
		sql.Named("id", id),
		sql.Named("queue", q.name),
		sql.Named("receipt", token),
	)
	if err != nil {
		return 0, err
	}

	return result.RowsAffected()
}
