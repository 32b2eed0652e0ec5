package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
)

func testDeadLetter(t *testing.T, s *suite) {
	tests := []struct {
		name string
		// deadLetterQueue is appended to the test's queue name to give
		// OpenOptions.DeadLetterQueue; empty means the default name.
		deadLetterQueue string
	}{
		{"default queue", ""},
		{"configured queue", "-failed"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.deadLetterQueue == "" && s.opts.NoDefaultDeadLetterQueue {
				t.Skip("skipped: the driver has no default dead-letter queue (Options.NoDefaultDeadLetterQueue)")
			}

			f := s.setup(t)

			// A configured name is a suffix, so that each test run has its
			// own dead-letter queue.
			deadLetterQueue := ""
			if tt.deadLetterQueue != "" {
				deadLetterQueue = f.queue.Name() + tt.deadLetterQueue
			}
			source := f.open(f.queue.Name()+"-source", drivers.OpenOptions{DeadLetterQueue: deadLetterQueue})

			wantQueue := deadLetterQueue
			if wantQueue == "" {
				wantQueue = source.Name() + drivers.DefaultDeadLetterSuffix
			}

			userAttributes := map[string]drivers.Attribute{
				"tenant": {DataType: "String", StringValue: "acme"},
				"digest": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
			}
			_, err := f.driver.Send(f.ctx, source.Name(), drivers.OutgoingMessage{Body: []byte("poison"), UserAttributes: userAttributes})
			require.NoError(t, err)

			msg := f.receiveOne(source, request(time.Minute, 0))

			require.NoError(t, source.DeadLetter(f.ctx, msg, "handler failed: boom"), "dead-letter the message")

			f.requireEmpty(source, "a dead-lettered message should leave its queue")

			deadLetters := f.open(wantQueue, drivers.OpenOptions{})
			dead := f.receiveOne(deadLetters, request(time.Minute, 0))

			assert.Equal(t, []byte("poison"), dead.Body, "the body should be kept")
			assert.Equal(t, 1, dead.ReceiveCount, "the receive count should start again in the dead-letter queue")
			assert.Equal(t, wantQueue, dead.Queue)

			for name, attribute := range userAttributes {
				assert.Equal(t, attribute, dead.UserAttributes[name], "user attribute %q should be kept", name)
			}

			assert.Equal(t, "handler failed: boom", dead.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue, "the reason should be recorded")
			assert.Equal(t, source.Name(), dead.UserAttributes[drivers.DeadLetterSourceAttribute].StringValue, "the source queue should be recorded")
		})
	}
}
