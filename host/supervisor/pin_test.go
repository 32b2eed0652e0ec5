package supervisor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// helloSHA256 is the SHA-256 of "hello\n", as sha256sum prints it.
const helloSHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

func TestFileSHA256(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.WriteFile(path, []byte("hello\n"), 0o644))

	hash, err := FileSHA256(path)

	require.NoError(t, err)
	assert.Equal(t, helloSHA256, hash)
}

func TestFileSHA256MissingFile(t *testing.T) {
	t.Parallel()

	_, err := FileSHA256(filepath.Join(t.TempDir(), "missing"))

	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestCheckBinaryPin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	require.NoError(t, os.WriteFile(path, []byte("hello\n"), 0o755))
	other := strings.Repeat("ab", 32)

	tests := []struct {
		name         string
		path         string
		sha256       string
		wantMismatch bool
		wantError    []string
	}{
		{name: "not pinned", path: path},
		{name: "matching pin", path: path, sha256: helloSHA256},
		{
			name:         "other binary",
			path:         path,
			sha256:       other,
			wantMismatch: true,
			wantError: []string{
				path, "sha256 is " + helloSHA256, "pins " + other,
				"rebuild the plugin or update the listener's sha256",
			},
		},
		{
			name:      "missing binary",
			path:      filepath.Join(dir, "missing"),
			sha256:    helloSHA256,
			wantError: []string{"missing", "no such file"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, _ := newTestLogger()

			err := checkBinary(Spec{Path: tt.path, SHA256: tt.sha256}, logger)

			if len(tt.wantError) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantMismatch, errors.Is(err, ErrHashMismatch), "error %v", err)
			assert.Equal(t, tt.wantMismatch, errors.Is(err, ErrHandshake), "a mismatch is a permanent start failure")
			for _, want := range tt.wantError {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestCheckBinaryWarnsWhenReplaceable(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		dirMode  os.FileMode
		fileMode os.FileMode
		symlink  bool
		wantWarn bool
	}{
		{name: "private", dirMode: 0o755, fileMode: 0o755},
		{name: "binary group writable", dirMode: 0o755, fileMode: 0o775, wantWarn: true},
		{name: "binary world writable", dirMode: 0o755, fileMode: 0o757, wantWarn: true},
		{name: "folder world writable", dirMode: 0o777, fileMode: 0o755, wantWarn: true},
		{name: "sticky folder", dirMode: 0o777 | os.ModeSticky, fileMode: 0o755},
		{name: "link into writable folder", dirMode: 0o777, fileMode: 0o755, symlink: true, wantWarn: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "bin")
			require.NoError(t, os.Mkdir(dir, 0o700))
			binary := filepath.Join(dir, "plugin")
			require.NoError(t, os.WriteFile(binary, []byte("hello\n"), 0o700))
			// Chmod sets the bits that the umask would clear.
			require.NoError(t, os.Chmod(binary, tt.fileMode))
			require.NoError(t, os.Chmod(dir, tt.dirMode))

			path := binary
			if tt.symlink {
				private := filepath.Join(t.TempDir(), "private")
				require.NoError(t, os.Mkdir(private, 0o700))
				path = filepath.Join(private, "plugin")
				require.NoError(t, os.Symlink(binary, path))
			}
			logger, logs := newTestLogger()

			require.NoError(t, checkBinary(Spec{Path: path}, logger))

			warnings := strings.Count(logs.String(), `"@level":"warn"`)
			if !tt.wantWarn {
				assert.Zero(t, warnings, logs.String())
				return
			}
			assert.Equal(t, 1, warnings, "one warning per start:\n%s", logs.String())
			assert.Contains(t, logs.String(), "chmod go-w")
			assert.Contains(t, logs.String(), dir, "the warning names the writable path")
		})
	}
}

func TestStartAcceptsPinnedBinary(t *testing.T) {
	t.Parallel()
	spec := behaveSpec(t)
	hash, err := FileSHA256(spec.Path)
	require.NoError(t, err)
	spec.SHA256 = hash
	logger, _ := newTestLogger()

	instance := startInstance(t, spec, logger)

	assert.NotZero(t, instance.Pid())
	assert.False(t, instance.Exited())
}

func TestSupervisorStopsOnHashMismatch(t *testing.T) {
	t.Parallel()
	spec := behaveSpec(t)
	spec.SHA256 = strings.Repeat("0", 64)
	logger, logs := newTestLogger()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()

	supervisor := New(spec, proto.UnimplementedHostServer{}, logger, nil)

	started := time.Now()
	err := supervisor.Run(ctx)

	require.Error(t, err)
	assert.ErrorIs(t, err, ErrHashMismatch)
	state, lastErr := supervisor.State()
	assert.Equal(t, StateFailed, state)
	assert.ErrorIs(t, lastErr, ErrHashMismatch)
	assert.Less(t, time.Since(started), restartBaseDelay, "the supervisor does not retry a mismatch")
	assert.NotContains(t, logs.String(), "plugin started", "the binary never runs")
}
