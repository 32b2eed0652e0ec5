package hosttest_test

import (
	"testing"
	"time"

	"github.com/vega-host/vega-host/testing/hosttest"
)

// A test in a listener's own package builds the package's plugin, runs it
// under the host and checks where each message ended up. The example only
// compiles: it needs a plugin package to build.
func Example() {
	testSendEmail := func(t *testing.T) {
		plugin := hosttest.Build(t, ".")
		h := hosttest.Start(t, plugin, hosttest.Listener{
			Queue:        "emails",
			Workers:      4,
			RetryOnError: true,
			Config:       map[string]any{"smtp_addr": "127.0.0.1:1025"},
		})

		h.Send(t, map[string]any{"to": "a@example.com", "subject": "Hello"})
		h.Send(t, `{"to": "not-an-address"}`)
		h.WaitHandled(t, 2, 10*time.Second)

		letters := h.DeadLetters(t)
		if len(letters) != 1 {
			t.Fatalf("got %d dead letters, expected the one with the invalid address: %v", len(letters), letters)
		}
		if counts := h.Counts(); counts.Acked != 1 {
			t.Errorf("acked %d messages, expected 1", counts.Acked)
		}
	}
	_ = testSendEmail
}

// With ManualAck the handler settles each message, and Counts shows what
// it chose.
func ExampleHost_Counts() {
	testManualAck := func(t *testing.T) {
		h := hosttest.Start(t, hosttest.Build(t, "."), hosttest.Listener{ManualAck: true})

		h.Send(t, `{"id": 1}`)
		h.WaitHandled(t, 1, 10*time.Second)

		t.Logf("acked %d, dead-lettered %d, released %d", h.Counts().Acked, h.Counts().DeadLettered, h.Counts().Released)
	}
	_ = testManualAck
}
