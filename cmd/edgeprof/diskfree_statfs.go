//go:build linux || darwin || freebsd

package main

import "golang.org/x/sys/unix"

// freeBytes returns the bytes an unprivileged writer may still use on the
// file system holding dir, or -1 when unknown.
func freeBytes(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	// The conversions: the field types differ between the systems.
	return int64(st.Bavail) * int64(st.Bsize)
}
