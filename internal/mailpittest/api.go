package mailpittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// pageSize is the number of summaries Messages requests per page. Mailpit
// returns 50 when the request sets no limit.
const pageSize = 200

// Address is a mailbox as mailpit's API returns it.
type Address struct {
	// Name is the display name, decoded from RFC 2047 when needed. It is
	// empty when the header has none.
	Name string
	// Address is the addr-spec, such as "a@example.com".
	Address string
}

// Summary is one entry of GET /api/v1/messages.
type Summary struct {
	// ID is mailpit's id of the stored mail, used by Message and Raw.
	ID string
	// MessageID is the Message-ID header without its angle brackets.
	MessageID string
	From      Address
	// To, Cc and Bcc list the recipients. Bcc holds the envelope
	// recipients that appear in neither the To nor the Cc header.
	To      []Address
	Cc      []Address
	Bcc     []Address
	Subject string
	// Created is when mailpit received the mail.
	Created time.Time
	// Username is the SMTP AUTH username the mail was sent with, or empty
	// without AUTH.
	Username string
	// Size is the size of the raw mail in bytes.
	Size int
	// Snippet is the start of the text, taken from the HTML part when the
	// mail has one.
	Snippet string
}

// Detail is one mail as GET /api/v1/message/{ID} and its /headers
// endpoint return it.
type Detail struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	ReplyTo   []Address
	// ReturnPath is the envelope sender (MAIL FROM).
	ReturnPath string
	Subject    string
	// Date is the Date header.
	Date time.Time
	// Text is the decoded text/plain part. For a mail with only an HTML
	// part, mailpit fills it with the text of the HTML.
	Text string
	// HTML is the decoded text/html part, or empty when the mail has none.
	HTML string
	Size int
	// Headers are the top-level headers with their raw, undecoded values.
	// Keys are in canonical form, so Headers.Get("Message-ID") works.
	Headers textproto.MIMEHeader `json:"-"`
}

// messagesPage is the body of GET /api/v1/messages.
type messagesPage struct {
	Total    int       `json:"total"`
	Count    int       `json:"count"`
	Start    int       `json:"start"`
	Messages []Summary `json:"messages"`
}

// Chaos sets the SMTP error replies mailpit injects. A trigger with
// Probability 0 is disabled.
type Chaos struct {
	// Sender fails the MAIL FROM command.
	Sender Trigger
	// Recipient fails each RCPT TO command.
	Recipient Trigger
	// Authentication fails AUTH, which needs WithSMTPAuth.
	Authentication Trigger
}

// Trigger is one chaos rule: mailpit replies with ErrorCode (400 to 599)
// to the command, with Probability percent (0 to 100) of chance.
type Trigger struct {
	ErrorCode   int
	Probability int
}

// Messages returns the summaries of all stored mails, newest first, as
// mailpit lists them.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()

	var all []Summary
	for {
		query := url.Values{
			"start": {strconv.Itoa(len(all))},
			"limit": {strconv.Itoa(pageSize)},
		}
		var page messagesPage
		s.getJSON(t, "/api/v1/messages?"+query.Encode(), &page)

		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.Total {
			return all
		}
	}
}

// Message returns the mail with mailpit's id, as listed in Summary.ID,
// including its top-level headers. It fails t when there is no such mail.
func (s *Server) Message(t testing.TB, id string) Detail {
	t.Helper()

	var detail Detail
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id), &detail)

	var headers map[string][]string
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &headers)
	detail.Headers = textproto.MIMEHeader(headers)

	return detail
}

// Raw returns the mail with mailpit's id as received over SMTP, with CRLF
// line endings.
func (s *Server) Raw(t testing.TB, id string) []byte {
	t.Helper()

	return s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/raw")
}

// WaitForCount polls until mailpit stores at least n mails and returns
// their summaries, newest first. It fails t when timeout passes first, and
// the failure names the count it last saw. The caller checks for extra
// mails.
func (s *Server) WaitForCount(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()

	deadline := time.Now().Add(timeout)
	for {
		messages := s.Messages(t)
		if len(messages) >= n {
			return messages
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpittest: waited %s for %d mails, but mailpit at %s stores %d", timeout, n, s.apiURL, len(messages))
		}
		time.Sleep(pollInterval)
	}
}

// DeleteAll deletes every stored mail.
func (s *Server) DeleteAll(t testing.TB) {
	t.Helper()

	s.do(t, http.MethodDelete, "/api/v1/messages", nil)
}

// SetChaos replaces mailpit's chaos triggers. The server must have been
// started WithChaos, because mailpit rejects the request otherwise.
func (s *Server) SetChaos(t testing.TB, chaos Chaos) {
	t.Helper()

	body, err := json.Marshal(chaos)
	if err != nil {
		t.Fatalf("mailpittest: encode chaos triggers %+v: %v", chaos, err)
	}
	s.do(t, http.MethodPut, "/api/v1/chaos", body)
}

// getJSON decodes the JSON response of a GET on path into v.
func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()

	body := s.get(t, path)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("mailpittest: decode the response of GET %s%s: %v\nbody: %s", s.apiURL, path, err, body)
	}
}

func (s *Server) get(t testing.TB, path string) []byte {
	t.Helper()

	return s.do(t, http.MethodGet, path, nil)
}

// do sends one request to mailpit's API and returns the response body. It
// fails t unless the status is 200 OK.
func (s *Server) do(t testing.TB, method, path string, body []byte) []byte {
	t.Helper()

	request, err := http.NewRequestWithContext(t.Context(), method, s.apiURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("mailpittest: build request %s %s%s: %v", method, s.apiURL, path, err)
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}

	response, err := s.client.Do(request)
	if err != nil {
		t.Fatalf("mailpittest: %s %s%s: %v", method, s.apiURL, path, err)
	}
	defer response.Body.Close()

	responseBody, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("mailpittest: read the response of %s %s%s: %v", method, s.apiURL, path, err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("mailpittest: %s %s%s: status %s: %s", method, s.apiURL, path, response.Status, bytes.TrimSpace(responseBody))
	}
	return responseBody
}

// String returns the server's addresses for test logs.
func (s *Server) String() string {
	return fmt.Sprintf("mailpit (SMTP %s, API %s)", s.smtpAddr, s.apiURL)
}
