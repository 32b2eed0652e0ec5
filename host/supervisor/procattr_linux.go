//go:build linux

package supervisor

import "syscall"

// processAttributes puts the plugin in a process group of its own, so a
// terminal's Ctrl-C reaches only the host and Kill reaches the plugin's own
// children. It also has the kernel send SIGTERM to the plugin when the host
// dies, even by SIGKILL.
//
// NOTE: Linux sends the parent-death signal when the thread that started
// the child exits, not the process. Go keeps its threads alive unless a
// goroutine locked to one exits, which the host never does. The SDK also
// watches its parent pid as a second line of defence.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup kills every process in the plugin's process group.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
