package host_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
)

// sqsFile returns a config file with body as the driver "sqs" block's
// contents, starting on line 2, and a listener on it.
func sqsFile(body string) string {
	return "driver \"sqs\" {\n" + body + "}\n\nlistener \"emails\" {\n  plugin = \"bin/listener\"\n  queue  = \"emails\"\n}\n"
}

// loadSQSDriver writes src to listeners.hcl in a temporary folder, loads
// it and returns the sqs driver block.
func loadSQSDriver(t *testing.T, src string) config.Driver {
	t.Helper()

	path := filepath.Join(t.TempDir(), "listeners.hcl")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))

	cfg, diags := config.LoadWithOptions(path, config.Options{SkipPluginCheck: true})
	require.False(t, diags.HasErrors(), "load config:\n%s", config.FormatDiagnostics(diags, nil))
	require.Len(t, cfg.Drivers, 1)

	return cfg.Drivers[0]
}

func TestDecodeSQSConfig(t *testing.T) {
	t.Setenv("VEGA_TEST_SQS_SECRET", "s3cret")

	driver := loadSQSDriver(t, sqsFile(`  region                      = "eu-west-1"
  endpoint_url                = "http://127.0.0.1:5000"
  access_key_id               = "AKIATEST"
  secret_access_key           = env("VEGA_TEST_SQS_SECRET")
  session_token               = "token"
  wait_time_seconds           = 5
  disable_checksum_validation = true
`))

	cfg, diags := host.DecodeSQSConfig(driver)

	require.Empty(t, diags, "diagnostics:\n%s", config.FormatDiagnostics(diags, nil))
	assert.Equal(t, sqs.Config{
		Region:                    "eu-west-1",
		EndpointURL:               "http://127.0.0.1:5000",
		AccessKeyID:               "AKIATEST",
		SecretAccessKey:           "s3cret",
		SessionToken:              "token",
		WaitTimeSeconds:           5,
		DisableChecksumValidation: true,
	}, cfg)
}

func TestDecodeSQSConfigDiagnostics(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantLine    int
		wantColumn  int
		wantSummary string
		wantDetail  string
	}{
		{"unknown attribute", "  region = \"eu-west-1\"\n  queue_url = \"x\"\n", 3, 3, "Unsupported argument", `"queue_url"`},
		{"wait time above the SQS maximum", "  region = \"eu-west-1\"\n  wait_time_seconds = 25\n", 3, 23, "Invalid wait_time_seconds", "from 1 to 20"},
		{"wait time zero", "  wait_time_seconds = 0\n", 2, 23, "Invalid wait_time_seconds", "got 0"},
		{"checksum flag not a bool", "  disable_checksum_validation = \"maybe\"\n", 2, 33, "Invalid disable_checksum_validation", "true or false"},
		{"secret not shown", "  secret_access_key = [\"s3cret\"]\n", 2, 23, "Invalid secret_access_key", "(not shown)"},
		{"key without secret", "  region = \"eu-west-1\"\n  access_key_id = \"AKIATEST\"\n", 1, 1, "Invalid sqs driver settings", "static credentials are incomplete"},
		{"checksum off without endpoint", "  disable_checksum_validation = true\n", 1, 1, "Invalid sqs driver settings", "only for a local server"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver := loadSQSDriver(t, sqsFile(tt.body))

			_, diags := host.DecodeSQSConfig(driver)

			require.Len(t, diags, 1, "diagnostics:\n%s", config.FormatDiagnostics(diags, nil))
			diag := diags[0]
			assert.Equal(t, hcl.DiagError, diag.Severity)
			assert.Equal(t, tt.wantSummary, diag.Summary)
			assert.Contains(t, diag.Detail, tt.wantDetail)
			assert.NotContains(t, diag.Detail, "s3cret", "a credential must not appear in a diagnostic")
			require.NotNil(t, diag.Subject)
			assert.Equal(t, tt.wantLine, diag.Subject.Start.Line, "line")
			assert.Equal(t, tt.wantColumn, diag.Subject.Start.Column, "column")
		})
	}
}

func TestOpenDriverSQS(t *testing.T) {
	t.Run("valid block", func(t *testing.T) {
		driver := loadSQSDriver(t, sqsFile("  region = \"us-east-1\"\n  endpoint_url = \"http://127.0.0.1:5000\"\n  access_key_id = \"a\"\n  secret_access_key = \"b\"\n"))

		opened, err := host.OpenDriver(driver)

		require.NoError(t, err, "opening an sqs driver sends no request")
		assert.Implements(t, (*drivers.Depther)(nil), opened)
		require.NoError(t, opened.Close())
	})

	t.Run("invalid block", func(t *testing.T) {
		driver := loadSQSDriver(t, sqsFile("  region = \"us-east-1\"\n  regoin = \"eu-west-1\"\n"))

		_, err := host.OpenDriver(driver)

		require.Error(t, err)
		assert.Contains(t, err.Error(), "listeners.hcl:3:3: error: Unsupported argument", "the error should give file:line:column")
		var diags hcl.Diagnostics
		assert.ErrorAs(t, err, &diags, "the diagnostics should be reachable with errors.As")
	})
}
