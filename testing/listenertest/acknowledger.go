package listenertest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

var _ pluginapi.Acknowledger = (*recordingAcknowledger)(nil)

// recordingAcknowledger serves Ack, Reject and ExtendVisibility of one
// message with auto_ack = false and records the calls. Like the host, it
// rejects a second settlement and every call after Handle returned.
type recordingAcknowledger struct {
	messageID string

	mu       sync.Mutex
	finished bool
	acked    bool
	rejected bool
	requeued bool
	extended []time.Duration
}

// Ack records that the handler acked the message.
func (a *recordingAcknowledger) Ack(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()

	if err := a.checkSettle(ctx, "ack"); err != nil {
		return err
	}
	a.acked = true
	return nil
}

// Reject records that the handler rejected the message, with or without
// requeue.
func (a *recordingAcknowledger) Reject(ctx context.Context, requeue bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()

	if err := a.checkSettle(ctx, "reject"); err != nil {
		return err
	}
	if requeue {
		a.requeued = true
	} else {
		a.rejected = true
	}
	return nil
}

// ExtendVisibility records the duration of a visibility extension.
func (a *recordingAcknowledger) ExtendVisibility(ctx context.Context, d time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()

	if err := a.checkInFlight(ctx, "extend visibility of"); err != nil {
		return err
	}
	if a.settled() {
		return fmt.Errorf("extend visibility of message %s: the handler settled it already", a.messageID)
	}
	if d.Milliseconds() <= 0 {
		return fmt.Errorf("extend visibility of message %s: timeout %s is invalid, must be at least 1ms", a.messageID, d)
	}
	a.extended = append(a.extended, d)
	return nil
}

// finish marks the end of the Handle call, after which the host no longer
// tracks the delivery.
func (a *recordingAcknowledger) finish() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.finished = true
}

// fill copies the recorded calls into res.
func (a *recordingAcknowledger) fill(res *Result) {
	a.mu.Lock()
	defer a.mu.Unlock()

	res.Acked = a.acked
	res.Rejected = a.rejected
	res.Requeued = a.requeued
	res.Extended = append([]time.Duration(nil), a.extended...)
}

// checkSettle returns why the message cannot be settled now. The caller
// holds a.mu.
func (a *recordingAcknowledger) checkSettle(ctx context.Context, verb string) error {
	if err := a.checkInFlight(ctx, verb); err != nil {
		return err
	}
	if a.settled() {
		return fmt.Errorf("%s message %s: it is settled already", verb, a.messageID)
	}
	return nil
}

// checkInFlight returns an error when ctx has ended or Handle has
// returned. The caller holds a.mu.
func (a *recordingAcknowledger) checkInFlight(ctx context.Context, verb string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s message %s: %w", verb, a.messageID, err)
	}
	if a.finished {
		return fmt.Errorf("%s message %s: its Handle call has returned, and the host settles only messages in flight", verb, a.messageID)
	}
	return nil
}

func (a *recordingAcknowledger) settled() bool {
	return a.acked || a.rejected || a.requeued
}
