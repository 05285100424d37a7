//go:build !unix

package atomicfile

func umask() int { return -1 }
