package supervisor

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/hashicorp/go-hclog"
)

// ErrHashMismatch marks a plugin binary whose SHA-256 differs from the
// listener's sha256. errors.Is also matches it against ErrHandshake, so
// the supervisor treats it as a start failure that another attempt cannot
// fix.
var ErrHashMismatch error = permanentError("plugin binary does not match its pinned sha256")

// permanentError is a sentinel that also matches ErrHandshake, without
// the handshake's text in its message.
type permanentError string

func (e permanentError) Error() string { return string(e) }

// Is reports whether target is ErrHandshake.
func (e permanentError) Is(target error) bool { return target == ErrHandshake }

// FileSHA256 returns the SHA-256 of the file at path as 64 lowercase
// hexadecimal digits, as sha256sum prints it.
func FileSHA256(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash plugin binary: %w", err)
	}
	defer file.Close()

	hash := sha256.New()
	if _, err := io.Copy(hash, file); err != nil {
		return "", fmt.Errorf("hash plugin binary %s: %w", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}

// checkBinary runs before each exec of the plugin binary. It warns when
// the binary or its folder is writable by group or others, and returns an
// error wrapping ErrHashMismatch when the spec pins a SHA-256 that the
// binary does not have.
//
// NOTE: the binary is hashed and then executed by its path, so a file
// swapped in between runs unchecked. Keep its folder writable only by the
// host's user.
func checkBinary(spec Spec, logger hclog.Logger) error {
	warnIfReplaceable(spec.Path, logger)
	if spec.SHA256 == "" {
		return nil
	}

	actual, err := FileSHA256(spec.Path)
	if err != nil {
		return fmt.Errorf("start plugin %s: %w", spec.Path, err)
	}
	if actual != spec.SHA256 {
		return fmt.Errorf("start plugin %s: %w: the binary's sha256 is %s but the listener pins %s; rebuild the plugin or update the listener's sha256",
			spec.Path, ErrHashMismatch, actual, spec.SHA256)
	}
	return nil
}

// warnIfReplaceable logs one warning when another user could replace the
// plugin binary, because the binary, the folder of its path or the folder
// of the file that a symbolic link leads to is writable by group or
// others. A folder with the sticky bit is safe, since only a file's owner
// may rename or delete the file in it.
func warnIfReplaceable(path string, logger hclog.Logger) {
	if runtime.GOOS == "windows" {
		// Windows has no group and other permission bits.
		return
	}

	candidates := []string{path, filepath.Dir(path)}
	if resolved, err := filepath.EvalSymlinks(path); err == nil && resolved != path {
		candidates = append(candidates, resolved, filepath.Dir(resolved))
	}

	var writable []string
	for _, candidate := range slices.Compact(candidates) {
		info, err := os.Stat(candidate)
		if err != nil {
			// A missing or unreadable binary fails the exec with its own
			// error.
			continue
		}

		mode := info.Mode()
		if mode.Perm()&0o022 == 0 || (mode.IsDir() && mode&fs.ModeSticky != 0) {
			continue
		}
		writable = append(writable, fmt.Sprintf("%s (%s)", candidate, mode.Perm()))
	}

	if len(writable) > 0 {
		logger.Warn("plugin binary can be replaced by other users, because it or its folder is writable by group or others; run chmod go-w on each path",
			"path", path, "writable", writable)
	}
}
