package sqlite_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/testing/drivertest"
)

func TestMain(m *testing.M) {
	// The cross-process test and benchmark run this binary again as the
	// sending process.
	if path := os.Getenv(childDatabaseEnv); path != "" {
		os.Exit(runChildSend(path))
	}
	if path := os.Getenv(senderDatabaseEnv); path != "" {
		os.Exit(runSenderProcess(path))
	}

	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		return openDriver(t, newDatabasePath(t))
	})
}

func TestConformanceWithoutFileNotifications(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		return openDriver(t, newDatabasePath(t), sqlite.WithFileNotifications(false))
	})
}

func BenchmarkSendReceiveAck(b *testing.B) {
	drivertest.Benchmark(b, func(b *testing.B) drivers.Driver {
		return openDriver(b, newDatabasePath(b))
	})
}

// newDatabasePath returns the path of a database file in a folder that is
// removed when the test ends.
func newDatabasePath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "vega.db")
}

// openDriver opens the database at path and closes it when the test ends,
// unless the test closed it already.
func openDriver(tb testing.TB, path string, opts ...sqlite.Option) *sqlite.Driver {
	tb.Helper()

	d, err := sqlite.Open(path, opts...)
	require.NoError(tb, err, "open sqlite database %q", path)

	tb.Cleanup(func() {
		if err := d.Close(); err != nil && !errors.Is(err, drivers.ErrClosed) {
			tb.Errorf("close sqlite database %q: %v", path, err)
		}
	})

	return d
}

// openQueue opens the named queue on d.
func openQueue(tb testing.TB, d drivers.Driver, name string) drivers.Queue {
	tb.Helper()

	q, err := d.Open(tb.Context(), name, drivers.OpenOptions{})
	require.NoError(tb, err, "open queue %q", name)

	return q
}
