package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// processVerdicts hands messages to a batch listener in one HandleBatch
// call and applies each message's verdict on its own. It holds one worker
// slot.
//
// NOTE: on FIFO queues a batch carries a group's messages in order, but a
// retry verdict for one of them does not hold back the later ones the
// listener acked in the same batch.
func (r *Runner) processVerdicts(pollCtx context.Context, plugins Plugins, messages []*drivers.Message) {
	defer r.inFlight.Done()
	defer r.giveSlots(1)

	deliveries := make([]*delivery, len(messages))
	for i, msg := range messages {
		deliveries[i] = r.register(msg)
	}
	defer func() {
		for _, d := range deliveries {
			r.unregister(d)
		}
	}()
	r.metrics.InFlight(r.listener.Name, len(deliveries))
	defer r.metrics.InFlight(r.listener.Name, -len(deliveries))

	instance, err := plugins.Acquire(pollCtx)
	if err != nil {
		for _, d := range deliveries {
			r.release(d, "not started before shutdown")
		}
		return
	}

	request := &proto.HandleBatchRequest{TimeoutMs: r.listener.HandlerTimeout.Milliseconds()}
	var stops []func()
	for _, d := range deliveries {
		r.setInstance(d, instance)
		request.Messages = append(request.Messages, messageToProto(d.msg))
		request.DeliveryIds = append(request.DeliveryIds, d.id)
		stops = append(stops, r.startHeartbeat(d))
	}

	ctx := r.handlerCtx
	if r.listener.HandlerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.listener.HandlerTimeout+HandlerGracePeriod)
		defer cancel()
	}
	started := time.Now()
	response, err := instance.Listener().HandleBatch(ctx, request)
	if err == nil {
		instance.MarkProgress()
	}
	for _, stop := range stops {
		stop()
	}
	r.metrics.HandlerDone(r.listener.Name, time.Since(started), batchResult(response, err))

	switch {
	case err != nil:
		for _, d := range deliveries {
			r.handleCallError(d, err)
		}
	case response.Error != "":
		for _, d := range deliveries {
			r.fail(d, response.Error, false)
		}
	default:
		for i, d := range deliveries {
			r.applyVerdict(d, response.Verdicts[i])
		}
	}
}

// applyVerdict settles one message of a batch by its verdict.
func (r *Runner) applyVerdict(d *delivery, verdict *proto.Verdict) {
	switch verdict.Action {
	case proto.Verdict_ACK:
		r.ack(d)
	case proto.Verdict_RETRY:
		r.retry(d, verdict.Reason, time.Duration(verdict.DelayMs)*time.Millisecond)
	default:
		if d.claim() {
			r.deadLetterClaimed(d, verdict.Reason)
		}
	}
}

// ack deletes the message. Batch verdicts use it regardless of auto_ack,
// because a batch listener settles each message through its verdict.
func (r *Runner) ack(d *delivery) {
	if !d.claim() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := r.ackClaimed(ctx, d); err != nil {
		r.logLimited(hclog.Error, "ack failed, the message will be delivered again", "message_id", d.msg.ID, "error", err)
		return
	}
	r.logger.Debug("message handled", "message_id", d.msg.ID)
}

// ackClaimed deletes a claimed message and records it as acked.
func (r *Runner) ackClaimed(ctx context.Context, d *delivery) error {
	if err := r.queue.Ack(ctx, d.msg.ReceiptHandle); err != nil {
		return err
	}
	r.crashes.forget(d.msg.ID)
	d.setOutcome(metrics.OutcomeAcked)
	r.metrics.Outcome(r.listener.Name, metrics.OutcomeAcked)
	return nil
}

// retry hides the message for delay, or for the listener's backoff when
// delay is zero, while retries are left, and dead-letters it otherwise.
func (r *Runner) retry(d *delivery, reason string, delay time.Duration) {
	if !d.claim() {
		return
	}
	attempt := d.msg.ReceiveCount
	if attempt > r.listener.MaxRetries {
		r.deadLetterClaimed(d, fmt.Sprintf("%s (after %d attempts)", reason, attempt))
		return
	}
	if delay <= 0 {
		delay = retryDelay(r.listener.RetryDelay, r.listener.MaxRetryDelay, attempt)
	}
	r.scheduleRetry(d, reason, delay)
}

// batchResult names how a HandleBatch call ended, for the duration
// metric.
func batchResult(response *proto.HandleBatchResponse, err error) string {
	switch {
	case err != nil:
		return handlerResult(nil, err)
	case response.TimedOut:
		return metrics.ResultTimeout
	case response.Error != "":
		return metrics.ResultError
	}
	return metrics.ResultOK
}
