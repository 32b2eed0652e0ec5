package runner

import (
	"fmt"
	"sync"
)

// maxCrashRecords bounds the crash log. Beyond it the oldest records are
// forgotten, which only gives those messages more attempts.
const maxCrashRecords = 100_000

// crashLog remembers which messages were in flight when their plugin
// crashed, so a message that keeps killing its plugin is dead-lettered
// instead of crashing it forever.
//
// NOTE: the log lives in the host's memory. A host restart clears it, and
// hosts that share a queue each keep their own, so a poison message may
// cause up to crash_limit crashes on every host.
type crashLog struct {
	mu      sync.Mutex
	records map[string]*crashRecord
	order   []string
}

type crashRecord struct {
	count int
	// stderr holds the last stderr lines of the plugin at its latest crash.
	stderr string
}

func newCrashLog() *crashLog {
	return &crashLog{records: make(map[string]*crashRecord)}
}

// record counts one crash during which message id was in flight.
func (l *crashLog) record(id, stderr string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	record, ok := l.records[id]
	if !ok {
		record = &crashRecord{}
		l.records[id] = record
		l.order = append(l.order, id)
		l.trim()
	}
	record.count++
	record.stderr = stderr
}

// check returns the number of crashes message id was in flight for and
// the reason to dead-letter it with once the count reaches limit.
func (l *crashLog) check(id string, limit int) (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	record, ok := l.records[id]
	if !ok {
		return 0, ""
	}
	reason := fmt.Sprintf("plugin crashed while handling: the message was in flight during %d plugin crashes", record.count)
	if record.stderr != "" {
		reason += "; last stderr lines of the plugin:\n" + record.stderr
	}
	if record.count < limit {
		return record.count, ""
	}
	return record.count, reason
}

// forget drops the record of a message that left the queue.
func (l *crashLog) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.records, id)
}

// trim drops the oldest records beyond maxCrashRecords. The caller holds
// the lock.
func (l *crashLog) trim() {
	for len(l.records) > maxCrashRecords && len(l.order) > 0 {
		delete(l.records, l.order[0])
		l.order = l.order[1:]
	}
	if len(l.order) > 2*maxCrashRecords {
		kept := l.order[:0]
		for _, id := range l.order {
			if _, ok := l.records[id]; ok {
				kept = append(kept, id)
			}
		}
		l.order = kept
	}
}
