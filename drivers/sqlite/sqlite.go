// Package sqlite implements drivers.Driver on a SQLite database file with
// modernc.org/sqlite, a SQLite build in pure Go that needs no cgo. It is the
// host's default backend.
//
// All queues share one table, and a queue exists as soon as a message is
// sent to it. The database runs in WAL mode, so other processes, such as
// `vega-host send`, can use the same file while the host runs.
//
// With synchronous=NORMAL, SQLite syncs the WAL only at checkpoints. A
// committed message survives a crash of the process, but the latest
// commits may roll back after a power failure or an operating system crash.
//
// Writes of concurrent calls share transactions (group commit), and every
// call returns only after its own transaction committed.
//
// Receives in this process wake at once when a message is sent through the
// same Driver. When another process sends it, they wake when a file
// notification reports the write, usually within a millisecond, or at the
// latest after one poll interval (see WithPollInterval).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // Registers the "sqlite" database/sql driver.

	"github.com/vega-host/vega-host/drivers"
)

var (
	_ drivers.Driver  = (*Driver)(nil)
	_ drivers.Depther = (*Driver)(nil)
)

// readerConnections is the size of the pool of read-only connections.
const readerConnections = 4

// Driver is a queue backend on one SQLite database file. Its methods are
// safe for concurrent use, and several Drivers, in this process or in
// others, may use the same file at the same time.
type Driver struct {
	path string
	cfg  config

	// writerDB holds the single write connection, which writer owns for the
	// Driver's lifetime. reader is the pool of read-only connections.
	writerDB  *sql.DB
	writer    *writer
	reader    *sql.DB
	readStmts *readStatements
	// closeStatements closes the prepared statements of both pools.
	closeStatements func() error

	watcher *watcher

	// mu guards closed, so that no call starts after Close began waiting
	// for the running calls in active.
	mu     sync.RWMutex
	closed bool
	active sync.WaitGroup
	// done is closed by Close to end waiting Receives.
	done chan struct{}
}

// Open opens the SQLite database at path, creating the file and the schema
// when they are missing. The folder must exist. The path must name a file,
// because the driver opens several connections to it.
func Open(path string, opts ...Option) (*Driver, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}

	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}

	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("open sqlite database %q: path is invalid, must name a file", path)
	}

	absolute, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}

	d, err := open(absolute, cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}

	return d, nil
}

func open(path string, cfg config) (_ *Driver, err error) {
	ctx := context.Background()
	d := &Driver{path: path, cfg: cfg, done: make(chan struct{})}

	// On failure, close what was opened so far, newest first.
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				_ = closers[i]()
			}
		}
	}()

	d.writerDB, err = sql.Open("sqlite", dataSourceName(path, writerRole, cfg))
	if err != nil {
		return nil, err
	}
	closers = append(closers, d.writerDB.Close)

	// SQLite runs one write transaction at a time per file, so more writer
	// connections would only wait for each other's locks.
	d.writerDB.SetMaxOpenConns(1)
	d.writerDB.SetMaxIdleConns(1)

	if err := migrate(ctx, d.writerDB); err != nil {
		return nil, err
	}

	writerConn, err := d.writerDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open write connection: %w", err)
	}
	closers = append(closers, writerConn.Close)

	writeStmts, closeWriteStmts, err := prepareWriteStatements(ctx, writerConn)
	if err != nil {
		return nil, err
	}
	closers = append(closers, closeWriteStmts)

	d.reader, err = sql.Open("sqlite", dataSourceName(path, readerRole, cfg))
	if err != nil {
		return nil, err
	}
	closers = append(closers, d.reader.Close)

	d.reader.SetMaxOpenConns(readerConnections)
	d.reader.SetMaxIdleConns(readerConnections)

	readStmts, closeReadStmts, err := prepareReadStatements(ctx, d.reader)
	if err != nil {
		return nil, err
	}

	d.readStmts = readStmts
	d.closeStatements = func() error { return errors.Join(closeReadStmts(), closeWriteStmts()) }

	d.writer = newWriter(writerConn, writeStmts)
	d.watcher = newWatcher(d.writer, d.watchedFiles(), cfg.pollInterval, cfg.logger)

	return d, nil
}

// watchedFiles returns the files whose writes the watcher watches for, or
// nil when file notifications are off.
func (d *Driver) watchedFiles() *watchedFiles {
	if !d.cfg.fileNotifications {
		return nil
	}

	dir, name := filepath.Split(d.path)

	return &watchedFiles{dir: filepath.Clean(dir), names: []string{name, name + walSuffix}}
}

// Path returns the absolute path of the database file.
func (d *Driver) Path() string { return d.path }

// Open returns a handle on the named queue. Queues need no creation, so it
// only checks the name and resolves the dead-letter queue, which defaults to
// the name with drivers.DefaultDeadLetterSuffix appended and must differ
// from the queue itself.
func (d *Driver) Open(_ context.Context, name string, opts drivers.OpenOptions) (drivers.Queue, error) {
	if err := d.enter(); err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}
	defer d.leave()

	deadLetterQueue, err := resolveDeadLetterQueue(name, opts)
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", name, err)
	}

	return &queue{driver: d, name: name, deadLetterQueue: deadLetterQueue}, nil
}

// Close ends waiting Receives with an error wrapping drivers.ErrClosed,
// waits for running calls to finish and closes the database connections.
// Every later call, Close included, returns drivers.ErrClosed.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return drivers.ErrClosed
	}
	d.closed = true
	close(d.done)
	d.mu.Unlock()

	// Running calls finish before the watcher stops, so that no Receive
	// starts a file watch after the watcher released it.
	d.active.Wait()
	d.watcher.close()

	err := errors.Join(
		d.closeStatements(),
		d.writer.conn.Close(),
		d.reader.Close(),
		d.writerDB.Close(),
	)
	if err != nil {
		return fmt.Errorf("close sqlite database %q: %w", d.path, err)
	}

	return nil
}

// enter registers a running call, or returns drivers.ErrClosed. Each
// successful enter must be followed by leave.
func (d *Driver) enter() error {
	d.mu.RLock()
	defer d.mu.RUnlock()

	if d.closed {
		return drivers.ErrClosed
	}

	d.active.Add(1)

	return nil
}

func (d *Driver) leave() {
	d.active.Done()
}
