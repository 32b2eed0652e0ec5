//go:build linux

package supervisor

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// applyLimits sets the spec's memory and CPU limits on the running plugin
// process pid with prlimit.
//
// RLIMIT_AS counts virtual memory, including address space that is only
// reserved. The Go runtime reserves much of it at start: the idle behave
// test plugin, built with Go 1.26 for linux/amd64, had 1.2 GiB mapped, or
// 1.7 GiB when built with cgo, and about 15 MiB resident. An absolute
// limit in megabytes would fail the plugin's next mapping, so the limit is
// the size mapped now plus MemoryLimit. The Go heap reserves address space
// in 64 MiB arenas, so beyond its current arena the heap can grow by about
// MemoryLimit rounded down to a multiple of 64 MiB, less what new threads
// map. A plugin over the limit fails to map memory, which the Go runtime
// turns into a fatal "out of memory" exit.
//
// RLIMIT_CPU counts the CPU time of the process since its exec, not a
// rate, so a long-running plugin reaches it too. Its soft and hard limits
// are equal, so the kernel sends SIGKILL at the limit. A lower soft limit
// would first send SIGXCPU, which Go programs ignore unless they ask for
// it.
//
// NOTE: Start calls this once the handshake has finished, a few
// milliseconds after exec. Memory mapped before that is part of the base
// and does not count against MemoryLimit; CPU time does count.
func applyLimits(pid int, spec Spec, logger hclog.Logger) error {
	if spec.MemoryLimit <= 0 && spec.CPULimit <= 0 {
		return nil
	}

	var addressSpace uint64
	if spec.MemoryLimit > 0 {
		mapped, err := mappedBytes(pid)
		if err != nil {
			return fmt.Errorf("apply memory_limit to plugin %s: %w", spec.Path, err)
		}
		addressSpace = saturatingAdd(mapped, uint64(spec.MemoryLimit))
		if err := setLimit(pid, unix.RLIMIT_AS, addressSpace); err != nil {
			return fmt.Errorf("apply memory_limit to plugin %s (pid %d): %w", spec.Path, pid, err)
		}
	}

	if spec.CPULimit > 0 {
		if err := setLimit(pid, unix.RLIMIT_CPU, cpuSeconds(spec.CPULimit)); err != nil {
			return fmt.Errorf("apply cpu_limit to plugin %s (pid %d): %w", spec.Path, pid, err)
		}
	}

	logger.Debug("plugin resource limits applied", "pid", pid,
		"memory_limit_bytes", spec.MemoryLimit, "address_space_limit_bytes", addressSpace,
		"cpu_limit", spec.CPULimit.String())
	return nil
}

// setLimit sets both the soft and the hard limit of resource on pid, so
// that the plugin cannot raise the soft limit again.
func setLimit(pid, resource int, value uint64) error {
	limit := unix.Rlimit{Cur: value, Max: value}
	return unix.Prlimit(pid, resource, &limit, nil)
}

// mappedBytes returns the virtual memory size of process pid, which is
// what RLIMIT_AS limits, from the first field of /proc/PID/statm.
func mappedBytes(pid int) (uint64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/statm"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read the plugin's memory size: %w", err)
	}

	field, _, _ := strings.Cut(string(data), " ")
	pages, err := strconv.ParseUint(field, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse the size in %s, %q: %w", path, field, err)
	}
	return saturatingMul(pages, uint64(os.Getpagesize())), nil
}

// cpuSeconds rounds d up to whole seconds, the unit of RLIMIT_CPU.
func cpuSeconds(d time.Duration) uint64 {
	return uint64((d + time.Second - 1) / time.Second)
}

func saturatingAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func saturatingMul(a, b uint64) uint64 {
	if b != 0 && a > math.MaxUint64/b {
		return math.MaxUint64
	}
	return a * b
}
