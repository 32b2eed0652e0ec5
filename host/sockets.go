package host

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// socketDialTimeout bounds the check of whether a plugin socket is alive.
const socketDialTimeout = 200 * time.Millisecond

// prepareSocketDir returns the folder in which plugins create their Unix
// sockets, creating it if needed, and removes the sockets left by plugins
// of a host that was killed. Hosts of one user share the folder, so a
// socket is stale only when it accepts no connection.
//
// NOTE: the host's own end of the go-plugin broker still creates its
// sockets in the system's temporary folder, so a killed host leaves those
// behind there.
func prepareSocketDir(logger hclog.Logger) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("vega-host-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create plugin socket folder %s: %w", dir, err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read plugin socket folder %s: %w", dir, err)
	}

	removed := 0
	for _, entry := range entries {
		if !strings.HasPrefix(entry.Name(), "plugin") || entry.Type()&os.ModeSocket == 0 {
			continue
		}
		path := filepath.Join(dir, entry.Name())
		if socketAlive(path) {
			continue
		}
		if err := os.Remove(path); err != nil {
			logger.Warn("remove stale plugin socket failed", "path", path, "error", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		logger.Debug("removed stale plugin sockets", "count", removed, "dir", dir)
	}
	return dir, nil
}

// socketAlive reports whether the Unix socket at path accepts a
// connection.
func socketAlive(path string) bool {
	conn, err := net.DialTimeout("unix", path, socketDialTimeout)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
