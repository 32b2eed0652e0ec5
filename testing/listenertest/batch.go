package listenertest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// BatchResult records one HandleBatch call of a pluginapi.BatchListener.
type BatchResult struct {
	// Messages are the delivered messages, in order.
	Messages []*pluginapi.Message
	// Verdicts are the values HandleBatch returned, one per message when the call
	// succeeded.
	Verdicts []pluginapi.Verdict
	// Err is set when the call failed as a whole: a panic, or a number of
	// verdicts other than the number of messages. The host then fails
	// every message of the batch with it.
	Err error
	// Panicked is set when HandleBatch panicked.
	Panicked bool
	// Sent holds the messages sent through the Sender during the call.
	Sent []SentMessage
	// Duration is how long HandleBatch ran.
	Duration time.Duration
}

// Outcome returns what the host does with message i of the batch: acked
// for an ack verdict, retried for a retry verdict while attempts are left,
// and dead-lettered otherwise, as the host applies verdicts.
func (r *BatchResult) Outcome(i int, maxRetries int) Outcome {
	if r.Err != nil || i >= len(r.Verdicts) {
		return OutcomeDeadLettered
	}
	verdict := r.Verdicts[i]
	switch {
	case verdict.Action == pluginapi.ActionAck:
		return OutcomeAcked
	case verdict.Action == pluginapi.ActionRetry && !pluginapi.IsPermanent(verdict.Err) && r.Messages[i].ReceiveCount <= maxRetries:
		return OutcomeRetried
	}
	return OutcomeDeadLettered
}

// HandleBatch delivers one message per body to the listener's HandleBatch
// in one call and records the verdicts. It fails the test when the
// listener does not implement pluginapi.BatchListener. options apply to
// every message.
func (h *Harness) HandleBatch(bodies []any, options ...HandleOption) *BatchResult {
	h.t.Helper()
	h.checkRunning()

	batcher, ok := h.listener.(pluginapi.BatchListener)
	if !ok {
		h.t.Fatalf("listenertest: the listener %T does not implement pluginapi.BatchListener", h.listener)
		return nil
	}

	result := &BatchResult{}
	ctx := context.Background()
	for _, body := range bodies {
		msg, s := h.newMessage(body, options)
		ctx = s.ctx
		result.Messages = append(result.Messages, msg)
	}
	if h.settings.handlerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.settings.handlerTimeout)
		defer cancel()
	}

	sentBefore := h.sender.count()
	started := time.Now()
	result.Verdicts, result.Err, result.Panicked = callHandleBatch(ctx, batcher, result.Messages)
	result.Duration = time.Since(started)
	result.Sent = h.sender.since(sentBefore)

	if result.Err == nil && len(result.Verdicts) != len(result.Messages) {
		result.Err = fmt.Errorf("HandleBatch returned %d verdicts for %d messages", len(result.Verdicts), len(result.Messages))
	}
	return result
}

// callHandleBatch calls HandleBatch and recovers a panic into an error with
// the stack, as the SDK does.
func callHandleBatch(ctx context.Context, batcher pluginapi.BatchListener, msgs []*pluginapi.Message) (verdicts []pluginapi.Verdict, err error, panicked bool) {
	defer func() {
		if value := recover(); value != nil {
			err = errors.New(fmt.Sprintf("panic in HandleBatch: %v\n%s", value, debug.Stack()))
			panicked = true
		}
	}()
	return batcher.HandleBatch(ctx, msgs), nil, false
}
