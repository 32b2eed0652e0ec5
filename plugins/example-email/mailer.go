package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// Mailer is the email listener. Startup reads its config, and Handle sends
// each message's Email through the configured SMTP server. It is safe for
// concurrent use.
type Mailer struct {
	settings atomic.Pointer[settings]

	// now returns the time for the Date header. Nil means time.Now.
	now func() time.Time
}

// Startup validates the listener's config and keeps it for Handle. It
// reports every config problem in one error.
func (m *Mailer) Startup(_ context.Context, info pluginapi.StartupInfo) error {
	s, err := loadConfig(info)
	if err != nil {
		return err
	}
	m.settings.Store(&s)

	// The host adds the listener's name to every line a plugin logs.
	pluginapi.Logger().Info("email listener configured",
		"smtp_addr", s.smtpAddr,
		"from", s.from.Address,
		"smtp_auth", s.username != "",
		"timeout", s.timeout.String(),
	)
	return nil
}

// Handle sends the Email in msg's body. A body that is not a valid Email
// returns a permanent error, as does a 5xx reply from the SMTP server.
// Connection failures, timeouts and 4xx replies return a temporary error,
// which the host retries.
func (m *Mailer) Handle(ctx context.Context, msg *pluginapi.Message) error {
	s := m.settings.Load()
	if s == nil {
		return errors.New("email listener has no config: Startup did not succeed before Handle")
	}

	email, err := parseEmail(msg)
	if err != nil {
		return err
	}

	now := time.Now
	if m.now != nil {
		now = m.now
	}
	messageID := newMessageID(s.from)
	message, err := buildMessage(s.from, email, now(), messageID)
	if err != nil {
		return pluginapi.Permanent(fmt.Errorf("build email for message %s: %w", msg.ID, err))
	}

	recipients := make([]string, len(email.to))
	for i, address := range email.to {
		recipients[i] = address.Address
	}

	logger := pluginapi.Logger().With("message_id", msg.ID)
	started := time.Now()
	if err := sendMail(ctx, *s, recipients, message, logger); err != nil {
		return fmt.Errorf("send email for message %s: %w", msg.ID, err)
	}

	logger.Debug("email sent",
		"smtp_addr", s.smtpAddr,
		"recipients", len(recipients),
		"email_message_id", messageID,
		"duration", time.Since(started).String(),
	)
	return nil
}
