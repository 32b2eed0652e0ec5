package pluginapi

import (
	"context"
	"time"
)

// Sender enqueues messages through the host, on the driver of the sending
// listener, so a handler can schedule follow-up work.
type Sender interface {
	Send(ctx context.Context, queue string, msg OutgoingMessage) (id string, err error)
}

// OutgoingMessage is a message a handler enqueues.
type OutgoingMessage struct {
	// Body should be a JSON object, as listeners expect.
	Body           []byte
	UserAttributes map[string]Attribute
	// Delay keeps the message invisible for this long after it is sent.
	Delay time.Duration
}
