package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// maxOperationsPerTransaction bounds how many operations share one
// transaction, so that a long queue of callers does not make one
// transaction, and the wait of its first caller, arbitrarily long.
const maxOperationsPerTransaction = 256

// contentionWindow is how long after a caller found another leader running
// the writer expects more callers to arrive while it runs a statement.
const contentionWindow = time.Millisecond

// maxExtraTransactions is how many transactions a leader runs for other
// callers after its own operation committed, before it hands the lead to
// one of them.
const maxExtraTransactions = 2

// writer runs every write of a Driver on its single write connection. The
// operations that callers hand over while a transaction runs are committed
// together in the next transaction (group commit). This turns many small
// transactions into a few larger ones, because commits, not statements,
// dominate the cost of a write in SQLite. Every caller still waits for the
// commit of its own operation, so a call returns only after its change is
// as durable as the connection's synchronous setting makes it.
//
// Callers run the transactions themselves (flat combining): the caller that
// finds the connection free becomes the leader and runs the queued
// operations of everyone, while the others wait for their outcome. A caller
// without competition so runs its statement in its own goroutine, with no
// hand-over to another goroutine.
//
// NOTE: a leader with queued operations starts the next transaction right
// after the last one commits, while a writer in another process waits in
// SQLite's busy handler, which sleeps between its attempts. Under sustained
// load here, such a writer, for example `vega-host send`, can keep losing
// the lock and wait up to its busy timeout.
type writer struct {
	conn  *sql.Conn
	stmts *writeStatements

	// lead is held by the leader.
	lead sync.Mutex

	// lastCommit is when a transaction that changed the database last
	// committed, in Unix nanoseconds, and commits counts such transactions.
	lastCommit atomic.Int64
	commits    atomic.Int64
	// lastContended is when a caller last found another leader running, in
	// Unix nanoseconds.
	lastContended atomic.Int64

	// mu guards queued.
	mu sync.Mutex
	// queued holds the operations that wait for a leader, oldest first.
	queued []*writeOperation
}

// writeOperation is one caller's part of a transaction.
type writeOperation struct {
	ctx context.Context
	// apply runs the operation's statements inside the open transaction
	// and reports whether they changed the database.
	apply applyFunc
	// changed is the report of apply's latest run.
	changed bool
	// singleStatement marks an apply that runs one statement, which
	// needs no explicit transaction when it is alone in a batch.
	singleStatement bool
	// readOnly marks an apply that only reads, which needs no transaction
	// when the batch has only such operations.
	readOnly bool

	// state moves from operationQueued to operationTaken when a leader
	// includes the operation in a transaction, or to operationAbandoned
	// when the caller stops waiting before that.
	state atomic.Int32
	// done gets the outcome.
	done chan error
	// promote gets a value when a leader left while the operation was
	// queued, so that its caller leads next.
	promote chan struct{}
}

// applyFunc runs an operation's statements on the write connection and
// reports whether they changed the database. It returns only errors of the
// database, and stores outcomes such as an unknown receipt handle itself.
// An error rolls back the transaction, and the leader runs the other
// operations again without this one, so an applyFunc must reset whatever
// it stores when it starts.
type applyFunc func(s *writeStatements) (changed bool, err error)

// run runs apply and records whether it changed the database.
func (op *writeOperation) run(s *writeStatements) error {
	var err error
	op.changed, err = op.apply(s)

	return err
}

const (
	operationQueued int32 = iota
	operationTaken
	operationAbandoned
)

func newWriter(conn *sql.Conn, stmts *writeStatements) *writer {
	return &writer{conn: conn, stmts: stmts}
}

// do runs apply in a write transaction and returns when the transaction
// committed or failed. When ctx ends before a leader started the
// operation, do returns ctx.Err() and the operation never runs. Once it
// started, do waits for its outcome, which takes one transaction, or the
// busy timeout and the retries when another process holds the write lock.
// A caller that leads also runs up to maxExtraTransactions transactions of
// other callers before it returns.
func (w *writer) do(ctx context.Context, apply applyFunc) error {
	return w.submit(ctx, newWriteOperation(ctx, apply))
}

// doStatement is do for an apply that runs a single statement.
func (w *writer) doStatement(ctx context.Context, apply applyFunc) error {
	op := newWriteOperation(ctx, apply)
	op.singleStatement = true

	return w.submit(ctx, op)
}

// readVersion returns PRAGMA data_version of the write connection. It
// changes when another connection commits to the database, and not when
// the writer commits, so it separates commits by other processes, or other
// Drivers, from this Driver's own.
func (w *writer) readVersion(ctx context.Context) (int64, error) {
	var version int64

	op := newWriteOperation(ctx, func(s *writeStatements) (bool, error) {
		return false, s.dataVersion.QueryRow().Scan(&version)
	})
	op.singleStatement = true
	op.readOnly = true

	err := w.submit(ctx, op)

	return version, err
}

// committedWithin reports whether a transaction that changed the database
// committed within the last d.
func (w *writer) committedWithin(d time.Duration) bool {
	return time.Now().UnixNano()-w.lastCommit.Load() < d.Nanoseconds()
}

func newWriteOperation(ctx context.Context, apply applyFunc) *writeOperation {
	return &writeOperation{
		ctx:     ctx,
		apply:   apply,
		done:    make(chan error, 1),
		promote: make(chan struct{}, 1),
	}
}

// submit queues op, leads when the connection is free, and returns op's
// outcome.
func (w *writer) submit(ctx context.Context, op *writeOperation) error {
	w.mu.Lock()
	w.queued = append(w.queued, op)
	w.mu.Unlock()

	for {
		if w.lead.TryLock() {
			w.runAsLeader(op)
		} else {
			w.lastContended.Store(time.Now().UnixNano())
		}

		select {
		case err := <-op.done:
			return err

		case <-op.promote:

		case <-ctx.Done():
			if op.state.CompareAndSwap(operationQueued, operationAbandoned) {
				// This caller may have been promoted to lead, so it passes
				// the lead on before it leaves.
				w.handOff()
				return ctx.Err()
			}

			return <-op.done
		}
	}
}

// runAsLeader runs transactions of queued operations until own committed
// and the queue is empty, or maxExtraTransactions later. It unlocks lead and
// hands it off when operations are left.
func (w *writer) runAsLeader(own *writeOperation) {
	// extra counts the transactions from the one that took own on.
	for extra := 0; extra <= maxExtraTransactions; {
		batch := w.takeQueued(nil)
		if len(batch) == 0 {
			break
		}

		w.commit(batch)

		if own.state.Load() != operationQueued {
			extra++
		}
	}

	w.lead.Unlock()
	w.handOff()
}

// handOff promotes the caller of the oldest queued operation, so that the
// queue never waits without a leader. A caller that took the lead before the
// promotion arrives ignores it.
func (w *writer) handOff() {
	w.mu.Lock()
	defer w.mu.Unlock()

	for _, op := range w.queued {
		if op.state.Load() != operationQueued {
			continue
		}

		select {
		case op.promote <- struct{}{}:
		default:
		}

		return
	}
}

// takeQueued moves the queued operations to ops, up to
// maxOperationsPerTransaction, marks them taken, and returns ops. It drops
// operations whose callers abandoned them.
func (w *writer) takeQueued(ops []*writeOperation) []*writeOperation {
	w.mu.Lock()
	defer w.mu.Unlock()

	taken := 0
	for _, op := range w.queued {
		if len(ops) == maxOperationsPerTransaction {
			break
		}

		taken++

		if op.state.CompareAndSwap(operationQueued, operationTaken) {
			ops = append(ops, op)
		}
	}

	clear(w.queued[:taken])
	w.queued = w.queued[taken:]

	return ops
}
