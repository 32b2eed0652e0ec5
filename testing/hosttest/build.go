package hosttest

import (
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// Build compiles the main package pkg with go build into a folder of
// t.TempDir and returns the binary's absolute path. pkg is a folder, such
// as "." for the package of the test that calls Build or
// "./plugins/send-email", or an import path. go build runs in a folder pkg
// inside its module, so the folder may belong to another module than the
// test. Go's build cache keeps repeated builds fast. Build fails the test,
// with the compiler's output, when the build fails.
func Build(t testing.TB, pkg string) string {
	t.Helper()

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("hosttest.Build: the go command is not in PATH, but building a plugin needs it: %v", err)
	}

	binary := filepath.Join(t.TempDir(), binaryName(pkg))
	build := exec.Command(goTool, "build", "-o", binary)
	if isFolder(pkg) {
		build.Dir = pkg
		build.Args = append(build.Args, ".")
	} else {
		build.Args = append(build.Args, pkg)
	}

	output, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("hosttest.Build: go build %s: %v\n%s", pkg, err, output)
	}
	return binary
}

// isFolder reports whether pkg names a folder rather than an import path,
// by the rules go build applies.
func isFolder(pkg string) bool {
	return pkg == "." || pkg == ".." || filepath.IsAbs(pkg) ||
		strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../")
}

// binaryName returns the file name for the binary of pkg: the last element
// of its folder or import path.
func binaryName(pkg string) string {
	if !isFolder(pkg) {
		return path.Base(pkg)
	}

	abs, err := filepath.Abs(pkg)
	if err != nil {
		return "plugin"
	}
	return filepath.Base(abs)
}
