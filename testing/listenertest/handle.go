package listenertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// Outcome is the host's next step for a message after its Handle call.
type Outcome string

// Outcomes that Result.Outcome reports.
const (
	// OutcomeAcked means the message is deleted from its queue.
	OutcomeAcked Outcome = "acked"
	// OutcomeRetried means the message becomes visible again after a
	// backoff and is handled again.
	OutcomeRetried Outcome = "retried"
	// OutcomeDeadLettered means the message moves to the dead-letter
	// queue. Unless the handler rejected it, the host runs OnError first.
	OutcomeDeadLettered Outcome = "dead-lettered"
	// OutcomeReleased means the message becomes visible again at once.
	OutcomeReleased Outcome = "released"
)

// Result records one Handle call.
type Result struct {
	// Message is the message as Handle received it.
	Message *pluginapi.Message
	// Err is the error Handle returned, or its panic as an error.
	Err error
	// Permanent reports whether the host would dead-letter the message
	// without retries: Err was marked with pluginapi.Permanent or wraps
	// pluginapi.ErrInvalidBody.
	Permanent bool
	// InvalidBody reports whether Err wraps pluginapi.ErrInvalidBody.
	InvalidBody bool
	// Panicked reports whether Handle panicked. Err then holds the panic
	// value and the stack, as the SDK reports them to the host.
	Panicked bool
	// PanicValue is the value Handle panicked with.
	PanicValue any
	// TimedOut reports whether Handle returned an error after the handler
	// timeout set with WithHandlerTimeout had passed. The host then treats
	// the error as temporary, even one marked permanent. A nil error
	// returned after the timeout still counts as success.
	TimedOut bool
	// Acked reports whether the handler acked the message.
	Acked bool
	// Rejected reports whether the handler rejected the message without
	// requeue, which dead-letters it.
	Rejected bool
	// Requeued reports whether the handler rejected the message with
	// requeue, which makes it visible again at once.
	Requeued bool
	// Extended lists the durations of the handler's ExtendVisibility
	// calls that succeeded, in order.
	Extended []time.Duration
	// Sent lists the messages sent through StartupInfo.Sender while Handle
	// ran. When the test runs several Handle calls at once, it may include
	// messages that the other calls sent.
	Sent []SentMessage
	// Duration is how long Handle ran.
	Duration time.Duration

	autoAck      bool
	retryOnError bool
	maxRetries   int
}

// Outcome returns what the host would do with the message, given the
// harness's auto-ack and retry settings. The first settlement wins: a
// message the handler acked or rejected stays so whatever Handle returned.
// A failure is retried while ReceiveCount is at most max_retries.
//
// NOTE: these rules copy those of the host's runner (host/runner). A test
// with hosttest checks the real host where the difference matters.
func (r *Result) Outcome() Outcome {
	switch {
	case r.Acked:
		return OutcomeAcked
	case r.Rejected:
		return OutcomeDeadLettered
	case r.Requeued:
		return OutcomeReleased
	case r.TimedOut:
		return r.failureOutcome(false)
	case r.Err != nil:
		return r.failureOutcome(r.Permanent)
	case r.autoAck:
		return OutcomeAcked
	default:
		// auto_ack = false and the handler settled nothing.
		return OutcomeReleased
	}
}

func (r *Result) failureOutcome(permanent bool) Outcome {
	if !permanent && r.retryOnError && r.Message.ReceiveCount <= r.maxRetries {
		return OutcomeRetried
	}
	return OutcomeDeadLettered
}

// HandleOption changes the message, or the call, of Handle and Fail.
type HandleOption func(*handleSettings)

// handleSettings are the values that HandleOptions set.
type handleSettings struct {
	ctx            context.Context
	id             string
	receiveCount   int
	attributes     map[string]string
	userAttributes map[string]pluginapi.Attribute
}

// WithMessageID sets the message's ID. The default is "message-N", N
// counting the harness's messages from 1.
func WithMessageID(id string) HandleOption {
	return func(s *handleSettings) { s.id = id }
}

// WithReceiveCount sets the message's ReceiveCount, as on the n-th
// delivery. The default is 1. Outcome compares it with max_retries.
func WithReceiveCount(n int) HandleOption {
	return func(s *handleSettings) { s.receiveCount = n }
}

// WithAttributes sets broker attributes of the message, such as
// "SentTimestamp", over the defaults.
func WithAttributes(attributes map[string]string) HandleOption {
	return func(s *handleSettings) { s.attributes = attributes }
}

// WithUserAttributes sets the attributes that a sender set on the message.
func WithUserAttributes(attributes map[string]pluginapi.Attribute) HandleOption {
	return func(s *handleSettings) { s.userAttributes = attributes }
}

// WithContext sets the context passed to Handle or OnError, for example an
// ended one to check that a handler honours cancellation. The default is
// context.Background.
func WithContext(ctx context.Context) HandleOption {
	return func(s *handleSettings) { s.ctx = ctx }
}

// Handle delivers one message to the listener's Handle and records what
// happened. body is the message body: a string, []byte or json.RawMessage
// is used as it is, the Message of an earlier Result is delivered again
// with its ID and body, and any other value is encoded with encoding/json.
//
// Handle fails the test when body cannot be encoded, when the listener
// implements Startup and Start has not run, or after Stop. Call it from the
// test's goroutine, or, for a concurrent test, check those conditions first.
func (h *Harness) Handle(body any, options ...HandleOption) *Result {
	h.t.Helper()
	h.checkRunning()

	msg, s := h.newMessage(body, options)
	acknowledger := &recordingAcknowledger{messageID: msg.ID}
	if !h.settings.autoAck {
		msg.SetAcknowledger(acknowledger)
	}

	ctx := s.ctx
	var timeoutCause error
	if h.settings.handlerTimeout > 0 {
		var cancel context.CancelFunc
		timeoutCause = fmt.Errorf("handler timed out after %s", h.settings.handlerTimeout)
		ctx, cancel = context.WithTimeoutCause(ctx, h.settings.handlerTimeout, timeoutCause)
		defer cancel()
	}

	sentBefore := h.sender.count()
	started := time.Now()
	err, panicValue, panicked := callHandle(ctx, h.listener, msg)
	duration := time.Since(started)
	timedOut := err != nil && timeoutCause != nil && context.Cause(ctx) == timeoutCause
	acknowledger.finish()

	res := &Result{
		Message:      msg,
		Err:          err,
		Permanent:    pluginapi.IsPermanent(err),
		InvalidBody:  errors.Is(err, pluginapi.ErrInvalidBody),
		Panicked:     panicked,
		PanicValue:   panicValue,
		TimedOut:     timedOut,
		Sent:         h.sender.since(sentBefore),
		Duration:     duration,
		autoAck:      h.settings.autoAck,
		retryOnError: h.settings.retryOnError,
		maxRetries:   h.settings.maxRetries,
	}
	acknowledger.fill(res)
	return res
}

// newMessage builds the message for Handle or Fail.
func (h *Harness) newMessage(body any, options []HandleOption) (*pluginapi.Message, handleSettings) {
	h.t.Helper()

	h.mu.Lock()
	h.messages++
	number := h.messages
	h.mu.Unlock()

	s := handleSettings{
		ctx:          context.Background(),
		id:           "message-" + strconv.Itoa(number),
		receiveCount: 1,
	}
	now := time.Now()
	msg := &pluginapi.Message{
		Queue:          h.settings.queue,
		UserAttributes: make(map[string]pluginapi.Attribute),
		ReceiptHandle:  "receipt-" + strconv.Itoa(number),
		Timestamp:      now,
	}

	if earlier, ok := body.(*pluginapi.Message); ok && earlier != nil {
		s.id = earlier.ID
		msg.Body = bytes.Clone(earlier.Body)
		msg.Timestamp = earlier.Timestamp
		maps.Copy(msg.UserAttributes, earlier.UserAttributes)
	} else {
		data, err := encodeJSON(body)
		if err != nil {
			h.t.Fatalf("listenertest: encode message body: %v", err)
		}
		msg.Body = data
	}

	for _, option := range options {
		option(&s)
	}

	msg.ID = s.id
	msg.ReceiveCount = s.receiveCount
	msg.Attributes = map[string]string{
		"SentTimestamp":           strconv.FormatInt(msg.Timestamp.UnixMilli(), 10),
		"ApproximateReceiveCount": strconv.Itoa(s.receiveCount),
	}
	maps.Copy(msg.Attributes, s.attributes)
	maps.Copy(msg.UserAttributes, s.userAttributes)
	return msg, s
}

// callHandle calls Handle and recovers a panic into an error with the
// panic value and the stack, worded as the SDK words it.
func callHandle(ctx context.Context, listener pluginapi.Listener, msg *pluginapi.Message) (err error, panicValue any, panicked bool) {
	defer func() {
		if value := recover(); value != nil {
			err = fmt.Errorf("panic in Handle: %v\n%s", value, debug.Stack())
			panicValue = value
			panicked = true
		}
	}()

	return listener.Handle(ctx, msg), nil, false
}

// callHook runs a hook and turns its panic into an error, as the SDK does.
func callHook(hook func() error) (err error) {
	defer func() {
		if value := recover(); value != nil {
			err = fmt.Errorf("panic: %v\n%s", value, debug.Stack())
		}
	}()
	return hook()
}

// encodeJSON returns value as JSON: strings and byte slices as they are,
// other values encoded with encoding/json.
func encodeJSON(value any) ([]byte, error) {
	switch v := value.(type) {
	case nil:
		return []byte{}, nil
	case string:
		return []byte(v), nil
	case []byte:
		return bytes.Clone(v), nil
	case json.RawMessage:
		return bytes.Clone(v), nil
	}

	data, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("encode %T as JSON: %w", value, err)
	}
	return data, nil
}

// preview returns the start of data for error messages.
func preview(data []byte) string {
	const limit = 40
	if len(data) > limit {
		return strconv.Quote(string(data[:limit])) + "..."
	}
	return strconv.Quote(string(data))
}
