package main

import (
	"errors"
	"strings"
	"testing"
)

// fullDisk accepts the first n bytes, then fails as a full disk does.
type fullDisk struct{ n int }

var errNoSpace = errors.New("no space left on device")

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errNoSpace
	}
	f.n -= len(p)
	return len(p), nil
}

// TestOutputWriteErrorFails: a table cut off by a failed write fails the
// command with the write's error, whatever the command ignored.
func TestOutputWriteErrorFails(t *testing.T) {
	cmd := newSocListCmd()
	cmd.SetArgs(nil)
	err := execute(cmd, &fullDisk{n: 100})
	if !errors.Is(err, errNoSpace) || !strings.HasPrefix(err.Error(), "writing the output: ") {
		t.Errorf("soc list on a full disk: error %v, want writing the output: %v", err, errNoSpace)
	}
	cmd = newSocListCmd()
	cmd.SetArgs(nil)
	if err := execute(cmd, &fullDisk{n: 1 << 20}); err != nil {
		t.Errorf("soc list with room: %v", err)
	}
}
