package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers/sqlite"
)

func TestOpenRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		opts    []sqlite.Option
		wantErr string
	}{
		{"empty path", "", nil, "must name a file"},
		{"in-memory database", ":memory:", nil, "must name a file"},
		{"zero busy timeout", "vega.db", []sqlite.Option{sqlite.WithBusyTimeout(0)}, "busy timeout 0s is invalid"},
		{"zero poll interval", "vega.db", []sqlite.Option{sqlite.WithPollInterval(0)}, "poll interval 0s is invalid"},
		{"nil logger", "vega.db", []sqlite.Option{sqlite.WithLogger(nil)}, "logger is nil"},
		{"missing folder", "missing-folder/vega.db", nil, "unable to open database file"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())

			d, err := sqlite.Open(tt.path, tt.opts...)
			if d != nil {
				_ = d.Close()
			}

			require.Error(t, err)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestOpenCreatesRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())

	d := openDriver(t, "vega.db", sqlite.WithPollInterval(time.Millisecond))

	assert.FileExists(t, "vega.db", "Open should create the database file in the working folder")
	assert.True(t, filepath.IsAbs(d.Path()), "Path should be absolute, got %q", d.Path())
	assert.Equal(t, "vega.db", filepath.Base(d.Path()))
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	path := newDatabasePath(t)

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	d, err := sqlite.Open(path)
	if d != nil {
		_ = d.Close()
	}

	assert.ErrorContains(t, err, "schema version 99 is newer", "a database from a newer driver should be rejected")
}
