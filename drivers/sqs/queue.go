package sqs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
)

// queue is a handle on one SQS queue.
type queue struct {
	driver *Driver
	info   *queueInfo
	// deadLetter is the queue that DeadLetter sends to, or nil when the
	// queue's redrive policy moves failed messages, or nothing does.
	deadLetter *queueInfo
	logger     hclog.Logger

	receipts   *receiptTracker
	deletes    *batcher
	visibility *batcher
}

// Open resolves the queue, given by name or by URL, and its dead-letter
// queue, and reads their attributes once. It returns an error wrapping
// drivers.ErrQueueNotFound when either is missing and one wrapping
// ErrAccessDenied when the credentials are missing or rejected. SQS queues
// are never created here.
//
// When opts.DeadLetterQueue is empty and the queue has no redrive policy,
// Open logs a warning, because DeadLetter will have nowhere to put failed
// messages.
func (d *Driver) Open(ctx context.Context, name string, opts drivers.OpenOptions) (drivers.Queue, error) {
	if err := d.enter(); err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}
	defer d.leave()

	if name == "" {
		return nil, errors.New("open queue: the queue name is empty; give a queue name or URL")
	}

	info, err := d.resolve(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}

	q := &queue{
		driver:   d,
		info:     info,
		logger:   d.logger.With("queue", name),
		receipts: newReceiptTracker(),
	}
	q.deletes = newBatcher(&d.background, q.deleteBatch)
	q.visibility = newBatcher(&d.background, q.changeVisibilityBatch)

	if err := q.resolveDeadLetterQueue(ctx, opts.DeadLetterQueue); err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}

	return q, nil
}

// resolveDeadLetterQueue sets q.deadLetter to the configured dead-letter
// queue, and warns when failed messages have nowhere to go.
func (q *queue) resolveDeadLetterQueue(ctx context.Context, name string) error {
	switch {
	case name != "":
		info, err := q.driver.resolve(ctx, name)
		if err != nil {
			return fmt.Errorf("dead-letter queue %q: %w", name, err)
		}
		if info.url == q.info.url {
			return fmt.Errorf("dead-letter queue %q is the queue itself; name another queue", name)
		}
		q.deadLetter = info

	case q.info.redrivePolicy != "":
		q.logger.Debug("failed messages are left to the queue's redrive policy", "redrive_policy", q.info.redrivePolicy)

	default:
		q.logger.Warn("queue has no dead-letter queue and no redrive policy, so failed messages have nowhere to go and stay in the queue; " +
			"set dead_letter_queue on the listener or a RedrivePolicy on the queue")
	}

	return nil
}

// Name returns the queue's name or URL, as given to Open.
func (q *queue) Name() string {
	return q.info.name
}
