package supervisor

import (
	"bytes"
	"strings"
	"sync"
)

// stderrTailLines is how many of the plugin's last stderr lines a crash
// report carries.
const stderrTailLines = 20

// maxTailLineBytes caps one kept line, so a plugin that writes a huge line
// cannot make crash reports large.
const maxTailLineBytes = 512

// lineTail is an io.Writer that keeps the last lines written to it.
type lineTail struct {
	mu      sync.Mutex
	lines   []string
	pending []byte
}

// Write keeps each complete line of p, dropping the oldest beyond the
// limit.
func (t *lineTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	t.pending = append(t.pending, p...)
	for {
		end := bytes.IndexByte(t.pending, '\n')
		if end < 0 {
			break
		}
		t.add(string(t.pending[:end]))
		t.pending = t.pending[end+1:]
	}
	if len(t.pending) > maxTailLineBytes {
		t.add(string(t.pending))
		t.pending = t.pending[:0]
	}
	return len(p), nil
}

func (t *lineTail) add(line string) {
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return
	}
	if len(line) > maxTailLineBytes {
		line = line[:maxTailLineBytes] + "..."
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > stderrTailLines {
		t.lines = t.lines[len(t.lines)-stderrTailLines:]
	}
}

// String returns the kept lines, oldest first, and any unfinished line.
func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()

	lines := append([]string(nil), t.lines...)
	if len(t.pending) > 0 {
		lines = append(lines, string(t.pending))
	}
	return strings.Join(lines, "\n")
}
