package memory

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// Names of the backend attributes in drivers.Message.Attributes, spelled as
// in Amazon SQS. Timestamps are Unix milliseconds.
const (
	attributeSentTimestamp         = "SentTimestamp"
	attributeReceiveCount          = "ApproximateReceiveCount"
	attributeFirstReceiveTimestamp = "ApproximateFirstReceiveTimestamp"
)

var errEmptyQueueName = errors.New("queue name is empty")

// message is a stored message. Its fields are guarded by the mutex of the
// queueState that holds it.
type message struct {
	id             string
	body           []byte
	userAttributes map[string]drivers.Attribute
	sentAt         time.Time

	// visibleAt is when the message can be received again. It is in the
	// past for visible messages and in the future for in-flight and
	// delayed ones.
	visibleAt time.Time

	// receipt is the handle of the latest receive, empty before the first.
	receipt         string
	receiveCount    int
	firstReceivedAt time.Time

	// sequence orders messages that become visible at the same time in the
	// order they were added to the queue.
	sequence uint64
	// index is the message's position in its queue's heap.
	index int
}

// newMessageID returns 32 random hex digits.
func newMessageID() string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never returns an error since Go 1.24.

	return hex.EncodeToString(id[:])
}

// formatReceipt returns a receipt handle of the form "<message id>.<number>",
// where number is unique within the driver.
func formatReceipt(id string, number uint64) string {
	return id + "." + strconv.FormatUint(number, 10)
}

// receiptMessageID returns the message id part of a receipt handle.
func receiptMessageID(receipt string) (string, error) {
	id, _, ok := strings.Cut(receipt, ".")
	if !ok || id == "" {
		return "", fmt.Errorf("receipt handle %q is malformed: %w", receipt, drivers.ErrInvalidReceipt)
	}

	return id, nil
}

// toDriverMessage returns a copy of m as received from the named queue.
func (m *message) toDriverMessage(queueName string) *drivers.Message {
	attributes := map[string]string{
		attributeSentTimestamp:         strconv.FormatInt(m.sentAt.UnixMilli(), 10),
		attributeReceiveCount:          strconv.Itoa(m.receiveCount),
		attributeFirstReceiveTimestamp: strconv.FormatInt(m.firstReceivedAt.UnixMilli(), 10),
	}

	return &drivers.Message{
		ID:             m.id,
		Queue:          queueName,
		Body:           cloneBody(m.body),
		Attributes:     attributes,
		UserAttributes: cloneAttributes(m.userAttributes),
		ReceiptHandle:  m.receipt,
		ReceiveCount:   m.receiveCount,
		SentAt:         m.sentAt,
	}
}

// cloneBody copies body and turns nil into an empty slice, so a received
// body is never nil.
func cloneBody(body []byte) []byte {
	if body == nil {
		return []byte{}
	}

	return bytes.Clone(body)
}

// cloneAttributes deep-copies attributes, returning nil when there are none.
func cloneAttributes(attributes map[string]drivers.Attribute) map[string]drivers.Attribute {
	if len(attributes) == 0 {
		return nil
	}

	clone := maps.Clone(attributes)
	for name, attribute := range clone {
		if attribute.BinaryValue != nil {
			attribute.BinaryValue = bytes.Clone(attribute.BinaryValue)
			clone[name] = attribute
		}
	}

	return clone
}

// resolveDeadLetterQueue returns the dead-letter queue that opts configure
// for the named queue.
func resolveDeadLetterQueue(name string, opts drivers.OpenOptions) (string, error) {
	if name == "" {
		return "", errEmptyQueueName
	}

	deadLetterQueue := opts.DeadLetterQueue
	if deadLetterQueue == "" {
		deadLetterQueue = name + drivers.DefaultDeadLetterSuffix
	}

	if deadLetterQueue == name {
		return "", fmt.Errorf("dead-letter queue %q is invalid, must differ from the queue", deadLetterQueue)
	}

	return deadLetterQueue, nil
}
