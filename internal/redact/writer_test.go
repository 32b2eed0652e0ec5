package redact_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/redact"
)

func TestWriterRedactsSecretSplitAcrossWrites(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{
			name:   "whole line",
			writes: []string{"password=hunter22\n"},
			want:   "password=[redacted]\n",
		},
		{
			name:   "split inside the secret",
			writes: []string{"password=hun", "ter22\n"},
			want:   "password=[redacted]\n",
		},
		{
			name:   "one byte per write",
			writes: strings.Split("a hunter22 b\n", ""),
			want:   "a [redacted] b\n",
		},
		{
			name:   "several lines in one write",
			writes: []string{"one hunter22\ntwo hunter22\nthree"},
			want:   "one [redacted]\ntwo [redacted]\n",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			writer := redact.NewWriter(&out, []string{"hunter22"})

			for _, write := range tt.writes {
				n, err := writer.Write([]byte(write))
				require.NoError(t, err)
				assert.Equal(t, len(write), n)
			}

			assert.Equal(t, tt.want, out.String())
		})
	}
}

func TestWriterHoldsUnfinishedLineUntilFlush(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	writer := redact.NewWriter(&out, []string{"hunter22"})

	_, err := writer.Write([]byte("last line hunter22"))
	require.NoError(t, err)
	assert.Empty(t, out.String(), "an unfinished line stays in the writer")

	require.NoError(t, writer.Flush())
	assert.Equal(t, "last line [redacted]", out.String())

	require.NoError(t, writer.Flush())
	assert.Equal(t, "last line [redacted]", out.String(), "a second Flush writes nothing")
}

func TestWriterAddSecrets(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	writer := redact.NewWriter(&out, nil)

	_, err := writer.Write([]byte("before new-secret\n"))
	require.NoError(t, err)
	writer.AddSecrets([]string{"new-secret"})
	_, err = writer.Write([]byte("after new-secret\n"))
	require.NoError(t, err)

	assert.Equal(t, "before new-secret\nafter [redacted]\n", out.String())
}

func TestWriterLongLineCutOutsideSecret(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	secret := "0123456789-secret"
	writer := redact.NewWriter(&out, []string{secret})

	// The first write ends inside the secret, past the 64 KiB that the
	// writer keeps of an unfinished line.
	filler := strings.Repeat("x", 70<<10)
	_, err := writer.Write([]byte(filler + secret[:5]))
	require.NoError(t, err)
	assert.NotEmpty(t, out.String(), "most of an overlong line is passed on")
	assert.Less(t, out.Len(), len(filler)+5, "the start of the secret is held back")

	_, err = writer.Write([]byte(secret[5:] + "\n"))
	require.NoError(t, err)

	assert.Equal(t, filler+"[redacted]\n", out.String())
}

func TestWriterConcurrentLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	writer := redact.NewWriter(&out, []string{"hunter22"})

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = writer.Write([]byte("user x password hunter22\n"))
			}
		})
	}
	wg.Wait()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 800)
	for _, line := range lines {
		assert.Equal(t, "user x password [redacted]", line)
	}
}

func TestWriterReturnsOutputError(t *testing.T) {
	t.Parallel()
	failure := errors.New("disk full")
	writer := redact.NewWriter(failingWriter{err: failure}, []string{"hunter22"})

	n, err := writer.Write([]byte("hunter22\n"))

	assert.ErrorIs(t, err, failure)
	assert.Zero(t, n)
}

func TestWriterBehindHclog(t *testing.T) {
	t.Parallel()
	quoted := `s3"cret value`
	multiLine := "first-line\nsecond-line"

	tests := []struct {
		name string
		json bool
		// wantPlaceholders counts the replaced texts. The text format
		// writes each line of a multi-line value on its own line.
		wantPlaceholders int
	}{
		{name: "json", json: true, wantPlaceholders: 3},
		{name: "text", json: false, wantPlaceholders: 4},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			writer := redact.NewWriter(&out, []string{quoted, multiLine})
			logger := hclog.New(&hclog.LoggerOptions{Output: writer, JSONFormat: tt.json})

			logger.Info("connecting", "password", quoted, "note", multiLine)
			logger.Error("failed: " + quoted)

			logs := out.String()
			assert.NotContains(t, logs, "s3", logs)
			assert.NotContains(t, logs, "first-line", logs)
			assert.NotContains(t, logs, "second-line", logs)
			assert.Equal(t, tt.wantPlaceholders, strings.Count(logs, redact.Placeholder), logs)
		})
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
