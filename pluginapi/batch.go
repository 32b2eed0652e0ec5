package pluginapi

import (
	"context"
	"time"
)

// BatchListener is implemented by listeners that handle several messages
// in one call, such as a listener that writes rows to a database in bulk.
// The host then calls HandleBatch with up to max_messages messages instead
// of calling Handle once per message, and applies each message's verdict
// on its own, so one bad message does not fail the others.
//
// A BatchListener still implements Listener, whose Handle may simply call
// HandleBatch with one message.
type BatchListener interface {
	Listener

	// HandleBatch returns one verdict per message, in the same order. A
	// result of another length fails every message of the batch.
	HandleBatch(ctx context.Context, msgs []*Message) []Verdict
}

// Action is the host's next step for one message of a batch.
type Action int

// Actions of a Verdict.
const (
	// ActionAck deletes the message: it was handled.
	ActionAck Action = iota
	// ActionRetry makes the message visible again after Delay, or after
	// the listener's backoff when Delay is zero. The listener's
	// max_retries still applies: past it the message is dead-lettered.
	ActionRetry
	// ActionDeadLetter moves the message to the dead-letter queue.
	ActionDeadLetter
)

// Verdict is the outcome of one message of a batch.
type Verdict struct {
	Action Action
	// Delay applies to ActionRetry.
	Delay time.Duration
	// Err is the failure reason for ActionRetry and ActionDeadLetter.
	Err error
}

// Acked returns the verdict for a handled message.
func Acked() Verdict {
	return Verdict{Action: ActionAck}
}

// RetryAfter returns the verdict for a message to handle again after
// delay; a zero delay uses the listener's backoff.
func RetryAfter(delay time.Duration, err error) Verdict {
	return Verdict{Action: ActionRetry, Delay: delay, Err: err}
}

// DeadLettered returns the verdict for a message that cannot succeed.
func DeadLettered(err error) Verdict {
	return Verdict{Action: ActionDeadLetter, Err: err}
}
