//go:build !amd64

package quant

// Other architectures run the portable kernels.
func useSIMD() {}

// hasSIMD is always false here; tests toggle it on amd64.
var hasSIMD = false
