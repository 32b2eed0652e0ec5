// Package runner moves one listener's messages from its queue to its
// plugin: a long-poll loop that receives only as many messages as there are
// free workers, a bounded pool of handler calls, and the outcome rules
// (ack, retry after backoff, dead-letter, release).
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// ReceiveWaitTime is the long-poll wait of one receive call.
const ReceiveWaitTime = 20 * time.Second

// errShutdown is the cause given to handler contexts cancelled because the
// host stops before they finished.
var errShutdown = errors.New("the host is shutting down")

// Plugins hands out the listener's running plugin process.
type Plugins interface {
	// Acquire returns the running plugin, waiting while it (re)starts.
	Acquire(ctx context.Context) (*supervisor.Instance, error)
}

// Runner consumes one listener's queue. It also serves the Host service
// that the listener's plugin calls to settle messages and send new ones.
type Runner struct {
	proto.UnimplementedHostServer

	listener config.Listener
	queue    drivers.Queue
	driver   drivers.Driver
	logger   hclog.Logger
	metrics  *metrics.Metrics

	// slots holds one token per free worker.
	slots chan struct{}

	mu         sync.Mutex
	deliveries map[uint64]*delivery
	nextID     atomic.Uint64
	inFlight   sync.WaitGroup

	// crashes counts, per message id, the plugin crashes a message was in
	// flight for.
	crashes *crashLog
	// logLimit rate-limits per-message log lines.
	logLimit *logLimiter

	// jobs feeds the worker goroutines; a worker slot is taken before a
	// job is sent, so a worker is always free to take it.
	jobs chan job

	// stopHeartbeat ends the heartbeat loop once Drain finished.
	stopHeartbeat chan struct{}
	heartbeatOnce sync.Once

	// handlerCtx is the parent of every Handle call; abortHandlers ends
	// them when the shutdown timeout passes.
	handlerCtx    context.Context
	abortHandlers context.CancelCauseFunc
}

// New returns a runner for listener on queue; driver serves the plugin's
// Send calls. m may be nil.
func New(listener config.Listener, queue drivers.Queue, driver drivers.Driver, logger hclog.Logger, m *metrics.Metrics) *Runner {
	handlerCtx, abort := context.WithCancelCause(context.Background())
	slots := make(chan struct{}, listener.Workers)
	for range listener.Workers {
		slots <- struct{}{}
	}

	return &Runner{
		listener:      listener,
		queue:         queue,
		driver:        driver,
		logger:        logger,
		metrics:       m,
		slots:         slots,
		deliveries:    make(map[uint64]*delivery),
		crashes:       newCrashLog(),
		logLimit:      newLogLimiter(),
		handlerCtx:    handlerCtx,
		abortHandlers: abort,
		stopHeartbeat: make(chan struct{}),
	}
}

// Run polls the queue and hands messages to the plugin until ctx ends.
// Messages received but not yet handed over when ctx ends are released at
// once; handlers already running go on (see Drain). Run returns an error
// only when the plugin has failed for good.
func (r *Runner) Run(ctx context.Context, plugins Plugins) error {
	r.heartbeatOnce.Do(func() { go r.heartbeatLoop(r.stopHeartbeat) })

	// Long-lived workers keep their grown stacks, where a goroutine per
	// message would grow a new one each time.
	r.jobs = make(chan job)
	defer close(r.jobs)
	for range r.listener.Workers {
		go r.work()
	}

	receiveFailures := 0
	for ctx.Err() == nil {
		instance, err := plugins.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		batch := instance.Batch()

		count, err := r.takeSlots(ctx, batch)
		if err != nil {
			return nil
		}
		receiveMax := count
		if batch {
			// One worker handles a whole batch of up to max_messages.
			receiveMax = r.listener.MaxMessages
		}

		messages, err := r.queue.Receive(ctx, drivers.ReceiveRequest{
			Max:               receiveMax,
			VisibilityTimeout: r.listener.VisibilityTimeout,
			WaitTime:          ReceiveWaitTime,
		})
		if batch {
			r.giveSlots(count - min(len(messages), 1))
		} else {
			r.giveSlots(count - len(messages))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			receiveFailures++
			r.metrics.ReceiveError(r.listener.Name)
			delay := receiveRetryDelay(receiveFailures)
			r.logger.Warn("receive failed", "queue", r.queue.Name(), "attempt", receiveFailures, "retry_in", delay.String(), "error", err)
			sleep(ctx, delay)
			continue
		}
		if receiveFailures > 0 {
			r.logger.Info("receive recovered", "queue", r.queue.Name(), "failed_attempts", receiveFailures)
			receiveFailures = 0
		}

		r.metrics.Received(r.listener.Name, len(messages))
		if batch && len(messages) > 0 {
			r.inFlight.Add(1)
			r.jobs <- job{pollCtx: ctx, plugins: plugins, messages: messages, batch: true}
			continue
		}
		for _, group := range groupMessages(messages) {
			// A group's messages run one after another on one worker.
			r.giveSlots(len(group) - 1)
			r.inFlight.Add(1)
			r.jobs <- job{pollCtx: ctx, plugins: plugins, messages: group}
		}
	}
	return nil
}

// Drain waits for running handlers to finish. When ctx ends first, it
// cancels them, releases their messages for redelivery and returns
// ctx's error once they have returned.
func (r *Runner) Drain(ctx context.Context) error {
	defer func() {
		// The loop is started once by Run; after Drain no message needs
		// it. A runner that never ran has no loop and nothing to stop.
		select {
		case <-r.stopHeartbeat:
		default:
			close(r.stopHeartbeat)
		}
	}()

	done := make(chan struct{})
	go func() {
		r.inFlight.Wait()
		close(done)
	}()

	select {
	case <-done:
		return nil
	case <-ctx.Done():
		r.abortHandlers(errShutdown)
		<-done
		return fmt.Errorf("drain listener %q: %w", r.listener.Name, context.Cause(ctx))
	}
}

// ReleaseInstance releases every message that instance was handling, for
// redelivery, records that each was in flight during a crash, and returns
// their ids. The supervisor calls it when the plugin process has died.
func (r *Runner) ReleaseInstance(instance *supervisor.Instance) []string {
	stderr := instance.StderrTail()
	var ids []string
	for _, d := range r.deliveriesOf(instance) {
		r.crashes.record(d.msg.ID, stderr)
		ids = append(ids, d.msg.ID)
		r.release(d, "plugin exited")
	}
	return ids
}

// job is one unit of work for a worker: a single message, a FIFO group's
// messages, or a batch for a batch listener.
type job struct {
	pollCtx  context.Context
	plugins  Plugins
	messages []*drivers.Message
	batch    bool
}

// work runs jobs until Run closes the channel.
func (r *Runner) work() {
	for j := range r.jobs {
		if j.batch {
			r.processVerdicts(j.pollCtx, j.plugins, j.messages)
		} else {
			r.processBatch(j.pollCtx, j.plugins, j.messages)
		}
	}
}

// groupMessages splits received messages into batches handled one after
// another: each message without a FIFO group alone, and the messages of
// each group together, in the order received.
func groupMessages(messages []*drivers.Message) [][]*drivers.Message {
	batches := make([][]*drivers.Message, 0, len(messages))
	groups := make(map[string]int)
	for _, msg := range messages {
		if msg.GroupID == "" {
			batches = append(batches, []*drivers.Message{msg})
			continue
		}
		if i, ok := groups[msg.GroupID]; ok {
			batches[i] = append(batches[i], msg)
			continue
		}
		groups[msg.GroupID] = len(batches)
		batches = append(batches, []*drivers.Message{msg})
	}
	return batches
}

// takeSlots waits for one free worker and, unless the listener handles
// batches, takes any others that are free, up to max_messages. One receive
// then never requests more messages than can start at once.
func (r *Runner) takeSlots(ctx context.Context, batch bool) (int, error) {
	select {
	case <-r.slots:
	case <-ctx.Done():
		return 0, ctx.Err()
	}

	count := 1
	if batch {
		return count, nil
	}
	for count < r.listener.MaxMessages {
		select {
		case <-r.slots:
			count++
		default:
			return count, nil
		}
	}
	return count, nil
}

func (r *Runner) giveSlots(count int) {
	for range count {
		r.slots <- struct{}{}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
