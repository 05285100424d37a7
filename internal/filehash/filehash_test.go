package filehash

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const abcSHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func writeFile(t *testing.T, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestSumCache(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	writeFile(t, model, "abc", t0)
	h := Hasher{CacheDir: filepath.Join(dir, "cache")}

	steps := []struct {
		name       string
		change     func()
		wantSum    string
		wantCached bool
	}{
		{"miss: first hash", func() {}, abcSHA256, false},
		{"hit: unchanged", func() {}, abcSHA256, true},
		{"miss: same size, new mtime", func() {
			writeFile(t, model, "abd", t0.Add(time.Second))
		}, "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9", false},
		{"hit after the rehash", func() {}, "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9", true},
		{"miss: mtime 1ns later", func() {
			writeFile(t, model, "abc", t0.Add(time.Second+time.Nanosecond))
		}, abcSHA256, false},
		{"miss: size changed, mtime kept", func() {
			writeFile(t, model, "abcd", t0.Add(time.Second+time.Nanosecond))
		}, "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589", false},
	}
	for _, s := range steps {
		s.change()
		r, err := h.Sum(model)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if r.SHA256 != s.wantSum || r.Cached != s.wantCached || r.Sidecar != model+".sha256" {
			t.Errorf("%s: Sum = %+v, want sum %s, cached %v, sidecar next to the file", s.name, r, s.wantSum, s.wantCached)
		}
	}
	// A hit reads the sidecar, not the file: a (forged) sidecar with the
	// right key wins.
	st, _ := os.Stat(model)
	forged := strings.Repeat("0", 64) + "  m.gguf\n" + marker + " size=4 mtime_ns=" + strconv.FormatInt(st.ModTime().UnixNano(), 10) + "\n"
	os.WriteFile(model+".sha256", []byte(forged), 0o644)
	if r, _ := h.Sum(model); r.SHA256 != strings.Repeat("0", 64) || !r.Cached {
		t.Errorf("Sum with a matching sidecar = %+v, want the sidecar's hash, cached", r)
	}
}

func TestSumCacheDir(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	writeFile(t, model, "abc", time.Unix(1000, 0))
	cache := filepath.Join(dir, "cache")

	// NoSidecar: the hash goes to the cache dir, and is found there.
	h := Hasher{CacheDir: cache, NoSidecar: true}
	r, err := h.Sum(model)
	if err != nil || r.Cached || !strings.HasPrefix(r.Sidecar, cache) {
		t.Fatalf("first Sum = %+v, %v; want a miss stored under %s", r, err, cache)
	}
	if _, err := os.Stat(model + ".sha256"); !os.IsNotExist(err) {
		t.Errorf("NoSidecar wrote %s.sha256", model)
	}
	if r2, _ := h.Sum(model); !r2.Cached || r2.Sidecar != r.Sidecar || r2.SHA256 != abcSHA256 {
		t.Errorf("second Sum = %+v, want a hit from %s", r2, r.Sidecar)
	}

	// A foreign <file>.sha256 is neither trusted nor overwritten.
	model2 := filepath.Join(dir, "n.gguf")
	writeFile(t, model2, "abc", time.Unix(1000, 0))
	foreign := abcSHA256 + "  n.gguf\n"
	os.WriteFile(model2+".sha256", []byte(foreign), 0o644)
	r, err = Hasher{CacheDir: cache}.Sum(model2)
	if err != nil || r.Cached || !strings.HasPrefix(r.Sidecar, cache) {
		t.Errorf("Sum with a foreign sidecar = %+v, %v; want a miss stored in the cache dir", r, err)
	}
	if b, _ := os.ReadFile(model2 + ".sha256"); string(b) != foreign {
		t.Errorf("foreign sidecar rewritten to %q", b)
	}
}

func TestSumErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Sum(filepath.Join(dir, "missing")); err == nil {
		t.Error("Sum(missing) = nil error, want one")
	}
	if _, err := (Hasher{CacheDir: dir}).Sum(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Sum(dir) = %v, want a not-a-regular-file error", err)
	}
}
