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
func (q *queue) wait(ctx context.Context, req drivers.ReceiveRequest, deadline time.Time) ([]*drivers.Message, error) {
	// Subscribe before looking at the queue, so that no change after the
	// look goes unnoticed.
	sub, err := q.driver.watcher.subscribe(ctx, q.name)
	if err != nil {
		return nil, q.receiveError(ctx, err)
	}
	defer sub.cancel()

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
		case <-sub.changed:
			sub.renew()
		case <-timer.C:
		}
	}
}

// claim hides up to req.Max visible messages and returns them.
func (q *queue) claim(ctx context.Context, req drivers.ReceiveRequest) ([]*drivers.Message, error) {
	var msgs []*drivers.Message

	err := retryBusy(ctx, func() error {
		now := time.Now().UnixMilli()

		rows, err := q.driver.stmts.claim.QueryContext(ctx,
			sql.Named("visible_at", now+req.VisibilityTimeout.Milliseconds()),
			sql.Named("now", now),
			sql.Named("queue", q.name),
			sql.Named("max", req.Max),
		)
		if err != nil {
			return err
		}

		msgs, err = q.scanClaimed(rows, req.Max)

		return err
	})
	if err != nil {
		return nil, q.receiveError(ctx, err)
	}

	return msgs, nil
}

// scanClaimed reads the rows that claimSQL returns and closes them.
//
// SQLite commits the claim when the statement finishes, which reading past
// the last row or closing the rows early does. An error from rows.Err means
// that nothing was claimed. A row that fails to scan leaves the claimed
// messages hidden until their visibility timeout lapses, as a lost response
// from any queue would.
func (q *queue) scanClaimed(rows *sql.Rows, maxMessages int) ([]*drivers.Message, error) {
	defer func() { _ = rows.Close() }()

	msgs := make([]*drivers.Message, 0, min(maxMessages, 16))
	for rows.Next() {
		var (
			msg             drivers.Message
			attributes      *string
			sentAt          int64
			receipt         string
			firstReceivedAt int64
		)

		err := rows.Scan(&msg.ID, &msg.Body, &attributes, &sentAt, &msg.ReceiveCount, &receipt, &firstReceivedAt)
		if err != nil {
			return nil, err
		}

		msg.UserAttributes, err = decodeAttributes(attributes)
		if err != nil {
			return nil, fmt.Errorf("message %q: %w", msg.ID, err)
		}

		if msg.Body == nil {
			msg.Body = []byte{}
		}

		msg.Queue = q.name
		msg.ReceiptHandle = formatReceipt(msg.ID, receipt)
		msg.SentAt = time.UnixMilli(sentAt)
		msg.Attributes = map[string]string{
			attributeSentTimestamp:         strconv.FormatInt(sentAt, 10),
			attributeReceiveCount:          strconv.Itoa(msg.ReceiveCount),
			attributeFirstReceiveTimestamp: strconv.FormatInt(firstReceivedAt, 10),
		}

		msgs = append(msgs, &msg)
	}

	if err := rows.Err(); err != nil {
		return nil, err
	}

	return msgs, nil
}

// earliestVisibleAt returns when the queue's next message becomes visible,
// or the zero time when the queue is empty.
func (q *queue) earliestVisibleAt(ctx context.Context) (time.Time, error) {
	var earliest sql.NullInt64
	if err := q.driver.stmts.earliest.QueryRowContext(ctx, sql.Named("queue", q.name)).Scan(&earliest); err != nil {
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
