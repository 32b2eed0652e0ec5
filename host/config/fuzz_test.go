package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzParse checks that Parse neither panics nor returns a config together
// with errors, and that every diagnostic has a position. The seed inputs
// are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, testPlugin), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		f.Fatal(err)
	}
	filename := filepath.Join(dir, "listeners.hcl")

	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(src, filename)

		for _, diag := range diags {
			if diag.Subject == nil {
				t.Errorf("diagnostic %q has no subject", diag.Summary)
			}
		}

		if diags.HasErrors() {
			if cfg != nil {
				t.Errorf("Parse returned a config with %d errors", len(diags.Errs()))
			}
		} else {
			checkValidConfig(t, cfg)
		}

		file, _ := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
		_ = FormatDiagnostics(diags, map[string]*hcl.File{filename: file})
	})
}

// checkValidConfig reports a config that Parse accepted but that breaks a
// documented guarantee.
func checkValidConfig(t *testing.T, cfg *Config) {
	t.Helper()

	if cfg == nil {
		t.Fatal("Parse returned neither a config nor an error")
	}
	if len(cfg.Listeners) == 0 {
		t.Error("Parse accepted a config without listeners")
	}
	if len(cfg.Drivers) == 0 {
		t.Error("Parse accepted a config without drivers")
	}

	for _, listener := range cfg.Listeners {
		var object map[string]any
		if err := json.Unmarshal(listener.Config, &object); err != nil || object == nil {
			t.Errorf("listener %q: config %s is not a JSON object: %v", listener.Name, listener.Config, err)
		}
		if listener.Workers < 1 || listener.Workers > MaxWorkers {
			t.Errorf("listener %q: workers %d out of range", listener.Name, listener.Workers)
		}
		if listener.VisibilityTimeout < MinVisibilityTimeout || listener.VisibilityTimeout > MaxVisibilityTimeout {
			t.Errorf("listener %q: visibility timeout %s out of range", listener.Name, listener.VisibilityTimeout)
		}
		if listener.MaxRetryDelay < listener.RetryDelay {
			t.Errorf("listener %q: max retry delay %s below retry delay %s", listener.Name, listener.MaxRetryDelay, listener.RetryDelay)
		}
	}
}
