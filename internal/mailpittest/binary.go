package mailpittest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// BinaryEnv names the environment variable that overrides the mailpit
// binary. When it is unset, Start uses .bin/mailpit at the repository root.
const BinaryEnv = "MAILPIT_BIN"

// findBinary returns the path of the mailpit binary and installs it with
// scripts/mailpit.sh when it is missing.
func findBinary(t testing.TB) string {
	t.Helper()

	if path := os.Getenv(BinaryEnv); path != "" {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("mailpittest: %s=%q: %v; point it at a mailpit binary or unset it to use the repository's .bin/mailpit", BinaryEnv, path, err)
		}
		return path
	}

	workDir, err := os.Getwd()
	if err != nil {
		t.Fatalf("mailpittest: get the working directory: %v", err)
	}
	root, err := findModuleRoot(workDir)
	if err != nil {
		t.Fatalf("mailpittest: %v; set %s to a mailpit binary instead", err, BinaryEnv)
	}

	// go test runs the test binaries of several packages at once, so an
	// exclusive lock on a file lets one of them install while the others
	// wait for it and then find the binary. The check for the binary is
	// under the lock too, because go install may copy it into place
	// rather than rename it.
	binary := filepath.Join(root, ".bin", "mailpit")
	unlock := lockInstall(t, filepath.Join(root, ".bin"))
	defer unlock()

	if _, err := os.Stat(binary); err == nil {
		return binary
	}

	script := filepath.Join(root, "scripts", "mailpit.sh")
	t.Logf("mailpittest: %s not found; running %s install", binary, script)
	output, err := exec.Command(script, "install").CombinedOutput()
	if err != nil {
		t.Fatalf("mailpittest: %s install failed: %v\n%s", script, err, output)
	}
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("mailpittest: %s install succeeded but %s is missing: %v\n%s", script, binary, err, output)
	}
	return binary
}

// lockInstall takes an exclusive flock on a lock file in dir, waiting for
// other processes and goroutines that hold it, and returns its release.
func lockInstall(t testing.TB, dir string) (unlock func()) {
	t.Helper()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mailpittest: create %s: %v", dir, err)
	}
	path := filepath.Join(dir, ".mailpit-install.lock")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("mailpittest: open lock file %s: %v", path, err)
	}
	if err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX); err != nil {
		_ = file.Close()
		t.Fatalf("mailpittest: lock %s: %v", path, err)
	}

	// Closing the file releases the lock.
	return func() { _ = file.Close() }
}

// findModuleRoot returns the nearest directory at or above dir that
// contains go.mod.
func findModuleRoot(dir string) (string, error) {
	start := dir
	for {
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for go.mod in %s: %w", dir, err)
		}

		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod found in %s or any parent directory", start)
		}
		dir = parent
	}
}
