package host_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

type batchCall struct {
	Size    int `json:"size"`
	Entries []struct {
		Key          string `json:"key"`
		ReceiveCount int    `json:"receive_count"`
	} `json:"entries"`
}

func readBatches(t *testing.T, path string) []batchCall {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var calls []batchCall
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		var call batchCall
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &call))
		calls = append(calls, call)
	}
	return calls
}

func TestBatchVerdictsApplyPerMessage(t *testing.T) {
	// The messages are queued while the plugin starts, so receives find
	// several at once.
	b := startHost(t, func(l *config.Listener) {
		l.Plugin = buildtest.Binary(t, "./host/testdata/plugins/batcher")
		l.Workers = 1
		l.MaxMessages = 10
	})
	bodies := []string{
		`{"verdict": "ack", "key": "a1"}`,
		`{"verdict": "retry", "key": "r1"}`,
		`{"verdict": "ack", "key": "a2"}`,
		`{"verdict": "dead_letter", "key": "d1"}`,
		`{"verdict": "ack", "key": "a3"}`,
	}
	for _, body := range bodies {
		b.send(t, body)
	}

	require.Eventually(t, func() bool {
		visible, inFlight := b.depth(t, "jobs")
		return visible+inFlight == 0 && len(b.dlqPeek(t)) == 1
	}, within, tick, "every message settled")

	calls := readBatches(t, b.record)
	require.NotEmpty(t, calls)
	handled := map[string][]int{}
	maxSize := 0
	for _, call := range calls {
		maxSize = max(maxSize, call.Size)
		for _, e := range call.Entries {
			handled[e.Key] = append(handled[e.Key], e.ReceiveCount)
		}
	}
	assert.Greater(t, maxSize, 1, "messages arrive in batches")
	assert.Equal(t, []int{1}, handled["a1"], "acked once")
	assert.Equal(t, []int{1}, handled["a2"])
	assert.Equal(t, []int{1}, handled["a3"])
	assert.Equal(t, []int{1, 2}, handled["r1"], "the retried message alone comes back")
	assert.Equal(t, []int{1}, handled["d1"])

	dead := b.dlqPeek(t)[0]
	assert.JSONEq(t, `{"verdict": "dead_letter", "key": "d1"}`, string(dead.Body))
	assert.Equal(t, "batcher: cannot handle this one", dead.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue)
}
