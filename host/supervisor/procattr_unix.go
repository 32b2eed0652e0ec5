//go:build unix && !linux

package supervisor

import "syscall"

// processAttributes puts the plugin in a process group of its own, so a
// terminal's Ctrl-C reaches only the host and Kill reaches the plugin's own
// children. Without Linux's parent-death signal, the SDK's parent pid
// watch ends a plugin whose host died.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills every process in the plugin's process group.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
