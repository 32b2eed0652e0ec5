package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// Send inserts msg into the named queue and returns its new id. A Receive
// of the queue waiting in this process wakes at once.
func (d *Driver) Send(ctx context.Context, queueName string, msg drivers.OutgoingMessage) (string, error) {
	if err := d.enter(); err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queueName, err)
	}
	defer d.leave()

	if queueName == "" {
		return "", fmt.Errorf("send to queue %q: %w", queueName, errEmptyQueueName)
	}

	if msg.Delay < 0 {
		return "", fmt.Errorf("send to queue %q: delay %s is invalid, must be zero or positive", queueName, msg.Delay)
	}

	if msg.GroupID != "" || msg.DeduplicationID != "" {
		return "", fmt.Errorf("send to queue %q: the sqlite driver has no FIFO queues, so it takes no group or deduplication id; use a FIFO queue on sqs for ordered groups", queueName)
	}

	attributes, err := encodeAttributes(msg.UserAttributes)
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queueName, err)
	}

	// The body column is NOT NULL, and a nil slice binds as NULL.
	body := msg.Body
	if body == nil {
		body = []byte{}
	}

	id := newMessageID()
	sentAt := time.Now().UnixMilli()

	err = d.writer.doStatement(ctx, func(s *writeStatements) (bool, error) {
		_, err := s.insert.Exec(
			sql.Named("id", id),
			sql.Named("queue", queueName),
			sql.Named("body", body),
			sql.Named("attributes", attributes),
			sql.Named("sent_at", sentAt),
			sql.Named("visible_at", sentAt+msg.Delay.Milliseconds()),
		)

		return err == nil, err
	})
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queueName, err)
	}

	// A delayed message may become visible before the timers of the
	// waiting Receives expire, so all of them look again.
	if msg.Delay > 0 {
		d.watcher.notifyQueue(queueName)
	} else {
		d.watcher.notifyOne(queueName)
	}

	return id, nil
}
