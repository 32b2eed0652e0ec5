package main

import (
	"encoding/json"
	"fmt"
	"mime"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/mailpittest"
	"github.com/vega-host/vega-host/pluginapi"
)

const mailWaitTimeout = 10 * time.Second

// newMailer returns a Mailer started with config, as the host starts it.
func newMailer(t *testing.T, config map[string]any) *Mailer {
	t.Helper()

	encoded, err := json.Marshal(config)
	require.NoError(t, err, "encode config")

	mailer := &Mailer{}
	err = mailer.Startup(t.Context(), pluginapi.StartupInfo{Listener: "send-email", Queue: "emails", Config: encoded})
	require.NoError(t, err, "start the mailer with config %s", encoded)
	return mailer
}

func message(id, body string) *pluginapi.Message {
	return &pluginapi.Message{ID: id, Queue: "emails", Body: []byte(body), ReceiveCount: 1}
}

func TestMailerSendsThroughMailpit(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)
	mailer := newMailer(t, map[string]any{"smtp_addr": server.SMTPAddr(), "from": "Vega Host <noreply@example.com>"})

	tests := []struct {
		name        string
		body        string
		to          []mailpittest.Address
		subject     string
		text        string
		html        string
		contentType string
	}{
		{
			name:        "text only",
			body:        `{"to": "a@example.com", "subject": "Text only", "text": "Hello\nsecond line"}`,
			to:          []mailpittest.Address{{Address: "a@example.com"}},
			subject:     "Text only",
			text:        "Hello\r\nsecond line",
			contentType: "text/plain",
		},
		{
			name:    "html only",
			body:    `{"to": "a@example.com", "subject": "HTML only", "html": "<p>Hello</p>"}`,
			to:      []mailpittest.Address{{Address: "a@example.com"}},
			subject: "HTML only",
			// Mailpit fills Text with the text of the HTML part.
			text:        "Hello",
			html:        "<p>Hello</p>",
			contentType: "text/html",
		},
		{
			name:        "text and html to several recipients",
			body:        `{"to": ["a@example.com", "Bö Person <b@example.org>"], "subject": "Grüße", "text": "Grüße", "html": "<p>Grüße</p>"}`,
			to:          []mailpittest.Address{{Address: "a@example.com"}, {Name: "Bö Person", Address: "b@example.org"}},
			subject:     "Grüße",
			text:        "Grüße",
			html:        "<p>Grüße</p>",
			contentType: "multipart/alternative",
		},
		{
			name:        "line with a single dot",
			body:        `{"to": "a@example.com", "subject": "Dots", "text": "first\n.\n..\nlast"}`,
			to:          []mailpittest.Address{{Address: "a@example.com"}},
			subject:     "Dots",
			text:        "first\r\n.\r\n..\r\nlast",
			contentType: "text/plain",
		},
	}
	// Subtests run one after another because they share the server.
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server.DeleteAll(t)

			err := mailer.Handle(t.Context(), message("m-1", test.body))

			require.NoError(t, err, "handle body %s", test.body)
			messages := server.WaitForCount(t, 1, mailWaitTimeout)
			require.Len(t, messages, 1, "mails received")
			summary := messages[0]
			assert.Equal(t, mailpittest.Address{Name: "Vega Host", Address: "noreply@example.com"}, summary.From, "From")
			assert.Equal(t, test.to, summary.To, "To")
			assert.Empty(t, summary.Bcc, "envelope recipients missing from the To header")
			assert.Equal(t, test.subject, summary.Subject, "Subject")

			detail := server.Message(t, summary.ID)
			assert.Equal(t, test.text, detail.Text, "text part")
			assert.Equal(t, test.html, detail.HTML, "HTML part")
			assert.Equal(t, "noreply@example.com", detail.ReturnPath, "envelope sender")
			assert.WithinDuration(t, time.Now(), detail.Date, time.Minute, "Date header")
			assert.Regexp(t, regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`), detail.Headers.Get("Message-ID"), "Message-ID header")
			assert.Equal(t, "1.0", detail.Headers.Get("MIME-Version"), "MIME-Version header")
			mediaType, _, err := mime.ParseMediaType(detail.Headers.Get("Content-Type"))
			require.NoError(t, err, "parse Content-Type %q", detail.Headers.Get("Content-Type"))
			assert.Equal(t, test.contentType, mediaType, "Content-Type")
		})
	}
}

func TestMailerAuthenticates(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t, mailpittest.WithSMTPAuth())
	mailer := newMailer(t, map[string]any{
		"smtp_addr": server.SMTPAddr(),
		"from":      "noreply@example.com",
		"username":  "mailer",
		"password":  "secret",
	})

	err := mailer.Handle(t.Context(), message("m-1", `{"to": "a@example.com", "subject": "Hi", "text": "Hello"}`))

	require.NoError(t, err, "handle with AUTH PLAIN")
	messages := server.WaitForCount(t, 1, mailWaitTimeout)
	assert.Equal(t, "mailer", messages[0].Username, "SMTP AUTH username mailpit recorded")
}

func TestMailerClassifiesServerReplies(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t, mailpittest.WithChaos())
	mailer := newMailer(t, map[string]any{"smtp_addr": server.SMTPAddr(), "from": "noreply@example.com"})

	tests := []struct {
		name      string
		chaos     mailpittest.Chaos
		code      string
		permanent bool
	}{
		{name: "MAIL FROM 451", chaos: mailpittest.Chaos{Sender: mailpittest.Trigger{ErrorCode: 451, Probability: 100}}, code: "451", permanent: false},
		{name: "RCPT TO 421", chaos: mailpittest.Chaos{Recipient: mailpittest.Trigger{ErrorCode: 421, Probability: 100}}, code: "421", permanent: false},
		{name: "RCPT TO 550", chaos: mailpittest.Chaos{Recipient: mailpittest.Trigger{ErrorCode: 550, Probability: 100}}, code: "550", permanent: true},
		{name: "MAIL FROM 554", chaos: mailpittest.Chaos{Sender: mailpittest.Trigger{ErrorCode: 554, Probability: 100}}, code: "554", permanent: true},
	}
	// Subtests run one after another because chaos is server-wide.
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server.SetChaos(t, test.chaos)

			err := mailer.Handle(t.Context(), message("m-1", `{"to": "a@example.com", "subject": "Hi", "text": "Hello"}`))

			require.Error(t, err, "handle while mailpit replies %s", test.code)
			assert.Contains(t, err.Error(), test.code, "error contains the reply code")
			assert.Contains(t, err.Error(), "message m-1", "error names the message")
			assert.Equal(t, test.permanent, pluginapi.IsPermanent(err), "error %q is permanent", err)
		})
	}

	server.SetChaos(t, mailpittest.Chaos{})
	assert.Empty(t, server.Messages(t), "mails stored while every send failed")
}

func TestMailerInvalidBodiesSendNothing(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)
	mailer := newMailer(t, map[string]any{"smtp_addr": server.SMTPAddr(), "from": "noreply@example.com"})

	bodies := []string{
		`not json`,
		`{"to": "not an address", "subject": "Hi", "text": "Hello"}`,
		`{"to": "a@example.com", "text": "Hello"}`,
		`{"to": "a@example.com", "subject": "Hi"}`,
	}
	for i, body := range bodies {
		err := mailer.Handle(t.Context(), message(fmt.Sprintf("bad-%d", i), body))

		require.Error(t, err, "handle invalid body %s", body)
		assert.True(t, pluginapi.IsPermanent(err), "error %q for body %s is permanent", err, body)
	}

	// A valid mail sent last shows that the server works, so the count
	// below would include any mail sent for an invalid body.
	err := mailer.Handle(t.Context(), message("good", `{"to": "a@example.com", "subject": "Valid", "text": "Hello"}`))
	require.NoError(t, err, "handle a valid body")
	messages := server.WaitForCount(t, 1, mailWaitTimeout)
	require.Len(t, messages, 1, "mails stored")
	assert.Equal(t, "Valid", messages[0].Subject, "the stored mail is the valid one")
}

func TestMailerRefusedConnectionIsTemporary(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	mailer := newMailer(t, map[string]any{"smtp_addr": addr, "from": "noreply@example.com", "timeout": 5})

	err := mailer.Handle(t.Context(), message("m-1", `{"to": "a@example.com", "subject": "Hi", "text": "Hello"}`))

	require.Error(t, err, "handle with the SMTP server at closed port %s", addr)
	assert.Contains(t, err.Error(), "connection refused", "error says the connection was refused")
	assert.False(t, pluginapi.IsPermanent(err), "error %q is temporary, so the host retries", err)
}

func TestMailerHandleBeforeStartup(t *testing.T) {
	t.Parallel()
	mailer := &Mailer{}

	err := mailer.Handle(t.Context(), message("m-1", `{"to": "a@example.com", "subject": "Hi", "text": "Hello"}`))

	require.Error(t, err, "handle without Startup")
	assert.Contains(t, err.Error(), "no config", "error explains the problem")
}

func TestMailerConcurrentHandles(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)
	mailer := newMailer(t, map[string]any{"smtp_addr": server.SMTPAddr(), "from": "noreply@example.com"})

	const workers, perWorker = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for worker := range workers {
		wg.Go(func() {
			for i := range perWorker {
				body := fmt.Sprintf(`{"to": "a@example.com", "subject": "worker %d mail %d", "text": "Hello"}`, worker, i)
				errs <- mailer.Handle(t.Context(), message(fmt.Sprintf("m-%d-%d", worker, i), body))
			}
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		assert.NoError(t, err, "concurrent Handle")
	}
	messages := server.WaitForCount(t, workers*perWorker, mailWaitTimeout)
	assert.Len(t, messages, workers*perWorker, "mails stored")
	subjects := map[string]bool{}
	for _, summary := range messages {
		subjects[summary.Subject] = true
	}
	assert.Len(t, subjects, workers*perWorker, "distinct subjects stored")
}
