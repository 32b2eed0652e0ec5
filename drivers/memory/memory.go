// Package memory implements drivers.Driver in the memory of the current
// process. Queues are created on first use and their messages are lost when
// the driver is closed or the process exits, so the driver suits tests and
// throughput benchmarks of the host rather than production use.
package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

var (
	_ drivers.Driver  = (*Driver)(nil)
	_ drivers.Depther = (*Driver)(nil)
)

// Driver is an in-process queue backend. The zero value is not usable: call
// New. Its methods are safe for concurrent use.
type Driver struct {
	mu     sync.RWMutex
	queues map[string]*queueState

	// closed is set and done is closed by Close, so blocked Receives can
	// select on done while other calls check closed cheaply.
	closed atomic.Bool
	done   chan struct{}

	// receipts numbers the receipt handles of this driver.
	receipts atomic.Uint64
}

// New returns an empty in-process driver.
func New() *Driver {
	return &Driver{
		queues: make(map[string]*queueState),
		done:   make(chan struct{}),
	}
}

// Open returns a handle on the named queue, creating the queue if needed.
// The dead-letter queue defaults to the name with drivers.DefaultDeadLetterSuffix
// appended and must differ from the queue itself.
func (d *Driver) Open(_ context.Context, name string, opts drivers.OpenOptions) (drivers.Queue, error) {
	deadLetterQueue, err := resolveDeadLetterQueue(name, opts)
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}

	state, err := d.queue(name)
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}

	return &queue{driver: d, state: state, deadLetterQueue: deadLetterQueue}, nil
}

// Send enqueues msg on the named queue, creating the queue if needed, and
// returns the new message's id. The body and attributes are copied, so the
// caller may reuse them.
func (d *Driver) Send(_ context.Context, queueName string, msg drivers.OutgoingMessage) (string, error) {
	if queueName == "" {
		return "", fmt.Errorf("send to queue %q: %w", queueName, errEmptyQueueName)
	}

	if msg.Delay < 0 {
		return "", fmt.Errorf("send to queue %q: delay %s is invalid, must be zero or positive", queueName, msg.Delay)
	}

	if msg.GroupID != "" || msg.DeduplicationID != "" {
		return "", fmt.Errorf("send to queue %q: the memory driver has no FIFO queues, so it takes no group or deduplication id; use a FIFO queue on sqs for ordered groups", queueName)
	}

	state, err := d.queue(queueName)
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queueName, err)
	}

	now := time.Now()
	m := &message{
		id:             newMessageID(),
		body:           cloneBody(msg.Body),
		userAttributes: cloneAttributes(msg.UserAttributes),
		sentAt:         now,
		visibleAt:      now.Add(msg.Delay),
	}
	state.add(m)

	return m.id, nil
}

// Close drops every queue and makes blocked Receives return an error
// wrapping drivers.ErrClosed. Every later call, Close included, returns
// drivers.ErrClosed.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()

	if d.closed.Load() {
		return drivers.ErrClosed
	}

	d.closed.Store(true)
	close(d.done)
	d.queues = nil

	return nil
}

// queue returns the state of the named queue, creating it on first use.
func (d *Driver) queue(name string) (*queueState, error) {
	if name == "" {
		return nil, errEmptyQueueName
	}

	d.mu.RLock()
	state, ok := d.queues[name]
	closed := d.closed.Load()
	d.mu.RUnlock()

	if closed {
		return nil, drivers.ErrClosed
	}

	if ok {
		return state, nil
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	if d.closed.Load() {
		return nil, drivers.ErrClosed
	}

	state, ok = d.queues[name]
	if !ok {
		state = newQueueState(name)
		d.queues[name] = state
	}

	return state, nil
}

// existingQueue returns the state of the named queue, or nil when no call
// has created it yet.
func (d *Driver) existingQueue(name string) (*queueState, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()

	if d.closed.Load() {
		return nil, drivers.ErrClosed
	}

	return d.queues[name], nil
}
