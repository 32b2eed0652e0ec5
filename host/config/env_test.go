package config

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file set environment variables, so none runs in
// parallel.

func TestEnvFunctionReturnsValue(t *testing.T) {
	t.Setenv("VEGA_TEST_QUEUE", "emails")
	t.Setenv("VEGA_TEST_EMPTY", "")
	dir := setup(t)

	cfg := dir.mustLoad(t, `
listener "a" {
  plugin            = "bin/example-email"
  queue             = env("VEGA_TEST_QUEUE")
  dead_letter_queue = env("VEGA_TEST_EMPTY", "fallback")
  config = {
    with_default = env("VEGA_TEST_UNSET_A", "from-default")
    empty        = env("VEGA_TEST_EMPTY")
  }
}
`)

	listener := cfg.Listeners[0]
	assert.Equal(t, "emails", listener.Queue)
	assert.Empty(t, listener.DeadLetterQueue, "a variable set to the empty string wins over the default")
	assert.JSONEq(t, `{"with_default": "from-default", "empty": ""}`, string(listener.Config))
	assert.Equal(t, []string{"emails", "from-default"}, cfg.Secrets)
}

func TestEnvFunctionWorksInEveryBlock(t *testing.T) {
	t.Setenv("VEGA_TEST_LEVEL", "warn")
	t.Setenv("VEGA_TEST_DB", "other.db")
	t.Setenv("VEGA_TEST_WORKERS", "8")
	dir := setup(t)

	cfg := dir.mustLoad(t, `
host {
  log_level = env("VEGA_TEST_LEVEL")
}

driver "sqlite" {
  path = env("VEGA_TEST_DB")
}

listener "a" {
  plugin  = "bin/example-email"
  queue   = "q"
  workers = env("VEGA_TEST_WORKERS")
}
`)

	assert.Equal(t, "warn", cfg.Host.LogLevel)
	assert.Equal(t, filepath.Join(dir.Dir, "other.db"), cfg.Drivers[0].Path)
	assert.Equal(t, 8, cfg.Listeners[0].Workers)
	assert.Equal(t, []string{"warn", "other.db", "8"}, cfg.Secrets)
}

func TestEnvFunctionSecretNotShown(t *testing.T) {
	t.Setenv("VEGA_TEST_WORKERS", "hunter2")
	dir := setup(t)

	cfg, diags := dir.load(t, `
listener "a" {
  plugin  = "bin/example-email"
  queue   = "q"
  workers = env("VEGA_TEST_WORKERS")
}
`)

	assert.Nil(t, cfg)
	require.Len(t, diags, 1)
	assert.Equal(t, "Invalid workers", diags[0].Summary)
	assert.NotContains(t, diags[0].Detail, "hunter2")
	assert.Contains(t, diags[0].Detail, "a value from env() (not shown)")
}

func TestEnvListReadsHostEnvironment(t *testing.T) {
	t.Setenv("VEGA_TEST_SMTP_PASSWORD", "s3cret")
	t.Setenv("VEGA_TEST_SMTP_USER", "mailer")
	t.Setenv("VEGA_TEST_EMPTY", "")
	dir := setup(t)

	cfg := dir.mustLoad(t, `
listener "a" {
  plugin = "bin/example-email"
  queue  = "q"
  env    = ["VEGA_TEST_SMTP_PASSWORD", "VEGA_TEST_SMTP_USER", "VEGA_TEST_EMPTY"]
}
`)

	assert.Equal(t, map[string]string{
		"VEGA_TEST_SMTP_PASSWORD": "s3cret",
		"VEGA_TEST_SMTP_USER":     "mailer",
		"VEGA_TEST_EMPTY":         "",
	}, cfg.Listeners[0].Env)
	assert.Equal(t, []string{"s3cret", "mailer"}, cfg.Secrets)
}

func TestEnvListRejectsDuplicates(t *testing.T) {
	t.Setenv("VEGA_TEST_SMTP_USER", "mailer")
	dir := setup(t)

	cfg, diags := dir.load(t, `listener "a" {
  plugin = "bin/example-email"
  queue  = "q"
  env    = ["VEGA_TEST_SMTP_USER", "VEGA_TEST_SMTP_USER"]
}
`)

	assert.Nil(t, cfg)
	require.Len(t, diags, 1)
	assert.Equal(t, "Duplicate env name", diags[0].Summary)
	assert.Equal(t, 4, diags[0].Subject.Start.Line)
	assert.Equal(t, 36, diags[0].Subject.Start.Column, "the subject is the second element")
	assert.Contains(t, diags[0].Detail, `"VEGA_TEST_SMTP_USER"`)
}

func TestSecretsRecordedOnce(t *testing.T) {
	t.Setenv("VEGA_TEST_TOKEN", "token-1")
	dir := setup(t)

	cfg := dir.mustLoad(t, `
listener "a" {
  plugin = "bin/example-email"
  queue  = "q"
  env    = ["VEGA_TEST_TOKEN"]
  config = {
    first  = env("VEGA_TEST_TOKEN")
    second = env("VEGA_TEST_TOKEN")
  }
}
`)

	assert.Equal(t, []string{"token-1"}, cfg.Secrets)
}
