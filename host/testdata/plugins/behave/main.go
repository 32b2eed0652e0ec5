// Command behave is a test plugin whose behaviour each message chooses, so
// host tests can drive every outcome through a real plugin process.
//
// The body names an action: ok, fail, fail_permanent, panic, exit,
// crash_panic, sleep, ignore_cancel, spawn_child, ack, reject_requeue,
// reject_dead_letter, extend, return_unsettled, env, log or allocate.
// Fields "ms" (sleep length), "mb" (MiB to allocate) and "first_only" (act
// only on the first delivery, then succeed) refine it. Every event is
// appended as a JSON line to the file named by the record_file config key.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vega-host/vega-host/pluginapi"
)

// handled counts handled messages in the plugin's own metrics, which the
// host serves with a listener label.
var handled = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "behave_handled_total",
	Help: "Messages the behave plugin handled.",
})

func init() {
	pluginapi.Registry().MustRegister(handled)
}

// version is set at build time with -ldflags "-X main.version=...", so
// tests can tell two builds apart.
var version = "v1"

type command struct {
	Action    string `json:"action"`
	Ms        int    `json:"ms"`
	MB        int    `json:"mb"`
	FirstOnly bool   `json:"first_only"`
	Key       string `json:"key"`
}

type event struct {
	Event        string   `json:"event"`
	Key          string   `json:"key,omitempty"`
	MessageID    string   `json:"message_id,omitempty"`
	ReceiveCount int      `json:"receive_count,omitempty"`
	Pid          int      `json:"pid"`
	Error        string   `json:"error,omitempty"`
	Env          []string `json:"env,omitempty"`
	Config       string   `json:"config,omitempty"`
	ChildPid     int      `json:"child_pid,omitempty"`
	Version      string   `json:"version"`
	// At is when the event happened, in Unix nanoseconds.
	At int64 `json:"at"`
}

type listener struct {
	mu     sync.Mutex
	record *os.File
	sender pluginapi.Sender
}

func (l *listener) Startup(ctx context.Context, info pluginapi.StartupInfo) error {
	var cfg struct {
		RecordFile  string `json:"record_file"`
		FailStartup bool   `json:"fail_startup"`
	}
	if err := info.DecodeConfig(&cfg); err != nil {
		return err
	}
	if cfg.FailStartup {
		return errors.New("behave: asked to fail at startup")
	}
	file, err := os.OpenFile(cfg.RecordFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open record file: %w", err)
	}
	l.record = file
	l.sender = info.Sender
	l.write(event{Event: "startup", Config: string(info.Config)})
	pluginapi.Logger().Info("behave plugin started")
	return nil
}

func (l *listener) Handle(ctx context.Context, msg *pluginapi.Message) error {
	var cmd command
	if err := msg.Decode(&cmd); err != nil {
		l.write(event{Event: "invalid_body", MessageID: msg.ID, ReceiveCount: msg.ReceiveCount, Error: err.Error()})
		return err
	}
	base := event{Key: cmd.Key, MessageID: msg.ID, ReceiveCount: msg.ReceiveCount}
	act := !cmd.FirstOnly || msg.ReceiveCount == 1

	l.write(with(base, "start"))
	if !act {
		l.write(with(base, "handled"))
		return nil
	}

	switch cmd.Action {
	case "ok", "":
	case "fail":
		l.write(with(base, "failed"))
		return errors.New("behave: asked to fail")
	case "fail_permanent":
		l.write(with(base, "failed"))
		return pluginapi.Permanent(errors.New("behave: asked to fail for good"))
	case "panic":
		panic("behave: asked to panic")
	case "exit":
		fmt.Fprintln(os.Stderr, "behave: exiting on purpose")
		os.Exit(2)
	case "crash_panic":
		go func() { panic("behave: unrecovered panic in a goroutine") }()
		time.Sleep(time.Minute)
	case "ignore_cancel":
		time.Sleep(time.Duration(cmd.Ms) * time.Millisecond)
	case "spawn_child":
		child := exec.Command("sleep", "300")
		if err := child.Start(); err != nil {
			return err
		}
		e := with(base, "child")
		e.ChildPid = child.Process.Pid
		l.write(e)
	case "sleep":
		select {
		case <-time.After(time.Duration(cmd.Ms) * time.Millisecond):
		case <-ctx.Done():
			l.write(with(base, "cancelled"))
			return ctx.Err()
		}
	case "ack":
		if err := msg.Ack(ctx); err != nil {
			return err
		}
	case "reject_requeue":
		if err := msg.Reject(ctx, true); err != nil {
			return err
		}
	case "reject_dead_letter":
		if err := msg.Reject(ctx, false); err != nil {
			return err
		}
	case "extend":
		if err := msg.ExtendVisibility(ctx, time.Duration(cmd.Ms)*time.Millisecond); err != nil {
			return err
		}
		if err := msg.Ack(ctx); err != nil {
			return err
		}
	case "send_followup":
		id, err := l.sender.Send(ctx, "followups", pluginapi.OutgoingMessage{
			Body:           []byte(`{"action": "ok", "key": "followup-of-` + cmd.Key + `"}`),
			UserAttributes: map[string]pluginapi.Attribute{"origin": {DataType: "String", StringValue: msg.ID}},
		})
		if err != nil {
			return err
		}
		e := with(base, "sent")
		e.Error = id
		l.write(e)
	case "return_unsettled":
	case "env":
		e := with(base, "env")
		e.Env = os.Environ()
		l.write(e)
	case "log":
		pluginapi.Logger().Warn("behave log line", "message_id", msg.ID)
	case "allocate":
		allocate(cmd.MB)
	default:
		return pluginapi.Permanent(fmt.Errorf("behave: unknown action %q", cmd.Action))
	}

	l.write(with(base, "handled"))
	handled.Inc()
	return nil
}

func (l *listener) OnError(ctx context.Context, msg *pluginapi.Message, err error) {
	l.write(event{Event: "on_error", MessageID: msg.ID, ReceiveCount: msg.ReceiveCount, Error: err.Error()})
}

func (l *listener) Shutdown(ctx context.Context) error {
	l.write(event{Event: "shutdown"})
	return nil
}

// allocate allocates mb MiB and writes to every page, so the memory is
// mapped and resident, not only reserved.
func allocate(mb int) {
	chunks := make([][]byte, mb)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for page := 0; page < len(chunks[i]); page += 4096 {
			chunks[i][page] = 1
		}
	}
	runtime.KeepAlive(chunks)
}

func with(e event, name string) event {
	e.Event = name
	return e
}

func (l *listener) write(e event) {
	e.Pid = os.Getpid()
	e.Version = version
	e.At = time.Now().UnixNano()
	line, _ := json.Marshal(e)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.record.Write(append(line, '\n'))
}

func main() {
	pluginapi.Serve(&listener{})
}
