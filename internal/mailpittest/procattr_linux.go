package mailpittest

import (
	"os/exec"
	"syscall"
)

// stopWithParent makes the kernel kill mailpit when the thread that started
// it exits, so a test binary that crashes or times out leaves no mailpit
// behind. The Go runtime ends a thread before the process only when a
// goroutine locked to it with runtime.LockOSThread exits.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
