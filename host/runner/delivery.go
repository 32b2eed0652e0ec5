package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// HandlerGracePeriod is how long a handler may run past handler_timeout,
// after its context was cancelled, before the host kills its plugin.
const HandlerGracePeriod = 5 * time.Second

// crashReleaseWait bounds how long a handler call that lost its plugin
// waits for the supervisor to release its message after the crash.
const crashReleaseWait = 10 * time.Second

// settleTimeout bounds one ack, visibility change or dead-letter call, and
// the OnError hook.
const settleTimeout = 30 * time.Second

// maxReasonBytes caps the failure reason stored with a dead-lettered
// message. A panic's stack can be long, and the reason counts towards the
// broker's message size limit.
const maxReasonBytes = 4096

// delivery is one received message on its way through a handler.
type delivery struct {
	id       uint64
	msg      *drivers.Message
	instance *supervisor.Instance

	mu      sync.Mutex
	settled bool
	// claimed is closed when the delivery is settled.
	claimed chan struct{}
	// outcome is the settlement of the message, once it is known.
	outcome metrics.Outcome
	// heartbeat is set while the message's visibility is kept extended,
	// next at nextExtend.
	heartbeat  bool
	nextExtend time.Time
}

// setOutcome records how the delivery was settled.
func (d *delivery) setOutcome(outcome metrics.Outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outcome = outcome
}

// done reports whether the message left its queue, acked or
// dead-lettered, so that the next message of its FIFO group may start.
func (d *delivery) done() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.outcome == metrics.OutcomeAcked || d.outcome == metrics.OutcomeDeadLettered
}

// claim marks the delivery settled and reports whether this caller is the
// one that settles it.
func (d *delivery) claim() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return false
	}
	d.settled = true
	close(d.claimed)
	return true
}

// processBatch handles messages one after another: a single message, or
// the messages of one FIFO group from one receive, in order. It holds one
// worker slot. When a message of a group is not done (it will be retried
// or was released), the later ones are released unhandled, so the group's
// order holds.
func (r *Runner) processBatch(pollCtx context.Context, plugins Plugins, messages []*drivers.Message) {
	defer r.inFlight.Done()
	defer r.giveSlots(1)

	deliveries := make([]*delivery, len(messages))
	for i, msg := range messages {
		deliveries[i] = r.register(msg)
	}
	r.metrics.InFlight(r.listener.Name, len(deliveries))
	defer r.metrics.InFlight(r.listener.Name, -len(deliveries))

	// Messages waiting for their turn keep their visibility.
	waiting := make([]func(), len(deliveries))
	for i, d := range deliveries[1:] {
		waiting[i+1] = r.startHeartbeat(d)
	}

	for i, d := range deliveries {
		if waiting[i] != nil {
			waiting[i]()
		}
		r.handle(pollCtx, plugins, d)
		r.unregister(d)
		if i == len(deliveries)-1 || d.done() {
			continue
		}

		for j, later := range deliveries[i+1:] {
			waiting[i+1+j]()
			r.release(later, "an earlier message of its group was not done")
			r.unregister(later)
		}
		r.logger.Debug("released the rest of a message group", "group_id", d.msg.GroupID, "count", len(deliveries)-i-1)
		return
	}
}

// handle hands one registered message to the plugin and applies the
// outcome.
func (r *Runner) handle(pollCtx context.Context, plugins Plugins, d *delivery) {
	msg := d.msg
	// A restart may be under way; the message waits for the new process
	// unless the host starts shutting down first.
	instance, err := plugins.Acquire(pollCtx)
	if err != nil {
		r.release(d, "not started before shutdown")
		r.logger.Debug("released message before handling", "message_id", msg.ID, "reason", err)
		return
	}
	r.setInstance(d, instance)

	if crashes, reason := r.crashes.check(msg.ID, r.crashLimit()); reason != "" {
		if d.claim() {
			r.logger.Error("message was in flight during too many plugin crashes, dead-lettering it",
				"message_id", msg.ID, "receive_count", msg.ReceiveCount, "crashes", crashes)
			r.deadLetterClaimed(d, reason)
		}
		return
	}

	stopHeartbeat := r.startHeartbeat(d)
	started := time.Now()
	response, err := r.callHandle(instance, d)
	stopHeartbeat()
	r.metrics.HandlerDone(r.listener.Name, time.Since(started), handlerResult(response, err))

	switch {
	case err != nil:
		r.handleCallError(d, err)
	case response.Error == "":
		r.succeed(d)
	case response.TimedOut:
		r.fail(d, fmt.Sprintf("handler timed out after %s: %s", r.listener.HandlerTimeout, response.Error), false)
	default:
		r.fail(d, response.Error, response.Permanent || response.InvalidBody)
	}
}

// handlerResult names how a Handle call ended, for the duration metric.
func handlerResult(response *proto.HandleResponse, err error) string {
	switch code := status.Code(err); {
	case err == nil && response.Error == "":
		return metrics.ResultOK
	case err == nil && response.TimedOut, code == codes.DeadlineExceeded:
		return metrics.ResultTimeout
	case code == codes.Unavailable || code == codes.Canceled:
		return metrics.ResultCrashed
	}
	return metrics.ResultError
}

func (r *Runner) crashLimit() int {
	if r.listener.CrashLimit > 0 {
		return r.listener.CrashLimit
	}
	return config.DefaultCrashLimit
}

// callHandle runs Handle in the plugin. With a handler timeout, the SDK
// cancels the handler's context when it passes, and the call itself gets
// HandlerGracePeriod more for the handler to notice.
func (r *Runner) callHandle(instance *supervisor.Instance, d *delivery) (*proto.HandleResponse, error) {
	ctx := r.handlerCtx
	if r.listener.HandlerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.listener.HandlerTimeout+HandlerGracePeriod)
		defer cancel()
	}

	return instance.Handle(ctx, &proto.HandleRequest{
		Message:    messageToProto(d.msg),
		DeliveryId: d.id,
		TimeoutMs:  r.listener.HandlerTimeout.Milliseconds(),
	})
}

// handleCallError decides what a failed Handle call means: an abandoned
// handler at shutdown and a dead plugin release the message, a timeout is
// a handler failure.
func (r *Runner) handleCallError(d *delivery, err error) {
	code := status.Code(err)
	switch {
	case r.handlerCtx.Err() != nil:
		if r.release(d, "shutdown timeout passed") {
			r.logger.Warn("handler abandoned at shutdown, message released", "message_id", d.msg.ID)
		}

	case code == codes.DeadlineExceeded:
		// The handler ignored its cancelled context for the whole grace
		// period. The plugin is killed so the stuck call stops using a
		// worker; the supervisor restarts it.
		r.logger.Error("handler ignored its cancelled context, killing the plugin", "message_id", d.msg.ID,
			"handler_timeout", r.listener.HandlerTimeout, "grace_period", HandlerGracePeriod, "pid", d.instance.Pid())
		r.fail(d, fmt.Sprintf("handler timed out after %s and ignored the cancellation for %s", r.listener.HandlerTimeout, HandlerGracePeriod), false)
		d.instance.MarkBroken()
		d.instance.Kill()

	case code == codes.Unavailable || code == codes.Canceled:
		// The plugin process died or its connection broke mid-call. The
		// message did not fail; it is handled again after the restart. The
		// supervisor releases it once it has seen the process exit, so the
		// crash is counted against the message and logged with its id.
		d.instance.MarkBroken()
		select {
		case <-d.claimed:
		case <-time.After(crashReleaseWait):
			if r.release(d, "plugin connection lost") {
				r.logger.Warn("plugin connection lost while handling, message released", "message_id", d.msg.ID, "error", err)
			}
		}

	default:
		r.fail(d, fmt.Sprintf("call Handle: %s", err), false)
	}
}

// succeed acks the message when the host settles messages; otherwise an
// unsettled message is released, as the handler neither acked nor
// rejected it.
func (r *Runner) succeed(d *delivery) {
	if !r.listener.AutoAck {
		if r.release(d, "handler returned without settling it") {
			r.logger.Warn("handler returned nil without acking or rejecting, message released", "message_id", d.msg.ID)
		}
		return
	}
	r.ack(d)
}

// fail retries the message after a backoff while retries are left, and
// otherwise runs the OnError hook and dead-letters it.
func (r *Runner) fail(d *delivery, reason string, permanent bool) {
	if !d.claim() {
		return
	}

	attempt := d.msg.ReceiveCount
	if !permanent && r.listener.RetryOnError && attempt <= r.listener.MaxRetries {
		r.scheduleRetry(d, reason, retryDelay(r.listener.RetryDelay, r.listener.MaxRetryDelay, attempt))
		return
	}

	r.deadLetterClaimed(d, reason)
}

// scheduleRetry hides a claimed message for delay, after which it is
// delivered again.
func (r *Runner) scheduleRetry(d *delivery, reason string, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()

	if err := r.queue.ChangeVisibility(ctx, d.msg.ReceiptHandle, delay); err != nil {
		r.logLimited(hclog.Error, "schedule retry failed, the message will be delivered again after its visibility timeout",
			"message_id", d.msg.ID, "error", err)
		return
	}
	d.setOutcome(metrics.OutcomeRetried)
	r.metrics.Outcome(r.listener.Name, metrics.OutcomeRetried)
	r.logLimited(hclog.Warn, "handler failed, retrying", "message_id", d.msg.ID, "attempt", d.msg.ReceiveCount,
		"max_retries", r.listener.MaxRetries, "retry_in", delay.String(), "error", firstLine(reason))
}

// deadLetterClaimed runs the OnError hook once and moves the message to
// the dead-letter queue. The caller has claimed the delivery. When the move
// fails the message stays in its queue.
func (r *Runner) deadLetterClaimed(d *delivery, reason string) {
	reason = truncate(reason, maxReasonBytes)
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()

	if d.instance != nil && !d.instance.Exited() {
		request := &proto.OnErrorRequest{Message: messageToProto(d.msg), Error: reason}
		if _, err := d.instance.Listener().OnError(ctx, request); err != nil {
			r.logger.Warn("error hook failed", "message_id", d.msg.ID, "error", err)
		}
	}

	if err := r.queue.DeadLetter(ctx, d.msg, reason); err != nil {
		r.logLimited(hclog.Error, "dead-letter failed, the message stays in its queue", "message_id", d.msg.ID, "error", err)
		return
	}
	r.crashes.forget(d.msg.ID)
	d.setOutcome(metrics.OutcomeDeadLettered)
	r.metrics.Outcome(r.listener.Name, metrics.OutcomeDeadLettered)
	r.logLimited(hclog.Error, "message dead-lettered", "message_id", d.msg.ID, "receive_count", d.msg.ReceiveCount,
		"dead_letter_queue", r.deadLetterQueueName(), "reason", firstLine(reason))
}

// release makes the message visible again at once, unless it was settled
// already, and reports whether it did.
func (r *Runner) release(d *delivery, cause string) bool {
	if !d.claim() {
		return false
	}

	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := r.queue.ChangeVisibility(ctx, d.msg.ReceiptHandle, 0); err != nil {
		r.logLimited(hclog.Error, "release failed, the message is delivered again after its visibility timeout",
			"message_id", d.msg.ID, "cause", cause, "error", err)
	}
	d.setOutcome(metrics.OutcomeReleased)
	r.metrics.Outcome(r.listener.Name, metrics.OutcomeReleased)
	return true
}

// deadLetterQueueName returns the name of the listener's dead-letter
// queue for logs: the configured one, or the default drivers use.
func (r *Runner) deadLetterQueueName() string {
	if r.listener.DeadLetterQueue != "" {
		return r.listener.DeadLetterQueue
	}
	return r.listener.Queue + drivers.DefaultDeadLetterSuffix
}

// startHeartbeat has the runner's heartbeat loop extend the message's
// visibility while its handler runs, and returns a function that stops
// it.
func (r *Runner) startHeartbeat(d *delivery) (stop func()) {
	d.mu.Lock()
	d.heartbeat = true
	d.nextExtend = time.Now().Add(r.heartbeatInterval())
	d.mu.Unlock()

	return func() {
		d.mu.Lock()
		d.heartbeat = false
		d.mu.Unlock()
	}
}

// heartbeatInterval is how often a running handler's message is
// extended: a third of the visibility timeout, so two extensions can fail
// before it lapses.
func (r *Runner) heartbeatInterval() time.Duration {
	return r.listener.VisibilityTimeout / 3
}

// heartbeatLoop extends, every tick, the visibility of each message whose
// extension is due, until stop is closed. One loop per runner serves every
// message, so a handler costs no goroutine or timer of its own.
func (r *Runner) heartbeatLoop(stop <-chan struct{}) {
	tick := min(r.heartbeatInterval()/4, time.Second)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()

	for {
		select {
		case <-stop:
			return
		case now := <-ticker.C:
			for _, d := range r.dueForExtension(now) {
				r.extend(d, r.listener.VisibilityTimeout)
			}
		}
	}
}

// dueForExtension returns the deliveries whose heartbeat is on and due,
// and schedules their next extension.
func (r *Runner) dueForExtension(now time.Time) []*delivery {
	r.mu.Lock()
	defer r.mu.Unlock()

	var due []*delivery
	for _, d := range r.deliveries {
		d.mu.Lock()
		if d.heartbeat && !d.settled && !now.Before(d.nextExtend) {
			d.nextExtend = now.Add(r.heartbeatInterval())
			due = append(due, d)
		}
		d.mu.Unlock()
	}
	return due
}

func (r *Runner) extend(d *delivery, timeout time.Duration) {
	d.mu.Lock()
	settled := d.settled
	d.mu.Unlock()
	if settled {
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := r.queue.ChangeVisibility(ctx, d.msg.ReceiptHandle, timeout); err != nil {
		r.logLimited(hclog.Warn, "extend visibility failed", "message_id", d.msg.ID, "error", err)
		return
	}
	r.metrics.VisibilityExtended(r.listener.Name)
	r.logger.Trace("visibility extended", "message_id", d.msg.ID, "timeout", timeout)
}

func (r *Runner) register(msg *drivers.Message) *delivery {
	d := &delivery{id: r.nextID.Add(1), msg: msg, claimed: make(chan struct{})}
	r.mu.Lock()
	r.deliveries[d.id] = d
	r.mu.Unlock()
	return d
}

func (r *Runner) unregister(d *delivery) {
	r.mu.Lock()
	delete(r.deliveries, d.id)
	r.mu.Unlock()
}

func (r *Runner) setInstance(d *delivery, instance *supervisor.Instance) {
	r.mu.Lock()
	d.instance = instance
	r.mu.Unlock()
}

func (r *Runner) lookup(id uint64) (*delivery, error) {
	r.mu.Lock()
	d, ok := r.deliveries[id]
	r.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "delivery %d is not in flight: its Handle call has returned", id)
	}
	return d, nil
}

func (r *Runner) deliveriesOf(instance *supervisor.Instance) []*delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*delivery
	for _, d := range r.deliveries {
		if d.instance == instance {
			out = append(out, d)
		}
	}
	return out
}

// messageToProto converts a received message to its wire form.
func messageToProto(msg *drivers.Message) *proto.Message {
	attributes := make(map[string]pluginapi.Attribute, len(msg.UserAttributes))
	for name, attribute := range msg.UserAttributes {
		attributes[name] = pluginapi.Attribute(attribute)
	}

	var sentAt int64
	if !msg.SentAt.IsZero() {
		sentAt = msg.SentAt.UnixNano()
	}
	return &proto.Message{
		Id:             msg.ID,
		Queue:          msg.Queue,
		Body:           msg.Body,
		Attributes:     msg.Attributes,
		UserAttributes: pluginapi.AttributesToProto(attributes),
		ReceiptHandle:  msg.ReceiptHandle,
		ReceiveCount:   int32(msg.ReceiveCount),
		SentAtUnixNano: sentAt,
	}
}
