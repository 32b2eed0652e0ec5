package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fileSchema lists the blocks allowed at the top level of listeners.hcl.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "host"},
		{Type: "driver", LabelNames: []string{"kind"}},
		{Type: "listener", LabelNames: []string{"name"}},
	},
}

// Load reads, parses and validates the configuration file at path.
//
// It returns a nil Config and every problem found when the file is invalid.
// Each diagnostic has a Subject naming the file, line and column, and
// diagnostics are sorted by position. Pass them to FormatDiagnostics to
// print them with source snippets.
func Load(path string) (*Config, hcl.Diagnostics) {
	return LoadWithOptions(path, Options{})
}

// Options changes what Load and Parse check.
type Options struct {
	// SkipPluginCheck accepts plugin paths whose binary is missing or not
	// executable, for commands that never start plugins, such as list and
	// send.
	SkipPluginCheck bool
}

// LoadWithOptions is Load with options.
func LoadWithOptions(path string, options Options) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   fmt.Sprintf("Reading %q failed: %v. Pass the path of an existing listeners.hcl.", path, err),
			Subject:  startOfFile(path).Ptr(),
		}}
	}

	return ParseWithOptions(src, path, options)
}

// Parse parses and validates src as the contents of the file filename.
//
// The file need not exist: filename names the file in diagnostics, and its
// folder is the one that relative plugin and sqlite paths resolve against.
// Parse still checks that the plugin binaries exist, and it reads the
// process environment for env() and env lists.
func Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	return ParseWithOptions(src, filename, Options{})
}

// ParseWithOptions is Parse with options.
func ParseWithOptions(src []byte, filename string, options Options) (*Config, hcl.Diagnostics) {
	abs, err := filepath.Abs(filename)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid configuration file path",
			Detail:   fmt.Sprintf("Resolving %q to an absolute path failed: %v.", filename, err),
			Subject:  startOfFile(filename).Ptr(),
		}}
	}

	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		// The syntax tree of a file with syntax errors is incomplete, so
		// checking it further would report problems that do not exist.
		sortDiagnostics(diags)
		return nil, diags
	}

	d := newDecoder(&Config{File: abs, Dir: filepath.Dir(abs)}, options)
	d.diags = diags
	d.decodeFile(file.Body.(*hclsyntax.Body))

	sortDiagnostics(d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}

	return d.cfg, d.diags
}

// decodeFile fills d.cfg from the top-level body, collecting every problem
// in d.diags.
func (d *decoder) decodeFile(body *hclsyntax.Body) {
	content, diags := body.Content(fileSchema)
	d.diags = append(d.diags, diags...)

	var hostBlocks, driverBlocks, listenerBlocks []*hcl.Block
	for _, block := range content.Blocks {
		switch block.Type {
		case "host":
			hostBlocks = append(hostBlocks, block)
		case "driver":
			driverBlocks = append(driverBlocks, block)
		case "listener":
			listenerBlocks = append(listenerBlocks, block)
		}
	}

	d.decodeHostBlocks(hostBlocks)
	d.decodeDrivers(driverBlocks)

	// A listener block with a missing label is reported by Content and left
	// out of content.Blocks, so look at the syntax tree to tell it apart
	// from a file without listener blocks.
	if !hasBlockOfType(body, "listener") {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No listener block",
			Detail:   `The file defines no listener block. Add at least one listener "NAME" block that sets plugin and queue.`,
			Subject:  body.MissingItemRange().Ptr(),
		})
	}
	d.decodeListeners(listenerBlocks)
}

// hasBlockOfType reports whether body contains a block of the given type,
// whatever its labels.
func hasBlockOfType(body *hclsyntax.Body, blockType string) bool {
	for _, block := range body.Blocks {
		if block.Type == blockType {
			return true
		}
	}
	return false
}

// startOfFile returns an empty range at the first character of filename,
// for problems that concern the whole file.
func startOfFile(filename string) hcl.Range {
	return hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos}
}

// sortDiagnostics orders diags by file and position, because hcl collects
// some of them by iterating over maps.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		if a == nil || b == nil {
			return a != nil
		}
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
