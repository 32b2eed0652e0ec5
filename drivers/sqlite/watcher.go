package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// watcher wakes waiting Receives when messages may have become visible.
// Calls through the same Driver wake the Receives of their queue directly.
// Changes by other connections, such as another process running `vega-host
// send`, are found by polling PRAGMA data_version, which changes whenever
// another connection commits to the database file. The polling runs only
// while at least one Receive waits.
type watcher struct {
	conn     *sql.Conn
	interval time.Duration
	logger   hclog.Logger

	mu sync.Mutex
	// waiting counts the subscriptions, which are waiting Receives.
	waiting int
	// version is the last data_version read on conn.
	version int64
	// channels holds, per queue with waiting Receives, the channel that
	// the next change closes.
	channels map[string]chan struct{}
	// failures counts consecutive failed polls, to log repeats sparingly.
	failures int

	// start gets a value when waiting becomes 1.
	start   chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// logEveryFailures is how many consecutive poll failures pass between two
// warnings after the first.
const logEveryFailures = 1000

func newWatcher(conn *sql.Conn, interval time.Duration, logger hclog.Logger) *watcher {
	w := &watcher{
		conn:     conn,
		interval: interval,
		logger:   logger,
		channels: make(map[string]chan struct{}),
		start:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}

	go w.run()

	return w
}

// subscription is one waiting Receive.
type subscription struct {
	watcher *watcher
	queue   string
	changed <-chan struct{}
}

// subscribe registers a Receive that waits on queue. Every change that
// commits after subscribe returns closes the subscription's channel. The
// caller must call cancel when it stops waiting.
func (w *watcher) subscribe(ctx context.Context, queue string) (*subscription, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.waiting == 0 {
		// The poller stopped while no Receive waited, so its version may miss
		// commits since then. Reading the current version here, before the
		// caller checks the queue, makes every later commit count as a
		// change.
		version, err := w.readVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("read data version: %w", err)
		}

		w.version = version

		select {
		case w.start <- struct{}{}:
		default:
		}
	}

	w.waiting++

	return &subscription{watcher: w, queue: queue, changed: w.channelLocked(queue)}, nil
}

// renew replaces the subscription's channel after it was closed.
func (s *subscription) renew() {
	s.watcher.mu.Lock()
	defer s.watcher.mu.Unlock()

	s.changed = s.watcher.channelLocked(s.queue)
}

func (s *subscription) cancel() {
	s.watcher.mu.Lock()
	defer s.watcher.mu.Unlock()

	s.watcher.waiting--
}

// notify wakes the Receives waiting on queue.
func (w *watcher) notify(queue string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if ch, ok := w.channels[queue]; ok {
		close(ch)
		delete(w.channels, queue)
	}
}

// close stops the poller. Waiting Receives are woken by the driver's done
// channel, not here.
func (w *watcher) close() {
	close(w.stop)
	<-w.stopped
}

func (w *watcher) channelLocked(queue string) chan struct{} {
	ch, ok := w.channels[queue]
	if !ok {
		ch = make(chan struct{})
		w.channels[queue] = ch
	}

	return ch
}

// notifyAllLocked wakes every waiting Receive.
//
// NOTE: data_version does not say which queue changed, so any commit to the
// file, including a Send through this Driver to another queue, costs each
// waiting Receive one read query.
func (w *watcher) notifyAllLocked() {
	for queue, ch := range w.channels {
		close(ch)
		delete(w.channels, queue)
	}
}

// run polls while Receives wait and sleeps while none does.
func (w *watcher) run() {
	defer close(w.stopped)

	ticker := time.NewTicker(w.interval)
	ticker.Stop()

	for {
		select {
		case <-w.stop:
			return
		case <-w.start:
		}

		ticker.Reset(w.interval)

		for active := true; active; {
			select {
			case <-w.stop:
				ticker.Stop()
				return
			case <-ticker.C:
				active = w.poll()
			}
		}

		ticker.Stop()
	}
}

// poll wakes every waiting Receive when data_version changed since the last
// poll, and reports whether any Receive still waits.
func (w *watcher) poll() bool {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.waiting == 0 {
		return false
	}

	// The background context keeps modernc.org/sqlite from starting a
	// goroutine per query to watch for cancellation. busy_timeout bounds
	// the query.
	version, err := w.readVersion(context.Background())
	if err != nil {
		w.failures++
		if w.failures%logEveryFailures == 1 {
			w.logger.Warn("check for changes by other processes failed, waking waiting receives to check their queues", "error", err, "consecutive_failures", w.failures)
		}

		// Without the version a change cannot be ruled out, so the waiting
		// Receives check their queues themselves.
		w.notifyAllLocked()

		return true
	}

	if w.failures > 0 {
		w.logger.Info("check for changes by other processes recovered", "failed_polls", w.failures)
		w.failures = 0
	}

	if version != w.version {
		w.version = version
		w.notifyAllLocked()
	}

	return true
}

func (w *watcher) readVersion(ctx context.Context) (int64, error) {
	var version int64
	err := w.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version)

	return version, err
}
