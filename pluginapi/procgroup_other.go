//go:build !unix

package pluginapi

import "os"

// killProcessGroup exits the plugin. Process groups are a Unix feature, so
// processes the plugin started are not stopped here.
func killProcessGroup() {
	os.Exit(1)
}
