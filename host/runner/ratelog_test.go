package runner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLogLimiterLetsBurstThrough(t *testing.T) {
	limiter := newLogLimiter()
	now := time.Unix(1000, 0)

	for i := range logBurst {
		ok, suppressed := limiter.allow("message dead-lettered", now)
		assert.True(t, ok, "line %d of the burst passes", i+1)
		assert.Zero(t, suppressed)
	}

	ok, _ := limiter.allow("message dead-lettered", now)
	assert.False(t, ok, "the line after the burst is dropped")
	ok, _ = limiter.allow("ack failed", now)
	assert.True(t, ok, "other texts have their own budget")
}

func TestLogLimiterReportsSuppressedCount(t *testing.T) {
	limiter := newLogLimiter()
	now := time.Unix(1000, 0)
	for range logBurst + 7 {
		limiter.allow("message dead-lettered", now)
	}

	ok, suppressed := limiter.allow("message dead-lettered", now.Add(logWindow))

	assert.True(t, ok, "a new window lets lines through again")
	assert.Equal(t, 7, suppressed, "the first line of the new window counts the dropped ones")
}
