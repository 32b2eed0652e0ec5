package runner

import (
	"strings"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/vega-host/vega-host/host/config"
)

// Receive errors back off from receiveBaseDelay, doubling up to
// receiveMaxDelay, which also bounds how often a lasting outage is logged.
const (
	receiveBaseDelay = 100 * time.Millisecond
	receiveMaxDelay  = 30 * time.Second
)

// retryJitterPercent spreads retries of messages that failed together.
const retryJitterPercent = 20

// retryDelay returns how long a message that failed on attempt (its
// receive count, from 1) stays invisible: base doubled for each earlier
// attempt, jittered, and capped at maxDelay.
func retryDelay(base, maxDelay time.Duration, attempt int) time.Duration {
	// go-retry panics on a base of zero or less; config validation
	// rejects such a delay, and this keeps a zero-valued Listener safe.
	if base <= 0 {
		base = config.DefaultRetryDelay
	}
	if maxDelay < base {
		maxDelay = base
	}
	backoff := retry.NewExponential(base)
	backoff = retry.WithJitterPercent(retryJitterPercent, backoff)
	backoff = retry.WithCappedDuration(maxDelay, backoff)
	return nth(backoff, attempt)
}

// receiveRetryDelay returns the pause after the given number of receive
// failures in a row.
func receiveRetryDelay(failures int) time.Duration {
	backoff := retry.NewExponential(receiveBaseDelay)
	backoff = retry.WithJitterPercent(10, backoff)
	backoff = retry.WithCappedDuration(receiveMaxDelay, backoff)
	return nth(backoff, failures)
}

// nth returns the n-th delay of backoff, counting from 1.
func nth(backoff retry.Backoff, n int) time.Duration {
	var delay time.Duration
	for range max(n, 1) {
		delay, _ = backoff.Next()
	}
	return delay
}

// truncate cuts text to at most limit bytes, marking the cut.
func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	return text[:limit] + "... (truncated)"
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}
