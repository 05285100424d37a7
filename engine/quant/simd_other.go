//go:build !amd64

package quant

// Other architectures run the portable kernels.
func useSIMD(k *[len(kernels)]kernel) {}

// hasAVX2 is always false here; tests toggle it on amd64.
var hasAVX2 = false

var matMulTile = matMulTileGeneric

func dotF16F16(a, b []uint16) float32 { return dotF16F16Generic(a, b) }

// SIMD names the kernel family in use, for reports.
func SIMD() string { return "portable Go" }
