//go:build linux

package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// feedInterval is how often the feeder of a gradual run tops the queue up.
const feedInterval = 100 * time.Millisecond

// send enqueues the message with the given seq and counts it as sent.
func (r *chaosRun) send(ctx context.Context, seq int) error {
	body := []byte(`{"seq": ` + strconv.Itoa(seq) + `}`)
	if _, err := r.driver.Send(ctx, r.queue, drivers.OutgoingMessage{Body: body}); err != nil {
		return fmt.Errorf("enqueue seq %d: %w", seq, err)
	}
	r.sent.Store(int64(seq))
	return nil
}

// topUp sends the next messages until the queue holds maxQueued of them or
// every message is sent.
func (r *chaosRun) topUp(ctx context.Context, maxQueued int) error {
	visible, hidden, err := r.driver.Depth(ctx, r.queue)
	if err != nil {
		return fmt.Errorf("read queue depth: %w", err)
	}

	next := int(r.sent.Load()) + 1
	last := min(r.opts.messages, next-1+maxQueued-visible-hidden)
	for seq := next; seq <= last; seq++ {
		if err := r.send(ctx, seq); err != nil {
			return err
		}
	}
	return nil
}

// startFeeder tops the queue up to maxQueued messages every feedInterval in
// a goroutine, until every message is sent, a send fails or stopFeeder is
// called.
func (r *chaosRun) startFeeder(ctx context.Context, maxQueued int) {
	ctx, r.stopFeed = context.WithCancel(ctx)
	r.feedDone = make(chan struct{})

	go func() {
		defer close(r.feedDone)

		ticker := time.NewTicker(feedInterval)
		defer ticker.Stop()
		for int(r.sent.Load()) < r.opts.messages {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if err := r.topUp(ctx, maxQueued); err != nil {
				if ctx.Err() == nil {
					r.feedErr.Store(&err)
				}
				return
			}
		}
	}()
}

// feederError returns the error that stopped the feeder, or nil.
func (r *chaosRun) feederError() error {
	if err := r.feedErr.Load(); err != nil {
		return *err
	}
	return nil
}

// stopFeeder stops the feeder, if one runs, and waits for it to end.
func (r *chaosRun) stopFeeder() {
	if r.stopFeed == nil {
		return
	}
	r.stopFeed()
	<-r.feedDone
}
