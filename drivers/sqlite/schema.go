package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// schemaVersion is stored in PRAGMA user_version once the schema exists.
const schemaVersion = 1

// schema creates the messages table. All times are Unix milliseconds. A
// message is visible when visible_at is not in the future. The receipt
// column is the token of the latest receive, NULL before the first one.
//
// NOTE: visible_at is wall-clock time, so that processes can compare it. A
// clock step moves every visibility deadline with it: a step forward
// releases in-flight messages early, and a step back hides them longer.
//
// TODO: the primary key on id is a second index, so an insert or an ack
// writes three pages: the table, this index and the queue index. Receipt
// handles that carry the rowid would let acks and dead letters find rows
// without it and save a third of those writes, at the cost of a migration
// that rebuilds the table.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS messages (
		id                TEXT    NOT NULL PRIMARY KEY,
		queue             TEXT    NOT NULL,
		body              BLOB    NOT NULL,
		attributes        TEXT,
		sent_at           INTEGER NOT NULL,
		visible_at        INTEGER NOT NULL,
		receive_count     INTEGER NOT NULL DEFAULT 0,
		receipt           TEXT,
		first_received_at INTEGER
	)`,
	`CREATE INDEX IF NOT EXISTS messages_queue_visible_at ON messages (queue, visible_at)`,
}

// migrate creates the schema in one transaction unless it exists, and
// rejects a database that a newer version of the driver created.
func migrate(ctx context.Context, writer *sql.DB) error {
	return retryBusy(ctx, func() error {
		tx, err := writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		defer func() { _ = tx.Rollback() }()

		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}

		if version > schemaVersion {
			return fmt.Errorf("schema version %d is newer than version %d that this driver supports: upgrade vega-host", version, schemaVersion)
		}

		for _, statement := range schema {
			if _, err := tx.ExecContext(ctx, statement); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}

		// PRAGMA takes no bound parameters, so the version is formatted in.
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}

		return tx.Commit()
	})
}

// connectionRole is the purpose of a pool of connections.
type connectionRole int

const (
	// writerRole is the single connection that runs every write. Its
	// transactions start with BEGIN IMMEDIATE, so they take the write lock
	// at the start instead of upgrading a read lock later, which fails at
	// once when another connection wrote in between.
	writerRole connectionRole = iota
	// readerRole is a read-only connection, which in WAL mode reads while
	// the writer writes.
	readerRole
)

// dataSourceName returns the modernc.org/sqlite DSN for the database at the
// absolute path.
func dataSourceName(path string, role connectionRole, cfg config) string {
	query := url.Values{}
	query.Add("_pragma", "busy_timeout("+strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)+")")
	query.Add("_pragma", "synchronous(NORMAL)")

	switch role {
	case writerRole:
		query.Add("_pragma", "journal_mode(WAL)")
		query.Set("_txlock", "immediate")
	case readerRole:
		query.Add("_pragma", "query_only(1)")
	}

	// A file: URI with an escaped path keeps a '?' or '#' in the path from
	// being read as the start of the parameters. SQLite expects a drive
	// letter after a slash, as in file:///C:/data/vega.db.
	// NOTE: only Linux runs the tests, so Windows paths are untested.
	uriPath := filepath.ToSlash(path)
	if !strings.HasPrefix(uriPath, "/") {
		uriPath = "/" + uriPath
	}

	uri := url.URL{Scheme: "file", Path: uriPath, RawQuery: query.Encode()}

	return uri.String()
}
