package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/internal/mailpittest"
)

const within = 30 * time.Second

// hostProcess is a vega-host run started as a real process.
type hostProcess struct {
	cmd    *exec.Cmd
	output *syncBuffer
	done   chan error
}

// startHostProcess runs "vega-host run -config path" and kills it, if it
// is still running, when the test ends.
func startHostProcess(t *testing.T, binary, configPath string) *hostProcess {
	t.Helper()

	p := &hostProcess{output: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "run", "-config", configPath)
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()

	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("vega-host output:\n%s", p.output.String())
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit status.
func (p *hostProcess) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		p.done <- err
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("vega-host did not exit within %s of SIGTERM", within)
		return -1
	}
}

// vega runs a vega-host subcommand to the end and returns its output.
func vega(t *testing.T, binary string, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	output, err := cmd.CombinedOutput()
	return string(output), err
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestEmailsArriveEndToEnd(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./plugins/example-email")
	mailpit := mailpittest.Start(t)

	dir := t.TempDir()
	configPath := filepath.Join(dir, "listeners.hcl")
	writeFile(t, configPath, fmt.Sprintf(`
driver "sqlite" {
  path = "queue.db"
}

listener "send-email" {
  plugin         = %q
  queue          = "emails"
  workers        = 4
  retry_on_error = true
  config = {
    smtp_addr = %q
    from      = "Vega Host <noreply@example.com>"
  }
}
`, plugin, mailpit.SMTPAddr()))

	host := startHostProcess(t, vegaHost, configPath)

	var lines strings.Builder
	for i := range 19 {
		fmt.Fprintf(&lines, `{"to": "user%d@example.com", "subject": "Message %d", "text": "Hello number %d"}`+"\n", i, i, i)
	}
	output, err := vega(t, vegaHost, lines.String(), "send", "-config", configPath, "-queue", "emails", "-")
	require.NoError(t, err, output)
	assert.Contains(t, output, "sent 19 message(s)")

	output, err = vega(t, vegaHost, "", "send", "-config", configPath, "-queue", "emails",
		`{"to": ["last@example.com", "copy@example.com"], "subject": "Message 19", "html": "<p>Last</p>"}`)
	require.NoError(t, err, output)

	output, err = vega(t, vegaHost, "", "send", "-config", configPath, "-queue", "emails",
		`{"to": "not-an-address", "subject": "Broken", "text": "never sent"}`)
	require.NoError(t, err, output)
	badID := strings.TrimSpace(output)

	// At-least-once delivery may send a mail twice (a retry after a lost
	// SMTP reply), so the check waits for every subject, not a count.
	mailpit.WaitForCount(t, 20, within)
	subjects := map[string]bool{}
	require.Eventually(t, func() bool {
		for _, mail := range mailpit.Messages(t) {
			subjects[mail.Subject] = true
		}
		return len(subjects) >= 20
	}, within, 100*time.Millisecond, "20 different mails arrive")
	for i := range 20 {
		assert.True(t, subjects[fmt.Sprintf("Message %d", i)], "mail %d arrived", i)
	}

	driver, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	require.NoError(t, err)
	defer driver.Close()

	dead := receiveDeadLetters(t, driver, "emails-dlq", 1)
	assert.Contains(t, string(dead[0].Body), "not-an-address", "the body is kept")
	assert.Contains(t, dead[0].UserAttributes[drivers.DeadLetterReasonAttribute].StringValue, "not-an-address",
		"the reason names the bad address")

	require.Eventually(t, func() bool {
		visible, inFlight, err := driver.Depth(context.Background(), "emails")
		return err == nil && visible == 0 && inFlight == 0
	}, within, 50*time.Millisecond, "the queue is empty")

	assert.Equal(t, 0, host.stop(t), "SIGTERM ends the host with status 0")
	assert.NotContains(t, host.output.String(), "retrying", "an invalid address is never retried")
	assert.Contains(t, host.output.String(), badID, "the dead-letter log names the message id")
}

func TestShutdownWaitsForRunningHandler(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")

	dir := t.TempDir()
	record := filepath.Join(dir, "events.jsonl")
	configPath := filepath.Join(dir, "listeners.hcl")
	writeFile(t, configPath, fmt.Sprintf(`
host {
  shutdown_timeout = 10
}

listener "slow" {
  plugin = %q
  queue  = "slow"
  config = {
    record_file = %q
  }
}
`, plugin, record))

	output, err := vega(t, vegaHost, "", "send", "-config", configPath, "-queue", "slow", `{"action": "sleep", "ms": 2000, "key": "slow"}`)
	require.NoError(t, err, output)
	host := startHostProcess(t, vegaHost, configPath)

	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(record)
		return bytes.Contains(data, []byte(`"event":"start"`))
	}, within, 20*time.Millisecond, "the handler started")

	// These arrive while the only worker is busy; the host must not keep
	// any of them hidden when it stops.
	lines := strings.Repeat(`{"action": "ok", "key": "waiting"}`+"\n", 3)
	output, err = vega(t, vegaHost, lines, "send", "-config", configPath, "-queue", "slow", "-")
	require.NoError(t, err, output)

	started := time.Now()
	assert.Equal(t, 0, host.stop(t), "exit status after SIGTERM")
	assert.GreaterOrEqual(t, time.Since(started), 500*time.Millisecond, "the host waited for the handler")

	data, err := os.ReadFile(record)
	require.NoError(t, err)
	assert.Equal(t, 1, bytes.Count(data, []byte(`"event":"handled","key":"slow"`)), "the running handler finished once")
	assert.Equal(t, 0, bytes.Count(data, []byte(`"key":"waiting"`)), "no new handler started after SIGTERM")
	assert.Equal(t, 1, bytes.Count(data, []byte(`"event":"shutdown"`)), "the shutdown hook ran")

	driver, err := sqlite.Open(filepath.Join(dir, "vega.db"))
	require.NoError(t, err)
	defer driver.Close()
	visible, inFlight, err := driver.Depth(context.Background(), "slow")
	require.NoError(t, err)
	assert.Equal(t, 3, visible, "the waiting messages are visible at once")
	assert.Equal(t, 0, inFlight, "the finished message was acked")
}

// receiveDeadLetters waits for want messages in a dead-letter queue.
func receiveDeadLetters(t *testing.T, driver drivers.Driver, queue string, want int) []*drivers.Message {
	t.Helper()
	q, err := driver.Open(context.Background(), queue, drivers.OpenOptions{})
	require.NoError(t, err)

	var messages []*drivers.Message
	deadline := time.Now().Add(within)
	for len(messages) < want && time.Now().Before(deadline) {
		batch, err := q.Receive(context.Background(), drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute, WaitTime: 200 * time.Millisecond})
		require.NoError(t, err)
		messages = append(messages, batch...)
	}
	require.Len(t, messages, want, "messages in %s", queue)
	return messages
}

// syncBuffer is a bytes.Buffer that two copying goroutines may share.
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
