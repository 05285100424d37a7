//go:build amd64

package quant

// Other architectures run the portable kernels.
func useSIMD(k *[len(kernels)]kernel) {}

var matMulTile = matMulTileGeneric

var dotF16F16 = dotF16F16Generic

// SIMD names the kernel family in use, for reports.
func SIMD() string { return "portable Go" }
