package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadResourceLimitsDefaultToNone(t *testing.T) {
	t.Parallel()
	dir := setup(t)

	cfg := dir.mustLoad(t, listenerWith(``))

	assert.Zero(t, cfg.Listeners[0].MemoryLimit)
	assert.Zero(t, cfg.Listeners[0].CPULimit)
}

func TestLoadMemoryLimitForms(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		value string
		want  int64
	}{
		{name: "bytes as number", value: `33554432`, want: 32 << 20},
		{name: "bytes as string", value: `"33554432"`, want: 32 << 20},
		{name: "bytes with unit", value: `"33554432B"`, want: 32 << 20},
		{name: "KiB", value: `"65536KiB"`, want: 64 << 20},
		{name: "MiB", value: `"512MiB"`, want: 512 << 20},
		{name: "GiB", value: `"2GiB"`, want: 2 << 30},
		{name: "TiB", value: `"1TiB"`, want: 1 << 40},
		{name: "fraction", value: `"1.5GiB"`, want: 3 << 29},
		{name: "lower case unit", value: `"64mib"`, want: 64 << 20},
		{name: "space before unit", value: `"64 MiB"`, want: 64 << 20},
		{name: "zero means no limit", value: `0`, want: 0},
		{name: "expression", value: `64 * 1024 * 1024`, want: 64 << 20},
		{name: "null means no limit", value: `null`, want: 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg := dir.mustLoad(t, listenerWith(`memory_limit = `+tt.value))

			assert.Equal(t, tt.want, cfg.Listeners[0].MemoryLimit)
		})
	}
}

func TestLoadCPULimitForms(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "seconds", value: `30`, want: 30 * time.Second},
		{name: "duration string", value: `"2m"`, want: 2 * time.Minute},
		{name: "zero means no limit", value: `0`, want: 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg := dir.mustLoad(t, listenerWith(`cpu_limit = `+tt.value))

			assert.Equal(t, tt.want, cfg.Listeners[0].CPULimit)
		})
	}
}

func TestLoadInvalidResourceLimits(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		value       string
		wantSummary string
		wantDetail  []string
	}{
		{
			name:        "memory below minimum",
			value:       `memory_limit = "16MiB"`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{`at least "32MiB"`, `got "16MiB"`},
		},
		{
			name:        "memory one byte below minimum",
			value:       `memory_limit = 33554431`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"at least", "got 33554431"},
		},
		{
			name:        "memory decimal unit",
			value:       `memory_limit = "512MB"`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"KiB, MiB, GiB and TiB", `got "512MB"`, "Decimal units"},
		},
		{
			name:        "memory unknown text",
			value:       `memory_limit = "lots"`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"whole number of bytes", `got "lots"`},
		},
		{
			name:        "memory negative",
			value:       `memory_limit = -1`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"whole number of bytes", "got -1"},
		},
		{
			name:        "memory fractional bytes",
			value:       `memory_limit = 33554432.5`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"whole number of bytes", "got 33554432.5"},
		},
		{
			name:        "memory bool",
			value:       `memory_limit = true`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"whole number of bytes", "got true"},
		},
		{
			name:        "memory too large",
			value:       `memory_limit = "9000000TiB"`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"too large", "9223372036854775807 bytes"},
		},
		{
			name:        "memory huge number",
			value:       `memory_limit = 1e400`,
			wantSummary: "Invalid memory_limit",
			wantDetail:  []string{"too large", "got 1e+400"},
		},
		{
			name:        "cpu negative",
			value:       `cpu_limit = -5`,
			wantSummary: "Invalid cpu_limit",
			wantDetail:  []string{"zero or more whole seconds", "got -5"},
		},
		{
			name:        "cpu fractional",
			value:       `cpu_limit = "1.5s"`,
			wantSummary: "Invalid cpu_limit",
			wantDetail:  []string{"whole seconds", `got "1.5s"`},
		},
		{
			name:        "cpu not a duration",
			value:       `cpu_limit = "forever"`,
			wantSummary: "Invalid cpu_limit",
			wantDetail:  []string{"Go duration string", `got "forever"`},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			cfg, diags := dir.load(t, listenerWith(tt.value))

			assert.Nil(t, cfg)
			require.Len(t, diags, 1, "diagnostics:\n%s", FormatDiagnostics(diags, nil))
			assert.Equal(t, tt.wantSummary, diags[0].Summary)
			require.NotNil(t, diags[0].Subject)
			assert.Equal(t, 4, diags[0].Subject.Start.Line)
			for _, want := range tt.wantDetail {
				assert.Contains(t, diags[0].Detail, want)
			}
		})
	}
}

// TestLoadMemoryLimitFromEnvHidesValue sets an environment variable, so it
// does not run in parallel.
func TestLoadMemoryLimitFromEnvHidesValue(t *testing.T) {
	t.Setenv("VEGA_TEST_MEMORY", "tiny-s3cret")
	dir := setup(t)

	_, diags := dir.load(t, listenerWith(`memory_limit = env("VEGA_TEST_MEMORY")`))

	require.Len(t, diags, 1)
	assert.Equal(t, "Invalid memory_limit", diags[0].Summary)
	assert.False(t, strings.Contains(diags[0].Detail, "tiny-s3cret"), "the detail does not show a value from env(): %s", diags[0].Detail)
}
