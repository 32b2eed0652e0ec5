// Package buildtest compiles the binaries that integration tests start as
// real processes: plugins and the vega-host command.
package buildtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Binary builds the main package at pkg (a path relative to the module
// root, such as "./plugins/example-email") once per test process and
// returns the binary's absolute path. Binaries go to .bin/test under the
// module root; go build's cache keeps repeated builds fast.
func Binary(t testing.TB, pkg string) string {
	t.Helper()

	mu.Lock()
	defer mu.Unlock()
	if path, ok := built[pkg]; ok {
		return path
	}

	root := ModuleRoot(t)
	dir := filepath.Join(root, ".bin", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create folder for test binaries: %v", err)
	}

	name := filepath.Base(strings.TrimSuffix(pkg, "/"))
	target := filepath.Join(dir, name)
	// Another test package may build the same binary at the same time, so
	// each build writes its own file and renames it into place.
	temp := fmt.Sprintf("%s.%d.tmp", target, os.Getpid())
	cmd := exec.Command("go", "build", "-o", temp, pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, output)
	}
	if err := os.Rename(temp, target); err != nil {
		t.Fatalf("move test binary into place: %v", err)
	}

	built[pkg] = target
	return target
}

// BinaryAt builds the main package at pkg into path with extra go build
// flags, such as "-ldflags=-X main.version=v2", every time it is called.
func BinaryAt(t testing.TB, pkg, path string, flags ...string) {
	t.Helper()

	args := append([]string{"build", "-o", path}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = ModuleRoot(t)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, output)
	}
}

// ModuleRoot returns the folder of the go.mod above the working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()

	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod found above the working directory")
		}
		dir = parent
	}
}
