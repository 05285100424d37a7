package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
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

// TestErrorsNameTheTarget: a failure names the file the caller asked for,
// never the temporary file.
func TestErrorsNameTheTarget(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "missing", "out.json"),
		filepath.Join(dir, "out.json", "x"), // a file where a directory should be
	} {
		if path == filepath.Join(dir, "out.json", "x") {
			os.WriteFile(filepath.Join(dir, "out.json"), nil, 0o644)
		}
		_, err := Create(path)
		if err == nil {
			t.Fatalf("Create(%s) succeeded", path)
		}
		if want := "create " + path + ": "; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("Create(%s) error = %q, want %q and no temporary name", path, err, want+"...")
		}
	}
	path := filepath.Join(dir, "out.bin")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	f.File.Close() // writes now fail
	_, err = f.Write([]byte("x"))
	if want := "write " + path + ": "; err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("Write after close: error = %v, want %q and no temporary name", err, want+"...")
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "out.json")
	if err := Check(good); err != nil {
		t.Errorf("Check(%s): %v", good, err)
	}
	for _, c := range []struct{ path, want string }{
		{"", "empty file name"},
		{dir, "is a folder, want a file name"},
		{filepath.Join(dir, "no", "such", "x.json"), "no such file or directory"},
	} {
		if err := Check(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v, want an error containing %q", c.path, err, c.want)
		}
	}
	// Checking leaves nothing behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Check left %d files in %s", len(ents), dir)
	}
}

// TestRemovePending: an interrupt handler removes the temporary files
// of outputs still being written, and only those.
func TestRemovePending(t *testing.T) {
	dir := t.TempDir()
	done, err := Create(filepath.Join(dir, "done.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := done.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(filepath.Join(dir, "cut.txt")); err != nil {
		t.Fatal(err)
	}
	RemovePending()
	defer func() { pending.stopped = false }() // for the other tests
	// Once stopping, no new temporary file is left behind.
	if f, err := Create(filepath.Join(dir, "late.txt")); err == nil || f != nil {
		t.Errorf("Create after RemovePending: %v, %v; want an error", f, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "done.txt" {
		names := []string{}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after RemovePending: %v, want [done.txt]", names)
	}
}
