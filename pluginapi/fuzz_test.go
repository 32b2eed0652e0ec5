package pluginapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/vega-host/vega-host/pluginapi"
)

// FuzzMessageDecode feeds arbitrary bodies to Message.Decode and
// Message.Object. Neither may panic, and a body that either accepts must
// be one JSON object. Every error must wrap ErrInvalidBody, so that the
// host dead-letters the message without retries. The seed inputs are in
// testdata/fuzz/FuzzMessageDecode.
func FuzzMessageDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := &pluginapi.Message{ID: "fuzz", Body: body}

		object, err := msg.Object()
		checkOutcome(t, "Object", body, err)
		if err == nil && object == nil {
			t.Errorf("Object accepted %q but returned a nil map", body)
		}
		if err != nil && object != nil {
			t.Errorf("Object rejected %q but returned a map: %v", body, object)
		}

		var email struct {
			To      any            `json:"to"`
			Subject string         `json:"subject"`
			Retries int            `json:"retries"`
			Tags    []string       `json:"tags"`
			Headers map[string]any `json:"headers"`
		}
		checkOutcome(t, "Decode into a struct", body, msg.Decode(&email))

		var raw map[string]json.RawMessage
		checkOutcome(t, "Decode into a map of raw values", body, msg.Decode(&raw))
	})
}

// checkOutcome checks one decode result against the contract of Decode.
func checkOutcome(t *testing.T, call string, body []byte, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, pluginapi.ErrInvalidBody) {
			t.Errorf("%s of %q: error %q does not wrap ErrInvalidBody", call, body, err)
		}
		if !pluginapi.IsPermanent(err) {
			t.Errorf("%s of %q: error %q is not permanent", call, body, err)
		}
		return
	}

	if !json.Valid(body) {
		t.Errorf("%s accepted %q, which is not valid JSON", call, body)
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		t.Errorf("%s accepted %q, which is not a JSON object", call, body)
	}
}
