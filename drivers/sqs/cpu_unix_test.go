//go:build unix

package sqs_test

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time of this process so
// far, or 0 when the kernel does not report it.
func processCPUTime() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
