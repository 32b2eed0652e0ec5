package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// queue is a handle on one queue of a Driver.
type queue struct {
	driver          *Driver
	state           *queueState
	deadLetterQueue string
}

var _ drivers.Queue = (*queue)(nil)

// Name returns the queue's name.
func (q *queue) Name() string { return q.state.name }

// Receive claims up to req.Max visible messages. While none is visible it
// waits until a message is sent, released or reaches its visibility time,
// or until req.WaitTime passes, ctx ends or the driver is closed.
func (q *queue) Receive(ctx context.Context, req drivers.ReceiveRequest) ([]*drivers.Message, error) {
	if err := validateReceiveRequest(req); err != nil {
		return nil, fmt.Errorf("receive from queue %q: %w", q.state.name, err)
	}

	if err := ctx.Err(); err != nil {
		return nil, err
	}

	deadline := time.Now().Add(req.WaitTime)

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	for {
		if q.driver.closed.Load() {
			return nil, fmt.Errorf("receive from queue %q: %w", q.state.name, drivers.ErrClosed)
		}

		received, changed, nextVisible := q.state.claim(req.Max, req.VisibilityTimeout, &q.driver.receipts)
		if len(received) > 0 {
			return received, nil
		}

		now := time.Now()
		if !now.Before(deadline) {
			return nil, nil
		}

		wakeAt := deadline
		if !nextVisible.IsZero() && nextVisible.Before(deadline) {
			wakeAt = nextVisible
		}

		if timer == nil {
			timer = time.NewTimer(wakeAt.Sub(now))
		} else {
			timer.Reset(wakeAt.Sub(now))
		}

		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.driver.done:
			return nil, fmt.Errorf("receive from queue %q: %w", q.state.name, drivers.ErrClosed)
		case <-changed:
		case <-timer.C:
		}
	}
}

// Ack deletes the message that receipt identifies.
func (q *queue) Ack(_ context.Context, receipt string) error {
	if q.driver.closed.Load() {
		return fmt.Errorf("ack message in queue %q: %w", q.state.name, drivers.ErrClosed)
	}

	if err := q.state.ack(receipt); err != nil {
		return fmt.Errorf("ack message in queue %q: %w", q.state.name, err)
	}

	return nil
}

// ChangeVisibility hides the message that receipt identifies for timeout
// from now. A zero timeout makes it visible at once.
func (q *queue) ChangeVisibility(_ context.Context, receipt string, timeout time.Duration) error {
	if timeout < 0 {
		return fmt.Errorf("change visibility of message in queue %q: timeout %s is invalid, must be zero or positive", q.state.name, timeout)
	}

	if q.driver.closed.Load() {
		return fmt.Errorf("change visibility of message in queue %q: %w", q.state.name, drivers.ErrClosed)
	}

	if err := q.state.changeVisibility(receipt, timeout); err != nil {
		return fmt.Errorf("change visibility of message in queue %q: %w", q.state.name, err)
	}

	return nil
}

// DeadLetter moves msg to the dead-letter queue with its stored body and
// user attributes, adding the reason and the source queue as attributes.
// The moved message keeps its id and SentAt, becomes visible at once and
// starts again at receive count zero.
func (q *queue) DeadLetter(_ context.Context, msg *drivers.Message, reason string) error {
	if msg == nil {
		return fmt.Errorf("dead-letter message from queue %q: message is nil", q.state.name)
	}

	target, err := q.driver.queue(q.deadLetterQueue)
	if err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", msg.ID, q.state.name, q.deadLetterQueue, err)
	}

	err = moveMessage(q.state, target, msg.ReceiptHandle, func(m *message) {
		if m.userAttributes == nil {
			m.userAttributes = make(map[string]drivers.Attribute, 2)
		}
		m.userAttributes[drivers.DeadLetterReasonAttribute] = drivers.Attribute{DataType: "String", StringValue: reason}
		m.userAttributes[drivers.DeadLetterSourceAttribute] = drivers.Attribute{DataType: "String", StringValue: q.state.name}

		m.receipt = ""
		m.receiveCount = 0
		m.firstReceivedAt = time.Time{}
		m.visibleAt = time.Now()
	})
	if err != nil {
		return fmt.Errorf("dead-letter message %q from queue %q to %q: %w", msg.ID, q.state.name, q.deadLetterQueue, err)
	}

	return nil
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
