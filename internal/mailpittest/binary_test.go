package mailpittest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindModuleRoot(t *testing.T) {
	t.Parallel()

	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/m\n"), 0o644), "write go.mod")
	nested := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(nested, 0o755), "create nested directories")

	tests := []struct {
		name string
		dir  string
	}{
		{name: "module root itself", dir: root},
		{name: "nested directory", dir: nested},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			found, err := findModuleRoot(test.dir)

			require.NoError(t, err, "find the module root from %s", test.dir)
			assert.Equal(t, root, found, "module root found from %s", test.dir)
		})
	}
}

func TestFindModuleRootWithoutGoMod(t *testing.T) {
	t.Parallel()

	// The temporary directory and its parents normally hold no go.mod.
	dir := t.TempDir()
	if _, err := findModuleRoot(filepath.Dir(dir)); err == nil {
		t.Skipf("a go.mod exists above %s, so this case cannot be checked here", dir)
	}

	_, err := findModuleRoot(dir)

	require.Error(t, err, "find the module root above %s", dir)
	assert.Contains(t, err.Error(), "no go.mod found", "error explains the failure")
}
