package main_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/buildtest"
)

// exitCode runs a finished command's error down to its exit status.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	return exit.ExitCode()
}

// validConfig writes a config whose plugin binary exists and returns its
// path.
func validConfig(t *testing.T) string {
	t.Helper()
	plugin := buildtest.Binary(t, "./host/testdata/plugins/behave")
	path := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, path, `
listener "jobs" {
  plugin  = "`+plugin+`"
  queue   = "jobs"
  workers = 3
}

listener "missing" {
  plugin = "`+plugin+`"
  queue  = "other"
}
`)
	return path
}

func TestValidateReportsEveryProblem(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	path := filepath.Join(t.TempDir(), "listeners.hcl")
	writeFile(t, path, `listener "a" {
  plugin  = "bin/nothing-here"
  queue   = "a"
  workers = 2.5
}
`)

	output, err := vega(t, vegaHost, "", "validate", "-config", path)

	assert.Equal(t, 1, exitCode(t, err))
	assert.Contains(t, output, path+":2:13: error: Plugin binary not found", "the plugin diagnostic names file, line and column")
	assert.Contains(t, output, path+":4:13: error: Invalid workers", "the workers diagnostic names file, line and column")
	assert.Contains(t, output, "2.5")
	assert.Contains(t, output, "is invalid: 2 errors", "the last line counts the errors")
}

func TestValidateAcceptsGoodConfig(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")

	output, err := vega(t, vegaHost, "", "validate", "-config", validConfig(t))

	require.NoError(t, err, output)
	assert.Contains(t, output, "is valid: 2 listener(s)")
}

func TestListShowsListeners(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")

	output, err := vega(t, vegaHost, "", "list", "-config", validConfig(t))

	require.NoError(t, err, output)
	lines := strings.Split(strings.TrimSpace(output), "\n")
	require.Len(t, lines, 3, "a header and one line per listener")
	assert.Regexp(t, `^LISTENER\s+QUEUE\s+WORKERS\s+DRIVER\s+PLUGIN\s+BINARY`, lines[0])
	assert.Regexp(t, `^jobs\s+jobs\s+3\s+sqlite\s+\S+/behave\s+ok\s+[0-9a-f]{12}$`, lines[1])
	assert.Regexp(t, `^missing\s+other\s+1\s+sqlite`, lines[2])
}

func TestSendRejectsBadInput(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")
	config := validConfig(t)

	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{name: "no queue", args: []string{"{}"}, code: 2, want: "-queue is required"},
		{name: "no body", args: []string{"-queue", "jobs"}, code: 2, want: "expected one BODY argument"},
		{name: "array body", args: []string{"-queue", "jobs", "[1, 2]"}, code: 1, want: "is not a JSON object"},
		{name: "plain text", args: []string{"-queue", "jobs", "hello"}, code: 1, want: "is not a JSON object"},
		{name: "two values", args: []string{"-queue", "jobs", "{} {}"}, code: 1, want: "more than one JSON value"},
		{name: "bad stdin line", stdin: "{}\nnope\n", args: []string{"-queue", "jobs", "-"}, code: 1, want: "line 2:"},
		{name: "unknown driver", args: []string{"-queue", "jobs", "-driver", "sqs", "{}"}, code: 1, want: `driver "sqs" has no driver block`},
		{name: "dedup id with stdin", stdin: "{}\n", args: []string{"-queue", "jobs", "-dedup-id", "x", "-"}, code: 2, want: "-dedup-id names one message"},
		{name: "group id on sqlite", args: []string{"-queue", "jobs", "-group-id", "g", "{}"}, code: 1, want: "group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"send", "-config", config}, tc.args...)

			output, err := vega(t, vegaHost, tc.stdin, args...)

			assert.Equal(t, tc.code, exitCode(t, err), output)
			assert.Contains(t, output, tc.want)
		})
	}
}

func TestSendCountsStdinMessages(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")

	output, err := vega(t, vegaHost, "{\"n\": 1}\n\n{\"n\": 2}\n{\"n\": 3}\n", "send", "-config", validConfig(t), "-queue", "jobs", "-")

	require.NoError(t, err, output)
	assert.Contains(t, output, `sent 3 message(s) to queue "jobs"`, "blank lines are skipped")
}

func TestCommandUsage(t *testing.T) {
	vegaHost := buildtest.Binary(t, "./cmd/vega-host")

	cases := []struct {
		args []string
		code int
		want string
	}{
		{args: nil, code: 2, want: "Usage: vega-host COMMAND"},
		{args: []string{"help"}, code: 0, want: "Commands:"},
		{args: []string{"bogus"}, code: 2, want: `unknown command "bogus"`},
		{args: []string{"run", "-h"}, code: 0, want: "-config file"},
		{args: []string{"send", "-h"}, code: 0, want: "-queue name"},
		{args: []string{"run", "-nope"}, code: 2, want: "flag provided but not defined"},
		{args: []string{"version"}, code: 0, want: "plugin protocol 1"},
		{args: []string{"run", "-config", "/nonexistent/listeners.hcl"}, code: 1, want: "/nonexistent/listeners.hcl"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			output, err := vega(t, vegaHost, "", tc.args...)

			assert.Equal(t, tc.code, exitCode(t, err), output)
			assert.Contains(t, output, tc.want)
		})
	}
}
