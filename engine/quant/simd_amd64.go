//go:build amd64

package quant

import (
	"math"

	"golang.org/x/sys/cpu"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// hasSIMD gates the assembly kernels: AVX2 for the integer dot products,
// FMA for ggml's fused multiply-adds, F16C for binary16 conversions.
var hasSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// useSIMD installs the assembly kernels where the CPU has them.
func useSIMD() {
	if !hasSIMD {
		return
	}
	kernels[gguf.F32] = func(row []byte, a *Act) float32 { return dotF32VecAVX2(ptr(row), fptr(a.f), a.n) }
	kernels[gguf.F16] = func(row []byte, a *Act) float32 { return dotF16VecAVX2(ptr(row), fptr(a.f), a.n) }
	kernels[gguf.BF16] = func(row []byte, a *Act) float32 { return dotBF16VecAVX2(ptr(row), fptr(a.f), a.n) }
	kernels[gguf.Q8_0] = blocks32(dotQ8_0VecAVX2)
	kernels[gguf.Q4_0] = blocks32(dotQ4_0VecAVX2)
	kernels[gguf.Q5_0] = blocks32(dotQ5_0VecAVX2)
	kernels[gguf.Q4_1] = blocks32min(dotQ4_1VecAVX2)
	kernels[gguf.Q5_1] = blocks32min(dotQ5_1VecAVX2)
	repackQ4_0 = func(row []byte, a *Act) float32 {
		nb := a.n / 32
		if nb == 0 {
			return 0
		}
		return dotQ4_0RepackAVX2(&row[0], &a.qs[0], &a.d[0], &a.ysum[0], nb)
	}
	kernels[gguf.Q2_K] = kquant(dotQ2_KAVX2)
	kernels[gguf.Q3_K] = kquant(dotQ3_KAVX2)
	kernels[gguf.Q4_K] = kquant(dotQ4_KAVX2)
	kernels[gguf.Q5_K] = kquant(dotQ5_KAVX2)
	kernels[gguf.Q6_K] = kquant(dotQ6_KAVX2)
	tinyKernels[gguf.F32] = tinyF32One
	tinyKernels[gguf.F16] = tinyF16One
	tinyKernels[gguf.BF16] = tinyBF16One
	matMulTile = matMulTileSIMD
	matVec = matVecSIMD
	expSum = expSumSIMD
	scoresF16 = scoresF16SIMD
	scoresF32 = scoresF32SIMD
	accumulateF16 = accumulateF16SIMD
	accumulateF32 = accumulateF32SIMD
	f32ToF16Row = f32ToF16RowSIMD
	f16ToF32Row = f16ToF32RowSIMD
	maxF32 = maxSIMD
	scaleF32 = scaleSIMD
	expfRow = expfRowSIMD
	dotF16F16 = func(a, b []uint16) float32 {
		if len(a) == 0 {
			return 0
		}
		return dotF16F16VecAVX2(&a[0], &b[0], len(a))
	}
}

func ptr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

func fptr(f []float32) *float32 {
	if len(f) == 0 {
		return nil
	}
	return &f[0]
}

func blocks32(f func(x *byte, yq *int8, yd *float32, nb int) float32) kernel {
	return func(row []byte, a *Act) float32 {
		nb := a.n / 32
		if nb == 0 {
			return 0
		}
		return f(&row[0], &a.qs[0], &a.d[0], nb)
	}
}

func blocks32min(f func(x *byte, yq *int8, yd, ys *float32, nb int) float32) kernel {
	return func(row []byte, a *Act) float32 {
		nb := a.n / 32
		if nb == 0 {
			return 0
		}
		return f(&row[0], &a.qs[0], &a.d[0], &a.s[0], nb)
	}
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

type tinyX4 func(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)

// The single-activation tinyBLAS kernels call the four-activation
// assembly directly: through a func value, out would escape to the heap.
func tinyF32One(row []byte, a *Act) float32 {
	var out [4]float32
	y := fptr(a.f)
	tinyF32x4AVX2(ptr(row), y, y, y, y, a.n, &out)
	return out[0]
}

func tinyF16One(row []byte, a *Act) float32 {
	var out [4]float32
	y := fptr(a.f)
	tinyF16x4AVX2(ptr(row), y, y, y, y, a.n, &out)
	return out[0]
}

func tinyBF16One(row []byte, a *Act) float32 {
	var out [4]float32
	y := fptr(a.f)
	tinyBF16x4AVX2(ptr(row), y, y, y, y, a.n, &out)
	return out[0]
}

var tinyX4Kernels = [gguf.NumTypes]tinyX4{
	gguf.F32:  tinyF32x4AVX2,
	gguf.F16:  tinyF16x4AVX2,
	gguf.BF16: tinyBF16x4AVX2,
}

// matVecSIMD runs the repacked Q4_0 path four rows at a time and the
// vec_dot path of the 32-element block types two rows at a time, so that
// the rows' fused multiply-add chains overlap. The rows of a group come
// from equal parts of the range (rows i, i+q, i+2q, ...), not adjacent
// ones: each part is then one sequential stream, which the hardware
// prefetcher follows; interleaving adjacent rows defeats it (two to three
// times slower from DRAM).
func matVecSIMD(m Matrix, p Path, a *Act, out []float32, rowLo, rowHi int) {
	r := rowLo
	if a.n > 0 {
		switch {
		case p == PathRepack:
			q := (rowHi - rowLo) / 4
			var res [4]float32
			for i := 0; i < q; i++ {
				dotQ4_0Repack4AVX2(&m.Data[(rowLo+i)*m.RowBytes], q*m.RowBytes, &a.qs[0], &a.d[0], &a.ysum[0], a.n/32, &res)
				out[rowLo+i], out[rowLo+q+i], out[rowLo+2*q+i], out[rowLo+3*q+i] = res[0], res[1], res[2], res[3]
			}
			r = rowLo + 4*q
		case p == PathVecDot && vec2Kernels[m.Type] != nil:
			h := (rowHi - rowLo) / 2
			// A direct call per type (not through vec2Kernels) lets res
			// stay on the stack: an indirect call would make it escape.
			var res [2]float32
			for i := 0; i < h; i++ {
				x, stride, nb := &m.Data[(rowLo+i)*m.RowBytes], h*m.RowBytes, a.n/32
				switch m.Type {
				case gguf.Q8_0:
					dotQ8_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], nb, &res)
				case gguf.Q4_0:
					dotQ4_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], nb, &res)
				case gguf.Q5_0:
					dotQ5_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], nb, &res)
				case gguf.Q4_1:
					dotQ4_1Vec2AVX2(x, stride, &a.qs[0], &a.d[0], &a.s[0], nb, &res)
				case gguf.Q5_1:
					dotQ5_1Vec2AVX2(x, stride, &a.qs[0], &a.d[0], &a.s[0], nb, &res)
				}
				out[rowLo+i], out[rowLo+h+i] = res[0], res[1]
			}
			r = rowLo + 2*h
		}
	}
	matVecGeneric(m, p, a, out, r, rowHi)
}

// vec2Kernels dot two rows (row, row+stride) with one activation.
var vec2Kernels = [gguf.NumTypes]func(x *byte, stride int, a *Act, out *[2]float32){
	gguf.Q8_0: func(x *byte, stride int, a *Act, out *[2]float32) {
		dotQ8_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], a.n/32, out)
	},
	gguf.Q4_0: func(x *byte, stride int, a *Act, out *[2]float32) {
		dotQ4_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], a.n/32, out)
	},
	gguf.Q5_0: func(x *byte, stride int, a *Act, out *[2]float32) {
		dotQ5_0Vec2AVX2(x, stride, &a.qs[0], &a.d[0], a.n/32, out)
	},
	gguf.Q4_1: func(x *byte, stride int, a *Act, out *[2]float32) {
		dotQ4_1Vec2AVX2(x, stride, &a.qs[0], &a.d[0], &a.s[0], a.n/32, out)
	},
	gguf.Q5_1: func(x *byte, stride int, a *Act, out *[2]float32) {
		dotQ5_1Vec2AVX2(x, stride, &a.qs[0], &a.d[0], &a.s[0], a.n/32, out)
	},
}

// matMulTileSIMD runs the tinyBLAS path four activations per weight row
// (each weight vector loaded once for four independent accumulators).
func matMulTileSIMD(m Matrix, p Path, acts []*Act, out [][]float32, r0, r1 int) {
	if p == PathRepack || p == PathVecDot && vec2Kernels[m.Type] != nil {
		for j, a := range acts {
			matVecSIMD(m, p, a, out[j], r0, r1)
		}
		return
	}
	if p != PathTiny || tinyX4Kernels[m.Type] == nil || m.Cols == 0 {
		matMulTileGeneric(m, p, acts, out, r0, r1)
		return
	}
	// Direct calls per type keep res on the stack (an indirect call
	// would make it escape).
	var res [4]float32
	for j := 0; j < len(acts); j += 4 {
		var y [4]*float32
		for k := range y {
			y[k] = &acts[min(j+k, len(acts)-1)].f[0]
		}
		for r := r0; r < r1; r++ {
			x := &m.Data[r*m.RowBytes]
			switch m.Type {
			case gguf.F32:
				tinyF32x4AVX2(x, y[0], y[1], y[2], y[3], m.Cols, &res)
			case gguf.F16:
				tinyF16x4AVX2(x, y[0], y[1], y[2], y[3], m.Cols, &res)
			case gguf.BF16:
				tinyBF16x4AVX2(x, y[0], y[1], y[2], y[3], m.Cols, &res)
			}
			for k := 0; k < 4 && j+k < len(acts); k++ {
				out[j+k][r] = res[k]
			}
		}
	}
}

//go:noescape
func dotF32VecAVX2(x *byte, y *float32, n int) float32

//go:noescape
func dotF16VecAVX2(x *byte, y *float32, n int) float32

//go:noescape
func dotBF16VecAVX2(x *byte, y *float32, n int) float32

//go:noescape
func dotF16F16VecAVX2(x, y *uint16, n int) float32

//go:noescape
func tinyF32x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)

//go:noescape
func tinyF16x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)

//go:noescape
func tinyBF16x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)

//go:noescape
func dotQ8_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32

//go:noescape
func dotQ4_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32

//go:noescape
func dotQ5_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32

//go:noescape
func dotQ4_1VecAVX2(x *byte, yq *int8, yd, ys *float32, nb int) float32

//go:noescape
func dotQ5_1VecAVX2(x *byte, yq *int8, yd, ys *float32, nb int) float32

//go:noescape
func dotQ4_0RepackAVX2(x *byte, yq *int8, yd *float32, ysum *int32, nb int) float32

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

//go:noescape
func dotQ4_0Repack4AVX2(x *byte, stride int, yq *int8, yd *float32, ysum *int32, nb int, out *[4]float32)

//go:noescape
func dotQ8_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)

//go:noescape
func dotQ4_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)

//go:noescape
func dotQ5_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)

//go:noescape
func dotQ4_1Vec2AVX2(x *byte, stride int, yq *int8, yd, ys *float32, nb int, out *[2]float32)

//go:noescape
func dotQ5_1Vec2AVX2(x *byte, stride int, yq *int8, yd, ys *float32, nb int, out *[2]float32)

//go:noescape
func expSumAVX2(w *float32, n8 int, m float32) float64

//go:noescape
func scoresF16TinyAVX2(dst *float32, q, k *uint16, hd, cells int, scale float32)

//go:noescape
func scoresF16VecAVX2(dst *float32, q, k *uint16, hd, cells int, scale float32)

//go:noescape
func scoresF32AVX2(dst *float32, q, k *float32, hd, cells int, scale float32)

//go:noescape
func accumulateF16AVX2(acc *float32, lanes int, v *uint16, p *float32, hd, cells int)

//go:noescape
func accumulateF32AVX2(acc *float32, lanes int, v *float32, p *float32, hd, cells int)

//go:noescape
func f32ToF16RowAVX2(dst *uint16, src *float32, n8 int)

//go:noescape
func f16ToF32RowAVX2(dst *float32, src *uint16, n8 int)

// The attention kernels: assembly where the shape allows, the portable
// code for the rest.

func expSumSIMD(w []float32, m float32) float64 {
	n8 := len(w) / 8
	var sum float64
	if n8 > 0 {
		sum = expSumAVX2(&w[0], n8, m)
	}
	if n8*8 < len(w) {
		sum += expSumGeneric(w[n8*8:], m)
	}
	return sum
}

func scoresF16SIMD(dst []float32, q, k []uint16, scale float32, tiny bool) {
	hd := len(q)
	switch {
	case len(dst) == 0 || hd == 0:
		scoresF16Generic(dst, q, k, scale, tiny)
	case tiny:
		scoresF16TinyAVX2(&dst[0], &q[0], &k[0], hd, len(dst), scale)
	case hd%32 == 0:
		scoresF16VecAVX2(&dst[0], &q[0], &k[0], hd, len(dst), scale)
	default:
		scoresF16Generic(dst, q, k, scale, tiny)
	}
}

func scoresF32SIMD(dst []float32, q, k []float32, scale float32) {
	if len(dst) == 0 || len(q) == 0 {
		scoresF32Generic(dst, q, k, scale)
		return
	}
	scoresF32AVX2(&dst[0], &q[0], &k[0], len(q), len(dst), scale)
}

func accumulateF16SIMD(acc []float32, lanes int, v []uint16, p []float32, hd int) {
	if hd%8 != 0 || len(p) == 0 || hd == 0 {
		accumulateF16Generic(acc, lanes, v, p, hd)
		return
	}
	accumulateF16AVX2(&acc[0], lanes, &v[0], &p[0], hd, len(p))
}

func accumulateF32SIMD(acc []float32, lanes int, v []float32, p []float32, hd int) {
	if hd%8 != 0 || len(p) == 0 || hd == 0 {
		accumulateF32Generic(acc, lanes, v, p, hd)
		return
	}
	accumulateF32AVX2(&acc[0], lanes, &v[0], &p[0], hd, len(p))
}

func f32ToF16RowSIMD(dst []uint16, src []float32) {
	n8 := len(src) / 8
	if n8 > 0 {
		f32ToF16RowAVX2(&dst[0], &src[0], n8)
	}
	f32ToF16RowGeneric(dst[n8*8:], src[n8*8:])
}

func f16ToF32RowSIMD(dst []float32, src []uint16) {
	n8 := len(src) / 8
	if n8 > 0 {
		f16ToF32RowAVX2(&dst[0], &src[0], n8)
	}
	f16ToF32RowGeneric(dst[n8*8:], src[n8*8:])
}

//go:noescape
func maxAVX2(w *float32, n8 int) float32

//go:noescape
func scaleAVX2(w *float32, n8 int, s float32)

//go:noescape
func expfRowAVX2(dst, src *float32, n8 int)

func maxSIMD(w []float32) float32 {
	n8 := len(w) / 8
	m := float32(math.Inf(-1))
	if n8 > 0 {
		m = maxAVX2(&w[0], n8)
	}
	return max(m, maxGeneric(w[n8*8:]))
}

func scaleSIMD(w []float32, s float32) {
	n8 := len(w) / 8
	if n8 > 0 {
		scaleAVX2(&w[0], n8, s)
	}
	scaleGeneric(w[n8*8:], s)
}

func expfRowSIMD(dst, src []float32) {
	n8 := len(src) / 8
	if n8 > 0 {
		expfRowAVX2(&dst[0], &src[0], n8)
	}
	expfRowGeneric(dst[n8*8:], src[n8*8:])
}
