package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommitPublishesAndAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")

	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("partial"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("target exists before Commit: err=%v", err)
	}
	f.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("Abort left %d files behind", len(entries))
	}

	if err := WriteFile(path, []byte("whole")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "whole" {
		t.Fatalf("ReadFile = %q, %v; want \"whole\"", got, err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir has %d entries after commit, want 1", len(entries))
	}
}
