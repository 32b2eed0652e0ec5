package sqlite

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Retries of a statement that failed because the database was locked.
// busy_timeout already makes SQLite wait for most locks. The retries cover
// the cases where SQLite gives up at once, such as a read snapshot that went
// stale before its transaction could write.
const (
	maxBusyAttempts  = 5
	firstBusyBackoff = 10 * time.Millisecond
)

// retryBusy runs op until it returns nil or an error other than SQLITE_BUSY
// and SQLITE_LOCKED, doubling the pause between attempts, and gives up
// after maxBusyAttempts attempts or when ctx ends. It returns op's last
// error.
func retryBusy(ctx context.Context, op func() error) error {
	backoff := firstBusyBackoff

	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !isBusy(err) || attempt == maxBusyAttempts {
			return err
		}

		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}

		backoff *= 2
	}
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED, with any
// extended code.
func isBusy(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}

	switch sqliteErr.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	default:
		return false
	}
}
