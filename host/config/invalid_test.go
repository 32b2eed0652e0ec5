package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
)

// listenerWith returns a valid listener block with extra as its fourth
// line, so that a problem in extra is reported on line 4.
func listenerWith(extra string) string {
	return `listener "send-email" {
  plugin = "bin/example-email"
  queue  = "emails"
  ` + extra + `
}
`
}

func TestLoadInvalidConfigs(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		src         string
		wantLine    int
		wantSummary string
		// wantDetail lists texts the detail must contain. "$DIR" stands
		// for the folder of the config file.
		wantDetail []string
	}{
		{
			name:        "unknown attribute",
			src:         listenerWith(`wrokers = 2`),
			wantLine:    4,
			wantSummary: "Unsupported argument",
			wantDetail:  []string{`"wrokers"`, `Did you mean "workers"?`},
		},
		{
			name:        "unknown block",
			src:         listenerWith(``) + "listner \"other\" {\n}\n",
			wantLine:    6,
			wantSummary: "Unsupported block type",
			wantDetail:  []string{`"listner"`, `Did you mean "listener"?`},
		},
		{
			name:        "top-level attribute",
			src:         "workers = 2\n" + listenerWith(``),
			wantLine:    1,
			wantSummary: "Unsupported argument",
			wantDetail:  []string{`"workers"`},
		},
		{
			name:        "workers not a number",
			src:         listenerWith(`workers = "two"`),
			wantLine:    4,
			wantSummary: "Invalid workers",
			wantDetail:  []string{"workers must be a whole number between 1 and 1000", `got "two"`},
		},
		{
			name:        "workers fractional",
			src:         listenerWith(`workers = 2.5`),
			wantLine:    4,
			wantSummary: "Invalid workers",
			wantDetail:  []string{"whole number", "got 2.5"},
		},
		{
			name:        "workers zero",
			src:         listenerWith(`workers = 0`),
			wantLine:    4,
			wantSummary: "Invalid workers",
			wantDetail:  []string{"between 1 and 1000", "got 0"},
		},
		{
			name:        "workers above maximum",
			src:         listenerWith(`workers = 1001`),
			wantLine:    4,
			wantSummary: "Invalid workers",
			wantDetail:  []string{"between 1 and 1000", "got 1001"},
		},
		{
			name:        "workers huge",
			src:         listenerWith(`workers = 1e400`),
			wantLine:    4,
			wantSummary: "Invalid workers",
			wantDetail:  []string{"got 1e+400"},
		},
		{
			name:        "max_retries negative",
			src:         listenerWith(`max_retries = -1`),
			wantLine:    4,
			wantSummary: "Invalid max_retries",
			wantDetail:  []string{"between 0 and 100", "got -1"},
		},
		{
			name:        "max_retries above maximum",
			src:         listenerWith(`max_retries = 101`),
			wantLine:    4,
			wantSummary: "Invalid max_retries",
			wantDetail:  []string{"got 101"},
		},
		{
			name:        "visibility_timeout zero",
			src:         listenerWith(`visibility_timeout = 0`),
			wantLine:    4,
			wantSummary: "Invalid visibility_timeout",
			wantDetail:  []string{"between 1 and 43200", "got 0"},
		},
		{
			name:        "visibility_timeout above maximum",
			src:         listenerWith(`visibility_timeout = 43201`),
			wantLine:    4,
			wantSummary: "Invalid visibility_timeout",
			wantDetail:  []string{"between 1 and 43200", "got 43201"},
		},
		{
			name:        "visibility_timeout fractional",
			src:         listenerWith(`visibility_timeout = "1.5s"`),
			wantLine:    4,
			wantSummary: "Invalid visibility_timeout",
			wantDetail:  []string{"whole seconds", `got "1.5s"`},
		},
		{
			name:        "max_messages zero",
			src:         listenerWith(`max_messages = 0`),
			wantLine:    4,
			wantSummary: "Invalid max_messages",
			wantDetail:  []string{"between 1 and 1000", "got 0"},
		},
		{
			name:        "max_messages above maximum",
			src:         listenerWith(`max_messages = 1001`),
			wantLine:    4,
			wantSummary: "Invalid max_messages",
			wantDetail:  []string{"got 1001"},
		},
		{
			name:        "auto_ack not a bool",
			src:         listenerWith(`auto_ack = "yes"`),
			wantLine:    4,
			wantSummary: "Invalid auto_ack",
			wantDetail:  []string{"true or false", `got "yes"`},
		},
		{
			name:        "retry_delay bad duration",
			src:         listenerWith(`retry_delay = "fast"`),
			wantLine:    4,
			wantSummary: "Invalid retry_delay",
			wantDetail:  []string{"Go duration string", `got "fast"`},
		},
		{
			name:        "retry_delay zero",
			src:         listenerWith(`retry_delay = 0`),
			wantLine:    4,
			wantSummary: "Invalid retry_delay",
			wantDetail:  []string{"at least 0.001 seconds", "got 0"},
		},
		{
			name:        "max_retry_delay below retry_delay",
			src:         listenerWith(`max_retry_delay = "500ms"`),
			wantLine:    4,
			wantSummary: "Invalid max_retry_delay",
			wantDetail:  []string{"max_retry_delay (500ms) must be at least retry_delay (1s)"},
		},
		{
			name:        "handler_timeout negative",
			src:         listenerWith(`handler_timeout = -1`),
			wantLine:    4,
			wantSummary: "Invalid handler_timeout",
			wantDetail:  []string{"zero or more seconds", "got -1"},
		},
		{
			name:        "handler_timeout too large",
			src:         listenerWith(`handler_timeout = 1e300`),
			wantLine:    4,
			wantSummary: "Invalid handler_timeout",
			wantDetail:  []string{"too large", "1e+300"},
		},
		{
			name:        "dead_letter_queue same as queue",
			src:         listenerWith(`dead_letter_queue = "emails"`),
			wantLine:    4,
			wantSummary: "Invalid dead_letter_queue",
			wantDetail:  []string{`must differ from queue "emails"`},
		},
		{
			name:        "sha256 too short",
			src:         listenerWith(`sha256 = "abc"`),
			wantLine:    4,
			wantSummary: "Invalid sha256",
			wantDetail:  []string{"64 hexadecimal digits", `got "abc"`},
		},
		{
			name:        "sha256 not hexadecimal",
			src:         listenerWith(`sha256 = "` + strings.Repeat("z", 64) + `"`),
			wantLine:    4,
			wantSummary: "Invalid sha256",
			wantDetail:  []string{"64 hexadecimal digits", `"zzzz`},
		},
		{
			name:        "config not an object",
			src:         listenerWith(`config = "smtp"`),
			wantLine:    4,
			wantSummary: "Invalid config",
			wantDetail:  []string{"config must be an object", `got "smtp"`},
		},
		{
			name:        "env not a list",
			src:         listenerWith(`env = "HOME"`),
			wantLine:    4,
			wantSummary: "Invalid env",
			wantDetail:  []string{"list of environment variable names", `got "HOME"`},
		},
		{
			name:        "env reserved name",
			src:         listenerWith(`env = ["PLUGIN_MIN_PORT"]`),
			wantLine:    4,
			wantSummary: "Invalid env",
			wantDetail:  []string{`"PLUGIN_MIN_PORT"`, "go-plugin reserves names starting with PLUGIN_"},
		},
		{
			name:        "env handshake cookie",
			src:         listenerWith(`env = ["` + pluginapi.Handshake.MagicCookieKey + `"]`),
			wantLine:    4,
			wantSummary: "Invalid env",
			wantDetail:  []string{`"` + pluginapi.Handshake.MagicCookieKey + `"`, "plugin handshake"},
		},
		{
			name:        "env invalid name",
			src:         listenerWith(`env = ["1SMTP"]`),
			wantLine:    4,
			wantSummary: "Invalid env",
			wantDetail:  []string{`"1SMTP"`, "not a valid environment variable name"},
		},
		{
			name:        "env element not a string",
			src:         listenerWith(`env = [["A"]]`),
			wantLine:    4,
			wantSummary: "Invalid env",
			wantDetail:  []string{"must be a variable name as a string"},
		},
		{
			name:        "env variable not set",
			src:         listenerWith(`env = ["VEGA_TEST_NEVER_SET"]`),
			wantLine:    4,
			wantSummary: "Missing environment variable",
			wantDetail:  []string{`"VEGA_TEST_NEVER_SET"`, "Export it before starting vega-host"},
		},
		{
			name:        "env function variable not set",
			src:         listenerWith(`dead_letter_queue = env("VEGA_TEST_NEVER_SET")`),
			wantLine:    4,
			wantSummary: "Error in function call",
			wantDetail:  []string{`environment variable "VEGA_TEST_NEVER_SET" is not set`, "export it"},
		},
		{
			name:        "env function invalid name",
			src:         listenerWith(`dead_letter_queue = env("1BAD")`),
			wantLine:    4,
			wantSummary: "Invalid function argument",
			wantDetail:  []string{`"1BAD" is not a valid environment variable name`},
		},
		{
			name:        "env function too many arguments",
			src:         listenerWith(`dead_letter_queue = env("A", "b", "c")`),
			wantLine:    4,
			wantSummary: "Error in function call",
			wantDetail:  []string{"got 3 arguments"},
		},
		{
			name:        "variable reference",
			src:         listenerWith(`dead_letter_queue = emails`),
			wantLine:    4,
			wantSummary: "Variables not allowed",
		},
		{
			name:        "syntax error",
			src:         listenerWith(`workers = `),
			wantLine:    4,
			wantSummary: "Invalid expression",
		},
		{
			name:        "duplicate listener name",
			src:         listenerWith(``) + "\n" + listenerWith(``),
			wantLine:    7,
			wantSummary: "Duplicate listener name",
			wantDetail:  []string{`"send-email"`, "at line 1"},
		},
		{
			name:        "listener name with space",
			src:         "listener \"send email\" {\n  plugin = \"bin/example-email\"\n  queue  = \"emails\"\n}\n",
			wantLine:    1,
			wantSummary: "Invalid listener name",
			wantDetail:  []string{`"send email"`},
		},
		{
			name:        "listener name starting with dash",
			src:         "listener \"-send\" {\n  plugin = \"bin/example-email\"\n  queue  = \"emails\"\n}\n",
			wantLine:    1,
			wantSummary: "Invalid listener name",
			wantDetail:  []string{`"-send"`},
		},
		{
			name:        "listener without name",
			src:         "listener {\n  plugin = \"bin/example-email\"\n  queue  = \"emails\"\n}\n",
			wantLine:    1,
			wantSummary: "Missing name for listener",
		},
		{
			name:        "missing queue",
			src:         "listener \"send-email\" {\n  plugin = \"bin/example-email\"\n}\n",
			wantLine:    1,
			wantSummary: "Missing queue",
			wantDetail:  []string{`"send-email" must set queue`},
		},
		{
			name:        "empty queue",
			src:         "listener \"send-email\" {\n  plugin = \"bin/example-email\"\n  queue  = \"\"\n}\n",
			wantLine:    3,
			wantSummary: "Invalid queue",
			wantDetail:  []string{"queue must not be empty"},
		},
		{
			name:        "missing plugin",
			src:         "listener \"send-email\" {\n  queue = \"emails\"\n}\n",
			wantLine:    1,
			wantSummary: "Missing plugin",
			wantDetail:  []string{`"send-email" must set plugin`, "$DIR"},
		},
		{
			name:        "plugin not found",
			src:         "listener \"send-email\" {\n  plugin = \"bin/missing\"\n  queue  = \"emails\"\n}\n",
			wantLine:    2,
			wantSummary: "Plugin binary not found",
			wantDetail:  []string{"$DIR/bin/missing does not exist", "scripts/build-plugins.sh"},
		},
		{
			name:        "plugin is a directory",
			src:         "listener \"send-email\" {\n  plugin = \"bin/empty\"\n  queue  = \"emails\"\n}\n",
			wantLine:    2,
			wantSummary: "Plugin path is a directory",
			wantDetail:  []string{"$DIR/bin/empty is a directory", "scripts/build-plugins.sh"},
		},
		{
			name:        "plugin not executable",
			src:         "listener \"send-email\" {\n  plugin = \"bin/not-executable\"\n  queue  = \"emails\"\n}\n",
			wantLine:    2,
			wantSummary: "Plugin binary not executable",
			wantDetail:  []string{"$DIR/bin/not-executable is not executable", "chmod +x"},
		},
		{
			name:        "no listener block",
			src:         "host {\n}\n",
			wantLine:    1,
			wantSummary: "No listener block",
			wantDetail:  []string{"The file defines no listener block"},
		},
		{
			name:        "unknown log level",
			src:         "host {\n  log_level = \"verbose\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Invalid log_level",
			wantDetail:  []string{"trace, debug, info, warn, error", `got "verbose"`},
		},
		{
			name:        "unknown log format",
			src:         "host {\n  log_format = \"xml\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Invalid log_format",
			wantDetail:  []string{"auto, text, json", `got "xml"`},
		},
		{
			name:        "shutdown_timeout without unit",
			src:         "host {\n  shutdown_timeout = \"30\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Invalid shutdown_timeout",
			wantDetail:  []string{`got "30"`},
		},
		{
			name:        "metrics_addr without port",
			src:         "host {\n  metrics_addr = \"localhost\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Invalid metrics_addr",
			wantDetail:  []string{`got "localhost"`},
		},
		{
			name:        "duplicate host block",
			src:         "host {\n}\nhost {\n}\n" + listenerWith(``),
			wantLine:    3,
			wantSummary: "Duplicate host block",
			wantDetail:  []string{"at line 1"},
		},
		{
			name:        "duplicate driver kind",
			src:         "driver \"memory\" {}\ndriver \"memory\" {}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Duplicate driver block",
			wantDetail:  []string{`"memory"`, "at line 1"},
		},
		{
			name:        "unknown driver kind",
			src:         "driver \"redis\" {}\n" + listenerWith(``),
			wantLine:    1,
			wantSummary: "Unknown driver kind",
			wantDetail:  []string{`"redis"`, "memory, sqlite, sqs"},
		},
		{
			name:        "sqlite unknown attribute",
			src:         "driver \"sqlite\" {\n  paht = \"q.db\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Unsupported argument",
			wantDetail:  []string{`"paht"`, `Did you mean "path"?`},
		},
		{
			name:        "sqlite empty path",
			src:         "driver \"sqlite\" {\n  path = \"\"\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Invalid path",
			wantDetail:  []string{"sqlite database file"},
		},
		{
			name:        "memory with attribute",
			src:         "driver \"memory\" {\n  size = 10\n}\n" + listenerWith(``),
			wantLine:    2,
			wantSummary: "Unsupported argument",
			wantDetail:  []string{`"size"`},
		},
		{
			name:        "listener driver not defined",
			src:         listenerWith(`driver = "sqs"`),
			wantLine:    4,
			wantSummary: "Invalid driver",
			wantDetail:  []string{`got "sqs"`, "(sqlite)", `Add a driver "sqs" block`},
		},
		{
			name:        "listener driver ambiguous",
			src:         "driver \"memory\" {}\ndriver \"sqs\" {}\n" + listenerWith(``),
			wantLine:    3,
			wantSummary: "Missing driver",
			wantDetail:  []string{"(memory, sqs)", `"send-email" must set driver`},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg, diags := dir.load(t, tt.src)

			assert.Nil(t, cfg)
			require.Len(t, diags, 1, "diagnostics:\n%s", FormatDiagnostics(diags, nil))
			diag := diags[0]
			assert.Equal(t, hcl.DiagError, diag.Severity)
			assert.Equal(t, tt.wantSummary, diag.Summary)
			require.NotNil(t, diag.Subject)
			assert.Equal(t, dir.File, diag.Subject.Filename)
			assert.Equal(t, tt.wantLine, diag.Subject.Start.Line)
			for _, want := range tt.wantDetail {
				assert.Contains(t, diag.Detail, strings.ReplaceAll(want, "$DIR", dir.Dir))
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg, diags := dir.load(t, `listener "send-email" {
  plugin      = "bin/example-email"
  queue       = "emails"
  workers     = 0
  max_retries = -2
}

listener "send-email" {
  plugin = "bin/example-email"
  queue  = "emails"
}
`)

	assert.Nil(t, cfg)
	require.Len(t, diags, 3)

	assert.Equal(t, "Invalid workers", diags[0].Summary)
	assert.Equal(t, 4, diags[0].Subject.Start.Line)
	assert.Equal(t, 17, diags[0].Subject.Start.Column)

	assert.Equal(t, "Invalid max_retries", diags[1].Summary)
	assert.Equal(t, 5, diags[1].Subject.Start.Line)

	assert.Equal(t, "Duplicate listener name", diags[2].Summary)
	assert.Equal(t, 8, diags[2].Subject.Start.Line)
	assert.Equal(t, 10, diags[2].Subject.Start.Column)
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg, diags := Load(dir.File)

	assert.Nil(t, cfg)
	require.Len(t, diags, 1)
	assert.Equal(t, "Cannot read configuration file", diags[0].Summary)
	assert.Contains(t, diags[0].Detail, dir.File)
	require.NotNil(t, diags[0].Subject)
	assert.Equal(t, dir.File, diags[0].Subject.Filename)
}
