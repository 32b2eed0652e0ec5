package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
)

func TestClassifySendError(t *testing.T) {
	t.Parallel()

	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{name: "421 service not available", err: &textproto.Error{Code: 421, Msg: "try again later"}, permanent: false},
		{name: "451 local error", err: &textproto.Error{Code: 451, Msg: "local error"}, permanent: false},
		{name: "452 too many recipients", err: fmt.Errorf("send RCPT TO: %w", &textproto.Error{Code: 452, Msg: "too many"}), permanent: false},
		{name: "500 syntax error", err: &textproto.Error{Code: 500, Msg: "syntax error"}, permanent: true},
		{name: "550 mailbox unavailable", err: fmt.Errorf("send RCPT TO: %w", &textproto.Error{Code: 550, Msg: "no such user"}), permanent: true},
		{name: "554 transaction failed", err: &textproto.Error{Code: 554, Msg: "rejected"}, permanent: true},
		{name: "connection refused", err: fmt.Errorf("connect: %w", refused), permanent: false},
		{name: "I/O timeout", err: fmt.Errorf("read: %w", os.ErrDeadlineExceeded), permanent: false},
		{name: "context deadline", err: fmt.Errorf("send: %w", context.DeadlineExceeded), permanent: false},
		{name: "already permanent", err: pluginapi.Permanent(errors.New("server offers no AUTH")), permanent: true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			classified := classifySendError(test.err)

			assert.Equal(t, test.permanent, pluginapi.IsPermanent(classified), "permanent")
			assert.ErrorIs(t, classified, test.err, "classified error wraps the original")
		})
	}
}

// testSettings returns settings that send to addr from
// sender@example.com.
func testSettings(t *testing.T, addr string, timeout time.Duration) settings {
	t.Helper()

	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err, "split %q", addr)
	return settings{
		smtpAddr: addr,
		smtpHost: host,
		from:     &mail.Address{Address: "sender@example.com"},
		timeout:  timeout,
	}
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen on a free loopback port")
	addr := listener.Addr().String()
	require.NoError(t, listener.Close(), "close listener")
	return addr
}

// silentServer accepts connections and never writes to them, like a
// server that hangs before its greeting.
func silentServer(t *testing.T) string {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen on a free loopback port")

	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = listener.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			_ = conn.Close()
		}
	})
	return listener.Addr().String()
}

func TestSendMailRefusedConnectionIsTemporary(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)

	err := sendMail(t.Context(), testSettings(t, addr, 5*time.Second), []string{"a@example.com"}, []byte("x\r\n"), hclog.NewNullLogger())

	require.Error(t, err, "send to closed port %s", addr)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "error is a refused connection")
	assert.False(t, pluginapi.IsPermanent(err), "error %q is temporary, so the host retries", err)
	assert.Contains(t, err.Error(), addr, "error names the server")
}

func TestSendMailTimeouts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// contextTimeout is the handler's deadline, or 0 for none.
		contextTimeout time.Duration
		configTimeout  time.Duration
		message        string
	}{
		{name: "config timeout", configTimeout: 200 * time.Millisecond, message: "the timeout of 200ms set in the listener config passed"},
		{name: "handler deadline", contextTimeout: 200 * time.Millisecond, configTimeout: time.Minute, message: "context deadline exceeded"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			addr := silentServer(t)

			ctx := t.Context()
			if test.contextTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, test.contextTimeout)
				defer cancel()
			}
			started := time.Now()
			err := sendMail(ctx, testSettings(t, addr, test.configTimeout), []string{"a@example.com"}, []byte("x\r\n"), hclog.NewNullLogger())
			elapsed := time.Since(started)

			require.Error(t, err, "send to a server that never greets")
			assert.ErrorIs(t, err, context.DeadlineExceeded, "error is a deadline")
			assert.Contains(t, err.Error(), test.message, "error says which deadline passed")
			assert.False(t, pluginapi.IsPermanent(err), "error %q is temporary, so the host retries", err)
			assert.Less(t, elapsed, 2*time.Second, "send returned %s after a 200ms deadline", elapsed)
		})
	}
}

func TestSendMailCanceledContext(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	started := time.Now()
	err := sendMail(ctx, testSettings(t, addr, time.Minute), []string{"a@example.com"}, []byte("x\r\n"), hclog.NewNullLogger())
	elapsed := time.Since(started)

	require.Error(t, err, "send with a canceled context")
	assert.ErrorIs(t, err, context.Canceled, "error is the cancellation")
	assert.False(t, pluginapi.IsPermanent(err), "error %q is temporary", err)
	assert.Less(t, elapsed, 2*time.Second, "send returned %s after the cancel at 100ms", elapsed)
}

// scriptedServer is a minimal SMTP server for one connection. A test may
// override the reply to each command verb: "EHLO", "MAIL", "RCPT", "DATA",
// "END" (the end of the mail data) and "QUIT". An empty override closes
// the connection without a reply.
type scriptedServer struct {
	addr string

	mu       sync.Mutex
	commands []string
	data     string
}

func startScriptedServer(t *testing.T, overrides map[string]string) *scriptedServer {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen on a free loopback port")
	t.Cleanup(func() { _ = listener.Close() })

	server := &scriptedServer{addr: listener.Addr().String()}
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		server.serve(textproto.NewConn(conn), overrides)
	}()
	return server
}

func (s *scriptedServer) serve(conn *textproto.Conn, overrides map[string]string) {
	replies := map[string]string{
		"EHLO": "250 scripted",
		"MAIL": "250 ok",
		"RCPT": "250 ok",
		"DATA": "354 go ahead",
		"END":  "250 queued",
		"QUIT": "221 bye",
	}
	for verb, line := range overrides {
		replies[verb] = line
	}
	// reply sends the reply for verb and reports whether the conversation
	// goes on.
	reply := func(verb string) bool {
		line := replies[verb]
		return line != "" && conn.PrintfLine("%s", line) == nil
	}

	if conn.PrintfLine("220 scripted ESMTP") != nil {
		return
	}
	for {
		line, err := conn.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		s.mu.Lock()
		s.commands = append(s.commands, verb)
		s.mu.Unlock()

		switch verb {
		case "EHLO", "MAIL", "RCPT":
			if !reply(verb) {
				return
			}
		case "QUIT":
			reply(verb)
			return
		case "DATA":
			if !reply(verb) {
				return
			}
			if !strings.HasPrefix(replies["DATA"], "354") {
				continue
			}
			data, err := conn.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.data = string(data)
			s.mu.Unlock()
			if !reply("END") {
				return
			}
		default:
			if conn.PrintfLine("502 command not implemented") != nil {
				return
			}
		}
	}
}

func (s *scriptedServer) received() (commands []string, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...), s.data
}

func TestSendMailServerReplies(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		overrides map[string]string
		// errorText is empty when the send must succeed.
		errorText string
		permanent bool
	}{
		{name: "accepted", overrides: nil},
		{name: "QUIT unanswered after the mail was accepted", overrides: map[string]string{"QUIT": ""}},
		{name: "MAIL 451", overrides: map[string]string{"MAIL": "451 4.3.0 try later"}, errorText: "send MAIL FROM:<sender@example.com>", permanent: false},
		{name: "RCPT 550", overrides: map[string]string{"RCPT": "550 5.1.1 no such user"}, errorText: "send RCPT TO:<a@example.com>", permanent: true},
		{name: "RCPT 452", overrides: map[string]string{"RCPT": "452 4.5.3 too many recipients"}, errorText: "452", permanent: false},
		{name: "DATA 554", overrides: map[string]string{"DATA": "554 5.5.1 no valid recipients"}, errorText: "send DATA", permanent: true},
		{name: "end of data 552", overrides: map[string]string{"END": "552 5.3.4 message too big"}, errorText: "end DATA", permanent: true},
		{name: "end of data 451", overrides: map[string]string{"END": "451 4.3.0 queue full"}, errorText: "end DATA", permanent: false},
		{name: "connection closed before the end-of-data reply", overrides: map[string]string{"END": ""}, errorText: "end DATA", permanent: false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			server := startScriptedServer(t, test.overrides)

			err := sendMail(t.Context(), testSettings(t, server.addr, 5*time.Second), []string{"a@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"), hclog.NewNullLogger())

			if test.errorText == "" {
				require.NoError(t, err, "send to a server that accepts the mail")
				_, data := server.received()
				assert.Equal(t, "Subject: x\r\n\r\nbody\r\n", strings.ReplaceAll(data, "\n", "\r\n"), "mail data the server received")
				return
			}
			require.Error(t, err, "send to a server with replies %v", test.overrides)
			assert.Contains(t, err.Error(), test.errorText, "error names the failed step")
			assert.Equal(t, test.permanent, pluginapi.IsPermanent(err), "error %q is permanent", err)
		})
	}
}

func TestSendMailAuthChecks(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// ehlo is the scripted server's EHLO reply.
		ehlo string
		// host is the name that TLS and AUTH check; the test connects to
		// the scripted server on 127.0.0.1 in every case.
		host      string
		errorText string
	}{
		{
			name:      "server offers no AUTH",
			ehlo:      "250 scripted",
			host:      "127.0.0.1",
			errorText: "does not offer AUTH",
		},
		{
			name:      "no TLS to a remote name",
			ehlo:      "250-scripted\r\n250 AUTH PLAIN",
			host:      "mail.example.com",
			errorText: "does not offer STARTTLS",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			server := startScriptedServer(t, map[string]string{"EHLO": test.ehlo})
			s := testSettings(t, server.addr, 5*time.Second)
			s.smtpHost = test.host
			s.username, s.password = "mailer", "secret"

			err := sendMail(t.Context(), s, []string{"a@example.com"}, []byte("x\r\n"), hclog.NewNullLogger())

			require.Error(t, err, "send with credentials")
			assert.Contains(t, err.Error(), test.errorText, "error explains the config problem")
			assert.NotContains(t, err.Error(), "secret", "error contains the password")
			assert.True(t, pluginapi.IsPermanent(err), "error %q is permanent", err)
			commands, _ := server.received()
			assert.NotContains(t, commands, "MAIL", "no mail transaction starts")
		})
	}
}
