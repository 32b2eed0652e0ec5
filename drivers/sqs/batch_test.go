package sqs_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

// batchResult returns the response of SQS to a batch request: every entry
// succeeds unless failure returns an error entry for its receipt handle.
func batchResult(request map[string]any, failure func(receipt string) map[string]any) fakeResponse {
	entries := entriesOf(request)
	if len(entries) > 10 {
		return apiError(http.StatusBadRequest, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender",
			fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", len(entries)))
	}

	successful := []map[string]any{}
	failed := []map[string]any{}
	for _, entry := range entries {
		id := entry["Id"]
		receipt, _ := entry["ReceiptHandle"].(string)

		if failure != nil {
			if result := failure(receipt); result != nil {
				result["Id"] = id
				failed = append(failed, result)
				continue
			}
		}
		successful = append(successful, map[string]any{"Id": id})
	}

	return ok(map[string]any{"Successful": successful, "Failed": failed})
}

func TestAckNeverSendsMoreThanTenEntries(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("DeleteMessageBatch", func(request map[string]any) fakeResponse { return batchResult(request, nil) })
	queue := fake.open(t)

	const acks = 25
	errs := make([]error, acks)
	var wg sync.WaitGroup
	for i := range acks {
		wg.Go(func() { errs[i] = queue.Ack(t.Context(), fmt.Sprintf("receipt-%d", i)) })
	}
	wg.Wait()

	for i, err := range errs {
		assert.NoError(t, err, "ack %d", i)
	}

	requests := fake.requestsOf("DeleteMessageBatch")
	total := 0
	for _, request := range requests {
		entries := len(entriesOf(request))
		assert.LessOrEqual(t, entries, 10, "a DeleteMessageBatch call should never carry more than 10 entries")
		total += entries
	}
	assert.Equal(t, acks, total, "every ack should be sent once")
	assert.GreaterOrEqual(t, len(requests), 3, "25 acks need at least 3 calls")
}

func TestAckMapsEntryFailuresToCallers(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("DeleteMessageBatch", func(request map[string]any) fakeResponse {
		return batchResult(request, func(receipt string) map[string]any {
			switch {
			case strings.HasPrefix(receipt, "expired"):
				return map[string]any{"Code": "InvalidParameterValue", "SenderFault": true,
					"Message": "Value " + receipt + " for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."}
			case strings.HasPrefix(receipt, "invalid"):
				return map[string]any{"Code": "ReceiptHandleIsInvalid", "SenderFault": true,
					"Message": `The input receipt handle "` + receipt + `" is not a valid receipt handle.`}
			case strings.HasPrefix(receipt, "internal"):
				return map[string]any{"Code": "InternalError", "SenderFault": false, "Message": "We encountered an internal error."}
			}
			return nil
		})
	})
	queue := fake.open(t)

	tests := []struct {
		receipt string
		// wantErr is the sentinel the ack's error wraps; nil with
		// wantFailure means an error that wraps no sentinel.
		wantErr     error
		wantFailure bool
	}{
		{receipt: "good-1"},
		{receipt: "expired-1", wantErr: drivers.ErrInvalidReceipt, wantFailure: true},
		{receipt: "good-2"},
		{receipt: "invalid-1", wantErr: drivers.ErrInvalidReceipt, wantFailure: true},
		{receipt: "internal-1", wantFailure: true},
		{receipt: "good-3"},
	}

	errs := make([]error, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Go(func() { errs[i] = queue.Ack(t.Context(), tt.receipt) })
	}
	wg.Wait()

	for i, tt := range tests {
		err := errs[i]
		switch {
		case !tt.wantFailure:
			assert.NoError(t, err, "ack %s", tt.receipt)
		case tt.wantErr != nil:
			assert.ErrorIs(t, err, tt.wantErr, "ack %s", tt.receipt)
		default:
			require.Error(t, err, "ack %s", tt.receipt)
			assert.NotErrorIs(t, err, drivers.ErrInvalidReceipt, "ack %s: an internal error is no invalid receipt", tt.receipt)
			assert.ErrorContains(t, err, "InternalError", "ack %s: the error should name the SQS code", tt.receipt)
		}
	}
}

func TestAckWholeBatchFailure(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("DeleteMessageBatch", func(map[string]any) fakeResponse {
		return apiError(http.StatusBadRequest, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender",
			"Maximum number of entries per request are 10. You have sent 11.")
	})
	queue := fake.open(t)

	err := queue.Ack(t.Context(), "receipt")

	require.Error(t, err, "an ack whose batch call fails should fail")
	assert.ErrorContains(t, err, "TooManyEntriesInBatchRequest", "the error should name the SQS code")
	assert.NotErrorIs(t, err, drivers.ErrInvalidReceipt, "a failed call says nothing about the receipt")
	assert.Len(t, fake.requestsOf("DeleteMessageBatch"), 1, "a client error should not be retried")
}

func TestChangeVisibilityMapsInvalidReceipts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		failure map[string]any
	}{
		{"expired receipt handle", map[string]any{"Code": "InvalidParameterValue", "SenderFault": true,
			"Message": "Value abc for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."}},
		{"message not in flight", map[string]any{"Code": "AWS.SimpleQueueService.MessageNotInflight", "SenderFault": true,
			"Message": "The message referred to is not in flight."}},
		{"receipt handle is invalid", map[string]any{"Code": "ReceiptHandleIsInvalid", "SenderFault": true,
			"Message": "The input receipt handle is not a valid receipt handle."}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			fake.handle("ChangeMessageVisibilityBatch", func(request map[string]any) fakeResponse {
				return batchResult(request, func(string) map[string]any {
					failure := make(map[string]any, len(tt.failure))
					for key, value := range tt.failure {
						failure[key] = value
					}
					return failure
				})
			})
			queue := fake.open(t)

			err := queue.ChangeVisibility(t.Context(), "abc", time.Minute)

			assert.ErrorIs(t, err, drivers.ErrInvalidReceipt)
		})
	}
}

func TestChangeVisibilityOtherInvalidValue(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("ChangeMessageVisibilityBatch", func(request map[string]any) fakeResponse {
		return batchResult(request, func(string) map[string]any {
			return map[string]any{"Code": "InvalidParameterValue", "SenderFault": true,
				"Message": "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"}
		})
	})
	queue := fake.open(t)

	err := queue.ChangeVisibility(t.Context(), "abc", 12*time.Hour)

	require.Error(t, err)
	assert.NotErrorIs(t, err, drivers.ErrInvalidReceipt, "a timeout beyond the limit is not an invalid receipt")
	assert.ErrorContains(t, err, "VisibilityTimeout")
}

func TestChangeVisibilityCapsAtTwelveHours(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		firstReceive time.Duration // before now
		timeout      time.Duration
		// wantMaxSeconds bounds the timeout that reaches SQS; -1 means
		// no call is made.
		wantMaxSeconds float64
		wantMinSeconds float64
	}{
		{"fresh message keeps its timeout", time.Minute, time.Hour, 3600, 3600},
		{"timeout rounded up", time.Minute, 1500 * time.Millisecond, 2, 2},
		{"near the limit is capped", 12*time.Hour - 10*time.Minute, time.Hour, 600 - 30, 600 - 35},
		{"past the limit fails", 12*time.Hour + time.Minute, time.Hour, -1, -1},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			first := time.Now().Add(-tt.firstReceive).UnixMilli()
			fake.handle("ReceiveMessage", func(map[string]any) fakeResponse {
				return ok(map[string]any{"Messages": []map[string]any{{
					"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": "hello", "MD5OfBody": md5Hex("hello"),
					"Attributes": map[string]string{"ApproximateFirstReceiveTimestamp": fmt.Sprint(first), "ApproximateReceiveCount": "1"},
				}}})
			})
			fake.handle("ChangeMessageVisibilityBatch", func(request map[string]any) fakeResponse { return batchResult(request, nil) })
			queue := fake.open(t)

			msgs, err := queue.Receive(t.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute})
			require.NoError(t, err)
			require.Len(t, msgs, 1)

			err = queue.ChangeVisibility(t.Context(), msgs[0].ReceiptHandle, tt.timeout)

			requests := fake.requestsOf("ChangeMessageVisibilityBatch")
			if tt.wantMaxSeconds < 0 {
				assert.Error(t, err, "an extension past the limit should fail")
				assert.Empty(t, requests, "no call should be made past the limit")
				return
			}

			require.NoError(t, err)
			require.Len(t, requests, 1)
			entries := entriesOf(requests[0])
			require.Len(t, entries, 1)
			seconds, _ := entries[0]["VisibilityTimeout"].(float64)
			assert.LessOrEqual(t, seconds, tt.wantMaxSeconds, "visibility timeout sent")
			assert.GreaterOrEqual(t, seconds, tt.wantMinSeconds, "visibility timeout sent")
		})
	}
}

func TestAckAfterCloseFails(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	driver := fake.driver(t)
	queue, err := driver.Open(t.Context(), "emails", drivers.OpenOptions{})
	require.NoError(t, err)

	require.NoError(t, driver.Close())

	assert.ErrorIs(t, queue.Ack(t.Context(), "receipt"), drivers.ErrClosed)
	assert.Empty(t, fake.requestsOf("DeleteMessageBatch"), "no call after Close")
}

func TestAckBatchReturnsErrorsInOrder(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("DeleteMessageBatch", func(request map[string]any) fakeResponse {
		return batchResult(request, func(receipt string) map[string]any {
			if strings.HasPrefix(receipt, "invalid") {
				return map[string]any{"Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "not a valid receipt handle"}
			}
			return nil
		})
	})
	queue := fake.open(t)
	batchAcker, ok := queue.(drivers.BatchAcker)
	require.True(t, ok, "an sqs queue should implement drivers.BatchAcker")

	receipts := make([]string, 23)
	for i := range receipts {
		receipts[i] = fmt.Sprintf("good-%d", i)
	}
	receipts[4] = "invalid-4"
	receipts[17] = "invalid-17"
	receipts[20] = ""

	errs := batchAcker.AckBatch(t.Context(), receipts)

	require.Len(t, errs, len(receipts), "one error per receipt")
	for i, err := range errs {
		switch i {
		case 4, 17:
			assert.ErrorIs(t, err, drivers.ErrInvalidReceipt, "receipt %d", i)
		case 20:
			assert.ErrorContains(t, err, "receipt handle is empty", "receipt %d", i)
		default:
			assert.NoError(t, err, "receipt %d", i)
		}
	}

	requests := fake.requestsOf("DeleteMessageBatch")
	for _, request := range requests {
		assert.LessOrEqual(t, len(entriesOf(request)), 10, "a DeleteMessageBatch call should never carry more than 10 entries")
	}
	assert.Len(t, requests, 3, "22 receipts fill three calls")
}

func TestAckBatchAfterClose(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	driver := fake.driver(t)
	queue, err := driver.Open(t.Context(), "emails", drivers.OpenOptions{})
	require.NoError(t, err)
	require.NoError(t, driver.Close())

	errs := queue.(drivers.BatchAcker).AckBatch(t.Context(), []string{"a", "b"})

	require.Len(t, errs, 2)
	for i, err := range errs {
		assert.ErrorIs(t, err, drivers.ErrClosed, "receipt %d", i)
	}
}
