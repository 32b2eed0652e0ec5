package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi"
)

func startupInfo(config string) pluginapi.StartupInfo {
	return pluginapi.StartupInfo{Listener: "send-email", Queue: "emails", Config: []byte(config)}
}

func TestLoadConfigValid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		config   string
		expected settings
	}{
		{
			name:   "required keys only",
			config: `{"smtp_addr": "127.0.0.1:1025", "from": "noreply@example.com"}`,
			expected: settings{
				smtpAddr: "127.0.0.1:1025",
				smtpHost: "127.0.0.1",
				timeout:  defaultTimeout,
			},
		},
		{
			name:   "every key",
			config: `{"smtp_addr": "mail.example.com:587", "from": "Vega <noreply@example.com>", "username": "mailer", "password": "secret", "timeout": 2.5}`,
			expected: settings{
				smtpAddr: "mail.example.com:587",
				smtpHost: "mail.example.com",
				username: "mailer",
				password: "secret",
				timeout:  2500 * time.Millisecond,
			},
		},
		{
			name:   "IPv6 host",
			config: `{"smtp_addr": "[::1]:25", "from": "noreply@example.com"}`,
			expected: settings{
				smtpAddr: "[::1]:25",
				smtpHost: "::1",
				timeout:  defaultTimeout,
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			loaded, err := loadConfig(startupInfo(test.config))

			require.NoError(t, err, "load config %s", test.config)
			assert.Equal(t, test.expected.smtpAddr, loaded.smtpAddr, "smtpAddr")
			assert.Equal(t, test.expected.smtpHost, loaded.smtpHost, "smtpHost")
			assert.Equal(t, "noreply@example.com", loaded.from.Address, "from address")
			assert.Equal(t, test.expected.username, loaded.username, "username")
			assert.Equal(t, test.expected.password, loaded.password, "password")
			assert.Equal(t, test.expected.timeout, loaded.timeout, "timeout")
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		config string
		// problems are substrings the error must contain, one per problem.
		problems []string
	}{
		{
			name:     "empty config",
			config:   `{}`,
			problems: []string{"smtp_addr is missing", "from is missing"},
		},
		{
			name:     "address without port",
			config:   `{"smtp_addr": "127.0.0.1", "from": "noreply@example.com"}`,
			problems: []string{`invalid smtp_addr "127.0.0.1": expected host:port`},
		},
		{
			name:     "port out of range",
			config:   `{"smtp_addr": "127.0.0.1:70000", "from": "noreply@example.com"}`,
			problems: []string{"the port must be a number from 1 to 65535"},
		},
		{
			name:     "empty host",
			config:   `{"smtp_addr": ":25", "from": "noreply@example.com"}`,
			problems: []string{"the host is empty"},
		},
		{
			name:     "invalid from",
			config:   `{"smtp_addr": "127.0.0.1:1025", "from": "not an address"}`,
			problems: []string{`from: invalid address "not an address"`},
		},
		{
			name:     "username without password",
			config:   `{"smtp_addr": "127.0.0.1:1025", "from": "noreply@example.com", "username": "mailer"}`,
			problems: []string{"username and password must be set together"},
		},
		{
			name:     "password without username",
			config:   `{"smtp_addr": "127.0.0.1:1025", "from": "noreply@example.com", "password": "secret"}`,
			problems: []string{"username and password must be set together"},
		},
		{
			name:     "zero timeout",
			config:   `{"smtp_addr": "127.0.0.1:1025", "from": "noreply@example.com", "timeout": 0}`,
			problems: []string{"invalid timeout 0"},
		},
		{
			name:     "timeout over an hour",
			config:   `{"smtp_addr": "127.0.0.1:1025", "from": "noreply@example.com", "timeout": 3601}`,
			problems: []string{"invalid timeout 3601"},
		},
		{
			name:     "misspelled keys",
			config:   `{"smtp_address": "127.0.0.1:1025", "sender": "noreply@example.com"}`,
			problems: []string{`unknown key "sender"`, `unknown key "smtp_address"`, "smtp_addr is missing", "from is missing"},
		},
		{
			name:     "wrong type",
			config:   `{"smtp_addr": 1025, "from": "noreply@example.com"}`,
			problems: []string{`decode config of listener "send-email"`},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			_, err := loadConfig(startupInfo(test.config))

			require.Error(t, err, "load config %s", test.config)
			for _, problem := range test.problems {
				assert.Contains(t, err.Error(), problem, "error reports this problem")
			}
		})
	}
}

func TestLoadConfigNeverShowsPassword(t *testing.T) {
	t.Parallel()

	// The config is invalid for another reason, and the error must still
	// not contain the password.
	_, err := loadConfig(startupInfo(`{"smtp_addr": "bad", "from": "noreply@example.com", "username": "u", "password": "hunter2"}`))

	require.Error(t, err, "load an invalid config")
	assert.NotContains(t, err.Error(), "hunter2", "error contains the password")
}
