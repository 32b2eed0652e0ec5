package pluginapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/vega-host/vega-host/pluginapi"
)

// Email is the body the example listener expects.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
}

func ExampleMessage_Decode() {
	msg := &pluginapi.Message{ID: "m1", Body: []byte(`{"to": "ada@example.com", "subject": "Hi"}`)}

	var email Email
	if err := msg.Decode(&email); err != nil {
		fmt.Println("invalid body:", err)
		return
	}
	fmt.Println(email.To, email.Subject)
	// Output: ada@example.com Hi
}

func ExamplePermanent() {
	handle := func(ctx context.Context, msg *pluginapi.Message) error {
		var email Email
		if err := msg.Decode(&email); err != nil {
			return err // already permanent: the body cannot change
		}
		if _, err := mail.ParseAddress(email.To); err != nil {
			// Retrying cannot fix an invalid address.
			return pluginapi.Permanent(fmt.Errorf("invalid recipient %q: %w", email.To, err))
		}
		return errors.New("smtp server busy") // temporary: retried with backoff
	}

	err := handle(context.Background(), &pluginapi.Message{Body: []byte(`{"to": "nobody"}`)})
	fmt.Println(pluginapi.IsPermanent(err))
	// Output: true
}

func ExampleServe() {
	listener := pluginapi.HandlerFunc(func(ctx context.Context, msg *pluginapi.Message) error {
		pluginapi.Logger().Info("handling", "message_id", msg.ID)
		return nil
	})

	// In a plugin's main function; it returns when the host stops the plugin.
	_ = func() { pluginapi.Serve(listener) }
}
