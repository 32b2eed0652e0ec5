package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

func TestParseListenerName(t *testing.T) {
	tests := []struct {
		raw      string
		wantName string
		wantType string
	}{
		{raw: "SendEmail", wantName: "send-email", wantType: "SendEmail"},
		{raw: "send-email", wantName: "send-email", wantType: "SendEmail"},
		{raw: "send_email", wantName: "send-email", wantType: "SendEmail"},
		{raw: "sendEmail", wantName: "send-email", wantType: "SendEmail"},
		{raw: "mailer", wantName: "mailer", wantType: "Mailer"},
		{raw: "SendSMS", wantName: "send-sms", wantType: "SendSMS"},
		{raw: "HTTPWebhook", wantName: "http-webhook", wantType: "HTTPWebhook"},
		{raw: "resize2x", wantName: "resize2x", wantType: "Resize2x"},
		{raw: "V2Handler", wantName: "v2-handler", wantType: "V2Handler"},
		{raw: "send_SMS", wantName: "send-sms", wantType: "SendSMS"},
	}

	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			name, err := parseListenerName(tt.raw)

			require.NoError(t, err)
			assert.Equal(t, tt.wantName, name.Kebab, "kebab-case name")
			assert.Equal(t, tt.wantType, name.TypeName, "Go type name")
		})
	}
}

func TestParseListenerNameRejects(t *testing.T) {
	tests := []struct {
		raw        string
		wantReason string
	}{
		{raw: "", wantReason: "the name is empty"},
		{raw: "2fa-codes", wantReason: "starts with a digit"},
		{raw: "send email", wantReason: "contains a space"},
		{raw: "jobs/send", wantReason: "contains a slash"},
		{raw: "send.email", wantReason: "contains a dot"},
		{raw: "func", wantReason: "is a Go keyword"},
		{raw: "Select", wantReason: "is a Go keyword"},
		{raw: "testdata", wantReason: "ignores testdata folders"},
		{raw: "vendor", wantReason: "vendored dependencies"},
		{raw: strings.Repeat("a", 65), wantReason: "65 characters long, but at most 64"},
		{raw: "-send", wantReason: "must start with a letter"},
		{raw: "send-", wantReason: "ends with '-'"},
		{raw: "send--email", wantReason: "two separators in a row"},
		{raw: "naïve", wantReason: "contains 'ï'"},
	}

	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := parseListenerName(tt.raw)

			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantReason)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", tt.raw), "the error names the input")
		})
	}
}

// moduleDir creates a temporary module whose go.mod contains extra after
// the module line, and returns its folder.
func moduleDir(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/jobs\n\ngo 1.26.0\n"+extra), 0o644))
	return dir
}

const requireVegaHost = "\nrequire github.com/vega-host/vega-host v0.1.0\n"

// generateIn runs generate with workDir as the current folder and returns
// its standard output and error.
func generateIn(t *testing.T, workDir string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runGenerate(args, workDir, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestGenerateWritesPackage(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)

	stdout, stderr, err := generateIn(t, dir, "listener", "SendEmail")

	require.NoError(t, err, stderr)
	packageDir := filepath.Join(dir, "plugins", "send-email")
	for _, name := range []string{"main.go", "listener.go", "listener_test.go"} {
		content, err := os.ReadFile(filepath.Join(packageDir, name))
		require.NoError(t, err, "%s was written", name)

		formatted, err := format.Source(content)
		require.NoError(t, err, "%s parses as Go", name)
		assert.Equal(t, string(formatted), string(content), "%s is gofmt'd", name)
		assert.Contains(t, stderr, filepath.Join("plugins", "send-email", name), "the summary names %s", name)
	}

	main := readFile(t, filepath.Join(packageDir, "main.go"))
	assert.Contains(t, main, "pluginapi.Serve(&SendEmail{})")
	listener := readFile(t, filepath.Join(packageDir, "listener.go"))
	assert.Contains(t, listener, "func (l *SendEmail) Handle(ctx context.Context, msg *pluginapi.Message) error")
	assert.Contains(t, listener, "func (l *SendEmail) Startup(")
	assert.Contains(t, listener, "func (l *SendEmail) Shutdown(")
	assert.Contains(t, listener, "func (l *SendEmail) OnError(")
	assert.Contains(t, listener, "return nil\n}", "with auto-ack, Handle returns nil")
	test := readFile(t, filepath.Join(packageDir, "listener_test.go"))
	assert.Contains(t, test, "listenertest.New(t, &SendEmail{}")

	assert.True(t, strings.HasPrefix(stdout, `listener "send-email" {`), "stdout is the block alone:\n%s", stdout)
	assert.Contains(t, stdout, `plugin = "bin/send-email"`)
	assert.Contains(t, stdout, `queue  = "send-email"`)
	assert.Contains(t, stdout, "scripts/build-plugins.sh", "the block names the build script")
	assert.Contains(t, stderr, "go build -o bin/send-email ./plugins/send-email")
	assert.NotContains(t, stderr, "warning")
}

func TestGenerateBlockMatchesFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want config.Listener
	}{
		{
			name: "defaults",
			args: []string{"listener", "SendEmail"},
			want: config.Listener{
				Name: "send-email", Queue: "send-email", Workers: config.DefaultWorkers, AutoAck: true,
				VisibilityTimeout: config.DefaultVisibilityTimeout, MaxRetries: config.DefaultMaxRetries,
			},
		},
		{
			name: "every flag before the name",
			args: []string{"listener", "-queue", "emails", "-workers", "4", "-retry", "-max-retries", "5",
				"-auto-ack=false", "-visibility-timeout", "5m", "resize_image"},
			want: config.Listener{
				Name: "resize-image", Queue: "emails", Workers: 4, AutoAck: false,
				VisibilityTimeout: 5 * time.Minute, RetryOnError: true, MaxRetries: 5,
			},
		},
		{
			name: "flags after the name and seconds",
			args: []string{"listener", "Webhook", "-visibility-timeout", "120", "-workers", "16"},
			want: config.Listener{
				Name: "webhook", Queue: "webhook", Workers: 16, AutoAck: true,
				VisibilityTimeout: 2 * time.Minute, MaxRetries: config.DefaultMaxRetries,
			},
		},
		{
			name: "queue that needs escaping",
			args: []string{"listener", "-queue", `jobs-${env}`, "Jobs"},
			want: config.Listener{
				Name: "jobs", Queue: "jobs-${env}", Workers: config.DefaultWorkers, AutoAck: true,
				VisibilityTimeout: config.DefaultVisibilityTimeout, MaxRetries: config.DefaultMaxRetries,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := moduleDir(t, requireVegaHost)

			stdout, stderr, err := generateIn(t, dir, tt.args...)
			require.NoError(t, err, stderr)

			cfg, diags := config.ParseWithOptions([]byte(stdout), filepath.Join(dir, "listeners.hcl"), config.Options{SkipPluginCheck: true})
			require.False(t, diags.HasErrors(), "the block loads:\n%s\n%s", config.FormatDiagnostics(diags, nil), stdout)
			require.Len(t, cfg.Listeners, 1)
			got := cfg.Listeners[0]
			assert.Equal(t, tt.want.Name, got.Name, "name")
			assert.Equal(t, tt.want.Queue, got.Queue, "queue")
			assert.Equal(t, tt.want.Workers, got.Workers, "workers")
			assert.Equal(t, tt.want.AutoAck, got.AutoAck, "auto_ack")
			assert.Equal(t, tt.want.VisibilityTimeout, got.VisibilityTimeout, "visibility_timeout")
			assert.Equal(t, tt.want.RetryOnError, got.RetryOnError, "retry_on_error")
			assert.Equal(t, tt.want.MaxRetries, got.MaxRetries, "max_retries")
			assert.Equal(t, filepath.Join(dir, "bin", tt.want.Name), got.Plugin, "plugin, relative to the config folder")
			assert.JSONEq(t, "{}", string(got.Config), "config")
		})
	}
}

func TestGenerateManualAckListener(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)

	_, stderr, err := generateIn(t, dir, "listener", "-auto-ack=false", "-retry", "-max-retries", "2", "Billing")

	require.NoError(t, err, stderr)
	listener := readFile(t, filepath.Join(dir, "plugins", "billing", "listener.go"))
	assert.Contains(t, listener, "return msg.Ack(ctx)", "Handle acks the message itself")
	assert.Contains(t, listener, "With auto_ack = false")
	test := readFile(t, filepath.Join(dir, "plugins", "billing", "listener_test.go"))
	assert.Contains(t, test, "listenertest.WithAutoAck(false)")
	assert.Contains(t, test, "listenertest.WithRetryOnError(2)")
}

func TestGenerateAppendsToConfig(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)
	configPath := filepath.Join(dir, "listeners.hcl")
	existing := "host {\n  log_level = \"debug\"\n}"
	require.NoError(t, os.WriteFile(configPath, []byte(existing), 0o644))

	stdout, stderr, err := generateIn(t, dir, "listener", "-config", "listeners.hcl", "SendEmail")

	require.NoError(t, err, stderr)
	content := readFile(t, configPath)
	assert.True(t, strings.HasPrefix(content, existing+"\n\nlistener \"send-email\" {"), "the block follows a blank line:\n%s", content)
	assert.Contains(t, stdout, `added listener "send-email" to listeners.hcl`)
	assert.Contains(t, stdout, "vega-host run -config listeners.hcl")

	cfg, diags := config.ParseWithOptions([]byte(content), configPath, config.Options{SkipPluginCheck: true})
	require.False(t, diags.HasErrors(), config.FormatDiagnostics(diags, nil))
	assert.Equal(t, "debug", cfg.Host.LogLevel, "the existing block is kept")
	require.Len(t, cfg.Listeners, 1)
}

func TestGenerateCreatesMissingConfig(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)

	_, stderr, err := generateIn(t, dir, "listener", "-config", "deploy/listeners.hcl", "-dir", "cmd", "Mailer")

	require.Error(t, err, "the config folder does not exist")
	assert.Contains(t, err.Error(), "deploy")
	assert.NoFileExists(t, filepath.Join(dir, "cmd", "mailer", "main.go"), "nothing is written before the checks pass, stderr: %s", stderr)

	require.NoError(t, os.Mkdir(filepath.Join(dir, "deploy"), 0o755))
	stdout, stderr, err := generateIn(t, dir, "listener", "-config", "deploy/listeners.hcl", "-dir", "cmd", "Mailer")

	require.NoError(t, err, stderr)
	assert.True(t, strings.HasPrefix(readFile(t, filepath.Join(dir, "deploy", "listeners.hcl")), `listener "mailer" {`))
	assert.Contains(t, stdout, "go build -o deploy/bin/mailer ./cmd/mailer", "the binary goes beside the config file")
	assert.NotContains(t, readFile(t, filepath.Join(dir, "deploy", "listeners.hcl")), "build-plugins.sh",
		"the build script builds plugins/* only")
}

func TestGenerateRefusesDuplicateListener(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)
	configPath := filepath.Join(dir, "listeners.hcl")
	existing := "# Listeners.\n\nlistener \"send-email\" {\n  plugin = \"bin/other\"\n  queue  = \"emails\"\n}\n"
	require.NoError(t, os.WriteFile(configPath, []byte(existing), 0o644))

	_, _, err := generateIn(t, dir, "listener", "-config", configPath, "send_email")

	require.Error(t, err)
	assert.Contains(t, err.Error(), configPath+":3:", "the error names the file and the existing block's line")
	assert.Contains(t, err.Error(), `a listener "send-email" block exists already`)
	assert.Equal(t, existing, readFile(t, configPath), "the config is unchanged")
	assert.NoDirExists(t, filepath.Join(dir, "plugins", "send-email"), "no file was written")
}

func TestGenerateRefusesConfigThatDoesNotParse(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)
	configPath := filepath.Join(dir, "listeners.hcl")
	require.NoError(t, os.WriteFile(configPath, []byte("listener \"a\" {\n"), 0o644))

	_, _, err := generateIn(t, dir, "listener", "-config", configPath, "Mailer")

	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not parse")
	assert.NoDirExists(t, filepath.Join(dir, "plugins", "mailer"))
}

func TestGenerateRefusesExistingFiles(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)
	configPath := filepath.Join(dir, "listeners.hcl")
	require.NoError(t, os.WriteFile(configPath, []byte("# empty\n"), 0o644))
	listenerPath := filepath.Join(dir, "plugins", "mailer", "listener.go")
	require.NoError(t, os.MkdirAll(filepath.Dir(listenerPath), 0o755))
	require.NoError(t, os.WriteFile(listenerPath, []byte("package main\n"), 0o644))

	_, _, err := generateIn(t, dir, "listener", "-config", configPath, "Mailer")

	require.Error(t, err)
	assert.Contains(t, err.Error(), listenerPath+" exists already")
	assert.Equal(t, "package main\n", readFile(t, listenerPath), "the file is unchanged")
	assert.NoFileExists(t, filepath.Join(dir, "plugins", "mailer", "main.go"), "no other file was written")
	assert.Equal(t, "# empty\n", readFile(t, configPath), "the config is unchanged")
}

func TestGenerateModuleChecks(t *testing.T) {
	tests := []struct {
		name        string
		goMod       string
		args        []string
		wantErr     string
		wantWarning string
	}{
		{
			name:    "no go.mod",
			args:    []string{"listener", "Mailer"},
			wantErr: "no go.mod in",
		},
		{
			name:        "module without the SDK",
			goMod:       "module example.com/jobs\n",
			args:        []string{"listener", "Mailer"},
			wantWarning: "go get github.com/vega-host/vega-host",
		},
		{
			name:  "module with the SDK in a require block",
			goMod: "module \"example.com/jobs\" // comment\n\nrequire (\n\tgithub.com/vega-host/vega-host v0.1.0 // indirect\n)\n",
			args:  []string{"listener", "Mailer"},
		},
		{
			name:  "the SDK's own module",
			goMod: "module github.com/vega-host/vega-host\n",
			args:  []string{"listener", "Mailer"},
		},
		{
			name:    "no module line",
			goMod:   "go 1.26.0\n",
			args:    []string{"listener", "Mailer"},
			wantErr: "has no module line",
		},
		{
			name:    "folder outside the module",
			goMod:   "module example.com/jobs\n",
			args:    []string{"listener", "-dir", "../..", "Mailer"},
			wantErr: "outside the module",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			workDir := filepath.Join(root, "jobs")
			require.NoError(t, os.Mkdir(workDir, 0o755))
			if tt.goMod != "" {
				require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte(tt.goMod), 0o644))
			}

			_, stderr, err := generateIn(t, workDir, tt.args...)

			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err, stderr)
			assert.FileExists(t, filepath.Join(workDir, "plugins", "mailer", "main.go"), "generated below the current folder")
			if tt.wantWarning == "" {
				assert.NotContains(t, stderr, "warning")
			} else {
				assert.Contains(t, stderr, tt.wantWarning)
			}
		})
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantMsg string
	}{
		{name: "nothing", args: nil, wantMsg: "name what to generate"},
		{name: "unknown kind", args: []string{"service", "Mailer"}, wantMsg: `cannot generate "service"`},
		{name: "missing name", args: []string{"listener", "-workers", "2"}, wantMsg: "NAME is missing"},
		{name: "two names", args: []string{"listener", "Send", "Email"}, wantMsg: "expected one NAME"},
		{name: "invalid name", args: []string{"listener", "send.email"}, wantMsg: "contains a dot"},
		{name: "zero workers", args: []string{"listener", "-workers", "0", "Mailer"}, wantMsg: "-workers 0 is out of range: use 1 to 1000"},
		{name: "too many retries", args: []string{"listener", "-max-retries", "101", "Mailer"}, wantMsg: "-max-retries 101 is out of range"},
		{name: "visibility too long", args: []string{"listener", "-visibility-timeout", "13h", "Mailer"}, wantMsg: "-visibility-timeout 13h0m0s is out of range"},
		{name: "visibility fraction", args: []string{"listener", "-visibility-timeout", "1500ms", "Mailer"}, wantMsg: "use whole seconds"},
		{name: "empty queue", args: []string{"listener", "-queue", " ", "Mailer"}, wantMsg: "-queue is empty"},
		{name: "queue with newline", args: []string{"listener", "-queue", "a\nb", "Mailer"}, wantMsg: "control character"},
		{name: "empty dir", args: []string{"listener", "-dir", "", "Mailer"}, wantMsg: "-dir is empty"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := moduleDir(t, requireVegaHost)

			_, _, err := generateIn(t, dir, tt.args...)

			var exit *exitError
			require.ErrorAs(t, err, &exit)
			assert.Equal(t, exitUsage, exit.code, "exit status")
			assert.Contains(t, exit.message, tt.wantMsg)
			assert.NoDirExists(t, filepath.Join(dir, "plugins"), "nothing was written")
		})
	}
}

func TestGenerateFlagErrors(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)

	_, stderr, err := generateIn(t, dir, "listener", "-visibility-timeout", "soon", "Mailer")

	var exit *exitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, exitUsage, exit.code)
	assert.Contains(t, stderr, `"soon" is neither a number of seconds nor a duration`)
}

func TestGenerateHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"listener", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, err := generateIn(t, t.TempDir(), args...)

			assert.ErrorIs(t, err, flag.ErrHelp)
			assert.Contains(t, stderr, "Usage: vega-host generate listener [flags] NAME")
			assert.Contains(t, stderr, "-visibility-timeout")
		})
	}
}

func TestGenerateMaxRetriesWithoutRetryWarns(t *testing.T) {
	dir := moduleDir(t, requireVegaHost)

	_, stderr, err := generateIn(t, dir, "listener", "-max-retries", "5", "Mailer")

	require.NoError(t, err)
	assert.Contains(t, stderr, "-max-retries has no effect without -retry")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// externalModule creates a module outside the repository that requires
// Vega Host through a replace directive pointing at this checkout, as a
// team's own listener repository would, and returns its folder.
func externalModule(t *testing.T) string {
	t.Helper()

	root := buildtest.ModuleRoot(t)
	repoMod := readFile(t, filepath.Join(root, "go.mod"))
	// The repository's requirements make the module's go.sum complete, so
	// the build needs no download and no go mod tidy.
	start := strings.Index(repoMod, "require (")
	require.GreaterOrEqual(t, start, 0, "go.mod has a require block")

	dir := t.TempDir()
	goMod := "module example.com/jobs\n\ngo 1.26.0\n\n" +
		"require github.com/vega-host/vega-host v0.0.0\n\n" +
		"replace github.com/vega-host/vega-host => " + root + "\n\n" +
		repoMod[start:]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), []byte(readFile(t, filepath.Join(root, "go.sum"))), 0o644))
	return dir
}

// goCommand runs the go command in dir and returns its combined output.
func goCommand(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	output, err := cmd.CombinedOutput()
	return string(output), err
}

// lockedBuffer is a bytes.Buffer that a process's two output streams may
// share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestGeneratedListenerRunsUnderHost(t *testing.T) {
	const wait = 30 * time.Second
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	dir := externalModule(t)
	configPath := filepath.Join(dir, "listeners.hcl")
	require.NoError(t, os.WriteFile(configPath, []byte("host {\n  log_level = \"debug\"\n}\n\ndriver \"sqlite\" {\n  path = \"queue.db\"\n}\n"), 0o644))

	stdout, stderr, err := generateIn(t, dir, "listener", "-config", "listeners.hcl", "-workers", "2", "-retry", "SendEmail")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "go build -o bin/send-email ./plugins/send-email")

	output, err := goCommand(t, dir, "build", "-o", "bin/send-email", "./plugins/send-email")
	require.NoError(t, err, "the generated listener builds:\n%s", output)
	output, err = goCommand(t, dir, "test", "./plugins/send-email")
	require.NoError(t, err, "the generated test passes:\n%s", output)
	assert.Contains(t, output, "ok ")

	validate := exec.Command(vegaHost, "validate", "-config", configPath)
	output2, err := validate.CombinedOutput()
	require.NoError(t, err, "the appended config is valid:\n%s", output2)

	hostOutput := &lockedBuffer{}
	run := exec.Command(vegaHost, "run", "-config", configPath)
	run.Stdout, run.Stderr = hostOutput, hostOutput
	require.NoError(t, run.Start())
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		_ = run.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("vega-host output:\n%s", hostOutput.String())
		}
	})

	send := exec.Command(vegaHost, "send", "-config", configPath, "-queue", "send-email", `{"id": "42"}`)
	output2, err = send.CombinedOutput()
	require.NoError(t, err, "send:\n%s", output2)
	messageID := strings.TrimSpace(string(output2))

	require.Eventually(t, func() bool {
		for line := range strings.Lines(hostOutput.String()) {
			if strings.Contains(line, `"message handled"`) && strings.Contains(line, `"id":"42"`) && strings.Contains(line, messageID) {
				return true
			}
		}
		return false
	}, wait, 20*time.Millisecond, "the plugin logs that it handled the message")

	driver, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	require.NoError(t, err)
	defer driver.Close()
	require.Eventually(t, func() bool {
		visible, inFlight, err := driver.Depth(context.Background(), "send-email")
		return err == nil && visible == 0 && inFlight == 0
	}, wait, 20*time.Millisecond, "the message was acked")

	require.NoError(t, run.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		exited <- err
		assert.NoError(t, err, "vega-host exits with status 0 after SIGTERM")
	case <-time.After(wait):
		t.Fatalf("vega-host did not exit within %s of SIGTERM", wait)
	}

	_, _, err = generateIn(t, dir, "listener", "-config", "listeners.hcl", "send-email")
	require.Error(t, err, "a second run refuses the same name")
	assert.Contains(t, err.Error(), "exists already")
}
