package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/pluginapi"
)

// sendMail delivers message to recipients through the SMTP server of s in
// one transaction, so a rejected recipient stops the mail for all of them.
// The send ends when ctx ends or s.timeout passes, whichever comes first.
//
// The returned error is permanent (pluginapi.IsPermanent) when the server
// replied with a 5xx code or the config cannot work with this server, and
// temporary otherwise: refused connections, timeouts and 4xx replies.
func sendMail(ctx context.Context, s settings, recipients []string, message []byte, logger hclog.Logger) error {
	timeoutCause := fmt.Errorf("the timeout of %s set in the listener config passed: %w", s.timeout, context.DeadlineExceeded)
	ctx, cancel := context.WithTimeoutCause(ctx, s.timeout, timeoutCause)
	defer cancel()

	err := transact(ctx, s, recipients, message, logger)
	if err == nil {
		return nil
	}

	// The connection's deadline is ctx's deadline, and the I/O error it
	// causes may come a moment before ctx's own timer ends ctx. Wait for
	// ctx, briefly, to learn the cause.
	if errors.Is(err, os.ErrDeadlineExceeded) {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}

	// An I/O error such as "i/o timeout" does not say why the send
	// stopped, but the context's cause does.
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
	}
	return classifySendError(err)
}

// transact runs the SMTP conversation: connect, EHLO, STARTTLS when the
// server offers it, AUTH when the config has credentials, MAIL, RCPT for
// each recipient, DATA and QUIT.
func transact(ctx context.Context, s settings, recipients []string, message []byte, logger hclog.Logger) error {
	// TODO: each mail opens its own connection, so every send pays for the
	// TCP (and TLS) handshake. Implicit TLS (SMTPS on port 465) is not
	// supported, only STARTTLS. EHLO always names the client "localhost",
	// which some servers reject.
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.smtpAddr)
	if err != nil {
		return fmt.Errorf("connect to SMTP server %s: %w", s.smtpAddr, err)
	}
	defer conn.Close()

	// net/smtp takes no context, so the connection's deadline carries it:
	// reads and writes fail at ctx's deadline, and at once when ctx is
	// canceled earlier.
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return fmt.Errorf("set deadline on connection to %s: %w", s.smtpAddr, err)
		}
	}
	stopInterrupt := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Now())
	})
	defer stopInterrupt()

	client, err := smtp.NewClient(conn, s.smtpHost)
	if err != nil {
		return fmt.Errorf("read greeting of SMTP server %s: %w", s.smtpAddr, err)
	}
	defer client.Close()

	if err := startTLS(client, s); err != nil {
		return err
	}
	if err := authenticate(client, s); err != nil {
		return err
	}

	if err := client.Mail(s.from.Address); err != nil {
		return fmt.Errorf("send MAIL FROM:<%s> to %s: %w", s.from.Address, s.smtpAddr, err)
	}
	for _, recipient := range recipients {
		if err := client.Rcpt(recipient); err != nil {
			return fmt.Errorf("send RCPT TO:<%s> to %s: %w", recipient, s.smtpAddr, err)
		}
	}

	writer, err := client.Data()
	if err != nil {
		return fmt.Errorf("send DATA to %s: %w", s.smtpAddr, err)
	}
	if _, err := writer.Write(message); err != nil {
		return fmt.Errorf("write mail to %s: %w", s.smtpAddr, err)
	}
	// Close ends DATA and reads the server's reply, which accepts or
	// rejects the mail.
	// NOTE: when the connection fails after the mail data was sent but
	// before the reply arrives, the server may have accepted the mail. The
	// error is temporary, so the retry can deliver the mail twice.
	if err := writer.Close(); err != nil {
		return fmt.Errorf("end DATA on %s: %w", s.smtpAddr, err)
	}

	// The server has accepted the mail, so a failed QUIT must not cause a
	// retry, which would send the mail twice.
	if err := client.Quit(); err != nil {
		logger.Warn("QUIT failed after the SMTP server accepted the mail", "smtp_addr", s.smtpAddr, "error", err)
	}
	return nil
}

// startTLS upgrades the connection with STARTTLS when the server offers
// it, verifying the certificate against the host of smtp_addr.
func startTLS(client *smtp.Client, s settings) error {
	if ok, _ := client.Extension("STARTTLS"); !ok {
		return nil
	}

	config := &tls.Config{ServerName: s.smtpHost, MinVersion: tls.VersionTLS12}
	if err := client.StartTLS(config); err != nil {
		return fmt.Errorf("STARTTLS with SMTP server %s: %w", s.smtpAddr, err)
	}
	return nil
}

// authenticate runs AUTH PLAIN when the config has a username.
func authenticate(client *smtp.Client, s settings) error {
	if s.username == "" {
		return nil
	}

	if ok, _ := client.Extension("AUTH"); !ok {
		return pluginapi.Permanent(fmt.Errorf("SMTP server %s does not offer AUTH, but the config sets a username; remove username and password or use a server that supports AUTH", s.smtpAddr))
	}

	// net/smtp refuses to send PLAIN credentials without TLS unless the
	// server name is localhost, 127.0.0.1 or ::1. This check comes first
	// so that the error names the fix.
	_, encrypted := client.TLSConnectionState()
	if !encrypted && !isLocalhost(s.smtpHost) {
		return pluginapi.Permanent(fmt.Errorf("SMTP server %s does not offer STARTTLS, and AUTH PLAIN would send the password unencrypted; use a server with STARTTLS", s.smtpAddr))
	}

	auth := smtp.PlainAuth("", s.username, s.password, s.smtpHost)
	if err := client.Auth(auth); err != nil {
		return fmt.Errorf("authenticate as %q with SMTP server %s: %w", s.username, s.smtpAddr, err)
	}
	return nil
}

// isLocalhost reports whether net/smtp's PLAIN auth accepts host without
// TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// classifySendError marks err as permanent when it carries an SMTP reply
// with a 5xx code, which RFC 5321 defines as a permanent failure. Other
// errors keep their class: a 4xx reply, a refused connection or a timeout
// stays temporary, so the host retries the message, and an error already
// marked permanent stays permanent.
func classifySendError(err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 && reply.Code <= 599 {
		return pluginapi.Permanent(err)
	}
	return err
}
