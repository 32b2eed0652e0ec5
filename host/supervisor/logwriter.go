package supervisor

import (
	"bytes"
	"sync"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/status"
)

// lineLogger is an io.Writer that logs each line a plugin writes to its
// stdout or stderr after the handshake.
type lineLogger struct {
	logger hclog.Logger
	stream string

	mu      sync.Mutex
	pending []byte
}

func newLineLogger(logger hclog.Logger, stream string) *lineLogger {
	return &lineLogger{logger: logger, stream: stream}
}

// Write logs every complete line in p and keeps the rest for later.
func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.pending = append(w.pending, p...)
	for {
		end := bytes.IndexByte(w.pending, '\n')
		if end < 0 {
			break
		}
		line := bytes.TrimRight(w.pending[:end], "\r")
		if len(line) > 0 {
			w.logger.Info("plugin output", "stream", w.stream, "line", string(line))
		}
		w.pending = w.pending[end+1:]
	}
	return len(p), nil
}

// statusMessage returns the message of a gRPC status error, which is the
// plugin's own error text, without the "rpc error: code = ..." prefix.
func statusMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
