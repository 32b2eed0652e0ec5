package main_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// poll is how often the tests in this file check a condition.
const poll = 20 * time.Millisecond

// jobsConfig returns a config with one behave listener on the queue
// "jobs", with extra as its seventh line, and more blocks after it.
func jobsConfig(plugin, record, extra, more string) string {
	return fmt.Sprintf(`listener "jobs" {
  plugin = %q
  queue  = "jobs"
  config = {
    record_file = %q
  }
  %s
}
%s`, plugin, record, extra, more)
}

// reloadSetup is a folder with a config that runs one behave listener,
// and the binaries the tests start.
type reloadSetup struct {
	vegaHost, plugin, record string
	// config is the file the host runs, which tests rewrite.
	config string
	// sendConfig is a copy of the first config, which stays valid, for
	// vega-host send. Both files use the sqlite file vega.db next to them.
	sendConfig string
}

func newReloadSetup(t *testing.T) reloadSetup {
	t.Helper()

	dir := t.TempDir()
	s := reloadSetup{
		vegaHost:   buildtest.Binary(t, "./cmd/vega-host"),
		plugin:     buildtest.Binary(t, "./host/testdata/plugins/behave"),
		record:     filepath.Join(dir, "events.jsonl"),
		config:     filepath.Join(dir, "listeners.hcl"),
		sendConfig: filepath.Join(dir, "send.hcl"),
	}
	writeFile(t, s.config, jobsConfig(s.plugin, s.record, "", ""))
	writeFile(t, s.sendConfig, jobsConfig(s.plugin, s.record, "", ""))
	return s
}

// startHost runs vega-host on the config and waits for its pid file.
func (s reloadSetup) startHost(t *testing.T) *hostProcess {
	t.Helper()

	host := startHostProcess(t, s.vegaHost, s.config)
	require.Eventually(t, func() bool {
		_, err := os.Stat(s.config + ".pid")
		return err == nil
	}, within, poll, "the host writes its pid file")
	return host
}

// handle sends body to queue and waits until the plugin recorded that it
// handled the message with the key.
func (s reloadSetup) handle(t *testing.T, queue, key string) {
	t.Helper()

	output, err := vega(t, s.vegaHost, "", "send", "-config", s.sendConfig, "-queue", queue, `{"action": "ok", "key": "`+key+`"}`)
	require.NoError(t, err, output)
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(s.record)
		return strings.Contains(string(data), `"event":"handled","key":"`+key+`"`)
	}, within, poll, "message %q handled", key)
}

func TestReloadRejectsInvalidConfig(t *testing.T) {
	s := newReloadSetup(t)
	host := s.startHost(t)
	s.handle(t, "jobs", "before")

	writeFile(t, s.config, jobsConfig(s.plugin, s.record, "workers = 0", ""))
	output, err := vega(t, s.vegaHost, "", "reload", "-config", s.config)

	assert.Equal(t, 1, exitCode(t, err), "reload checks the file before it signals the host")
	assert.Contains(t, output, s.config+":7:13: error: Invalid workers")
	assert.Contains(t, output, "the running host keeps its current config")

	// A SIGHUP from elsewhere, such as a service manager, reaches the host
	// with the invalid file all the same.
	require.NoError(t, host.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		return strings.Contains(host.output.String(), "reload rejected, still running the previous config")
	}, within, poll, "the host logs the rejection")
	assert.Contains(t, host.output.String(), s.config+":7:13: error: Invalid workers", "the log names file, line and column")

	s.handle(t, "jobs", "after")
	assert.Equal(t, 0, host.stop(t), "SIGTERM ends the host with status 0")
	_, err = os.Stat(s.config + ".pid")
	assert.ErrorIs(t, err, fs.ErrNotExist, "the host removes its pid file at exit")
}

func TestReloadAppliesValidConfig(t *testing.T) {
	s := newReloadSetup(t)
	host := s.startHost(t)
	s.handle(t, "jobs", "before")

	writeFile(t, s.config, jobsConfig(s.plugin, s.record, "", fmt.Sprintf(`
listener "more" {
  plugin = %q
  queue  = "more"
  config = {
    record_file = %q
  }
}
`, s.plugin, s.record)))
	output, err := vega(t, s.vegaHost, "", "reload", "-config", s.config)

	require.NoError(t, err, output)
	require.Eventually(t, func() bool {
		return strings.Contains(host.output.String(), "config reloaded")
	}, within, poll, "the host logs the reload")
	s.handle(t, "more", "added")
	s.handle(t, "jobs", "kept")
}

func TestRunRefusesPidFileOfRunningHost(t *testing.T) {
	s := newReloadSetup(t)
	host := s.startHost(t)

	output, err := vega(t, s.vegaHost, "", "run", "-config", s.config)

	assert.Equal(t, 1, exitCode(t, err), output)
	assert.Contains(t, output, "pid file "+s.config+".pid names process "+strconv.Itoa(host.cmd.Process.Pid))
	assert.Contains(t, output, "a vega-host that is still running")
	data, err := os.ReadFile(s.config + ".pid")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(host.cmd.Process.Pid)+"\n", string(data), "the running host keeps its pid file")
}

func TestRunReplacesStalePidFile(t *testing.T) {
	s := newReloadSetup(t)
	writeFile(t, s.config+".pid", strconv.Itoa(exitedPid(t))+"\n")

	host := s.startHost(t)

	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(s.config + ".pid")
		return string(data) == strconv.Itoa(host.cmd.Process.Pid)+"\n"
	}, within, poll, "the host replaces a pid file whose process has exited")
}

func TestRunPidFileFlag(t *testing.T) {
	s := newReloadSetup(t)
	pidFile := filepath.Join(t.TempDir(), "host.pid")
	host := &hostProcess{output: &syncBuffer{}, done: make(chan error, 1)}
	host.cmd = exec.Command(s.vegaHost, "run", "-config", s.config, "-pid-file", pidFile)
	host.cmd.Stdout, host.cmd.Stderr = host.output, host.output
	require.NoError(t, host.cmd.Start())
	go func() { host.done <- host.cmd.Wait() }()
	t.Cleanup(func() {
		_ = host.cmd.Process.Kill()
		<-host.done
	})
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil
	}, within, poll, "the host writes the pid file that -pid-file names")

	output, err := vega(t, s.vegaHost, "", "reload", "-config", s.config, "-pid-file", pidFile)

	require.NoError(t, err, output)
	require.Eventually(t, func() bool {
		return strings.Contains(host.output.String(), "config reloaded")
	}, within, poll)
	_, err = os.Stat(s.config + ".pid")
	assert.ErrorIs(t, err, fs.ErrNotExist, "no pid file at the default path")
}

func TestPidFileProblems(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	sleeper := exec.Command("sleep", "60")
	require.NoError(t, sleeper.Start())
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		_ = sleeper.Wait()
	})

	tests := []struct {
		name    string
		command string
		pidFile string // empty: no pid file
		code    int
		want    []string
	}{
		{
			name:    "reload without pid file",
			command: "reload",
			code:    1,
			want:    []string{"listeners.hcl.pid does not exist", "start one with vega-host run -config"},
		},
		{
			name:    "reload stale pid",
			command: "reload",
			pidFile: strconv.Itoa(exitedPid(t)),
			code:    1,
			want:    []string{"which is not a running vega-host", "delete the stale pid file"},
		},
		{
			name:    "reload other program",
			command: "reload",
			pidFile: strconv.Itoa(sleeper.Process.Pid),
			code:    1,
			want:    []string{"names process " + strconv.Itoa(sleeper.Process.Pid) + ", which is not a running vega-host"},
		},
		{
			name:    "reload garbage",
			command: "reload",
			pidFile: "not a pid",
			code:    1,
			want:    []string{"does not contain a process id", `got "not a pid"`},
		},
		{
			name:    "run garbage",
			command: "run",
			pidFile: "not a pid",
			code:    1,
			want:    []string{"does not contain a process id", "pass another path with -pid-file"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := filepath.Join(t.TempDir(), "listeners.hcl")
			writeFile(t, config, jobsConfig(buildtest.Binary(t, "./host/testdata/plugins/behave"), filepath.Join(t.TempDir(), "events.jsonl"), "", ""))
			if tt.pidFile != "" {
				writeFile(t, config+".pid", tt.pidFile+"\n")
			}

			output, err := vega(t, vegaHost, "", tt.command, "-config", config)

			assert.Equal(t, tt.code, exitCode(t, err), output)
			assert.Contains(t, output, config+".pid", "the message names the pid file")
			for _, want := range tt.want {
				assert.Contains(t, output, want)
			}
		})
	}

	assert.NoError(t, sleeper.Process.Signal(syscall.Signal(0)), "reload sent nothing to a process that is not vega-host")
}

// TestRunRedactsSecretsFromLog sets environment variables, which the host
// process inherits.
func TestRunRedactsSecretsFromLog(t *testing.T) {
	t.Setenv("VEGA_TEST_SENDER", "s3cret-sender@example.com")
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./plugins/example-email")
	config := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, config, fmt.Sprintf(`
listener "send-email" {
  plugin = %q
  queue  = "emails"
  config = {
    smtp_addr = "127.0.0.1:1025"
    from      = env("VEGA_TEST_SENDER")
  }
}
`, plugin))

	host := startHostProcess(t, vegaHost, config)

	require.Eventually(t, func() bool {
		return strings.Contains(host.output.String(), "email listener configured")
	}, within, poll, "the plugin logs its settings, the sender among them")
	assert.Equal(t, 0, host.stop(t))
	logs := host.output.String()
	assert.NotContains(t, logs, "s3cret-sender", "a value from env() never reaches the log")
	assert.Regexp(t, `"from":"\[redacted\]"`, logs, "the plugin's log line shows the placeholder")
}

// TestListAndValidateHideSecrets sets environment variables, so it does
// not run in parallel.
func TestListAndValidateHideSecrets(t *testing.T) {
	t.Setenv("VEGA_TEST_QUEUE", "queue-s3cret")
	t.Setenv("VEGA_TEST_PASSWORD", "password-s3cret")
	t.Setenv("VEGA_TEST_WORKERS", "workers-s3cret")
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")
	valid := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, valid, fmt.Sprintf(`
listener "jobs" {
  plugin = %q
  queue  = env("VEGA_TEST_QUEUE")
  env    = ["VEGA_TEST_PASSWORD"]
}
`, plugin))
	invalid := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, invalid, fmt.Sprintf(`
listener "jobs" {
  plugin  = %q
  queue   = "jobs"
  workers = env("VEGA_TEST_WORKERS")
}
`, plugin))

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "list", args: []string{"list", "-config", valid}, want: "[redacted]"},
		{name: "list long", args: []string{"list", "-long", "-config", valid}, want: "[redacted]"},
		{name: "validate valid", args: []string{"validate", "-config", valid}, want: "is valid"},
		{name: "validate invalid", args: []string{"validate", "-config", invalid}, code: 1, want: "a value from env() (not shown)"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			output, err := vega(t, vegaHost, "", tt.args...)

			assert.Equal(t, tt.code, exitCode(t, err), output)
			assert.Contains(t, output, tt.want)
			assert.NotContains(t, output, "s3cret")
		})
	}
}

func TestListShowsPluginHash(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")
	hash, err := supervisor.FileSHA256(plugin)
	require.NoError(t, err)
	config := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, config, fmt.Sprintf(`
listener "pinned" {
  plugin = %q
  queue  = "a"
  sha256 = %q
}

listener "stale-pin" {
  plugin = %q
  queue  = "b"
  sha256 = %q
}

listener "absent" {
  plugin = "bin/missing"
  queue  = "c"
}
`, plugin, hash, plugin, strings.Repeat("0", 64)))

	tests := []struct {
		name      string
		args      []string
		wantLines []string
	}{
		{
			name: "short hash",
			args: []string{"list", "-config", config},
			wantLines: []string{
				`^LISTENER\s+QUEUE\s+WORKERS\s+DRIVER\s+PLUGIN\s+BINARY\s+SHA256$`,
				`^pinned\s+a\s+1\s+sqlite\s+\S+/behave\s+ok\s+` + hash[:12] + `$`,
				`^stale-pin\s+b\s+1\s+sqlite\s+\S+/behave\s+sha256 mismatch\s+` + hash[:12] + `$`,
				`^absent\s+c\s+1\s+sqlite\s+\S+/bin/missing\s+missing\s+-$`,
			},
		},
		{
			name: "long hash",
			args: []string{"list", "-long", "-config", config},
			wantLines: []string{
				`^LISTENER\s+QUEUE\s+WORKERS\s+DRIVER\s+PLUGIN\s+BINARY\s+SHA256$`,
				`^pinned\s+a\s+1\s+sqlite\s+\S+/behave\s+ok\s+` + hash + `$`,
				`^stale-pin\s+b\s+1\s+sqlite\s+\S+/behave\s+sha256 mismatch\s+` + hash + `$`,
				`^absent\s+c\s+1\s+sqlite\s+\S+/bin/missing\s+missing\s+-$`,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			output, err := vega(t, vegaHost, "", tt.args...)

			require.NoError(t, err, output)
			lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
			require.Len(t, lines, len(tt.wantLines), output)
			for i, want := range tt.wantLines {
				assert.Regexp(t, regexp.MustCompile(want), lines[i])
			}
		})
	}
}

// exitedPid returns the id of a process that has exited and been reaped.
func exitedPid(t *testing.T) int {
	t.Helper()

	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}
