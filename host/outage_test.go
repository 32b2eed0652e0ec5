package host_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
)

// outageBusyTimeout is how long one statement of the host's driver waits
// for the lock before it fails with SQLITE_BUSY.
const outageBusyTimeout = 200 * time.Millisecond

// minLockTime is how long the outage test holds the database lock at
// least.
const minLockTime = 2 * time.Second

func TestHostSurvivesLockedDatabase(t *testing.T) {
	const messages = 10
	path := filepath.Join(t.TempDir(), "queue.db")
	record := filepath.Join(t.TempDir(), "events.jsonl")

	driver, err := sqlite.Open(path, sqlite.WithBusyTimeout(outageBusyTimeout))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, driver.Close()) })
	for range messages {
		_, err := driver.Send(context.Background(), "jobs", outgoing(`{"action": "ok", "key": "queued"}`))
		require.NoError(t, err)
	}

	lock := lockDatabase(t, path)
	lockedAt := time.Now()

	logs := &syncBuffer{}
	done := runSQLiteHost(t, driver, path, record, logs)
	b := &bundle{record: record}

	// The lock is held for at least minLockTime and until the host has
	// logged a failed receive.
	require.Eventually(t, func() bool {
		return time.Since(lockedAt) >= minLockTime && len(receiveFailures(t, logs)) >= 1
	}, within, tick, "the host logs its failed receives while the database is locked")
	assert.Equal(t, 0, b.count(t, "start", "queued"), "no message reaches the plugin while the database is locked")
	lock.release(t)
	lockedFor := time.Since(lockedAt)

	require.Eventually(t, func() bool { return b.count(t, "handled", "queued") == messages }, within, tick,
		"every queued message is handled after the lock is released; log:\n%s", logs.String())
	require.Eventually(t, func() bool {
		visible, inFlight, err := driver.Depth(context.Background(), "jobs")
		return err == nil && visible == 0 && inFlight == 0
	}, within, tick, "the queue is empty after the acks")

	select {
	case err := <-done:
		t.Fatalf("the host exited during the outage: %v", err)
	default:
	}

	failures := receiveFailures(t, logs)
	// Every failed receive waits out at least one busy timeout, so a
	// flood would show as more lines than that allows.
	maxLines := int(lockedFor/outageBusyTimeout) + 1
	assert.LessOrEqual(t, len(failures), maxLines, "receive failures logged in %s of lock", lockedFor.Round(time.Millisecond))
	for i, line := range failures {
		assert.Equal(t, "warn", line.Level, "receive failure %d is logged at warn", i+1)
		assert.Equal(t, float64(i+1), line.Attempt, "receive failure %d carries its attempt number", i+1)
		assert.NotEmpty(t, line.RetryIn, "receive failure %d says when the next attempt comes", i+1)
		assert.Contains(t, line.Error, "SQLITE_BUSY", "receive failure %d names the cause", i+1)
	}
	for i := 1; i < len(failures); i++ {
		previous, err := time.ParseDuration(failures[i-1].RetryIn)
		require.NoError(t, err)
		current, err := time.ParseDuration(failures[i].RetryIn)
		require.NoError(t, err)
		assert.Greater(t, current, previous, "the pause after receive failure %d is longer than the one before", i+1)
	}
	assert.Contains(t, logs.String(), `"@message":"receive recovered"`, "the host logs that receiving works again")
}

// databaseLock is an exclusive transaction that another connection holds
// on the database file.
type databaseLock struct {
	db   *sql.DB
	conn *sql.Conn
}

// lockDatabase takes the write lock of the SQLite file at path with BEGIN
// EXCLUSIVE on a connection of its own.
func lockDatabase(t *testing.T, path string) *databaseLock {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE")
	require.NoError(t, err, "take the lock")

	lock := &databaseLock{db: db, conn: conn}
	t.Cleanup(func() { lock.release(t) })
	return lock
}

// release ends the transaction and closes the connection. Later calls do
// nothing.
func (l *databaseLock) release(t *testing.T) {
	t.Helper()
	if l.conn == nil {
		return
	}
	_, err := l.conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err, "release the lock")
	require.NoError(t, l.conn.Close())
	require.NoError(t, l.db.Close())
	l.conn = nil
}

// runSQLiteHost runs a host with one behave listener on the "jobs" queue
// of driver and stops it when the test ends. The returned channel gets
// Run's result.
func runSQLiteHost(t *testing.T, driver drivers.Driver, path, record string, logs *syncBuffer) <-chan error {
	t.Helper()
	cfg := &config.Config{
		File:    "test.hcl",
		Host:    config.Host{LogLevel: "debug", ShutdownTimeout: 10 * time.Second},
		Drivers: []config.Driver{{Kind: "sqlite", Path: path}},
		Listeners: []config.Listener{{
			Name:              "behave",
			Plugin:            buildtest.Binary(t, "./host/testdata/plugins/behave"),
			Driver:            "sqlite",
			Queue:             "jobs",
			Workers:           2,
			AutoAck:           true,
			VisibilityTimeout: 30 * time.Second,
			MaxMessages:       1,
			RetryDelay:        50 * time.Millisecond,
			MaxRetryDelay:     time.Second,
			Config:            json.RawMessage(fmt.Sprintf(`{"record_file": %q}`, record)),
		}},
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs, JSONFormat: true})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- host.New(cfg, logger, host.WithDriver("sqlite", driver)).Run(ctx, nil) }()

	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "a clean shutdown returns nil")
		case <-time.After(30 * time.Second):
			t.Errorf("host did not stop within 30s")
		}
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return done
}

// logLine holds the fields of a host log line that the outage test reads.
type logLine struct {
	Level   string  `json:"@level"`
	Message string  `json:"@message"`
	Attempt float64 `json:"attempt"`
	RetryIn string  `json:"retry_in"`
	Error   string  `json:"error"`
}

// receiveFailures returns the "receive failed" lines of the host log.
func receiveFailures(t *testing.T, logs *syncBuffer) []logLine {
	t.Helper()
	var lines []logLine
	scanner := bufio.NewScanner(strings.NewReader(logs.String()))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var line logLine
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &line), "log line %q", scanner.Text())
		if line.Message == "receive failed" {
			lines = append(lines, line)
		}
	}
	return lines
}
