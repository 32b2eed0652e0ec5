package pluginapi

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// LogLevelEnv is the variable through which the host passes its log level
// to the plugin process.
const LogLevelEnv = "VEGA_LOG_LEVEL"

// parentCheckInterval is how often a plugin checks that the host that
// started it is still alive.
const parentCheckInterval = time.Second

var logger = hclog.New(&hclog.LoggerOptions{
	Output:     os.Stderr,
	JSONFormat: true,
	Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
})

// Logger returns the plugin's logger. Its output reaches the host's log,
// at the same level, tagged with the listener's name. Never write to
// stdout in a plugin: go-plugin reads its handshake from there.
func Logger() hclog.Logger {
	return logger
}

// Serve runs listener as a Vega Host plugin. Call it from main; it returns
// only when the host stops the plugin. Run by hand, outside the host, the
// binary prints a short explanation and exits with status 1.
func Serve(listener Listener) {
	// Logging to the stderr pipe of a host that died would kill the plugin
	// with SIGPIPE before it could stop the processes it started.
	signal.Ignore(syscall.SIGPIPE)

	go exitWithParent(os.Getppid())
	go exitOnTerminate()

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(listener, logger),
		GRPCServer: func(options []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(options, GRPCServerOptions()...)...)
		},
		Logger: logger,
	})
}

// exitWithParent ends the plugin when the process that started it is gone,
// so a host killed with SIGKILL leaves no plugin behind. The parent pid
// changes to that of a reaper when the parent dies.
func exitWithParent(parent int) {
	if parent <= 1 {
		return
	}
	for {
		time.Sleep(parentCheckInterval)
		if os.Getppid() != parent {
			logger.Error("host process exited, stopping plugin", "host_pid", parent)
			killProcessGroup()
		}
	}
}

// exitOnTerminate stops the plugin and the processes it started on
// SIGTERM. On Linux the host has the kernel send SIGTERM to the plugin when
// the host dies, even by SIGKILL. Otherwise the host stops plugins
// gracefully through go-plugin.
func exitOnTerminate() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM)
	<-signals
	logger.Error("received SIGTERM, stopping plugin")
	killProcessGroup()
}
