package host_test

import (
	"context"
	"errors"
	"strings"
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

func TestShutdownFinishesRunningHandler(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.Workers = 1 })

	b.send(t, `{"action": "sleep", "ms": 2000, "key": "slow"}`)
	require.Eventually(t, func() bool { return b.count(t, "start", "slow") == 1 }, within, tick)
	for range 3 {
		b.send(t, `{"action": "ok", "key": "waiting"}`)
	}

	require.NoError(t, b.stop(t), "a clean shutdown returns nil")

	assert.Equal(t, 1, b.count(t, "handled", "slow"), "the running handler finished")
	assert.Equal(t, 0, b.count(t, "start", "waiting"), "no new message starts after the signal")
	assert.Equal(t, 1, b.count(t, "shutdown", ""), "the shutdown hook ran")

	events := b.events(t)
	assert.Equal(t, events[0].Pid, events[len(events)-1].Pid, "the shutdown hook runs in the process that handled the messages")

	visible, inFlight := b.depth(t, "jobs")
	assert.Equal(t, 3, visible, "waiting messages are visible at once")
	assert.Equal(t, 0, inFlight, "the finished message was acked, nothing is left hidden")
}

func TestSecondSignalReleasesInFlight(t *testing.T) {
	b := startHost(t, func(l *config.Listener) { l.Workers = 1 })

	b.send(t, `{"action": "sleep", "ms": 60000, "key": "endless"}`)
	require.Eventually(t, func() bool { return b.count(t, "start", "endless") == 1 }, within, tick)

	b.cancel()
	close(b.hardStop)
	require.NoError(t, b.stop(t))

	visible, inFlight := b.depth(t, "jobs")
	assert.Equal(t, 1, visible, "the abandoned message is visible again at once")
	assert.Equal(t, 0, inFlight)
}

func TestStartFailures(t *testing.T) {
	cases := []struct {
		plugin string
		want   []string
	}{
		{plugin: "noisy", want: []string{"/noisy", "starting noisy listener v1", "to stdout before the handshake"}},
		{plugin: "oldproto", want: []string{"oldproto", "Plugin version: 99", "protocol version 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.plugin, func(t *testing.T) {
			logs := &syncBuffer{}
			driver := memory.New()
			defer driver.Close()

			cfg := &config.Config{
				File:    "test.hcl",
				Host:    config.Host{ShutdownTimeout: time.Second},
				Drivers: []config.Driver{{Kind: "memory"}},
				Listeners: []config.Listener{{
					Name: tc.plugin, Plugin: buildtest.Binary(t, "./host/testdata/plugins/"+tc.plugin),
					Driver: "memory", Queue: "q", Workers: 1, AutoAck: true, MaxMessages: 1,
					VisibilityTimeout: 30 * time.Second, Config: []byte("{}"),
				}},
			}
			logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := host.New(cfg, logger, host.WithDriver("memory", driver)).Run(ctx, nil)

			require.Error(t, err, "the only listener failed, so Run fails")
			assert.True(t, errors.Is(err, host.ErrAllListenersFailed), "error %v", err)
			for _, want := range tc.want {
				assert.Contains(t, logs.String(), want)
			}
			assert.Less(t, strings.Count(logs.String(), "plugin failed to start"), 2, "a handshake failure is not retried")
		})
	}
}

func TestOtherListenersSurviveFailedOne(t *testing.T) {
	logs := &syncBuffer{}
	driver := memory.New()
	defer driver.Close()
	record := t.TempDir() + "/events.jsonl"

	listener := func(name, plugin string) config.Listener {
		return config.Listener{
			Name: name, Plugin: buildtest.Binary(t, "./host/testdata/plugins/"+plugin),
			Driver: "memory", Queue: name, Workers: 1, AutoAck: true, MaxMessages: 1,
			VisibilityTimeout: 30 * time.Second, Config: []byte(`{"record_file": "` + record + `"}`),
		}
	}
	cfg := &config.Config{
		File:      "test.hcl",
		Host:      config.Host{ShutdownTimeout: time.Second},
		Drivers:   []config.Driver{{Kind: "memory"}},
		Listeners: []config.Listener{listener("good", "behave"), listener("bad", "noisy")},
	}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- host.New(cfg, logger, host.WithDriver("memory", driver)).Run(ctx, nil) }()

	_, err := driver.Send(ctx, "good", outgoing(`{"action": "ok", "key": "g"}`))
	require.NoError(t, err)
	b := &bundle{record: record}
	require.Eventually(t, func() bool { return b.count(t, "handled", "g") == 1 }, within, tick,
		"the good listener keeps working while the bad one failed; log:\n%s", logs.String())

	cancel()
	require.NoError(t, <-done, "one failed listener does not fail the host")
}

func outgoing(body string) drivers.OutgoingMessage {
	return drivers.OutgoingMessage{Body: []byte(body)}
}
