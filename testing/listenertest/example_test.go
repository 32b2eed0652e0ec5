package listenertest_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/testing/listenertest"
)

// exampleT replaces the *testing.T of a test function, so that the
// examples run. A real test passes its t.
type exampleT struct{}

func (exampleT) Helper()                           {}
func (exampleT) Cleanup(func())                    {}
func (exampleT) Errorf(format string, args ...any) { fmt.Printf("error: "+format+"\n", args...) }
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

var t exampleT

// Mailer is the listener under test in the examples. It sends a receipt
// for every email through the host and rejects invalid addresses for
// good.
type Mailer struct {
	from   string
	sender pluginapi.Sender
}

func (m *Mailer) Startup(_ context.Context, info pluginapi.StartupInfo) error {
	var config struct {
		From string `json:"from"`
	}
	if err := info.DecodeConfig(&config); err != nil {
		return err
	}
	if config.From == "" {
		return errors.New("config.from is required")
	}
	m.from, m.sender = config.From, info.Sender
	return nil
}

func (m *Mailer) Handle(ctx context.Context, msg *pluginapi.Message) error {
	var email struct {
		To string `json:"to"`
	}
	if err := msg.Decode(&email); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(email.To); err != nil {
		return pluginapi.Permanent(fmt.Errorf("invalid address %q: %w", email.To, err))
	}
	if strings.HasSuffix(email.To, "@down.example.com") {
		return fmt.Errorf("connect to the mail server of %s: connection refused", email.To)
	}

	_, err := m.sender.Send(ctx, "receipts", pluginapi.OutgoingMessage{Body: []byte(`{"to": "` + email.To + `"}`)})
	return err
}

func (m *Mailer) OnError(_ context.Context, msg *pluginapi.Message, err error) {
	fmt.Printf("OnError: message %s: %v\n", msg.ID, err)
}

func Example() {
	h := listenertest.New(t, &Mailer{}, listenertest.WithConfig(`{"from": "noreply@example.com"}`))
	if err := h.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}

	res := h.Handle(map[string]string{"to": "a@example.com"})

	fmt.Println("error:", res.Err)
	fmt.Println("outcome:", res.Outcome())
	fmt.Println("sent to:", res.Sent[0].Queue, string(res.Sent[0].Body))
	// Output:
	// error: <nil>
	// outcome: acked
	// sent to: receipts {"to": "a@example.com"}
}

// Errors marked with pluginapi.Permanent are dead-lettered at once; other
// errors are retried when the listener sets retry_on_error.
func Example_permanentAndTemporaryErrors() {
	h := listenertest.New(t, &Mailer{},
		listenertest.WithConfig(`{"from": "noreply@example.com"}`),
		listenertest.WithRetryOnError(3))
	if err := h.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}

	invalid := h.Handle(`{"to": "nobody"}`)
	down := h.Handle(`{"to": "a@down.example.com"}`)
	lastAttempt := h.Handle(`{"to": "a@down.example.com"}`, listenertest.WithReceiveCount(4))
	notJSON := h.Handle(`to: a@example.com`)

	fmt.Println("invalid address:", invalid.Permanent, invalid.Outcome())
	fmt.Println("server down:", down.Permanent, down.Outcome())
	fmt.Println("server down, 4th delivery:", lastAttempt.Outcome())
	fmt.Println("body not JSON:", notJSON.InvalidBody, notJSON.Outcome())
	// Output:
	// invalid address: true dead-lettered
	// server down: false retried
	// server down, 4th delivery: dead-lettered
	// body not JSON: true dead-lettered
}

// With auto_ack = false the handler settles each message itself, and the
// Result records what it called.
func Example_manualAck() {
	handler := pluginapi.HandlerFunc(func(ctx context.Context, msg *pluginapi.Message) error {
		var job struct {
			Retry bool `json:"retry"`
		}
		if err := msg.Decode(&job); err != nil {
			return msg.Reject(ctx, false)
		}
		if job.Retry {
			return msg.Reject(ctx, true)
		}
		return msg.Ack(ctx)
	})
	h := listenertest.New(t, handler, listenertest.WithAutoAck(false))

	done := h.Handle(`{}`)
	retry := h.Handle(`{"retry": true}`)
	broken := h.Handle(`[]`)

	fmt.Println("acked:", done.Acked, done.Outcome())
	fmt.Println("requeued:", retry.Requeued, retry.Outcome())
	fmt.Println("rejected:", broken.Rejected, broken.Outcome())
	// Output:
	// acked: true acked
	// requeued: true released
	// rejected: true dead-lettered
}

// A panic in Handle is recovered, as the SDK does in a plugin process.
func ExampleResult_panicked() {
	h := listenertest.New(t, pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error {
		var counts map[string]int
		counts["n"]++
		return nil
	}))

	res := h.Handle(`{}`)

	fmt.Println("panicked:", res.Panicked)
	fmt.Println(strings.SplitN(res.Err.Error(), "\n", 2)[0])
	// Output:
	// panicked: true
	// panic in Handle: assignment to entry in nil map
}

// Fail runs the OnError hook that the host runs before it dead-letters a
// message.
func ExampleHarness_Fail() {
	h := listenertest.New(t, &Mailer{}, listenertest.WithConfig(`{"from": "noreply@example.com"}`))
	if err := h.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}

	res := h.Handle(`{"to": "nobody"}`, listenertest.WithMessageID("m-1"))
	if res.Outcome() == listenertest.OutcomeDeadLettered {
		if err := h.Fail(res.Message, res.Err); err != nil {
			t.Fatalf("OnError: %v", err)
		}
	}
	// Output:
	// OnError: message m-1: invalid address "nobody": mail: missing '@' or angle-addr
}

// Start returns the error of the Startup hook, for testing config checks.
func ExampleHarness_Start() {
	h := listenertest.New(t, &Mailer{}, listenertest.WithConfig(map[string]string{"smtp_addr": "127.0.0.1:1025"}))

	err := h.Start()

	fmt.Println(err)
	// Output:
	// startup hook of listener "test-listener": config.from is required
}
