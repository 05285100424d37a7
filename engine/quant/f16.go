package quant

import "math"

// F16ToF32 widens an IEEE binary16 value exactly (subnormals, infinities
// and NaN payloads preserved).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant·2^-24 is exact in binary32.
	return math.Float32frombits(sign | math.Float32bits(float32(mant)*(1.0/(1<<24))))
}

// F32ToF16 rounds f to the nearest binary16 value, ties to even, as
// ggml's GGML_FP32_TO_FP16 does (F16C vcvtps2ph): overflow gives ±inf,
// small values become subnormals or ±0, and NaN stays NaN with its sign
// and the top bits of its payload, quieted (the hardware behaviour).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 112 // binary16 biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Binary16 subnormal (or zero): count units of 2^-24.
		if e < -10 {
			return sign // below half the smallest subnormal
		}
		full := mant | 0x800000
		shift := uint(14 - e)
		m := full >> shift
		rem := full & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && m&1 == 1 {
			m++ // may carry into the smallest normal, which encodes right
		}
		return sign | uint16(m)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // a carry into the exponent is the right result, up to inf
	}
	return sign | uint16(h)
}

// BF16ToF32 widens a bfloat16 value (bits << 16).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds f to bfloat16 as ggml's GGML_FP32_TO_BF16 does:
// round-to-nearest-even on the bits, NaN quieted, no flush to zero.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// f16Table maps every binary16 bit pattern to its binary32 value; the
// portable kernels use it instead of decoding bits per element.
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = F16ToF32(uint16(i))
	}
	return &t
}()

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// f16At reads the little-endian binary16 at b[0:2] as float32.
func f16At(b []byte) float32 { return f16Table[le16(b)] }
