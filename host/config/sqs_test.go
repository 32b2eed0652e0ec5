package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSQSListenerMaxMessages(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		driver      string
		maxMessages string
		wantError   bool
	}{
		{"sqs at the limit", "sqs", "10", false},
		{"sqs above the limit", "sqs", "11", true},
		{"sqlite above the sqs limit", "sqlite", "11", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := setup(t)

			src := "driver \"" + tt.driver + "\" {\n}\n\n" + listenerWith("max_messages = "+tt.maxMessages)
			_, diags := dir.load(t, src)

			if !tt.wantError {
				assert.False(t, diags.HasErrors(), "diagnostics:\n%s", FormatDiagnostics(diags, nil))
				return
			}

			require.Len(t, diags, 1, "diagnostics:\n%s", FormatDiagnostics(diags, nil))
			diag := diags[0]
			assert.Equal(t, "Invalid max_messages", diag.Summary)
			assert.Contains(t, diag.Detail, "at most 10 for a listener on the sqs driver")
			assert.Contains(t, diag.Detail, "got 11")
			require.NotNil(t, diag.Subject)
			assert.Equal(t, 7, diag.Subject.Start.Line, "the diagnostic should point at the max_messages value")
			assert.Equal(t, 18, diag.Subject.Start.Column, "the diagnostic should point at the max_messages value")
		})
	}
}
