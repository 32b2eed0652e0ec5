package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
)

// walSuffix ends the name of a database's write-ahead log, which SQLite
// keeps next to the database file.
const walSuffix = "-wal"

// logEveryFileErrors is how many errors of the file watcher pass between
// two warnings after the first.
const logEveryFileErrors = 1000

// fileEvents shares one fsnotify.Watcher among the Drivers of a process and
// routes its events to subscriptions by folder and file name. A watcher per
// Driver could exhaust Linux's limit on inotify instances per user
// (fs.inotify.max_user_instances, 128 by default) in a process that opens
// many Drivers, such as a test binary.
//
// The watcher runs from the first acquire to the last release, so that a
// Driver can add and remove the watch of its folder often. Starting and
// closing a watcher took about 10 ms, and adding and removing the watch of
// a folder about 8 µs (BenchmarkFileWatch on Linux 6.18 in a 2-core
// virtual machine). Subscriptions add and remove those watches.
//
// Folders are watched rather than files, so that a watch outlives the WAL,
// which SQLite deletes when the last connection to the database closes and
// creates again on the next open.
type fileEvents struct {
	// changeMu serializes the calls that start, stop and change the watcher,
	// so that the routing of events, which takes only mu, never waits for
	// the kernel.
	changeMu sync.Mutex
	// users counts the acquires without a release.
	users int
	// watcher is the running watcher, or nil. It is set and read with
	// changeMu held.
	watcher *fsnotify.Watcher
	// routed is closed when the goroutine that routes the watcher's events
	// returns.
	routed chan struct{}

	// mu guards subscriptions.
	mu sync.Mutex
	// subscriptions holds the subscriptions of each watched folder.
	subscriptions map[string]map[*fileSubscription]struct{}
}

// sharedFileEvents is the process's one fileEvents.
var sharedFileEvents fileEvents

// fileSubscription is one Driver's interest in some files of a folder.
type fileSubscription struct {
	events *fileEvents
	dir    string
	names  []string
	logger hclog.Logger

	// changed gets a value when one of the files changed, or when the
	// watcher failed and may have lost events. Sends never block, so one
	// value stands for any number of changes since the last receive.
	changed chan<- struct{}

	// errorCount counts the watcher's errors, to log repeats sparingly. It
	// is guarded by events.mu.
	errorCount int
}

// acquire starts the watcher unless it runs. Each successful acquire must
// be followed by release.
func (e *fileEvents) acquire() error {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()

	if e.watcher == nil {
		watcher, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("start file watcher: %w", err)
		}

		e.watcher = watcher
		e.routed = make(chan struct{})

		go e.route(watcher, e.routed)
	}

	e.users++

	return nil
}

// release stops the watcher after the last acquire has been released. The
// caller must have cancelled its subscriptions.
func (e *fileEvents) release() {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()

	e.users--
	if e.users > 0 {
		return
	}

	// Close waits for the watcher's reading goroutine, which never waits
	// for mu, and route returns once Close closed the channels.
	_ = e.watcher.Close()
	<-e.routed

	e.watcher, e.routed = nil, nil
}

// subscribe starts reporting changes to the named files of the absolute,
// clean folder dir on changed, a channel with a buffer of 1. The caller
// must hold an acquire, and must call cancel when it no longer needs the
// reports.
func (e *fileEvents) subscribe(dir string, names []string, changed chan<- struct{}, logger hclog.Logger) (*fileSubscription, error) {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()

	e.mu.Lock()
	_, watched := e.subscriptions[dir]
	e.mu.Unlock()

	if !watched {
		if err := e.watcher.Add(dir); err != nil {
			return nil, fmt.Errorf("watch folder %q: %w", dir, err)
		}
	}

	s := &fileSubscription{
		events:  e,
		dir:     dir,
		names:   names,
		logger:  logger,
		changed: changed,
	}

	e.mu.Lock()
	defer e.mu.Unlock()

	if e.subscriptions == nil {
		e.subscriptions = make(map[string]map[*fileSubscription]struct{})
	}
	if e.subscriptions[dir] == nil {
		e.subscriptions[dir] = make(map[*fileSubscription]struct{})
	}
	e.subscriptions[dir][s] = struct{}{}

	return s, nil
}

// cancel ends the subscription, and the watch of its folder when it was
// the folder's last.
func (s *fileSubscription) cancel() {
	e := s.events

	e.changeMu.Lock()
	defer e.changeMu.Unlock()

	e.mu.Lock()
	subscriptions := e.subscriptions[s.dir]
	delete(subscriptions, s)

	unwatch := len(subscriptions) == 0
	if unwatch {
		delete(e.subscriptions, s.dir)
	}
	e.mu.Unlock()

	if unwatch {
		// Remove fails when the folder is gone, and its watch with it.
		_ = e.watcher.Remove(s.dir)
	}
}

// route passes the watcher's events on until the watcher closes.
func (e *fileEvents) route(watcher *fsnotify.Watcher, routed chan struct{}) {
	defer close(routed)

	for {
		select {
		case event, ok := <-watcher.Events:
			if !ok {
				return
			}

			e.deliver(event)

		case err, ok := <-watcher.Errors:
			if !ok {
				return
			}

			e.deliverError(err)
		}
	}
}

// deliver signals the subscriptions to the file that event names.
func (e *fileEvents) deliver(event fsnotify.Event) {
	dir, name := filepath.Split(event.Name)
	dir = filepath.Clean(dir)

	e.mu.Lock()
	defer e.mu.Unlock()

	for s := range e.subscriptions[dir] {
		for _, subscribed := range s.names {
			if subscribed == name {
				s.signal()
				break
			}
		}
	}
}

// deliverError signals every subscription, because an overflowed event
// queue or a failed read may have lost events of any file.
func (e *fileEvents) deliverError(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()

	for _, subscriptions := range e.subscriptions {
		for s := range subscriptions {
			s.errorCount++
			if s.errorCount%logEveryFileErrors == 1 {
				s.logger.Warn("file watcher failed, checking the database for changes by other processes", "folder", s.dir, "error", err, "errors", s.errorCount)
			}

			s.signal()
		}
	}
}

func (s *fileSubscription) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}
