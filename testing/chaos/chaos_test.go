//go:build linux

package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/buildtest"
)

// TestChaosSmall runs the suite on 1,000 messages with the default kill
// schedule. scripts/chaos.sh runs the full 10,000.
func TestChaosSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run takes about a minute; skipped with -short")
	}

	const messages = 1000
	opts := options{
		messages:           messages,
		workers:            8,
		pluginKillInterval: 500 * time.Millisecond,
		hostKills:          3,
		timeout:            4 * time.Minute,
		seed:               uint64(time.Now().UnixNano()),
		dir:                t.TempDir(),
		hostBinary:         buildtest.Binary(t, "./cmd/vega-host"),
		pluginBinary:       buildtest.Binary(t, "./testing/chaos/chaosplugin"),
	}
	if testing.Verbose() {
		opts.progress = os.Stderr
	}

	s, err := run(context.Background(), opts)
	require.NoError(t, err)
	t.Log(s.String())

	assert.Empty(t, s.problems(), "checks of the run (host logs and records are in %s)", s.dir)
	assert.False(t, s.timedOut, "the queue drained within %s", opts.timeout)
	assert.Empty(t, s.lost, "every message is handled or dead-lettered")
	assert.Empty(t, s.missingReason, "every dead-lettered message carries its reason")
	assert.Equal(t, messages, s.handled+s.deadLettered-s.handledAndDeadLettered, "outcomes cover every seq")
	assert.GreaterOrEqual(t, s.deadLettered, messages/100, "every seq divisible by 100 fails on each attempt")
	assert.LessOrEqual(t, s.duplicates, s.inFlightAtKills, "only messages in flight at a kill can be handled twice")
	assert.Equal(t, 3, s.hostKills, "host kills")
	assert.Positive(t, s.pluginKills, "plugin kills")
	assert.Empty(t, s.orphans, "no plugin outlives its killed host")
	assert.Equal(t, 0, s.hostExitCode, "exit status of the last host after SIGTERM")
}
