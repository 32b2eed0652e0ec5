package redact_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vega-host/vega-host/internal/redact"
)

func TestStringRedactsSecrets(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		input   string
		secrets []string
		want    string
	}{
		{
			name:    "every occurrence",
			input:   "token=s3cret-token, again s3cret-token",
			secrets: []string{"s3cret-token"},
			want:    "token=[redacted], again [redacted]",
		},
		{
			name:    "several secrets",
			input:   "user mailer password hunter22",
			secrets: []string{"mailer", "hunter22"},
			want:    "user [redacted] password [redacted]",
		},
		{
			name:    "longer secret wins over its prefix",
			input:   "key abcd-efgh",
			secrets: []string{"abcd", "abcd-efgh"},
			want:    "key [redacted]",
		},
		{
			name:    "short secret kept",
			input:   "workers=8 level=on",
			secrets: []string{"8", "on", "abc"},
			want:    "workers=8 level=on",
		},
		{
			name:    "four bytes redacted",
			input:   "pin 4711",
			secrets: []string{"4711"},
			want:    "pin [redacted]",
		},
		{
			name:    "no secrets",
			input:   "plain text",
			secrets: nil,
			want:    "plain text",
		},
		{
			name:    "empty secret ignored",
			input:   "plain text",
			secrets: []string{""},
			want:    "plain text",
		},
		{
			name:    "json escaped quote",
			input:   `{"password":"pa\"ss"}`,
			secrets: []string{`pa"ss`},
			want:    `{"password":"[redacted]"}`,
		},
		{
			name:    "json escaped html",
			input:   `{"password":"a\u003cb\u003e"}`,
			secrets: []string{"a<b>"},
			want:    `{"password":"[redacted]"}`,
		},
		{
			name:    "go quoted backslash",
			input:   `password="back\\slash"`,
			secrets: []string{`back\slash`},
			want:    `password="[redacted]"`,
		},
		{
			name:    "hclog text escaped quote",
			input:   `password="back\sl\"ash"`,
			secrets: []string{`back\sl"ash`},
			want:    `password="[redacted]"`,
		},
		{
			name:    "escaped newline",
			input:   `{"key":"line one\nline two"}`,
			secrets: []string{"line one\nline two"},
			want:    `{"key":"[redacted]"}`,
		},
		{
			name:    "each line of a multi-line secret",
			input:   "key=\n  | line one\n  | line two\n",
			secrets: []string{"line one\nline two"},
			want:    "key=\n  | [redacted]\n  | [redacted]\n",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			assert.Equal(t, tt.want, redact.String(tt.input, tt.secrets))
		})
	}
}

func TestErrorRedactsMessageKeepsChain(t *testing.T) {
	t.Parallel()
	cause := &fs.PathError{Op: "open", Path: "/run/s3cret-path", Err: fs.ErrNotExist}

	err := redact.Error(cause, []string{"s3cret-path"})

	assert.Equal(t, "open /run/[redacted]: file does not exist", err.Error())
	assert.ErrorIs(t, err, fs.ErrNotExist, "errors.Is sees the wrapped chain")
	var pathErr *fs.PathError
	assert.True(t, errors.As(err, &pathErr), "errors.As finds the original error")
}

func TestErrorNil(t *testing.T) {
	t.Parallel()

	assert.NoError(t, redact.Error(nil, []string{"s3cret"}))
}
