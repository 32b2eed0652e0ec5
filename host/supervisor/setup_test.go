package supervisor

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// within bounds every wait in these tests.
const within = 15 * time.Second

// behaveSpec returns a spec that starts the behave test plugin, recording
// its events in a temporary file.
func behaveSpec(t *testing.T) Spec {
	t.Helper()

	record := filepath.Join(t.TempDir(), "events.jsonl")
	return Spec{
		Listener: "behave",
		Path:     buildtest.Binary(t, "./host/testdata/plugins/behave"),
		LogLevel: "debug",
		Startup: &proto.StartupRequest{
			Listener:   "behave",
			Queue:      "jobs",
			ConfigJson: []byte(`{"record_file": "` + record + `"}`),
			AutoAck:    true,
			Workers:    1,
		},
	}
}

// startInstance starts spec's plugin and kills it when the test ends.
func startInstance(t *testing.T, spec Spec, logger hclog.Logger) *Instance {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	instance, err := Start(ctx, spec, proto.UnimplementedHostServer{}, logger)
	require.NoError(t, err)
	t.Cleanup(instance.Kill)
	return instance
}

// newTestLogger returns a JSON logger at debug level that writes to the
// returned buffer.
func newTestLogger() (hclog.Logger, *syncBuffer) {
	logs := &syncBuffer{}
	return hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug, JSONFormat: true}), logs
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
