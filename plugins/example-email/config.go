package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// defaultTimeout bounds one send when the config sets no timeout.
const defaultTimeout = 30 * time.Second

// Config is the listener's config object in listeners.hcl.
type Config struct {
	// SMTPAddr is the SMTP server as host:port. Required.
	SMTPAddr string `json:"smtp_addr"`
	// From is the sender, such as "Vega <noreply@example.com>". It is
	// both the From header and the envelope sender. Required.
	From string `json:"from"`
	// Username and Password enable SMTP AUTH PLAIN. Set both or neither.
	// Go's net/smtp sends PLAIN credentials only over TLS
	// (STARTTLS) or to localhost, 127.0.0.1 or ::1.
	Username string `json:"username"`
	Password string `json:"password"`
	// Timeout is the maximum number of seconds for one send, from the
	// connect to the end of the transaction: more than 0 and at most 3600,
	// 30 when unset. The handler's context may end the send earlier.
	Timeout *float64 `json:"timeout"`
}

// configKeys are the keys Config accepts. loadConfig rejects other keys,
// so that a misspelled key does not pass silently.
var configKeys = []string{"smtp_addr", "from", "username", "password", "timeout"}

// settings is a validated Config.
type settings struct {
	smtpAddr string
	// smtpHost is the host part of smtpAddr, which TLS and AUTH PLAIN
	// check the server against.
	smtpHost string
	from     *mail.Address
	username string
	password string
	timeout  time.Duration
}

// loadConfig decodes and validates the listener's config. It reports all
// problems at once.
func loadConfig(info pluginapi.StartupInfo) (settings, error) {
	var fields map[string]json.RawMessage
	if err := info.DecodeConfig(&fields); err != nil {
		return settings{}, err
	}

	var problems []error
	for key := range fields {
		if !slices.Contains(configKeys, key) {
			problems = append(problems, fmt.Errorf("unknown key %q: the keys are %s", key, strings.Join(configKeys, ", ")))
		}
	}
	// Map iteration order is random, so sort the problems for a stable
	// message.
	slices.SortFunc(problems, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })

	var config Config
	if err := info.DecodeConfig(&config); err != nil {
		return settings{}, err
	}

	result, err := validateConfig(config)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return settings{}, fmt.Errorf("invalid config of listener %q: %w", info.Listener, errors.Join(problems...))
	}
	return result, nil
}

// validateConfig checks every field of config and returns the settings, or
// all problems joined.
func validateConfig(config Config) (settings, error) {
	var problems []error
	result := settings{
		smtpAddr: config.SMTPAddr,
		username: config.Username,
		password: config.Password,
		timeout:  defaultTimeout,
	}

	host, err := validateSMTPAddr(config.SMTPAddr)
	if err != nil {
		problems = append(problems, err)
	}
	result.smtpHost = host

	switch {
	case config.From == "":
		problems = append(problems, errors.New("from is missing: set the sender address, such as \"noreply@example.com\""))
	default:
		from, err := parseAddress(config.From)
		if err != nil {
			problems = append(problems, fmt.Errorf("from: %w", err))
		}
		result.from = from
	}

	if (config.Username == "") != (config.Password == "") {
		problems = append(problems, errors.New("username and password must be set together for SMTP AUTH, or both left out"))
	}

	if config.Timeout != nil {
		seconds := *config.Timeout
		if seconds <= 0 || seconds > 3600 {
			problems = append(problems, fmt.Errorf("invalid timeout %v: expected seconds greater than 0 and at most 3600", seconds))
		}
		result.timeout = time.Duration(seconds * float64(time.Second))
	}

	if len(problems) > 0 {
		return settings{}, errors.Join(problems...)
	}
	return result, nil
}

// validateSMTPAddr checks that addr is host:port and returns the host.
func validateSMTPAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("smtp_addr is missing: set the SMTP server as host:port, such as \"127.0.0.1:1025\"")
	}

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid smtp_addr %q: expected host:port: %w", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("invalid smtp_addr %q: the host is empty", addr)
	}
	number, err := strconv.Atoi(port)
	if err != nil || number < 1 || number > 65535 {
		return "", fmt.Errorf("invalid smtp_addr %q: the port must be a number from 1 to 65535", addr)
	}
	return host, nil
}
