package sqs

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vega-host/vega-host/drivers"
)

// maxMessageAttributes is the most user attributes SQS accepts on one
// message.
const maxMessageAttributes = 10

// messageSize returns the size of a message as SQS counts it against a
// queue's MaximumMessageSize: the body's bytes plus, for each user
// attribute, the bytes of its name, its data type and its value.
func messageSize(body []byte, attributes map[string]drivers.Attribute) int {
	size := len(body)
	for name, attribute := range attributes {
		size += len(name) + len(attribute.DataType) + len(attribute.StringValue) + len(attribute.BinaryValue)
	}
	return size
}

// checkSize returns an error wrapping ErrMessageTooLarge when the message
// does not fit in queue.
func checkSize(queue *queueInfo, body []byte, attributes map[string]drivers.Attribute) error {
	size := messageSize(body, attributes)
	if size <= queue.maxMessageSize {
		return nil
	}
	return fmt.Errorf("%w: the message is %d bytes (body and attributes), and queue %q accepts at most %d (its MaximumMessageSize)",
		ErrMessageTooLarge, size, queue.name, queue.maxMessageSize)
}

// validateBody checks that body is text that SQS accepts: at least one
// character, valid UTF-8, and only the characters #x9, #xA, #xD and
// #x20 to #x10FFFF without surrogates and #xFFFE and #xFFFF. A body that
// breaks these rules would be rejected, or changed in transit and then fail
// the checksum.
func validateBody(body []byte) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: the body is empty, and SQS requires at least one character", errInvalidArgument)
	}

	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the body is not valid UTF-8, and SQS accepts only text; encode binary data, for example as base64", errInvalidArgument)
	}

	for offset, r := range string(body) {
		if !isAllowedRune(r) {
			return fmt.Errorf("%w: the body contains the character %U at byte %d, which SQS does not accept", errInvalidArgument, r, offset)
		}
	}

	return nil
}

// isAllowedRune reports whether SQS accepts r in a message body. The
// decoding of valid UTF-8 yields no surrogates.
func isAllowedRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r == 0xFFFE || r == 0xFFFF:
		return false
	}
	return true
}

// messageAttributes converts user attributes for a send, after checking
// what SQS would reject.
func messageAttributes(attributes map[string]drivers.Attribute) (map[string]types.MessageAttributeValue, error) {
	if len(attributes) == 0 {
		return nil, nil
	}

	if len(attributes) > maxMessageAttributes {
		return nil, fmt.Errorf("%w: the message has %d user attributes, and SQS accepts at most %d", errInvalidArgument, len(attributes), maxMessageAttributes)
	}

	converted := make(map[string]types.MessageAttributeValue, len(attributes))
	for name, attribute := range attributes {
		value, err := messageAttribute(name, attribute)
		if err != nil {
			return nil, err
		}
		converted[name] = value
	}

	return converted, nil
}

// messageAttribute converts one user attribute, whose data type decides
// whether the value is its StringValue or its BinaryValue.
func messageAttribute(name string, attribute drivers.Attribute) (types.MessageAttributeValue, error) {
	value := types.MessageAttributeValue{DataType: aws.String(attribute.DataType)}

	switch {
	case name == "":
		return value, fmt.Errorf("%w: a user attribute has an empty name", errInvalidArgument)

	case isDataType(attribute.DataType, "Binary"):
		if len(attribute.BinaryValue) == 0 {
			return value, fmt.Errorf("%w: user attribute %q of type %q has an empty binary value, which SQS rejects", errInvalidArgument, name, attribute.DataType)
		}
		value.BinaryValue = attribute.BinaryValue

	case isDataType(attribute.DataType, "String") || isDataType(attribute.DataType, "Number"):
		if attribute.StringValue == "" {
			return value, fmt.Errorf("%w: user attribute %q of type %q has an empty value, which SQS rejects", errInvalidArgument, name, attribute.DataType)
		}
		value.StringValue = aws.String(attribute.StringValue)

	default:
		return value, fmt.Errorf("%w: user attribute %q has data type %q; SQS accepts String, Number or Binary, optionally with a custom suffix such as \"Number.int\"",
			errInvalidArgument, name, attribute.DataType)
	}

	return value, nil
}

// isDataType reports whether dataType is base or base with a custom
// suffix, as "Number.int" is of "Number".
func isDataType(dataType, base string) bool {
	return dataType == base || strings.HasPrefix(dataType, base+".")
}
