// Package hosttest runs a compiled listener plugin as a real process under
// the real Vega host, on an in-memory queue. A test sends messages and
// checks what the host did with them: acked, retried, dead-lettered with a
// reason, or released.
//
// A listener package tests its own binary like this:
//
//	func TestPluginUnderHost(t *testing.T) {
//		plugin := hosttest.Build(t, ".")
//		h := hosttest.Start(t, plugin, hosttest.Listener{RetryOnError: true})
//
//		h.Send(t, map[string]any{"to": "a@example.com"})
//		h.WaitHandled(t, 1, 10*time.Second)
//
//		assert.Empty(t, h.DeadLetters(t))
//	}
//
// The host stops when the test ends. For fast unit tests of Handle without
// a process, use the listenertest package.
package hosttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/pluginapi"
)

// Defaults that Start applies where they differ from a listener block's.
const (
	// DefaultName is the listener name when Listener.Name is empty.
	DefaultName = "test"
	// DefaultRetryDelay is the first retry backoff when
	// Listener.RetryDelay is zero: shorter than the host's default of one
	// second, so retries do not slow tests down.
	DefaultRetryDelay = 10 * time.Millisecond
	// DefaultMaxRetryDelay caps the retry backoff when
	// Listener.MaxRetryDelay is zero.
	DefaultMaxRetryDelay = time.Second
	// DefaultShutdownTimeout is the host's shutdown_timeout unless
	// WithShutdownTimeout sets another.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultStartTimeout bounds the wait for the plugin to start unless
	// WithStartTimeout sets another.
	DefaultStartTimeout = 30 * time.Second
)

// stopMargin is the time Stop waits for the host beyond its shutdown
// timeout: plugin shutdown hooks get up to ten seconds more.
const stopMargin = 20 * time.Second

// memoryDriver is the driver kind of the queue the host uses.
const memoryDriver = "memory"

// Listener holds the listener block's settings. A zero field means the
// host's default for that key, unless the field's doc names another.
type Listener struct {
	// Name is the listener's name; DefaultName when empty.
	Name string
	// Queue is the queue it consumes; Name when empty.
	Queue string
	// Workers sets workers.
	Workers int
	// ManualAck sets auto_ack = false, so the handler acks or rejects
	// each message itself.
	ManualAck bool
	// VisibilityTimeout sets visibility_timeout.
	VisibilityTimeout time.Duration
	// MaxMessages sets max_messages.
	MaxMessages int
	// RetryOnError sets retry_on_error.
	RetryOnError bool
	// MaxRetries sets max_retries. Zero means the host's default of 3; to
	// dead-letter a message at its first failure, leave RetryOnError
	// false.
	MaxRetries int
	// RetryDelay sets retry_delay; DefaultRetryDelay when zero.
	RetryDelay time.Duration
	// MaxRetryDelay sets max_retry_delay; DefaultMaxRetryDelay when zero.
	MaxRetryDelay time.Duration
	// DeadLetterQueue sets dead_letter_queue; the queue name with "-dlq"
	// appended when empty.
	DeadLetterQueue string
	// HandlerTimeout sets handler_timeout; zero means no limit.
	HandlerTimeout time.Duration
	// CrashLimit sets crash_limit.
	CrashLimit int
	// RestartLimit sets restart_limit.
	RestartLimit int
	// Env holds the environment variables of the plugin process, which
	// gets no others, as with the env key.
	Env map[string]string
	// Config is the config object that Startup reads. A string, []byte or
	// json.RawMessage is taken as JSON text, and any other value is
	// encoded with encoding/json. Nil means "{}".
	Config any
}

// settings are the host-wide values that Options set.
type settings struct {
	shutdownTimeout time.Duration
	startTimeout    time.Duration
	logLevel        string
}

// Option changes a host-wide setting of Start.
type Option func(*settings)

// WithShutdownTimeout sets the host's shutdown_timeout, the time running
// handlers get when Stop is called.
func WithShutdownTimeout(d time.Duration) Option {
	return func(s *settings) { s.shutdownTimeout = d }
}

// WithStartTimeout sets how long Start waits for the plugin to start.
func WithStartTimeout(d time.Duration) Option {
	return func(s *settings) { s.startTimeout = d }
}

// WithLogLevel sets the log level of the host and the plugin: trace,
// debug, info, warn or error. The default is debug.
func WithLogLevel(level string) Option {
	return func(s *settings) { s.logLevel = level }
}

// Host is a running Vega host with one listener on an in-memory queue.
// Its methods are safe for concurrent use.
type Host struct {
	listener config.Listener
	settings settings
	host     *host.Host
	driver   *memory.Driver
	counter  *countingDriver
	logs     *logBuffer

	cancel       context.CancelFunc
	hardStop     chan struct{}
	hardStopOnce sync.Once
	done         chan error
}

// Start runs a host with one listener whose plugin is the binary at
// plugin, and waits until the plugin has started and its Startup hook has
// returned. It fails the test, with the host's log in the message, when
// the binary is missing, the plugin cannot start, or the start timeout
// passes first. The host stops when the test ends.
func Start(t testing.TB, plugin string, listener Listener, options ...Option) *Host {
	t.Helper()

	s := settings{
		shutdownTimeout: DefaultShutdownTimeout,
		startTimeout:    DefaultStartTimeout,
		logLevel:        "debug",
	}
	for _, option := range options {
		option(&s)
	}

	listenerCfg, err := listenerConfig(plugin, listener)
	if err != nil {
		t.Fatalf("hosttest.Start: %v", err)
	}

	driver := memory.New()
	h := &Host{
		listener: listenerCfg,
		settings: s,
		driver:   driver,
		counter:  &countingDriver{Driver: driver},
		logs:     &logBuffer{},
		hardStop: make(chan struct{}),
		done:     make(chan error, 1),
	}

	cfg := &config.Config{
		File:      "hosttest",
		Host:      config.Host{LogLevel: s.logLevel, LogFormat: "json", ShutdownTimeout: s.shutdownTimeout},
		Drivers:   []config.Driver{{Kind: memoryDriver}},
		Listeners: []config.Listener{listenerCfg},
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "vega-host",
		Level:      hclog.LevelFromString(s.logLevel),
		Output:     h.logs,
		JSONFormat: true,
	})

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.host = host.New(cfg, logger, host.WithDriver(memoryDriver, h.counter))
	go func() { h.done <- h.host.Run(ctx, h.hardStop) }()

	t.Cleanup(func() { h.cleanup(t) })
	h.waitStarted(t)
	return h
}

// listenerConfig returns the listener block that Start runs.
func listenerConfig(plugin string, l Listener) (config.Listener, error) {
	path, err := filepath.Abs(plugin)
	if err != nil {
		return config.Listener{}, fmt.Errorf("resolve plugin path %q: %w", plugin, err)
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return config.Listener{}, fmt.Errorf("plugin binary %s: %w; build it with hosttest.Build", path, err)
	case info.IsDir():
		return config.Listener{}, fmt.Errorf("plugin path %s is a directory, not a binary; build it with hosttest.Build", path)
	}

	configJSON, err := encodeConfig(l.Config)
	if err != nil {
		return config.Listener{}, err
	}

	name := valueOr(l.Name, DefaultName)
	return config.Listener{
		Name:              name,
		Plugin:            path,
		Driver:            memoryDriver,
		Queue:             valueOr(l.Queue, name),
		Workers:           valueOr(l.Workers, config.DefaultWorkers),
		AutoAck:           !l.ManualAck,
		VisibilityTimeout: valueOr(l.VisibilityTimeout, config.DefaultVisibilityTimeout),
		MaxMessages:       valueOr(l.MaxMessages, config.DefaultMaxMessages),
		RetryOnError:      l.RetryOnError,
		MaxRetries:        valueOr(l.MaxRetries, config.DefaultMaxRetries),
		RetryDelay:        valueOr(l.RetryDelay, DefaultRetryDelay),
		MaxRetryDelay:     valueOr(l.MaxRetryDelay, DefaultMaxRetryDelay),
		DeadLetterQueue:   l.DeadLetterQueue,
		HandlerTimeout:    l.HandlerTimeout,
		CrashLimit:        valueOr(l.CrashLimit, config.DefaultCrashLimit),
		RestartLimit:      valueOr(l.RestartLimit, config.DefaultRestartLimit),
		Env:               l.Env,
		Config:            configJSON,
	}, nil
}

// encodeConfig returns the config object as JSON.
func encodeConfig(value any) (json.RawMessage, error) {
	var data []byte
	switch v := value.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case string:
		data = []byte(v)
	case []byte:
		data = v
	case json.RawMessage:
		data = v
	default:
		encoded, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("encode listener config: %w", err)
		}
		data = encoded
	}

	var object map[string]json.RawMessage
	if err := json.Unmarshal(data, &object); err != nil || object == nil {
		return nil, fmt.Errorf("listener config %q is not a JSON object, but the host always passes an object", truncate(string(data), 40))
	}
	return json.RawMessage(data), nil
}

// valueOr returns value, or def when value is the zero value.
func valueOr[T comparable](value, def T) T {
	var zero T
	if value == zero {
		return def
	}
	return value
}

// Send enqueues body on the listener's queue and returns the message id.
// A string, []byte or json.RawMessage is sent as it is, and any other value
// is encoded with encoding/json.
func (h *Host) Send(t testing.TB, body any) string {
	t.Helper()

	data, err := encodeBody(body)
	if err != nil {
		t.Fatalf("hosttest: %v", err)
	}
	return h.SendMessage(t, pluginapi.OutgoingMessage{Body: data})
}

// SendMessage enqueues msg, with its user attributes and delay, on the
// listener's queue and returns the message id.
func (h *Host) SendMessage(t testing.TB, msg pluginapi.OutgoingMessage) string {
	t.Helper()

	attributes := make(map[string]drivers.Attribute, len(msg.UserAttributes))
	for name, attribute := range msg.UserAttributes {
		attributes[name] = drivers.Attribute(attribute)
	}
	id, err := h.driver.Send(context.Background(), h.listener.Queue, drivers.OutgoingMessage{
		Body:           msg.Body,
		UserAttributes: attributes,
		Delay:          msg.Delay,
	})
	if err != nil {
		t.Fatalf("hosttest: send to queue %q: %v", h.listener.Queue, err)
	}
	return id
}

// Queue returns the name of the listener's queue.
func (h *Host) Queue() string {
	return h.listener.Queue
}

// DeadLetterQueue returns the name of the listener's dead-letter queue.
func (h *Host) DeadLetterQueue() string {
	if h.listener.DeadLetterQueue != "" {
		return h.listener.DeadLetterQueue
	}
	return h.listener.Queue + drivers.DefaultDeadLetterSuffix
}

// Driver returns the in-memory driver that the host uses, for sending to
// other queues or reading them.
func (h *Host) Driver() *memory.Driver {
	return h.driver
}

// Logs returns the host's log so far as JSON lines, the plugin's own log
// lines included.
func (h *Host) Logs() string {
	return h.logs.String()
}

// Stop shuts the host down as SIGTERM does, waits for it and returns the
// error of host.Run. Running handlers get the shutdown timeout, and the
// plugin's Shutdown hook runs. Later calls return the same error.
func (h *Host) Stop(t testing.TB) error {
	t.Helper()

	h.cancel()
	limit := h.settings.shutdownTimeout + stopMargin
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(limit):
		h.hardStopOnce.Do(func() { close(h.hardStop) })
		t.Fatalf("hosttest: the host did not stop within %s\n%s", limit, h.Logs())
		return nil
	}
}

// cleanup stops the host and closes its driver when the test ends, and
// prints the host's log when the test failed.
func (h *Host) cleanup(t testing.TB) {
	t.Helper()

	if err := h.Stop(t); err != nil {
		t.Errorf("hosttest: the host stopped with an error: %v", err)
	}
	if err := h.driver.Close(); err != nil {
		t.Errorf("hosttest: close the memory driver: %v", err)
	}
	if t.Failed() {
		t.Logf("host log:\n%s", h.Logs())
	}
}

// encodeBody returns body as bytes: strings and byte slices as they are,
// other values encoded with encoding/json.
func encodeBody(body any) ([]byte, error) {
	switch v := body.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}

	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode message body of type %T: %w", body, err)
	}
	return data, nil
}

// truncate cuts text to limit bytes, marking the cut.
func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	return strings.ToValidUTF8(text[:limit], "") + "..."
}
