package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
)

func TestParseEmailValid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		body    string
		to      []string
		subject string
		text    string
		html    string
	}{
		{
			name:    "one address as a string",
			body:    `{"to": "a@example.com", "subject": "Hi", "text": "Hello"}`,
			to:      []string{"a@example.com"},
			subject: "Hi",
			text:    "Hello",
		},
		{
			name:    "addresses as an array",
			body:    `{"to": ["a@example.com", "b@example.org"], "subject": "Hi", "html": "<p>Hello</p>"}`,
			to:      []string{"a@example.com", "b@example.org"},
			subject: "Hi",
			html:    "<p>Hello</p>",
		},
		{
			name:    "display names and both parts",
			body:    `{"to": ["Ann <a@example.com>", "\"Bö, B\" <b@example.org>"], "subject": "Grüße", "text": "t", "html": "h"}`,
			to:      []string{"a@example.com", "b@example.org"},
			subject: "Grüße",
			text:    "t",
			html:    "h",
		},
		{
			name:    "surrounding whitespace",
			body:    "  \n{\"to\": \"a@example.com\", \"subject\": \"Hi\", \"text\": \"Hello\"}\n",
			to:      []string{"a@example.com"},
			subject: "Hi",
			text:    "Hello",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			email, err := parseEmail(&pluginapi.Message{ID: "m-1", Body: []byte(test.body)})

			require.NoError(t, err, "parse body %s", test.body)
			var to []string
			for _, address := range email.to {
				to = append(to, address.Address)
			}
			assert.Equal(t, test.to, to, "recipients")
			assert.Equal(t, test.subject, email.subject, "subject")
			assert.Equal(t, test.text, email.text, "text")
			assert.Equal(t, test.html, email.html, "html")
		})
	}
}

func TestParseEmailInvalid(t *testing.T) {
	t.Parallel()

	tooMany := make([]string, maxRecipients+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("%q", fmt.Sprintf("user%d@example.com", i))
	}

	tests := []struct {
		name string
		body string
		// problem is a substring the error must contain.
		problem string
		// invalidBody is set when the body is not a JSON object at all.
		invalidBody bool
	}{
		{name: "empty body", body: ``, problem: "the body is empty", invalidBody: true},
		{name: "JSON array", body: `[{"to": "a@example.com"}]`, problem: "not a JSON object, it starts with", invalidBody: true},
		{name: "plain text", body: `send a mail to a@example.com`, problem: "not a JSON object, it starts with", invalidBody: true},
		{name: "broken JSON", body: `{"to": "a@example.com"`, problem: "decode message m-1", invalidBody: true},
		{name: "missing to", body: `{"subject": "Hi", "text": "Hello"}`, problem: `"to" is missing`},
		{name: "null to", body: `{"to": null, "subject": "Hi", "text": "Hello"}`, problem: `"to" is missing`},
		{name: "empty to array", body: `{"to": [], "subject": "Hi", "text": "Hello"}`, problem: `"to" is missing`},
		{name: "to is a number", body: `{"to": 5, "subject": "Hi", "text": "Hello"}`, problem: "expected an address or an array of addresses"},
		{name: "to array of numbers", body: `{"to": [5], "subject": "Hi", "text": "Hello"}`, problem: "expected an address or an array of addresses"},
		{name: "invalid address", body: `{"to": "not an address", "subject": "Hi", "text": "Hello"}`, problem: `"to"[0]: invalid address "not an address"`},
		{name: "second address invalid", body: `{"to": ["a@example.com", "b@"], "subject": "Hi", "text": "Hello"}`, problem: `"to"[1]: invalid address "b@"`},
		{name: "two addresses in one string", body: `{"to": "a@example.com, b@example.com", "subject": "Hi", "text": "Hello"}`, problem: `invalid address "a@example.com, b@example.com"`},
		{name: "non-ASCII address", body: `{"to": "jörg@example.com", "subject": "Hi", "text": "Hello"}`, problem: "only ASCII addresses are supported"},
		{name: "too many recipients", body: `{"to": [` + strings.Join(tooMany, ",") + `], "subject": "Hi", "text": "Hello"}`, problem: `"to" has 101 addresses; the maximum is 100`},
		{name: "missing subject", body: `{"to": "a@example.com", "text": "Hello"}`, problem: `"subject" is missing or blank`},
		{name: "blank subject", body: `{"to": "a@example.com", "subject": "  ", "text": "Hello"}`, problem: `"subject" is missing or blank`},
		{name: "subject with line break", body: `{"to": "a@example.com", "subject": "Hi\r\nBcc: x@example.com", "text": "Hello"}`, problem: `"subject" contains a line break`},
		{name: "no text or html", body: `{"to": "a@example.com", "subject": "Hi"}`, problem: `both "text" and "html" are missing`},
		{name: "empty text and html", body: `{"to": "a@example.com", "subject": "Hi", "text": "", "html": ""}`, problem: `both "text" and "html" are missing`},
		{name: "unknown field", body: `{"to": "a@example.com", "subject": "Hi", "body": "Hello"}`, problem: `unknown field "body"`},
		{name: "text is a number", body: `{"to": "a@example.com", "subject": "Hi", "text": 5}`, problem: "decode email in message m-1"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			_, err := parseEmail(&pluginapi.Message{ID: "m-1", Body: []byte(test.body)})

			require.Error(t, err, "parse body %s", test.body)
			assert.Contains(t, err.Error(), test.problem, "error explains the problem")
			assert.True(t, pluginapi.IsPermanent(err), "error %q is permanent, so the host dead-letters the message at once", err)
			assert.Equal(t, test.invalidBody, errors.Is(err, pluginapi.ErrInvalidBody), "error wraps ErrInvalidBody")
		})
	}
}

func TestParseEmailReportsAllProblems(t *testing.T) {
	t.Parallel()

	_, err := parseEmail(&pluginapi.Message{ID: "m-1", Body: []byte(`{"to": ["a@", "b@"], "subject": ""}`)})

	require.Error(t, err, "parse a body with several problems")
	for _, problem := range []string{`"to"[0]`, `"to"[1]`, `"subject" is missing`, `both "text" and "html" are missing`} {
		assert.Contains(t, err.Error(), problem, "error reports this problem")
	}
}
