// Package redact hides secret values in text before the text reaches a log
// or a terminal.
//
// A secret is hidden in its raw form and in the escaped forms that loggers
// write: the JSON string encoding (with and without HTML escaping), Go's
// quoted-string encoding, and hclog's text encoding, which escapes double
// quotes but not backslashes. Each line of a secret that spans several
// lines is hidden on its own, because hclog's text format writes such a
// value one line at a time.
package redact

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Placeholder replaces every occurrence of a secret.
const Placeholder = "[redacted]"

// MinSecretLength is the length in bytes of the shortest secret that is
// redacted. Shorter values, such as "on" or "8", occur inside ordinary
// words, numbers and timestamps, so replacing them would garble every log
// line while hiding little, since a value that short is guessed quickly
// anyway.
const MinSecretLength = 4

// String returns s with every occurrence of each secret replaced by
// Placeholder. Secrets shorter than MinSecretLength are left in place.
func String(s string, secrets []string) string {
	patterns := patternsOf(secrets)
	if len(patterns) == 0 {
		return s
	}
	return newReplacer(patterns).Replace(s)
}

// Error returns an error whose message is err's message passed through
// String, and which unwraps to err so that errors.Is and errors.As still
// see the original chain. It returns nil when err is nil.
func Error(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, message: String(err.Error(), secrets)}
}

// redactedError is an error with its message redacted.
type redactedError struct {
	err     error
	message string
}

func (e *redactedError) Error() string { return e.message }

func (e *redactedError) Unwrap() error { return e.err }

// patternsOf returns every form in which a log may show each secret of at
// least MinSecretLength bytes, longest first and without repeats.
func patternsOf(secrets []string) []string {
	var patterns []string
	for _, secret := range secrets {
		if len(secret) < MinSecretLength {
			continue
		}
		patterns = append(patterns, encodings(secret)...)

		for line := range strings.SplitSeq(secret, "\n") {
			line = strings.TrimSuffix(line, "\r")
			if len(line) >= MinSecretLength && line != secret {
				patterns = append(patterns, encodings(line)...)
			}
		}
	}

	// strings.Replacer tries its patterns in argument order at each
	// position, so the longest goes first and wins over a pattern that is
	// a prefix of it.
	slices.SortFunc(patterns, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(patterns)
}

// encodings returns s as it appears raw and inside the quoted strings that
// JSON encoders, strconv.Quote and hclog's text format write.
func encodings(s string) []string {
	forms := []string{s, strings.ReplaceAll(s, `"`, `\"`)}

	quoted := strconv.Quote(s)
	forms = append(forms, quoted[1:len(quoted)-1])

	for _, escapeHTML := range []bool{true, false} {
		var buf bytes.Buffer
		encoder := json.NewEncoder(&buf)
		encoder.SetEscapeHTML(escapeHTML)
		if err := encoder.Encode(s); err == nil {
			// Encode writes the quoted string and a newline.
			encoded := strings.TrimSuffix(buf.String(), "\n")
			forms = append(forms, encoded[1:len(encoded)-1])
		}
	}
	return forms
}

// newReplacer returns a replacer that turns each pattern into Placeholder.
func newReplacer(patterns []string) *strings.Replacer {
	pairs := make([]string, 0, 2*len(patterns))
	for _, pattern := range patterns {
		pairs = append(pairs, pattern, Placeholder)
	}
	return strings.NewReplacer(pairs...)
}
