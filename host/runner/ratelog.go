package runner

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Repeated per-message log lines, such as a dead-letter for each message
// of a bad batch, pass at most logBurst times per logWindow for each
// message text. The first line after a window reports how many were
// dropped.
const (
	logWindow = 10 * time.Second
	logBurst  = 20
)

// logLimiter rate-limits log lines by their message text.
type logLimiter struct {
	mu      sync.Mutex
	windows map[string]*logCount
}

type logCount struct {
	start      time.Time
	lines      int
	suppressed int
}

func newLogLimiter() *logLimiter {
	return &logLimiter{windows: make(map[string]*logCount)}
}

// allow reports whether a line with message text msg may be written now,
// and how many lines with that text were dropped since the last one that
// passed.
func (l *logLimiter) allow(msg string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()

	count, ok := l.windows[msg]
	if !ok || now.Sub(count.start) >= logWindow {
		suppressed := 0
		if ok {
			suppressed = count.suppressed
		}
		l.windows[msg] = &logCount{start: now, lines: 1}
		return true, suppressed
	}
	if count.lines < logBurst {
		count.lines++
		return true, 0
	}
	count.suppressed++
	return false, 0
}

// logLimited writes a per-message log line unless too many lines with the
// same text were written lately.
func (r *Runner) logLimited(level hclog.Level, msg string, args ...any) {
	ok, suppressed := r.logLimit.allow(msg, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed_since_last", suppressed)
	}
	r.logger.Log(level, msg, args...)
}
