package mototest

import (
	"os/exec"
	"syscall"
)

// stopWithParent makes the kernel kill moto_server when the thread that
// started it exits, so a test binary that crashes leaves no moto_server
// behind. The Go runtime ends a thread before the process only when a
// goroutine locked to it with runtime.LockOSThread exits.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
