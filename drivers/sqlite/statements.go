package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writeStatements are the prepared statements of the writer connection.
// Only the writer's goroutine runs them, with context.Background(), so
// that modernc.org/sqlite starts no goroutine per statement to watch for
// cancellation. Named parameters are bound with sql.Named.
type writeStatements struct {
	begin    *sql.Stmt
	commit   *sql.Stmt
	rollback *sql.Stmt

	dataVersion *sql.Stmt

	insert           *sql.Stmt
	claim            *sql.Stmt
	ack              *sql.Stmt
	changeVisibility *sql.Stmt
	storedAttributes *sql.Stmt
	moveToDeadLetter *sql.Stmt
}

// readStatements are the prepared statements of the read-only pool.
type readStatements struct {
	earliest *sql.Stmt
}

const insertSQL = `
INSERT INTO messages (id, queue, body, attributes, sent_at, visible_at)
VALUES (:id, :queue, :body, :attributes, :sent_at, :visible_at)`

// claimSQL hides up to :max visible messages of a queue in one statement.
// SQLite runs one write transaction at a time on a file, and each one reads
// what the earlier ones committed, so no two receivers, in this process or
// another, claim the same message. Each claimed row gets a new random
// receipt token.
const claimSQL = `
UPDATE messages
SET visible_at = :visible_at,
	receive_count = receive_count + 1,
	receipt = lower(hex(randomblob(16))),
	first_received_at = coalesce(first_received_at, :now)
WHERE rowid IN (
	SELECT rowid FROM messages
	WHERE queue = :queue AND visible_at <= :now
	ORDER BY visible_at
	LIMIT :max
)
RETURNING id, body, attributes, sent_at, receive_count, receipt, first_received_at`

const ackSQL = `
DELETE FROM messages
WHERE id = :id AND queue = :queue AND receipt = :receipt`

const changeVisibilitySQL = `
UPDATE messages SET visible_at = :visible_at
WHERE id = :id AND queue = :queue AND receipt = :receipt`

const storedAttributesSQL = `
SELECT attributes FROM messages
WHERE id = :id AND queue = :queue AND receipt = :receipt`

const moveToDeadLetterSQL = `
UPDATE messages
SET queue = :target, attributes = :attributes, visible_at = :now,
	receive_count = 0, receipt = NULL, first_received_at = NULL
WHERE id = :id`

// earliestSQL returns when the queue's next message becomes visible, or
// NULL when the queue is empty.
const earliestSQL = `
SELECT min(visible_at) FROM messages WHERE queue = :queue`

// preparer is the method of *sql.DB and *sql.Conn that prepares a
// statement.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// statementSet prepares statements and closes them all at once.
type statementSet struct {
	db       preparer
	prepared []*sql.Stmt
	err      error
}

// prepare prepares query unless an earlier statement failed, and records
// the first error, naming the statement.
func (p *statementSet) prepare(ctx context.Context, query, name string) *sql.Stmt {
	if p.err != nil {
		return nil
	}

	stmt, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		p.err = fmt.Errorf("prepare %s statement: %w", name, err)
		return nil
	}

	p.prepared = append(p.prepared, stmt)

	return stmt
}

func closeStatements(stmts []*sql.Stmt) error {
	var errs []error
	for _, stmt := range stmts {
		errs = append(errs, stmt.Close())
	}

	return errors.Join(errs...)
}

// prepareWriteStatements prepares the writer's statements on conn. The
// returned function closes them.
func prepareWriteStatements(ctx context.Context, conn *sql.Conn) (*writeStatements, func() error, error) {
	set := &statementSet{db: conn}
	s := &writeStatements{
		begin:    set.prepare(ctx, "BEGIN IMMEDIATE", "begin"),
		commit:   set.prepare(ctx, "COMMIT", "commit"),
		rollback: set.prepare(ctx, "ROLLBACK", "rollback"),

		dataVersion: set.prepare(ctx, "PRAGMA data_version", "data version"),

		insert:           set.prepare(ctx, insertSQL, "insert"),
		claim:            set.prepare(ctx, claimSQL, "claim"),
		ack:              set.prepare(ctx, ackSQL, "ack"),
		changeVisibility: set.prepare(ctx, changeVisibilitySQL, "change visibility"),
		storedAttributes: set.prepare(ctx, storedAttributesSQL, "stored attributes"),
		moveToDeadLetter: set.prepare(ctx, moveToDeadLetterSQL, "move to dead-letter queue"),
	}

	closeAll := func() error { return closeStatements(set.prepared) }
	if set.err != nil {
		_ = closeAll()
		return nil, nil, set.err
	}

	return s, closeAll, nil
}

// prepareReadStatements prepares the read-only statements on the reader
// pool. The returned function closes them.
func prepareReadStatements(ctx context.Context, db *sql.DB) (*readStatements, func() error, error) {
	set := &statementSet{db: db}
	s := &readStatements{
		earliest: set.prepare(ctx, earliestSQL, "earliest visibility"),
	}

	closeAll := func() error { return closeStatements(set.prepared) }
	if set.err != nil {
		_ = closeAll()
		return nil, nil, set.err
	}

	return s, closeAll, nil
}
