package host_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

func TestPoisonMessageDeadLetteredAfterCrashLimit(t *testing.T) {
	b := startHost(t, func(l *config.Listener) {
		l.Workers = 1
		l.CrashLimit = 3
	})

	b.send(t, `{"action": "crash_panic", "key": "poison"}`)
	b.send(t, `{"action": "ok", "key": "fine"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, 2*within, tick, "the poison message is dead-lettered")
	require.Eventually(t, func() bool { return b.count(t, "handled", "fine") == 1 }, within, tick, "other messages go on")

	assert.Equal(t, 3, b.count(t, "start", "poison"), "the message crashed the plugin crash_limit times, then was not handed out again")
	assert.Equal(t, 1, b.count(t, "on_error", ""), "the error hook runs once")

	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "plugin crashed while handling")
	assert.Contains(t, reason, "in flight during 3 plugin crashes")
	assert.Contains(t, reason, "behave: unrecovered panic in a goroutine", "the reason carries the plugin's last stderr lines")

	logs := b.logs.String()
	assert.Contains(t, logs, `"@message":"plugin crashed"`)
	assert.Contains(t, logs, `"status":"exit status 2"`, "the crash log names the exit status")
	assert.Contains(t, logs, `"message_ids":["`, "the crash log names the messages in flight")
}

func TestHandlerIgnoringCancellationIsKilled(t *testing.T) {
	b := startHost(t, func(l *config.Listener) {
		l.Workers = 1
		l.HandlerTimeout = 200 * time.Millisecond
	})

	b.send(t, `{"action": "ignore_cancel", "ms": 60000, "key": "stubborn"}`)
	b.send(t, `{"action": "ok", "key": "next"}`)

	require.Eventually(t, func() bool { return len(b.dlqPeek(t)) == 1 }, within, tick)
	reason := b.dlqPeek(t)[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
	assert.Contains(t, reason, "ignored the cancellation")

	require.Eventually(t, func() bool { return b.count(t, "handled", "next") == 1 }, within, tick,
		"the killed plugin is restarted and handles the next message")
	assert.Equal(t, 2, b.count(t, "startup", ""), "the plugin was killed and started again")
	assert.Equal(t, 0, b.count(t, "handled", "stubborn"), "the abandoned message is never acked")
}

func TestRestartLimitMarksListenerFailed(t *testing.T) {
	logs := &syncBuffer{}
	driver := memory.New()
	defer driver.Close()

	cfg := &config.Config{
		File:    "test.hcl",
		Host:    config.Host{ShutdownTimeout: time.Second},
		Drivers: []config.Driver{{Kind: "memory"}},
		Listeners: []config.Listener{{
			Name: "flaky", Plugin: buildtest.Binary(t, "./host/testdata/plugins/behave"),
			Driver: "memory", Queue: "q", Workers: 1, AutoAck: true, MaxMessages: 1, RestartLimit: 3,
			VisibilityTimeout: 30 * time.Second, Config: []byte(`{"fail_startup": true, "record_file": "/dev/null"}`),
		}},
	}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := host.New(cfg, logger, host.WithDriver("memory", driver)).Run(ctx, nil)

	require.Error(t, err)
	assert.True(t, errors.Is(err, host.ErrAllListenersFailed), "error %v", err)
	assert.Contains(t, logs.String(), "3 starts failed in a row")
	assert.Contains(t, logs.String(), "behave: asked to fail at startup", "the log says why the start failed")
}

func TestStaleSocketsRemoved(t *testing.T) {
	base := filepath.Join(os.TempDir(), "vega-host-"+strconv.Itoa(os.Getuid()))
	require.NoError(t, os.MkdirAll(base, 0o700))

	stale := filepath.Join(base, "plugin-stale-"+strconv.Itoa(os.Getpid()))
	listener, err := net.Listen("unix", stale)
	require.NoError(t, err)
	listener.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, listener.Close())

	live := filepath.Join(base, "plugin-live-"+strconv.Itoa(os.Getpid()))
	liveListener, err := net.Listen("unix", live)
	require.NoError(t, err)
	defer liveListener.Close()

	b := startHost(t)
	b.send(t, `{"action": "ok", "key": "k"}`)
	require.Eventually(t, func() bool { return b.count(t, "handled", "k") == 1 }, within, tick)

	_, err = os.Stat(stale)
	assert.True(t, os.IsNotExist(err), "a socket that accepts no connection is removed at start")
	_, err = os.Stat(live)
	assert.NoError(t, err, "a live socket is kept")

	entries, err := os.ReadDir(base)
	require.NoError(t, err)
	found := false
	for _, entry := range entries {
		found = found || (entry.Type()&os.ModeSocket != 0 && entry.Name() != filepath.Base(live))
	}
	assert.True(t, found, "the running plugin's socket is in the host's socket folder")
}
