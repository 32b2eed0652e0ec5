package config

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const invalidWorkers = `listener "send-email" {
  plugin  = "bin/example-email"
  queue   = "emails"
  workers = 0
}
`

func TestFormatDiagnosticsReadsFiles(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	_, diags := dir.load(t, invalidWorkers)
	require.Len(t, diags, 1)

	text := FormatDiagnostics(diags, nil)

	assert.Contains(t, text, dir.File+":4:13: error: Invalid workers\n")
	assert.Contains(t, text, "    4 |   workers = 0\n")
	assert.Contains(t, text, "      |             ^\n", "a caret marks the value")
	assert.Contains(t, text, "workers must be a whole number between 1 and 1000, got 0.")
	assert.NotContains(t, text, "\x1b[", "the text has no color codes")
}

func TestFormatDiagnosticsUsesGivenFiles(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	src := []byte(invalidWorkers)
	_, diags := Parse(src, dir.File)
	require.Len(t, diags, 1)
	file, parseDiags := hclsyntax.ParseConfig(src, dir.File, hcl.InitialPos)
	require.Empty(t, parseDiags)

	text := FormatDiagnostics(diags, map[string]*hcl.File{dir.File: file})

	assert.Contains(t, text, "    4 |   workers = 0")
}

func TestFormatDiagnosticsWithoutSource(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	_, diags := Parse([]byte(invalidWorkers), dir.File)
	require.Len(t, diags, 1)

	text := FormatDiagnostics(diags, nil)

	assert.Contains(t, text, dir.File+":4:13: error: Invalid workers\n")
	assert.NotContains(t, text, " | ", "no source line when the file cannot be read")
}

func TestDiagnosticErrorGivesPosition(t *testing.T) {
	t.Parallel()
	dir := setup(t)
	_, diags := Parse([]byte(invalidWorkers), dir.File)
	require.Len(t, diags, 1)

	assert.Equal(t,
		dir.File+":4,13-14: Invalid workers; workers must be a whole number between 1 and 1000, got 0.",
		diags[0].Error())
}
