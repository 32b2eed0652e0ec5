package drivertest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vega-host/vega-host/drivers"
)

func testMissingQueue(t *testing.T, s *suite) {
	if s.opts.CreateQueue == nil {
		t.Skip("skipped: the driver creates queues on demand (no Options.CreateQueue)")
	}

	f := s.setup(t)
	missing := newQueueName()

	tests := []struct {
		name string
		call func() error
	}{
		{"open", func() error {
			_, err := f.driver.Open(f.ctx, missing, drivers.OpenOptions{})
			return err
		}},
		{"open with missing dead-letter queue", func() error {
			_, err := f.driver.Open(f.ctx, f.queue.Name(), drivers.OpenOptions{DeadLetterQueue: missing})
			return err
		}},
		{"send", func() error {
			_, err := f.driver.Send(f.ctx, missing, drivers.OutgoingMessage{Body: []byte("lost")})
			return err
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()

			assert.ErrorIs(t, err, drivers.ErrQueueNotFound, "%s of a queue that was never created", tt.name)
			assert.ErrorContains(t, err, missing, "the error should name the missing queue")
		})
	}
}
