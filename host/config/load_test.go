package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

func TestLoadMinimalAppliesDefaults(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg := dir.mustLoad(t, readTestdata(t, "minimal.hcl"))

	assert.Equal(t, dir.File, cfg.File)
	assert.Equal(t, dir.Dir, cfg.Dir)
	assert.Empty(t, cfg.Secrets)

	assert.Equal(t, DefaultLogLevel, cfg.Host.LogLevel)
	assert.Equal(t, DefaultLogFormat, cfg.Host.LogFormat)
	assert.Equal(t, DefaultShutdownTimeout, cfg.Host.ShutdownTimeout)
	assert.Empty(t, cfg.Host.MetricsAddr)
	assert.Equal(t, hcl.Range{}, cfg.Host.Range)

	require.Len(t, cfg.Drivers, 1)
	assert.Equal(t, DefaultDriver, cfg.Drivers[0].Kind)
	assert.Equal(t, filepath.Join(dir.Dir, DefaultSQLitePath), cfg.Drivers[0].Path)
	assert.NotNil(t, cfg.Drivers[0].EvalContext)

	require.Len(t, cfg.Listeners, 1)
	listener := cfg.Listeners[0]
	assert.Equal(t, "send-email", listener.Name)
	assert.Equal(t, dir.Plugin, listener.Plugin)
	assert.Equal(t, "emails", listener.Queue)
	assert.Empty(t, listener.SHA256)
	assert.Equal(t, DefaultDriver, listener.Driver)
	assert.Equal(t, DefaultWorkers, listener.Workers)
	assert.Equal(t, DefaultAutoAck, listener.AutoAck)
	assert.Equal(t, DefaultVisibilityTimeout, listener.VisibilityTimeout)
	assert.Equal(t, DefaultMaxMessages, listener.MaxMessages)
	assert.Equal(t, DefaultRetryOnError, listener.RetryOnError)
	assert.Equal(t, DefaultMaxRetries, listener.MaxRetries)
	assert.Equal(t, DefaultRetryDelay, listener.RetryDelay)
	assert.Equal(t, DefaultMaxRetryDelay, listener.MaxRetryDelay)
	assert.Empty(t, listener.DeadLetterQueue)
	assert.Zero(t, listener.HandlerTimeout)
	assert.NotNil(t, listener.Env)
	assert.Empty(t, listener.Env)
	assert.JSONEq(t, `{}`, string(listener.Config))
	assert.Equal(t, dir.File, listener.Range.Filename)
	assert.Equal(t, 1, listener.Range.Start.Line)
}

// TestLoadFullParsesEveryValue sets environment variables, so it does not
// run in parallel.
func TestLoadFullParsesEveryValue(t *testing.T) {
	t.Setenv("VEGA_TEST_SMTP_PASSWORD", "s3cret")
	t.Setenv("VEGA_TEST_SMTP_USER", "mailer")
	dir := setup(t)

	cfg := dir.mustLoad(t, readTestdata(t, "full.hcl"))

	assert.Equal(t, "debug", cfg.Host.LogLevel)
	assert.Equal(t, "json", cfg.Host.LogFormat)
	assert.Equal(t, 45*time.Second, cfg.Host.ShutdownTimeout)
	assert.Equal(t, "127.0.0.1:9464", cfg.Host.MetricsAddr)
	assert.Equal(t, 2, cfg.Host.Range.Start.Line)

	require.Len(t, cfg.Drivers, 1)
	assert.Equal(t, "sqlite", cfg.Drivers[0].Kind)
	assert.Equal(t, filepath.Join(dir.Dir, "data", "queue.db"), cfg.Drivers[0].Path)
	assert.Equal(t, 9, cfg.Drivers[0].Range.Start.Line)

	require.Len(t, cfg.Listeners, 2)
	listener := cfg.Listeners[0]
	assert.Equal(t, "send-email", listener.Name)
	assert.Equal(t, dir.Plugin, listener.Plugin)
	assert.Equal(t, "emails", listener.Queue)
	assert.Equal(t, 4, listener.Workers)
	assert.False(t, listener.AutoAck)
	assert.Equal(t, 2*time.Minute, listener.VisibilityTimeout)
	assert.Equal(t, 10, listener.MaxMessages)
	assert.True(t, listener.RetryOnError)
	assert.Equal(t, 7, listener.MaxRetries)
	assert.Equal(t, 2*time.Second, listener.RetryDelay)
	assert.Equal(t, 10*time.Minute, listener.MaxRetryDelay)
	assert.Equal(t, "emails-dlq", listener.DeadLetterQueue)
	assert.Equal(t, 15*time.Second, listener.HandlerTimeout)
	assert.Equal(t, "sqlite", listener.Driver)
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", listener.SHA256)
	assert.Equal(t, map[string]string{"VEGA_TEST_SMTP_USER": "mailer"}, listener.Env)
	assert.JSONEq(t, `{
		"smtp_addr": "127.0.0.1:1025",
		"password": "s3cret",
		"from": "noreply@example.com",
		"tls": {"enabled": true, "ports": [465, 587]}
	}`, string(listener.Config))
	assert.Equal(t, 13, listener.Range.Start.Line)

	second := cfg.Listeners[1]
	assert.Equal(t, "resize-image", second.Name)
	assert.Equal(t, "images", second.Queue)
	assert.Equal(t, DefaultWorkers, second.Workers)

	assert.ElementsMatch(t, []string{"mailer", "s3cret", "noreply@example.com"}, cfg.Secrets)
}

func TestLoadDurationForms(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "whole seconds", value: `30`, want: 30 * time.Second},
		{name: "fractional seconds", value: `0.5`, want: 500 * time.Millisecond},
		{name: "zero", value: `0`, want: 0},
		{name: "duration string", value: `"1m30s"`, want: 90 * time.Second},
		{name: "milliseconds string", value: `"250ms"`, want: 250 * time.Millisecond},
		{name: "hours string", value: `"2h"`, want: 2 * time.Hour},
		{name: "expression", value: `2 * 60`, want: 2 * time.Minute},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg := dir.mustLoad(t, `
listener "a" {
  plugin          = "bin/example-email"
  queue           = "q"
  handler_timeout = `+tt.value+`
}
`)

			assert.Equal(t, tt.want, cfg.Listeners[0].HandlerTimeout)
		})
	}
}

func TestLoadRangeBoundaries(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg := dir.mustLoad(t, `
listener "low" {
  plugin             = "bin/example-email"
  queue              = "q1"
  workers            = 1
  visibility_timeout = 1
  max_messages       = 1
  max_retries        = 0
}

listener "high" {
  plugin             = "bin/example-email"
  queue              = "q2"
  workers            = 1000
  visibility_timeout = "12h"
  max_messages       = 1000
  max_retries        = 100
  retry_delay        = "5m"
}
`)

	low, high := cfg.Listeners[0], cfg.Listeners[1]
	assert.Equal(t, 1, low.Workers)
	assert.Equal(t, time.Second, low.VisibilityTimeout)
	assert.Equal(t, 1, low.MaxMessages)
	assert.Equal(t, 0, low.MaxRetries)
	assert.Equal(t, 1000, high.Workers)
	assert.Equal(t, 12*time.Hour, high.VisibilityTimeout)
	assert.Equal(t, 1000, high.MaxMessages)
	assert.Equal(t, 100, high.MaxRetries)
	assert.Equal(t, 5*time.Minute, high.RetryDelay)
	assert.Equal(t, DefaultMaxRetryDelay, high.MaxRetryDelay)
}

func TestLoadNullMeansDefault(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg := dir.mustLoad(t, `
listener "a" {
  plugin  = "bin/example-email"
  queue   = "q"
  workers = null
  config  = null
}
`)

	assert.Equal(t, DefaultWorkers, cfg.Listeners[0].Workers)
	assert.JSONEq(t, `{}`, string(cfg.Listeners[0].Config))
}

func TestLoadAbsolutePaths(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	database := filepath.Join(t.TempDir(), "elsewhere.db")

	cfg := dir.mustLoad(t, `
driver "sqlite" {
  path = "`+database+`"
}

listener "a" {
  plugin = "`+dir.Plugin+`"
  queue  = "q"
}
`)

	assert.Equal(t, database, cfg.Drivers[0].Path)
	assert.Equal(t, dir.Plugin, cfg.Listeners[0].Plugin)
}

func TestParseResolvesAgainstFileFolder(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	src := []byte(readTestdata(t, "minimal.hcl"))
	cfg, diags := Parse(src, filepath.Join(dir.Dir, "listeners.hcl"))

	require.Empty(t, diags)
	assert.Equal(t, dir.Dir, cfg.Dir)
	assert.Equal(t, dir.Plugin, cfg.Listeners[0].Plugin)
	assert.Equal(t, filepath.Join(dir.Dir, DefaultSQLitePath), cfg.Drivers[0].Path)
}

func TestParseRelativeFilename(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	cwd, err := os.Getwd()
	require.NoError(t, err)

	cfg, diags := Parse([]byte(`
listener "a" {
  plugin = "`+dir.Plugin+`"
  queue  = "q"
}
`), "listeners.hcl")

	require.Empty(t, diags)
	assert.Equal(t, filepath.Join(cwd, "listeners.hcl"), cfg.File)
	assert.Equal(t, cwd, cfg.Dir)
	assert.Equal(t, "listeners.hcl", cfg.Listeners[0].Range.Filename)
}

func TestLoadDriverSelection(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		drivers     string
		attribute   string
		wantKinds   []string
		wantDriver  string
		wantSQLPath string
	}{
		{
			name:       "only memory",
			drivers:    `driver "memory" {}`,
			wantKinds:  []string{"memory"},
			wantDriver: "memory",
		},
		{
			name:       "only sqs",
			drivers:    `driver "sqs" {}`,
			wantKinds:  []string{"sqs"},
			wantDriver: "sqs",
		},
		{
			name:        "sqlite among several",
			drivers:     "driver \"memory\" {}\ndriver \"sqlite\" {}",
			wantKinds:   []string{"memory", "sqlite"},
			wantDriver:  "sqlite",
			wantSQLPath: DefaultSQLitePath,
		},
		{
			name:        "listener names memory",
			drivers:     "driver \"sqlite\" {}\ndriver \"memory\" {}",
			attribute:   `driver = "memory"`,
			wantKinds:   []string{"sqlite", "memory"},
			wantDriver:  "memory",
			wantSQLPath: DefaultSQLitePath,
		},
		{
			name:        "listener names implicit sqlite",
			attribute:   `driver = "sqlite"`,
			wantKinds:   []string{"sqlite"},
			wantDriver:  "sqlite",
			wantSQLPath: DefaultSQLitePath,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg := dir.mustLoad(t, tt.drivers+`
listener "a" {
  plugin = "bin/example-email"
  queue  = "q"
  `+tt.attribute+`
}
`)

			var kinds []string
			for _, driver := range cfg.Drivers {
				kinds = append(kinds, driver.Kind)
				if driver.Kind == DriverSQLite {
					assert.Equal(t, filepath.Join(dir.Dir, tt.wantSQLPath), driver.Path)
				}
			}
			assert.Equal(t, tt.wantKinds, kinds)
			assert.Equal(t, tt.wantDriver, cfg.Listeners[0].Driver)
		})
	}
}

func TestLoadKeepsSQSBody(t *testing.T) {
	t.Setenv("VEGA_TEST_SQS_KEY", "key-123")
	dir := setup(t)

	cfg := dir.mustLoad(t, `
driver "sqs" {
  region     = "eu-west-1"
  access_key = env("VEGA_TEST_SQS_KEY")
  endpoint {
    url = "http://localhost:4566"
  }
}

listener "a" {
  plugin = "bin/example-email"
  queue  = "q"
}
`)

	require.Len(t, cfg.Drivers, 1)
	driver := cfg.Drivers[0]
	assert.Equal(t, "sqs", driver.Kind)
	assert.Empty(t, driver.Path)
	assert.Empty(t, cfg.Secrets, "the sqs body is not evaluated at load")

	content, diags := driver.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "region", Required: true}, {Name: "access_key"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "endpoint"}},
	})
	require.Empty(t, diags)

	region, diags := content.Attributes["region"].Expr.Value(driver.EvalContext)
	require.Empty(t, diags)
	assert.Equal(t, cty.StringVal("eu-west-1"), region)

	key, diags := content.Attributes["access_key"].Expr.Value(driver.EvalContext)
	require.Empty(t, diags)
	assert.Equal(t, cty.StringVal("key-123"), key)
	assert.Equal(t, []string{"key-123"}, cfg.Secrets, "env() in the sqs body records its value")
}
