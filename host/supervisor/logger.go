package supervisor

import (
	"github.com/hashicorp/go-hclog"
)

// goPluginLifecycle lists go-plugin's own log messages about starting and
// stopping a plugin. The supervisor logs these events itself, with the
// listener's keys, so go-plugin's lines are demoted to debug instead of
// repeating them at info or error.
var goPluginLifecycle = map[string]bool{
	"plugin process exited":            true,
	"plugin failed to exit gracefully": true,
	"starting plugin":                  true,
	"plugin started":                   true,
	"waiting for RPC address":          true,
	"using plugin":                     true,
	"plugin address":                   true,
}

// pluginLogger is the logger handed to go-plugin. It demotes go-plugin's
// lifecycle messages and drops the "timestamp" key go-plugin adds to each
// forwarded plugin line, since the host's own timestamp is on the line.
type pluginLogger struct {
	hclog.Logger
}

func newPluginLogger(logger hclog.Logger) hclog.Logger {
	return &pluginLogger{Logger: logger}
}

// Log writes one line, demoting lifecycle messages and cleaning args.
func (l *pluginLogger) Log(level hclog.Level, msg string, args ...any) {
	if goPluginLifecycle[msg] && level > hclog.Debug {
		level = hclog.Debug
	}
	l.Logger.Log(level, msg, dropKey(args, "timestamp")...)
}

func (l *pluginLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *pluginLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *pluginLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *pluginLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *pluginLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

// With returns a pluginLogger with args added.
func (l *pluginLogger) With(args ...any) hclog.Logger {
	return &pluginLogger{Logger: l.Logger.With(args...)}
}

// Named returns a pluginLogger with name appended.
func (l *pluginLogger) Named(name string) hclog.Logger {
	return &pluginLogger{Logger: l.Logger.Named(name)}
}

// ResetNamed returns a pluginLogger with the name replaced.
func (l *pluginLogger) ResetNamed(name string) hclog.Logger {
	return &pluginLogger{Logger: l.Logger.ResetNamed(name)}
}

// dropKey removes the key-value pair named key from args.
func dropKey(args []any, key string) []any {
	for i := 0; i+1 < len(args); i += 2 {
		if name, ok := args[i].(string); ok && name == key {
			out := make([]any, 0, len(args)-2)
			out = append(out, args[:i]...)
			return append(out, args[i+2:]...)
		}
	}
	return args
}
