//go:build !linux

package mototest

import "os/exec"

// stopWithParent does nothing outside Linux, which alone has a parent-death
// signal, so there a crashed test binary can leave moto_server running.
func stopWithParent(*exec.Cmd) {}
