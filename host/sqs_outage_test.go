package host_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/internal/mototest"
)

func TestSQSOutageResumesWithoutLoss(t *testing.T) {
	const total = 30
	moto := mototest.StartPrivate(t)
	queue := mototest.QueueName("outage")
	moto.CreateQueue(t, queue, nil)
	record := filepath.Join(t.TempDir(), "events.jsonl")
	// A receive abandoned during the outage may still have been served by
	// the paused server once it resumes, hiding its messages until their
	// visibility timeout lapses, so the timeout is kept short.
	cfg := sqsConfig(t, moto, queue, record, "workers = 2\n  max_messages = 10\n  visibility_timeout = 5")
	h := startSQSHost(t, cfg)

	var messages []drivers.OutgoingMessage
	for i := range total {
		messages = append(messages, drivers.OutgoingMessage{Body: []byte(fmt.Sprintf(`{"action": "ok", "key": "m%d"}`, i))})
	}
	sendSQS(t, cfg, queue, messages[:10])
	b := &bundle{record: record}
	require.Eventually(t, func() bool { return b.count(t, "handled", "") >= 10 }, within, tick)

	// Pause only once every ack has landed, so the listener is waiting in
	// a receive when the broker goes silent. An ack caught by the pause
	// would instead hold its worker until the broker responds again.
	driver, err := host.OpenDriver(cfg.Drivers[0])
	require.NoError(t, err)
	defer driver.Close()
	depther := driver.(drivers.Depther)
	require.Eventually(t, func() bool {
		visible, inFlight, err := depther.Depth(context.Background(), queue)
		return err == nil && visible+inFlight == 0
	}, within, tick, "the first messages are acked")
	time.Sleep(200 * time.Millisecond)

	// The broker stops responding for 10 seconds.
	require.NoError(t, moto.Pause())
	time.Sleep(10 * time.Second)
	require.NoError(t, moto.Resume())

	sendSQS(t, cfg, queue, messages[10:])
	require.Eventually(t, func() bool { return b.count(t, "handled", "") >= total }, 2*within, tick,
		"the listener resumes by itself after the outage")

	seen := map[string]bool{}
	for _, e := range b.events(t) {
		if e.Event == "handled" {
			seen[e.Key] = true
		}
	}
	assert.Len(t, seen, total, "no message lost")

	logs := h.logs.String()
	failures := strings.Count(logs, `"receive failed"`)
	assert.GreaterOrEqual(t, failures, 1, "the outage is logged")
	assert.LessOrEqual(t, failures, 10, "receive failures back off instead of flooding the log")
	assert.Contains(t, logs, `"receive recovered"`)
}
