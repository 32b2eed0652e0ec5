//go:build linux

package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/buildtest"
)

// orphanWait bounds the wait for the plugin and its child to exit after
// the host stopped. On Linux the parent-death signal ends the plugin at
// once, and the SDK's parent watch, the fallback, polls once a second.
const orphanWait = 10 * time.Second

func TestHostLeavesNoOrphans(t *testing.T) {
	cases := []struct {
		name   string
		signal syscall.Signal
	}{
		{name: "SIGKILL", signal: syscall.SIGKILL},
		{name: "SIGTERM", signal: syscall.SIGTERM},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vegaHost := buildtest.Binary(t, "./cmd/vega-host")
			plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")

			dir := t.TempDir()
			record := filepath.Join(dir, "events.jsonl")
			configPath := filepath.Join(dir, "listeners.hcl")
			writeFile(t, configPath, fmt.Sprintf(`
host {
  shutdown_timeout = 5
}

listener "spawner" {
  plugin = %q
  queue  = "spawn"
  # The plugin finds sleep through PATH, which it gets only when listed.
  env    = ["PATH"]
  config = {
    record_file = %q
  }
}
`, plugin, record))

			output, err := vega(t, vegaHost, "", "send", "-config", configPath, "-queue", "spawn", `{"action": "spawn_child", "key": "spawn"}`)
			require.NoError(t, err, output)
			host := startHostProcess(t, vegaHost, configPath)
			hostPid := host.cmd.Process.Pid

			var child childEvent
			require.Eventually(t, func() bool {
				child = findChildEvent(t, record)
				return child.ChildPid != 0
			}, within, 20*time.Millisecond, "the plugin started its child")
			pluginProc := processOf(t, child.Pid)
			childProc := processOf(t, child.ChildPid)

			tree := descendants(t, hostPid)
			require.Contains(t, tree, child.Pid, "the plugin is a child of the host")
			require.Contains(t, tree, child.ChildPid, "the sleep process is a child of the plugin")
			require.Len(t, tree, 2, "the host runs the plugin and the plugin runs its child, nothing else")

			switch tc.signal {
			case syscall.SIGTERM:
				assert.Equal(t, 0, host.stop(t), "exit status after SIGTERM")
			default:
				require.NoError(t, host.cmd.Process.Signal(tc.signal))
				err := <-host.done
				host.done <- err
				require.Error(t, err, "the host was killed")
			}

			require.Eventually(t, func() bool { return !pluginProc.running() }, orphanWait, 20*time.Millisecond,
				"plugin process %d still runs %s after the host got %s", child.Pid, orphanWait, tc.name)
			require.Eventually(t, func() bool { return !childProc.running() }, orphanWait, 20*time.Millisecond,
				"child process %d of the plugin still runs %s after the host got %s", child.ChildPid, orphanWait, tc.name)
			assert.Empty(t, processGroup(t, child.Pid), "no process of the plugin's process group runs")
		})
	}
}

// childEvent is the behave plugin's record of a started child process.
type childEvent struct {
	Event    string `json:"event"`
	Pid      int    `json:"pid"`
	ChildPid int    `json:"child_pid"`
}

// findChildEvent returns the first "child" record, or a zero event.
func findChildEvent(t *testing.T, record string) childEvent {
	t.Helper()
	data, err := os.ReadFile(record)
	if os.IsNotExist(err) {
		return childEvent{}
	}
	require.NoError(t, err)

	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		var e childEvent
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &e), "record line %q", scanner.Text())
		if e.Event == "child" {
			return e
		}
	}
	return childEvent{}
}

// procStat holds the fields of /proc/PID/stat that these tests read.
type procStat struct {
	// state is R, S, D, Z and so on. Z is a zombie, which has exited.
	state     byte
	ppid      int
	pgrp      int
	startTime uint64
}

// readStat parses /proc/PID/stat. The command name in the second field
// may contain spaces and parentheses, so parsing starts after its last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}

	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no ')' in %q", pid, data)
	}
	// Fields from the third on: state, ppid, pgrp, ..., starttime (22nd).
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: unexpected fields %q", pid, data[end+1:])
	}

	stat := procStat{state: fields[0][0]}
	if stat.ppid, err = strconv.Atoi(fields[1]); err != nil {
		return procStat{}, fmt.Errorf("parse parent pid of %d: %w", pid, err)
	}
	if stat.pgrp, err = strconv.Atoi(fields[2]); err != nil {
		return procStat{}, fmt.Errorf("parse process group of %d: %w", pid, err)
	}
	if stat.startTime, err = strconv.ParseUint(fields[19], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse start time of %d: %w", pid, err)
	}
	return stat, nil
}

// process identifies one process by pid and start time, so a pid that the
// kernel reuses later is not mistaken for it.
type process struct {
	pid       int
	startTime uint64
}

func processOf(t *testing.T, pid int) process {
	t.Helper()
	stat, err := readStat(pid)
	require.NoError(t, err, "process %d runs", pid)
	return process{pid: pid, startTime: stat.startTime}
}

// running reports whether the process has not exited. A zombie has exited
// and only waits for its parent to reap it.
func (p process) running() bool {
	stat, err := readStat(p.pid)
	return err == nil && stat.startTime == p.startTime && stat.state != 'Z'
}

// allProcesses returns the stat of every process that has not exited.
func allProcesses(t *testing.T) map[int]procStat {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)

	processes := make(map[int]procStat)
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := readStat(pid)
		if err != nil || stat.state == 'Z' {
			continue // exited between the listing and the read, or a zombie
		}
		processes[pid] = stat
	}
	return processes
}

// descendants returns the pids of every running process below pid.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	processes := allProcesses(t)

	var found []int
	parents := []int{pid}
	for len(parents) > 0 {
		parent := parents[0]
		parents = parents[1:]
		for child, stat := range processes {
			if stat.ppid == parent {
				found = append(found, child)
				parents = append(parents, child)
			}
		}
	}
	return found
}

// processGroup returns the pids of the running processes in group pgrp.
func processGroup(t *testing.T, pgrp int) []int {
	t.Helper()
	var members []int
	for pid, stat := range allProcesses(t) {
		if stat.pgrp == pgrp {
			members = append(members, pid)
		}
	}
	return members
}

// When the host dies, the plugin's stderr is a pipe without a reader. A
// plugin ordered to stop, by SIGTERM or because its parent is gone, must
// still kill the processes of its group.
func TestPluginStopsGroupWithBrokenStderr(t *testing.T) {
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")

	stdout, stdoutWriter, err := os.Pipe()
	require.NoError(t, err)
	defer stdout.Close()
	stderr, stderrWriter, err := os.Pipe()
	require.NoError(t, err)

	cmd := exec.Command(plugin)
	cmd.Env = []string{"VEGA_HOST_PLUGIN=c2b0f1d4-listener", "PLUGIN_PROTOCOL_VERSIONS=1"}
	cmd.Stdout = stdoutWriter
	cmd.Stderr = stderrWriter
	// The host starts each plugin as the leader of its own process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	require.NoError(t, stdoutWriter.Close())
	require.NoError(t, stderrWriter.Close())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()

	handshake, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "read the plugin's handshake line")
	require.True(t, strings.HasPrefix(handshake, "1|1|"), "handshake line %q", handshake)

	// This process joins the plugin's group, as a child that the plugin
	// started would be in it.
	member := exec.Command("sleep", "300")
	member.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: cmd.Process.Pid}
	require.NoError(t, member.Start())
	memberExited := make(chan struct{})
	go func() {
		_ = member.Wait()
		close(memberExited)
	}()
	defer func() {
		_ = member.Process.Kill()
		<-memberExited
	}()

	// The host's end of the stderr pipe closes when the host dies.
	require.NoError(t, stderr.Close())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))

	select {
	case <-exited:
	case <-time.After(orphanWait):
		t.Fatalf("the plugin did not exit within %s of SIGTERM", orphanWait)
	}
	select {
	case <-memberExited:
	case <-time.After(orphanWait):
		t.Errorf("the process in the plugin's group still runs %s after the plugin exited with %q", orphanWait, cmd.ProcessState)
	}
}
