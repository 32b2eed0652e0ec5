package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// Receive claims up to req.Max visible messages. While none is visible it
// waits until a message is sent or released, in this process or another,
// or reaches its visibility time, or until req.WaitTime passes, ctx ends or
// the driver is closed.
func (q *queue) Receive(ctx context.Context, req drivers.ReceiveRequest) ([]*drivers.Message, error) {
	if err := validateReceiveRequest(req); err != nil {
		return nil, fmt.Errorf("receive from queue %q: %w", q.name, err)
	}

	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if err := q.driver.enter(); err != nil {
		return nil, fmt.Errorf("receive from queue %q: %w", q.name, err)
	}
	defer q.driver.leave()

	deadline := time.Now().Add(req.WaitTime)

	// Under load most calls find messages, so claim before setting up the
	// wait.
	msgs, err := q.claim(ctx, req)
	if err != nil || len(msgs) > 0 || req.WaitTime == 0 {
		return msgs, err
	}

	return q.wait(ctx, req, deadline)
}

// wait claims messages as they become visible until deadline.
func (q *queue) wait(ctx context.Context, req drivers.ReceiveRequest, deadline time.Time) (msgs []*drivers.Message, err error) {
	// Subscribe before looking at the queue, so that no change after the
	// look goes unnoticed.
	sub, err := q.driver.watcher.subscribe(ctx, q.name)
	if err != nil {
		return nil, q.receiveError(ctx, err)
	}
	defer func() { sub.cancel(len(msgs) > 0) }()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		// A read of the earliest visibility time is cheaper than a claim,
		// which takes the write lock even when it finds nothing.
		earliest, err := q.earliestVisibleAt(ctx)
		if err != nil {
			return nil, q.receiveError(ctx, err)
		}

		now := time.Now()
		if !earliest.IsZero() && !earliest.After(now) {
			msgs, err := q.claim(ctx, req)
			if err != nil || len(msgs) > 0 {
				return msgs, err
			}

			// Another receiver claimed the messages first.
			continue
		}

		if !now.Before(deadline) {
			return nil, nil
		}

		wakeAt := deadline
		if !earliest.IsZero() && earliest.Before(deadline) {
			wakeAt = earliest
		}
		timer.Reset(wakeAt.Sub(now))

		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.driver.done:
			return nil, fmt.Errorf("receive from queue %q: %w", q.name, drivers.ErrClosed)
		case <-sub.wake:
			sub.rearm()
		case <-timer.C:
		}
	}
}

// claim hides up to req.Max visible messages and returns them.
func (q *queue) claim(ctx context.Context, req drivers.ReceiveRequest) ([]*drivers.Message, error) {
	var claimed []claimedRow

	err := q.driver.writer.doStatement(ctx, func(s *writeStatements) (bool, error) {
		now := time.Now().UnixMilli()

		rows, err := s.claim.Query(
			sql.Named("visible_at", now+req.VisibilityTimeout.Milliseconds()),
			sql.Named("now", now),
			sql.Named("queue", q.name),
			sql.Named("max", req.Max),
		)
		if err != nil {
			return false, err
		}

		claimed, err = scanClaimed(rows, req.Max)

		return len(claimed) > 0, err
	})
	if err != nil {
		return nil, q.receiveError(ctx, err)
	}

	return q.newMessages(claimed)
}

// claimedRow is a row that claimSQL returns.
type claimedRow struct {
	id              string
	body            []byte
	attributes      *string
	sentAt          int64
	receiveCount    int
	receipt         string
	firstReceivedAt int64
}

// scanClaimed reads the rows that claimSQL returns and closes them. SQLite
// computes every row of RETURNING before it returns the first, so an error
// here is an error of the statement, and the writer rolls the claim back.
func scanClaimed(rows *sql.Rows, maxMessages int) ([]claimedRow, error) {
	defer func() { _ = rows.Close() }()

	claimed := make([]claimedRow, 0, min(maxMessages, 16))
	for rows.Next() {
		var row claimedRow

		err := rows.Scan(&row.id, &row.body, &row.attributes, &row.sentAt, &row.receiveCount, &row.receipt, &row.firstReceivedAt)
		if err != nil {
			return nil, err
		}

		claimed = append(claimed, row)
	}

	if err := rows.Err(); err != nil {
		return nil, err
	}

	return claimed, nil
}

// newMessages returns the messages of the claimed rows. The claim is
// committed before the attributes are decoded, so a row whose attributes
// fail to decode stays hidden until its visibility timeout lapses, and so do
// the messages claimed with it, as with a lost response from any queue.
func (q *queue) newMessages(claimed []claimedRow) ([]*drivers.Message, error) {
	msgs := make([]*drivers.Message, 0, len(claimed))
	for _, row := range claimed {
		userAttributes, err := decodeAttributes(row.attributes)
		if err != nil {
			return nil, fmt.Errorf("receive from queue %q: message %q: %w", q.name, row.id, err)
		}

		body := row.body
		if body == nil {
			body = []byte{}
		}

		msgs = append(msgs, &drivers.Message{
			ID:             row.id,
			Queue:          q.name,
			Body:           body,
			UserAttributes: userAttributes,
			ReceiptHandle:  formatReceipt(row.id, row.receipt),
			ReceiveCount:   row.receiveCount,
			SentAt:         time.UnixMilli(row.sentAt),
			Attributes: map[string]string{
				attributeSentTimestamp:         strconv.FormatInt(row.sentAt, 10),
				attributeReceiveCount:          strconv.Itoa(row.receiveCount),
				attributeFirstReceiveTimestamp: strconv.FormatInt(row.firstReceivedAt, 10),
			},
		})
	}

	return msgs, nil
}

// earliestVisibleAt returns when the queue's next message becomes visible,
// or the zero time when the queue is empty.
func (q *queue) earliestVisibleAt(ctx context.Context) (time.Time, error) {
	var earliest sql.NullInt64
	if err := q.driver.readStmts.earliest.QueryRowContext(ctx, sql.Named("queue", q.name)).Scan(&earliest); err != nil {
		return time.Time{}, err
	}

	if !earliest.Valid {
		return time.Time{}, nil
	}

	return time.UnixMilli(earliest.Int64), nil
}

// receiveError returns ctx.Err() when ctx ended, as the drivers.Queue
// contract requires, and err with the queue's name otherwise.
func (q *queue) receiveError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}

	return fmt.Errorf("receive from queue %q: %w", q.name, err)
}

// validateReceiveRequest returns an error naming the first invalid field.
func validateReceiveRequest(req drivers.ReceiveRequest) error {
	switch {
	case req.Max < 1:
		return fmt.Errorf("max %d is invalid, must be at least 1", req.Max)
	case req.VisibilityTimeout < 0:
		return fmt.Errorf("visibility timeout %s is invalid, must be zero or positive", req.VisibilityTimeout)
	case req.WaitTime < 0:
		return fmt.Errorf("wait time %s is invalid, must be zero or positive", req.WaitTime)
	}

	return nil
}
