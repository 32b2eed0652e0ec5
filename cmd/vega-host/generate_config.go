package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// vegaHostModule is the module that generated listeners import.
const vegaHostModule = "github.com/vega-host/vega-host"

// goModule is the Go module that generate writes into.
type goModule struct {
	// root is the folder of go.mod.
	root string
	// file is the path of go.mod.
	file string
	// path is the module path.
	path string
	// requires lists the paths of the modules that go.mod requires.
	requires []string
}

// findModule reads the go.mod in dir or in the nearest folder above it.
func findModule(dir string) (goModule, error) {
	for current := dir; ; {
		file := filepath.Join(current, "go.mod")
		data, err := os.ReadFile(file)
		if err == nil {
			return parseModule(file, data)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return goModule{}, fmt.Errorf("read %s: %w", file, err)
		}

		parent := filepath.Dir(current)
		if parent == current {
			return goModule{}, fmt.Errorf("no go.mod in %s or any folder above it; run generate inside a Go module, or create one with: go mod init MODULE_PATH", dir)
		}
		current = parent
	}
}

// parseModule reads the module path and the required module paths from
// the go.mod file's data. It reads only the module and require directives,
// in their one-line and block forms, and ignores comments.
//
// NOTE: golang.org/x/mod/modfile parses go.mod fully, but this module
// requires it only indirectly, so this small parser reads the two
// directives generate needs instead.
func parseModule(file string, data []byte) (goModule, error) {
	module := goModule{root: filepath.Dir(file), file: file}

	inRequireBlock := false
	for line := range strings.Lines(string(data)) {
		if comment := strings.Index(line, "//"); comment >= 0 {
			line = line[:comment]
		}
		fields := strings.Fields(line)

		switch {
		case len(fields) == 0:
		case inRequireBlock && fields[0] == ")":
			inRequireBlock = false
		case inRequireBlock:
			module.requires = append(module.requires, unquoteModulePath(fields[0]))
		case fields[0] == "module" && len(fields) >= 2:
			module.path = unquoteModulePath(fields[1])
		case fields[0] == "require" && len(fields) >= 2 && fields[1] == "(":
			inRequireBlock = true
		case fields[0] == "require" && len(fields) >= 2:
			module.requires = append(module.requires, unquoteModulePath(fields[1]))
		}
	}

	if module.path == "" {
		return goModule{}, fmt.Errorf("%s has no module line; add one such as: module example.com/listeners", file)
	}
	return module, nil
}

// unquoteModulePath returns a module path without the quotes that go.mod
// allows around it.
func unquoteModulePath(path string) string {
	if unquoted, err := strconv.Unquote(path); err == nil {
		return unquoted
	}
	return path
}

// requiresVegaHost reports whether packages of the module can import the
// SDK: the module is Vega Host itself or requires it.
func (m goModule) requiresVegaHost() bool {
	if m.path == vegaHostModule {
		return true
	}
	for _, path := range m.requires {
		if path == vegaHostModule {
			return true
		}
	}
	return false
}

// checkListenerAbsent returns an error when the config file at path
// cannot take a new listener block named name: its folder is missing, it
// defines such a block already, or it does not parse. A missing file is
// fine, because appendBlock creates it.
func checkListenerAbsent(path, name string) error {
	folder := filepath.Dir(path)
	if info, err := os.Stat(folder); err != nil || !info.IsDir() {
		return fmt.Errorf("folder %s of config file %s does not exist; create it or pass another -config", folder, filepath.Base(path))
	}

	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read config file %s: %w", path, err)
	}

	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("config file %s does not parse, so the listener block was not added: %w; fix the file, or run without -config and add the block by hand", path, diags.Errs()[0])
	}

	for _, block := range file.Body.(*hclsyntax.Body).Blocks {
		if block.Type == "listener" && len(block.Labels) > 0 && block.Labels[0] == name {
			return fmt.Errorf("%s:%d: a listener %q block exists already; pick another name or edit that block", path, block.DefRange().Start.Line, name)
		}
	}
	return nil
}

// appendBlock appends block to the config file at path, after a blank
// line, and creates the file when it is missing.
func appendBlock(path string, block []byte) error {
	existing, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read config file %s: %w", path, err)
	}

	var addition bytes.Buffer
	if len(existing) > 0 {
		if !bytes.HasSuffix(existing, []byte("\n")) {
			addition.WriteString("\n")
		}
		addition.WriteString("\n")
	}
	addition.Write(block)

	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open config file %s: %w", path, err)
	}
	if _, err := file.Write(addition.Bytes()); err != nil {
		_ = file.Close()
		return fmt.Errorf("append the listener block to %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("append the listener block to %s: %w", path, err)
	}
	return nil
}
