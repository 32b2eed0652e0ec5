// Command chaosplugin is the listener that the chaos suite runs under the host.
// Each message body carries a sequence number, {"seq": 42}, which fixes how
// the handler behaves:
//
//   - seq divisible by 100 fails on every attempt, so it ends dead-lettered;
//   - any other seq divisible by 20 fails while its receive count is 1 or 2
//     and succeeds from the third delivery on;
//   - every other seq succeeds.
//
// Each handling sleeps a random 0 to 50 ms first. The plugin appends one
// line per event to the file named by the record_file config key, opened
// with O_APPEND, in the form "EVENT SEQ RECEIVE_COUNT PID". EVENT is start,
// fail or done. The done line is written right before Handle returns nil,
// so it means that the host was about to receive a success.
//
// Once started, the plugin writes its pid to the file named by the
// pid_file config key, so the suite kills only plugins that finished their
// handshake. When the variable CHAOS_DIE_BEFORE_HANDSHAKE names a file,
// the plugin kills itself with SIGKILL before its handshake on each of its
// first three starts, counting them in that file.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// maxHandleTime bounds the random length of one handling.
const maxHandleTime = 50 * time.Millisecond

// dieBeforeHandshakeEnv is the variable with the path of the counter file
// of the starts that die before the handshake, and earlyDeaths is how many
// starts do.
const (
	dieBeforeHandshakeEnv = "CHAOS_DIE_BEFORE_HANDSHAKE"
	earlyDeaths           = 3
)

type chaosListener struct {
	record *os.File
	pid    int
}

type body struct {
	Seq *int `json:"seq"`
}

// Startup opens the record file named in the listener's config.
func (l *chaosListener) Startup(_ context.Context, info pluginapi.StartupInfo) error {
	var cfg struct {
		RecordFile string `json:"record_file"`
		PidFile    string `json:"pid_file"`
	}
	if err := info.DecodeConfig(&cfg); err != nil {
		return err
	}
	if cfg.RecordFile == "" {
		return errors.New("config key record_file is missing: set it to the path of the chaos record file")
	}
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile); err != nil {
			return err
		}
	}

	file, err := os.OpenFile(cfg.RecordFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open record file: %w", err)
	}
	l.record = file
	l.pid = os.Getpid()
	return nil
}

// Handle sleeps for a random time and fails or succeeds by the message's
// sequence number and receive count.
func (l *chaosListener) Handle(ctx context.Context, msg *pluginapi.Message) error {
	var b body
	if err := msg.Decode(&b); err != nil {
		return err
	}
	if b.Seq == nil {
		return pluginapi.Permanent(fmt.Errorf("message %s has no seq field", msg.ID))
	}
	seq := *b.Seq

	if err := l.write("start", seq, msg.ReceiveCount); err != nil {
		return err
	}

	timer := time.NewTimer(rand.N(maxHandleTime + time.Millisecond))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return fmt.Errorf("handling seq %d: %w", seq, context.Cause(ctx))
	}

	if fails(seq, msg.ReceiveCount) {
		if err := l.write("fail", seq, msg.ReceiveCount); err != nil {
			return err
		}
		return fmt.Errorf("chaos: seq %d fails on receive %d", seq, msg.ReceiveCount)
	}

	return l.write("done", seq, msg.ReceiveCount)
}

// fails reports whether the handling of seq on the given delivery fails.
func fails(seq, receiveCount int) bool {
	switch {
	case seq%100 == 0:
		return true
	case seq%20 == 0:
		return receiveCount <= 2
	}
	return false
}

// write appends one record line in a single write call, so lines of
// concurrent handlers and of killed processes never interleave.
func (l *chaosListener) write(event string, seq, receiveCount int) error {
	line := event + " " + strconv.Itoa(seq) + " " + strconv.Itoa(receiveCount) + " " + strconv.Itoa(l.pid) + "\n"
	if _, err := l.record.WriteString(line); err != nil {
		return fmt.Errorf("write %s record of seq %d: %w", event, seq, err)
	}
	return nil
}

// writePidFile replaces the pid file in one rename, so a reader never
// sees it half written.
func writePidFile(path string) error {
	temp := path + ".tmp"
	if err := os.WriteFile(temp, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(temp, path); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// dieBeforeHandshake kills the process with SIGKILL, as the kernel's OOM
// killer would, on the first earlyDeaths starts that the counter file
// records.
func dieBeforeHandshake(counter string) {
	data, err := os.ReadFile(counter)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "read %s: %v\n", counter, err)
		os.Exit(1)
	}
	if bytes.Count(data, []byte("\n")) >= earlyDeaths {
		return
	}

	file, err := os.OpenFile(counter, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "open %s: %v\n", counter, err)
		os.Exit(1)
	}
	_, _ = fmt.Fprintln(file, os.Getpid())
	_ = file.Close()
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal ends the process before this returns
}

func main() {
	if counter := os.Getenv(dieBeforeHandshakeEnv); counter != "" {
		dieBeforeHandshake(counter)
	}
	pluginapi.Serve(&chaosListener{})
}
