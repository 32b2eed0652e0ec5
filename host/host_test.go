package host_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
)

func TestHostAcksHandledMessages(t *testing.T) {
	b := startHost(t)

	for range 5 {
		b.send(t, `{"action": "ok", "key": "a"}`)
	}

	require.Eventually(t, func() bool { return b.count(t, "handled", "a") == 5 }, within, tick, "all 5 messages handled")
	require.Eventually(t, func() bool {
		visible, inFlight := b.depth(t, "jobs")
		return visible == 0 && inFlight == 0
	}, within, tick, "queue empty after acks")
	assert.Equal(t, 1, b.count(t, "startup", ""), "startup hook runs once")
}

func TestHostPassesConfigToStartup(t *testing.T) {
	b := startHost(t)

	require.Eventually(t, func() bool { return b.count(t, "startup", "") == 1 }, within, tick)
	events := b.events(t)
	assert.Contains(t, events[0].Config, `"record_file"`, "the config object reaches the startup hook as JSON")
}

func TestPluginCrashRedeliversMessage(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.Workers = 1 })

	b.send(t, `{"action": "exit", "first_only": true, "key": "crash"}`)
	for range 5 {
		b.send(t, `{"action": "ok", "key": "other"}`)
	}

	require.Eventually(t, func() bool {
		return b.count(t, "handled", "crash") == 1 && b.count(t, "handled", "other") == 5
	}, within, tick, "the crashing message and every other one are handled")

	var crashed, handled event
	for _, e := range b.events(t) {
		if e.Key == "crash" && e.Event == "start" && e.ReceiveCount == 1 {
			crashed = e
		}
		if e.Key == "crash" && e.Event == "handled" {
			handled = e
		}
	}
	assert.Equal(t, 2, handled.ReceiveCount, "the crashing message is delivered again, not lost")
	assert.NotEqual(t, crashed.Pid, handled.Pid, "a new plugin process handles the redelivery")
	assert.Equal(t, 2, b.count(t, "startup", ""), "the plugin was restarted once")
	assert.Contains(t, b.logs.String(), "plugin crashed")

	visible, inFlight := b.depth(t, "jobs")
	assert.Equal(t, 0, visible+inFlight, "queue empty")
	assert.Empty(t, b.receiveAll(t, "jobs-dlq"), "a crash is not a failure: nothing dead-lettered")
}

func TestRetryThenDeadLetter(t *testing.T) {
	b := startHost(t, func(l *config.Listener) {
		l.RetryOnError = true
		l.MaxRetries = 2
	})

	b.send(t, `{"action": "fail", "key": "bad"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick, "message dead-lettered")
	assert.Equal(t, 3, b.count(t, "failed", "bad"), "one attempt plus max_retries = 2 retries")
	assert.Equal(t, 1, b.count(t, "on_error", ""), "the error hook runs once")

	dead := b.dlqPeek(t)[0]
	assert.Equal(t, "jobs", dead.UserAttributes[drivers.DeadLetterSourceAttribute].StringValue, "the source queue is recorded")
	assert.Contains(t, dead.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue, "behave: asked to fail")
	assert.JSONEq(t, `{"action": "fail", "key": "bad"}`, string(dead.Body), "the body is kept")
}

func TestRetryRecoversOnLaterAttempt(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.RetryOnError = true })

	b.send(t, `{"action": "fail", "first_only": true, "key": "flaky"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "flaky") == 1 }, within, tick)
	assert.Equal(t, 1, b.count(t, "failed", "flaky"))
	assert.Empty(t, b.dlqPeek(t), "a message that succeeds on retry is not dead-lettered")
}

func TestNoRetryByDefault(t *testing.T) {
	b := startHost(t)

	b.send(t, `{"action": "fail", "key": "once"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	assert.Equal(t, 1, b.count(t, "failed", "once"), "retry_on_error is false by default: no retry")
}

func TestPermanentErrorSkipsRetries(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.RetryOnError = true })

	b.send(t, `{"action": "fail_permanent", "key": "perm"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	assert.Equal(t, 1, b.count(t, "failed", "perm"), "a permanent error is not retried")
}

func TestInvalidBodyDeadLettersAtOnce(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.RetryOnError = true })

	b.send(t, `not json at all`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "not a JSON object")
	assert.Equal(t, 1, b.count(t, "invalid_body", ""), "no retry for a body that cannot decode")
}

func TestPanicBecomesErrorWithStack(t *testing.T) {
	b := startHost(t)

	b.send(t, `{"action": "panic", "key": "boom"}`)
	b.send(t, `{"action": "ok", "key": "after"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	require.Eventually(t, func() bool { return b.count(t, "handled", "after") == 1 }, within, tick)

	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "panic in Handle: behave: asked to panic")
	assert.Contains(t, reason, "goroutine", "the reason carries the stack")
	assert.Equal(t, 1, b.count(t, "startup", ""), "a recovered panic does not restart the plugin")
}

func TestHeartbeatExtendsVisibility(t *testing.T) {
	b := startHost(t, func(l *config.Listener) {
		l.VisibilityTimeout = time.Second
		l.Workers = 2
	})

	b.send(t, `{"action": "sleep", "ms": 2500, "key": "slow"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "slow") == 1 }, within, tick)
	assert.Equal(t, 1, b.count(t, "start", "slow"), "the message is not delivered twice while its handler runs")
}

func TestHandlerTimeoutFailsMessage(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.HandlerTimeout = 200 * time.Millisecond })

	b.send(t, `{"action": "sleep", "ms": 5000, "key": "stuck"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "handler timed out after 200ms")
	require.Eventually(t, func() bool { return b.count(t, "cancelled", "stuck") == 1 }, within, tick,
		"the handler's context is cancelled inside the plugin")
}

func TestManualAck(t *testing.T) {
	cases := []struct {
		action      string
		wantDLQ     int
		wantStarts  int
		wantVisible int
	}{
		{action: "ack", wantDLQ: 0, wantStarts: 1},
		{action: "extend", wantDLQ: 0, wantStarts: 1},
		{action: "reject_dead_letter", wantDLQ: 1, wantStarts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			b := startHost(t, func(l *config.Listener) { l.AutoAck = false })

			b.send(t, `{"action": "`+tc.action+`", "ms": 60000, "key": "m"}`)

			require.Eventually(t, func() bool { return b.count(t, "handled", "m") == 1 }, within, tick)
			require.Eventually(t, func() bool {
				visible, inFlight := b.depth(t, "jobs")
				return visible+inFlight == 0
			}, within, tick, "the message left the queue")
			assert.Len(t, b.dlqPeek(t), tc.wantDLQ)
			assert.Equal(t, tc.wantStarts, b.count(t, "start", "m"))
		})
	}
}

func TestManualRejectRequeueRedelivers(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.AutoAck = false })

	b.send(t, `{"action": "reject_requeue", "first_only": true, "key": "again"}`)

	// The second delivery does not act, so it returns nil without settling
	// and is released again. It is delivered until the test ends, so only
	// the second delivery is checked.
	require.Eventually(t, func() bool {
		for _, e := range b.events(t) {
			if e.Key == "again" && e.ReceiveCount == 2 {
				return true
			}
		}
		return false
	}, within, tick, "a requeued message is delivered again")
}

func TestUnsettledMessageIsReleased(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.AutoAck = false })

	b.send(t, `{"action": "return_unsettled", "key": "u"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "u") >= 2 }, within, tick,
		"a message the handler neither acked nor rejected is released and delivered again")
	assert.Contains(t, b.logs.String(), "handler returned nil without acking or rejecting")
}

func TestAutoAckRejectsManualCalls(t *testing.T) {
	b := startHost(t)

	b.send(t, `{"action": "ack", "key": "auto"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "auto_ack is true")
}

func TestPluginSeesOnlyListedEnv(t *testing.T) {
	t.Setenv("VEGA_TEST_SECRET", "hunter2")
	t.Setenv("VEGA_TEST_PASSED", "visible")
	b := startHost(t, func(l *config.Listener) {
		l.Env = map[string]string{"VEGA_TEST_PASSED": "visible"}
	})

	b.send(t, `{"action": "env", "key": "env"}`)

	require.Eventually(t, func() bool { return b.count(t, "env", "env") == 1 }, within, tick)
	var env []string
	for _, e := range b.events(t) {
		if e.Event == "env" {
			env = e.Env
		}
	}
	joined := strings.Join(env, "\n")
	assert.Contains(t, joined, "VEGA_TEST_PASSED=visible")
	assert.NotContains(t, joined, "hunter2", "a variable the block does not list never reaches the plugin")
	assert.NotContains(t, joined, "HOME=", "the host environment is not inherited")
}

func TestPluginLogsReachHostLog(t *testing.T) {
	b := startHost(t)

	b.send(t, `{"action": "log", "key": "log"}`)

	require.Eventually(t, func() bool { return strings.Contains(b.logs.String(), "behave log line") }, within, tick)
	for _, line := range strings.Split(b.logs.String(), "\n") {
		if strings.Contains(line, "behave log line") {
			assert.Contains(t, line, `"listener":"behave"`, "plugin log lines carry the listener's name")
			assert.Contains(t, line, `"@level":"warn"`, "plugin log lines keep their level")
		}
	}
}

// dlqPeek returns the messages in the listener's dead-letter queue without
// removing them.
func (b *bundle) dlqPeek(t *testing.T) []*drivers.Message {
	t.Helper()
	messages := b.receiveAll(t, "jobs-dlq")
	b.releaseAll(t, "jobs-dlq", messages)
	return messages
}

func (b *bundle) releaseAll(t *testing.T, queue string, messages []*drivers.Message) {
	t.Helper()
	q, err := b.driver.Open(t.Context(), queue, drivers.OpenOptions{})
	require.NoError(t, err)
	for _, m := range messages {
		require.NoError(t, q.ChangeVisibility(t.Context(), m.ReceiptHandle, 0))
	}
}

func TestHandlerSendsFollowUpJob(t *testing.T) {
	b := startHost(t)

	id := b.send(t, `{"action": "send_followup", "key": "parent"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "parent") == 1 }, within, tick)
	followups := b.receiveAll(t, "followups")
	require.Len(t, followups, 1, "the handler's Send reached the listener's driver")
	assert.JSONEq(t, `{"action": "ok", "key": "followup-of-parent"}`, string(followups[0].Body))
	assert.Equal(t, id, followups[0].UserAttributes["origin"].StringValue, "user attributes pass through the host")
}
