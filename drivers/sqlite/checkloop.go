package sqlite

import "time"

// recheckDelays are the pauses between the reads of data_version that
// follow a file notification, after the read at once. Another process
// writes its commit to the WAL before it publishes the commit in the WAL
// index, which is shared memory and makes no notification, so a read right
// after the last write can still find the old version. The pauses grow in
// case that process is descheduled between the two steps. While
// notifications keep arriving, as they do while this Driver writes, the
// first pause also spaces the reads.
var recheckDelays = []time.Duration{time.Millisecond, 4 * time.Millisecond, 16 * time.Millisecond}

// maxReadsPerPause is how many reads notifications may trigger at once
// within recheckDelays[0]. A commit usually notifies several times, and the
// read after the last notification most likely finds it published, so a
// few reads in a row pay off. This Driver's own writes notify continuously,
// and beyond the limit their notifications only arm the next recheck.
const maxReadsPerPause = 4

// A notification that arrives within ownWriteWindow of a commit of this
// Driver most likely reports that commit, which data_version of the write
// connection does not count. Such notifications only make sure that a read
// follows within busyRecheckDelay, so that reads for the Driver's own
// writes stay few while a commit of another process that coincides with
// them is still seen.
const (
	ownWriteWindow   = 2 * time.Millisecond
	busyRecheckDelay = 5 * time.Millisecond
)

// busyCommitRate is the rate of commits, per second, at which this Driver
// counts as busy. The kernel then adds the cost of a notification to each
// of the Driver's writes for little use, so the watcher drops its file
// watch and reads data_version every busyRecheckDelay instead, until the
// rate drops below it.
const busyCommitRate = 2000

// checkLoop is the state of watcher.run: when the next read of
// data_version is due, and whether the file watch is suspended.
type checkLoop struct {
	w *watcher

	// safety reads every poll interval, in case a notification does not
	// arrive.
	safety *time.Ticker
	// recheck runs the reads that follow a notification.
	recheck *time.Timer
	// unwatch ends the file watch unwatchDelay after the last waiting
	// Receive.
	unwatch *time.Timer

	// active reports whether Receives wait, as the loop last saw it: true
	// from a start to the poll that finds none.
	active bool
	// recheckArmed reports whether recheck runs.
	recheckArmed bool
	// nextRecheck indexes the pause before the read after the next, unless
	// another notification arrives.
	nextRecheck int
	// notifiedSinceRead reports a notification that arrived while recheck
	// ran, and so was not followed by a read yet.
	notifiedSinceRead bool
	// pauseStart is when the current period of recheckDelays[0] started,
	// and pauseReads counts the reads in it.
	pauseStart time.Time
	pauseReads int

	// suspended reports whether the file watch is dropped because the
	// Driver is busy.
	suspended bool
	// rateStart is when the loop last sampled the writer's commit count,
	// and rateCommits is the count then.
	rateStart   time.Time
	rateCommits int64
}

// run checks for changes while Receives wait and sleeps while none does.
func (w *watcher) run() {
	defer close(w.stopped)

	l := &checkLoop{
		w:       w,
		safety:  time.NewTicker(w.interval),
		recheck: time.NewTimer(time.Hour),
		unwatch: time.NewTimer(time.Hour),
	}
	l.stopChecks()
	l.unwatch.Stop()

	for {
		select {
		case <-w.stop:
			return

		case <-w.start:
			// A commit whose WAL write notified before the subscription
			// counted and that published after its version read would go
			// unseen, so the reads after a notification follow a start too.
			l.active = true
			l.safety.Reset(w.interval)
			l.unwatch.Stop()
			l.armRecheck()

		case <-w.fileChanged:
			l.fileChanged()

		case <-l.recheck.C:
			l.recheckDue()

		case <-l.safety.C:
			l.checked(l.w.poll())

		case <-l.unwatch.C:
			w.unwatchFilesIfIdle()
		}
	}
}

func (l *checkLoop) fileChanged() {
	if !l.active {
		// No Receive waits, and the next one to wait reads the version
		// itself.
		return
	}

	if l.w.writer.committedWithin(ownWriteWindow) {
		l.notifiedSinceRead = true
		if !l.recheckArmed {
			l.armRecheckAfter(busyRecheckDelay)
		}
		return
	}

	now := time.Now()
	if now.Sub(l.pauseStart) >= recheckDelays[0] {
		l.pauseStart = now
		l.pauseReads = 0
	}

	if l.recheckArmed && l.pauseReads >= maxReadsPerPause {
		// The armed read follows soon, which spaces the reads while writes
		// go on.
		l.notifiedSinceRead = true
		return
	}

	l.pauseReads++

	active := l.w.poll()
	if active {
		l.armRecheck()
	}
	l.checked(active)
}

func (l *checkLoop) recheckDue() {
	l.recheckArmed = false

	resumed := false
	if busy := l.sampleCommitRate(); busy != l.suspended {
		l.setSuspended(busy)
		resumed = !busy
	}

	active := l.w.poll()

	switch {
	case !active:
	case l.suspended:
		l.armRecheckAfter(busyRecheckDelay)
	case resumed:
		l.notifiedSinceRead = false
		l.armRecheck()
	case l.notifiedSinceRead && l.w.writer.committedWithin(ownWriteWindow):
		l.notifiedSinceRead = false
		l.armRecheckAfter(busyRecheckDelay)
	case l.notifiedSinceRead:
		l.notifiedSinceRead = false
		l.armRecheck()
	case l.nextRecheck < len(recheckDelays):
		l.recheck.Reset(recheckDelays[l.nextRecheck])
		l.recheckArmed = true
		l.nextRecheck++
	}

	l.checked(active)
}

// sampleCommitRate reports whether the writer committed at busyCommitRate
// or faster since the last sample.
func (l *checkLoop) sampleCommitRate() bool {
	now := time.Now()
	commits := l.w.writer.commits.Load()

	elapsed := now.Sub(l.rateStart)
	rate := float64(commits-l.rateCommits) / elapsed.Seconds()

	l.rateStart, l.rateCommits = now, commits

	return elapsed > 0 && rate >= busyCommitRate
}

// setSuspended drops or restores the file watch. A restored watch is
// followed by the reads after a notification, because a commit may have
// written the WAL before the watch started and published after the read
// that follows.
func (l *checkLoop) setSuspended(suspended bool) {
	if suspended {
		l.suspended = l.w.unwatchFiles()
		return
	}

	l.suspended = false
	l.w.watchFiles()
}

// armRecheck starts the reads that follow a notification.
func (l *checkLoop) armRecheck() {
	l.armRecheckAfter(recheckDelays[0])
}

func (l *checkLoop) armRecheckAfter(delay time.Duration) {
	l.recheck.Reset(delay)
	l.recheckArmed = true
	l.nextRecheck = 1
}

// checked handles the outcome of a poll. When no Receive waits any more,
// the checks stop until the next start, and the file watch ends a while
// later.
func (l *checkLoop) checked(active bool) {
	if active || !l.active {
		return
	}

	l.active = false
	l.stopChecks()
	l.unwatch.Reset(unwatchDelay)
}

func (l *checkLoop) stopChecks() {
	l.safety.Stop()
	l.recheck.Stop()
	l.recheckArmed = false
	l.notifiedSinceRead = false
	// The next Receive to wait starts the watch again in subscribe.
	l.suspended = false
}
