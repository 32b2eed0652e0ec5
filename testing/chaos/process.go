//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// hostProcess is one `vega-host run` started by the suite.
type hostProcess struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// startHost runs `binary run -config configPath` with its output appended
// to logPath and env added to the suite's environment.
func startHost(binary, configPath, logPath string, env ...string) (*hostProcess, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open host log: %w", err)
	}

	cmd := exec.Command(binary, "run", "-config", configPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = log
	cmd.Stderr = log
	// The host must not outlive the suite when the suite itself dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}

	h := &hostProcess{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		h.err = cmd.Wait()
		_ = log.Close()
		close(h.done)
	}()
	return h, nil
}

func (h *hostProcess) pid() int {
	return h.cmd.Process.Pid
}

// exited reports whether the host process has ended.
func (h *hostProcess) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (h *hostProcess) kill() error {
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill host %d: %w", h.pid(), err)
	}
	<-h.done
	return nil
}

// terminate sends SIGTERM and returns the exit status, or an error when
// the host has not exited within timeout.
func (h *hostProcess) terminate(timeout time.Duration) (int, error) {
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return -1, fmt.Errorf("send SIGTERM to host %d: %w", h.pid(), err)
	}

	select {
	case <-h.done:
		return h.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		_ = h.kill()
		return -1, fmt.Errorf("host %d did not exit within %s of SIGTERM and was killed", h.pid(), timeout)
	}
}

// procStat holds the fields of /proc/PID/stat that the suite reads.
type procStat struct {
	// state is R, S, D, Z and so on. Z is a zombie, which has exited.
	state byte
	ppid  int
}

// readStat parses /proc/PID/stat. The command name in the second field
// may contain spaces and parentheses, so parsing starts after its last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}

	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no ')' in %q", pid, data)
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 2 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: unexpected fields %q", pid, data[end+1:])
	}

	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parse parent pid in /proc/%d/stat: %w", pid, err)
	}
	return procStat{state: fields[0][0], ppid: ppid}, nil
}

// running reports whether pid names a process that has not exited. A
// zombie has exited and only waits for its parent to reap it.
func running(pid int) bool {
	stat, err := readStat(pid)
	return err == nil && stat.state != 'Z'
}

// findPlugin returns the pid of the running child of hostPid whose binary
// is pluginPath, or 0 when there is none, as while the host restarts it.
func findPlugin(hostPid int, pluginPath string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}

	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := readStat(pid)
		if err != nil || stat.ppid != hostPid || stat.state == 'Z' {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", entry.Name(), "exe"))
		if err == nil && exe == pluginPath {
			return pid, nil
		}
	}
	return 0, nil
}

// waitGone waits up to timeout for pid to exit and reports whether it did.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !running(pid) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return !running(pid)
}
