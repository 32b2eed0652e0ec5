//go:build !linux

package supervisor

import (
	"runtime"

	"github.com/hashicorp/go-hclog"
)

// applyLimits logs a warning when memory_limit or cpu_limit is set,
// because only the Linux build enforces them.
func applyLimits(pid int, spec Spec, logger hclog.Logger) error {
	if spec.MemoryLimit > 0 || spec.CPULimit > 0 {
		logger.Warn("memory_limit and cpu_limit are not enforced on this system, only on Linux; the plugin runs without them",
			"pid", pid, "os", runtime.GOOS)
	}
	return nil
}
