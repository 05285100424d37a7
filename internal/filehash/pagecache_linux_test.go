//go:build linux

package filehash

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident returns the fraction of path's pages in the page cache.
func resident(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	// x/sys has no Mincore wrapper.
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Skipf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// TestSumLeavesFileCold: after hashing, (almost) none of the file is in
// the page cache, although a plain read of it leaves it all there.
func TestSumLeavesFileCold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for range 24 {
		f.Write(buf)
	}
	// Written pages are dirty and cannot be dropped until written back.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if r := resident(t, path); r < 0.9 {
		t.Skipf("only %.0f%% of a freshly read file is cached here; cannot observe dropping", 100*r)
	}
	if _, err := (Hasher{CacheDir: t.TempDir(), NoSidecar: true}).Sum(path); err != nil {
		t.Fatal(err)
	}
	if r := resident(t, path); r > 0.05 {
		t.Errorf("after Sum, %.0f%% of the file is cached, want <= 5%%", 100*r)
	}
}
