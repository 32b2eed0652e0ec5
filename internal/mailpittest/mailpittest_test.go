package mailpittest_test

import (
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/mailpittest"
)

const waitTimeout = 5 * time.Second

// rawMail is a multipart mail with a non-ASCII subject, written as a
// client would send it.
const rawMail = "From: Sender <sender@example.com>\r\n" +
	"To: a@example.com, \"B Person\" <b@example.com>\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Date: Fri, 04 Dec 2026 21:00:00 +0000\r\n" +
	"Message-ID: <test-1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"plain body\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<p>html body</p>\r\n" +
	"--b1--\r\n"

func sendRaw(t *testing.T, server *mailpittest.Server, recipients []string) {
	t.Helper()

	err := smtp.SendMail(server.SMTPAddr(), nil, "sender@example.com", recipients, []byte(rawMail))
	require.NoError(t, err, "send a mail to %s", server)
}

func TestServerReadsSentMail(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)

	sendRaw(t, server, []string{"a@example.com", "b@example.com", "hidden@example.com"})

	messages := server.WaitForCount(t, 1, waitTimeout)
	require.Len(t, messages, 1, "mails stored after one send")
	summary := messages[0]
	assert.Equal(t, "test-1@example.com", summary.MessageID, "summary MessageID")
	assert.Equal(t, mailpittest.Address{Name: "Sender", Address: "sender@example.com"}, summary.From, "summary From")
	assert.Equal(t, []mailpittest.Address{
		{Address: "a@example.com"},
		{Name: "B Person", Address: "b@example.com"},
	}, summary.To, "summary To")
	assert.Equal(t, []mailpittest.Address{{Address: "hidden@example.com"}}, summary.Bcc, "an envelope recipient missing from the headers is listed as Bcc")
	assert.Equal(t, "Grüße", summary.Subject, "summary Subject is decoded")
	assert.WithinDuration(t, time.Now(), summary.Created, time.Minute, "summary Created")

	detail := server.Message(t, summary.ID)
	assert.Equal(t, summary.ID, detail.ID, "detail ID")
	assert.Equal(t, "plain body", detail.Text, "detail Text")
	assert.Equal(t, "<p>html body</p>", detail.HTML, "detail HTML")
	assert.Equal(t, "sender@example.com", detail.ReturnPath, "detail ReturnPath")
	assert.True(t, detail.Date.Equal(time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)), "detail Date is %s", detail.Date)
	assert.Equal(t, "<test-1@example.com>", detail.Headers.Get("Message-ID"), "raw Message-ID header")
	assert.Equal(t, "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", detail.Headers.Get("Subject"), "raw Subject header")

	raw := string(server.Raw(t, summary.ID))
	assert.Contains(t, raw, "\r\nMessage-ID: <test-1@example.com>\r\n", "raw mail keeps the header as sent")
	assert.Contains(t, raw, "<p>html body</p>", "raw mail contains the HTML part")
}

func TestServerMessagesPagesThroughAll(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)

	// More mails than one page of the API returns.
	const count = 205
	client, err := smtp.Dial(server.SMTPAddr())
	require.NoError(t, err, "connect to %s", server)
	defer client.Close()
	for i := range count {
		require.NoError(t, client.Mail("sender@example.com"), "MAIL FROM for mail %d", i)
		require.NoError(t, client.Rcpt("a@example.com"), "RCPT TO for mail %d", i)
		writer, err := client.Data()
		require.NoError(t, err, "DATA for mail %d", i)
		_, err = writer.Write([]byte(rawMail))
		require.NoError(t, err, "write mail %d", i)
		require.NoError(t, writer.Close(), "end DATA for mail %d", i)
	}
	require.NoError(t, client.Quit(), "QUIT")

	messages := server.WaitForCount(t, count, waitTimeout)
	assert.Len(t, messages, count, "Messages returns every mail, not one page")

	server.DeleteAll(t)
	assert.Empty(t, server.Messages(t), "mails left after DeleteAll")
}

func TestServerWithSMTPAuth(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t, mailpittest.WithSMTPAuth())

	auth := smtp.PlainAuth("", "alice", "secret", "127.0.0.1")
	err := smtp.SendMail(server.SMTPAddr(), auth, "sender@example.com", []string{"a@example.com"}, []byte(rawMail))
	require.NoError(t, err, "send with AUTH PLAIN to %s", server)

	messages := server.WaitForCount(t, 1, waitTimeout)
	assert.Equal(t, "alice", messages[0].Username, "summary Username")
}

func TestServerSetChaos(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		chaos mailpittest.Chaos
		code  int
	}{
		{
			name:  "sender 451",
			chaos: mailpittest.Chaos{Sender: mailpittest.Trigger{ErrorCode: 451, Probability: 100}},
			code:  451,
		},
		{
			name:  "recipient 550",
			chaos: mailpittest.Chaos{Recipient: mailpittest.Trigger{ErrorCode: 550, Probability: 100}},
			code:  550,
		},
	}

	server := mailpittest.Start(t, mailpittest.WithChaos())
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server.SetChaos(t, test.chaos)

			err := smtp.SendMail(server.SMTPAddr(), nil, "sender@example.com", []string{"a@example.com"}, []byte(rawMail))

			var reply *textproto.Error
			require.True(t, errors.As(err, &reply), "send error %v is an SMTP reply", err)
			assert.Equal(t, test.code, reply.Code, "SMTP reply code")
		})
	}

	server.SetChaos(t, mailpittest.Chaos{})
	sendRaw(t, server, []string{"a@example.com"})
	assert.Len(t, server.WaitForCount(t, 1, waitTimeout), 1, "mails stored once chaos is off")
}

func TestStartUsesBinaryEnv(t *testing.T) {
	// Not parallel: t.Setenv changes the process environment.
	missing := filepath.Join(t.TempDir(), "no-such-mailpit")
	t.Setenv(mailpittest.BinaryEnv, missing)

	result := runFailingStart(t)

	assert.True(t, result.failed, "Start fails when %s names a missing file", mailpittest.BinaryEnv)
	assert.Contains(t, result.message, missing, "the failure names the path")
}

// startResult records how Start ended on a fake testing.TB.
type startResult struct {
	failed  bool
	message string
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB

	messages []string
	failed   bool
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Logf(format string, args ...any) {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func runFailingStart(t *testing.T) startResult {
	t.Helper()

	recorder := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		mailpittest.Start(recorder)
	}()

	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatalf("Start did not return within %s", waitTimeout)
	}
	return startResult{failed: recorder.failed, message: strings.Join(recorder.messages, "\n")}
}
