// Package atomicfile writes output files so that a reader never sees a
// partial file under the final name: data goes to a temporary file in the
// same directory, which is synced and renamed over the target only when
// the writer commits. An aborted write leaves no file behind.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// pending holds the temporary files not yet committed or aborted, for
// RemovePending; once that ran, stopped makes Create fail.
var pending = struct {
	sync.Mutex
	names   map[string]bool
	stopped bool
}{names: map[string]bool{}}

// forget drops a temporary file from pending.
func forget(name string) {
	pending.Lock()
	delete(pending.names, name)
	pending.Unlock()
}

var errStopped = errors.New("the process is stopping")

// RemovePending removes every temporary file not yet committed or
// aborted, and makes Create fail from then on: for an interrupt handler
// about to exit, since an exiting process runs no deferred Abort. Files
// committed meanwhile are complete and stay.
func RemovePending() {
	pending.Lock()
	defer pending.Unlock()
	pending.stopped = true
	for name := range pending.names {
		os.Remove(name)
		delete(pending.names, name)
	}
}

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
	// Under the lock, so that an interrupt's RemovePending sees every
	// temporary file that exists.
	pending.Lock()
	defer pending.Unlock()
	if pending.stopped {
		return nil, fmt.Errorf("create %s: %w", path, errStopped)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, bare(err))
	}
	pending.names[tmp.Name()] = true
	return &File{File: tmp, target: path}, nil
}

// Commit flushes the data to disk and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already finished", f.target)
	}
	f.done = true
	defer forget(f.File.Name())
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.target, bare(err))
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.target, bare(err))
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
		return fmt.Errorf("write %s: %w", f.target, bare(err))
	}
	return nil
}

// Write writes to the temporary file; errors name the target, not the
// temporary file the user never asked for.
func (f *File) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	if err != nil {
		err = fmt.Errorf("write %s: %w", f.target, bare(err))
	}
	return n, err
}

// bare strips the file names of an *fs.PathError or *os.LinkError, which
// would be the temporary file's: callers name the target instead.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
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
	forget(f.File.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// Check reports, before any long work, whether Create and Commit could
// write path: a file name (not a folder) in a folder that takes new
// files. It creates and removes a temporary file there.
func Check(path string) error {
	if path == "" {
		return errors.New("empty file name")
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder, want a file name", path)
	}
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.Abort()
	return nil
}
