package drivertest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vega-host/vega-host/drivers"
)

// ConcurrentReceiverCount is how many goroutines testConcurrentReceivers
// and CheckExclusiveReceives start per queue handle.
const ConcurrentReceiverCount = 8

func testConcurrentReceivers(t *testing.T, s *suite) {
	f := s.setup(t)

	const total = 200
	for i := range total {
		f.send("message " + strconv.Itoa(i))
	}

	if s.opts.DuplicateDeliveries {
		checkReceives(t, total, f.tick, false, f.queue)
		return
	}
	CheckExclusiveReceives(t, total, f.tick, f.queue)
}

// CheckExclusiveReceives drains total messages through ConcurrentReceiverCount
// goroutines per queue handle and fails t when any message is received
// twice or goes missing. The handles may come from different drivers on
// the same backend. Each goroutine stops after a receive that waits 4 ticks
// and finds nothing.
func CheckExclusiveReceives(t *testing.T, total int, tick time.Duration, queues ...drivers.Queue) {
	t.Helper()

	checkReceives(t, total, tick, true, queues...)
}

// checkReceives drains total messages as CheckExclusiveReceives does. When
// exclusive is false, a message received more than once is logged, not
// failed, because the backend may deliver it twice.
func checkReceives(t *testing.T, total int, tick time.Duration, exclusive bool, queues ...drivers.Queue) {
	t.Helper()

	ctx := t.Context()

	var (
		mu       sync.Mutex
		received = make(map[string]int, total)
		bodies   = make(map[string]bool, total)
		errs     []error
		wg       sync.WaitGroup
	)

	for _, q := range queues {
		for range ConcurrentReceiverCount {
			wg.Go(func() {
				for {
					msgs, err := q.Receive(ctx, drivers.ReceiveRequest{Max: 3, VisibilityTimeout: time.Minute, WaitTime: 4 * tick})
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()

						return
					}

					if len(msgs) == 0 {
						return
					}

					mu.Lock()
					for _, msg := range msgs {
						received[msg.ID]++
						bodies[string(msg.Body)] = true
					}
					mu.Unlock()

					for _, msg := range msgs {
						if err := q.Ack(ctx, msg.ReceiptHandle); err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
					}
				}
			})
		}
	}

	wg.Wait()

	assert.Empty(t, errs, "concurrent receives and acks should not fail")
	assert.Len(t, bodies, total, "every message should be received")
	if exclusive {
		assert.Len(t, received, total, "no message should appear under a second id")
	} else if len(received) > total {
		// A send that the SDK retried after a lost response can enqueue a
		// second copy under a new id, as real SQS may.
		t.Logf("tolerated: %d message ids for %d sent messages", len(received), total)
	}

	for id, count := range received {
		if !exclusive {
			if count > 1 {
				t.Logf("tolerated: message %s was received %d times, as Options.DuplicateDeliveries allows", id, count)
			}
			continue
		}
		assert.Equal(t, 1, count, "message %s was received %d times while its visibility timeout had not lapsed", id, count)
	}
}
