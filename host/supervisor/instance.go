// Package supervisor runs one listener's plugin process: it starts the
// binary through go-plugin, checks the handshake, runs the startup hook,
// watches the process and restarts it with backoff when it dies.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	protobuf "google.golang.org/protobuf/proto"

	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// DefaultStartTimeout bounds the time from exec to a finished handshake.
const DefaultStartTimeout = 10 * time.Second

// ErrHandshake marks start failures that another attempt cannot fix: the
// binary is not a Vega plugin, speaks another protocol version, or writes
// to stdout before the handshake.
var ErrHandshake = errors.New("plugin handshake failed")

// Spec describes the plugin process of one listener.
type Spec struct {
	// Listener is the listener's name, used in logs and errors.
	Listener string
	// Path is the absolute path of the plugin binary.
	Path string
	// SHA256 pins the binary's hash as 64 lowercase hexadecimal digits, so
	// Start rejects a binary with another hash. Empty means not pinned.
	SHA256 string
	// MemoryLimit is how many bytes of address space the plugin may map
	// beyond what it has mapped when its handshake finished. Zero means no
	// limit, and only Linux enforces it.
	MemoryLimit int64
	// CPULimit is the CPU time the plugin process may use in its lifetime.
	// Zero means no limit, and only Linux enforces it.
	CPULimit time.Duration
	// Env holds the only variables the plugin process gets from the host.
	Env map[string]string
	// LogLevel is passed to the SDK's logger.
	LogLevel string
	// StartTimeout bounds the handshake; DefaultStartTimeout when zero.
	StartTimeout time.Duration
	// SocketDir is the folder in which the plugin creates its Unix
	// sockets; the system's temporary folder when empty.
	SocketDir string
	// RestartLimit is how many failed starts or crashes in a row mark the
	// plugin failed; DefaultRestartLimit when zero.
	RestartLimit int
	// Metrics counts starts, crashes and restarts; it may be nil.
	Metrics *metrics.Metrics

	// Startup is sent to the plugin's startup hook. HostServiceId is
	// filled in by Start.
	Startup *proto.StartupRequest
}

// Instance is one running plugin process.
type Instance struct {
	spec   Spec
	client *plugin.Client
	cmd    *exec.Cmd
	rpc    *pluginapi.ListenerClient
	logger hclog.Logger

	// broken is set when a call found the plugin's connection gone, which
	// is often noticed before the process exit is.
	broken atomic.Bool
	// stderr keeps the last lines the plugin wrote to stderr, for crash
	// reports.
	stderr *lineTail
	// batch is set when the listener handles messages in batches.
	batch bool
	// deliver carries Handle requests; nil for a plugin that cannot open
	// the stream, which then gets one call per message.
	deliver *deliverStream
	// progressed is set once the plugin returned a Handle response, so a
	// crash after real work does not count as a crash loop.
	progressed atomic.Bool
}

// Start checks the plugin binary's pinned hash, execs it, checks the
// handshake, applies the resource limits, serves host to the plugin over
// the broker and runs its startup hook.
func Start(ctx context.Context, spec Spec, host proto.HostServer, logger hclog.Logger) (*Instance, error) {
	if err := checkBinary(spec, logger); err != nil {
		return nil, err
	}

	cmd := exec.Command(spec.Path)
	cmd.Env = pluginEnv(spec)
	cmd.SysProcAttr = processAttributes()
	stderr := &lineTail{}

	startTimeout := spec.StartTimeout
	if startTimeout == 0 {
		startTimeout = DefaultStartTimeout
	}

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginapi.Handshake,
		VersionedPlugins: pluginapi.PluginSets(nil, nil),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     startTimeout,
		GRPCDialOptions:  pluginapi.GRPCDialOptions(),
		Logger:           newPluginLogger(logger),
		SyncStdout:       newLineLogger(logger, "stdout"),
		SyncStderr:       io.MultiWriter(newLineLogger(logger, "stderr"), stderr),
		Stderr:           stderr,
	})

	instance := &Instance{spec: spec, client: client, cmd: cmd, logger: logger, stderr: stderr}
	if _, err := client.Start(); err != nil {
		instance.Kill()
		return nil, instance.describeStartError(err)
	}
	if err := applyLimits(instance.Pid(), spec, logger); err != nil {
		instance.Kill()
		return nil, err
	}
	if err := instance.connect(ctx, host); err != nil {
		instance.Kill()
		return nil, err
	}
	return instance, nil
}

// connect finishes the handshake, dispenses the listener and runs Startup.
func (i *Instance) connect(ctx context.Context, host proto.HostServer) error {
	protocol, err := i.client.Client()
	if err != nil {
		return i.describeStartError(err)
	}

	raw, err := protocol.Dispense(pluginapi.PluginName)
	if err != nil {
		return fmt.Errorf("dispense listener from plugin %s: %w: %w", i.spec.Path, ErrHandshake, err)
	}
	listener, ok := raw.(*pluginapi.ListenerClient)
	if !ok {
		return fmt.Errorf("plugin %s: %w: unexpected client type %T", i.spec.Path, ErrHandshake, raw)
	}
	i.rpc = listener

	startup := protobuf.Clone(i.spec.Startup).(*proto.StartupRequest)
	startup.HostServiceId = listener.ServeHost(host)
	response, err := listener.Startup(ctx, startup)
	if err != nil {
		return fmt.Errorf("startup hook of plugin %s: %s", i.spec.Path, statusMessage(err))
	}
	i.batch = response.Batch

	deliver, err := openDeliverStream(listener)
	if err != nil {
		i.logger.Debug("plugin has no deliver stream, using one call per message", "error", err)
		return nil
	}
	i.deliver = deliver
	return nil
}

// Handle hands one message to the plugin's Handle and returns its result.
// Errors are gRPC status errors: Unavailable when the plugin is gone, and
// DeadlineExceeded or Canceled when ctx ends first.
func (i *Instance) Handle(ctx context.Context, request *proto.HandleRequest) (*proto.HandleResponse, error) {
	var response *proto.HandleResponse
	var err error
	if i.deliver != nil {
		response, err = i.deliver.handle(ctx, request)
	} else {
		response, err = i.rpc.Handle(ctx, request)
	}
	if err == nil {
		i.progressed.Store(true)
	}
	return response, err
}

// MarkProgress records that the plugin did useful work, such as a batch
// call that returned.
func (i *Instance) MarkProgress() {
	i.progressed.Store(true)
}

// Progressed reports whether the plugin returned a Handle response since
// it started.
func (i *Instance) Progressed() bool {
	return i.progressed.Load()
}

// Batch reports whether the listener handles messages in batches.
func (i *Instance) Batch() bool {
	return i.batch
}

// describeStartError rewrites go-plugin's start errors to name the binary
// and the fix.
func (i *Instance) describeStartError(err error) error {
	text := err.Error()
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, "unrecognized remote plugin message"):
		_, line, _ := strings.Cut(firstLine(text), "message: ")
		if line == "" {
			// Nothing on stdout means the process ended before its
			// handshake: it may have been killed (by the OOM killer, say) or
			// failed early, so the start is tried again like any other, up
			// to the restart limit.
			waitExited(i, exitStatusWait)
			return fmt.Errorf("start plugin %s: the process exited before its handshake (%s); check that its main calls pluginapi.Serve and see its stderr",
				i.spec.Path, i.ExitStatus())
		}
		return fmt.Errorf("start plugin %s: %w: it wrote %q to stdout before the handshake; a plugin must not print to stdout (log with pluginapi.Logger)", i.spec.Path, ErrHandshake, line)

	case strings.Contains(lower, "incompatible api version"):
		return fmt.Errorf("start plugin %s: %w: %s; this host speaks protocol version %d, so rebuild the plugin against a matching pluginapi", i.spec.Path, ErrHandshake, firstLine(text), pluginapi.ProtocolVersion)

	case strings.Contains(lower, "timeout while waiting for plugin to start"):
		return fmt.Errorf("start plugin %s: no handshake within %s; check that its main calls pluginapi.Serve: %w", i.spec.Path, i.startTimeout(), err)
	}
	return fmt.Errorf("start plugin %s: %w", i.spec.Path, err)
}

func (i *Instance) startTimeout() time.Duration {
	if i.spec.StartTimeout == 0 {
		return DefaultStartTimeout
	}
	return i.spec.StartTimeout
}

// Listener returns the gRPC client of the plugin's Listener service.
func (i *Instance) Listener() proto.ListenerClient {
	return i.rpc
}

// Pid returns the plugin's process id, or 0 before the process started.
func (i *Instance) Pid() int {
	if i.cmd.Process == nil {
		return 0
	}
	return i.cmd.Process.Pid
}

// Exited reports whether the plugin process has ended.
func (i *Instance) Exited() bool {
	return i.client.Exited()
}

// MarkBroken records that a call lost the connection to the plugin, so no
// further work goes to this instance and the supervisor replaces it.
func (i *Instance) MarkBroken() {
	i.broken.Store(true)
}

// usable reports whether work may go to the instance.
func (i *Instance) usable() bool {
	return !i.broken.Load() && !i.Exited()
}

// ExitStatus describes how the process ended, once Exited is true.
func (i *Instance) ExitStatus() string {
	if i.cmd.ProcessState == nil {
		return "unknown"
	}
	return i.cmd.ProcessState.String()
}

// Shutdown runs the plugin's shutdown hook, bounded by ctx.
func (i *Instance) Shutdown(ctx context.Context) error {
	if i.rpc == nil || i.Exited() {
		return nil
	}
	if _, err := i.rpc.Shutdown(ctx, &proto.Empty{}); err != nil {
		return fmt.Errorf("shutdown hook of plugin %s: %s", i.spec.Path, statusMessage(err))
	}
	return nil
}

// Kill stops the plugin process and whatever it started in its process
// group.
func (i *Instance) Kill() {
	if i.deliver != nil {
		i.deliver.close()
	}
	pid := i.Pid()
	i.client.Kill()
	if pid > 0 {
		// The group id equals the plugin's pid, see processAttributes.
		killGroup(pid)
	}
}

// StderrTail returns the last lines the plugin wrote to stderr.
func (i *Instance) StderrTail() string {
	return i.stderr.String()
}

// pluginEnv builds the plugin's whole environment: the listed variables
// and the SDK's log level. go-plugin appends its own variables.
func pluginEnv(spec Spec) []string {
	env := make([]string, 0, len(spec.Env)+1)
	for name, value := range spec.Env {
		env = append(env, name+"="+value)
	}
	if spec.LogLevel != "" {
		env = append(env, pluginapi.LogLevelEnv+"="+spec.LogLevel)
	}
	if spec.SocketDir != "" {
		// go-plugin's server creates its sockets in this folder. Setting it
		// through the client's UnixSocketConfig works only with a
		// RunnerFunc in go-plugin v1.8.0, so the variable is set here.
		env = append(env, plugin.EnvUnixSocketDir+"="+spec.SocketDir)
	}
	return env
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}
