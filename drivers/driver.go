// Package drivers defines the contract between the Vega host and a queue
// backend, and holds its implementations as sub-packages: memory (in
// process, for tests), sqlite (the embedded default) and later sqs.
//
// A driver gives at-least-once delivery with visibility timeouts, in the
// shape of Amazon SQS: a received message is hidden from other receivers
// until it is acked, its visibility timeout lapses, or its visibility is
// changed. Implementers provide Driver and Queue; optional capabilities are
// separate interfaces that the host finds by type assertion.
package drivers

import (
	"context"
	"errors"
	"time"
)

// Errors that callers test with errors.Is.
var (
	// ErrQueueNotFound is returned when a queue does not exist and the
	// driver cannot create it.
	ErrQueueNotFound = errors.New("queue not found")

	// ErrInvalidReceipt is returned by Ack, ChangeVisibility and DeadLetter
	// when the receipt handle is unknown or no longer current: the message
	// was acked already, or its visibility lapsed and it was received again.
	ErrInvalidReceipt = errors.New("receipt handle is invalid or expired")

	// ErrClosed is returned by every call made after Close.
	ErrClosed = errors.New("driver is closed")
)

// DeadLetterReasonAttribute is the user attribute in which DeadLetter stores
// the reason a message failed.
const DeadLetterReasonAttribute = "vega.dead_letter_reason"

// DeadLetterSourceAttribute is the user attribute in which DeadLetter stores
// the name of the queue the message came from.
const DeadLetterSourceAttribute = "vega.dead_letter_source"

// Driver is a connection to one queue backend. Its methods are safe for
// concurrent use.
type Driver interface {
	// Open resolves the queue by name and returns a handle on it. Drivers
	// that can create queues on demand (memory, sqlite) do so; others
	// return an error wrapping ErrQueueNotFound.
	Open(ctx context.Context, name string, opts OpenOptions) (Queue, error)

	// Send enqueues a message on the named queue and returns its id.
	Send(ctx context.Context, queue string, msg OutgoingMessage) (string, error)

	// Close releases the backend's resources. Calls blocked in Receive
	// return ErrClosed.
	Close() error
}

// OpenOptions configures a Queue handle.
type OpenOptions struct {
	// DeadLetterQueue is the queue that DeadLetter moves messages to. When
	// empty, drivers without a broker-side redrive policy use the source
	// queue's name with DefaultDeadLetterSuffix appended.
	DeadLetterQueue string
}

// DefaultDeadLetterSuffix names a queue's dead-letter queue when none is
// configured: queue "emails" dead-letters to "emails-dlq".
const DefaultDeadLetterSuffix = "-dlq"

// Queue is a handle on one queue. Its methods are safe for concurrent use.
type Queue interface {
	// Name returns the queue's name.
	Name() string

	// Receive returns up to req.Max visible messages and hides each one for
	// req.VisibilityTimeout. When none is visible it waits up to
	// req.WaitTime for one to arrive (long polling) and then returns an
	// empty slice and a nil error. It returns ctx.Err() when ctx ends first.
	Receive(ctx context.Context, req ReceiveRequest) ([]*Message, error)

	// Ack deletes a received message.
	Ack(ctx context.Context, receipt string) error

	// ChangeVisibility hides a received message for timeout counted from
	// now. A zero timeout makes it visible at once (release); a positive
	// one either delays its redelivery (retry backoff) or extends the
	// time a running handler has (heartbeat).
	ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error

	// DeadLetter moves a received message to the dead-letter queue with
	// its body and attributes, adding reason as DeadLetterReasonAttribute.
	// The move is atomic where the backend allows; where it does not, the
	// source message is kept when the move fails.
	DeadLetter(ctx context.Context, msg *Message, reason string) error
}

// ReceiveRequest holds the parameters of one Receive call.
type ReceiveRequest struct {
	// Max is the largest number of messages to return, at least 1.
	Max int
	// VisibilityTimeout hides the received messages for this long.
	VisibilityTimeout time.Duration
	// WaitTime is how long to wait for a message when none is visible.
	WaitTime time.Duration
}

// Message is a received message.
type Message struct {
	ID    string
	Queue string
	Body  []byte

	// Attributes are set by the backend (for example SentTimestamp).
	Attributes map[string]string
	// UserAttributes are set by the sender and passed on unchanged.
	UserAttributes map[string]Attribute

	// ReceiptHandle identifies this receive in Ack, ChangeVisibility and
	// DeadLetter. Each receive of the same message gets a new handle.
	ReceiptHandle string
	// ReceiveCount is how many times the message has been received,
	// counting this time, starting at 1.
	ReceiveCount int
	// SentAt is when the message was first enqueued.
	SentAt time.Time
	// GroupID is the FIFO message group, empty on standard queues. The
	// host never handles two messages of one group at the same time.
	GroupID string
}

// Attribute is a typed user attribute, as in SQS message attributes.
type Attribute struct {
	// DataType is "String", "Number", "Binary", or a custom type with a
	// suffix such as "Number.int".
	DataType    string
	StringValue string
	BinaryValue []byte
}

// OutgoingMessage is a message to send.
type OutgoingMessage struct {
	Body           []byte
	UserAttributes map[string]Attribute
	// Delay keeps the message invisible for this long after it is sent.
	Delay time.Duration
	// GroupID and DeduplicationID are required by FIFO queues (the
	// latter unless the queue deduplicates by content) and rejected by
	// standard ones.
	GroupID         string
	DeduplicationID string
}

// Depther is implemented by drivers that can count a queue's messages.
type Depther interface {
	// Depth returns how many messages of the queue are visible now and how
	// many are in flight (received and not yet acked, or delayed).
	Depth(ctx context.Context, queue string) (visible, inFlight int, err error)
}

// BatchAcker is implemented by queues that can ack several received
// messages in one call, with fewer round trips or transactions than one
// Ack per message. Callers that hold several receipts at once, such as a
// listener that handled a batch, prefer it over Ack when the queue has it.
type BatchAcker interface {
	// AckBatch deletes the received messages that receipts identify. It
	// returns one error per receipt, in the same order: nil when the
	// message was deleted, an error wrapping ErrInvalidReceipt when the
	// receipt is unknown or no longer current, or the error that stopped
	// the delete. Every entry wraps ErrClosed after Close. It may block
	// like Ack and is safe for concurrent use.
	AckBatch(ctx context.Context, receipts []string) []error
}
