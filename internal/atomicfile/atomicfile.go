// Package atomicfile writes output files so that a reader never sees a
// partial file under the final name: data goes to a temporary file in the
// same directory, which is synced and renamed over the target only when
// the writer commits. An aborted write leaves no file behind.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is an output file being written. Call Commit to publish it or
// Abort to discard it; Abort after Commit is a no-op, so
// `defer f.Abort()` is the usual pattern.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing path. The temporary file lives next to path so
// the final rename stays on one filesystem.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{File: tmp, target: path}, nil
}

// Commit flushes the data to disk and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already finished", f.target)
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.target, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.target, err)
	}
	// CreateTemp makes 0600 files; outputs should look like any other file
	// the user creates.
	mode := os.FileMode(0o644)
	if old := umask(); old >= 0 {
		mode = 0o666 &^ os.FileMode(old)
	}
	_ = os.Chmod(f.File.Name(), mode)
	if err := os.Rename(f.File.Name(), f.target); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.target, err)
	}
	return nil
}

// Abort discards the temporary file. It is safe to call more than once
// and after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
