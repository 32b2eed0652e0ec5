// Package mailpittest starts a private mailpit for a test and reads the
// mails it received through mailpit's HTTP API.
//
// Each call to Start runs its own mailpit process on free ports of
// 127.0.0.1, with its database in the test's temporary directory, and stops
// it when the test ends:
//
//	server := mailpittest.Start(t)
//	send(t, server.SMTPAddr())
//	messages := server.WaitForCount(t, 1, 5*time.Second)
//	detail := server.Message(t, messages[0].ID)
//
// The binary is $MAILPIT_BIN when set, otherwise .bin/mailpit at the
// repository root, which Start installs with scripts/mailpit.sh when it is
// missing.
package mailpittest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for a new mailpit to accept SMTP
	// connections and to respond on its HTTP API.
	startTimeout = 20 * time.Second

	// stopTimeout is how long the cleanup waits after SIGTERM before it
	// kills mailpit.
	stopTimeout = 5 * time.Second

	// startAttempts is how many times Start tries new ports when mailpit
	// exits during startup, which happens when another process takes a
	// chosen port between the probe and mailpit's bind.
	startAttempts = 3

	// pollInterval is the pause between readiness and WaitForCount checks.
	pollInterval = 25 * time.Millisecond
)

// Server is one mailpit process started by Start.
type Server struct {
	smtpAddr string
	apiURL   string
	client   *http.Client
}

// Option changes how Start runs mailpit.
type Option func(*settings)

type settings struct {
	args []string
}

// WithArgs passes extra command-line flags to mailpit, for example
// "--smtp-allowed-recipients" with a regular expression.
func WithArgs(args ...string) Option {
	return func(s *settings) {
		s.args = append(s.args, args...)
	}
}

// WithSMTPAuth makes mailpit accept SMTP AUTH PLAIN and LOGIN with any
// username and password over unencrypted connections. Mailpit rejects AUTH
// without it. Summary.Username shows the name a mail was sent with.
func WithSMTPAuth() Option {
	return WithArgs("--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
}

// WithChaos enables mailpit's chaos feature, so that SetChaos can make its
// SMTP server reply with error codes.
func WithChaos() Option {
	return WithArgs("--enable-chaos")
}

// Start runs a new mailpit for t on free loopback ports and waits until it
// accepts SMTP connections and its HTTP API responds. A cleanup registered
// on t stops it and, when t failed, logs mailpit's output. Start fails t
// when mailpit cannot be found, installed or started.
func Start(t testing.TB, options ...Option) *Server {
	t.Helper()

	var s settings
	for _, option := range options {
		option(&s)
	}

	binary := findBinary(t)

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		server, err := start(t, binary, s.args)
		if err == nil {
			return server
		}

		lastErr = err
		t.Logf("mailpittest: start attempt %d of %d failed: %v", attempt, startAttempts, err)
	}

	t.Fatalf("mailpittest: start %s: %v", binary, lastErr)
	return nil
}

// SMTPAddr returns the host:port of mailpit's SMTP server.
func (s *Server) SMTPAddr() string {
	return s.smtpAddr
}

// APIURL returns the base URL of mailpit's HTTP API, such as
// "http://127.0.0.1:41234", without a trailing slash.
func (s *Server) APIURL() string {
	return s.apiURL
}

// start runs one mailpit process and waits for it. On failure it stops the
// process and returns an error that contains mailpit's output.
func start(t testing.TB, binary string, extraArgs []string) (*Server, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}

	smtpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(smtpPort))
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
	args := []string{
		"--smtp", smtpAddr,
		"--listen", httpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--max", "0",
	}
	args = append(args, extraArgs...)

	output := &syncBuffer{}
	cmd := exec.Command(binary, args...)
	cmd.Env = environWithoutMailpitSettings()
	cmd.Stdout = output
	cmd.Stderr = output
	stopWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", binary, err)
	}

	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	stop := func() {
		if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Logf("mailpittest: send SIGINT to mailpit pid %d: %v", cmd.Process.Pid, err)
		}
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			t.Logf("mailpittest: mailpit pid %d did not exit within %s of SIGINT; killing it", cmd.Process.Pid, stopTimeout)
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	server := &Server{
		smtpAddr: smtpAddr,
		apiURL:   "http://" + httpAddr,
		client:   &http.Client{Timeout: 10 * time.Second},
	}
	if err := server.waitReady(exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w (exit status: %v)\nmailpit output:\n%s", err, waitErr, output.String())
	}

	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("mailpittest: output of mailpit on SMTP %s, HTTP %s:\n%s", smtpAddr, httpAddr, output.String())
		}
	})
	return server, nil
}

// waitReady polls until mailpit accepts SMTP connections and its HTTP API
// responds, mailpit exits, or startTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for {
		select {
		case <-exited:
			return fmt.Errorf("mailpit exited during startup")
		default:
		}

		lastErr = s.probe()
		if lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit not ready within %s: %w", startTimeout, lastErr)
		}
		time.Sleep(pollInterval)
	}
}

// probe returns nil when both the SMTP port and the HTTP API respond.
func (s *Server) probe() error {
	conn, err := net.DialTimeout("tcp", s.smtpAddr, time.Second)
	if err != nil {
		return fmt.Errorf("connect to SMTP %s: %w", s.smtpAddr, err)
	}
	_ = conn.Close()

	response, err := s.client.Get(s.apiURL + "/api/v1/messages")
	if err != nil {
		return fmt.Errorf("get %s/api/v1/messages: %w", s.apiURL, err)
	}
	_ = response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s/api/v1/messages: status %s", s.apiURL, response.Status)
	}
	return nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
// Another process may take it before mailpit binds it, so Start retries
// with new ports.
func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer listener.Close()

	return listener.Addr().(*net.TCPAddr).Port, nil
}

// environWithoutMailpitSettings returns the environment without mailpit's
// MP_ variables, which would override the test's flags. MP_SMTP_RELAY_HOST,
// for one, would relay test mails to another server.
func environWithoutMailpitSettings() []string {
	var environ []string
	for _, entry := range os.Environ() {
		if strings.HasPrefix(entry, "MP_") {
			continue
		}
		environ = append(environ, entry)
	}
	return environ
}

// syncBuffer collects a process's output for logs. Its stdout and stderr
// write to it from separate goroutines.
type syncBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.String()
}
