// Command batcher is a test plugin that handles messages in batches. Each
// body names its verdict: {"verdict": "ack" | "retry" | "dead_letter",
// "key": "..."}; "retry" requests a retry only on the first delivery. Each
// call is recorded as a JSON line with its size and each message's key and
// receive count in the file named by the record_file config key.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

type batcher struct {
	mu     sync.Mutex
	record *os.File
}

type entry struct {
	Key          string `json:"key"`
	ReceiveCount int    `json:"receive_count"`
}

func (b *batcher) Startup(ctx context.Context, info pluginapi.StartupInfo) error {
	var cfg struct {
		RecordFile string `json:"record_file"`
	}
	if err := info.DecodeConfig(&cfg); err != nil {
		return err
	}
	file, err := os.OpenFile(cfg.RecordFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open record file: %w", err)
	}
	b.record = file
	return nil
}

func (b *batcher) Handle(ctx context.Context, msg *pluginapi.Message) error {
	verdict := b.HandleBatch(ctx, []*pluginapi.Message{msg})[0]
	if verdict.Action != pluginapi.ActionAck {
		return verdict.Err
	}
	return nil
}

func (b *batcher) HandleBatch(ctx context.Context, msgs []*pluginapi.Message) []pluginapi.Verdict {
	verdicts := make([]pluginapi.Verdict, len(msgs))
	entries := make([]entry, len(msgs))
	for i, msg := range msgs {
		var body struct {
			Verdict string `json:"verdict"`
			Key     string `json:"key"`
		}
		if err := msg.Decode(&body); err != nil {
			verdicts[i] = pluginapi.DeadLettered(err)
			continue
		}
		entries[i] = entry{Key: body.Key, ReceiveCount: msg.ReceiveCount}

		switch {
		case body.Verdict == "retry" && msg.ReceiveCount == 1:
			verdicts[i] = pluginapi.RetryAfter(100*time.Millisecond, errors.New("batcher: try again"))
		case body.Verdict == "dead_letter":
			verdicts[i] = pluginapi.DeadLettered(errors.New("batcher: cannot handle this one"))
		default:
			verdicts[i] = pluginapi.Acked()
		}
	}
	b.write(entries)
	return verdicts
}

func (b *batcher) write(entries []entry) {
	line, _ := json.Marshal(map[string]any{"event": "batch", "size": len(entries), "entries": entries})
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = b.record.Write(append(line, '\n'))
}

func main() {
	pluginapi.Serve(&batcher{})
}
