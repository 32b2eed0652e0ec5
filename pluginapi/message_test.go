package pluginapi

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessageDecode(t *testing.T) {
	cases := []struct {
		name    string
		body    []byte
		wantErr string
	}{
		{name: "object", body: []byte(`{"to": "a@example.com"}`)},
		{name: "object with spaces", body: []byte("  \n{\"to\": \"a@example.com\"}\n")},
		{name: "empty", body: nil, wantErr: "the body is empty"},
		{name: "blank", body: []byte("   "), wantErr: "the body is empty"},
		{name: "array", body: []byte(`[1, 2]`), wantErr: `not a JSON object, it starts with "[1, 2]"`},
		{name: "plain text", body: []byte(`hello world, this is long text`), wantErr: `starts with "hello world, thi..."`},
		{name: "invalid utf-8", body: []byte{'{', 0xff, '}'}, wantErr: "not valid UTF-8"},
		{name: "broken object", body: []byte(`{"to": `), wantErr: "not a valid JSON object: unexpected end of JSON input"},
		{name: "wrong field type", body: []byte(`{"to": 42}`), wantErr: `field "to" is a JSON number, expected string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := &Message{ID: "m1", Body: tc.body}
			var body struct {
				To string `json:"to"`
			}

			err := msg.Decode(&body)

			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "a@example.com", body.To)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidBody)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "m1", "the error names the message")
			assert.True(t, IsPermanent(err), "a body that cannot decode is a permanent failure")
		})
	}
}

func TestMessageObjectHugeNumber(t *testing.T) {
	msg := &Message{ID: "m1", Body: []byte(`{"n": 1e400}`)}

	_, err := msg.Object()

	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidBody)
	assert.Contains(t, err.Error(), "does not fit float64")
	assert.NotContains(t, err.Error(), `field ""`, "no empty field name in the message")
}

func TestMessageObject(t *testing.T) {
	msg := &Message{Body: []byte(`{"n": 1, "tags": ["a"]}`)}

	object, err := msg.Object()

	require.NoError(t, err)
	assert.Equal(t, float64(1), object["n"])
	assert.Equal(t, []any{"a"}, object["tags"])
}

func TestSettleWithoutAcknowledger(t *testing.T) {
	msg := &Message{}
	ctx := context.Background()

	assert.ErrorIs(t, msg.Ack(ctx), ErrAutoAck)
	assert.ErrorIs(t, msg.Reject(ctx, true), ErrAutoAck)
	assert.ErrorIs(t, msg.ExtendVisibility(ctx, 0), ErrAutoAck)
}

func TestPermanent(t *testing.T) {
	base := errors.New("invalid address")

	assert.Nil(t, Permanent(nil))
	assert.True(t, IsPermanent(Permanent(base)))
	assert.True(t, IsPermanent(errors.Join(errors.New("context"), Permanent(base))), "a wrapped permanent error stays permanent")
	assert.False(t, IsPermanent(base))
	assert.ErrorIs(t, Permanent(base), base, "Permanent keeps the cause for errors.Is")
	assert.Equal(t, "invalid address", Permanent(base).Error())
}

func TestStartupInfoDecodeConfig(t *testing.T) {
	info := StartupInfo{Listener: "mail", Config: []byte(`{"smtp_addr": "127.0.0.1:1025"}`)}
	var cfg struct {
		SMTPAddr string `json:"smtp_addr"`
	}

	require.NoError(t, info.DecodeConfig(&cfg))
	assert.Equal(t, "127.0.0.1:1025", cfg.SMTPAddr)

	info.Config = []byte(`{"smtp_addr": 5}`)
	err := info.DecodeConfig(&cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `listener "mail"`)
}
