package config

import (
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FormatDiagnostics renders diags as plain text, without color, in the form
// hcl.NewDiagnosticTextWriter uses: an "Error: summary" line, the file and
// line with a source snippet, and the detail.
//
// files maps file names, as they appear in the diagnostics' ranges, to the
// parsed files that provide the snippets. When files is nil, the files that
// the diagnostics name are read from disk, which suits diagnostics from
// Load. A diagnostic whose file is not available is printed without a
// snippet.
//
// Each diagnostic's Error method gives a one-line form instead, such as
// "listeners.hcl:12,13-14: Invalid workers; workers must be ...".
func FormatDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	if files == nil {
		files = readDiagnosticFiles(diags)
	}

	var out strings.Builder
	writer := hcl.NewDiagnosticTextWriter(&out, files, 0, false)
	for _, diag := range diags {
		// WriteDiagnostic fails only on a nil diagnostic or a failed write,
		// and strings.Builder.Write always returns a nil error.
		_ = writer.WriteDiagnostic(diag)
	}
	return out.String()
}

// readDiagnosticFiles parses each file that diags name, skipping files
// that cannot be read.
func readDiagnosticFiles(diags hcl.Diagnostics) map[string]*hcl.File {
	files := make(map[string]*hcl.File)
	for _, diag := range diags {
		if diag.Subject == nil {
			continue
		}

		name := diag.Subject.Filename
		if _, done := files[name]; done {
			continue
		}

		src, err := os.ReadFile(name)
		if err != nil {
			files[name] = nil
			continue
		}

		// The file is parsed only to give the snippets their context, so
		// its syntax errors are already among diags or do not matter.
		file, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		files[name] = file
	}
	return files
}
