package pluginapi

import (
	"time"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// messageFromProto builds the author-facing Message from its wire form.
func messageFromProto(m *proto.Message) *Message {
	if m == nil {
		return &Message{}
	}

	msg := &Message{
		ID:             m.Id,
		Queue:          m.Queue,
		Body:           m.Body,
		Attributes:     m.Attributes,
		UserAttributes: make(map[string]Attribute, len(m.UserAttributes)),
		ReceiptHandle:  m.ReceiptHandle,
		ReceiveCount:   int(m.ReceiveCount),
	}
	if m.SentAtUnixNano != 0 {
		msg.Timestamp = time.Unix(0, m.SentAtUnixNano)
	}
	for name, attribute := range m.UserAttributes {
		msg.UserAttributes[name] = Attribute{
			DataType:    attribute.DataType,
			StringValue: attribute.StringValue,
			BinaryValue: attribute.BinaryValue,
		}
	}
	return msg
}

// AttributesToProto converts user attributes to their wire form.
func AttributesToProto(attributes map[string]Attribute) map[string]*proto.Attribute {
	if len(attributes) == 0 {
		return nil
	}
	out := make(map[string]*proto.Attribute, len(attributes))
	for name, attribute := range attributes {
		out[name] = &proto.Attribute{
			DataType:    attribute.DataType,
			StringValue: attribute.StringValue,
			BinaryValue: attribute.BinaryValue,
		}
	}
	return out
}

// AttributesFromProto converts user attributes from their wire form.
func AttributesFromProto(attributes map[string]*proto.Attribute) map[string]Attribute {
	if len(attributes) == 0 {
		return nil
	}
	out := make(map[string]Attribute, len(attributes))
	for name, attribute := range attributes {
		out[name] = Attribute{
			DataType:    attribute.DataType,
			StringValue: attribute.StringValue,
			BinaryValue: attribute.BinaryValue,
		}
	}
	return out
}
