package sqs

import (
	"sync"
	"time"
)

// maxVisibility is the longest that SQS keeps a message hidden, counted here
// from its first receive.
const maxVisibility = 12 * time.Hour

// clockSkewMargin is kept below maxVisibility when a visibility extension is
// capped, because the first-receive time comes from the SQS clock and the
// cap is computed on the local one.
const clockSkewMargin = 30 * time.Second

// receiptSweepInterval is how often the tracker drops receipts older than
// maxVisibility, which no call can use any more.
const receiptSweepInterval = time.Minute

// receiptTracker stores the first-receive time of each receipt handle that
// this queue handle returned and has not settled, so that ChangeVisibility,
// which gets only the handle, can cap an extension at maxVisibility.
type receiptTracker struct {
	mu        sync.Mutex
	first     map[string]time.Time
	lastSweep time.Time
}

func newReceiptTracker() *receiptTracker {
	return &receiptTracker{first: make(map[string]time.Time), lastSweep: time.Now()}
}

// add records the first-receive time of the message behind receipt.
func (r *receiptTracker) add(receipt string, firstReceive time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.first[receipt] = firstReceive

	now := time.Now()
	if now.Sub(r.lastSweep) < receiptSweepInterval {
		return
	}
	r.lastSweep = now

	for handle, first := range r.first {
		if now.Sub(first) > maxVisibility {
			delete(r.first, handle)
		}
	}
}

// remove deletes the entry of receipt once it is settled.
func (r *receiptTracker) remove(receipt string) {
	r.mu.Lock()
	defer r.mu.Unlock()

	delete(r.first, receipt)
}

// firstReceive returns when the message behind receipt was first received,
// and false when this handle did not return it.
func (r *receiptTracker) firstReceive(receipt string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	first, ok := r.first[receipt]
	return first, ok
}
