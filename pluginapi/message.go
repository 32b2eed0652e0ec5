package pluginapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// ErrInvalidBody is wrapped by the errors of Message.Decode and
// Message.Object when the body is not a JSON object or does not fit the
// value it is decoded into. A Handle error that wraps it makes the host
// dead-letter the message at once, without retries, because handling the
// same bytes again cannot succeed.
var ErrInvalidBody = errors.New("invalid message body")

// ErrAutoAck is returned by Ack, Reject and ExtendVisibility when the
// listener runs with auto_ack = true, so the host settles the message.
var ErrAutoAck = errors.New("the host settles messages itself because auto_ack is true")

// Message is one delivery of a queued message.
type Message struct {
	// ID is the broker's id of the message, the same on every delivery.
	ID string
	// Queue is the name of the queue the message came from.
	Queue string
	// Body is the message body as sent: a JSON object for well-formed
	// messages, but any bytes may arrive.
	Body []byte
	// Attributes are set by the broker, such as "SentTimestamp".
	Attributes map[string]string
	// UserAttributes are set by the sender.
	UserAttributes map[string]Attribute
	// ReceiptHandle identifies this delivery to the broker.
	ReceiptHandle string
	// ReceiveCount is how many times the message has been delivered,
	// counting this one; 1 on the first delivery.
	ReceiveCount int
	// Timestamp is when the message was sent.
	Timestamp time.Time

	acknowledger Acknowledger
}

// Attribute is a typed user attribute.
type Attribute struct {
	// DataType is "String", "Number", "Binary", or a custom type such as
	// "Number.int".
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Acknowledger settles a message by hand. Listeners with auto_ack = false
// use it through the Message methods of the same names.
type Acknowledger interface {
	// Ack deletes the message: it was handled.
	Ack(ctx context.Context) error
	// Reject gives the message up. With requeue it becomes visible again
	// at once; without, it moves to the dead-letter queue.
	Reject(ctx context.Context, requeue bool) error
	// ExtendVisibility hides the message from other receivers for d,
	// counted from now.
	ExtendVisibility(ctx context.Context, d time.Duration) error
}

// SetAcknowledger binds the message to a, which then serves Ack, Reject and
// ExtendVisibility. The SDK binds every delivered message to the host; test
// harnesses bind their own recorder.
func (m *Message) SetAcknowledger(a Acknowledger) {
	m.acknowledger = a
}

// Ack deletes the message from its queue. It returns ErrAutoAck when the
// host settles messages itself.
func (m *Message) Ack(ctx context.Context) error {
	if m.acknowledger == nil {
		return ErrAutoAck
	}
	return m.acknowledger.Ack(ctx)
}

// Reject gives the message up: with requeue it is delivered again, without
// it moves to the dead-letter queue. It returns ErrAutoAck when the host
// settles messages itself.
func (m *Message) Reject(ctx context.Context, requeue bool) error {
	if m.acknowledger == nil {
		return ErrAutoAck
	}
	return m.acknowledger.Reject(ctx, requeue)
}

// ExtendVisibility keeps the message hidden from other receivers for d,
// counted from now. The host already extends visibility while Handle runs;
// this call is for handlers that settle a message after Handle returns.
func (m *Message) ExtendVisibility(ctx context.Context, d time.Duration) error {
	if m.acknowledger == nil {
		return ErrAutoAck
	}
	return m.acknowledger.ExtendVisibility(ctx, d)
}

// Decode unmarshals the JSON object in the body into v. A body that is not
// a JSON object (empty, an array, plain text, invalid UTF-8) returns an
// error wrapping ErrInvalidBody.
func (m *Message) Decode(v any) error {
	if err := checkObject(m.Body); err != nil {
		return fmt.Errorf("decode message %s: %w", m.ID, err)
	}
	if err := json.Unmarshal(m.Body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("decode message %s: %w: field %q is a JSON %s, expected %s", m.ID, ErrInvalidBody, typeErr.Field, typeErr.Value, typeErr.Type)
		}
		if errors.As(err, &typeErr) {
			// A value without a field name, such as a number too large for
			// a float64 in Object's map.
			return fmt.Errorf("decode message %s: %w: a JSON %s does not fit %s", m.ID, ErrInvalidBody, typeErr.Value, typeErr.Type)
		}
		return fmt.Errorf("decode message %s: %w: the body is not a valid JSON object: %w", m.ID, ErrInvalidBody, err)
	}
	return nil
}

// Object returns the body decoded as a JSON object. Numbers become
// float64, so a number beyond float64's range is an invalid body. To keep
// such values, decode into a struct with json.Number fields with Decode.
func (m *Message) Object() (map[string]any, error) {
	var object map[string]any
	if err := m.Decode(&object); err != nil {
		return nil, err
	}
	return object, nil
}

// checkObject reports why body cannot be a JSON object.
func checkObject(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return fmt.Errorf("%w: the body is empty, expected a JSON object", ErrInvalidBody)
	case !utf8.Valid(body):
		return fmt.Errorf("%w: the body is not valid UTF-8", ErrInvalidBody)
	case trimmed[0] != '{':
		return fmt.Errorf("%w: the body is not a JSON object, it starts with %q", ErrInvalidBody, preview(trimmed))
	}
	return nil
}

// preview returns the first bytes of body for error messages.
func preview(body []byte) string {
	const limit = 16
	if len(body) > limit {
		return string(body[:limit]) + "..."
	}
	return string(body)
}
