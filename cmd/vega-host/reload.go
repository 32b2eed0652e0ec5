package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// pidFileSuffix follows the config file's path to name its default pid
// file.
const pidFileSuffix = ".pid"

// hostProcessName is the usual base name of the vega-host binary, which
// pid file checks accept besides the name of the running binary.
const hostProcessName = "vega-host"

func reloadCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("reload", "reload [-config FILE] [-pid-file PATH]\n\nSends SIGHUP to the vega-host run named by the pid file, which makes it\nre-read its config file. The host applies a valid file and logs an invalid\none with its problems, keeping the previous config; its log shows which.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` of the running host, whose path with .pid appended is the default pid file")
	pidPath := flags.String("pid-file", "", "pid file `path` of the running host, when vega-host run was given -pid-file")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return &exitError{code: exitUsage, message: fmt.Sprintf("unexpected argument %q; reload takes only flags", flags.Arg(0))}
	}

	// The host would reject an invalid file and report it only in its log,
	// so reload checks the file first and reports its problems here.
	if _, err := loadConfig(*configPath, stderr); err != nil {
		var exit *exitError
		if errors.As(err, &exit) && exit.message != "" {
			exit.message += "; the running host keeps its current config, so fix the file and run reload again"
		}
		return err
	}

	pidFile, err := pidFilePath(*configPath, *pidPath)
	if err != nil {
		return err
	}
	pid, err := readPidFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pid file %s does not exist, so no host runs with that config; start one with vega-host run -config %s, or pass the pid file of a running host with -pid-file", pidFile, *configPath)
	}
	if err != nil {
		return err
	}

	process, err := findHostProcess(pidFile, pid)
	if err != nil {
		return err
	}
	if err := process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("send SIGHUP to vega-host (pid %d, from pid file %s): %w; run vega-host reload as the user that runs the host", pid, pidFile, err)
	}

	fmt.Fprintf(stdout, "sent SIGHUP to vega-host (pid %d, from pid file %s); it re-reads its config file, and its log says whether it applied the file\n", pid, pidFile)
	return nil
}

// pidFilePath returns the absolute path of the pid file, which is
// flagValue when set and otherwise the config file's path with
// pidFileSuffix appended.
func pidFilePath(configPath, flagValue string) (string, error) {
	path := flagValue
	if path == "" {
		path = configPath + pidFileSuffix
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve pid file path %q: %w; pass an absolute path with -pid-file", path, err)
	}
	return abs, nil
}

// readPidFile returns the process id in the pid file at path. The error
// wraps fs.ErrNotExist when the file does not exist.
func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file %s: %w", path, err)
	}

	text := strings.TrimSpace(string(data))
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s does not contain a process id, got %q; delete it if no vega-host uses it, or pass another path with -pid-file", path, truncate(text, 40))
	}
	return pid, nil
}

// writePidFile creates the pid file at path with this process's id. An
// existing file is replaced when the process it names is not a running
// vega-host, and refused otherwise. A file that holds no process id is
// refused too, because it may be another program's file.
func writePidFile(path string) error {
	// The loop runs twice, because the second attempt follows the removal
	// of a stale file. It fails only when another process created the file
	// in between.
	for range 2 {
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, writeErr := fmt.Fprintf(file, "%d\n", os.Getpid())
			if err := errors.Join(writeErr, file.Close()); err != nil {
				_ = os.Remove(path)
				return fmt.Errorf("write pid file %s: %w", path, err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create pid file %s: %w; pass a writable path with -pid-file", path, err)
		}

		if err := removeStalePidFile(path); err != nil {
			return err
		}
	}
	return fmt.Errorf("create pid file %s: another process created it at the same time; check that only one vega-host runs with this config", path)
}

// removeStalePidFile removes the pid file at path unless it names a
// running vega-host other than this process.
func removeStalePidFile(path string) error {
	pid, err := readPidFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}

	// A host restarted in a fresh container often gets the pid its
	// predecessor had, so a file naming this very process is stale.
	if pid != os.Getpid() {
		switch live, err := isRunningHost(pid); {
		case err != nil:
			return fmt.Errorf("pid file %s names process %d, which is running but could not be identified: %w; stop that process or delete the pid file", path, pid, err)
		case live:
			return fmt.Errorf("pid file %s names process %d, a vega-host that is still running; stop it first, or pass this host another path with -pid-file", path, pid)
		}
	}

	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale pid file %s: %w; delete it by hand", path, err)
	}
	return nil
}

// removePidFile deletes the pid file at exit, unless another host has
// replaced it with its own.
func removePidFile(path string, logger hclog.Logger) {
	pid, err := readPidFile(path)
	if err != nil || pid != os.Getpid() {
		logger.Warn("pid file no longer names this host, leaving it in place", "pid_file", path, "error", err)
		return
	}
	if err := os.Remove(path); err != nil {
		logger.Warn("remove pid file failed; delete it by hand", "pid_file", path, "error", err)
	}
}

// findHostProcess returns the running vega-host with the id pid, which
// the pid file at pidFile names, or an error that names the fix.
func findHostProcess(pidFile string, pid int) (*os.Process, error) {
	// With Go 1.23 or later on Linux 5.3 or later, the handle is a pidfd
	// that refers to this very process even when its id is reused later,
	// so the signal sent after the checks below cannot reach another
	// process.
	process, err := os.FindProcess(pid)
	if err != nil {
		return nil, fmt.Errorf("find process %d from pid file %s: %w", pid, pidFile, err)
	}

	live, err := isRunningHost(pid)
	switch {
	case err != nil:
		return nil, fmt.Errorf("pid file %s names process %d, which could not be identified as vega-host: %w; check that the host runs, or pass its pid file with -pid-file", pidFile, pid, err)
	case !live:
		return nil, fmt.Errorf("pid file %s names process %d, which is not a running vega-host; the host has stopped or was killed, so start it with vega-host run, or delete the stale pid file", pidFile, pid)
	}
	return process, nil
}

// isRunningHost reports whether process pid is running and its
// executable's base name is vega-host or that of this program. It returns
// an error when the process runs but its name cannot be read.
func isRunningHost(pid int) (bool, error) {
	process, err := os.FindProcess(pid)
	if err != nil {
		return false, nil
	}
	if err := process.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH) {
		return false, nil
	}

	name, err := processName(pid)
	if err != nil {
		return false, err
	}
	return name == hostProcessName || name == ownProcessName(), nil
}

// processName returns the base name under which process pid runs: its
// first command-line argument, read from /proc on Linux, or its command
// name as ps prints it elsewhere.
func processName(pid int) (string, error) {
	if runtime.GOOS == "linux" {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			return "", fmt.Errorf("read the process's command line: %w", err)
		}
		argv0, _, _ := bytes.Cut(data, []byte{0})
		return filepath.Base(string(argv0)), nil
	}

	output, err := exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", fmt.Errorf("ps -p %d: %w", pid, err)
	}
	return filepath.Base(strings.TrimSpace(string(output))), nil
}

// ownProcessName returns the base name under which this program runs.
func ownProcessName() string {
	return filepath.Base(os.Args[0])
}

// truncate cuts s to at most n bytes, marking a cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
