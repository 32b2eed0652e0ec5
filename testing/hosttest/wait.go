package hosttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/pluginapi"
)

// pollInterval is how often the wait methods check their condition.
const pollInterval = 10 * time.Millisecond

// stateRunning is the listener state that host.Status reports once the
// plugin has started and its Startup hook has returned.
var stateRunning = string(supervisor.StateRunning)

// DeadLetter is a message in the listener's dead-letter queue.
type DeadLetter struct {
	// ID is the message's id, the same as in the listener's queue.
	ID string
	// Body is the message body as sent.
	Body []byte
	// Reason is the failure reason from the
	// drivers.DeadLetterReasonAttribute attribute: the handler's error,
	// a panic with its stack, or "rejected by the handler".
	Reason string
	// Source is the queue the message came from, from the
	// drivers.DeadLetterSourceAttribute attribute.
	Source string
	// UserAttributes are the sender's attributes and the two above.
	UserAttributes map[string]pluginapi.Attribute
}

// waitStarted blocks until the plugin has started and its Startup hook
// has run, and fails the test when a start fails, the host stops or the
// start timeout passes.
func (h *Host) waitStarted(t testing.TB) {
	t.Helper()

	deadline := time.Now().Add(h.settings.startTimeout)
	for {
		for _, status := range h.host.Status(context.Background()) {
			switch {
			case status.State == stateRunning:
				return
			case status.Error != "":
				t.Fatalf("hosttest: plugin %s failed to start (state %s): %s\nhost log:\n%s",
					h.listener.Plugin, status.State, status.Error, h.Logs())
			}
		}

		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("hosttest: the host stopped before plugin %s started: %v\nhost log:\n%s", h.listener.Plugin, err, h.Logs())
		case <-time.After(pollInterval):
		}

		if time.Now().After(deadline) {
			t.Fatalf("hosttest: plugin %s did not start within %s\nhost log:\n%s", h.listener.Plugin, h.settings.startTimeout, h.Logs())
		}
	}
}

// Counts returns how many messages of the listener's queue the host has
// acked, dead-lettered and released since Start. A message counts once for
// each time it was released, and a retry is not a release.
func (h *Host) Counts() Counts {
	return h.counter.counts()
}

// WaitHandled blocks until the host has finished n messages since Start,
// acked or dead-lettered, and fails the test with the counts and the host's
// log when timeout passes first. Retries do not count until the message's
// last attempt.
func (h *Host) WaitHandled(t testing.TB, n int, timeout time.Duration) {
	t.Helper()

	ok := h.waitFor(timeout, func() bool {
		counts := h.Counts()
		return counts.Acked+counts.DeadLettered >= n
	})
	if !ok {
		visible, inFlight := h.Depth(t)
		t.Fatalf("hosttest: %d message(s) not handled within %s: %+v, %d visible and %d in flight in queue %q\nhost log:\n%s",
			n, timeout, h.Counts(), visible, inFlight, h.listener.Queue, h.Logs())
	}
}

// WaitEmpty blocks until the listener's queue has no message left, visible,
// in flight or waiting for a retry, and fails the test when timeout passes
// first.
func (h *Host) WaitEmpty(t testing.TB, timeout time.Duration) {
	t.Helper()

	ok := h.waitFor(timeout, func() bool {
		visible, inFlight := h.Depth(t)
		return visible == 0 && inFlight == 0
	})
	if !ok {
		visible, inFlight := h.Depth(t)
		t.Fatalf("hosttest: queue %q not empty after %s: %d visible and %d in flight\nhost log:\n%s",
			h.listener.Queue, timeout, visible, inFlight, h.Logs())
	}
}

// WaitLog blocks until a line of the host's log contains text and returns
// that line. It fails the test when timeout passes first. The plugin's log
// lines, written with pluginapi.Logger, are part of the host's log.
func (h *Host) WaitLog(t testing.TB, text string, timeout time.Duration) string {
	t.Helper()

	var found string
	ok := h.waitFor(timeout, func() bool {
		for line := range strings.Lines(h.Logs()) {
			if strings.Contains(line, text) {
				found = strings.TrimSuffix(line, "\n")
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("hosttest: no log line contains %q after %s\nhost log:\n%s", text, timeout, h.Logs())
	}
	return found
}

// Depth returns how many messages of the listener's queue are visible and
// how many are in flight or delayed, such as those waiting for a retry.
func (h *Host) Depth(t testing.TB) (visible, inFlight int) {
	t.Helper()

	visible, inFlight, err := h.driver.Depth(context.Background(), h.listener.Queue)
	if err != nil {
		t.Fatalf("hosttest: %v", err)
	}
	return visible, inFlight
}

// DeadLetters returns the messages in the listener's dead-letter queue,
// oldest first. They stay in the queue, so a later call returns them
// again.
func (h *Host) DeadLetters(t testing.TB) []DeadLetter {
	t.Helper()

	ctx := context.Background()
	queue, err := h.driver.Open(ctx, h.DeadLetterQueue(), drivers.OpenOptions{})
	if err != nil {
		t.Fatalf("hosttest: %v", err)
	}

	// A zero visibility timeout leaves the messages visible, so receiving
	// them does not take them out of the queue.
	messages, err := queue.Receive(ctx, drivers.ReceiveRequest{Max: 1 << 20, VisibilityTimeout: 0, WaitTime: 0})
	if err != nil {
		t.Fatalf("hosttest: read dead-letter queue %q: %v", h.DeadLetterQueue(), err)
	}

	letters := make([]DeadLetter, 0, len(messages))
	for _, msg := range messages {
		attributes := make(map[string]pluginapi.Attribute, len(msg.UserAttributes))
		for name, attribute := range msg.UserAttributes {
			attributes[name] = pluginapi.Attribute(attribute)
		}
		letters = append(letters, DeadLetter{
			ID:             msg.ID,
			Body:           msg.Body,
			Reason:         attributes[drivers.DeadLetterReasonAttribute].StringValue,
			Source:         attributes[drivers.DeadLetterSourceAttribute].StringValue,
			UserAttributes: attributes,
		})
	}
	return letters
}

// String returns the dead letter's id and reason, for failure messages.
func (d DeadLetter) String() string {
	return fmt.Sprintf("message %s from queue %q: %s", d.ID, d.Source, d.Reason)
}

// waitFor polls condition until it holds or timeout passes, and reports
// whether it held.
func (h *Host) waitFor(timeout time.Duration, condition func() bool) bool {
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	for {
		if condition() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-ticker.C
	}
}
