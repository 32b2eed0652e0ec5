package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var buildDate = time.Date(2026, 12, 4, 21, 30, 0, 0, time.FixedZone("CET", 3600))

func mustAddress(t *testing.T, raw string) *mail.Address {
	t.Helper()

	address, err := parseAddress(raw)
	require.NoError(t, err, "parse address %q", raw)
	return address
}

// part is one decoded body part of a built mail.
type part struct {
	mediaType string
	charset   string
	encoding  string
	content   string
}

// readParts parses a built mail and returns its header and decoded parts.
func readParts(t *testing.T, raw []byte) (mail.Header, []part) {
	t.Helper()

	message, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err, "parse built mail:\n%s", raw)

	mediaType, params, err := mime.ParseMediaType(message.Header.Get("Content-Type"))
	require.NoError(t, err, "parse Content-Type %q", message.Header.Get("Content-Type"))

	if !strings.HasPrefix(mediaType, "multipart/") {
		content := decodeQuotedPrintable(t, message.Header.Get("Content-Transfer-Encoding"), message.Body)
		return message.Header, []part{{
			mediaType: mediaType,
			charset:   params["charset"],
			encoding:  message.Header.Get("Content-Transfer-Encoding"),
			content:   content,
		}}
	}

	require.Equal(t, "multipart/alternative", mediaType, "top-level media type")
	var parts []part
	reader := multipart.NewReader(message.Body, params["boundary"])
	for {
		next, err := reader.NextRawPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "read part %d", len(parts))

		partType, partParams, err := mime.ParseMediaType(next.Header.Get("Content-Type"))
		require.NoError(t, err, "parse Content-Type of part %d", len(parts))
		encoding := next.Header.Get("Content-Transfer-Encoding")
		parts = append(parts, part{
			mediaType: partType,
			charset:   partParams["charset"],
			encoding:  encoding,
			content:   decodeQuotedPrintable(t, encoding, next),
		})
	}
	return message.Header, parts
}

func decodeQuotedPrintable(t *testing.T, encoding string, body io.Reader) string {
	t.Helper()

	require.Equal(t, "quoted-printable", encoding, "Content-Transfer-Encoding")
	decoded, err := io.ReadAll(quotedprintable.NewReader(body))
	require.NoError(t, err, "decode quoted-printable body")
	return string(decoded)
}

func TestBuildMessageParts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		text     string
		html     string
		expected []part
	}{
		{
			name:     "text only",
			text:     "Hello",
			expected: []part{{mediaType: "text/plain", charset: "utf-8", encoding: "quoted-printable", content: "Hello"}},
		},
		{
			name:     "html only",
			html:     "<p>Hello</p>",
			expected: []part{{mediaType: "text/html", charset: "utf-8", encoding: "quoted-printable", content: "<p>Hello</p>"}},
		},
		{
			name: "text and html",
			text: "Hello",
			html: "<p>Hello</p>",
			expected: []part{
				{mediaType: "text/plain", charset: "utf-8", encoding: "quoted-printable", content: "Hello"},
				{mediaType: "text/html", charset: "utf-8", encoding: "quoted-printable", content: "<p>Hello</p>"},
			},
		},
		{
			name: "content that needs encoding",
			// Non-ASCII, "=", a line of 200 characters, a line with only a
			// dot and trailing spaces. Quoted-printable turns each LF into
			// CRLF.
			text: "Grüße = 1\n" + strings.Repeat("x", 200) + "\n.\nend  ",
			html: `<p style="color: red">€</p>`,
			expected: []part{
				{mediaType: "text/plain", charset: "utf-8", encoding: "quoted-printable", content: "Grüße = 1\r\n" + strings.Repeat("x", 200) + "\r\n.\r\nend  "},
				{mediaType: "text/html", charset: "utf-8", encoding: "quoted-printable", content: `<p style="color: red">€</p>`},
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			email := outgoingEmail{
				to:      []*mail.Address{mustAddress(t, "a@example.com")},
				subject: "Hi",
				text:    test.text,
				html:    test.html,
			}
			raw, err := buildMessage(mustAddress(t, "noreply@example.com"), email, buildDate, "<id-1@example.com>")
			require.NoError(t, err, "build mail")

			_, parts := readParts(t, raw)
			assert.Equal(t, test.expected, parts, "decoded parts")
			assertWellFormedLines(t, raw)
		})
	}
}

func TestBuildMessageHeaders(t *testing.T) {
	t.Parallel()

	email := outgoingEmail{
		to: []*mail.Address{
			mustAddress(t, "a@example.com"),
			mustAddress(t, "Bö Person <b@example.org>"),
		},
		subject: "Grüße aus Köln",
		text:    "Hello",
	}
	raw, err := buildMessage(mustAddress(t, "Vega Host <noreply@example.com>"), email, buildDate, "<id-1@example.com>")
	require.NoError(t, err, "build mail")

	header, _ := readParts(t, raw)

	from, err := header.AddressList("From")
	require.NoError(t, err, "parse From")
	assert.Equal(t, []*mail.Address{{Name: "Vega Host", Address: "noreply@example.com"}}, from, "From")

	to, err := header.AddressList("To")
	require.NoError(t, err, "parse To")
	assert.Equal(t, []*mail.Address{
		{Address: "a@example.com"},
		{Name: "Bö Person", Address: "b@example.org"},
	}, to, "To")

	rawSubject := header.Get("Subject")
	assert.True(t, strings.HasPrefix(rawSubject, "=?utf-8?q?"), "non-ASCII Subject is RFC 2047 Q-encoded: %q", rawSubject)
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	require.NoError(t, err, "decode Subject %q", rawSubject)
	assert.Equal(t, "Grüße aus Köln", subject, "decoded Subject")

	date, err := header.Date()
	require.NoError(t, err, "parse Date %q", header.Get("Date"))
	assert.True(t, date.Equal(buildDate), "Date is %s, expected %s", date, buildDate)

	assert.Equal(t, "<id-1@example.com>", header.Get("Message-ID"), "Message-ID")
	assert.Equal(t, "1.0", header.Get("MIME-Version"), "MIME-Version")
	assert.Empty(t, header.Get("Bcc"), "Bcc header")
}

func TestBuildMessageASCIISubjectStaysPlain(t *testing.T) {
	t.Parallel()

	email := outgoingEmail{to: []*mail.Address{mustAddress(t, "a@example.com")}, subject: "Your order #42", text: "x"}
	raw, err := buildMessage(mustAddress(t, "noreply@example.com"), email, buildDate, "<id-1@example.com>")
	require.NoError(t, err, "build mail")

	assert.Contains(t, string(raw), "\r\nSubject: Your order #42\r\n", "ASCII subject is written as it is")
}

func TestBuildMessageFoldsLongHeaders(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		subject string
	}{
		{name: "long ASCII subject", subject: strings.TrimSpace(strings.Repeat("word ", 300))},
		{name: "long non-ASCII subject", subject: strings.TrimSpace(strings.Repeat("Größe ", 300))},
		{name: "double spaces", subject: strings.Repeat("a  b ", 40) + "end"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			var to []*mail.Address
			for range 30 {
				to = append(to, mustAddress(t, "Some Recipient <recipient@example.com>"))
			}
			email := outgoingEmail{to: to, subject: test.subject, text: "x"}
			raw, err := buildMessage(mustAddress(t, "noreply@example.com"), email, buildDate, "<id-1@example.com>")
			require.NoError(t, err, "build mail")

			assertWellFormedLines(t, raw)
			header, _ := readParts(t, raw)
			subject, err := new(mime.WordDecoder).DecodeHeader(header.Get("Subject"))
			require.NoError(t, err, "decode Subject")
			assert.Equal(t, test.subject, subject, "Subject after unfolding and decoding")
			recipients, err := header.AddressList("To")
			require.NoError(t, err, "parse the folded To header")
			assert.Len(t, recipients, 30, "recipients in the folded To header")

			// A longer line is one word that cannot be folded, such as an
			// encoded-word of 75 characters after "Subject: ".
			headerEnd := bytes.Index(raw, []byte("\r\n\r\n"))
			for i, line := range strings.Split(string(raw[:headerEnd]), "\r\n") {
				if len(line) <= foldWidth {
					continue
				}
				value := line
				if name, after, found := strings.Cut(line, ": "); found && !strings.HasPrefix(name, " ") {
					value = after
				}
				assert.NotContains(t, strings.TrimSpace(value), " ", "header line %d is %d characters long but could be folded: %q", i, len(line), line)
			}
		})
	}
}

func TestBuildMessageRejectsUnfoldableWord(t *testing.T) {
	t.Parallel()

	email := outgoingEmail{
		to:      []*mail.Address{mustAddress(t, "a@example.com")},
		subject: strings.Repeat("x", maxLineLength),
		text:    "x",
	}

	_, err := buildMessage(mustAddress(t, "noreply@example.com"), email, buildDate, "<id-1@example.com>")

	require.Error(t, err, "build a mail whose subject is one word of %d characters", maxLineLength)
	assert.Contains(t, err.Error(), "header Subject", "error names the header")
}

func TestNewMessageID(t *testing.T) {
	t.Parallel()

	from := mustAddress(t, "Vega <noreply@mail.example.com>")

	first := newMessageID(from)
	second := newMessageID(from)

	assert.Regexp(t, regexp.MustCompile(`^<[0-9a-f]{32}@mail\.example\.com>$`), first, "Message-ID format")
	assert.NotEqual(t, first, second, "two Message-IDs differ")
}

// assertWellFormedLines checks that every line of raw ends with CRLF and
// fits the line length limit of RFC 5322.
func assertWellFormedLines(t *testing.T, raw []byte) {
	t.Helper()

	assert.True(t, bytes.HasSuffix(raw, []byte("\r\n")), "mail ends with CRLF")
	for i, line := range strings.Split(string(raw), "\r\n") {
		assert.NotContains(t, line, "\n", "line %d has a bare LF", i)
		assert.NotContains(t, line, "\r", "line %d has a bare CR", i)
		assert.LessOrEqual(t, len(line), maxLineLength, "line %d length", i)
	}
}

func TestSplitAtFoldableSpaces(t *testing.T) {
	t.Parallel()

	tests := []struct {
		value    string
		expected []string
	}{
		{value: "", expected: []string{""}},
		{value: "one", expected: []string{"one"}},
		{value: "a b c", expected: []string{"a", "b", "c"}},
		{value: "a  b c", expected: []string{"a  b", "c"}},
		{value: " a b ", expected: []string{" a", "b "}},
	}
	for _, test := range tests {
		t.Run(fmt.Sprintf("%q", test.value), func(t *testing.T) {
			t.Parallel()

			words := splitAtFoldableSpaces(test.value)

			assert.Equal(t, test.expected, words, "words")
			assert.Equal(t, test.value, strings.Join(words, " "), "words joined with spaces restore the value")
		})
	}
}
