package sqs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vega-host/vega-host/drivers"
)

// Ack deletes a received message. Concurrent acks on the queue share
// DeleteMessageBatch calls, so an ack waits up to batchWindow (3 ms) for
// others before its call is sent.
//
// SQS accepts the receipt handle of an earlier receive of the same message
// and, on standard queues, a handle whose message is deleted already, so
// such an Ack returns nil. A malformed or expired handle returns an error
// wrapping drivers.ErrInvalidReceipt.
func (q *queue) Ack(ctx context.Context, receipt string) error {
	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("ack message in queue %q: %w", q.info.name, err)
	}
	defer q.driver.leave()

	if err := q.delete(ctx, receipt); err != nil {
		return fmt.Errorf("ack message in queue %q: %w", q.info.name, err)
	}
	return nil
}

// AckBatch deletes the messages behind receipts and returns one error per
// receipt, in order. The receipts fill DeleteMessageBatch calls of up to 10
// entries, shared with concurrent acks, and each error is mapped as in Ack.
func (q *queue) AckBatch(ctx context.Context, receipts []string) []error {
	errs := make([]error, len(receipts))

	if err := q.driver.enter(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("ack message in queue %q: %w", q.info.name, err)
		}
		return errs
	}
	defer q.driver.leave()

	// Empty receipts are rejected here, and the others share batches.
	var entries []*batchEntry
	var positions []int
	for i, receipt := range receipts {
		if receipt == "" {
			errs[i] = fmt.Errorf("ack message in queue %q: %w: the receipt handle is empty", q.info.name, errInvalidArgument)
			continue
		}
		entries = append(entries, newBatchEntry(receipt, 0))
		positions = append(positions, i)
	}

	for j, err := range q.deletes.doAll(ctx, entries) {
		receipt := entries[j].receipt
		if err == nil || errors.Is(err, drivers.ErrInvalidReceipt) {
			q.receipts.remove(receipt)
		}
		if err != nil {
			errs[positions[j]] = fmt.Errorf("ack message in queue %q: %w", q.info.name, err)
		}
	}

	return errs
}

// delete deletes the message behind receipt through the delete batcher.
func (q *queue) delete(ctx context.Context, receipt string) error {
	if receipt == "" {
		return fmt.Errorf("%w: the receipt handle is empty", errInvalidArgument)
	}

	err := q.deletes.do(ctx, newBatchEntry(receipt, 0))
	if err == nil || errors.Is(err, drivers.ErrInvalidReceipt) {
		q.receipts.remove(receipt)
	}
	return err
}

// ChangeVisibility hides a received message for timeout counted from now,
// in whole seconds rounded up. Concurrent changes share
// ChangeMessageVisibilityBatch calls.
//
// SQS keeps a message hidden for at most 12 hours, and this driver counts
// them from the message's first receive. A longer extension of a message
// that this handle received is capped and logged as a warning, and one
// past the limit returns an error. For other receipt handles SQS itself
// rejects a timeout beyond its limit.
func (q *queue) ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	if err := q.driver.enter(); err != nil {
		return fmt.Errorf("change visibility of message in queue %q: %w", q.info.name, err)
	}
	defer q.driver.leave()

	if err := q.changeVisibility(ctx, receipt, timeout); err != nil {
		return fmt.Errorf("change visibility of message in queue %q to %s: %w", q.info.name, timeout, err)
	}
	return nil
}

// changeVisibility caps timeout and changes the visibility through the
// visibility batcher.
func (q *queue) changeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	switch {
	case receipt == "":
		return fmt.Errorf("%w: the receipt handle is empty", errInvalidArgument)
	case timeout < 0:
		return fmt.Errorf("%w: the timeout is negative", errInvalidArgument)
	case timeout > maxVisibility:
		return fmt.Errorf("%w: the timeout is longer than the SQS maximum of %s", errInvalidArgument, maxVisibility)
	}

	seconds, err := q.capVisibility(receipt, wholeSeconds(timeout))
	if err != nil {
		return err
	}

	err = q.visibility.do(ctx, newBatchEntry(receipt, seconds))
	if (err == nil && seconds == 0) || errors.Is(err, drivers.ErrInvalidReceipt) {
		// A released message comes back with a new receipt handle.
		q.receipts.remove(receipt)
	}
	return err
}

// capVisibility lowers seconds so that the message stays hidden no longer
// than maxVisibility after its first receive, less clockSkewMargin.
func (q *queue) capVisibility(receipt string, seconds int32) (int32, error) {
	first, ok := q.receipts.firstReceive(receipt)
	if !ok || seconds == 0 {
		return seconds, nil
	}

	remaining := time.Until(first.Add(maxVisibility - clockSkewMargin))
	allowed := int32(remaining / time.Second)
	if seconds <= allowed {
		return seconds, nil
	}

	if allowed < 1 {
		return 0, fmt.Errorf("%w: the message was first received at %s, and SQS keeps a message hidden for at most %s from then",
			errInvalidArgument, first.UTC().Format(time.RFC3339), maxVisibility)
	}

	q.logger.Warn("visibility extension capped at the SQS limit counted from the first receive",
		"requested_seconds", seconds, "granted_seconds", allowed, "first_receive", first.UTC().Format(time.RFC3339), "limit", maxVisibility)
	return allowed, nil
}

// deleteBatch sends entries in one DeleteMessageBatch call.
func (q *queue) deleteBatch(ctx context.Context, entries []*batchEntry) {
	input := &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(q.info.url),
		Entries:  make([]types.DeleteMessageBatchRequestEntry, len(entries)),
	}
	for i, entry := range entries {
		input.Entries[i] = types.DeleteMessageBatchRequestEntry{Id: batchEntryID(i), ReceiptHandle: aws.String(entry.receipt)}
	}

	output, err := q.driver.client.DeleteMessageBatch(ctx, input)
	if err != nil {
		failBatch(entries, fmt.Errorf("delete batch of %d: %w", len(entries), classify(err)))
		return
	}

	successful := make([]string, len(output.Successful))
	for i, result := range output.Successful {
		successful[i] = aws.ToString(result.Id)
	}
	settleBatch(entries, successful, output.Failed)
}

// changeVisibilityBatch sends entries in one ChangeMessageVisibilityBatch
// call.
func (q *queue) changeVisibilityBatch(ctx context.Context, entries []*batchEntry) {
	input := &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(q.info.url),
		Entries:  make([]types.ChangeMessageVisibilityBatchRequestEntry, len(entries)),
	}
	for i, entry := range entries {
		input.Entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                batchEntryID(i),
			ReceiptHandle:     aws.String(entry.receipt),
			VisibilityTimeout: entry.visibilitySeconds,
		}
	}

	output, err := q.driver.client.ChangeMessageVisibilityBatch(ctx, input)
	if err != nil {
		failBatch(entries, fmt.Errorf("change visibility batch of %d: %w", len(entries), classify(err)))
		return
	}

	successful := make([]string, len(output.Successful))
	for i, result := range output.Successful {
		successful[i] = aws.ToString(result.Id)
	}
	settleBatch(entries, successful, output.Failed)
}

// wholeSeconds returns d in whole seconds, rounded up, as SQS counts
// visibility timeouts and delays.
func wholeSeconds(d time.Duration) int32 {
	return int32((d + time.Second - 1) / time.Second)
}
