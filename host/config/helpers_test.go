package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
)

// testPlugin is the relative path of the executable that setup creates
// next to the config file.
const testPlugin = "bin/example-email"

// configDir is a temporary folder holding a config file and the files it
// refers to.
type configDir struct {
	// Dir is the folder's absolute path.
	Dir string
	// File is the absolute path of listeners.hcl in Dir, not yet written.
	File string
	// Plugin is the absolute path of an executable file.
	Plugin string
}

// setup creates a temporary folder with an executable bin/example-email,
// a non-executable bin/not-executable and an empty folder bin/empty.
func setup(t *testing.T) configDir {
	t.Helper()

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin", "empty"), 0o755))

	plugin := filepath.Join(dir, testPlugin)
	require.NoError(t, os.WriteFile(plugin, []byte("#!/bin/sh\nexit 1\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "not-executable"), []byte("data"), 0o644))

	return configDir{Dir: dir, File: filepath.Join(dir, "listeners.hcl"), Plugin: plugin}
}

// load writes src to listeners.hcl in the folder and loads it.
func (c configDir) load(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()

	require.NoError(t, os.WriteFile(c.File, []byte(src), 0o644))
	return Load(c.File)
}

// mustLoad loads src and fails the test on any diagnostic.
func (c configDir) mustLoad(t *testing.T, src string) *Config {
	t.Helper()

	cfg, diags := c.load(t, src)
	require.Empty(t, diags, "diagnostics:\n%s", FormatDiagnostics(diags, nil))
	require.NotNil(t, cfg)
	return cfg
}

// readTestdata returns the contents of a file under testdata.
func readTestdata(t *testing.T, name string) string {
	t.Helper()

	src, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(src)
}
