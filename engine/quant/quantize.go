package quant

import (
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// CanQuantize reports whether QuantizeRow writes t.
func CanQuantize(t gguf.Type) bool {
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.Q8_0, gguf.Q8_1, gguf.Q8_K:
		return true
	}
	return false
}

// QuantizeRow encodes src as type t into dst with llama.cpp's reference
// quantizers (quantize_row_*_ref in ggml-quants.c, which llama-quantize
// uses without an importance matrix), so the bytes equal what llama.cpp
// writes. len(src) must be a multiple of the block size and dst must hold
// t.RowSize(len(src)) bytes (it may be longer).
func QuantizeRow(t gguf.Type, src []float32, dst []byte) error {
	if !CanQuantize(t) {
		return fmt.Errorf("%w: %s (quantize)", ErrType, t)
	}
	need, err := checkLengths(t, len(src), len(dst))
	if err != nil {
		return err
	}
	dst = dst[:need]
	switch t {
	case gguf.F32:
		for i, v := range src {
			putLE32(dst[4*i:], math.Float32bits(v))
		}
	case gguf.F16:
		for i, v := range src {
			putLE16(dst[2*i:], F32ToF16(v))
		}
	case gguf.BF16:
		for i, v := range src {
			putLE16(dst[2*i:], F32ToBF16(v))
		}
	case gguf.Q8_K:
		var qs [256]int8
		var bsums [16]int16
		for b := 0; b < len(src)/256; b++ {
			blk := dst[292*b : 292*b+292]
			putLE32(blk, math.Float32bits(quantizeQ8K(src[256*b:], qs[:], bsums[:])))
			for j, q := range qs {
				blk[4+j] = byte(q)
			}
			for g, s := range bsums {
				putLE16(blk[260+2*g:], uint16(s))
			}
		}
	default:
		bs, ts := int(t.BlockSize()), int(t.TypeSize())
		enc := blockEncoders[t]
		for b := 0; b < len(src)/bs; b++ {
			enc(src[b*bs:(b+1)*bs], dst[b*ts:(b+1)*ts])
		}
	}
	return nil
}

func putLE16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

var blockEncoders = map[gguf.Type]func(x []float32, y []byte){
	gguf.Q4_0: quantQ4_0,
	gguf.Q4_1: quantQ4_1,
	gguf.Q5_0: quantQ5_0,
	gguf.Q5_1: quantQ5_1,
	gguf.Q8_0: quantQ8_0,
	gguf.Q8_1: quantQ8_1,
}

// signedMax returns the value of largest magnitude (the first on ties), as
// the symmetric ggml quantizers pick it.
func signedMax(x []float32) float32 {
	var amax, m float32
	for _, v := range x {
		if amax < abs32(v) {
			amax, m = abs32(v), v
		}
	}
	return m
}

func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// inv is ggml's `d ? 1.0f/d : 0.0f`.
func inv(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// C's float → int8_t/uint8_t conversions truncate toward zero, as Go's do;
// the values are always in range here. Each float32(...) is one C
// expression's rounding.

func quantQ4_0(x []float32, y []byte) {
	d := signedMax(x) / -8
	id := inv(d)
	putLE16(y, F32ToF16(d))
	for j := 0; j < 16; j++ {
		x0, x1 := float32(x[j]*id), float32(x[16+j]*id)
		xi0 := min(15, int8(float32(x0+8.5)))
		xi1 := min(15, int8(float32(x1+8.5)))
		y[2+j] = byte(xi0) | byte(xi1)<<4
	}
}

func quantQ4_1(x []float32, y []byte) {
	lo, hi := minMax(x)
	d := (hi - lo) / 15
	id := inv(d)
	putLE16(y, F32ToF16(d))
	putLE16(y[2:], F32ToF16(lo))
	for j := 0; j < 16; j++ {
		x0, x1 := float32((x[j]-lo)*id), float32((x[16+j]-lo)*id)
		xi0 := min(15, int8(float32(x0+0.5)))
		xi1 := min(15, int8(float32(x1+0.5)))
		y[4+j] = byte(xi0) | byte(xi1)<<4
	}
}

func quantQ5_0(x []float32, y []byte) {
	d := signedMax(x) / -16
	id := inv(d)
	putLE16(y, F32ToF16(d))
	var qh uint32
	for j := 0; j < 16; j++ {
		x0, x1 := float32(x[j]*id), float32(x[16+j]*id)
		xi0 := byte(min(31, int8(float32(x0+16.5))))
		xi1 := byte(min(31, int8(float32(x1+16.5))))
		y[6+j] = xi0&0xf | (xi1&0xf)<<4
		qh |= uint32(xi0&0x10)>>4<<j | uint32(xi1&0x10)>>4<<(j+16)
	}
	putLE32(y[2:], qh)
}

func quantQ5_1(x []float32, y []byte) {
	lo, hi := minMax(x)
	d := (hi - lo) / 31
	id := inv(d)
	putLE16(y, F32ToF16(d))
	putLE16(y[2:], F32ToF16(lo))
	var qh uint32
	for j := 0; j < 16; j++ {
		x0, x1 := float32((x[j]-lo)*id), float32((x[16+j]-lo)*id)
		xi0, xi1 := uint8(float32(x0+0.5)), uint8(float32(x1+0.5))
		y[8+j] = xi0&0xf | (xi1&0xf)<<4
		qh |= uint32(xi0&0x10)>>4<<j | uint32(xi1&0x10)>>4<<(j+16)
	}
	putLE32(y[4:], qh)
}

// roundAway is C's roundf: half away from zero.
func roundAway(v float32) int8 { return int8(math.Round(float64(v))) }

func quantQ8_0(x []float32, y []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	id := inv(d)
	putLE16(y, F32ToF16(d))
	for j, v := range x {
		y[2+j] = byte(roundAway(float32(v * id)))
	}
}

// quantQ8_1 is quantize_row_q8_1_ref (the scalar build's activation
// format; the engine's activations use the x86 rule instead, see Act).
func quantQ8_1(x []float32, y []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	id := inv(d)
	putLE16(y, F32ToF16(d))
	var sum int32
	for j, v := range x {
		q := roundAway(float32(v * id))
		y[4+j] = byte(q)
		sum += int32(q)
	}
	putLE16(y[2:], F32ToF16(float32(sum)*d))
}
