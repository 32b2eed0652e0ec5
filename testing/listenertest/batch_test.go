package listenertest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/testing/listenertest"
)

// rowWriter is a batch listener that writes rows in bulk: a row without a
// name cannot be written, one with "busy" set is retried later.
type rowWriter struct {
	panicOn string
}

func (w *rowWriter) Handle(ctx context.Context, msg *pluginapi.Message) error {
	verdict := w.HandleBatch(ctx, []*pluginapi.Message{msg})[0]
	return verdict.Err
}

func (w *rowWriter) HandleBatch(ctx context.Context, msgs []*pluginapi.Message) []pluginapi.Verdict {
	verdicts := make([]pluginapi.Verdict, len(msgs))
	for i, msg := range msgs {
		var row struct {
			Name string `json:"name"`
			Busy bool   `json:"busy"`
		}
		if err := msg.Decode(&row); err != nil {
			verdicts[i] = pluginapi.DeadLettered(err)
			continue
		}
		switch {
		case row.Name == w.panicOn && w.panicOn != "":
			panic("row writer broke")
		case row.Name == "":
			verdicts[i] = pluginapi.DeadLettered(errors.New("row has no name"))
		case row.Busy:
			verdicts[i] = pluginapi.RetryAfter(time.Second, errors.New("table is locked"))
		default:
			verdicts[i] = pluginapi.Acked()
		}
	}
	return verdicts
}

func TestHandleBatchMixedVerdicts(t *testing.T) {
	h := listenertest.New(t, &rowWriter{})

	result := h.HandleBatch([]any{
		map[string]any{"name": "ada"},
		map[string]any{"name": ""},
		map[string]any{"name": "bob", "busy": true},
		"not json",
	})

	require.NoError(t, result.Err)
	require.Len(t, result.Verdicts, 4)
	assert.Equal(t, listenertest.OutcomeAcked, result.Outcome(0, 3), "a good row is acked")
	assert.Equal(t, listenertest.OutcomeDeadLettered, result.Outcome(1, 3), "a row without a name is dead-lettered")
	assert.Equal(t, listenertest.OutcomeRetried, result.Outcome(2, 3), "a busy row is retried")
	assert.Equal(t, time.Second, result.Verdicts[2].Delay, "the retry keeps its delay")
	assert.Equal(t, listenertest.OutcomeDeadLettered, result.Outcome(3, 3), "an invalid body is dead-lettered")
	assert.ErrorIs(t, result.Verdicts[3].Err, pluginapi.ErrInvalidBody)
}

func TestHandleBatchRetryPastMaxRetries(t *testing.T) {
	h := listenertest.New(t, &rowWriter{})

	result := h.HandleBatch([]any{map[string]any{"name": "bob", "busy": true}}, listenertest.WithReceiveCount(4))

	assert.Equal(t, listenertest.OutcomeDeadLettered, result.Outcome(0, 3), "the fourth attempt has no retry left")
}

func TestHandleBatchPanic(t *testing.T) {
	h := listenertest.New(t, &rowWriter{panicOn: "boom"})

	result := h.HandleBatch([]any{map[string]any{"name": "ada"}, map[string]any{"name": "boom"}})

	require.Error(t, result.Err)
	assert.True(t, result.Panicked)
	assert.Contains(t, result.Err.Error(), "panic in HandleBatch: row writer broke")
	assert.Equal(t, listenertest.OutcomeDeadLettered, result.Outcome(0, 3), "a failed call fails every message")
}

func ExampleHarness_HandleBatch() {
	h := listenertest.New(t, &rowWriter{})

	result := h.HandleBatch([]any{map[string]any{"name": "ada"}, map[string]any{"name": ""}})

	for i := range result.Messages {
		fmt.Println(result.Outcome(i, 3))
	}
	// Output:
	// acked
	// dead-lettered
}
