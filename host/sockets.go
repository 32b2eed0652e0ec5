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

// prepareSocketDir returns the folder in which go-plugin puts the folders
// of plugin sockets, creating it if needed, and removes folders left by
// plugins of a host that was killed. Hosts of one user share the folder,
// so a folder is stale only when none of its sockets accepts a connection.
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
		if !entry.IsDir() || !strings.HasPrefix(entry.Name(), "plugin-dir") {
			continue
		}
		path := filepath.Join(dir, entry.Name())
		if socketsAlive(path) {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			logger.Warn("remove stale plugin socket folder failed", "path", path, "error", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		logger.Info("removed stale plugin socket folders", "count", removed, "dir", dir)
	}
	return dir, nil
}

// socketsAlive reports whether any Unix socket in dir accepts a
// connection. A folder that a plugin created a moment ago and that has no
// socket yet counts as alive.
func socketsAlive(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if len(entries) == 0 {
		info, err := os.Stat(dir)
		return err == nil && time.Since(info.ModTime()) < time.Minute
	}

	for _, entry := range entries {
		if entry.Type()&os.ModeSocket == 0 {
			continue
		}
		conn, err := net.DialTimeout("unix", filepath.Join(dir, entry.Name()), socketDialTimeout)
		if err == nil {
			_ = conn.Close()
			return true
		}
	}
	return false
}
