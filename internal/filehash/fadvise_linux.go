//go:build linux

package filehash

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache asks the kernel to evict a range already read. Advice is
// best effort: an error (an odd filesystem) only means pages may stay.
func dropCache(f *os.File, off, n int64) {
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED)
}

func adviseSequential(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL)
}
