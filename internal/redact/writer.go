package redact

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// maxPendingBytes is how much of an unfinished line a Writer keeps before
// it writes out the part that cannot hold the start of a secret.
const maxPendingBytes = 64 << 10

// Writer is an io.Writer that redacts secrets from the text written to it
// before passing the text on. It passes on whole lines only, so a secret
// that arrives split across two Write calls is still found. A line that
// grows past 64 KiB without a newline is passed on in parts, each cut where
// no secret can straddle it. It is safe for concurrent use.
type Writer struct {
	out io.Writer

	mu       sync.Mutex
	secrets  []string
	patterns []string
	replacer *strings.Replacer
	pending  []byte
}

// NewWriter returns a Writer that writes to w with every secret of at
// least MinSecretLength bytes replaced by Placeholder. Call Flush before
// the program exits, to pass on an unfinished last line.
func NewWriter(w io.Writer, secrets []string) *Writer {
	writer := &Writer{out: w}
	writer.AddSecrets(secrets)
	return writer
}

// AddSecrets adds secrets to those the writer redacts, for values that
// become known after the writer was made, such as those of a reloaded
// config.
func (w *Writer) AddSecrets(secrets []string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.secrets = append(w.secrets, secrets...)
	w.patterns = patternsOf(w.secrets)
	w.replacer = newReplacer(w.patterns)
}

// Secrets returns a copy of the secrets the writer redacts.
func (w *Writer) Secrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.secrets)
}

// Write redacts and passes on every complete line in p, and keeps the rest
// until its line is complete. When the underlying writer fails, Write
// returns its error and drops the text it could not pass on.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.pending = append(w.pending, p...)

	end := bytes.LastIndexByte(w.pending, '\n') + 1
	if end == 0 && len(w.pending) > maxPendingBytes {
		end = w.safeCut(len(w.pending) - w.longestPattern() + 1)
	}
	if end == 0 {
		return len(p), nil
	}

	if err := w.writeRedacted(w.pending[:end]); err != nil {
		w.pending = w.pending[:0]
		return 0, err
	}
	w.pending = append(w.pending[:0], w.pending[end:]...)
	return len(p), nil
}

// Flush redacts and passes on the unfinished line that Write keeps.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()

	if len(w.pending) == 0 {
		return nil
	}
	err := w.writeRedacted(w.pending)
	w.pending = w.pending[:0]
	return err
}

// writeRedacted passes text on with the secrets replaced.
func (w *Writer) writeRedacted(text []byte) error {
	if len(w.patterns) == 0 {
		_, err := w.out.Write(text)
		return err
	}
	_, err := w.replacer.WriteString(w.out, string(text))
	return err
}

// longestPattern returns the length of the longest pattern, or 1 when
// there is none.
func (w *Writer) longestPattern() int {
	if len(w.patterns) == 0 {
		return 1
	}
	// patternsOf sorts the longest first.
	return len(w.patterns[0])
}

// safeCut returns the largest position at or before cut that no
// occurrence of a pattern in w.pending spans, so that the text before it
// can be redacted on its own.
func (w *Writer) safeCut(cut int) int {
	for moved := true; moved && cut > 0; {
		moved = false
		for _, pattern := range w.patterns {
			// An occurrence spans cut when it starts less than
			// len(pattern) bytes before cut.
			from := max(cut-len(pattern)+1, 0)
			to := min(cut+len(pattern)-1, len(w.pending))
			if index := bytes.Index(w.pending[from:to], []byte(pattern)); index >= 0 && from+index < cut {
				cut = from + index
				moved = true
			}
		}
	}
	return cut
}
