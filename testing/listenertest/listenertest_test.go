package listenertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/testing/listenertest"
)

// hooks is a listener whose every hook is a function field, so each test
// sets only the behaviour it checks.
type hooks struct {
	handle   func(ctx context.Context, msg *pluginapi.Message) error
	startup  func(ctx context.Context, info pluginapi.StartupInfo) error
	shutdown func(ctx context.Context) error
	onError  func(ctx context.Context, msg *pluginapi.Message, err error)
}

func (l *hooks) Handle(ctx context.Context, msg *pluginapi.Message) error {
	if l.handle == nil {
		return nil
	}
	return l.handle(ctx, msg)
}

func (l *hooks) Startup(ctx context.Context, info pluginapi.StartupInfo) error {
	if l.startup == nil {
		return nil
	}
	return l.startup(ctx, info)
}

func (l *hooks) Shutdown(ctx context.Context) error {
	if l.shutdown == nil {
		return nil
	}
	return l.shutdown(ctx)
}

func (l *hooks) OnError(ctx context.Context, msg *pluginapi.Message, err error) {
	if l.onError != nil {
		l.onError(ctx, msg, err)
	}
}

// started returns a harness for listener on which Start has run.
func started(t *testing.T, listener pluginapi.Listener, options ...listenertest.Option) *listenertest.Harness {
	t.Helper()
	h := listenertest.New(t, listener, options...)
	require.NoError(t, h.Start())
	return h
}

func TestHandleOutcomes(t *testing.T) {
	errTemporary := errors.New("connection refused")

	tests := []struct {
		name         string
		handle       pluginapi.HandlerFunc
		options      []listenertest.Option
		body         string
		receiveCount int

		wantOutcome  listenertest.Outcome
		wantErr      bool
		wantPerm     bool
		wantInvalid  bool
		wantAcked    bool
		wantRejected bool
		wantRequeued bool
	}{
		{
			name:        "nil with auto-ack",
			handle:      func(context.Context, *pluginapi.Message) error { return nil },
			wantOutcome: listenertest.OutcomeAcked,
		},
		{
			name:        "error without retry_on_error",
			handle:      func(context.Context, *pluginapi.Message) error { return errTemporary },
			wantOutcome: listenertest.OutcomeDeadLettered,
			wantErr:     true,
		},
		{
			name:         "error with retries left",
			handle:       func(context.Context, *pluginapi.Message) error { return errTemporary },
			options:      []listenertest.Option{listenertest.WithRetryOnError(3)},
			receiveCount: 3,
			wantOutcome:  listenertest.OutcomeRetried,
			wantErr:      true,
		},
		{
			name:         "error on the last attempt",
			handle:       func(context.Context, *pluginapi.Message) error { return errTemporary },
			options:      []listenertest.Option{listenertest.WithRetryOnError(3)},
			receiveCount: 4,
			wantOutcome:  listenertest.OutcomeDeadLettered,
			wantErr:      true,
		},
		{
			name: "permanent error with retries left",
			handle: func(context.Context, *pluginapi.Message) error {
				return fmt.Errorf("send mail: %w", pluginapi.Permanent(errors.New("invalid address")))
			},
			options:     []listenertest.Option{listenertest.WithRetryOnError(3)},
			wantOutcome: listenertest.OutcomeDeadLettered,
			wantErr:     true,
			wantPerm:    true,
		},
		{
			name: "invalid body with retries left",
			handle: func(_ context.Context, msg *pluginapi.Message) error {
				var body map[string]any
				return msg.Decode(&body)
			},
			options:     []listenertest.Option{listenertest.WithRetryOnError(3)},
			body:        "plain text",
			wantOutcome: listenertest.OutcomeDeadLettered,
			wantErr:     true,
			wantPerm:    true,
			wantInvalid: true,
		},
		{
			name: "manual ack",
			handle: func(ctx context.Context, msg *pluginapi.Message) error {
				return msg.Ack(ctx)
			},
			options:     []listenertest.Option{listenertest.WithAutoAck(false)},
			wantOutcome: listenertest.OutcomeAcked,
			wantAcked:   true,
		},
		{
			name: "manual reject without requeue",
			handle: func(ctx context.Context, msg *pluginapi.Message) error {
				return msg.Reject(ctx, false)
			},
			options:      []listenertest.Option{listenertest.WithAutoAck(false)},
			wantOutcome:  listenertest.OutcomeDeadLettered,
			wantRejected: true,
		},
		{
			name: "manual reject with requeue",
			handle: func(ctx context.Context, msg *pluginapi.Message) error {
				return msg.Reject(ctx, true)
			},
			options:      []listenertest.Option{listenertest.WithAutoAck(false)},
			wantOutcome:  listenertest.OutcomeReleased,
			wantRequeued: true,
		},
		{
			name:        "manual mode returns nil unsettled",
			handle:      func(context.Context, *pluginapi.Message) error { return nil },
			options:     []listenertest.Option{listenertest.WithAutoAck(false)},
			wantOutcome: listenertest.OutcomeReleased,
		},
		{
			name: "manual ack then error",
			handle: func(ctx context.Context, msg *pluginapi.Message) error {
				if err := msg.Ack(ctx); err != nil {
					return err
				}
				return errTemporary
			},
			options:     []listenertest.Option{listenertest.WithAutoAck(false), listenertest.WithRetryOnError(3)},
			wantOutcome: listenertest.OutcomeAcked,
			wantErr:     true,
			wantAcked:   true,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t, tt.handle, tt.options...)

			var options []listenertest.HandleOption
			if tt.receiveCount > 0 {
				options = append(options, listenertest.WithReceiveCount(tt.receiveCount))
			}
			body := tt.body
			if body == "" {
				body = "{}"
			}
			res := h.Handle(body, options...)

			assert.Equal(t, tt.wantOutcome, res.Outcome(), "outcome")
			assert.Equal(t, tt.wantErr, res.Err != nil, "error returned: %v", res.Err)
			assert.Equal(t, tt.wantPerm, res.Permanent, "permanent")
			assert.Equal(t, tt.wantInvalid, res.InvalidBody, "invalid body")
			assert.Equal(t, tt.wantAcked, res.Acked, "acked")
			assert.Equal(t, tt.wantRejected, res.Rejected, "rejected")
			assert.Equal(t, tt.wantRequeued, res.Requeued, "requeued")
			assert.False(t, res.Panicked, "panicked")
		})
	}
}

func TestHandleRecoversPanic(t *testing.T) {
	h := started(t, pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error {
		panic("nil map")
	}), listenertest.WithRetryOnError(1))

	res := h.Handle(`{"id": 1}`)

	assert.True(t, res.Panicked)
	assert.Equal(t, "nil map", res.PanicValue)
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "panic in Handle: nil map", "the error names the panic")
	assert.Contains(t, res.Err.Error(), "goroutine", "the error carries the stack")
	assert.False(t, res.Permanent, "a panic is a temporary failure")
	assert.Equal(t, listenertest.OutcomeRetried, res.Outcome())
}

func TestAutoAckMessageMethodsReturnErrAutoAck(t *testing.T) {
	var ackErr, rejectErr, extendErr error
	h := started(t, pluginapi.HandlerFunc(func(ctx context.Context, msg *pluginapi.Message) error {
		ackErr = msg.Ack(ctx)
		rejectErr = msg.Reject(ctx, true)
		extendErr = msg.ExtendVisibility(ctx, time.Minute)
		return nil
	}))

	res := h.Handle("{}")

	assert.ErrorIs(t, ackErr, pluginapi.ErrAutoAck)
	assert.ErrorIs(t, rejectErr, pluginapi.ErrAutoAck)
	assert.ErrorIs(t, extendErr, pluginapi.ErrAutoAck)
	assert.False(t, res.Acked, "nothing is recorded with auto-ack")
	assert.Equal(t, listenertest.OutcomeAcked, res.Outcome())
}

func TestAcknowledgerRules(t *testing.T) {
	tests := []struct {
		name    string
		calls   func(ctx context.Context, msg *pluginapi.Message) error
		wantErr string
	}{
		{
			name: "second ack",
			calls: func(ctx context.Context, msg *pluginapi.Message) error {
				_ = msg.Ack(ctx)
				return msg.Ack(ctx)
			},
			wantErr: "settled already",
		},
		{
			name: "reject after ack",
			calls: func(ctx context.Context, msg *pluginapi.Message) error {
				_ = msg.Ack(ctx)
				return msg.Reject(ctx, true)
			},
			wantErr: "settled already",
		},
		{
			name: "extend after reject",
			calls: func(ctx context.Context, msg *pluginapi.Message) error {
				_ = msg.Reject(ctx, false)
				return msg.ExtendVisibility(ctx, time.Minute)
			},
			wantErr: "settled it already",
		},
		{
			name: "extend by zero",
			calls: func(ctx context.Context, msg *pluginapi.Message) error {
				return msg.ExtendVisibility(ctx, 0)
			},
			wantErr: "must be at least 1ms",
		},
		{
			name: "ack with an ended context",
			calls: func(ctx context.Context, msg *pluginapi.Message) error {
				ended, cancel := context.WithCancel(ctx)
				cancel()
				return msg.Ack(ended)
			},
			wantErr: "context canceled",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var callErr error
			h := started(t, pluginapi.HandlerFunc(func(ctx context.Context, msg *pluginapi.Message) error {
				callErr = tt.calls(ctx, msg)
				return nil
			}), listenertest.WithAutoAck(false))

			h.Handle("{}")

			require.Error(t, callErr)
			assert.Contains(t, callErr.Error(), tt.wantErr)
		})
	}
}

func TestAcknowledgerAfterHandleReturned(t *testing.T) {
	var kept *pluginapi.Message
	h := started(t, pluginapi.HandlerFunc(func(_ context.Context, msg *pluginapi.Message) error {
		kept = msg
		return nil
	}), listenertest.WithAutoAck(false))

	res := h.Handle("{}")
	err := kept.Ack(context.Background())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "Handle call has returned")
	assert.False(t, res.Acked, "the late ack is not recorded")
}

func TestExtendVisibilityRecorded(t *testing.T) {
	h := started(t, pluginapi.HandlerFunc(func(ctx context.Context, msg *pluginapi.Message) error {
		if err := msg.ExtendVisibility(ctx, time.Minute); err != nil {
			return err
		}
		if err := msg.ExtendVisibility(ctx, 90*time.Second); err != nil {
			return err
		}
		return msg.Ack(ctx)
	}), listenertest.WithAutoAck(false))

	res := h.Handle("{}")

	require.NoError(t, res.Err)
	assert.Equal(t, []time.Duration{time.Minute, 90 * time.Second}, res.Extended)
	assert.True(t, res.Acked)
}

func TestStartPassesStartupInfo(t *testing.T) {
	var info pluginapi.StartupInfo
	listener := &hooks{startup: func(_ context.Context, i pluginapi.StartupInfo) error {
		info = i
		return nil
	}}
	h := listenertest.New(t, listener,
		listenertest.WithListenerName("send-email"),
		listenertest.WithQueue("emails"),
		listenertest.WithWorkers(4),
		listenertest.WithAutoAck(false),
		listenertest.WithConfig(map[string]any{"smtp_addr": "127.0.0.1:1025"}))

	require.NoError(t, h.Start())

	assert.Equal(t, "send-email", info.Listener)
	assert.Equal(t, "emails", info.Queue)
	assert.Equal(t, 4, info.Workers)
	assert.False(t, info.AutoAck)
	assert.NotNil(t, info.Sender)
	var config struct {
		SMTPAddr string `json:"smtp_addr"`
	}
	require.NoError(t, info.DecodeConfig(&config))
	assert.Equal(t, "127.0.0.1:1025", config.SMTPAddr)
}

func TestStartDefaults(t *testing.T) {
	var info pluginapi.StartupInfo
	listener := &hooks{startup: func(_ context.Context, i pluginapi.StartupInfo) error {
		info = i
		return nil
	}}

	require.NoError(t, listenertest.New(t, listener).Start())

	assert.Equal(t, listenertest.DefaultListenerName, info.Listener)
	assert.Equal(t, listenertest.DefaultQueue, info.Queue)
	assert.Equal(t, listenertest.DefaultWorkers, info.Workers)
	assert.True(t, info.AutoAck)
	assert.JSONEq(t, "{}", string(info.Config))
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		startup func(context.Context, pluginapi.StartupInfo) error
		want    []string
	}{
		{
			name:    "error",
			startup: func(context.Context, pluginapi.StartupInfo) error { return errors.New("smtp_addr is missing") },
			want:    []string{`startup hook of listener "test-listener"`, "smtp_addr is missing"},
		},
		{
			name:    "panic",
			startup: func(context.Context, pluginapi.StartupInfo) error { panic("boom") },
			want:    []string{`startup hook of listener "test-listener"`, "panic: boom", "goroutine"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := listenertest.New(t, &hooks{startup: tt.startup})

			err := h.Start()

			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestStartTwice(t *testing.T) {
	h := started(t, &hooks{})

	err := h.Start()

	require.Error(t, err)
	assert.Contains(t, err.Error(), "Start ran already")
}

func TestStopRunsShutdown(t *testing.T) {
	calls := 0
	h := started(t, &hooks{shutdown: func(context.Context) error {
		calls++
		return errors.New("close pool")
	}})

	err := h.Stop()

	require.Error(t, err)
	assert.Contains(t, err.Error(), `shutdown hook of listener "test-listener": close pool`)
	assert.Error(t, h.Stop(), "a second Stop")
	assert.Equal(t, 1, calls, "Shutdown runs once")
}

func TestCleanupRunsShutdown(t *testing.T) {
	calls := 0
	listener := &hooks{shutdown: func(context.Context) error {
		calls++
		return nil
	}}

	t.Run("inner", func(t *testing.T) {
		started(t, listener)
	})

	assert.Equal(t, 1, calls, "the harness ran Shutdown when the test ended")
}

func TestFailRunsOnError(t *testing.T) {
	var gotMsg *pluginapi.Message
	var gotErr error
	h := started(t, &hooks{
		handle: func(context.Context, *pluginapi.Message) error {
			return pluginapi.Permanent(errors.New("invalid address"))
		},
		onError: func(_ context.Context, msg *pluginapi.Message, err error) {
			gotMsg, gotErr = msg, err
		},
	})
	res := h.Handle(`{"to": "nobody"}`, listenertest.WithMessageID("m-1"))

	require.NoError(t, h.Fail(res.Message, res.Err))

	require.NotNil(t, gotMsg)
	assert.Equal(t, "m-1", gotMsg.ID, "the same message")
	assert.JSONEq(t, `{"to": "nobody"}`, string(gotMsg.Body))
	assert.EqualError(t, gotErr, "invalid address")
	assert.False(t, pluginapi.IsPermanent(gotErr), "the hook gets the reason as text, as from the host")
	assert.ErrorIs(t, gotMsg.Ack(context.Background()), pluginapi.ErrAutoAck, "the hook cannot settle the message")
}

func TestFailCases(t *testing.T) {
	tests := []struct {
		name     string
		listener pluginapi.Listener
		wantErr  string
	}{
		{
			name:     "no OnError hook",
			listener: pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error { return nil }),
		},
		{
			name: "OnError panics",
			listener: &hooks{onError: func(context.Context, *pluginapi.Message, error) {
				panic("alert failed")
			}},
			wantErr: "panic: alert failed",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t, tt.listener)

			err := h.Fail(map[string]any{"id": 1}, errors.New("timeout"))

			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestSenderRecordsMessages(t *testing.T) {
	listener := &hooks{}
	listener.startup = func(_ context.Context, info pluginapi.StartupInfo) error {
		listener.handle = func(ctx context.Context, msg *pluginapi.Message) error {
			_, err := info.Sender.Send(ctx, "receipts", pluginapi.OutgoingMessage{
				Body:  []byte(`{"for": "` + msg.ID + `"}`),
				Delay: time.Second,
			})
			return err
		}
		_, err := info.Sender.Send(context.Background(), "audit", pluginapi.OutgoingMessage{Body: []byte(`{"event": "started"}`)})
		return err
	}
	h := started(t, listener)

	res := h.Handle("{}", listenertest.WithMessageID("m-7"))

	require.NoError(t, res.Err)
	require.Len(t, res.Sent, 1, "the Handle call sent one message")
	assert.Equal(t, "receipts", res.Sent[0].Queue)
	assert.Equal(t, time.Second, res.Sent[0].Delay)
	var body struct {
		For string `json:"for"`
	}
	require.NoError(t, res.Sent[0].Decode(&body))
	assert.Equal(t, "m-7", body.For)

	all := h.Sent()
	require.Len(t, all, 2, "every message sent, Startup's included")
	assert.Equal(t, "audit", all[0].Queue)
	assert.Equal(t, "sent-1", all[0].ID)
	assert.Equal(t, "sent-2", all[1].ID)
}

// failingSender fails every send.
type failingSender struct{}

func (failingSender) Send(context.Context, string, pluginapi.OutgoingMessage) (string, error) {
	return "", errors.New("queue unavailable")
}

func TestSenderErrors(t *testing.T) {
	tests := []struct {
		name    string
		queue   string
		delay   time.Duration
		options []listenertest.Option
		wantErr string
	}{
		{name: "empty queue", queue: "", wantErr: "the queue name is empty"},
		{name: "negative delay", queue: "q", delay: -time.Second, wantErr: "must be zero or positive"},
		{name: "forward fails", queue: "q", options: []listenertest.Option{listenertest.WithSender(failingSender{})}, wantErr: "queue unavailable"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listener := &hooks{}
			listener.startup = func(_ context.Context, info pluginapi.StartupInfo) error {
				listener.handle = func(ctx context.Context, _ *pluginapi.Message) error {
					_, err := info.Sender.Send(ctx, tt.queue, pluginapi.OutgoingMessage{Body: []byte("{}"), Delay: tt.delay})
					return err
				}
				return nil
			}
			h := started(t, listener, tt.options...)

			res := h.Handle("{}")

			require.Error(t, res.Err)
			assert.Contains(t, res.Err.Error(), tt.wantErr)
			assert.Empty(t, res.Sent, "a failed send is not recorded")
		})
	}
}

func TestHandlerTimeout(t *testing.T) {
	tests := []struct {
		name         string
		afterTimeout func(ctx context.Context) error
		wantTimedOut bool
		wantOutcome  listenertest.Outcome
		wantErr      string
	}{
		{
			name:         "returns the cause",
			afterTimeout: context.Cause,
			wantTimedOut: true,
			wantOutcome:  listenertest.OutcomeRetried,
			wantErr:      "handler timed out after 20ms",
		},
		{
			name:         "returns a permanent error",
			afterTimeout: func(context.Context) error { return pluginapi.Permanent(errors.New("gave up")) },
			wantTimedOut: true,
			wantOutcome:  listenertest.OutcomeRetried,
			wantErr:      "gave up",
		},
		{
			name:         "returns nil",
			afterTimeout: func(context.Context) error { return nil },
			wantTimedOut: false,
			wantOutcome:  listenertest.OutcomeAcked,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t, pluginapi.HandlerFunc(func(ctx context.Context, _ *pluginapi.Message) error {
				<-ctx.Done()
				return tt.afterTimeout(ctx)
			}), listenertest.WithHandlerTimeout(20*time.Millisecond), listenertest.WithRetryOnError(3))

			res := h.Handle("{}")

			assert.Equal(t, tt.wantTimedOut, res.TimedOut, "timed out")
			assert.Equal(t, tt.wantOutcome, res.Outcome(), "outcome")
			assert.GreaterOrEqual(t, res.Duration, 20*time.Millisecond, "duration")
			if tt.wantErr == "" {
				assert.NoError(t, res.Err)
			} else {
				assert.EqualError(t, res.Err, tt.wantErr)
			}
		})
	}
}

func TestWithContextEnded(t *testing.T) {
	h := started(t, pluginapi.HandlerFunc(func(ctx context.Context, _ *pluginapi.Message) error {
		return ctx.Err()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	res := h.Handle("{}", listenertest.WithContext(ctx))

	assert.ErrorIs(t, res.Err, context.Canceled)
	assert.False(t, res.TimedOut, "no handler timeout is set")
}

func TestHandleBodies(t *testing.T) {
	type email struct {
		To string `json:"to"`
	}

	tests := []struct {
		name string
		body any
		want string
	}{
		{name: "struct", body: email{To: "a@example.com"}, want: `{"to":"a@example.com"}`},
		{name: "map", body: map[string]int{"n": 1}, want: `{"n":1}`},
		{name: "string", body: "not JSON", want: "not JSON"},
		{name: "bytes", body: []byte(`{"a": 1}`), want: `{"a": 1}`},
		{name: "raw JSON", body: json.RawMessage(`[1]`), want: `[1]`},
		{name: "nil", body: nil, want: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t, &hooks{})

			res := h.Handle(tt.body)

			assert.Equal(t, tt.want, string(res.Message.Body))
		})
	}
}

func TestHandleMessageDefaultsAndOptions(t *testing.T) {
	h := started(t, &hooks{}, listenertest.WithQueue("emails"))

	first := h.Handle("{}")
	again := h.Handle(first.Message,
		listenertest.WithReceiveCount(2),
		listenertest.WithAttributes(map[string]string{"MessageGroupId": "g1"}),
		listenertest.WithUserAttributes(map[string]pluginapi.Attribute{"tenant": {DataType: "String", StringValue: "acme"}}))

	assert.Equal(t, "message-1", first.Message.ID)
	assert.Equal(t, "emails", first.Message.Queue)
	assert.Equal(t, 1, first.Message.ReceiveCount)
	assert.NotEmpty(t, first.Message.ReceiptHandle)
	assert.NotEmpty(t, first.Message.Attributes["SentTimestamp"])
	assert.NotNil(t, first.Message.UserAttributes, "never nil, as from the SDK")

	assert.Equal(t, first.Message.ID, again.Message.ID, "a redelivery keeps the id")
	assert.Equal(t, first.Message.Timestamp, again.Message.Timestamp, "and the send time")
	assert.NotEqual(t, first.Message.ReceiptHandle, again.Message.ReceiptHandle, "but gets a new receipt")
	assert.Equal(t, 2, again.Message.ReceiveCount)
	assert.Equal(t, "2", again.Message.Attributes["ApproximateReceiveCount"])
	assert.Equal(t, "g1", again.Message.Attributes["MessageGroupId"])
	assert.Equal(t, "acme", again.Message.UserAttributes["tenant"].StringValue)
}

func TestHandleConcurrently(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	listener := &hooks{}
	listener.startup = func(_ context.Context, info pluginapi.StartupInfo) error {
		listener.handle = func(ctx context.Context, msg *pluginapi.Message) error {
			mu.Lock()
			seen[msg.ID] = true
			mu.Unlock()
			_, err := info.Sender.Send(ctx, "out", pluginapi.OutgoingMessage{Body: msg.Body})
			if err != nil {
				return err
			}
			return msg.Ack(ctx)
		}
		return nil
	}
	h := started(t, listener, listenertest.WithAutoAck(false), listenertest.WithWorkers(8))

	var wg sync.WaitGroup
	results := make([]*listenertest.Result, 50)
	for i := range results {
		wg.Go(func() { results[i] = h.Handle(map[string]int{"n": i}) })
	}
	wg.Wait()

	for i, res := range results {
		assert.NoError(t, res.Err, "message %d", i)
		assert.True(t, res.Acked, "message %d", i)
	}
	assert.Len(t, seen, 50, "every message had its own id")
	assert.Len(t, h.Sent(), 50, "every send was recorded")
}

// fatalTB records the first Fatalf and ends the goroutine that called it,
// as testing.T does.
type fatalTB struct {
	*testing.T

	mu    sync.Mutex
	fatal string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	if f.fatal == "" {
		f.fatal = fmt.Sprintf(format, args...)
	}
	f.mu.Unlock()
	runtime.Goexit()
}

// fatalMessage runs call in its own goroutine and returns the message of
// the Fatalf that ended it, or "" when it returned normally.
func (f *fatalTB) fatalMessage(call func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		call()
	}()
	<-done

	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fatal
}

func TestMisuseFailsTest(t *testing.T) {
	tests := []struct {
		name string
		call func(tb *fatalTB)
		want string
	}{
		{
			name: "Handle before Start",
			call: func(tb *fatalTB) { listenertest.New(tb, &hooks{}).Handle("{}") },
			want: "call Start before Handle",
		},
		{
			name: "Handle after Stop",
			call: func(tb *fatalTB) {
				h := listenertest.New(tb, &hooks{})
				_ = h.Start()
				_ = h.Stop()
				h.Handle("{}")
			},
			want: "Handle called after Stop",
		},
		{
			name: "config not an object",
			call: func(tb *fatalTB) { listenertest.New(tb, &hooks{}, listenertest.WithConfig(`[1, 2]`)) },
			want: "is not a JSON object",
		},
		{
			name: "body cannot be encoded",
			call: func(tb *fatalTB) {
				h := listenertest.New(tb, &hooks{})
				_ = h.Start()
				h.Handle(make(chan int))
			},
			want: "encode message body",
		},
		{
			name: "Fail without error",
			call: func(tb *fatalTB) { listenertest.New(tb, &hooks{}).Fail("{}", nil) },
			want: "got nil",
		},
		{
			name: "nil listener",
			call: func(tb *fatalTB) { listenertest.New(tb, nil) },
			want: "the listener is nil",
		},
		{
			name: "zero workers",
			call: func(tb *fatalTB) { listenertest.New(tb, &hooks{}, listenertest.WithWorkers(0)) },
			want: "workers 0 is invalid",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &fatalTB{T: t}

			message := tb.fatalMessage(func() { tt.call(tb) })

			assert.True(t, strings.Contains(message, tt.want), "Fatalf message %q contains %q", message, tt.want)
		})
	}
}

func TestHandlerWithoutStartupNeedsNoStart(t *testing.T) {
	h := listenertest.New(t, pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error { return nil }))

	res := h.Handle("{}")

	assert.NoError(t, res.Err)
}
