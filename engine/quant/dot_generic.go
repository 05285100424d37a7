package quant

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// littleEndian: GGUF data is little-endian, so on such hosts an aligned
// F32 row can be read in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// f32View returns row's first n float32 values without copying when the
// host is little-endian and the row is 4-byte aligned (GGUF aligns tensor
// data to 32 bytes, so F32 rows always are).
func f32View(row []byte, n int) ([]float32, bool) {
	if n == 0 || !littleEndian || len(row) < 4*n || uintptr(unsafe.Pointer(&row[0]))%4 != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&row[0])), n), true
}

// The portable kernels. Each one is the definition of its float order
// (see doc.go): the order of ggml's x86 AVX2 code at llama.cpp c392e5094,
// which the amd64 assembly reproduces bit for bit. Every product that
// ggml rounds is wrapped in float32(...) so that Go cannot fuse it into
// the following add on arm64; every fused multiply-add of ggml is fma32.

// FMA32 is a·b+c rounded once to float32, as the x86 FMA instructions
// compute it (and C's fmaf): what gcc's contraction of x*y+z into one
// instruction gives in ggml. It is exact on every platform.
func FMA32(a, b, c float32) float32 { return fma32(a, b, c) }

// fma32 is a·b+c rounded once to float32, as VFMADD231PS computes it.
// a·b is exact in float64, so the float64 sum is a·b+c rounded once; the
// further rounding to float32 can only go wrong when that sum lies
// exactly halfway between two float32 values (or in the float32
// subnormal range), and then the exact result decides.
func fma32(a, b, c float32) float32 {
	r := float64(a)*float64(b) + float64(c)
	if inexact32(r) {
		return fma32Exact(a, b, c)
	}
	return float32(r)
}

// inexact32 reports whether the float64 sum r of a fused multiply-add
// might round to float32 differently from the exact result: the float64
// rounding can only mislead the float32 one by landing exactly halfway
// between two float32 values (those halfway points are float64 values,
// so otherwise the exact result lies on the same side of them). For a
// normal r that is bit 28 alone among its 29 low bits; values below the
// float32 normal range (rare) are all sent to fma32Exact, which sorts
// them out. Hot loops test it inline and call fma32Exact rarely.
func inexact32(r float64) bool {
	bits := math.Float64bits(r)
	return bits&(1<<29-1) == 1<<28 || bits&(0x7ff<<52) < (1023-126)<<52 && r != 0
}

// fma32Exact rounds a·b+c to float64 with round-to-odd, which makes the
// following rounding to float32 correct (Boldo and Melquiond): a·b is
// exact in float64, the error of the sum is recovered with TwoSum.
func fma32Exact(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cc := float64(c)
	r := p + cc
	if math.IsInf(r, 0) || r != r {
		return float32(r)
	}
	if math.Abs(r) < 0x1p-126 {
		// Halfway between two float32 subnormals means an odd multiple
		// of 2^-150; anything else rounds right from r.
		if t := r * 0x1p150; t != math.Trunc(t) || t/2 == math.Trunc(t/2) {
			return float32(r)
		}
	}
	bb := r - p
	e := (p - (r - bb)) + (cc - bb)
	if e != 0 {
		bits := math.Float64bits(r)
		if bits&1 == 0 {
			if (e > 0) == (r > 0) {
				bits++
			} else {
				bits--
			}
			r = math.Float64frombits(bits)
		}
	}
	return float32(r)
}

// hsum8 is ggml's hsum_float_8 (and tinyBLAS's hsum of a __m256): halves
// added, then 4 → 2 → 1.
func hsum8(v *[8]float32) float32 {
	h0, h1, h2, h3 := v[0]+v[4], v[1]+v[5], v[2]+v[6], v[3]+v[7]
	return (h0 + h2) + (h1 + h3)
}

// reduce32 is GGML_F32x8_REDUCE over the four 8-lane accumulators of the
// float vec_dot kernels (lane i of accumulator a is l[8a+i]): (A0+A2) +
// (A1+A3), then halves added, then two horizontal adds.
func reduce32(l *[32]float32) float32 {
	var w [8]float32
	for i := range w {
		w[i] = (l[i] + l[16+i]) + (l[8+i] + l[24+i])
	}
	t0, t1, t2, t3 := w[0]+w[4], w[1]+w[5], w[2]+w[6], w[3]+w[7]
	return (t0 + t1) + (t2 + t3)
}

// reduceBF16 is ggml_vec_dot_bf16's AVX2 reduction: (c1+c3) + (c2+c4),
// then hsum8.
func reduceBF16(l *[32]float32) float32 {
	var w [8]float32
	for i := range w {
		w[i] = (l[i] + l[16+i]) + (l[8+i] + l[24+i])
	}
	return hsum8(&w)
}

func f32At(b []byte, i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])) }

func decodeF32(dst []float32, row []byte, lo int) {
	src := row[4*lo : 4*(lo+len(dst))]
	for k := range dst {
		dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*k:]))
	}
}

func decodeF16(dst []float32, row []byte, lo int) {
	src := row[2*lo : 2*(lo+len(dst))]
	for k := range dst {
		dst[k] = f16Table[binary.LittleEndian.Uint16(src[2*k:])]
	}
}

func decodeBF16(dst []float32, row []byte, lo int) {
	src := row[2*lo : 2*(lo+len(dst))]
	for k := range dst {
		dst[k] = BF16ToF32(binary.LittleEndian.Uint16(src[2*k:]))
	}
}

// floatKind selects the decoder of a float row; decodeRow calls it
// directly: through a func value the chunk buffer escapes to the heap.
type floatKind uint8

const (
	kindF32 floatKind = iota
	kindF16
	kindBF16
)

// floatChunk is how many elements of a float row are decoded at a time;
// a multiple of 32, so chunks are whole lane steps.
const floatChunk = 256

func decodeRow(k floatKind, dst []float32, row []byte, lo int) {
	switch k {
	case kindF32:
		decodeF32(dst, row, lo)
	case kindF16:
		decodeF16(dst, row, lo)
	default:
		decodeBF16(dst, row, lo)
	}
}

// laneFMA adds w[i]·y[i] into lane (lo+i)%32 with a fused multiply-add
// (ggml_vec_dot_f32's GGML_F32_VEC_FMA), for whole 32-element steps.
func laneFMA(l *[32]float32, w, y []float32) {
	y = y[:len(w)]
	for i := 0; i+32 <= len(w); i += 32 {
		ww, yy := w[i:i+32:i+32], y[i:i+32:i+32]
		for k := range l {
			if r := float64(ww[k])*float64(yy[k]) + float64(l[k]); !inexact32(r) {
				l[k] = float32(r)
			} else {
				l[k] = fma32Exact(ww[k], yy[k], l[k])
			}
		}
	}
}

// laneAdd adds the exact products w[i]·y[i] (binary16 values: at most 22
// significant bits, never below 2^-48) into lane i%32; the fused
// multiply-add ggml uses equals a plain add of the exact product.
func laneAdd(l *[32]float32, w, y []float32) {
	y = y[:len(w)]
	for i := 0; i+32 <= len(w); i += 32 {
		ww, yy := w[i:i+32:i+32], y[i:i+32:i+32]
		for k := range l {
			l[k] += float32(ww[k] * yy[k])
		}
	}
}

// dotF32Generic is ggml_vec_dot_f32: 4×8 FMA lanes over the whole
// 32-element steps, GGML_F32x8_REDUCE, then the remaining products fused
// into the float32 sum one by one.
func dotF32Generic(row []byte, a *Act) float32 {
	n := a.n
	np := n &^ 31
	if w, ok := f32View(row, n); ok {
		return dotF32VecDot(w, a.f[:n])
	}
	var l [32]float32
	var buf [floatChunk]float32
	for lo := 0; lo < np; lo += floatChunk {
		m := min(floatChunk, np-lo)
		decodeRow(kindF32, buf[:m], row, lo)
		laneFMA(&l, buf[:m], a.f[lo:lo+m])
	}
	s := reduce32(&l)
	for i := np; i < n; i++ {
		s = fma32(f32At(row, i), a.f[i], s)
	}
	return s
}

func dotF32VecDot(x, y []float32) float32 {
	n := len(x)
	np := n &^ 31
	var l [32]float32
	laneFMA(&l, x[:np], y[:np])
	s := reduce32(&l)
	for i := np; i < n; i++ {
		s = fma32(x[i], y[i], s)
	}
	return s
}

// dotF16Generic is ggml_vec_dot_f16: the exact products in 4×8 lanes,
// GGML_F32x8_REDUCE, then the remaining products added in float64.
func dotF16Generic(row []byte, a *Act) float32 {
	n := a.n
	np := n &^ 31
	var l [32]float32
	var buf [floatChunk]float32
	for lo := 0; lo < np; lo += floatChunk {
		m := min(floatChunk, np-lo)
		decodeRow(kindF16, buf[:m], row, lo)
		laneAdd(&l, buf[:m], a.f[lo:lo+m])
	}
	s := float64(reduce32(&l))
	for i := np; i < n; i++ {
		s += float64(float32(f16Table[le16(row[2*i:])] * a.f[i]))
	}
	return float32(s)
}

// dotBF16Generic is ggml_vec_dot_bf16 (AVX2): 4×8 lanes, reduceBF16, the
// rest added in float64. The lanes' mul and add intrinsics are contracted
// into a fused multiply-add by gcc; bfloat16 products are exact unless
// they underflow, where that shows.
func dotBF16Generic(row []byte, a *Act) float32 {
	n := a.n
	np := n &^ 31
	var l [32]float32
	var buf [floatChunk]float32
	for lo := 0; lo < np; lo += floatChunk {
		m := min(floatChunk, np-lo)
		decodeRow(kindBF16, buf[:m], row, lo)
		laneFMA(&l, buf[:m], a.f[lo:lo+m])
	}
	s := float64(reduceBF16(&l))
	for i := np; i < n; i++ {
		s += float64(float32(BF16ToF32(le16(row[2*i:])) * a.f[i]))
	}
	return float32(s)
}

// The tinyBLAS kernels (llamafile sgemm, batches of two or more
// activations, n%8 == 0): one 8-lane FMA accumulator, element i in lane
// i%8, then hsum8.

func tinyF32Generic(row []byte, a *Act) float32 {
	n := a.n
	if w, ok := f32View(row, n); ok {
		return dotF32Tiny(w, a.f[:n])
	}
	return tinyFMA(kindF32, row, a)
}

func tinyBF16Generic(row []byte, a *Act) float32 { return tinyFMA(kindBF16, row, a) }

func tinyFMA(kind floatKind, row []byte, a *Act) float32 {
	var l [8]float32
	var buf [floatChunk]float32
	for lo := 0; lo < a.n; lo += floatChunk {
		m := min(floatChunk, a.n-lo)
		decodeRow(kind, buf[:m], row, lo)
		y := a.f[lo : lo+m]
		// Chunks are a multiple of 8 long, so i&7 is the lane of lo+i.
		for i, w := range buf[:m] {
			l[i&7] = fma32(w, y[i], l[i&7])
		}
	}
	return hsum8(&l)
}

func dotF32Tiny(x, y []float32) float32 {
	var l [8]float32
	y = y[:len(x)]
	for i := 0; i+8 <= len(x); i += 8 {
		xx, yy := x[i:i+8:i+8], y[i:i+8:i+8]
		for k := range l {
			if r := float64(xx[k])*float64(yy[k]) + float64(l[k]); !inexact32(r) {
				l[k] = float32(r)
			} else {
				l[k] = fma32Exact(xx[k], yy[k], l[k])
			}
		}
	}
	return hsum8(&l)
}

func tinyF16Generic(row []byte, a *Act) float32 {
	var l [8]float32
	var buf [floatChunk]float32
	for lo := 0; lo < a.n; lo += floatChunk {
		m := min(floatChunk, a.n-lo)
		decodeRow(kindF16, buf[:m], row, lo)
		y := a.f[lo : lo+m]
		for i, w := range buf[:m] {
			l[i&7] += float32(w * y[i])
		}
	}
	return hsum8(&l)
}

// dotF16F16Generic is DotF16's portable kernel (ggml_vec_dot_f16).
func dotF16F16Generic(x, y []uint16) float32 {
	n := len(x)
	y = y[:n]
	np := n &^ 31
	var l [32]float32
	for i := 0; i < np; i++ {
		l[i&31] += float32(f16Table[x[i]] * f16Table[y[i]])
	}
	s := float64(reduce32(&l))
	for i := np; i < n; i++ {
		s += float64(float32(f16Table[x[i]] * f16Table[y[i]]))
	}
	return float32(s)
}

// dotF16F16TinyGeneric is DotF16Tiny's portable kernel.
func dotF16F16TinyGeneric(x, y []uint16) float32 {
	y = y[:len(x)]
	var l [8]float32
	for i := range x {
		l[i&7] += float32(f16Table[x[i]] * f16Table[y[i]])
	}
	return hsum8(&l)
}

// Blocks of 32 against Q8_0/Q8_1 activations (ggml_vec_dot_q*_q8_* AVX2,
// also tinyBLAS_Q0_AVX): lane k of the block is the exact sum of products
// 4k..4k+3 of the 32, and acc_k = fma(dx·dy, lane_k, acc_k) (dx·dy, a
// product of two binary16 values, is exact); the result is hsum8.

// blockLanes sets l[k] = Σ_{e=4k}^{4k+3} w[e]·y[e].
func blockLanes(l *[8]int32, w *[32]int8, y []int8) {
	y = y[:32]
	for k := range l {
		e := 4 * k
		l[k] = int32(w[e])*int32(y[e]) + int32(w[e+1])*int32(y[e+1]) + int32(w[e+2])*int32(y[e+2]) + int32(w[e+3])*int32(y[e+3])
	}
}

// nibbles32 unpacks 16 bytes of 4-bit quants to w[0..15] (low nibbles)
// and w[16..31] (high nibbles), minus off.
func nibbles32(w *[32]int8, qs []byte, off int8) {
	qs = qs[:16]
	for j, q := range qs {
		w[j] = int8(q&0xf) - off
		w[j+16] = int8(q>>4) - off
	}
}

// fifthBits sets bit 4 of w[j] from bit j of qh (Q5_0, Q5_1), then
// subtracts off.
func fifthBits(w *[32]int8, qh uint32, off int8) {
	for j := range w {
		w[j] = w[j] | int8(qh>>j&1)<<4 - off
	}
}

func accBlock(acc *[8]float32, d float32, w *[32]int8, y []int8) {
	var l [8]int32
	blockLanes(&l, w, y)
	for k := range acc {
		if r := float64(d)*float64(l[k]) + float64(acc[k]); !inexact32(r) {
			acc[k] = float32(r)
		} else {
			acc[k] = fma32Exact(d, float32(l[k]), acc[k])
		}
	}
}

func dotQ8_0Generic(row []byte, a *Act) float32 {
	var acc [8]float32
	var w [32]int8
	for b := 0; b < a.n/32; b++ {
		x := row[34*b : 34*b+34 : 34*b+34]
		for j := range w {
			w[j] = int8(x[2+j])
		}
		accBlock(&acc, f16At(x)*a.d[b], &w, a.qs[32*b:])
	}
	return hsum8(&acc)
}

func dotQ4_0Generic(row []byte, a *Act) float32 {
	var acc [8]float32
	var w [32]int8
	for b := 0; b < a.n/32; b++ {
		x := row[18*b : 18*b+18 : 18*b+18]
		nibbles32(&w, x[2:], 8)
		accBlock(&acc, f16At(x)*a.d[b], &w, a.qs[32*b:])
	}
	return hsum8(&acc)
}

func dotQ5_0Generic(row []byte, a *Act) float32 {
	var acc [8]float32
	var w [32]int8
	for b := 0; b < a.n/32; b++ {
		x := row[22*b : 22*b+22 : 22*b+22]
		nibbles32(&w, x[6:], 0)
		fifthBits(&w, le32(x[2:]), 16)
		accBlock(&acc, f16At(x)*a.d[b], &w, a.qs[32*b:])
	}
	return hsum8(&acc)
}

// Q4_1 and Q5_1 add the min term m·s (exact) into a float32 sum block by
// block and that sum to hsum8 at the end.

func dotQ4_1Generic(row []byte, a *Act) float32 {
	var acc [8]float32
	var w [32]int8
	var summs float32
	for b := 0; b < a.n/32; b++ {
		x := row[20*b : 20*b+20 : 20*b+20]
		summs += float32(f16At(x[2:]) * a.s[b])
		nibbles32(&w, x[4:], 0)
		accBlock(&acc, f16At(x)*a.d[b], &w, a.qs[32*b:])
	}
	return hsum8(&acc) + summs
}

func dotQ5_1Generic(row []byte, a *Act) float32 {
	var acc [8]float32
	var w [32]int8
	var summs float32
	for b := 0; b < a.n/32; b++ {
		x := row[24*b : 24*b+24 : 24*b+24]
		summs += float32(f16At(x[2:]) * a.s[b])
		nibbles32(&w, x[8:], 0)
		fifthBits(&w, le32(x[4:]), 0)
		accBlock(&acc, f16At(x)*a.d[b], &w, a.qs[32*b:])
	}
	return hsum8(&acc) + summs
}

// dotQ4_0RepackGeneric is the repacked Q4_0 path llama.cpp takes on AVX2
// for matrices whose row count is a multiple of 8 (ggml_gemv/gemm
// q4_0_8x8_q8_0): one float32 accumulator per row, acc = fma(float32(Σ_b),
// dx·dy, acc) block after block, Σ_b the exact block sum.
func dotQ4_0RepackGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/32; b++ {
		x := row[18*b : 18*b+18 : 18*b+18]
		y := a.qs[32*b : 32*b+32 : 32*b+32]
		ylo, yhi := y[:16:16], y[16:32:32]
		var s int32
		for j, q := range x[2:18:18] {
			s += (int32(q&0xf)-8)*int32(ylo[j]) + (int32(q>>4)-8)*int32(yhi[j])
		}
		acc = fma32(float32(s), f16At(x)*a.d[b], acc)
	}
	return acc
}

// K-quants against Q8_K activations (ggml_vec_dot_q*_K_q8_K, AVX2). A
// super-block is eight chunks of 32 elements; lane k (0..7) holds chunk
// elements 4k..4k+3, and each lane's exact integer sum Σ_c scale·Σ q·y is
// fused into an 8-lane float accumulator with the super-block's
// d = float32(dy·d_x): acc_k = fma(d, sumi_k, acc_k); the result is
// hsum8(acc) plus the type's min term:
//
//	Q2_K       before the scales, acc_l = fma(-dy·dmin, prod_l, acc_l),
//	           prod_l = mn[2l]·bsums[2l] + mn[2l+1]·bsums[2l+1]
//	Q3_K, Q6_K none
//	Q4_K       a 4-lane accumulator m_l = fma(-dy·dmin, prod_l, m_l),
//	           prod_l = mn[2l]·q8s[2l] + mn[2l+1]·q8s[2l+1] with
//	           q8s[k] = bsums[2k]+bsums[2k+1]; result + ((m0+m2)+(m1+m3))
//	Q5_K       a float32 sum s = fma(-dy·dmin, Σ_k mn[k]·q8s[k], s);
//	           result + s
//
// In Q2_K, Q3_K and Q6_K (16-element scale groups) the scale of chunk c
// is sc[2c] for lanes 0-3 and sc[2c+1] for lanes 4-7; in Q4_K and Q5_K
// (32-element groups) it is sc[c].

// chunkLanes sets p[c][k] = Σ_{e=4k}^{4k+3} q[32c+e]·y[32c+e].
func chunkLanes(p *[8][8]int32, q *[256]int8, y []int8) {
	y = y[:256]
	for c := range p {
		qc, yc := q[32*c:32*c+32:32*c+32], y[32*c:32*c+32:32*c+32]
		for k := range p[c] {
			e := 4 * k
			p[c][k] = int32(qc[e])*int32(yc[e]) + int32(qc[e+1])*int32(yc[e+1]) + int32(qc[e+2])*int32(yc[e+2]) + int32(qc[e+3])*int32(yc[e+3])
		}
	}
}

// sumi16 combines the chunk lanes with 16-element group scales.
func sumi16(sumi *[8]int32, p *[8][8]int32, sc *[16]int32) {
	for k := range sumi {
		var s int32
		for c := range p {
			s += sc[2*c+k/4] * p[c][k]
		}
		sumi[k] = s
	}
}

// sumi32 combines the chunk lanes with 32-element group scales.
func sumi32(sumi *[8]int32, p *[8][8]int32, sc *[8]int32) {
	for k := range sumi {
		var s int32
		for c := range p {
			s += sc[c] * p[c][k]
		}
		sumi[k] = s
	}
}

func accLanes(acc *[8]float32, d float32, sumi *[8]int32) {
	for k := range acc {
		acc[k] = fma32(d, float32(sumi[k]), acc[k])
	}
}

func dotQ2_KGeneric(row []byte, a *Act) float32 {
	var acc [8]float32
	var q [256]int8
	var p [8][8]int32
	var sc [16]int32
	var sumi [8]int32
	for b := 0; b < a.n/256; b++ {
		x := row[84*b : 84*b+84 : 84*b+84]
		scales, qs := x[0:16:16], x[16:80:80]
		for j := 0; j < 2; j++ {
			for s := 0; s < 4; s++ {
				for e := 0; e < 32; e++ {
					q[128*j+32*s+e] = int8(qs[32*j+e] >> (2 * s) & 3)
				}
			}
		}
		bs := a.bsums[16*b : 16*b+16 : 16*b+16]
		dy := a.d[b]
		d := float32(dy * f16At(x[80:]))
		dmin := float32(-dy * f16At(x[82:]))
		for l := 0; l < 8; l++ {
			prod := int32(scales[2*l]>>4)*int32(bs[2*l]) + int32(scales[2*l+1]>>4)*int32(bs[2*l+1])
			acc[l] = fma32(dmin, float32(prod), acc[l])
		}
		for g := range sc {
			sc[g] = int32(scales[g] & 0xf)
		}
		chunkLanes(&p, &q, a.qs[256*b:])
		sumi16(&sumi, &p, &sc)
		accLanes(&acc, d, &sumi)
	}
	return hsum8(&acc)
}

func dotQ3_KGeneric(row []byte, a *Act) float32 {
	var acc [8]float32
	var q [256]int8
	var p [8][8]int32
	var sumi [8]int32
	for b := 0; b < a.n/256; b++ {
		x := row[110*b : 110*b+110 : 110*b+110]
		hm, qs := x[0:32:32], x[32:96:96]
		for j := 0; j < 2; j++ {
			for s := 0; s < 4; s++ {
				bit := uint(4*j + s)
				for e := 0; e < 32; e++ {
					q[128*j+32*s+e] = int8(qs[32*j+e]>>(2*s)&3) - 4 + 4*int8(hm[e]>>bit&1)
				}
			}
		}
		sc := q3Scales(x[96:108])
		chunkLanes(&p, &q, a.qs[256*b:])
		sumi16(&sumi, &p, &sc)
		accLanes(&acc, float32(a.d[b]*f16At(x[108:])), &sumi)
	}
	return hsum8(&acc)
}

// k4Scales unpacks the eight 6-bit scales and mins of a Q4_K/Q5_K
// super-block and the mins' dot with the pair sums of bsums.
func k4Scales(scales []byte, bs []int16, sc *[8]int32, prod *[4]int32) {
	var mn [8]int32
	for s := 0; s < 8; s++ {
		c, m := scaleMinK4(s, scales)
		sc[s], mn[s] = int32(c), int32(m)
	}
	for l := range prod {
		prod[l] = mn[2*l]*(int32(bs[4*l])+int32(bs[4*l+1])) + mn[2*l+1]*(int32(bs[4*l+2])+int32(bs[4*l+3]))
	}
}

func dotQ4_KGeneric(row []byte, a *Act) float32 {
	var acc [8]float32
	var accm [4]float32
	var q [256]int8
	var p [8][8]int32
	var sc [8]int32
	var prod [4]int32
	var sumi [8]int32
	for b := 0; b < a.n/256; b++ {
		x := row[144*b : 144*b+144 : 144*b+144]
		qs := x[16:144:144]
		for c := 0; c < 8; c++ {
			shift := uint(4 * (c & 1))
			for e := 0; e < 32; e++ {
				q[32*c+e] = int8(qs[32*(c/2)+e] >> shift & 0xf)
			}
		}
		dy := a.d[b]
		d := float32(dy * f16At(x))
		dmin := float32(-dy * f16At(x[2:]))
		k4Scales(x[4:16], a.bsums[16*b:16*b+16], &sc, &prod)
		for l := range accm {
			accm[l] = fma32(dmin, float32(prod[l]), accm[l])
		}
		chunkLanes(&p, &q, a.qs[256*b:])
		sumi32(&sumi, &p, &sc)
		accLanes(&acc, d, &sumi)
	}
	return hsum8(&acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]))
}

func dotQ5_KGeneric(row []byte, a *Act) float32 {
	var acc [8]float32
	var summs float32
	var q [256]int8
	var p [8][8]int32
	var sc [8]int32
	var prod [4]int32
	var sumi [8]int32
	for b := 0; b < a.n/256; b++ {
		x := row[176*b : 176*b+176 : 176*b+176]
		qh, qs := x[16:48:48], x[48:176:176]
		for c := 0; c < 8; c++ {
			shift := uint(4 * (c & 1))
			for e := 0; e < 32; e++ {
				q[32*c+e] = int8(qs[32*(c/2)+e]>>shift&0xf | (qh[e]>>c&1)<<4)
			}
		}
		dy := a.d[b]
		d := float32(dy * f16At(x))
		dmin := float32(-dy * f16At(x[2:]))
		k4Scales(x[4:16], a.bsums[16*b:16*b+16], &sc, &prod)
		summs = fma32(dmin, float32(prod[0]+prod[1]+prod[2]+prod[3]), summs)
		chunkLanes(&p, &q, a.qs[256*b:])
		sumi32(&sumi, &p, &sc)
		accLanes(&acc, d, &sumi)
	}
	return hsum8(&acc) + summs
}

func dotQ6_KGeneric(row []byte, a *Act) float32 {
	var acc [8]float32
	var q [256]int8
	var p [8][8]int32
	var sc [16]int32
	var sumi [8]int32
	for b := 0; b < a.n/256; b++ {
		x := row[210*b : 210*b+210 : 210*b+210]
		for j := 0; j < 2; j++ {
			ql := x[64*j : 64*j+64 : 64*j+64]
			qh := x[128+32*j : 128+32*j+32 : 128+32*j+32]
			for s := 0; s < 4; s++ {
				lo := ql[32*(s&1) : 32*(s&1)+32 : 32*(s&1)+32]
				shift := uint(4 * (s / 2))
				for e := 0; e < 32; e++ {
					q[128*j+32*s+e] = int8(lo[e]>>shift&0xf|(qh[e]>>(2*s)&3)<<4) - 32
				}
			}
		}
		for g := range sc {
			sc[g] = int32(int8(x[192+g]))
		}
		chunkLanes(&p, &q, a.qs[256*b:])
		sumi16(&sumi, &p, &sc)
		accLanes(&acc, float32(a.d[b]*f16At(x[208:])), &sumi)
	}
	return hsum8(&acc)
}
