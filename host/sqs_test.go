package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/internal/mototest"
)

// sqsHost is a host on the local SQS server with one behave listener.
type sqsHost struct {
	host   *host.Host
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// sqsConfig writes and loads a config with an sqs driver block for moto
// and one behave listener on queue, with extra listener attributes.
func sqsConfig(t *testing.T, moto *mototest.Server, queue, record, extra string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "listeners.hcl")
	src := fmt.Sprintf(`
host {
  shutdown_timeout = 10
}

driver "sqs" {
  region            = %q
  endpoint_url      = %q
  access_key_id     = %q
  secret_access_key = %q
  wait_time_seconds = 1
}

listener "behave" {
  plugin = %q
  queue  = %q
  %s
  config = {
    record_file = %q
  }
}
`, mototest.Region, moto.Endpoint(), mototest.AccessKeyID, mototest.SecretAccessKey,
		buildtest.Binary(t, "./host/testdata/plugins/behave"), queue, extra, record)
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))

	cfg, diags := config.Load(path)
	require.False(t, diags.HasErrors(), "config: %s", diags.Error())
	return cfg
}

func startSQSHost(t *testing.T, cfg *config.Config) *sqsHost {
	t.Helper()
	h := &sqsHost{logs: &syncBuffer{}, done: make(chan error, 1)}
	logger := hclog.New(&hclog.LoggerOptions{Output: h.logs, Level: hclog.Debug, JSONFormat: true})
	h.host = host.New(cfg, logger)

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.host.Run(ctx, nil) }()
	t.Cleanup(func() {
		h.cancel()
		require.NoError(t, <-h.done)
		if t.Failed() {
			t.Logf("host log:\n%s", h.logs.String())
		}
	})
	return h
}

// sendSQS enqueues bodies on queue through the host's own sqs driver.
func sendSQS(t *testing.T, cfg *config.Config, queue string, messages []drivers.OutgoingMessage) {
	t.Helper()
	driver, err := host.OpenDriver(cfg.Drivers[0])
	require.NoError(t, err)
	defer driver.Close()
	for _, msg := range messages {
		_, err := driver.Send(context.Background(), queue, msg)
		require.NoError(t, err)
	}
}

func TestFIFOGroupsHandledInOrder(t *testing.T) {
	cases := []struct {
		name string
		// failing is the key of a message that fails on its first attempt.
		failing string
	}{
		{name: "all succeed"},
		{name: "one fails once", failing: "a-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			moto := mototest.Start(t)
			queue := mototest.QueueName("fifo") + ".fifo"
			moto.CreateQueue(t, queue, map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
			record := filepath.Join(t.TempDir(), "events.jsonl")
			cfg := sqsConfig(t, moto, queue, record,
				"workers = 4\n  max_messages = 10\n  retry_on_error = true\n  retry_delay = \"200ms\"")

			var messages []drivers.OutgoingMessage
			for i := range 6 {
				for _, group := range []string{"a", "b"} {
					key := fmt.Sprintf("%s-%d", group, i)
					action := `"action": "sleep", "ms": 50`
					if key == tc.failing {
						action = `"action": "fail", "first_only": true`
					}
					messages = append(messages, drivers.OutgoingMessage{
						Body:    []byte(fmt.Sprintf(`{%s, "key": %q}`, action, key)),
						GroupID: group,
					})
				}
			}
			sendSQS(t, cfg, queue, messages)
			startSQSHost(t, cfg)

			b := &bundle{record: record}
			require.Eventually(t, func() bool { return b.count(t, "handled", "") == 12 }, 2*within, tick, "every message handled")

			var order []string
			running := map[string]string{} // group -> key of the running message
			interleaved := false
			lastGroup := ""
			for _, e := range b.events(t) {
				group, _, _ := strings.Cut(e.Key, "-")
				switch e.Event {
				case "start":
					assert.Empty(t, running[group], "message %s started while %s of its group ran", e.Key, running[group])
					running[group] = e.Key
					if lastGroup != "" && lastGroup != group {
						interleaved = true
					}
					lastGroup = group
				case "handled", "failed":
					running[group] = ""
					if e.Event == "handled" {
						order = append(order, e.Key)
					}
				}
			}
			for _, group := range []string{"a", "b"} {
				var keys []string
				for _, key := range order {
					if strings.HasPrefix(key, group+"-") {
						keys = append(keys, key)
					}
				}
				want := []string{group + "-0", group + "-1", group + "-2", group + "-3", group + "-4", group + "-5"}
				assert.Equal(t, want, keys, "group %s handled in order", group)
			}
			assert.True(t, interleaved, "the two groups run in parallel")
			if tc.failing != "" {
				assert.Equal(t, 1, b.count(t, "failed", tc.failing), "the failing message failed once, then succeeded")
			}
		})
	}
}

func TestTwoHostsShareOneQueue(t *testing.T) {
	const total = 500
	moto := mototest.Start(t)
	queue := mototest.QueueName("shared")
	moto.CreateQueue(t, queue, nil)
	record := filepath.Join(t.TempDir(), "events.jsonl")
	cfg := sqsConfig(t, moto, queue, record, "workers = 4\n  max_messages = 10")

	startSQSHost(t, cfg)
	startSQSHost(t, cfg)

	// moto slows down as a queue grows, so messages go in gradually.
	b := &bundle{record: record}
	for start := 0; start < total; start += 50 {
		var messages []drivers.OutgoingMessage
		for i := start; i < start+50; i++ {
			messages = append(messages, drivers.OutgoingMessage{Body: []byte(fmt.Sprintf(`{"action": "ok", "key": "m%d"}`, i))})
		}
		sendSQS(t, cfg, queue, messages)
		require.Eventually(t, func() bool { return b.count(t, "handled", "") >= start }, 2*within, tick)
	}
	require.Eventually(t, func() bool { return b.count(t, "handled", "") >= total }, 4*within, tick, "every message handled")

	receives := map[string]map[int]int{} // key -> receive count -> handlings
	pids := map[int]bool{}
	for _, e := range b.events(t) {
		if e.Event != "handled" {
			continue
		}
		if receives[e.Key] == nil {
			receives[e.Key] = map[int]int{}
		}
		receives[e.Key][e.ReceiveCount]++
		pids[e.Pid] = true
	}
	require.Len(t, receives, total, "every message handled")
	for key, counts := range receives {
		// moto now and then hands one message to two receivers with the
		// same receive count, a double delivery of its own. A redelivery by
		// our host would come with a higher receive count.
		assert.Len(t, counts, 1, "message %s handled on more than one delivery: %v", key, counts)
	}
	assert.Len(t, pids, 2, "both hosts' plugins handled messages")
}
