package hosttest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// Counts are the settlements the host made on the listener's queue.
type Counts struct {
	// Acked counts messages deleted after handling.
	Acked int
	// DeadLettered counts messages moved to the dead-letter queue.
	DeadLettered int
	// Released counts the times a message was made visible again at once:
	// with ManualAck left unsettled or rejected with requeue, released
	// when the plugin process died, or at shutdown.
	Released int
}

// countingDriver passes every call to Driver and counts the settlements
// on the queues it opens.
type countingDriver struct {
	drivers.Driver

	acked        atomic.Int64
	deadLettered atomic.Int64
	released     atomic.Int64
}

// Open returns a handle on the named queue that counts its settlements.
func (d *countingDriver) Open(ctx context.Context, name string, opts drivers.OpenOptions) (drivers.Queue, error) {
	queue, err := d.Driver.Open(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return &countingQueue{Queue: queue, driver: d}, nil
}

func (d *countingDriver) counts() Counts {
	return Counts{
		Acked:        int(d.acked.Load()),
		DeadLettered: int(d.deadLettered.Load()),
		Released:     int(d.released.Load()),
	}
}

// countingQueue counts the successful settlements of a Queue.
type countingQueue struct {
	drivers.Queue

	driver *countingDriver
}

// Ack deletes the message and counts it.
func (q *countingQueue) Ack(ctx context.Context, receipt string) error {
	if err := q.Queue.Ack(ctx, receipt); err != nil {
		return err
	}
	q.driver.acked.Add(1)
	return nil
}

// ChangeVisibility changes the message's visibility and counts a release,
// which is a change to zero. Retries and heartbeats hide the message for
// longer and are not counted.
func (q *countingQueue) ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	if err := q.Queue.ChangeVisibility(ctx, receipt, timeout); err != nil {
		return err
	}
	if timeout == 0 {
		q.driver.released.Add(1)
	}
	return nil
}

// DeadLetter moves the message and counts it.
func (q *countingQueue) DeadLetter(ctx context.Context, msg *drivers.Message, reason string) error {
	if err := q.Queue.DeadLetter(ctx, msg, reason); err != nil {
		return err
	}
	q.driver.deadLettered.Add(1)
	return nil
}
