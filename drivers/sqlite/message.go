package sqlite

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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

// newMessageID returns 32 random hex digits.
func newMessageID() string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never returns an error since Go 1.24.

	return hex.EncodeToString(id[:])
}

// A receipt handle is "<message id>.<receipt token>". The token is random
// and replaced on every receive, so a handle stops matching once the
// message is received again, acked or dead-lettered.

func formatReceipt(id, token string) string {
	return id + "." + token
}

func parseReceipt(receipt string) (id, token string, err error) {
	id, token, ok := strings.Cut(receipt, ".")
	if !ok || id == "" || token == "" {
		return "", "", fmt.Errorf("receipt handle %q is malformed: %w", receipt, drivers.ErrInvalidReceipt)
	}

	return id, token, nil
}

// storedAttribute is the JSON form of a drivers.Attribute in the attributes
// column. encoding/json writes BinaryValue as base64.
type storedAttribute struct {
	DataType    string `json:"type"`
	StringValue string `json:"string,omitempty"`
	BinaryValue []byte `json:"binary,omitempty"`
}

// encodeAttributes returns the JSON for the attributes column, or nil (SQL
// NULL) when there are none.
func encodeAttributes(attributes map[string]drivers.Attribute) (any, error) {
	if len(attributes) == 0 {
		return nil, nil
	}

	stored := make(map[string]storedAttribute, len(attributes))
	for name, attribute := range attributes {
		stored[name] = storedAttribute(attribute)
	}

	encoded, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("encode user attributes: %w", err)
	}

	return string(encoded), nil
}

// decodeAttributes parses the attributes column, returning nil for NULL.
func decodeAttributes(column *string) (map[string]drivers.Attribute, error) {
	if column == nil {
		return nil, nil
	}

	var stored map[string]storedAttribute
	if err := json.Unmarshal([]byte(*column), &stored); err != nil {
		return nil, fmt.Errorf("decode user attributes: %w", err)
	}

	if len(stored) == 0 {
		return nil, nil
	}

	attributes := make(map[string]drivers.Attribute, len(stored))
	for name, attribute := range stored {
		attributes[name] = drivers.Attribute(attribute)
	}

	return attributes, nil
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
