package host_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/pluginapi"
)

// TestPluginEnvironmentIsAllowlisted checks every variable of the plugin's
// environment against what the host passes on purpose. That a variable
// the block does not list stays hidden is TestPluginSeesOnlyListedEnv.
func TestPluginEnvironmentIsAllowlisted(t *testing.T) {
	t.Setenv("VEGA_TEST_HOST_SECRET", "host-only-s3cret")
	t.Setenv("VEGA_TEST_LISTED", "listed-value")
	b := startHost(t, func(l *config.Listener) {
		l.Env = map[string]string{"VEGA_TEST_LISTED": "listed-value"}
	})

	b.send(t, `{"action": "env", "key": "env"}`)

	require.Eventually(t, func() bool { return b.count(t, "env", "env") == 1 }, within, tick)
	env := map[string]string{}
	for _, e := range b.events(t) {
		if e.Event != "env" {
			continue
		}
		for _, variable := range e.Env {
			name, value, _ := strings.Cut(variable, "=")
			env[name] = value
		}
	}

	for name, value := range env {
		allowed := name == "VEGA_TEST_LISTED" || name == pluginapi.LogLevelEnv ||
			name == pluginapi.Handshake.MagicCookieKey || strings.HasPrefix(name, "PLUGIN_")
		assert.True(t, allowed, "the plugin's environment holds only listed, SDK and go-plugin variables, got %s", name)
		assert.NotContains(t, value, "host-only-s3cret", "variable %s", name)
	}
	assert.Equal(t, "listed-value", env["VEGA_TEST_LISTED"])
	assert.Contains(t, env["PLUGIN_CLIENT_CERT"], "BEGIN CERTIFICATE",
		"AutoMTLS is on: the host hands the plugin its client certificate")
}

func TestMemoryLimitCrashDeadLettersMessage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memory_limit is enforced only on Linux")
	}
	b := startHost(t, func(l *config.Listener) {
		l.Workers = 1
		l.CrashLimit = 2
		l.MemoryLimit = 64 << 20
	})

	b.send(t, `{"action": "allocate", "mb": 512, "key": "hog"}`)
	b.send(t, `{"action": "allocate", "mb": 8, "key": "small"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, 2*within, tick, "the message that exceeds the limit is dead-lettered")
	require.Eventually(t, func() bool { return b.count(t, "handled", "small") == 1 }, within, tick,
		"a restarted plugin handles a message that stays within the limit")

	dead := b.dlqPeek(t)[0]
	assert.JSONEq(t, `{"action": "allocate", "mb": 512, "key": "hog"}`, string(dead.Body), "the dead letter is the allocating message")
	assert.Contains(t, dead.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue, "in flight during 2 plugin crashes")
	assert.Equal(t, 2, b.count(t, "start", "hog"), "the message was released after each crash until crash_limit")

	logs := b.logs.String()
	assert.Contains(t, logs, `"@message":"plugin crashed"`, "the crash is logged")
	// The runtime's reason depends on what mapped first: the heap or a new
	// thread's stack.
	assert.Regexp(t, `out of memory|cannot allocate memory|newosproc|errno=12`, logs, "the log carries the runtime's reason")
	select {
	case err := <-b.done:
		t.Fatalf("the host stopped: %v", err)
	default:
	}
}

func TestPinnedHashMismatchFailsListener(t *testing.T) {
	b := startHost(t, func(l *config.Listener) {
		l.SHA256 = strings.Repeat("0", 64)
	})

	var err error
	select {
	case err = <-b.done:
		b.done <- err
	case <-time.After(within):
		t.Fatalf("the host did not give up on a listener whose binary does not match its sha256")
	}

	assert.True(t, errors.Is(err, host.ErrAllListenersFailed), "error %v", err)
	logs := b.logs.String()
	assert.Contains(t, logs, "update the listener's sha256")
	assert.Contains(t, logs, strings.Repeat("0", 64), "the log shows the pinned hash")
	assert.NotContains(t, logs, "plugin started", "the binary never runs")
	assert.Zero(t, b.count(t, "startup", ""))
}

func TestPinnedHashMatchRuns(t *testing.T) {
	hash, err := supervisor.FileSHA256(buildtest.Binary(t, "./host/testdata/plugins/behave"))
	require.NoError(t, err)
	b := startHost(t, func(l *config.Listener) { l.SHA256 = hash })

	b.send(t, `{"action": "ok", "key": "pinned"}`)

	require.Eventually(t, func() bool { return b.count(t, "handled", "pinned") == 1 }, within, tick)
}
