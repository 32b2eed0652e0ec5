package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// BenchmarkFileWatch measures the costs of the driver's use of fsnotify:
// adding and removing the watch of a folder, and starting and closing a
// watcher. It also measures a write of one WAL frame to a file in a folder
// with and without a watch whose events are read at once. A frame is a
// 24-byte header and a 4 KiB page, which SQLite writes with two calls.
func BenchmarkFileWatch(b *testing.B) {
	b.Run("add-remove-folder", func(b *testing.B) {
		watcher := newDrainedWatcher(b)
		dir := b.TempDir()

		for b.Loop() {
			if err := watcher.Add(dir); err != nil {
				b.Fatal(err)
			}
			if err := watcher.Remove(dir); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("start-close-watcher", func(b *testing.B) {
		dir := b.TempDir()

		for b.Loop() {
			watcher, err := fsnotify.NewWatcher()
			if err != nil {
				b.Fatal(err)
			}
			if err := watcher.Add(dir); err != nil {
				b.Fatal(err)
			}
			if err := watcher.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("write-frame-unwatched", func(b *testing.B) {
		benchmarkFrameWrites(b, b.TempDir())
	})

	b.Run("write-frame-watched", func(b *testing.B) {
		dir := b.TempDir()
		if err := newDrainedWatcher(b).Add(dir); err != nil {
			b.Fatal(err)
		}

		benchmarkFrameWrites(b, dir)
	})
}

// newDrainedWatcher returns a watcher whose events a goroutine reads and
// drops until the benchmark ends.
func newDrainedWatcher(b *testing.B) *fsnotify.Watcher {
	b.Helper()

	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		b.Fatal(err)
	}

	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range watcher.Events {
		}
	}()

	b.Cleanup(func() {
		_ = watcher.Close()
		<-drained
	})

	return watcher
}

// benchmarkFrameWrites writes one WAL frame per iteration to a file in dir,
// cycling over the first 1000 frame positions.
func benchmarkFrameWrites(b *testing.B, dir string) {
	b.Helper()

	file, err := os.Create(filepath.Join(dir, "vega.db"+"-wal"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = file.Close() })

	const headerSize, pageSize = 24, 4096
	frame := make([]byte, headerSize+pageSize)

	frameIndex := 0
	for b.Loop() {
		offset := int64(frameIndex%1000) * int64(len(frame))

		if _, err := file.WriteAt(frame[:headerSize], offset); err != nil {
			b.Fatal(err)
		}
		if _, err := file.WriteAt(frame[headerSize:], offset+headerSize); err != nil {
			b.Fatal(err)
		}

		frameIndex++
	}
}
