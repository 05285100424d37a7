//go:build !linux

package filehash

import "os"

// Other systems get no advice; the hash is still cached in the sidecar,
// so the file is read at most once per change.
func dropCache(*os.File, int64, int64) {}

func adviseSequential(*os.File) {}
