package host_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind, such as
// a runner, heartbeat or plugin connection that outlived its host.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
