package pluginapi

import (
	"context"
	"encoding/json"
	"fmt"
)

// Listener handles the messages of one queue.
type Listener interface {
	// Handle processes one message. The context ends when the listener's
	// handler_timeout passes or the host shuts down; long work should watch
	// it. Handle must be safe for concurrent use.
	Handle(ctx context.Context, msg *Message) error
}

// HandlerFunc adapts an ordinary function to the Listener interface.
type HandlerFunc func(ctx context.Context, msg *Message) error

// Handle calls f(ctx, msg).
func (f HandlerFunc) Handle(ctx context.Context, msg *Message) error {
	return f(ctx, msg)
}

// Starter is implemented by listeners that need to set up before the first
// message, for example to read their config or open a connection. An error
// stops the plugin from starting; the host logs it and retries the start
// with backoff.
type Starter interface {
	Startup(ctx context.Context, info StartupInfo) error
}

// Stopper is implemented by listeners that release resources at shutdown.
// Shutdown runs once, on the same process that handled the messages, after
// the last Handle call has returned.
type Stopper interface {
	Shutdown(ctx context.Context) error
}

// ErrorHandler is implemented by listeners that want to know when a message
// has failed for good. OnError runs once per message, just before the host
// moves it to the dead-letter queue; err is the reason the host records.
type ErrorHandler interface {
	OnError(ctx context.Context, msg *Message, err error)
}

// StartupInfo describes the listener to its startup hook.
type StartupInfo struct {
	// Listener is the name in the listener block.
	Listener string
	// Queue is the queue the listener consumes.
	Queue string
	// AutoAck reports whether the host settles messages itself.
	AutoAck bool
	// Workers is the largest number of concurrent Handle calls.
	Workers int
	// Config is the block's config object encoded as JSON; "{}" when the
	// block has none.
	Config json.RawMessage
	// Sender enqueues follow-up messages through the host.
	Sender Sender
}

// DecodeConfig decodes the listener's config object into v, as
// json.Unmarshal does.
func (s StartupInfo) DecodeConfig(v any) error {
	if err := json.Unmarshal(s.Config, v); err != nil {
		return fmt.Errorf("decode config of listener %q: %w", s.Listener, err)
	}
	return nil
}
