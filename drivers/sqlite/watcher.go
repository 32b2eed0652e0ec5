package sqlite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// watcher wakes waiting Receives when messages may have become visible.
// Calls through the same Driver wake the Receives of their queue directly.
// Commits by other connections, such as another process running `vega-host
// send`, show in PRAGMA data_version of the write connection, which changes
// whenever another connection commits to the database file, but not when
// the write connection itself does. The watcher reads it when file
// notifications (inotify on Linux) report a write to the database file or
// its WAL, and every poll interval in case a notification does not arrive.
// It does either only while at least one Receive waits.
//
// NOTE: the watch cannot start when the user's inotify limits are reached
// or the platform has no fsnotify backend, and some filesystems may not
// report writes. Receives then learn of messages from other processes only
// at the next poll, by default up to DefaultPollInterval later.
type watcher struct {
	// writer reads data_version.
	writer   *writer
	interval time.Duration
	logger   hclog.Logger

	// files names the database files to watch, or is nil when file
	// notifications are off.
	files *watchedFiles
	// fileChanged gets a value from the file subscription when a database
	// file changed.
	fileChanged chan struct{}

	// fileMu guards fileSubscription, watchFailed and acquired, and is
	// taken before mu. The calls into the kernel that end watches run with
	// fileMu held and mu free, so that Sends, which take mu, do not wait
	// for them.
	fileMu sync.Mutex
	// fileSubscription is the active file subscription, or nil. The watch
	// starts with the first waiting Receive and ends unwatchDelay after the
	// last, because the kernel reports every write to a watched folder,
	// which costs the writers of every process while nothing waits.
	fileSubscription *fileSubscription
	// watchFailed is set when the watch failed to start, so that the
	// driver polls from then on without trying again.
	watchFailed bool
	// acquired reports whether the watcher holds an acquire of
	// sharedFileEvents.
	acquired bool

	mu sync.Mutex
	// waiting counts the subscriptions, which are waiting Receives.
	waiting int
	// version is the last data_version read.
	version int64
	// listed holds, per queue, the subscriptions that a change wakes, in
	// the order they started to wait.
	listed map[string][]*subscription
	// failures counts consecutive failed polls, to log repeats sparingly.
	failures int

	// start gets a value when waiting becomes 1.
	start   chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// watchedFiles are the files of one database that the watcher subscribes
// to.
type watchedFiles struct {
	dir   string
	names []string
}

// unwatchDelay is how long the file watch outlasts the last waiting
// Receive, so that a listener that waits again at once keeps its watch.
const unwatchDelay = time.Second

// logEveryFailures is how many consecutive poll failures pass between two
// warnings after the first.
const logEveryFailures = 1000

func newWatcher(writer *writer, files *watchedFiles, interval time.Duration, logger hclog.Logger) *watcher {
	w := &watcher{
		writer:      writer,
		interval:    interval,
		logger:      logger,
		files:       files,
		fileChanged: make(chan struct{}, 1),
		listed:      make(map[string][]*subscription),
		start:       make(chan struct{}, 1),
		stop:        make(chan struct{}),
		stopped:     make(chan struct{}),
	}

	go w.run()

	return w
}

// subscription is one waiting Receive.
type subscription struct {
	watcher *watcher
	queue   string
	// wake gets a value when the Receive should look at its queue again.
	wake chan struct{}
	// listed reports whether the subscription is in watcher.listed, where
	// the next change finds it. A wake takes it out of the list. It is
	// guarded by watcher.mu.
	listed bool
}

// subscribe registers a Receive that waits on queue. Every change that
// commits after subscribe returns wakes the subscription, or another one of
// the same queue when the change concerns one message. The caller must
// call rearm after each wake, before it looks at the queue again, and
// cancel when it stops waiting.
func (w *watcher) subscribe(ctx context.Context, queue string) (*subscription, error) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()

	w.mu.Lock()
	defer w.mu.Unlock()

	if w.waiting == 0 {
		// Watching before reading the version makes every later commit
		// either count in the version or send a notification.
		w.watchFilesLocked()

		// The poller stopped while no Receive waited, so its version may miss
		// commits since then. Reading the current version here, before the
		// caller checks the queue, makes every later commit count as a
		// change.
		version, err := w.writer.readVersion(ctx)
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

	s := &subscription{watcher: w, queue: queue, wake: make(chan struct{}, 1)}
	w.listLocked(s)

	return s, nil
}

// rearm puts the subscription back in the list after a wake.
func (s *subscription) rearm() {
	s.watcher.mu.Lock()
	defer s.watcher.mu.Unlock()

	s.watcher.listLocked(s)
}

// cancel ends the subscription. A Receive that was woken and returns
// without messages passes the wake on to another Receive of its queue,
// because the wake may have been meant for one message that is still
// there.
func (s *subscription) cancel(received bool) {
	w := s.watcher

	w.mu.Lock()
	defer w.mu.Unlock()

	w.waiting--

	woken := !s.listed || len(s.wake) > 0
	w.unlistLocked(s)

	if woken && !received {
		w.wakeLocked(s.queue, 1)
	}
}

// notifyOne wakes one Receive waiting on queue, for a change that made one
// message visible.
func (w *watcher) notifyOne(queue string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.wakeLocked(queue, 1)
}

// notifyQueue wakes every Receive waiting on queue, for a change that may
// make a message visible earlier than the Receives' timers expect.
func (w *watcher) notifyQueue(queue string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.wakeLocked(queue, len(w.listed[queue]))
}

// notifyAllLocked wakes every waiting Receive.
//
// NOTE: data_version does not say which queue changed, so any commit by
// another connection, even to another queue, costs each waiting Receive
// one read query.
func (w *watcher) notifyAllLocked() {
	for queue, listed := range w.listed {
		w.wakeLocked(queue, len(listed))
	}
}

// wakeLocked wakes the first n subscriptions listed for queue and takes
// them out of the list.
func (w *watcher) wakeLocked(queue string, n int) {
	listed := w.listed[queue]
	n = min(n, len(listed))

	for _, s := range listed[:n] {
		s.listed = false

		select {
		case s.wake <- struct{}{}:
		default:
		}
	}

	if n == len(listed) {
		delete(w.listed, queue)
		return
	}

	w.listed[queue] = slices.Delete(listed, 0, n)
}

func (w *watcher) listLocked(s *subscription) {
	if s.listed {
		return
	}

	s.listed = true
	w.listed[s.queue] = append(w.listed[s.queue], s)
}

func (w *watcher) unlistLocked(s *subscription) {
	if !s.listed {
		return
	}

	s.listed = false

	listed := slices.DeleteFunc(w.listed[s.queue], func(other *subscription) bool { return other == s })
	if len(listed) == 0 {
		delete(w.listed, s.queue)
		return
	}

	w.listed[s.queue] = listed
}

// close stops the watcher and ends its file subscription. Waiting Receives
// are woken by the driver's done channel, not here.
func (w *watcher) close() {
	close(w.stop)
	<-w.stopped

	w.fileMu.Lock()
	defer w.fileMu.Unlock()

	w.unwatchFilesLocked()

	if w.acquired {
		sharedFileEvents.release()
		w.acquired = false
	}
}

// poll wakes every waiting Receive when data_version changed since the last
// read, and reports whether any Receive still waits.
//
// The read runs without the lock, so that Sends can wake Receives while it
// waits for the writer. A read that finishes after a newer one, such as the
// one in subscribe, stores an older version, which costs one needless wake
// at the next poll and never hides a change.
func (w *watcher) poll() bool {
	w.mu.Lock()
	waiting := w.waiting
	w.mu.Unlock()

	if waiting == 0 {
		return false
	}

	// The read waits at most for the writer's current transaction, or for
	// the busy timeout when another process holds the write lock.
	version, err := w.writer.readVersion(context.Background())

	w.mu.Lock()
	defer w.mu.Unlock()

	if w.waiting == 0 {
		return false
	}

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
