package quant

import (
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// VecDotType returns the type ggml converts activations to before dotting
// them with weights of type t (type_traits_cpu[t].vec_dot_type), and false
// for types the engine cannot multiply with.
func VecDotType(t gguf.Type) (gguf.Type, bool) {
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16:
		return t, true
	case gguf.Q4_0, gguf.Q5_0, gguf.Q8_0:
		return gguf.Q8_0, true
	case gguf.Q4_1, gguf.Q5_1:
		return gguf.Q8_1, true
	case gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K:
		return gguf.Q8_K, true
	}
	return 0, false
}

// Act is an activation vector converted the way ggml converts it for a
// weight type's vec_dot_type. Its buffers are reused: after the first Set
// for a given length, Set allocates nothing. An Act is not safe for
// concurrent Set, but any number of goroutines may dot with it at once.
type Act struct {
	kind gguf.Type // F32, F16, BF16, Q8_0, Q8_1 or Q8_K
	n    int

	// f holds the values the float kernels use: the input itself (F32) or
	// its binary16/bfloat16 rounding, widened exactly.
	f []float32
	// h holds the binary16/bfloat16 bits (F16, BF16).
	h []uint16
	// qs are the int8 quants of all blocks back to back, so every block's
	// quants start 32-byte aligned relative to qs[0].
	qs []int8
	// d is each block's scale as the dot product uses it: the binary16
	// value widened (Q8_0, Q8_1) or the float32 one (Q8_K).
	d []float32
	// ysum is each block's Σqs (Q8_0, Q8_1): the kernels for unsigned
	// weight quants subtract their offset through it.
	ysum []int32
	// d16 and s16 are the stored binary16 d and s (Q8_0, Q8_1).
	d16, s16 []uint16
	// s is Q8_1's s widened.
	s []float32
	// bsums are Q8_K's sums of 16 quants.
	bsums []int16
}

// Type is the activation's format (the vec_dot_type it was Set for).
func (a *Act) Type() gguf.Type { return a.kind }

// Len is the number of elements.
func (a *Act) Len() int { return a.n }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Set converts x for dotting with weights of type weightType. It panics if
// weightType is not one VecDotType accepts or len(x) is not a multiple of
// its block size: both are checked when a Matrix is made, so for a valid
// Matrix m, Set(m.Type, x) with len(x) == m.Cols never panics.
func (a *Act) Set(weightType gguf.Type, x []float32) {
	kind, ok := VecDotType(weightType)
	if !ok {
		panic(fmt.Sprintf("quant: Act.Set: no dot product for %s weights", weightType))
	}
	if bs := int(kind.BlockSize()); len(x)%bs != 0 {
		panic(fmt.Sprintf("quant: Act.Set: %d elements is not a multiple of the %s block size %d", len(x), kind, bs))
	}
	a.kind, a.n = kind, len(x)
	switch kind {
	case gguf.F32:
		a.f = grow(a.f, len(x))
		copy(a.f, x)
	case gguf.F16:
		a.f, a.h = grow(a.f, len(x)), grow(a.h, len(x))
		for i, v := range x {
			h := F32ToF16(v)
			a.h[i], a.f[i] = h, f16Table[h]
		}
	case gguf.BF16:
		a.f, a.h = grow(a.f, len(x)), grow(a.h, len(x))
		for i, v := range x {
			h := F32ToBF16(v)
			a.h[i], a.f[i] = h, BF16ToF32(h)
		}
	case gguf.Q8_0, gguf.Q8_1:
		nb := len(x) / 32
		a.qs, a.d, a.d16, a.ysum = grow(a.qs, len(x)), grow(a.d, nb), grow(a.d16, nb), grow(a.ysum, nb)
		if kind == gguf.Q8_1 {
			a.s, a.s16 = grow(a.s, nb), grow(a.s16, nb)
		}
		for b := 0; b < nb; b++ {
			d, sum := quantizeQ8x86(x[32*b:32*b+32], a.qs[32*b:32*b+32])
			a.d16[b] = F32ToF16(d)
			a.d[b] = f16Table[a.d16[b]]
			var ys int32
			for _, q := range a.qs[32*b : 32*b+32] {
				ys += int32(q)
			}
			a.ysum[b] = ys
			if kind == gguf.Q8_1 {
				a.s16[b] = F32ToF16(d * float32(sum))
				a.s[b] = f16Table[a.s16[b]]
			}
		}
	case gguf.Q8_K:
		nb := len(x) / 256
		a.qs, a.d, a.bsums = grow(a.qs, len(x)), grow(a.d, nb), grow(a.bsums, 16*nb)
		for b := 0; b < nb; b++ {
			a.d[b] = quantizeQ8K(x[256*b:256*b+256], a.qs[256*b:256*b+256], a.bsums[16*b:16*b+16])
		}
	}
}

// quantizeQ8x86 quantizes 32 values the way ggml's AVX2 quantize_row_q8_0
// and quantize_row_q8_1 do: d = amax/127, id = 127/amax (not 1/d), x·id
// rounded to nearest even and converted with cvtps2dq, then narrowed with
// saturating packs. It returns the unrounded d and the (wrapping) int32
// sum of the converted values, as q8_1's s uses it.
func quantizeQ8x86(x []float32, qs []int8) (d float32, sum int32) {
	var amax float32
	for _, v := range x[:32] {
		amax = max(amax, abs32(v))
	}
	d = amax / 127
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	for j, v := range x[:32] {
		i := cvtps2dq(float32(v * id))
		qs[j] = int8(min(127, max(-128, i)))
		sum += i
	}
	return d, sum
}

// cvtps2dq converts like the x86 instruction in round-to-nearest-even
// mode: NaN and values outside int32 give the "integer indefinite"
// 0x80000000. That happens when a block's amax is so small (below about
// 3.7e-37) that 127/amax overflows; its d then rounds to binary16 zero, so
// the garbage quants (-128) never reach a result.
func cvtps2dq(v float32) int32 {
	if !(v > -2147483648.0 && v < 2147483648.0) {
		return math.MinInt32
	}
	return int32(math.RoundToEven(float64(v)))
}

// quantizeQ8K is ggml's quantize_row_q8_K_ref (used on x86 and ARM alike):
// the value of largest magnitude (the first one on ties) maps to -127,
// rounding is ggml's nearest_int (add 1.5·2^23, read the mantissa bits;
// round-half-even for the values that occur). It returns d (float32, not
// binary16).
func quantizeQ8K(x []float32, qs []int8, bsums []int16) float32 {
	var amax, vmax float32
	for _, v := range x[:256] {
		if av := abs32(v); av > amax {
			amax, vmax = av, v
		}
	}
	if amax == 0 {
		clear(qs[:256])
		clear(bsums[:16])
		return 0
	}
	iscale := -127 / vmax
	for j, v := range x[:256] {
		qs[j] = int8(min(127, nearestInt(float32(iscale*v))))
	}
	for g := 0; g < 16; g++ {
		var s int16
		for _, q := range qs[16*g : 16*g+16] {
			s += int16(q)
		}
		bsums[g] = s
	}
	return 1 / iscale
}

// nearestInt is ggml's nearest_int, bit for bit also outside the range
// it asserts (|f| ≤ 4194303): the result's low byte is what the C code's
// (int8_t) conversion keeps.
func nearestInt(f float32) int32 {
	bits := math.Float32bits(float32(f + 12582912))
	return int32(bits&0x007fffff) - 0x00400000
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// AppendBlocks appends the activation in ggml's storage format (block_q8_0,
// block_q8_1, block_q8_K, or plain F32/F16/BF16 elements) to dst.
func (a *Act) AppendBlocks(dst []byte) []byte {
	switch a.kind {
	case gguf.F32:
		for _, v := range a.f {
			dst = appendLE32(dst, math.Float32bits(v))
		}
	case gguf.F16, gguf.BF16:
		for _, h := range a.h {
			dst = append(dst, byte(h), byte(h>>8))
		}
	case gguf.Q8_0, gguf.Q8_1:
		for b := range a.d16 {
			dst = append(dst, byte(a.d16[b]), byte(a.d16[b]>>8))
			if a.kind == gguf.Q8_1 {
				dst = append(dst, byte(a.s16[b]), byte(a.s16[b]>>8))
			}
			for _, q := range a.qs[32*b : 32*b+32] {
				dst = append(dst, byte(q))
			}
		}
	case gguf.Q8_K:
		for b := range a.d {
			dst = appendLE32(dst, math.Float32bits(a.d[b]))
			for _, q := range a.qs[256*b : 256*b+256] {
				dst = append(dst, byte(q))
			}
			for _, s := range a.bsums[16*b : 16*b+16] {
				dst = append(dst, byte(s), byte(uint16(s)>>8))
			}
		}
	}
	return dst
}

func appendLE32(dst []byte, v uint32) []byte {
	return append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
