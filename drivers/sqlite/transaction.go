package sqlite

import (
	"fmt"
	"slices"
	"time"
)

// commit runs the operations of batch in one transaction, together with
// those queued while it runs, and hands each caller its outcome. When an
// operation fails, the transaction rolls back, its caller gets the error,
// and the others run again in a new transaction. When the database is
// locked, the whole batch is retried as retryBusy does.
func (w *writer) commit(batch []*writeOperation) {
	pending := batch
	backoff := firstBusyBackoff

	for attempt := 1; ; {
		pending = finishEnded(pending)
		if len(pending) == 0 {
			return
		}

		failed, err := w.runTransaction(&pending)

		switch {
		case err == nil:
			if slices.ContainsFunc(pending, func(op *writeOperation) bool { return op.changed }) {
				w.lastCommit.Store(time.Now().UnixNano())
				w.commits.Add(1)
			}

			for _, op := range pending {
				op.done <- nil
			}
			return

		case isBusy(err) && attempt < maxBusyAttempts:
			// Another process holds the write lock beyond the busy timeout,
			// or a statement found the database locked. Wait and retry the
			// whole batch, as retryBusy does for a single statement.
			time.Sleep(backoff)
			backoff *= 2
			attempt++

		case failed >= 0 && !isBusy(err):
			pending[failed].done <- err
			pending = append(pending[:failed], pending[failed+1:]...)

		default:
			for _, op := range pending {
				op.done <- err
			}
			return
		}
	}
}

// finishEnded hands ctx.Err() to the operations whose context ended before
// their transaction started, drops them and returns the others.
func finishEnded(ops []*writeOperation) []*writeOperation {
	running := ops[:0]
	for _, op := range ops {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}

		running = append(running, op)
	}

	return running
}

// runTransaction runs the pending operations in one transaction. The
// operations queued before it commits join the transaction and are
// appended to pending. When an operation fails, it returns the operation's
// index in pending and the error. When BEGIN or COMMIT fails, it returns -1
// and the error. The transaction is rolled back in both cases.
func (w *writer) runTransaction(pending *[]*writeOperation) (failed int, err error) {
	s := w.stmts
	ops := *pending

	if w.needsNoTransaction(ops) {
		for i, op := range ops {
			if err := op.run(s); err != nil {
				return i, err
			}
		}
		return -1, nil
	}

	// The writer connection's DSN sets _txlock=immediate, but that applies
	// to database/sql transactions only, so the mode is spelled out.
	if _, err := s.begin.Exec(); err != nil {
		return -1, fmt.Errorf("begin transaction: %w", err)
	}

	for i := 0; ; i++ {
		if i == len(ops) {
			ops = w.takeQueued(ops)
			*pending = ops

			if i == len(ops) {
				break
			}
		}

		if err := ops[i].run(s); err != nil {
			w.rollback()
			return i, err
		}
	}

	if _, err := s.commit.Exec(); err != nil {
		w.rollback()
		return -1, fmt.Errorf("commit transaction: %w", err)
	}

	return -1, nil
}

// needsNoTransaction reports whether ops may run one statement at a time
// without BEGIN and COMMIT, which saves two statements. That holds for a
// batch of reads, which then take no write lock. It holds for a single
// statement, which SQLite runs in a transaction of its own, unless other
// callers contend.
func (w *writer) needsNoTransaction(ops []*writeOperation) bool {
	// While callers contend, BEGIN and COMMIT let the operations that
	// arrive during the statement join it.
	if len(ops) == 1 && ops[0].singleStatement {
		return time.Now().UnixNano()-w.lastContended.Load() >= contentionWindow.Nanoseconds()
	}

	for _, op := range ops {
		if !op.readOnly {
			return false
		}
	}

	return true
}

// rollback ends the open transaction. SQLite may have rolled it back
// already after some errors, and then ROLLBACK fails harmlessly with "no
// transaction is active".
func (w *writer) rollback() {
	_, _ = w.stmts.rollback.Exec()
}
