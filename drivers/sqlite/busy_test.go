package sqlite_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
)

// holdWriteLock takes the database's write lock on a connection of its own
// and releases it after hold.
func holdWriteLock(t *testing.T, path string, hold time.Duration) {
	t.Helper()

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	conn, err := db.Conn(t.Context())
	require.NoError(t, err)

	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	require.NoError(t, err, "take the write lock")

	timer := time.AfterFunc(hold, func() {
		_, _ = conn.ExecContext(t.Context(), "COMMIT")
		_ = conn.Close()
	})
	t.Cleanup(func() {
		if timer.Stop() {
			_, _ = conn.ExecContext(t.Context(), "COMMIT")
			_ = conn.Close()
		}
	})
}

func TestSendWaitsForLock(t *testing.T) {
	tests := []struct {
		name        string
		busyTimeout time.Duration
		hold        time.Duration
	}{
		// busy_timeout covers the whole wait.
		{"within busy timeout", sqlite.DefaultBusyTimeout, 200 * time.Millisecond},
		// busy_timeout gives up after 1 ms, and the driver's retries
		// wait out the rest.
		{"after retries", time.Millisecond, 50 * time.Millisecond},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newDatabasePath(t)
			d := openDriver(t, path, sqlite.WithBusyTimeout(tt.busyTimeout))

			holdWriteLock(t, path, tt.hold)

			start := time.Now()
			_, err := d.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte("payload")})

			require.NoError(t, err, "send should wait until the other connection releases the write lock")
			assert.GreaterOrEqual(t, time.Since(start), tt.hold-5*time.Millisecond, "send should have waited for the lock")
		})
	}
}

func TestSendFailsWhenLockIsHeldTooLong(t *testing.T) {
	path := newDatabasePath(t)
	d := openDriver(t, path, sqlite.WithBusyTimeout(time.Millisecond))

	holdWriteLock(t, path, 5*time.Second)

	start := time.Now()
	_, err := d.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte("payload")})
	elapsed := time.Since(start)

	require.Error(t, err, "send should fail when the write lock outlasts the busy timeout and the retries")

	var sqliteErr *msqlite.Error
	require.True(t, errors.As(err, &sqliteErr), "the error should wrap the SQLite error, got %v", err)
	assert.Equal(t, sqlite3.SQLITE_BUSY, sqliteErr.Code()&0xff, "the SQLite error should be SQLITE_BUSY")
	assert.Less(t, elapsed, 2*time.Second, "send should give up after its retries, not wait for the lock")
}
