package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referencePath is the configuration reference that these tests keep in
// step with the schemas.
const referencePath = "../../docs/configuration.md"

// referenceSections maps each "## " heading of the reference that
// documents a block to the schema of that block. The sqs driver decodes its
// own block body in its package, so its section is not checked here.
var referenceSections = map[string]*hcl.BodySchema{
	"## The host block":      hostSchema,
	"## The sqlite driver":   sqliteSchema,
	"## The memory driver":   memorySchema,
	"## The listener block":  listenerSchema,
	"## The sqs driver":      nil,
	"## Values and env(...)": nil,
}

// referenceRow is one row of a key table: | `key` | type | default | range | description |.
type referenceRow struct {
	key, typ, def, valueRange string
	line                      int
}

var rowPattern = regexp.MustCompile("^\\| `([a-z0-9_]+)` \\|")

// readReference returns the key rows of docs/configuration.md by section
// heading, and the headings in order.
func readReference(t *testing.T) (map[string][]referenceRow, []string) {
	t.Helper()

	file, err := os.Open(filepath.FromSlash(referencePath))
	require.NoError(t, err, "open the configuration reference")
	defer file.Close()

	rows := make(map[string][]referenceRow)
	var headings []string
	section := ""
	scanner := bufio.NewScanner(file)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		if strings.HasPrefix(text, "## ") {
			section = strings.TrimSpace(text)
			headings = append(headings, section)
			continue
		}
		if !rowPattern.MatchString(text) {
			continue
		}

		cells := strings.Split(strings.Trim(text, "|"), "|")
		require.GreaterOrEqual(t, len(cells), 5, "%s:%d: a key row has the columns key, type, default, range and description", referencePath, line)
		rows[section] = append(rows[section], referenceRow{
			key:        rowPattern.FindStringSubmatch(text)[1],
			typ:        strings.TrimSpace(cells[1]),
			def:        strings.TrimSpace(cells[2]),
			valueRange: strings.TrimSpace(cells[3]),
			line:       line,
		})
	}
	require.NoError(t, scanner.Err())
	return rows, headings
}

func TestReferenceDocumentsEverySchema(t *testing.T) {
	rows, headings := readReference(t)

	for heading, schema := range referenceSections {
		assert.Contains(t, headings, heading, "the reference has a section %q", heading)
		if schema == nil {
			continue
		}

		var want, documented []string
		for _, attribute := range schema.Attributes {
			want = append(want, attribute.Name)
		}
		for _, row := range rows[heading] {
			documented = append(documented, row.key)
		}

		for _, name := range want {
			assert.Contains(t, documented, name, "%s documents the key %q of the schema", heading, name)
		}
		for _, row := range rows[heading] {
			assert.Contains(t, want, row.key, "%s:%d: %s documents %q, which the schema does not have", referencePath, row.line, heading, row.key)
		}
		assert.Len(t, documented, len(slices.Compact(slices.Sorted(slices.Values(documented)))), "%s documents each key once", heading)
	}
}

func TestReferenceKeyTablesAreInKnownSections(t *testing.T) {
	rows, _ := readReference(t)

	for heading, sectionRows := range rows {
		if _, known := referenceSections[heading]; known {
			continue
		}
		for _, row := range sectionRows {
			t.Errorf("%s:%d: the key %q is in section %q, which documents no block; move it to its block's section", referencePath, row.line, row.key, heading)
		}
	}
}

func TestReferenceNamesEveryBlockAndDriver(t *testing.T) {
	_, headings := readReference(t)
	text := strings.Join(headings, "\n")

	for _, block := range fileSchema.Blocks {
		if block.Type == "driver" {
			// Each driver kind has its own section, checked below.
			continue
		}
		assert.Contains(t, text, "The "+block.Type+" block", "a section documents the %s block", block.Type)
	}
	for _, kind := range driverKinds {
		assert.Contains(t, text, "The "+kind+" driver", "a section documents the %s driver", kind)
	}
}

func TestReferenceDefaultsAndRanges(t *testing.T) {
	rows, _ := readReference(t)

	seconds := func(d interface{ Seconds() float64 }) string {
		return "`" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "`"
	}
	quoted := func(s string) string { return "`" + strconv.Quote(s) + "`" }
	number := func(n int) string { return "`" + strconv.Itoa(n) + "`" }
	boolean := func(b bool) string { return "`" + strconv.FormatBool(b) + "`" }
	between := func(min, max int) string { return fmt.Sprintf("%d to %d", min, max) }

	tests := []struct {
		section, key, wantDefault, wantRange string
	}{
		{"## The host block", "log_level", quoted(DefaultLogLevel), ""},
		{"## The host block", "log_format", quoted(DefaultLogFormat), ""},
		{"## The host block", "shutdown_timeout", seconds(DefaultShutdownTimeout), ""},
		{"## The sqlite driver", "path", quoted(DefaultSQLitePath), ""},
		{"## The listener block", "workers", number(DefaultWorkers), between(1, MaxWorkers)},
		{"## The listener block", "auto_ack", boolean(DefaultAutoAck), ""},
		{"## The listener block", "visibility_timeout", seconds(DefaultVisibilityTimeout),
			between(int(MinVisibilityTimeout.Seconds()), int(MaxVisibilityTimeout.Seconds()))},
		{"## The listener block", "max_messages", number(DefaultMaxMessages), between(1, MaxMaxMessages)},
		{"## The listener block", "retry_on_error", boolean(DefaultRetryOnError), ""},
		{"## The listener block", "max_retries", number(DefaultMaxRetries), between(0, MaxMaxRetries)},
		{"## The listener block", "retry_delay", seconds(DefaultRetryDelay), ""},
		{"## The listener block", "max_retry_delay", seconds(DefaultMaxRetryDelay), ""},
		{"## The listener block", "crash_limit", number(DefaultCrashLimit), between(1, MaxCrashLimit)},
		{"## The listener block", "restart_limit", number(DefaultRestartLimit), between(1, MaxRestartLimit)},
	}

	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			index := slices.IndexFunc(rows[tt.section], func(row referenceRow) bool { return row.key == tt.key })
			require.GreaterOrEqual(t, index, 0, "%s documents %q", tt.section, tt.key)
			row := rows[tt.section][index]

			assert.Equal(t, tt.wantDefault, row.def, "%s:%d: default of %s", referencePath, row.line, tt.key)
			if tt.wantRange != "" {
				assert.Contains(t, row.valueRange, tt.wantRange, "%s:%d: range of %s", referencePath, row.line, tt.key)
			}
		})
	}
}

// hclBlockPattern matches a fenced hcl code block of the docs.
var hclBlockPattern = regexp.MustCompile("(?s)```hcl\n(.*?)```")

func TestDocsExamplesLoad(t *testing.T) {
	t.Setenv("SMTP_PASSWORD", "example")
	pages, err := filepath.Glob(filepath.FromSlash("../../docs/*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "the docs folder has pages")

	checked := 0
	for _, page := range pages {
		src, err := os.ReadFile(page)
		require.NoError(t, err)

		for i, match := range hclBlockPattern.FindAllSubmatch(src, -1) {
			example := match[1]
			// Snippets that elide parts with "..." or have no listener
			// block are fragments, not files.
			if bytes.Contains(example, []byte("...")) || !bytes.Contains(example, []byte("listener \"")) {
				continue
			}

			name := fmt.Sprintf("%s example %d", filepath.Base(page), i+1)
			_, diags := ParseWithOptions(example, filepath.Join(t.TempDir(), "listeners.hcl"), Options{SkipPluginCheck: true})
			assert.False(t, diags.HasErrors(), "%s loads:\n%s\n%s", name, FormatDiagnostics(diags, nil), example)
			checked++
		}
	}
	assert.Positive(t, checked, "some examples were checked")
}
