package host_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// event is one line the behave test plugin records.
type event struct {
	Event        string   `json:"event"`
	Key          string   `json:"key"`
	MessageID    string   `json:"message_id"`
	ReceiveCount int      `json:"receive_count"`
	Pid          int      `json:"pid"`
	Error        string   `json:"error"`
	Env          []string `json:"env"`
	Config       string   `json:"config"`
	Version      string   `json:"version"`
	At           int64    `json:"at"`
}

// bundle holds a running host and what a test inspects around it.
type bundle struct {
	driver   *memory.Driver
	queue    string
	record   string
	logs     *syncBuffer
	cancel   context.CancelFunc
	hardStop chan struct{}
	done     chan error
}

// listenerOption changes the listener block of a test host.
type listenerOption func(*config.Listener)

// startHost runs a host with one listener of the behave plugin on a memory
// queue and stops it when the test ends.
func startHost(t testing.TB, options ...listenerOption) *bundle {
	t.Helper()
	return startHostWith(t, func(*config.Host) {}, options...)
}

// startHostWith is startHost with a change to the host block.
func startHostWith(t testing.TB, hostOption func(*config.Host), options ...listenerOption) *bundle {
	t.Helper()

	record := filepath.Join(t.TempDir(), "events.jsonl")
	listener := config.Listener{
		Name:              "behave",
		Plugin:            buildtest.Binary(t, "./host/testdata/plugins/behave"),
		Driver:            "memory",
		Queue:             "jobs",
		Workers:           2,
		AutoAck:           true,
		VisibilityTimeout: 30 * time.Second,
		MaxMessages:       1,
		MaxRetries:        3,
		RetryDelay:        50 * time.Millisecond,
		MaxRetryDelay:     time.Second,
		Config:            json.RawMessage(`{"record_file": "` + record + `"}`),
	}
	for _, option := range options {
		option(&listener)
	}

	cfg := &config.Config{
		File:      "test.hcl",
		Host:      config.Host{LogLevel: "debug", ShutdownTimeout: 10 * time.Second},
		Drivers:   []config.Driver{{Kind: "memory"}},
		Listeners: []config.Listener{listener},
	}
	hostOption(&cfg.Host)

	b := &bundle{
		driver:   memory.New(),
		queue:    listener.Queue,
		record:   record,
		logs:     &syncBuffer{},
		hardStop: make(chan struct{}),
		done:     make(chan error, 1),
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: b.logs, JSONFormat: true})

	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	h := host.New(cfg, logger, host.WithDriver("memory", b.driver))
	go func() { b.done <- h.Run(ctx, b.hardStop) }()

	t.Cleanup(func() {
		b.stop(t)
		require.NoError(t, b.driver.Close())
		if t.Failed() {
			t.Logf("host log:\n%s", b.logs.String())
		}
	})
	return b
}

// stop ends the host and waits for Run to return.
func (b *bundle) stop(t testing.TB) error {
	t.Helper()
	b.cancel()
	select {
	case err := <-b.done:
		b.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("host did not stop within 30s")
		return nil
	}
}

// send enqueues a JSON body on the listener's queue.
func (b *bundle) send(t testing.TB, body string) string {
	t.Helper()
	id, err := b.driver.Send(context.Background(), b.queue, drivers.OutgoingMessage{Body: []byte(body)})
	require.NoError(t, err)
	return id
}

// events returns what the plugin recorded so far.
func (b *bundle) events(t testing.TB) []event {
	t.Helper()
	data, err := os.ReadFile(b.record)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)

	var events []event
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var e event
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &e), "record line %q", scanner.Text())
		events = append(events, e)
	}
	return events
}

// count returns how many recorded events have the name and, when key is
// not empty, the key.
func (b *bundle) count(t testing.TB, name, key string) int {
	t.Helper()
	n := 0
	for _, e := range b.events(t) {
		if e.Event == name && (key == "" || e.Key == key) {
			n++
		}
	}
	return n
}

// depth returns the visible and in-flight counts of a queue.
func (b *bundle) depth(t testing.TB, queue string) (int, int) {
	t.Helper()
	visible, inFlight, err := b.driver.Depth(context.Background(), queue)
	require.NoError(t, err)
	return visible, inFlight
}

// receiveAll drains up to ten visible messages of queue, for inspecting a
// dead-letter queue.
func (b *bundle) receiveAll(t testing.TB, queue string) []*drivers.Message {
	t.Helper()
	q, err := b.driver.Open(context.Background(), queue, drivers.OpenOptions{})
	require.NoError(t, err)
	messages, err := q.Receive(context.Background(), drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	return messages
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// within is the bound of every wait in these tests.
const within = 15 * time.Second

const tick = 20 * time.Millisecond
