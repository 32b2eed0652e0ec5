// Package mototest starts a private moto_server, a local server that speaks
// the Amazon SQS API, for the tests of a package.
//
// Each Server is its own moto_server process on a free port of 127.0.0.1.
// A test package starts one in TestMain and gives every test its own queue
// names, because moto gets slower as its queues grow:
//
//	var moto *mototest.Server
//
//	func TestMain(m *testing.M) {
//		os.Exit(mototest.Main(m, &moto))
//	}
//
// A single test may start a Server of its own with Start instead. The
// moto_server binary must be on PATH; it ships with the Python package moto
// and cannot be installed by these helpers.
package mototest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Credentials and region that moto accepts. moto checks only that requests
// are signed, so any static values work.
const (
	Region          = "us-east-1"
	AccessKeyID     = "mototest"
	SecretAccessKey = "mototest"
)

// Binary is the command that Start runs, looked up on PATH.
const Binary = "moto_server"

const (
	// startTimeout bounds the wait for a new moto_server to respond.
	startTimeout = 20 * time.Second

	// stopTimeout is how long Stop waits after SIGTERM before it kills
	// moto_server.
	stopTimeout = 5 * time.Second

	// startAttempts is how many times a start tries new ports when
	// moto_server exits during startup, which happens when another process
	// takes the chosen port between the probe and moto_server's bind.
	startAttempts = 3

	// pollInterval is the pause between readiness checks.
	pollInterval = 25 * time.Millisecond

	// outputLimit is how many bytes of moto_server's output a Server keeps
	// for failure reports. moto logs a line per request, so only the end
	// is kept.
	outputLimit = 64 << 10
)

// Server is one moto_server process.
type Server struct {
	endpoint string
	// httpClient serves the SDK clients of Client, so that Stop can close
	// their idle connections.
	httpClient *http.Client
	cmd        *exec.Cmd
	output     *tailBuffer
	exited     chan struct{}
	waitErr    error
}

// Main starts a Server for the test binary, stores it in *server, runs the
// tests and stops the Server. It returns the exit code for os.Exit, and 1
// when moto_server cannot be started, after printing why. It also sets
// AWS_EC2_METADATA_DISABLED=true, so that no SDK default ever reaches for
// the EC2 metadata address.
func Main(m *testing.M, server **Server) int {
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		fmt.Fprintf(os.Stderr, "mototest: set AWS_EC2_METADATA_DISABLED: %v\n", err)
		return 1
	}

	started, err := StartProcess()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mototest: %v\n", err)
		return 1
	}
	*server = started

	code := m.Run()

	if err := started.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "mototest: %v\n", err)
	}
	return code
}

// Start runs a new moto_server for tb and stops it when tb ends. It fails
// tb when moto_server is not on PATH or does not start.
func Start(tb testing.TB) *Server {
	tb.Helper()

	server, err := StartProcess()
	if err != nil {
		tb.Fatalf("mototest: %v", err)
	}

	tb.Cleanup(func() {
		if err := server.Stop(); err != nil {
			tb.Errorf("mototest: %v", err)
		}
		if tb.Failed() {
			tb.Logf("mototest: last output of moto_server at %s:\n%s", server.endpoint, server.Output())
		}
	})
	return server
}

// StartPrivate runs a moto_server of tb's own even when EndpointEnv points
// at a shared one, for tests that pause or stop the server.
func StartPrivate(tb testing.TB) *Server {
	tb.Helper()
	tb.Setenv(EndpointEnv, "")
	return Start(tb)
}

// Pause stops the moto_server process with SIGSTOP: it keeps its queues
// and its port, but sends no response until Resume, like a broker behind
// a network outage.
func (s *Server) Pause() error {
	if s.cmd == nil {
		return errors.New("a shared moto_server cannot be paused; use StartPrivate")
	}
	return s.cmd.Process.Signal(syscall.SIGSTOP)
}

// Resume continues a paused moto_server.
func (s *Server) Resume() error {
	if s.cmd == nil {
		return errors.New("a shared moto_server cannot be resumed; use StartPrivate")
	}
	return s.cmd.Process.Signal(syscall.SIGCONT)
}

// StartProcess runs a new moto_server on a free port of 127.0.0.1 and waits
// until it responds. The caller stops it with Stop. It fails when
// moto_server is not on PATH.
func StartProcess() (*Server, error) {
	if endpoint := os.Getenv(EndpointEnv); endpoint != "" {
		return shared(endpoint)
	}

	binary, err := exec.LookPath(Binary)
	if err != nil {
		return nil, fmt.Errorf("%s not found on PATH: it comes with the Python package moto (pip install 'moto[server]'), "+
			"and the SQS driver's tests need it: %w", Binary, err)
	}

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		server, err := start(binary)
		if err == nil {
			return server, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("start %s after %d attempts: %w", binary, startAttempts, lastErr)
}

// Endpoint returns the server's base URL, such as "http://127.0.0.1:41234",
// for the SDK's endpoint setting.
func (s *Server) Endpoint() string {
	return s.endpoint
}

// Output returns the last part of moto_server's standard output and error.
func (s *Server) Output() string {
	return s.output.String()
}

// Stop sends SIGTERM to moto_server and waits for it to exit, killing it
// when it takes longer than a few seconds. Calling Stop again does nothing,
// and so does Stop on a shared server, which its script stops.
func (s *Server) Stop() error {
	s.httpClient.CloseIdleConnections()
	if s.cmd == nil {
		return nil
	}

	select {
	case <-s.exited:
		return nil
	default:
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM to %s pid %d: %w", Binary, s.cmd.Process.Pid, err)
	}

	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()

	select {
	case <-s.exited:
		return nil
	case <-timer.C:
	}

	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s pid %d after it ignored SIGTERM for %s: %w", Binary, s.cmd.Process.Pid, stopTimeout, err)
	}
	<-s.exited
	return nil
}

// EndpointEnv names the variable that points tests at a moto_server that
// is already running, such as the one scripts/moto.sh starts in CI, instead
// of a private one per test package. Tests give every queue a unique name,
// so packages can share it.
const EndpointEnv = "VEGA_MOTO_ENDPOINT"

// shared returns a Server for the moto_server at endpoint after checking
// that it responds.
func shared(endpoint string) (*Server, error) {
	server := &Server{
		endpoint:   endpoint,
		httpClient: &http.Client{},
		output:     newTailBuffer(outputLimit),
	}
	if err := probe(server.httpClient, endpoint); err != nil {
		return nil, fmt.Errorf("moto_server at %s (from %s) does not respond; start it with scripts/moto.sh start or unset %s: %w",
			endpoint, EndpointEnv, EndpointEnv, err)
	}
	return server, nil
}

// start runs one moto_server and waits until it responds. On failure it
// stops the process and returns an error with its output.
func start(binary string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	output := newTailBuffer(outputLimit)
	cmd := exec.Command(binary, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = output
	cmd.Stderr = output
	stopWithParent(cmd)

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", binary, err)
	}

	server := &Server{
		endpoint:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		httpClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		cmd:        cmd,
		output:     output,
		exited:     make(chan struct{}),
	}
	go func() {
		server.waitErr = cmd.Wait()
		close(server.exited)
	}()

	if err := server.waitReady(); err != nil {
		_ = server.Stop()
		return nil, fmt.Errorf("%w (exit status: %v)\n%s output:\n%s", err, server.waitErr, Binary, output.String())
	}
	return server, nil
}

// waitReady polls until moto_server responds to an HTTP request, exits, or
// startTimeout passes.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup", Binary)
		default:
		}

		err := probe(client, s.endpoint)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s at %s not ready within %s: %w", Binary, s.endpoint, startTimeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// probe returns nil when moto's own API at endpoint responds with 200 OK.
func probe(client *http.Client, endpoint string) error {
	response, err := client.Get(endpoint + "/moto-api/")
	if err != nil {
		return err
	}
	_ = response.Body.Close()

	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s/moto-api/: status %s", endpoint, response.Status)
	}
	return nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer listener.Close()

	return listener.Addr().(*net.TCPAddr).Port, nil
}
