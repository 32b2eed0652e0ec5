package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the prepared statements of the calls that run once per
// message. Named parameters are bound with sql.Named.
type statements struct {
	insert   *sql.Stmt
	claim    *sql.Stmt
	ack      *sql.Stmt
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

// earliestSQL returns when the queue's next message becomes visible, or
// NULL when the queue is empty.
const earliestSQL = `
SELECT min(visible_at) FROM messages WHERE queue = :queue`

func prepareStatements(ctx context.Context, writer, reader *sql.DB) (_ *statements, err error) {
	s := &statements{}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()

	prepare := func(db *sql.DB, query, name string) *sql.Stmt {
		if err != nil {
			return nil
		}

		var stmt *sql.Stmt
		stmt, err = db.PrepareContext(ctx, query)
		if err != nil {
			err = fmt.Errorf("prepare %s statement: %w", name, err)
		}

		return stmt
	}

	s.insert = prepare(writer, insertSQL, "insert")
	s.claim = prepare(writer, claimSQL, "claim")
	s.ack = prepare(writer, ackSQL, "ack")
	s.earliest = prepare(reader, earliestSQL, "earliest visibility")

	return s, err
}

func (s *statements) close() error {
	var errs []error

	for _, stmt := range []*sql.Stmt{s.insert, s.claim, s.ack, s.earliest} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}

	return errors.Join(errs...)
}
