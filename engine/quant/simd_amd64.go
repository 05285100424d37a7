//go:build amd64

package quant

import (
	"golang.org/x/sys/cpu"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// hasAVX2 gates the assembly kernels: AVX2 for the integer dot products,
// F16C for binary16 widening. (FMA is not used: the float order has no
// fused operations.)
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasF16C

// useSIMD installs the AVX2 kernels where the CPU has them.
func useSIMD(k *[len(kernels)]kernel) {
	if !hasAVX2 {
		return
	}
	k[gguf.F32] = dotF32SIMD
	k[gguf.F16] = dotF16SIMD
	k[gguf.BF16] = dotBF16SIMD
	k[gguf.Q8_0] = dotQ8_0SIMD
	k[gguf.Q4_0] = dotQ4_0SIMD
	k[gguf.Q5_0] = dotQ5_0SIMD
	k[gguf.Q4_1] = dotQ4_1SIMD
	k[gguf.Q5_1] = dotQ5_1SIMD
	k[gguf.Q2_K] = kquant(dotQ2_KAVX2)
	k[gguf.Q3_K] = kquant(dotQ3_KAVX2)
	k[gguf.Q4_K] = kquant(dotQ4_KAVX2)
	k[gguf.Q5_K] = kquant(dotQ5_KAVX2)
	k[gguf.Q6_K] = kquant(dotQ6_KAVX2)
}

// kquant wraps a whole-row K-quant assembly kernel.
func kquant(f func(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32) kernel {
	return func(row []byte, a *Act) float32 {
		if a.n == 0 {
			return 0
		}
		return f(&row[0], &a.qs[0], &a.d[0], &a.bsums[0], a.n/256)
	}
}

// SIMD names the kernel family in use, for reports.
func SIMD() string {
	if hasAVX2 {
		return "amd64 AVX2"
	}
	return "portable Go"
}

var matMulTile = matMulTileGeneric

func dotF16F16(a, b []uint16) float32 {
	n := len(a)
	if !hasAVX2 || n == 0 {
		return dotF16F16Generic(a, b)
	}
	if n%8 == 0 {
		return dotF16F16AVX2(&a[0], &b[0], n, nil)
	}
	var l [32]float32
	dotF16F16AVX2(&a[0], &b[0], n, &l)
	dotF16F16Lanes(a, b, n&^7, &l)
	return reduce32(&l)
}

func dotF32SIMD(row []byte, a *Act) float32 {
	n := a.n
	if n == 0 {
		return 0
	}
	if n%8 == 0 {
		return dotF32AVX2(&row[0], &a.f[0], n, nil)
	}
	var l [32]float32
	dotF32AVX2(&row[0], &a.f[0], n, &l)
	dotLanesTail(decodeF32, row, a.f, n&^7, &l)
	return reduce32(&l)
}

func dotF16SIMD(row []byte, a *Act) float32 {
	n := a.n
	if n == 0 {
		return 0
	}
	if n%8 == 0 {
		return dotF16AVX2(&row[0], &a.f[0], n, nil)
	}
	var l [32]float32
	dotF16AVX2(&row[0], &a.f[0], n, &l)
	dotLanesTail(decodeF16, row, a.f, n&^7, &l)
	return reduce32(&l)
}

func dotBF16SIMD(row []byte, a *Act) float32 {
	n := a.n
	if n == 0 {
		return 0
	}
	if n%8 == 0 {
		return dotBF16AVX2(&row[0], &a.f[0], n, nil)
	}
	var l [32]float32
	dotBF16AVX2(&row[0], &a.f[0], n, &l)
	dotLanesTail(decodeBF16, row, a.f, n&^7, &l)
	return reduce32(&l)
}

// The 32-element block kernels: assembly for whole groups of four blocks,
// the portable code for the 1-3 blocks left, on the same lanes.

func dotQ8_0SIMD(row []byte, a *Act) float32 {
	var l [4]float32
	nb := a.n / 32
	if g := nb / 4; g > 0 {
		dotQ8_0AVX2(&row[0], &a.qs[0], &a.d[0], g, &l)
	}
	dotQ8_0Blocks(row, a, nb&^3, nb, &l)
	return reduce4(&l)
}

func dotQ4_0SIMD(row []byte, a *Act) float32 {
	var l [4]float32
	nb := a.n / 32
	if g := nb / 4; g > 0 {
		dotQ4_0AVX2(&row[0], &a.qs[0], &a.d[0], &a.ysum[0], g, &l)
	}
	dotQ4_0Blocks(row, a, nb&^3, nb, &l)
	return reduce4(&l)
}

func dotQ5_0SIMD(row []byte, a *Act) float32 {
	var l [4]float32
	nb := a.n / 32
	if g := nb / 4; g > 0 {
		dotQ5_0AVX2(&row[0], &a.qs[0], &a.d[0], &a.ysum[0], g, &l)
	}
	dotQ5_0Blocks(row, a, nb&^3, nb, &l)
	return reduce4(&l)
}

func dotQ4_1SIMD(row []byte, a *Act) float32 {
	var l [4]float32
	nb := a.n / 32
	if g := nb / 4; g > 0 {
		dotQ4_1AVX2(&row[0], &a.qs[0], &a.d[0], &a.s[0], g, &l)
	}
	dotQ4_1Blocks(row, a, nb&^3, nb, &l)
	return reduce4(&l)
}

func dotQ5_1SIMD(row []byte, a *Act) float32 {
	var l [4]float32
	nb := a.n / 32
	if g := nb / 4; g > 0 {
		dotQ5_1AVX2(&row[0], &a.qs[0], &a.d[0], &a.s[0], g, &l)
	}
	dotQ5_1Blocks(row, a, nb&^3, nb, &l)
	return reduce4(&l)
}

//go:noescape
func dotQ4_1AVX2(x *byte, yq *int8, yd *float32, ys *float32, groups int, lanes *[4]float32)

//go:noescape
func dotQ5_1AVX2(x *byte, yq *int8, yd *float32, ys *float32, groups int, lanes *[4]float32)

//go:noescape
func dotF32AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32

//go:noescape
func dotF16AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32

//go:noescape
func dotBF16AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32

//go:noescape
func dotF16F16AVX2(x, y *uint16, n int, lanes *[32]float32) float32

//go:noescape
func dotQ8_0AVX2(x *byte, yq *int8, yd *float32, groups int, lanes *[4]float32)

//go:noescape
func dotQ4_0AVX2(x *byte, yq *int8, yd *float32, ysum *int32, groups int, lanes *[4]float32)

//go:noescape
func dotQ5_0AVX2(x *byte, yq *int8, yd *float32, ysum *int32, groups int, lanes *[4]float32)

//go:noescape
func dotQ2_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32

//go:noescape
func dotQ3_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32

//go:noescape
func dotQ4_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32

//go:noescape
func dotQ5_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32

//go:noescape
func dotQ6_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
