//go:build !unix

package supervisor

import "syscall"

// processAttributes returns nil: process groups are a Unix feature.
func processAttributes() *syscall.SysProcAttr {
	return nil
}

// killGroup does nothing: go-plugin's Kill already ended the plugin, and
// without process groups its children cannot be found.
func killGroup(int) {}
