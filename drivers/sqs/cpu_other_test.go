//go:build !unix

package sqs_test

import "time"

// processCPUTime returns 0, because only Unix reports a process's CPU time
// through syscall.Getrusage.
func processCPUTime() time.Duration { return 0 }
