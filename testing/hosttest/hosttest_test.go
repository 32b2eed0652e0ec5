package hosttest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/testing/hosttest"
)

// behavePackage is the test plugin of the host's tests, whose every
// message names what the handler does.
const behavePackage = "../../host/testdata/plugins/behave"

// within bounds every wait in these tests.
const within = 15 * time.Second

// behaveBinary is the behave plugin, built once by TestMain.
var behaveBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hosttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create folder for the test plugin:", err)
		os.Exit(1)
	}

	behaveBinary = filepath.Join(dir, "behave")
	build := exec.Command("go", "build", "-o", behaveBinary, behavePackage)
	if output, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", behavePackage, err, output)
		os.Exit(1)
	}

	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// event is one line that the behave plugin records.
type event struct {
	Event        string   `json:"event"`
	Key          string   `json:"key"`
	ReceiveCount int      `json:"receive_count"`
	Env          []string `json:"env"`
}

// bundle is a running host with the behave plugin and the file that the
// plugin records its events in.
type bundle struct {
	*hosttest.Host
	record string
}

// startBehave runs the behave plugin under a host with listener's
// settings.
func startBehave(t *testing.T, listener hosttest.Listener, options ...hosttest.Option) *bundle {
	t.Helper()

	record := filepath.Join(t.TempDir(), "events.jsonl")
	if listener.Config == nil {
		listener.Config = map[string]any{"record_file": record}
	}
	return &bundle{Host: hosttest.Start(t, behaveBinary, listener, options...), record: record}
}

// events returns what the plugin recorded so far.
func (b *bundle) events(t *testing.T) []event {
	t.Helper()

	data, err := os.ReadFile(b.record)
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

// count returns how many recorded events have the name.
func (b *bundle) count(t *testing.T, name string) int {
	t.Helper()
	n := 0
	for _, e := range b.events(t) {
		if e.Event == name {
			n++
		}
	}
	return n
}

func TestHostAcksHandledMessages(t *testing.T) {
	h := startBehave(t, hosttest.Listener{Workers: 2})

	for i := range 3 {
		h.Send(t, map[string]any{"action": "ok", "key": fmt.Sprint(i)})
	}
	h.WaitHandled(t, 3, within)
	h.WaitEmpty(t, within)

	assert.Equal(t, hosttest.Counts{Acked: 3}, h.Counts())
	assert.Empty(t, h.DeadLetters(t))
	assert.Equal(t, 3, h.count(t, "handled"))
	visible, inFlight := h.Depth(t)
	assert.Zero(t, visible, "visible")
	assert.Zero(t, inFlight, "in flight")
}

func TestHostDeadLettersWithReason(t *testing.T) {
	tests := []struct {
		name       string
		listener   hosttest.Listener
		body       string
		wantReason string
		wantStarts int
	}{
		{
			name:       "permanent error",
			listener:   hosttest.Listener{RetryOnError: true},
			body:       `{"action": "fail_permanent"}`,
			wantReason: "behave: asked to fail for good",
			wantStarts: 1,
		},
		{
			name:       "error without retry_on_error",
			body:       `{"action": "fail"}`,
			wantReason: "behave: asked to fail",
			wantStarts: 1,
		},
		{
			name:       "error after the last retry",
			listener:   hosttest.Listener{RetryOnError: true, MaxRetries: 2},
			body:       `{"action": "fail"}`,
			wantReason: "behave: asked to fail",
			wantStarts: 3,
		},
		{
			name:       "panic",
			body:       `{"action": "panic"}`,
			wantReason: "panic in Handle: behave: asked to panic",
			wantStarts: 1,
		},
		{
			name:       "body not a JSON object",
			listener:   hosttest.Listener{RetryOnError: true},
			body:       `plain text`,
			wantReason: "invalid message body",
			wantStarts: 0,
		},
		{
			name:       "handler timeout",
			listener:   hosttest.Listener{HandlerTimeout: 100 * time.Millisecond},
			body:       `{"action": "sleep", "ms": 10000}`,
			wantReason: "handler timed out after 100ms",
			wantStarts: 1,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startBehave(t, tt.listener)

			id := h.Send(t, tt.body)
			h.WaitHandled(t, 1, within)

			letters := h.DeadLetters(t)
			require.Len(t, letters, 1)
			assert.Equal(t, id, letters[0].ID, "the same message")
			assert.Equal(t, tt.body, string(letters[0].Body), "the body is kept")
			assert.Contains(t, letters[0].Reason, tt.wantReason, "reason")
			assert.Equal(t, h.Queue(), letters[0].Source, "source queue")
			assert.Equal(t, hosttest.Counts{DeadLettered: 1}, h.Counts())
			assert.Equal(t, tt.wantStarts, h.count(t, "start"), "Handle calls")
		})
	}
}

func TestHostRunsOnErrorBeforeDeadLetter(t *testing.T) {
	h := startBehave(t, hosttest.Listener{})

	h.Send(t, `{"action": "fail_permanent"}`)
	h.WaitHandled(t, 1, within)

	assert.Equal(t, 1, h.count(t, "on_error"))
}

func TestHostRetriesUntilSuccess(t *testing.T) {
	h := startBehave(t, hosttest.Listener{RetryOnError: true})

	h.Send(t, `{"action": "fail", "first_only": true}`)
	h.WaitHandled(t, 1, within)

	assert.Equal(t, hosttest.Counts{Acked: 1}, h.Counts())
	assert.Empty(t, h.DeadLetters(t))
	var receiveCounts []int
	for _, e := range h.events(t) {
		if e.Event == "start" {
			receiveCounts = append(receiveCounts, e.ReceiveCount)
		}
	}
	assert.Equal(t, []int{1, 2}, receiveCounts, "the second delivery succeeded")
}

func TestHostManualAck(t *testing.T) {
	tests := []struct {
		name       string
		action     string
		wantCounts func(hosttest.Counts) bool
		wantReason string
	}{
		{
			name:       "ack",
			action:     "ack",
			wantCounts: func(c hosttest.Counts) bool { return c.Acked == 1 },
		},
		{
			name:       "reject without requeue",
			action:     "reject_dead_letter",
			wantCounts: func(c hosttest.Counts) bool { return c.DeadLettered == 1 },
			wantReason: "rejected by the handler",
		},
		{
			name:       "reject with requeue",
			action:     "reject_requeue",
			wantCounts: func(c hosttest.Counts) bool { return c.Released >= 1 && c.Acked == 0 },
		},
		{
			name:       "return without settling",
			action:     "return_unsettled",
			wantCounts: func(c hosttest.Counts) bool { return c.Released >= 1 && c.Acked == 0 },
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startBehave(t, hosttest.Listener{ManualAck: true})

			h.Send(t, map[string]string{"action": tt.action})

			require.Eventually(t, func() bool { return tt.wantCounts(h.Counts()) }, within, 10*time.Millisecond,
				"counts: %+v", h.Counts())
			if tt.wantReason != "" {
				letters := h.DeadLetters(t)
				require.Len(t, letters, 1)
				assert.Equal(t, tt.wantReason, letters[0].Reason)
			}
		})
	}
}

func TestHostPassesEnvAndConfig(t *testing.T) {
	record := filepath.Join(t.TempDir(), "events.jsonl")
	h := startBehave(t, hosttest.Listener{
		Env:    map[string]string{"VEGA_TEST_TOKEN": "s3cret"},
		Config: `{"record_file": "` + record + `"}`,
	})
	h.record = record

	h.Send(t, `{"action": "env"}`)
	h.WaitHandled(t, 1, within)

	var env []string
	for _, e := range h.events(t) {
		if e.Event == "env" {
			env = e.Env
		}
	}
	assert.Contains(t, env, "VEGA_TEST_TOKEN=s3cret", "the listed variable reaches the plugin")
	for _, variable := range env {
		assert.False(t, strings.HasPrefix(variable, "HOME="), "an unlisted variable reached the plugin: %s", variable)
	}
}

func TestHostLogsIncludePluginLines(t *testing.T) {
	h := startBehave(t, hosttest.Listener{Name: "worker"})

	line := h.WaitLog(t, "behave plugin started", within)

	assert.Contains(t, line, `"listener":"worker"`, "the plugin's line carries the listener name")
	assert.Contains(t, h.Logs(), "behave plugin started")
}

func TestHostStopRunsShutdownHook(t *testing.T) {
	h := startBehave(t, hosttest.Listener{})

	require.NoError(t, h.Stop(t))

	assert.Equal(t, 1, h.count(t, "shutdown"))
	assert.NoError(t, h.Stop(t), "a second Stop returns the same result")
}

func TestHostQueueNames(t *testing.T) {
	tests := []struct {
		name      string
		listener  hosttest.Listener
		wantQueue string
		wantDLQ   string
	}{
		{name: "defaults", wantQueue: "test", wantDLQ: "test-dlq"},
		{name: "name only", listener: hosttest.Listener{Name: "mailer"}, wantQueue: "mailer", wantDLQ: "mailer-dlq"},
		{name: "queue and dead-letter queue", listener: hosttest.Listener{Queue: "emails", DeadLetterQueue: "failed-emails"}, wantQueue: "emails", wantDLQ: "failed-emails"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startBehave(t, tt.listener)

			h.Send(t, `{"action": "fail_permanent"}`)
			h.WaitHandled(t, 1, within)

			assert.Equal(t, tt.wantQueue, h.Queue())
			assert.Equal(t, tt.wantDLQ, h.DeadLetterQueue())
			assert.Len(t, h.DeadLetters(t), 1, "the message is in %s", tt.wantDLQ)
		})
	}
}

func TestDeadLettersStayInQueue(t *testing.T) {
	h := startBehave(t, hosttest.Listener{})
	h.SendMessage(t, pluginapi.OutgoingMessage{
		Body:           []byte(`{"action": "fail_permanent"}`),
		UserAttributes: map[string]pluginapi.Attribute{"tenant": {DataType: "String", StringValue: "acme"}},
	})
	h.WaitHandled(t, 1, within)

	first := h.DeadLetters(t)
	second := h.DeadLetters(t)

	require.Len(t, first, 1)
	require.Len(t, second, 1, "reading the dead letters leaves them in the queue")
	assert.Equal(t, "acme", second[0].UserAttributes["tenant"].StringValue, "the sender's attributes are kept")
	assert.Contains(t, second[0].String(), "asked to fail for good")
}

// fatalTB records the first Fatalf and ends the goroutine that called it,
// as testing.T does.
type fatalTB struct {
	*testing.T

	mu    sync.Mutex
	fatal string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	if f.fatal == "" {
		f.fatal = fmt.Sprintf(format, args...)
	}
	f.mu.Unlock()
	runtime.Goexit()
}

// fatalMessage runs call in its own goroutine and returns the message of
// the Fatalf that ended it, or "" when it returned normally.
func (f *fatalTB) fatalMessage(call func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		call()
	}()
	<-done

	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fatal
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name     string
		plugin   string
		listener hosttest.Listener
		want     []string
	}{
		{
			name:     "startup hook fails",
			plugin:   behaveBinary,
			listener: hosttest.Listener{Config: map[string]any{"fail_startup": true}},
			want:     []string{"failed to start", "behave: asked to fail at startup", "host log:"},
		},
		{
			name:   "missing binary",
			plugin: filepath.Join(t.TempDir(), "nothing-here"),
			want:   []string{"nothing-here", "build it with hosttest.Build"},
		},
		{
			name:     "config not an object",
			plugin:   behaveBinary,
			listener: hosttest.Listener{Config: `["record_file"]`},
			want:     []string{"is not a JSON object"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &fatalTB{T: t}

			message := tb.fatalMessage(func() { hosttest.Start(tb, tt.plugin, tt.listener) })

			for _, want := range tt.want {
				assert.Contains(t, message, want)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	binary := hosttest.Build(t, behavePackage)

	info, err := os.Stat(binary)
	require.NoError(t, err)
	assert.Equal(t, "behave", filepath.Base(binary), "named after the package folder")
	assert.True(t, filepath.IsAbs(binary), "absolute path")
	assert.NotZero(t, info.Mode().Perm()&0o100, "executable")
}

func TestBuildFailureShowsCompilerOutput(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/broken\n\ngo 1.26.0\n"), 0o644))
	tb := &fatalTB{T: t}

	message := tb.fatalMessage(func() { hosttest.Build(tb, dir) })

	assert.Contains(t, message, "go build")
	assert.Contains(t, message, "undefined", "the compiler's output")
}
