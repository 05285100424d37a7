package quant

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	ErrType   = errors.New("quant: unsupported tensor type")
	ErrLength = errors.New("quant: bad length")
)

// CanDequantize reports whether Dequantize handles t.
func CanDequantize(t gguf.Type) bool {
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.Q8_0,
		gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K, gguf.Q8_K:
		return true
	}
	return false
}

// checkLengths validates that n elements of t are a whole number of
// blocks and that src holds them; it returns the bytes needed.
func checkLengths(t gguf.Type, n int, srcLen int) (int, error) {
	bs := int(t.BlockSize())
	if bs == 0 || n%bs != 0 {
		return 0, fmt.Errorf("%w: %d elements is not a multiple of the %s block size %d", ErrLength, n, t, bs)
	}
	need := n / bs * int(t.TypeSize())
	if srcLen < need {
		return 0, fmt.Errorf("%w: %d %s elements need %d bytes, have %d", ErrLength, n, t, need, srcLen)
	}
	return need, nil
}

// Dequantize decodes len(dst) elements of type t from src into dst, bit for
// bit as llama.cpp's to_float routines do. src may be longer than needed.
func Dequantize(t gguf.Type, src []byte, dst []float32) error {
	if !CanDequantize(t) {
		return fmt.Errorf("%w: %s (dequantize)", ErrType, t)
	}
	need, err := checkLengths(t, len(dst), len(src))
	if err != nil {
		return err
	}
	src = src[:need]
	switch t {
	case gguf.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(le32(src[4*i:]))
		}
	case gguf.F16:
		for i := range dst {
			dst[i] = f16Table[le16(src[2*i:])]
		}
	case gguf.BF16:
		for i := range dst {
			dst[i] = BF16ToF32(le16(src[2*i:]))
		}
	default:
		bs, ts := int(t.BlockSize()), int(t.TypeSize())
		dec := blockDecoders[t]
		for b := 0; b < len(dst)/bs; b++ {
			dec(src[b*ts:(b+1)*ts], dst[b*bs:(b+1)*bs])
		}
	}
	return nil
}

// blockDecoders decode one block each; the loops follow ggml's
// dequantize_row_* so the evaluation order (and so every rounding) is the
// same. The explicit float32 conversions keep Go from fusing a product
// into a following add on arm64 where ggml rounds in between.
var blockDecoders = map[gguf.Type]func(b []byte, y []float32){
	gguf.Q4_0: dequantQ4_0,
	gguf.Q4_1: dequantQ4_1,
	gguf.Q5_0: dequantQ5_0,
	gguf.Q5_1: dequantQ5_1,
	gguf.Q8_0: dequantQ8_0,
	gguf.Q2_K: dequantQ2_K,
	gguf.Q3_K: dequantQ3_K,
	gguf.Q4_K: dequantQ4_K,
	gguf.Q5_K: dequantQ5_K,
	gguf.Q6_K: dequantQ6_K,
	gguf.Q8_K: dequantQ8_K,
}

func dequantQ4_0(b []byte, y []float32) {
	d := f16At(b)
	qs := b[2:18]
	for j := 0; j < 16; j++ {
		y[j] = float32(int32(qs[j]&0xf)-8) * d
		y[j+16] = float32(int32(qs[j]>>4)-8) * d
	}
}

func dequantQ4_1(b []byte, y []float32) {
	d, m := f16At(b), f16At(b[2:])
	qs := b[4:20]
	for j := 0; j < 16; j++ {
		y[j] = float32(float32(qs[j]&0xf)*d) + m
		y[j+16] = float32(float32(qs[j]>>4)*d) + m
	}
}

func dequantQ5_0(b []byte, y []float32) {
	d := f16At(b)
	qh := le32(b[2:])
	qs := b[6:22]
	for j := 0; j < 16; j++ {
		h0 := (qh >> j << 4) & 0x10
		h1 := (qh >> (j + 12)) & 0x10
		y[j] = float32(int32(uint32(qs[j]&0xf)|h0)-16) * d
		y[j+16] = float32(int32(uint32(qs[j]>>4)|h1)-16) * d
	}
}

func dequantQ5_1(b []byte, y []float32) {
	d, m := f16At(b), f16At(b[2:])
	qh := le32(b[4:])
	qs := b[8:24]
	for j := 0; j < 16; j++ {
		h0 := (qh >> j << 4) & 0x10
		h1 := (qh >> (j + 12)) & 0x10
		y[j] = float32(float32(uint32(qs[j]&0xf)|h0)*d) + m
		y[j+16] = float32(float32(uint32(qs[j]>>4)|h1)*d) + m
	}
}

func dequantQ8_0(b []byte, y []float32) {
	d := f16At(b)
	for j, q := range b[2:34] {
		y[j] = float32(int8(q)) * d
	}
}

func dequantQ2_K(b []byte, y []float32) {
	scales := b[0:16]
	q := b[16:80]
	d, dmin := f16At(b[80:]), f16At(b[82:])
	is := 0
	for n := 0; n < 256; n += 128 {
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				sc := scales[is]
				is++
				dl := d * float32(sc&0xf)
				ml := dmin * float32(sc>>4)
				for l := 0; l < 16; l++ {
					y[0] = float32(dl*float32((q[16*half+l]>>shift)&3)) - ml
					y = y[1:]
				}
			}
		}
		q = q[32:]
	}
}

// q3Scales unpacks Q3_K's twelve bytes of 6-bit scales (stored +32).
func q3Scales(b []byte) (sc [16]int32) {
	for k := 0; k < 16; k++ {
		low := (b[k%8] >> (4 * (k / 8))) & 0xf
		hi := (b[8+k%4] >> (2 * (k / 4))) & 3
		sc[k] = int32(low|hi<<4) - 32
	}
	return sc
}

func dequantQ3_K(b []byte, y []float32) {
	hm := b[0:32]
	q := b[32:96]
	sc := q3Scales(b[96:108])
	d := f16At(b[108:])
	is := 0
	m := byte(1)
	for n := 0; n < 256; n += 128 {
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				dl := d * float32(sc[is])
				is++
				for l := 16 * half; l < 16*half+16; l++ {
					v := int32((q[l] >> shift) & 3)
					if hm[l]&m == 0 {
						v -= 4
					}
					y[0] = dl * float32(v)
					y = y[1:]
				}
			}
			m <<= 1
		}
		q = q[32:]
	}
}

// scaleMinK4 is ggml's get_scale_min_k4: the 6-bit scale and min of
// sub-block j of a Q4_K/Q5_K super-block.
func scaleMinK4(j int, s []byte) (sc, mn uint8) {
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&0xf | (s[j-4]>>6)<<4, s[j+4]>>4 | (s[j]>>6)<<4
}

func dequantQ4_K(b []byte, y []float32) {
	d, dmin := f16At(b), f16At(b[2:])
	scales := b[4:16]
	q := b[16:144]
	for j := 0; j < 8; j += 2 {
		sc, mn := scaleMinK4(j, scales)
		d1, m1 := d*float32(sc), dmin*float32(mn)
		sc, mn = scaleMinK4(j+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(mn)
		for l := 0; l < 32; l++ {
			y[l] = float32(d1*float32(q[l]&0xf)) - m1
		}
		for l := 0; l < 32; l++ {
			y[32+l] = float32(d2*float32(q[l]>>4)) - m2
		}
		y = y[64:]
		q = q[32:]
	}
}

func dequantQ5_K(b []byte, y []float32) {
	d, dmin := f16At(b), f16At(b[2:])
	scales := b[4:16]
	qh := b[16:48]
	ql := b[48:176]
	u1, u2 := byte(1), byte(2)
	for j := 0; j < 8; j += 2 {
		sc, mn := scaleMinK4(j, scales)
		d1, m1 := d*float32(sc), dmin*float32(mn)
		sc, mn = scaleMinK4(j+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(mn)
		for l := 0; l < 32; l++ {
			v := ql[l] & 0xf
			if qh[l]&u1 != 0 {
				v += 16
			}
			y[l] = float32(d1*float32(v)) - m1
		}
		for l := 0; l < 32; l++ {
			v := ql[l] >> 4
			if qh[l]&u2 != 0 {
				v += 16
			}
			y[32+l] = float32(d2*float32(v)) - m2
		}
		y = y[64:]
		ql = ql[32:]
		u1 <<= 2
		u2 <<= 2
	}
}

func dequantQ6_K(b []byte, y []float32) {
	ql := b[0:128]
	qh := b[128:192]
	sc := b[192:208]
	d := f16At(b[208:])
	for n := 0; n < 256; n += 128 {
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int32(ql[l]&0xf|(qh[l]>>0&3)<<4) - 32
			q2 := int32(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			q3 := int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			y[l] = float32(d*float32(int8(sc[is+0]))) * float32(q1)
			y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		y = y[128:]
		ql = ql[64:]
		qh = qh[32:]
		sc = sc[8:]
	}
}

func dequantQ8_K(b []byte, y []float32) {
	d := math.Float32frombits(le32(b))
	for j, q := range b[4:260] {
		y[j] = d * float32(int8(q))
	}
}
