package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/vega-host/vega-host/pluginapi"
)

// maxRecipients is the largest number of addresses in "to". RFC 5321
// (section 4.5.3.1.8) requires servers to accept at least 100 recipients
// in one transaction and lets them reject more with a 452 reply.
const maxRecipients = 100

// Email is the message body the listener accepts:
//
//	{"to": "a@example.com", "subject": "Hello", "text": "Hi", "html": "<p>Hi</p>"}
//
// To and Subject are required, and at least one of Text and HTML.
type Email struct {
	// To is one address as a JSON string or several as an array. Each may
	// have a display name: "Ann <a@example.com>".
	To Recipients `json:"to"`
	// Subject may contain any Unicode text except line breaks.
	Subject string `json:"subject"`
	// Text is the text/plain body.
	Text string `json:"text"`
	// HTML is the text/html body. With Text, the mail is
	// multipart/alternative and clients show the HTML part.
	HTML string `json:"html"`
}

// Recipients is the "to" field of an Email.
type Recipients []string

// UnmarshalJSON accepts a JSON string or an array of strings. JSON null
// leaves r unchanged.
func (r *Recipients) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if bytes.Equal(trimmed, []byte("null")) {
		return nil
	}

	if len(trimmed) > 0 && trimmed[0] == '"' {
		var address string
		if err := json.Unmarshal(trimmed, &address); err != nil {
			return fmt.Errorf("decode \"to\": %w", err)
		}
		*r = Recipients{address}
		return nil
	}

	var addresses []string
	if err := json.Unmarshal(trimmed, &addresses); err != nil {
		return fmt.Errorf("invalid \"to\" %s: expected an address or an array of addresses", preview(trimmed))
	}
	*r = addresses
	return nil
}

// outgoingEmail is a validated Email with parsed recipients.
type outgoingEmail struct {
	to      []*mail.Address
	subject string
	text    string
	html    string
}

// parseEmail decodes and validates the body of msg. Every error it returns
// is permanent: sending the same body again cannot succeed.
func parseEmail(msg *pluginapi.Message) (outgoingEmail, error) {
	// Decode checks first that the body is a JSON object, and its error
	// wraps pluginapi.ErrInvalidBody when it is not.
	var object map[string]json.RawMessage
	if err := msg.Decode(&object); err != nil {
		return outgoingEmail{}, err
	}

	var email Email
	decoder := json.NewDecoder(bytes.NewReader(msg.Body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&email); err != nil {
		return outgoingEmail{}, pluginapi.Permanent(fmt.Errorf("decode email in message %s: %w", msg.ID, err))
	}

	outgoing, err := validateEmail(email)
	if err != nil {
		return outgoingEmail{}, pluginapi.Permanent(fmt.Errorf("invalid email in message %s: %w", msg.ID, err))
	}
	return outgoing, nil
}

// validateEmail checks every field of email and returns all problems
// joined.
func validateEmail(email Email) (outgoingEmail, error) {
	var problems []error
	outgoing := outgoingEmail{subject: email.Subject, text: email.Text, html: email.HTML}

	switch {
	case len(email.To) == 0:
		problems = append(problems, errors.New("\"to\" is missing: set an address or an array of addresses"))
	case len(email.To) > maxRecipients:
		problems = append(problems, fmt.Errorf("\"to\" has %d addresses; the maximum is %d", len(email.To), maxRecipients))
	default:
		for i, raw := range email.To {
			address, err := parseAddress(raw)
			if err != nil {
				problems = append(problems, fmt.Errorf("\"to\"[%d]: %w", i, err))
				continue
			}
			outgoing.to = append(outgoing.to, address)
		}
	}

	switch {
	case strings.TrimSpace(email.Subject) == "":
		problems = append(problems, errors.New("\"subject\" is missing or blank"))
	case strings.ContainsAny(email.Subject, "\r\n"):
		problems = append(problems, errors.New("\"subject\" contains a line break"))
	}

	if email.Text == "" && email.HTML == "" {
		problems = append(problems, errors.New("both \"text\" and \"html\" are missing: set at least one"))
	}

	if len(problems) > 0 {
		return outgoingEmail{}, errors.Join(problems...)
	}
	return outgoing, nil
}

// parseAddress parses one RFC 5322 address, with or without a display
// name. The display name may be any Unicode text, but the address itself
// must be ASCII.
func parseAddress(raw string) (*mail.Address, error) {
	address, err := mail.ParseAddress(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid address %q: %w", raw, err)
	}

	// NOTE: an internationalized address (non-ASCII before or after the
	// @) needs the SMTPUTF8 extension and IDNA, which this listener does
	// not implement, so it rejects such addresses.
	for _, r := range address.Address {
		if r > 127 {
			return nil, fmt.Errorf("invalid address %q: only ASCII addresses are supported", raw)
		}
	}
	return address, nil
}

// preview returns the first characters of data for error messages.
func preview(data []byte) string {
	const limit = 32
	runes := []rune(string(data))
	if len(runes) > limit {
		return string(runes[:limit]) + "..."
	}
	return string(runes)
}
