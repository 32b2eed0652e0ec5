//go:build !linux

package mailpittest

import "os/exec"

// stopWithParent does nothing outside Linux, which alone has a parent-death
// signal, so there a crashed test binary can leave mailpit running.
func stopWithParent(*exec.Cmd) {}
