package main

import (
	"fmt"
	"go/token"
	"strings"
	"unicode"
)

// maxListenerNameLength bounds a listener name. The default queue is named
// after the listener, and with the "-dlq" suffix of its dead-letter queue
// it must stay within the 80 characters that Amazon SQS allows for a
// queue name.
const maxListenerNameLength = 64

// reservedFolderNames are folder names that the go command treats
// specially, so a plugin package in such a folder would be skipped by
// patterns such as ./... and scripts/build-plugins.sh would miss it.
var reservedFolderNames = map[string]string{
	"testdata": "the go command ignores testdata folders",
	"vendor":   "the go command treats vendor folders as vendored dependencies",
}

// listenerName is a listener name in the forms that generate needs.
type listenerName struct {
	// Kebab is the listener, folder and binary name, such as "send-email".
	Kebab string
	// TypeName is the exported Go type name, such as "SendEmail".
	TypeName string
}

// parseListenerName checks raw and derives the kebab-case and Go type
// forms from it. raw may be CamelCase ("SendEmail"), kebab-case
// ("send-email") or snake_case ("send_email"). The error explains why raw
// cannot name a listener.
func parseListenerName(raw string) (listenerName, error) {
	if err := checkListenerName(raw); err != nil {
		return listenerName{}, fmt.Errorf("invalid listener name %q: %w", raw, err)
	}

	words := splitWords(raw)
	lower := make([]string, len(words))
	var typeName strings.Builder
	for i, word := range words {
		lower[i] = strings.ToLower(word)
		typeName.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	name := listenerName{Kebab: strings.Join(lower, "-"), TypeName: typeName.String()}

	if token.IsKeyword(name.Kebab) {
		return listenerName{}, fmt.Errorf("invalid listener name %q: %q is a Go keyword; pick a name that says what the listener does, such as \"send-email\"", raw, name.Kebab)
	}
	if reason, ok := reservedFolderNames[name.Kebab]; ok {
		return listenerName{}, fmt.Errorf("invalid listener name %q: %s, so the plugin would not be built", raw, reason)
	}
	return name, nil
}

// checkListenerName returns why raw cannot be a listener name, or nil.
func checkListenerName(raw string) error {
	if raw == "" {
		return fmt.Errorf("the name is empty")
	}
	if length := len([]rune(raw)); length > maxListenerNameLength {
		return fmt.Errorf("the name is %d characters long, but at most %d fit, so that the queue and dead-letter queue named after it stay within Amazon SQS's 80 characters",
			length, maxListenerNameLength)
	}

	for _, r := range raw {
		if err := checkNameRune(r); err != nil {
			return err
		}
	}

	first, last := rune(raw[0]), rune(raw[len(raw)-1])
	switch {
	case unicode.IsDigit(first):
		return fmt.Errorf("it starts with a digit, but a Go type name must start with a letter")
	case !isASCIILetter(first):
		return fmt.Errorf("it starts with %q, but it must start with a letter", first)
	case isSeparator(last):
		return fmt.Errorf("it ends with %q; end it with a letter or digit", last)
	case strings.Contains(raw, "--") || strings.Contains(raw, "__") || strings.Contains(raw, "-_") || strings.Contains(raw, "_-"):
		return fmt.Errorf("it has two separators in a row; separate words with one '-' or '_'")
	}
	return nil
}

// checkNameRune returns why r cannot be part of a listener name, or nil.
// Names are ASCII, because they become Go identifiers, file names and HCL
// labels.
func checkNameRune(r rune) error {
	switch {
	case isASCIILetter(r) || ('0' <= r && r <= '9') || isSeparator(r):
		return nil
	case unicode.IsSpace(r):
		return fmt.Errorf("it contains a space; separate words with '-', as in \"send-email\"")
	case r == '/' || r == '\\':
		return fmt.Errorf("it contains a slash, but it names one folder; choose the parent folder with -dir")
	case r == '.':
		return fmt.Errorf("it contains a dot, which a Go type name cannot contain")
	}
	return fmt.Errorf("it contains %q; use only ASCII letters, digits, '-' and '_'", r)
}

// splitWords splits a checked name at '-' and '_' and where a lower-case
// letter or digit meets an upper-case one. A run of capitals is one word
// ("SendSMS" is "Send", "SMS"), and its last capital starts the next word
// when a lower-case letter follows ("HTTPServer" is "HTTP", "Server").
func splitWords(name string) []string {
	var words []string
	start := 0
	for i := 1; i <= len(name); i++ {
		if i == len(name) || isSeparator(rune(name[i])) {
			words = append(words, name[start:i])
			start = i + 1
			i++
			continue
		}
		if i > start && startsWord(name, i) {
			words = append(words, name[start:i])
			start = i
		}
	}
	return words
}

// startsWord reports whether the upper-case letter at name[i] begins a new
// word inside a CamelCase run.
func startsWord(name string, i int) bool {
	current, previous := rune(name[i]), rune(name[i-1])
	if !unicode.IsUpper(current) {
		return false
	}
	if unicode.IsLower(previous) || unicode.IsDigit(previous) {
		return true
	}
	nextIsLower := i+1 < len(name) && unicode.IsLower(rune(name[i+1]))
	return unicode.IsUpper(previous) && nextIsLower
}

func isSeparator(r rune) bool {
	return r == '-' || r == '_'
}

func isASCIILetter(r rune) bool {
	return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}
