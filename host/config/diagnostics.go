package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FormatDiagnostics renders diags as plain text in the form compilers use:
// a "file:line:column: error: summary" line, the source line with the
// offending range underlined, and the detail that says what to change.
//
// files maps file names, as they appear in the diagnostics' ranges, to the
// parsed files that provide the source lines. When files is nil, the files
// that the diagnostics name are read from disk, which suits diagnostics
// from Load. A diagnostic whose file is not available is printed without
// its source line.
func FormatDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	if files == nil {
		files = readDiagnosticFiles(diags)
	}

	var out strings.Builder
	for _, diag := range diags {
		writeDiagnostic(&out, diag, files)
	}
	return out.String()
}

// writeDiagnostic writes one diagnostic in the FormatDiagnostics form.
func writeDiagnostic(out *strings.Builder, diag *hcl.Diagnostic, files map[string]*hcl.File) {
	severity := "error"
	if diag.Severity == hcl.DiagWarning {
		severity = "warning"
	}

	if diag.Subject == nil {
		fmt.Fprintf(out, "%s: %s\n", severity, diag.Summary)
	} else {
		start := diag.Subject.Start
		fmt.Fprintf(out, "%s:%d:%d: %s: %s\n", diag.Subject.Filename, start.Line, start.Column, severity, diag.Summary)
		writeSourceLine(out, *diag.Subject, files[diag.Subject.Filename])
	}

	if diag.Detail != "" {
		fmt.Fprintf(out, "  %s\n", diag.Detail)
	}
	out.WriteString("\n")
}

// writeSourceLine writes the first line of subject from file, with carets
// under the columns that subject covers on that line.
func writeSourceLine(out *strings.Builder, subject hcl.Range, file *hcl.File) {
	if file == nil {
		return
	}
	lines := strings.Split(string(file.Bytes), "\n")
	number := subject.Start.Line
	if number < 1 || number > len(lines) {
		return
	}
	line := strings.TrimRight(lines[number-1], "\r")

	width := 1
	if subject.End.Line == subject.Start.Line && subject.End.Column > subject.Start.Column {
		width = subject.End.Column - subject.Start.Column
	}
	gutter := fmt.Sprintf("%5d | ", number)
	fmt.Fprintf(out, "%s%s\n", gutter, line)
	fmt.Fprintf(out, "%s| %s%s\n", strings.Repeat(" ", len(gutter)-2), strings.Repeat(" ", max(subject.Start.Column-1, 0)), strings.Repeat("^", width))
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
