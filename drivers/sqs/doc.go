// Package sqs implements drivers.Driver on Amazon SQS with the AWS SDK for
// Go v2 (service/sqs v1.53.0). It also works with servers that speak the
// SQS API, such as moto_server, through Config.EndpointURL.
//
// # Configuration
//
// In listeners.hcl a driver "sqs" block sets the fields of Config, and the
// host decodes it with host.DecodeSQSConfig. Every key is optional, but a
// region must come from the block, AWS_REGION or the profile:
//
//	driver "sqs" {
//	  region            = "eu-west-1"
//	  wait_time_seconds = 20 # 1 to 20, default 20
//
//	  # Credentials: a profile, static keys, or neither for the SDK's
//	  # default chain (environment, web identity, container or instance role).
//	  profile = "production"
//	  # access_key_id     = env("AWS_ACCESS_KEY_ID")
//	  # secret_access_key = env("AWS_SECRET_ACCESS_KEY")
//	  # session_token     = env("AWS_SESSION_TOKEN")
//
//	  # Only for a local server such as moto_server:
//	  # endpoint_url                = "http://127.0.0.1:5000"
//	  # disable_checksum_validation = true
//	}
//
// Listeners on this driver take max_messages from 1 to 10, because one
// receive returns at most 10 messages.
//
// # Queues
//
// The driver never creates queues: Open and Send take a queue name or a full
// queue URL, resolve it once per driver (GetQueueUrl) and read its
// MaximumMessageSize, FifoQueue, RedrivePolicy and
// ContentBasedDeduplication attributes once. A missing queue is an error
// wrapping drivers.ErrQueueNotFound, and missing or rejected credentials an
// error wrapping ErrAccessDenied, so a listener on such a queue fails to
// start instead of retrying.
//
// # Receiving and settling
//
// Receive makes one ReceiveMessage call of up to 10 messages, with the
// visibility timeout and wait time in whole seconds. Queues implement
// drivers.BatchAcker. Acks and visibility changes from concurrent handlers
// are sent together in
// DeleteMessageBatch and ChangeMessageVisibilityBatch calls of up to 10
// entries, each batch leaving at most 3 milliseconds after its first
// entry. Each caller gets the outcome of its own entry. An expired or
// invalid receipt handle is an error wrapping drivers.ErrInvalidReceipt.
//
// SQS differs from the other drivers in ways the host tolerates. A standard
// queue may deliver a message twice. DeleteMessage succeeds with the
// receipt handle of an earlier receive or of a message deleted already, so
// such an Ack returns nil. A message stays hidden for at most 12 hours, and
// the driver caps longer extensions, counting from the first receive.
//
// # Dead letters
//
// Failed messages reach a dead-letter queue in one of two ways:
//
//   - Host-managed: the listener sets dead_letter_queue
//     (OpenOptions.DeadLetterQueue). DeadLetter sends a copy with the
//     failure reason and the source queue as user attributes
//     (drivers.DeadLetterReasonAttribute and
//     drivers.DeadLetterSourceAttribute) and then deletes the original.
//     The copy is sent right away, whatever the receive count.
//   - Broker-managed: the queue has a RedrivePolicy. DeadLetter makes the
//     message visible again, and SQS moves it to the policy's queue once
//     it has been received more than maxReceiveCount times. The copy keeps
//     the original message but records no reason.
//
// With neither, Open logs a warning and DeadLetter returns an error
// wrapping ErrNoDeadLetterQueue, leaving the message in its queue. Unlike
// the memory and sqlite drivers, this driver does not fall back to a queue
// named with drivers.DefaultDeadLetterSuffix.
//
// # Retries and checksums
//
// Throttling, HTTP 5xx and network errors are retried by the SDK's
// standard retryer, up to 5 attempts with exponential backoff capped at 5
// seconds. The SDK checks the MD5 digest of every body it sends or
// receives; a mismatch is one error wrapping ErrChecksumMismatch, not
// retried. Config.DisableChecksumValidation turns the check off for local
// servers only.
package sqs
