// Package config loads and validates listeners.hcl: the host block, the
// driver blocks and one listener block per plugin.
package config

import (
	"encoding/json"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults of the listener keys, kept as they were in the framework that
// Vega Host replaces.
const (
	DefaultWorkers           = 1
	DefaultAutoAck           = true
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultMaxMessages       = 1
	DefaultRetryOnError      = false
	DefaultMaxRetries        = 3

	// DefaultCrashLimit is how many plugin crashes a message may be in
	// flight for before it is dead-lettered as poison.
	DefaultCrashLimit = 3
	// DefaultRestartLimit is how many failed starts or crashes in a row,
	// with no handled message or healthy minute between them, mark a
	// plugin failed.
	DefaultRestartLimit = 10

	DefaultRetryDelay      = 1 * time.Second
	DefaultMaxRetryDelay   = 5 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "auto"
	DefaultDriver          = "sqlite"
	DefaultSQLitePath      = "vega.db"
)

// Limits checked by validation.
const (
	MinVisibilityTimeout = 1 * time.Second
	MaxVisibilityTimeout = 12 * time.Hour
	MinRetryDelay        = time.Millisecond
	MaxWorkers           = 1000
	MaxCrashLimit        = 100
	MaxRestartLimit      = 1000
	MaxMaxMessages       = 1000
	MaxMaxRetries        = 100
	// MinMemoryLimit is the smallest memory_limit other than 0 (no limit).
	MinMemoryLimit = 32 << 20
)

// Config is a loaded and validated configuration file.
type Config struct {
	// File is the absolute path of the file the config was read from.
	File string
	// Dir is the folder of File, against which relative paths resolve.
	Dir string

	Host      Host
	Drivers   []Driver
	Listeners []Listener

	// Secrets contains every non-empty value that env("NAME") returned and
	// every value read for a listener's env list, without repeats. Logs and
	// error messages use it to redact these values.
	Secrets []string
}

// Host is the optional host block.
type Host struct {
	LogLevel        string        // trace, debug, info, warn or error
	LogFormat       string        // auto, text or json
	ShutdownTimeout time.Duration // time in-flight handlers get after SIGTERM
	MetricsAddr     string        // host:port for /metrics and health; empty disables
	Range           hcl.Range
}

// Driver is one driver "kind" block. The sqlite default is added when the
// file has no driver block.
type Driver struct {
	// Kind is the block label: sqlite, memory or sqs.
	Kind string
	// Path is the sqlite database file, absolute.
	Path string
	// Body holds the block's remaining attributes for drivers that decode
	// their own settings.
	Body hcl.Body
	// EvalContext is the context to evaluate Body's expressions in. It
	// provides env(), which appends the values it returns to the Config's
	// Secrets, so decode Body before the Config is shared between
	// goroutines.
	EvalContext *hcl.EvalContext
	// Range is the block's header, or the zero Range for the sqlite driver
	// added when the file has no driver block.
	Range hcl.Range
}

// Listener is one listener "name" block with defaults applied.
type Listener struct {
	Name string
	// Plugin is the absolute path of the plugin binary.
	Plugin string
	// SHA256 pins the plugin binary's hash when set, as 64 lowercase hex
	// digits. Load checks its format only, not the binary's contents.
	SHA256 string
	// Driver is the kind of the driver block the listener uses.
	Driver string

	Queue             string
	Workers           int
	AutoAck           bool
	VisibilityTimeout time.Duration
	MaxMessages       int
	RetryOnError      bool
	MaxRetries        int
	// RetryDelay is the base of the exponential retry backoff and
	// MaxRetryDelay its cap.
	RetryDelay      time.Duration
	MaxRetryDelay   time.Duration
	DeadLetterQueue string
	// HandlerTimeout bounds one Handle call; zero means no limit.
	HandlerTimeout time.Duration
	// CrashLimit is how many plugin crashes a message may be in flight
	// for before the host dead-letters it instead of handing it out again.
	CrashLimit int
	// RestartLimit is how many failed starts or crashes in a row mark the
	// plugin failed. A handled message or a minute of healthy running
	// resets the count.
	RestartLimit int
	// MemoryLimit is how many bytes of address space the plugin process
	// may map beyond what it has mapped when the host applies the limit,
	// just after the handshake. Zero means no limit. Only Linux enforces
	// it.
	MemoryLimit int64
	// CPULimit is the CPU time, in whole seconds, that the plugin process
	// may use in its lifetime before the kernel kills it. Zero means no
	// limit. Only Linux enforces it.
	CPULimit time.Duration

	// Env maps the variable names listed in env to their values in the
	// host's environment; only these reach the plugin process.
	Env map[string]string
	// Config is the free-form config object encoded as JSON ("{}" when
	// absent), handed to the plugin's startup hook.
	Config json.RawMessage

	Range hcl.Range
}
