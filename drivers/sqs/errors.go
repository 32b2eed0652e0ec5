package sqs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/vega-host/vega-host/drivers"
)

// Errors that callers test with errors.Is, besides those of package drivers.
var (
	// ErrAccessDenied is returned when no credentials are found, or SQS
	// rejects them or denies them the call.
	ErrAccessDenied = errors.New("access to SQS denied: credentials are missing, invalid or lack permission")

	// ErrChecksumMismatch is returned when the MD5 digest of a message
	// body that SQS returned does not match the body. The SDK checks it
	// once per call and does not retry.
	ErrChecksumMismatch = errors.New("message body checksum mismatch")

	// ErrNoDeadLetterQueue is returned by DeadLetter when the listener
	// configures no dead-letter queue and the queue has no redrive policy.
	ErrNoDeadLetterQueue = errors.New("queue has no dead-letter queue")

	// ErrMessageTooLarge is returned by Send and DeadLetter, before any
	// request, when a message is larger than the queue's
	// MaximumMessageSize.
	ErrMessageTooLarge = errors.New("message is larger than the queue's maximum message size")
)

// errInvalidArgument is wrapped by the errors of calls that the driver
// rejects before sending any request.
var errInvalidArgument = errors.New("invalid argument")

// checksumFailurePrefix starts the error of the SDK's MD5 check (service/sqs
// v1.53.0), whose error types are unexported.
//
// NOTE: the match depends on this text; TestReceiveChecksumMismatch fails
// when an SDK update changes it.
const checksumFailurePrefix = "message checksum validation failed"

// accessDeniedCodes are the error codes of SQS and the AWS auth layer that
// mean the caller's credentials are missing, wrong, expired or lack
// permission. Retrying them does not help.
var accessDeniedCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"IncompleteSignature":         true,
	"InvalidAccessKeyId":          true,
	"InvalidClientTokenId":        true,
	"InvalidSecurity":             true,
	"MissingAuthenticationToken":  true,
	"SignatureDoesNotMatch":       true,
	"UnrecognizedClientException": true,
}

// classify returns err wrapped with the sentinel that matches it, so that
// callers can test it with errors.Is, or err itself when none matches.
// Context errors pass unchanged.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}

	if sentinel := sentinelOf(err); sentinel != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}

// sentinelOf returns the sentinel error that err is a case of, or nil.
func sentinelOf(err error) error {
	if strings.Contains(err.Error(), checksumFailurePrefix) {
		return ErrChecksumMismatch
	}

	var notFound *types.QueueDoesNotExist
	if errors.As(err, &notFound) {
		return drivers.ErrQueueNotFound
	}

	var invalidReceipt *types.ReceiptHandleIsInvalid
	var notInFlight *types.MessageNotInflight
	if errors.As(err, &invalidReceipt) || errors.As(err, &notInFlight) {
		return drivers.ErrInvalidReceipt
	}

	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return nil
	}
	return sentinelOfCode(apiErr.ErrorCode(), apiErr.ErrorMessage())
}

// sentinelOfCode returns the sentinel error for an SQS error code and
// message, or nil. It serves both whole-call errors and the per-entry
// errors of batch calls, whose codes come in two spellings: "X" and, from
// the query protocol, "AWS.SimpleQueueService.X".
func sentinelOfCode(code, message string) error {
	code = strings.TrimPrefix(code, "AWS.SimpleQueueService.")

	switch {
	case code == "QueueDoesNotExist" || code == "NonExistentQueue":
		return drivers.ErrQueueNotFound
	case code == "ReceiptHandleIsInvalid" || code == "MessageNotInflight":
		return drivers.ErrInvalidReceipt
	case code == "InvalidParameterValue" && isReceiptProblem(message):
		return drivers.ErrInvalidReceipt
	case accessDeniedCodes[code]:
		return ErrAccessDenied
	}
	return nil
}

// isReceiptProblem reports whether the message of an InvalidParameterValue
// error blames the receipt handle, as SQS does for an expired handle ("...
// for parameter ReceiptHandle is invalid. Reason: The receipt handle has
// expired.") and for a message no longer in flight. Other invalid values,
// such as a visibility timeout beyond the limit, name other parameters.
func isReceiptProblem(message string) bool {
	lower := strings.ToLower(message)
	return strings.Contains(lower, "receipthandle") || strings.Contains(lower, "receipt handle")
}

// batchEntryError returns the error of one failed entry of a batch call.
func batchEntryError(entry types.BatchResultErrorEntry) error {
	code := aws.ToString(entry.Code)
	message := aws.ToString(entry.Message)

	err := fmt.Errorf("%s: %s", code, message)
	if sentinel := sentinelOfCode(code, message); sentinel != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}
