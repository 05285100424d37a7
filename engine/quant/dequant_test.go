package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// blockOf builds one block of type t: zero bytes with the given bytes set.
func blockOf(t gguf.Type, set map[int]byte) []byte {
	b := make([]byte, t.TypeSize())
	for i, v := range set {
		b[i] = v
	}
	return b
}

// TestDequantizeHand decodes small blocks whose values are worked out by
// hand from the layouts in gguf-and-quants.md §2.
func TestDequantizeHand(t *testing.T) {
	q40 := blockOf(gguf.Q4_0, map[int]byte{0: 0x00, 1: 0x38}) // d = 0.5
	for j := 0; j < 16; j++ {
		q40[2+j] = byte(j) | byte(15-j)<<4
	}
	q41 := blockOf(gguf.Q4_1, map[int]byte{1: 0x38, 3: 0xbc}) // d = 0.5, m = -1
	copy(q41[4:], q40[2:18])
	q51 := blockOf(gguf.Q5_1, map[int]byte{1: 0x34, 3: 0x3c}) // d = 0.25, m = 1
	for i := 4; i < 24; i++ {
		q51[i] = 0xff
	}
	q3 := blockOf(gguf.Q3_K, map[int]byte{
		0:      0x01, // hmask[0]: bit 0 set → element 0 has its high bit
		32:     0x03, // qs[0]: element 0 low bits 3, element 32 low bits 0
		96 + 0: 0x05, // scales: sc[0] = (5 | 2<<4) - 32 = 5
		96 + 8: 0x02,
		109:    0x3c, // d = 1
	})
	tests := []struct {
		name string
		typ  gguf.Type
		blk  []byte
		want map[int]float32 // element → value
	}{
		{"Q4_0 d=.5, q[j]=j, q[j+16]=15-j", gguf.Q4_0, q40,
			map[int]float32{0: -4, 1: -3.5, 15: 3.5, 16: 3.5, 31: -4, 23: 0}},
		{"Q4_1 d=.5 m=-1", gguf.Q4_1, q41,
			map[int]float32{0: -1, 15: 6.5, 16: 6.5, 31: -1}},
		{"Q5_0 d=1, qh bits 0 and 31", gguf.Q5_0, blockOf(gguf.Q5_0, map[int]byte{1: 0x3c, 2: 0x01, 5: 0x80, 6 + 15: 0xf0}),
			map[int]float32{0: 0, 1: -16, 15: -16, 16: -16, 31: 15}},
		{"Q5_1 all ones", gguf.Q5_1, q51, map[int]float32{0: 8.75, 17: 8.75, 31: 8.75}},
		{"Q8_0 d=2", gguf.Q8_0, blockOf(gguf.Q8_0, map[int]byte{1: 0x40, 2: 0x80, 3: 0x7f, 5: 0x01}),
			map[int]float32{0: -256, 1: 254, 2: 0, 3: 2}},
		{"Q2_K", gguf.Q2_K, blockOf(gguf.Q2_K, map[int]byte{
			0: 0x21, 2: 0x03, 4: 0x10, 6: 0xff, // scales (low nibble scale, high min)
			16: 0xe4, // qs[0] = 3,2,1,0 in bit pairs 6..0
			81: 0x3c, // d = 1
			83: 0x38, // dmin = 0.5
		}), map[int]float32{0: -1, 32: 3, 64: -0.5, 96: 37.5, 1: -1, 16: 0}},
		{"Q3_K", gguf.Q3_K, q3, map[int]float32{0: 15, 32: 128, 128: 128, 16: 128}},
		{"Q4_K", gguf.Q4_K, blockOf(gguf.Q4_K, map[int]byte{
			1: 0x3c, 3: 0x3c, // d = dmin = 1
			4 + 0: 0xc3, 4 + 4: 0x02, 4 + 8: 0x71, // sc0=3 mn0=2; sc4=1|3<<4=49, mn4=7|0=7
			16 + 0: 0x5a, 16 + 64: 0x0f,
		}), map[int]float32{0: 28, 32: 0, 128: 728, 1: -2}},
		{"Q5_K", gguf.Q5_K, blockOf(gguf.Q5_K, map[int]byte{
			1: 0x3c, 3: 0x3c,
			4 + 0: 0xc3, 4 + 4: 0x02, 4 + 8: 0x71,
			16 + 0: 0x01, // qh[0] bit 0: element 0 +16
			48 + 0: 0x5a, 48 + 64: 0x0f,
		}), map[int]float32{0: 76, 32: 0, 128: 728, 1: -2}},
		{"Q6_K", gguf.Q6_K, blockOf(gguf.Q6_K, map[int]byte{
			0: 0x21, 128: 0x03, 192: 0xfe, 192 + 4: 3, 209: 0x38, // d = 0.5
		}), map[int]float32{0: -17, 64: -45, 1: 32}},
		{"Q8_K", gguf.Q8_K, blockOf(gguf.Q8_K, map[int]byte{3: 0x3e, 4: 0x80, 259: 0x7f}), // d = 0.125
			map[int]float32{0: -16, 255: 15.875, 1: 0}},
		{"F16", gguf.F16, []byte{0x00, 0x3c, 0x01, 0x00}, map[int]float32{0: 1, 1: float32(math.Ldexp(1, -24))}},
		{"BF16", gguf.BF16, []byte{0xc0, 0x3f}, map[int]float32{0: 1.5}},
		{"F32", gguf.F32, []byte{0, 0, 0xc0, 0xbf}, map[int]float32{0: -1.5}},
	}
	for _, tt := range tests {
		n := len(tt.blk) / int(tt.typ.TypeSize()) * int(tt.typ.BlockSize())
		got := make([]float32, n)
		if err := Dequantize(tt.typ, tt.blk, got); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for i, w := range tt.want {
			if got[i] != w {
				t.Errorf("%s: Dequantize[%d] = %v, want %v", tt.name, i, got[i], w)
			}
		}
	}
}

// refDequant decodes one block with the index formulas of
// gguf-and-quants.md §2.2, written independently of the ggml-shaped loops
// in dequant.go.
func refDequant(t gguf.Type, b []byte, i int) float32 {
	h := func(off int) float32 { return F16ToF32(uint16(b[off]) | uint16(b[off+1])<<8) }
	switch t {
	case gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1:
		qoff := map[gguf.Type]int{gguf.Q4_0: 2, gguf.Q4_1: 4, gguf.Q5_0: 6, gguf.Q5_1: 8}[t]
		q := int(b[qoff+i%16])
		if i < 16 {
			q &= 0xf
		} else {
			q >>= 4
		}
		if t == gguf.Q5_0 || t == gguf.Q5_1 {
			hoff := map[gguf.Type]int{gguf.Q5_0: 2, gguf.Q5_1: 4}[t]
			qh := uint32(b[hoff]) | uint32(b[hoff+1])<<8 | uint32(b[hoff+2])<<16 | uint32(b[hoff+3])<<24
			q |= int(qh>>i&1) << 4
		}
		switch t {
		case gguf.Q4_0:
			return float32(q-8) * h(0)
		case gguf.Q5_0:
			return float32(q-16) * h(0)
		}
		return float32(float32(q)*h(0)) + h(2)
	case gguf.Q8_0:
		return float32(int8(b[2+i])) * h(0)
	case gguf.Q2_K:
		hh, j, l := i/128, i%128/32, i%32
		q := b[16+32*hh+l] >> (2 * j) & 3
		sc := b[i/16]
		return float32(float32(h(80)*float32(sc&0xf))*float32(q)) - float32(h(82)*float32(sc>>4))
	case gguf.Q3_K:
		k := i / 16
		low := b[96+k%8] >> (4 * (k / 8)) & 0xf
		hi := b[96+8+k%4] >> (2 * (k / 4)) & 3
		sc := int(low|hi<<4) - 32
		hh, j, l := i/128, i%128/32, i%32
		q := int(b[32+32*hh+l] >> (2 * j) & 3)
		if b[l]>>(4*hh+j)&1 == 0 {
			q -= 4
		}
		return float32(h(108)*float32(sc)) * float32(q)
	case gguf.Q4_K, gguf.Q5_K:
		s := i / 32
		sb := b[4:16]
		var sc, mn int
		if s < 4 {
			sc, mn = int(sb[s]&63), int(sb[s+4]&63)
		} else {
			sc = int(sb[s+4]&0xf) | int(sb[s-4]>>6)<<4
			mn = int(sb[s+4]>>4) | int(sb[s]>>6)<<4
		}
		g, l := i/64, i%64
		qoff := 16
		if t == gguf.Q5_K {
			qoff = 48
		}
		q := int(b[qoff+32*g+l%32])
		if l < 32 {
			q &= 0xf
		} else {
			q >>= 4
		}
		if t == gguf.Q5_K {
			q += 16 * int(b[16+i%32]>>(i/32)&1)
		}
		return float32(float32(h(0)*float32(sc))*float32(q)) - float32(h(2)*float32(mn))
	case gguf.Q6_K:
		hh, r := i/128, i%128
		k, l := r/32, r%32
		lo := int(b[64*hh+32*(k&1)+l])
		if k < 2 {
			lo &= 0xf
		} else {
			lo >>= 4
		}
		hi := int(b[128+32*hh+l] >> (2 * k) & 3)
		q := lo | hi<<4 - 32
		return float32(h(208)*float32(int8(b[192+i/16]))) * float32(q)
	case gguf.Q8_K:
		return math.Float32frombits(le32(b)) * float32(int8(b[4+i]))
	}
	panic("refDequant: " + t.String())
}

// f16Edges are binary16 scale values a block may carry: zeros, the
// smallest and largest subnormal, the smallest normal, the largest finite,
// infinities, NaN and ordinary values.
var f16Edges = []uint16{0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0xb800}

// randomBlock fills a block with random bytes, then with probability 1/2
// sets every binary16 field to an edge value, and with probability 1/8
// sets all quant bytes to 0x00 or 0xff (min/max quants).
func randomBlock(rng *rand.Rand, t gguf.Type) []byte {
	b := make([]byte, t.TypeSize())
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	fields := map[gguf.Type][]int{
		gguf.Q4_0: {0}, gguf.Q4_1: {0, 2}, gguf.Q5_0: {0}, gguf.Q5_1: {0, 2}, gguf.Q8_0: {0},
		gguf.Q2_K: {80, 82}, gguf.Q3_K: {108}, gguf.Q4_K: {0, 2}, gguf.Q5_K: {0, 2}, gguf.Q6_K: {208},
	}[t]
	for _, off := range fields {
		var h uint16
		if rng.IntN(2) == 0 {
			h = f16Edges[rng.IntN(len(f16Edges))]
		} else {
			h = uint16(0x1000+rng.IntN(0x2000)) | uint16(rng.IntN(2))<<15 // 2^-12 .. 2^-4
		}
		putLE16(b[off:], h)
	}
	if t == gguf.Q8_K {
		ds := []float32{0, 1e-3, -2.5e-2, float32(math.Ldexp(1, -140)), math.MaxFloat32, float32(math.Inf(1))}
		putLE32(b, math.Float32bits(ds[rng.IntN(len(ds))]))
	}
	if rng.IntN(8) == 0 {
		fill := byte(0)
		if rng.IntN(2) == 0 {
			fill = 0xff
		}
		for i := range b {
			if !contains(fields, i) && !contains(fields, i-1) && !(t == gguf.Q8_K && i < 4) {
				b[i] = fill
			}
		}
	}
	return b
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

var quantTypes = []gguf.Type{gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.Q8_0,
	gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K, gguf.Q8_K}

func TestDequantizeDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range quantTypes {
		bs := int(typ.BlockSize())
		for iter := 0; iter < 400; iter++ {
			blk := randomBlock(rng, typ)
			got := make([]float32, bs)
			if err := Dequantize(typ, blk, got); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if want := refDequant(typ, blk, i); !sameFloat(got[i], want) {
					t.Fatalf("%s block %x: Dequantize[%d] = %v, want %v", typ, blk, i, got[i], want)
				}
			}
		}
	}
}

func TestDequantizeErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  gguf.Type
		src  int
		dst  int
		want error
	}{
		{"not a block multiple", gguf.Q4_0, 18, 31, ErrLength},
		{"short source", gguf.Q6_K, 209, 256, ErrLength},
		{"no dequantizer", gguf.IQ2_XXS, 66, 256, ErrType},
		{"Q8_1 has none in ggml", gguf.Q8_1, 36, 32, ErrType},
		{"invalid id", gguf.Type(99), 4, 1, ErrType},
	}
	for _, tt := range tests {
		err := Dequantize(tt.typ, make([]byte, tt.src), make([]float32, tt.dst))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Dequantize = %v, want %v", tt.name, err, tt.want)
		}
	}
}
