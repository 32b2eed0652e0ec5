package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

const (
	// foldWidth is the line length that RFC 5322 (section 2.1.1)
	// recommends. Header lines are folded at spaces to stay within it
	// where possible.
	foldWidth = 78

	// maxLineLength is the hard limit of RFC 5322 on a line, without CRLF.
	maxLineLength = 998
)

// buildMessage returns the mail as it goes after the SMTP DATA command:
// headers and a MIME body with CRLF line endings. The body is text/plain,
// text/html or, with both parts, multipart/alternative, and each part is
// quoted-printable. An error means a header cannot be written within the
// line length limit.
func buildMessage(from *mail.Address, email outgoingEmail, date time.Time, messageID string) ([]byte, error) {
	var message bytes.Buffer

	recipients := make([]string, len(email.to))
	for i, address := range email.to {
		recipients[i] = address.String()
	}

	headers := []struct{ name, value string }{
		{"From", from.String()},
		{"To", strings.Join(recipients, ", ")},
		// QEncoding leaves ASCII text as it is and writes other text as
		// RFC 2047 encoded-words of at most 75 characters each.
		{"Subject", mime.QEncoding.Encode("utf-8", email.subject)},
		{"Date", date.Format(time.RFC1123Z)},
		{"Message-ID", messageID},
		{"MIME-Version", "1.0"},
	}
	for _, header := range headers {
		if err := writeHeader(&message, header.name, header.value); err != nil {
			return nil, err
		}
	}

	if email.text == "" || email.html == "" {
		mediaType, content := "text/plain", email.text
		if email.html != "" {
			mediaType, content = "text/html", email.html
		}
		writeSinglePart(&message, mediaType, content)
		return message.Bytes(), nil
	}

	if err := writeAlternative(&message, email.text, email.html); err != nil {
		return nil, err
	}
	return message.Bytes(), nil
}

// writeSinglePart writes the Content-Type of a one-part mail, the blank
// line that ends the headers, and the quoted-printable content.
func writeSinglePart(message *bytes.Buffer, mediaType, content string) {
	message.WriteString("Content-Type: " + mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"}) + "\r\n")
	message.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
	message.WriteString("\r\n")

	writeQuotedPrintable(message, content)

	// A mail ends with CRLF. A soft line break adds one without adding a
	// line break to the decoded content.
	if !bytes.HasSuffix(message.Bytes(), []byte("\r\n")) {
		message.WriteString("=\r\n")
	}
}

// writeAlternative writes a multipart/alternative body with the text part
// first, because clients show the last part they can display.
func writeAlternative(message *bytes.Buffer, text, html string) error {
	parts := multipart.NewWriter(message)
	contentType := mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": parts.Boundary()})
	message.WriteString("Content-Type: " + contentType + "\r\n")
	message.WriteString("\r\n")

	for _, part := range []struct{ mediaType, content string }{
		{"text/plain", text},
		{"text/html", html},
	} {
		header := textproto.MIMEHeader{}
		header.Set("Content-Type", mime.FormatMediaType(part.mediaType, map[string]string{"charset": "utf-8"}))
		header.Set("Content-Transfer-Encoding", "quoted-printable")

		writer, err := parts.CreatePart(header)
		if err != nil {
			return fmt.Errorf("create %s part: %w", part.mediaType, err)
		}
		encoder := quotedprintable.NewWriter(writer)
		_, _ = encoder.Write([]byte(part.content))
		_ = encoder.Close()
	}

	if err := parts.Close(); err != nil {
		return fmt.Errorf("close multipart body: %w", err)
	}
	return nil
}

// writeQuotedPrintable encodes content into message. The encoder turns
// every LF and CRLF into CRLF and keeps lines within 76 characters.
func writeQuotedPrintable(message *bytes.Buffer, content string) {
	encoder := quotedprintable.NewWriter(message)
	// bytes.Buffer.Write always returns a nil error.
	_, _ = encoder.Write([]byte(content))
	_ = encoder.Close()
}

// writeHeader writes "name: value" and folds it at spaces so that lines
// stay within foldWidth where the value allows. A receiver unfolds the
// lines by removing each CRLF, which restores the value. It returns an
// error when a word is too long to fit a line within maxLineLength.
func writeHeader(message *bytes.Buffer, name, value string) error {
	var lines []string
	line := name + ":"
	for i, word := range splitAtFoldableSpaces(value) {
		// Never fold before the first word, which would leave the name
		// alone on its line.
		if i > 0 && len(line)+1+len(word) > foldWidth {
			lines = append(lines, line)
			line = ""
		}
		line += " " + word
	}
	lines = append(lines, line)

	for _, folded := range lines {
		if len(folded) > maxLineLength {
			return fmt.Errorf("header %s: a word is too long to fit the line length limit of %d characters", name, maxLineLength)
		}
	}

	message.WriteString(strings.Join(lines, "\r\n") + "\r\n")
	return nil
}

// splitAtFoldableSpaces splits value at each single space between two
// other characters. A run of spaces stays inside a word, because some
// readers, Go's net/textproto among them, collapse the spaces around a
// fold into one.
func splitAtFoldableSpaces(value string) []string {
	var words []string
	start := 0
	for i := 1; i < len(value)-1; i++ {
		if value[i] == ' ' && value[i-1] != ' ' && value[i+1] != ' ' {
			words = append(words, value[start:i])
			start = i + 1
		}
	}
	return append(words, value[start:])
}

// newMessageID returns a unique Message-ID, such as
// "<3f2a...@example.com>", in the domain of the sender's address.
func newMessageID(from *mail.Address) string {
	random := make([]byte, 16)
	// crypto/rand.Read never returns an error since Go 1.24.
	_, _ = rand.Read(random)

	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	return "<" + hex.EncodeToString(random) + "@" + domain + ">"
}
