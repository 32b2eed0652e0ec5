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

// TestChaosSQSSmall runs the suite on a local moto_server with 200
// messages, as many as an sqs run keeps queued at most, and the default
// kill schedule. moto handles about 10 messages a second under the kills,
// so larger runs are left to go run ./testing/chaos -driver sqs.
func TestChaosSQSSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run on moto_server takes about half a minute; skipped with -short")
	}

	const messages = 200
	opts := options{
		driver:             driverSQS,
		messages:           messages,
		workers:            8,
		pluginKillInterval: 500 * time.Millisecond,
		hostKills:          3,
		timeout:            2 * time.Minute,
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
	assert.LessOrEqual(t, s.duplicates-s.sameReceiveCount, s.inFlightAtKills, "only messages in flight at a kill can be handled twice, besides moto's own double deliveries")
	assert.Equal(t, 3, s.hostKills, "host kills")
	assert.Positive(t, s.pluginKills, "plugin kills")
	assert.Empty(t, s.orphans, "no plugin outlives its killed host")
	assert.Equal(t, 0, s.hostExitCode, "exit status of the last host after SIGTERM")
}
