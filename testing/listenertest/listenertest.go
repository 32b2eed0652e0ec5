// Package listenertest runs a pluginapi.Listener inside a test, without a
// host or a plugin process, and records what the listener did with each
// message.
//
// A Harness calls the listener's hooks the way the SDK does in a plugin
// process: Start runs Startup with a StartupInfo whose Sender records the
// messages sent, Handle runs Handle on one message and recovers a panic
// into an error with the stack, Fail runs OnError and Stop runs Shutdown.
// With auto-ack on, which is the default, Message.Ack, Reject and
// ExtendVisibility return pluginapi.ErrAutoAck as they do under the host.
// With WithAutoAck(false), a recording Acknowledger serves them:
//
//	func TestHandle(t *testing.T) {
//		h := listenertest.New(t, &Mailer{}, listenertest.WithConfig(`{"from": "noreply@example.com"}`))
//		require.NoError(t, h.Start())
//
//		res := h.Handle(map[string]any{"to": "a@example.com"})
//
//		require.NoError(t, res.Err)
//		assert.Equal(t, listenertest.OutcomeAcked, res.Outcome())
//	}
//
// For a test that runs the compiled plugin under the real host, use the
// hosttest package.
package listenertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// Defaults of a Harness, which match those of a listener block where the
// block has one.
const (
	// DefaultListenerName is the listener name that StartupInfo reports.
	DefaultListenerName = "test-listener"
	// DefaultQueue is the queue that StartupInfo and every message report.
	DefaultQueue = "test-queue"
	// DefaultWorkers is the workers value that StartupInfo reports.
	DefaultWorkers = 1
	// DefaultMaxRetries is the max_retries value that Outcome applies
	// when WithRetryOnError is used with a negative count.
	DefaultMaxRetries = 3
)

// TB is the part of testing.TB that a Harness uses. *testing.T, *testing.B
// and *testing.F implement it.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Harness runs one Listener in the test's process. Handle and Fail may be
// called from several goroutines at once, as the host does up to the
// workers setting. Start and Stop must not run concurrently with them.
type Harness struct {
	t        TB
	listener pluginapi.Listener
	settings settings
	sender   *recordingSender

	mu       sync.Mutex
	started  bool
	stopped  bool
	messages int
}

// settings are the values that Options set.
type settings struct {
	listenerName   string
	queue          string
	config         json.RawMessage
	autoAck        bool
	workers        int
	handlerTimeout time.Duration
	retryOnError   bool
	maxRetries     int
	forward        pluginapi.Sender
}

// Option changes a setting of New.
type Option func(*settings) error

// New returns a harness for listener. When the test ends, it runs the
// Shutdown hook if Start ran and Stop did not, and reports the hook's error
// with t.Errorf. An invalid Option fails the test with t.Fatalf.
func New(t TB, listener pluginapi.Listener, options ...Option) *Harness {
	t.Helper()

	if listener == nil {
		t.Fatalf("listenertest.New: the listener is nil")
		return nil
	}

	s := settings{
		listenerName: DefaultListenerName,
		queue:        DefaultQueue,
		config:       json.RawMessage("{}"),
		autoAck:      true,
		workers:      DefaultWorkers,
		maxRetries:   DefaultMaxRetries,
	}
	for _, option := range options {
		if err := option(&s); err != nil {
			t.Fatalf("listenertest.New: %v", err)
			return nil
		}
	}

	h := &Harness{
		t:        t,
		listener: listener,
		settings: s,
		sender:   &recordingSender{forward: s.forward},
	}
	t.Cleanup(h.cleanup)
	return h
}

// WithConfig sets the listener block's config object that Startup reads
// with StartupInfo.DecodeConfig. A string, []byte or json.RawMessage is
// taken as JSON text. Any other value is encoded with encoding/json. The
// result must be a JSON object, as the host always passes one. The default
// is "{}".
func WithConfig(config any) Option {
	return func(s *settings) error {
		data, err := encodeJSON(config)
		if err != nil {
			return fmt.Errorf("encode config: %w", err)
		}

		var object map[string]json.RawMessage
		if err := json.Unmarshal(data, &object); err != nil || object == nil {
			return fmt.Errorf("config %s is not a JSON object, but the host always passes an object such as {\"smtp_addr\": \"127.0.0.1:1025\"}", preview(data))
		}
		s.config = data
		return nil
	}
}

// WithAutoAck sets the listener's auto_ack. With false, Handle gives each
// message a recording Acknowledger, and Result reports what the handler
// called. The default is true.
func WithAutoAck(autoAck bool) Option {
	return func(s *settings) error {
		s.autoAck = autoAck
		return nil
	}
}

// WithWorkers sets the workers value that StartupInfo reports. It does not
// limit concurrent Handle calls, which the test makes itself.
func WithWorkers(workers int) Option {
	return func(s *settings) error {
		if workers < 1 {
			return fmt.Errorf("workers %d is invalid, must be at least 1", workers)
		}
		s.workers = workers
		return nil
	}
}

// WithListenerName sets the listener name that StartupInfo reports.
func WithListenerName(name string) Option {
	return func(s *settings) error {
		if name == "" {
			return errors.New("the listener name is empty")
		}
		s.listenerName = name
		return nil
	}
}

// WithQueue sets the queue that StartupInfo and every message report.
func WithQueue(queue string) Option {
	return func(s *settings) error {
		if queue == "" {
			return errors.New("the queue name is empty")
		}
		s.queue = queue
		return nil
	}
}

// WithHandlerTimeout bounds each Handle call like the listener's
// handler_timeout: the context passed to Handle ends after d, and a call
// still running then counts as a temporary failure (Result.TimedOut).
// Unlike the host, the harness waits for Handle to return. Zero, the
// default, means no limit.
func WithHandlerTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("handler timeout %s is invalid, must be zero or positive", d)
		}
		s.handlerTimeout = d
		return nil
	}
}

// WithRetryOnError sets retry_on_error = true and max_retries, which decide
// whether Result.Outcome reports a failed message as retried or
// dead-lettered. A negative maxRetries means DefaultMaxRetries. Without
// this option, a failure is dead-lettered at once, as with the host's
// default retry_on_error = false.
func WithRetryOnError(maxRetries int) Option {
	return func(s *settings) error {
		s.retryOnError = true
		if maxRetries >= 0 {
			s.maxRetries = maxRetries
		}
		return nil
	}
}

// WithSender passes every message that the listener sends through
// StartupInfo.Sender on to sender after recording it, and returns sender's
// id and error to the listener. A message that sender fails to send is not
// recorded. Without this option, every send succeeds with an id of the
// form "sent-N".
func WithSender(sender pluginapi.Sender) Option {
	return func(s *settings) error {
		s.forward = sender
		return nil
	}
}

// Start runs the listener's Startup hook, if it has one, with a
// StartupInfo built from the options. It returns the hook's error, or its
// panic as an error, wrapped as the SDK does. Start may run once per
// harness, as the host runs Startup once per plugin process.
func (h *Harness) Start() error {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		return errors.New("start listener: Start ran already, and the host runs Startup once per plugin process")
	}
	h.started = true
	h.mu.Unlock()

	starter, ok := h.listener.(pluginapi.Starter)
	if !ok {
		return nil
	}

	info := pluginapi.StartupInfo{
		Listener: h.settings.listenerName,
		Queue:    h.settings.queue,
		AutoAck:  h.settings.autoAck,
		Workers:  h.settings.workers,
		Config:   append(json.RawMessage(nil), h.settings.config...),
		Sender:   h.sender,
	}
	err := callHook(func() error { return starter.Startup(context.Background(), info) })
	if err != nil {
		return fmt.Errorf("startup hook of listener %q: %w", h.settings.listenerName, err)
	}
	return nil
}

// Stop runs the listener's Shutdown hook, if it has one, and returns its
// error, or its panic as an error. Stop may run once per harness. When a
// test does not call Stop, the harness calls it when the test ends.
func (h *Harness) Stop() error {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return errors.New("stop listener: Stop ran already, and the host runs Shutdown once per plugin process")
	}
	h.stopped = true
	h.mu.Unlock()

	stopper, ok := h.listener.(pluginapi.Stopper)
	if !ok {
		return nil
	}

	err := callHook(func() error { return stopper.Shutdown(context.Background()) })
	if err != nil {
		return fmt.Errorf("shutdown hook of listener %q: %w", h.settings.listenerName, err)
	}
	return nil
}

// Fail runs the listener's OnError hook, as the host does once for a
// message that failed for good, just before it dead-letters it. msg is a
// body as for Handle, or the Message of an earlier Result. The hook gets an
// error with err's text only, because the host passes the reason as text.
// Fail returns the hook's panic as an error, and nil when the listener has
// no OnError hook.
func (h *Harness) Fail(msg any, err error, options ...HandleOption) error {
	h.t.Helper()

	if err == nil {
		h.t.Fatalf("listenertest: Fail needs the error that made the message fail, got nil")
		return nil
	}
	message, _ := h.newMessage(msg, options)

	handler, ok := h.listener.(pluginapi.ErrorHandler)
	if !ok {
		return nil
	}

	reason := errors.New(err.Error())
	hookErr := callHook(func() error {
		handler.OnError(context.Background(), message, reason)
		return nil
	})
	if hookErr != nil {
		return fmt.Errorf("error hook of listener %q: %w", h.settings.listenerName, hookErr)
	}
	return nil
}

// Sent returns every message that the listener sent through
// StartupInfo.Sender so far, in the order they were sent.
func (h *Harness) Sent() []SentMessage {
	return h.sender.all()
}

// cleanup runs Shutdown when the test ends if Start ran and Stop did not.
func (h *Harness) cleanup() {
	h.mu.Lock()
	pending := h.started && !h.stopped
	h.mu.Unlock()
	if !pending {
		return
	}

	if err := h.Stop(); err != nil {
		h.t.Errorf("listenertest: stop the listener when the test ended: %v", err)
	}
}

// checkRunning fails the test when the host would not call Handle now:
// before Startup of a listener that has one, or after Shutdown.
func (h *Harness) checkRunning() {
	h.t.Helper()

	h.mu.Lock()
	started, stopped := h.started, h.stopped
	h.mu.Unlock()

	if _, isStarter := h.listener.(pluginapi.Starter); isStarter && !started {
		h.t.Fatalf("listenertest: call Start before Handle, because %T implements Startup, which the host always runs before the first message", h.listener)
	}
	if stopped {
		h.t.Fatalf("listenertest: Handle called after Stop, but the host never calls Handle after Shutdown")
	}
}
