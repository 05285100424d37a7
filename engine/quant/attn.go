package quant

import (
	"fmt"
	"math"
)

// Attention kernels: the products of ggml's non-flash attention (KQ =
// K·q per cache cell, softmax, KQV = V·p per output element) in the
// orders llama.cpp's AVX2 build computes them. A single token (n = 1)
// goes through ggml_vec_dot (LanesVecDot); a batch of tokens through
// llamafile tinyBLAS when its shape conditions hold (LanesTiny).

// LanesVecDot and LanesTiny are the lane counts of the two P·V orders:
// ggml_vec_dot's 4×8 lanes reduced by GGML_F32x8_REDUCE, and tinyBLAS's
// single 8-lane accumulator reduced by hsum8. Cell j goes to lane
// j%lanes.
const (
	LanesVecDot = 32
	LanesTiny   = 8
)

// DotF16 returns Σ a[i]·b[i] over binary16 vectors as ggml_vec_dot_f16
// computes it: exact products in 4×8 lanes over whole 32-element steps,
// GGML_F32x8_REDUCE, the remaining products added in float64, the sum
// rounded to float32. It panics if len(b) < len(a).
func DotF16(a, b []uint16) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("quant: DotF16 of %d and %d elements", len(a), len(b)))
	}
	return dotF16F16(a, b[:len(a)])
}

// DotF16Tiny is DotF16 in tinyBLAS's order: one 8-lane accumulator,
// hsum8. len(a) must be a multiple of 8 (tinyBLAS refuses other row
// lengths) and len(b) >= len(a).
func DotF16Tiny(a, b []uint16) float32 {
	if len(b) < len(a) || len(a)%8 != 0 {
		panic(fmt.Sprintf("quant: DotF16Tiny of %d and %d elements", len(a), len(b)))
	}
	return dotF16F16TinyGeneric(a, b[:len(a)])
}

// DotF32 is ggml_vec_dot_f32: 4×8 fused multiply-add lanes, REDUCE, the
// remaining products fused into the float32 sum. It panics if
// len(b) < len(a).
func DotF32(a, b []float32) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("quant: DotF32 of %d and %d elements", len(a), len(b)))
	}
	return dotF32VecDot(a, b[:len(a)])
}

// DotF32Tiny is DotF32 in tinyBLAS's order (len(a) a multiple of 8).
func DotF32Tiny(a, b []float32) float32 {
	if len(b) < len(a) || len(a)%8 != 0 {
		panic(fmt.Sprintf("quant: DotF32Tiny of %d and %d elements", len(a), len(b)))
	}
	return dotF32Tiny(a, b[:len(a)])
}

// ScoresF16 sets dst[j] = float32(dot(k_j, q))·scale for every cell j <
// len(dst), k_j = k[j·hd:(j+1)·hd] with hd = len(q): the attention scores
// against a binary16 key cache, the dot in DotF16's order or (tiny, hd a
// multiple of 8) DotF16Tiny's, the scaling a separate float32 multiply
// (ggml_soft_max_ext's scale).
func ScoresF16(dst []float32, q, k []uint16, scale float32, tiny bool) {
	hd := len(q)
	if len(k) < len(dst)*hd || tiny && hd%8 != 0 {
		panic(fmt.Sprintf("quant: ScoresF16 of %d cells of %d with %d key elements", len(dst), hd, len(k)))
	}
	scoresF16(dst, q, k, scale, tiny)
}

func scoresF16Generic(dst []float32, q, k []uint16, scale float32, tiny bool) {
	hd := len(q)
	for j := range dst {
		kj := k[j*hd : (j+1)*hd]
		var s float32
		if tiny {
			s = dotF16F16TinyGeneric(kj, q)
		} else {
			s = dotF16F16Generic(kj, q)
		}
		dst[j] = s * scale
	}
}

// ScoresF32 is ScoresF16 for a float32 key cache; the dot is always
// DotF32's (ggml reads the permuted query in place, which keeps llamafile
// away from it).
func ScoresF32(dst []float32, q, k []float32, scale float32) {
	hd := len(q)
	if len(k) < len(dst)*hd {
		panic(fmt.Sprintf("quant: ScoresF32 of %d cells of %d with %d key elements", len(dst), hd, len(k)))
	}
	scoresF32(dst, q, k, scale)
}

func scoresF32Generic(dst []float32, q, k []float32, scale float32) {
	hd := len(q)
	for j := range dst {
		dst[j] = dotF32VecDot(k[j*hd:(j+1)*hd], q) * scale
	}
}

// SoftMax turns the scores w into probabilities as
// ggml_compute_forward_soft_max_f32 does over a row padded with masked
// (-inf) cells to a multiple of 8: max, e_j = Expf(w_j - max) for whole
// 8-lane vectors (masked lanes give 0), each vector's hsum8 added to a
// float64 sum, then w_j = e_j·float32(1/sum).
func SoftMax(w []float32) {
	m := maxF32(w)
	scaleF32(w, float32(1/expSum(w, m)))
}

func maxGeneric(w []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range w {
		if v > m {
			m = v
		}
	}
	return m
}

func scaleGeneric(w []float32, s float32) {
	for i := range w {
		w[i] *= s
	}
}

// ExpfRow sets dst[i] = Expf(src[i]) for i < len(src) (dst may be src;
// len(dst) >= len(src)).
func ExpfRow(dst, src []float32) {
	_ = dst[:len(src)]
	expfRow(dst, src)
}

func expfRowGeneric(dst, src []float32) {
	for i, x := range src {
		dst[i] = Expf(x)
	}
}

// expSumGeneric sets w[i] = Expf(w[i]-m) and returns the float64 sum of
// the hsum8 of each group of 8 (the last one zero-padded).
func expSumGeneric(w []float32, m float32) float64 {
	var sum float64
	for i := 0; i < len(w); i += 8 {
		var e [8]float32
		for k := 0; k < 8 && i+k < len(w); k++ {
			e[k] = Expf(w[i+k] - m)
			w[i+k] = e[k]
		}
		sum += float64(hsum8(&e))
	}
	return sum
}

// Expf is ggml_v_expf, the vectorized exp of ggml's AVX2 (and NEON)
// build, one lane at a time: ±1.5 ulp, exact powers of two scaling, 0 for
// -inf and below about -103.97, +inf above about 88.38.
func Expf(x float32) float32 {
	const (
		r  = 0x1.8p23
		l2 = 0x1.715476p+0
		c1 = 0x1.62e4p-1
		c2 = 0x1.7f7d1cp-20
	)
	z := fma32(x, l2, r)
	n := z - r
	b := fma32(-n, c1, x)
	b = fma32(-n, c2, b)
	e := math.Float32bits(z) << 23
	k := math.Float32frombits(e + math.Float32bits(1))
	u := float32(b * b)
	j := fma32(
		fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)),
		u, float32(0x1.ffffecp-1*b))
	an := math.Float32frombits(math.Float32bits(n) &^ (1 << 31))
	if !(an > 126) {
		return fma32(j, k, k)
	}
	var g uint32
	if n <= 0 {
		g = 0x82000000
	}
	s1 := math.Float32frombits(g + 0x7f000000)
	s2 := math.Float32frombits(e - g)
	if an > 192 {
		return s1 * s1
	}
	return float32(fma32(s2, j, s2) * s1)
}

// AccumulateF16 adds cell j's value row v[j·hd:(j+1)·hd] times p[j] into
// lane j%lanes of acc (acc[(j%lanes)·hd + d]) for every j < len(p): the
// P·V product against a binary16 value cache, with p already rounded to
// binary16 as ggml rounds it (so every product is exact). lanes is
// LanesVecDot or LanesTiny; acc holds lanes·hd values.
func AccumulateF16(acc []float32, lanes int, v []uint16, p []float32, hd int) {
	checkAccumulate(len(acc), lanes, len(v), len(p), hd)
	accumulateF16(acc, lanes, v, p, hd)
}

func accumulateF16Generic(acc []float32, lanes int, v []uint16, p []float32, hd int) {
	for j, pj := range p {
		a := acc[(j%lanes)*hd : (j%lanes+1)*hd]
		for d, h := range v[j*hd : (j+1)*hd] {
			a[d] += float32(f16Table[h] * pj)
		}
	}
}

// AccumulateF32 is AccumulateF16 for a float32 value cache: each product
// is fused into its lane (the FMA of both ggml orders).
func AccumulateF32(acc []float32, lanes int, v []float32, p []float32, hd int) {
	checkAccumulate(len(acc), lanes, len(v), len(p), hd)
	accumulateF32(acc, lanes, v, p, hd)
}

func accumulateF32Generic(acc []float32, lanes int, v []float32, p []float32, hd int) {
	for j, pj := range p {
		a := acc[(j%lanes)*hd : (j%lanes+1)*hd]
		for d, x := range v[j*hd : (j+1)*hd] {
			a[d] = fma32(x, pj, a[d])
		}
	}
}

func checkAccumulate(nacc, lanes, nv, np, hd int) {
	if lanes != LanesVecDot && lanes != LanesTiny || nacc < lanes*hd || nv < np*hd {
		panic(fmt.Sprintf("quant: accumulate %d cells of %d into %d lanes (%d values, %d accumulators)", np, hd, lanes, nv, nacc))
	}
}

// ReduceLanes sets out[d] (d < len(out)) to the reduction of the lanes
// acc[l·hd + d], hd = len(out): hsum8 for LanesTiny, GGML_F32x8_REDUCE
// for LanesVecDot.
func ReduceLanes(out, acc []float32, lanes int) {
	hd := len(out)
	if lanes != LanesVecDot && lanes != LanesTiny || len(acc) < lanes*hd {
		panic(fmt.Sprintf("quant: reduce %d lanes of %d from %d values", lanes, hd, len(acc)))
	}
	var l [32]float32
	for d := range out {
		for k := 0; k < lanes; k++ {
			l[k] = acc[k*hd+d]
		}
		if lanes == LanesTiny {
			out[d] = hsum8((*[8]float32)(l[:8]))
		} else {
			out[d] = reduce32(&l)
		}
	}
}

// F32ToF16Row rounds src to binary16 into dst (len(dst) >= len(src)), as
// ggml_cpu_fp32_to_fp16 (VCVTPS2PH, round to nearest even) does.
func F32ToF16Row(dst []uint16, src []float32) {
	_ = dst[:len(src)]
	f32ToF16Row(dst, src)
}

func f32ToF16RowGeneric(dst []uint16, src []float32) {
	for i, v := range src {
		dst[i] = F32ToF16(v)
	}
}

// F16ToF32Row widens src into dst exactly (len(dst) >= len(src)).
func F16ToF32Row(dst []float32, src []uint16) {
	_ = dst[:len(src)]
	f16ToF32Row(dst, src)
}

func f16ToF32RowGeneric(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = f16Table[h]
	}
}
