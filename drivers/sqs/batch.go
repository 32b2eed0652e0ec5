package sqs

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// maxBatchEntries is the most entries SQS accepts in one batch call. An
// eleventh entry fails the whole call with TooManyEntriesInBatchRequest.
const maxBatchEntries = 10

// batchWindow is how long the first entry of a batch waits for others before
// the batch is sent. A full batch is sent at once.
const batchWindow = 3 * time.Millisecond

// batchTimeout bounds one batch call, retries included. It does not come
// from the callers' contexts, because one call serves several callers.
const batchTimeout = 30 * time.Second

// batchEntry is one receipt handle waiting to be deleted or to have its
// visibility changed.
type batchEntry struct {
	receipt string
	// visibilitySeconds is the new visibility timeout; deletes ignore it.
	visibilitySeconds int32
	// result receives the entry's outcome once.
	result chan error
}

func newBatchEntry(receipt string, visibilitySeconds int32) *batchEntry {
	return &batchEntry{receipt: receipt, visibilitySeconds: visibilitySeconds, result: make(chan error, 1)}
}

// batchSender sends up to maxBatchEntries entries in one call and delivers
// each entry's outcome to its result channel.
type batchSender func(ctx context.Context, entries []*batchEntry)

// batcher collects concurrent requests of one kind into batch calls of up to
// maxBatchEntries, sending a batch when it is full or batchWindow after its
// first entry arrived.
type batcher struct {
	send batchSender
	// running counts sends that are under way, for Close.
	running *sync.WaitGroup

	mu      sync.Mutex
	pending []*batchEntry
	timer   *time.Timer
}

func newBatcher(running *sync.WaitGroup, send batchSender) *batcher {
	return &batcher{send: send, running: running}
}

// do adds entry to a batch and waits for its outcome. When ctx ends first,
// do returns ctx's error. An entry not yet sent is then taken out of its
// batch, but one already sent may still take effect.
func (b *batcher) do(ctx context.Context, entry *batchEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	b.add(entry)

	select {
	case err := <-entry.result:
		return err
	case <-ctx.Done():
		b.withdraw(entry)
		return ctx.Err()
	}
}

// doAll adds entries to batches and waits for the outcome of each, in
// order. When ctx ends first, the entries still waiting get ctx's error as
// in do.
func (b *batcher) doAll(ctx context.Context, entries []*batchEntry) []error {
	errs := make([]error, len(entries))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}

	for _, entry := range entries {
		b.add(entry)
	}

	for i, entry := range entries {
		select {
		case errs[i] = <-entry.result:
		case <-ctx.Done():
			b.withdraw(entry)
			errs[i] = ctx.Err()
		}
	}
	return errs
}

// add appends entry to the pending batch, sends the batch when it is full,
// and otherwise makes sure a timer will send it.
func (b *batcher) add(entry *batchEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.pending = append(b.pending, entry)

	if len(b.pending) >= maxBatchEntries {
		b.sendLocked()
		return
	}

	if b.timer == nil {
		b.timer = time.AfterFunc(batchWindow, b.flush)
	}
}

// flush sends the pending entries, if any. The timer calls it.
func (b *batcher) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.timer = nil
	if len(b.pending) > 0 {
		b.sendLocked()
	}
}

// sendLocked starts a call for the pending entries. b.mu must be held.
func (b *batcher) sendLocked() {
	batch := b.pending
	b.pending = nil

	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}

	b.running.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		defer cancel()

		b.send(ctx, batch)
	})
}

// withdraw removes entry from the pending batch if it is still there.
func (b *batcher) withdraw(entry *batchEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()

	for i, pending := range b.pending {
		if pending == entry {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			return
		}
	}
}

// batchEntryID returns the id of the entry at index i of a batch call. SQS
// requires ids that are unique within the call.
func batchEntryID(i int) *string {
	return aws.String(strconv.Itoa(i))
}

// settleBatch delivers each entry's outcome from the ids that a batch call
// reported as successful or failed.
func settleBatch(entries []*batchEntry, successful []string, failed []types.BatchResultErrorEntry) {
	outcomes := make(map[string]error, len(entries))
	for _, id := range successful {
		outcomes[id] = nil
	}
	for _, entry := range failed {
		outcomes[aws.ToString(entry.Id)] = batchEntryError(entry)
	}

	for i, entry := range entries {
		err, ok := outcomes[strconv.Itoa(i)]
		if !ok {
			err = errors.New("SQS returned no result for this entry of the batch call")
		}
		entry.result <- err
	}
}

// failBatch delivers err as the outcome of every entry.
func failBatch(entries []*batchEntry, err error) {
	for _, entry := range entries {
		entry.result <- err
	}
}
