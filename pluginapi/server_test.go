package pluginapi

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

func handle(t *testing.T, listener Listener, body string) *proto.HandleResponse {
	t.Helper()
	server := &listenerServer{listener: listener, logger: hclog.NewNullLogger(), autoAck: true}
	response, err := server.Handle(context.Background(), &proto.HandleRequest{
		Message: &proto.Message{Id: "m1", Body: []byte(body), ReceiveCount: 2},
	})
	require.NoError(t, err, "Handle reports failures in the response, not as a gRPC error")
	return response
}

func TestServerHandleOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		handler   HandlerFunc
		body      string
		wantError string
		permanent bool
		panicked  bool
		invalid   bool
	}{
		{
			name:    "success",
			handler: func(context.Context, *Message) error { return nil },
		},
		{
			name:      "error",
			handler:   func(context.Context, *Message) error { return errors.New("smtp refused") },
			wantError: "smtp refused",
		},
		{
			name:      "permanent",
			handler:   func(context.Context, *Message) error { return Permanent(errors.New("bad address")) },
			wantError: "bad address",
			permanent: true,
		},
		{
			name:      "panic",
			handler:   func(context.Context, *Message) error { panic("nil map") },
			wantError: "panic in Handle: nil map",
			panicked:  true,
		},
		{
			name: "invalid body",
			handler: func(_ context.Context, msg *Message) error {
				var v map[string]any
				return msg.Decode(&v)
			},
			body:      "[]",
			wantError: "the body is not a JSON object",
			permanent: true,
			invalid:   true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == "" {
				body = "{}"
			}

			response := handle(t, tc.handler, body)

			if tc.wantError == "" {
				assert.Empty(t, response.Error)
			} else {
				assert.Contains(t, response.Error, tc.wantError)
			}
			assert.Equal(t, tc.permanent, response.Permanent, "permanent")
			assert.Equal(t, tc.panicked, response.Panicked, "panicked")
			assert.Equal(t, tc.invalid, response.InvalidBody, "invalid body")
		})
	}
}

func TestServerPanicCarriesStack(t *testing.T) {
	response := handle(t, HandlerFunc(func(context.Context, *Message) error { panic("boom") }), "{}")

	assert.Contains(t, response.Error, "goroutine", "the error carries the stack")
	assert.Contains(t, response.Error, "server_test.go", "the stack names the panicking file")
}

func TestServerPassesMessageFields(t *testing.T) {
	var got *Message
	handler := HandlerFunc(func(_ context.Context, msg *Message) error {
		got = msg
		return nil
	})
	server := &listenerServer{listener: handler, logger: hclog.NewNullLogger(), autoAck: true}

	_, err := server.Handle(context.Background(), &proto.HandleRequest{Message: &proto.Message{
		Id:             "m1",
		Queue:          "emails",
		Body:           []byte(`{}`),
		Attributes:     map[string]string{"SentTimestamp": "1700000000000"},
		UserAttributes: map[string]*proto.Attribute{"trace": {DataType: "String", StringValue: "abc"}},
		ReceiptHandle:  "r1",
		ReceiveCount:   3,
		SentAtUnixNano: 1_700_000_000_000_000_000,
	}})

	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "m1", got.ID)
	assert.Equal(t, "emails", got.Queue)
	assert.Equal(t, "1700000000000", got.Attributes["SentTimestamp"])
	assert.Equal(t, Attribute{DataType: "String", StringValue: "abc"}, got.UserAttributes["trace"])
	assert.Equal(t, "r1", got.ReceiptHandle)
	assert.Equal(t, 3, got.ReceiveCount)
	assert.Equal(t, int64(1_700_000_000_000_000_000), got.Timestamp.UnixNano())
	assert.ErrorIs(t, got.Ack(context.Background()), ErrAutoAck, "with auto_ack the host settles the message")
}
