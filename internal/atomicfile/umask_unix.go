//go:build unix

package atomicfile

import "syscall"

// umask reads the process umask (by setting and restoring it).
func umask() int {
	old := syscall.Umask(0)
	syscall.Umask(old)
	return old
}
