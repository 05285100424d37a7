package quant

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// refInt returns element i's integer quant of a weight block and the index
// of the group whose scale multiplies it, from the §2.2 index formulas.
func refInt(t gguf.Type, b []byte, i int) (q int32, group int) {
	switch t {
	case gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1:
		qoff := map[gguf.Type]int{gguf.Q4_0: 2, gguf.Q4_1: 4, gguf.Q5_0: 6, gguf.Q5_1: 8}[t]
		v := int32(b[qoff+i%16])
		if i < 16 {
			v &= 0xf
		} else {
			v >>= 4
		}
		switch t {
		case gguf.Q5_0, gguf.Q5_1:
			hoff := map[gguf.Type]int{gguf.Q5_0: 2, gguf.Q5_1: 4}[t]
			v |= int32(b[hoff+i/8]>>(i%8)&1) << 4
		}
		switch t {
		case gguf.Q4_0:
			v -= 8
		case gguf.Q5_0:
			v -= 16
		}
		return v, 0
	case gguf.Q8_0:
		return int32(int8(b[2+i])), 0
	case gguf.Q2_K:
		return int32(b[16+32*(i/128)+i%32] >> (2 * (i % 128 / 32)) & 3), i / 16
	case gguf.Q3_K:
		hh, j, l := i/128, i%128/32, i%32
		v := int32(b[32+32*hh+l] >> (2 * j) & 3)
		if b[l]>>(4*hh+j)&1 == 0 {
			v -= 4
		}
		return v, i / 16
	case gguf.Q4_K, gguf.Q5_K:
		g, l := i/64, i%64
		qoff := map[gguf.Type]int{gguf.Q4_K: 16, gguf.Q5_K: 48}[t]
		v := int32(b[qoff+32*g+l%32])
		if l < 32 {
			v &= 0xf
		} else {
			v >>= 4
		}
		if t == gguf.Q5_K {
			v += 16 * int32(b[16+i%32]>>(i/32)&1)
		}
		return v, i / 32
	case gguf.Q6_K:
		hh, r := i/128, i%128
		k, l := r/32, r%32
		lo := int32(b[64*hh+32*(k&1)+l])
		if k < 2 {
			lo &= 0xf
		} else {
			lo >>= 4
		}
		return lo | int32(b[128+32*hh+l]>>(2*k)&3)<<4 - 32, i / 16
	}
	panic(t)
}

// refKScales returns the integer group scales and mins of a K-quant block.
func refKScales(t gguf.Type, b []byte) (sc, mn []int32) {
	switch t {
	case gguf.Q2_K:
		for g := 0; g < 16; g++ {
			sc, mn = append(sc, int32(b[g]&0xf)), append(mn, int32(b[g]>>4))
		}
	case gguf.Q3_K:
		for k := 0; k < 16; k++ {
			low := b[96+k%8] >> (4 * (k / 8)) & 0xf
			hi := b[96+8+k%4] >> (2 * (k / 4)) & 3
			sc = append(sc, int32(low|hi<<4)-32)
		}
	case gguf.Q4_K, gguf.Q5_K:
		s := b[4:16]
		for j := 0; j < 8; j++ {
			if j < 4 {
				sc, mn = append(sc, int32(s[j]&63)), append(mn, int32(s[j+4]&63))
			} else {
				sc = append(sc, int32(s[j+4]&0xf|(s[j-4]>>6)<<4))
				mn = append(mn, int32(s[j+4]>>4|(s[j]>>6)<<4))
			}
		}
	case gguf.Q6_K:
		for g := 0; g < 16; g++ {
			sc = append(sc, int32(int8(b[192+g])))
		}
	}
	return sc, mn
}

// refDot is the plain reference of every vec_dot kernel, written from
// the index formulas and ggml's AVX2 code (see doc.go): integer quants
// from refInt, exact integer lane sums, the float operations of ggml in
// its order, fused multiply-adds as refFMA.
func refDot(t gguf.Type, row []byte, a *Act) float32 {
	h := func(b []byte, off int) float32 { return F16ToF32(uint16(b[off]) | uint16(b[off+1])<<8) }
	hsum := func(v []float32) float32 { return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7])) }
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16:
		w := refWeights(t, row, a.n)
		np := a.n / 32 * 32
		var lanes [32]float32
		for i := 0; i < np; i++ {
			lanes[i%32] = refFMA(w[i], a.f[i], lanes[i%32])
		}
		var v [8]float32
		for i := 0; i < 8; i++ {
			v[i] = (lanes[i] + lanes[16+i]) + (lanes[8+i] + lanes[24+i])
		}
		if t == gguf.F32 {
			r := ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]))
			for i := np; i < a.n; i++ {
				r = refFMA(w[i], a.f[i], r)
			}
			return r
		}
		var r float64
		if t == gguf.F16 {
			r = float64(((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])))
		} else {
			r = float64(hsum(v[:]))
		}
		for i := np; i < a.n; i++ {
			r += float64(w[i] * a.f[i])
		}
		return float32(r)
	case gguf.Q4_0, gguf.Q5_0, gguf.Q8_0, gguf.Q4_1, gguf.Q5_1:
		ts := int(t.TypeSize())
		var acc [8]float32
		var summs float32
		for blk := 0; blk < a.n/32; blk++ {
			b := row[ts*blk:]
			d := h(b, 0) * a.d[blk]
			for k := 0; k < 8; k++ {
				var lane int32
				for i := 4 * k; i < 4*k+4; i++ {
					q, _ := refInt(t, b, i)
					lane += q * int32(a.qs[32*blk+i])
				}
				acc[k] = refFMA(d, float32(lane), acc[k])
			}
			if t == gguf.Q4_1 || t == gguf.Q5_1 {
				summs = summs + h(b, 2)*a.s[blk]
			}
		}
		return hsum(acc[:]) + summs
	}
	ts := int(t.TypeSize())
	var acc [8]float32
	var accm [4]float32
	var summs float32
	for blk := 0; blk < a.n/256; blk++ {
		b := row[ts*blk:]
		sc, mn := refKScales(t, b)
		dy := a.d[blk]
		bs := a.bsums[16*blk:]
		var dx, dminx float32
		switch t {
		case gguf.Q2_K:
			dx, dminx = h(b, 80), h(b, 82)
		case gguf.Q3_K:
			dx = h(b, 108)
		case gguf.Q6_K:
			dx = h(b, 208)
		default:
			dx, dminx = h(b, 0), h(b, 2)
		}
		d, dmin := dy*dx, -dy*dminx
		switch t {
		case gguf.Q2_K:
			for l := 0; l < 8; l++ {
				acc[l] = refFMA(dmin, float32(mn[2*l]*int32(bs[2*l])+mn[2*l+1]*int32(bs[2*l+1])), acc[l])
			}
		case gguf.Q4_K, gguf.Q5_K:
			var all int32
			for l := 0; l < 4; l++ {
				prod := mn[2*l]*(int32(bs[4*l])+int32(bs[4*l+1])) + mn[2*l+1]*(int32(bs[4*l+2])+int32(bs[4*l+3]))
				accm[l] = refFMA(dmin, float32(prod), accm[l])
				all += prod
			}
			if t == gguf.Q5_K {
				summs = refFMA(dmin, float32(all), summs)
			}
		}
		for k := 0; k < 8; k++ {
			var sumi int32
			for c := 0; c < 8; c++ {
				var part int32
				var scale int32
				for i := 32*c + 4*k; i < 32*c+4*k+4; i++ {
					q, g := refInt(t, b, i)
					part += q * int32(a.qs[256*blk+i])
					scale = sc[g]
				}
				sumi += scale * part
			}
			acc[k] = refFMA(d, float32(sumi), acc[k])
		}
	}
	switch t {
	case gguf.Q4_K:
		return hsum(acc[:]) + ((accm[0] + accm[2]) + (accm[1] + accm[3]))
	case gguf.Q5_K:
		return hsum(acc[:]) + summs
	}
	return hsum(acc[:])
}

// refTiny is tinyBLAS's order for float weights: lane i%8, fused
// multiply-adds, hsum8.
func refTiny(t gguf.Type, row []byte, a *Act) float32 {
	w := refWeights(t, row, a.n)
	var l [8]float32
	for i := range w {
		l[i%8] = refFMA(w[i], a.f[i], l[i%8])
	}
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// refRepack is the repacked Q4_0 gemv: one fused accumulator per row.
func refRepack(row []byte, a *Act) float32 {
	var acc float32
	for blk := 0; blk < a.n/32; blk++ {
		b := row[18*blk:]
		var s int32
		for i := 0; i < 32; i++ {
			q, _ := refInt(gguf.Q4_0, b, i)
			s += q * int32(a.qs[32*blk+i])
		}
		acc = refFMA(float32(s), F16ToF32(le16(b))*a.d[blk], acc)
	}
	return acc
}

func refWeights(t gguf.Type, row []byte, n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		switch t {
		case gguf.F32:
			w[i] = math.Float32frombits(le32(row[4*i:]))
		case gguf.F16:
			w[i] = F16ToF32(le16(row[2*i:]))
		default:
			w[i] = BF16ToF32(le16(row[2*i:]))
		}
	}
	return w
}

// refFMA is a·b+c rounded once to float32, from exact arithmetic.
func refFMA(a, b, c float32) float32 {
	if isInfOrNaN(a) || isInfOrNaN(b) || isInfOrNaN(c) {
		return float32(float64(a)*float64(b) + float64(c))
	}
	x := new(big.Float).SetPrec(1100).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(1100).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(1100).SetFloat64(float64(c)))
	if x.Sign() == 0 {
		// An exact zero: float64 gets its sign right.
		return float32(float64(a)*float64(b) + float64(c))
	}
	f, _ := x.Float32()
	return f
}

func isInfOrNaN(v float32) bool { return v != v || math.IsInf(float64(v), 0) }

var dotTypes = []gguf.Type{gguf.F32, gguf.F16, gguf.BF16, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.Q8_0,
	gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K}

// randomRow builds a row of n elements of t: random blocks with edge
// values for quantized types, random or special floats for float types.
func randomRow(rng *rand.Rand, t gguf.Type, n int, special bool) []byte {
	var row []byte
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16:
		for i := 0; i < n; i++ {
			v := float32(rng.NormFloat64() * 0.05)
			if special && rng.IntN(16) == 0 {
				v = []float32{0, float32(math.Inf(1)), float32(math.Ldexp(1, -20)), 65504, 1e-30, -3e38}[rng.IntN(6)]
			}
			switch t {
			case gguf.F32:
				row = appendLE32(row, math.Float32bits(v))
			case gguf.F16:
				h := F32ToF16(v)
				if special && rng.IntN(16) == 0 {
					h = f16Edges[rng.IntN(len(f16Edges))]
				}
				row = append(row, byte(h), byte(h>>8))
			default:
				h := F32ToBF16(v)
				row = append(row, byte(h), byte(h>>8))
			}
		}
		return row
	}
	for b := 0; b < n/int(t.BlockSize()); b++ {
		blk := randomBlock(rng, t)
		if !special {
			// An ordinary scale, so the float64 comparison is meaningful.
			for _, off := range map[gguf.Type][]int{gguf.Q4_0: {0}, gguf.Q4_1: {0, 2}, gguf.Q5_0: {0}, gguf.Q5_1: {0, 2}, gguf.Q8_0: {0},
				gguf.Q2_K: {80, 82}, gguf.Q3_K: {108}, gguf.Q4_K: {0, 2}, gguf.Q5_K: {0, 2}, gguf.Q6_K: {208}}[t] {
				putLE16(blk[off:], F32ToF16(float32(rng.Float64()*0.01)))
			}
		}
		row = append(row, blk...)
	}
	return row
}

// TestDotDifferential compares the active kernels (assembly on amd64) and
// the portable ones with refDot, bit for bit, over random rows whose
// lengths exercise every tail (1-9 blocks, 1-5 super-blocks, float rows
// of 1-300 elements).
func TestDotDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, typ := range dotTypes {
		for iter := 0; iter < 300; iter++ {
			bs := int(typ.BlockSize())
			var n int
			switch {
			case bs == 1:
				n = 1 + rng.IntN(300)
			case bs == 32:
				n = 32 * (1 + rng.IntN(9))
			default:
				n = 256 * (1 + rng.IntN(5))
			}
			special := iter%2 == 1
			row := randomRow(rng, typ, n, special)
			x := randomActivation(rng, (n+255)/256*256)[:n]
			var a Act
			a.Set(typ, x)
			want := refDot(typ, row, &a)
			if got := DotRow(typ, row, &a); !sameFloat(got, want) {
				t.Fatalf("%s n=%d: DotRow = %v (%#08x), reference %v (%#08x) [%s]", typ, n, got, math.Float32bits(got), want, math.Float32bits(want), SIMD())
			}
			if got := generic[typ](row, &a); !sameFloat(got, want) {
				t.Fatalf("%s n=%d: portable kernel = %v, reference %v", typ, n, got, want)
			}
			switch typ {
			case gguf.Q4_0:
				want := refRepack(row, &a)
				if got := repackQ4_0(row, &a); !sameFloat(got, want) {
					t.Fatalf("repacked Q4_0 n=%d: %v [%s], reference %v", n, got, SIMD(), want)
				}
				if got := dotQ4_0RepackGeneric(row, &a); !sameFloat(got, want) {
					t.Fatalf("repacked Q4_0 n=%d: portable %v, reference %v", n, got, want)
				}
			case gguf.F32, gguf.F16, gguf.BF16:
				if n%8 == 0 {
					want := refTiny(typ, row, &a)
					if got := tinyKernels[typ](row, &a); !sameFloat(got, want) {
						t.Fatalf("tinyBLAS %s n=%d: %v [%s], reference %v", typ, n, got, SIMD(), want)
					}
					if got := tinyGeneric[typ](row, &a); !sameFloat(got, want) {
						t.Fatalf("tinyBLAS %s n=%d: portable %v, reference %v", typ, n, got, want)
					}
				}
			}
			if special {
				continue
			}
			// Sanity against float64 math on the dequantized operands.
			w := make([]float32, n)
			if err := Dequantize(typ, row, w); err != nil {
				t.Fatal(err)
			}
			av := actValues(t, &a)
			var exact, mag float64
			for i := range w {
				exact += float64(w[i]) * float64(av[i])
				mag += math.Abs(float64(w[i]) * float64(av[i]))
			}
			if a.kind == gguf.Q8_1 {
				// ggml's s is d·Σqs rounded to binary16: the min term
				// carries that rounding (2^-11 relative).
				for b := 0; b < n/32; b++ {
					mag += 100 * math.Abs(float64(F16ToF32(le16(row[int(typ.TypeSize())*b+2:]))*a.s[b]))
				}
			}
			if math.Abs(float64(want)-exact) > 1e-5*mag+1e-30 {
				t.Fatalf("%s n=%d: dot %v, float64 %v (Σ|xy| %v)", typ, n, want, exact, mag)
			}
		}
	}
}

// actValues dequantizes an activation (its ggml blocks) to float32.
func actValues(t *testing.T, a *Act) []float32 {
	t.Helper()
	out := make([]float32, a.n)
	switch a.kind {
	case gguf.F32, gguf.F16, gguf.BF16:
		copy(out, a.f)
	case gguf.Q8_1:
		for i := range out {
			out[i] = float32(a.qs[i]) * a.d[i/32]
		}
	default:
		if err := Dequantize(a.kind, a.AppendBlocks(nil), out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDotHand checks small dot products worked out by hand.
func TestDotHand(t *testing.T) {
	ones := make([]float32, 32)
	for i := range ones {
		ones[i] = 1
	}
	// Q8_0 × Q8_0: weights d = 0.5 with quants 0..31 against the
	// activation all ones (amax 1 → d = 1/127 rounded to binary16,
	// qs = 127): sumi = 127·496 = 62992; d = 0.5·f16(1/127).
	q80 := make([]byte, 34)
	putLE16(q80, 0x3800)
	for j := 0; j < 32; j++ {
		q80[2+j] = byte(j)
	}
	dy := F16ToF32(F32ToF16(float32(1) / 127))
	// Q4_0 with d = 1, low nibbles 8+1 (→ +1), high nibbles 0 (→ -8):
	// sumi = 127·(16·1 + 16·(-8)) = -14224.
	q40 := make([]byte, 18)
	putLE16(q40, 0x3c00)
	for j := 0; j < 16; j++ {
		q40[2+j] = 9
	}
	// Q4_1 with d = 1, m = 2, all nibbles 1: Σq·y = 127·32 = 4064,
	// plus m·s with s = f16(d_f32·Σqs) = f16(32·127/127) = 32.
	q41 := make([]byte, 20)
	putLE16(q41, 0x3c00)
	putLE16(q41[2:], 0x4000)
	for j := 0; j < 16; j++ {
		q41[4+j] = 0x11
	}
	// F16 weights 1.5 against 0.1 rounded to binary16 (0x2e66,
	// 0.0999755859375): 32 equal products, summed exactly.
	f16row := make([]byte, 64)
	tenths := make([]float32, 32)
	for i := range tenths {
		putLE16(f16row[2*i:], 0x3e00)
		tenths[i] = 0.1
	}
	// Q6_K: every quant 1 (ql nibbles 1, qh 0 → 1|0<<4 - 32 = -31? no:
	// nibble 1 with high bits 2 → 1|2<<4 - 32 = 1), scales 2, d = 0.25,
	// activation all ones (Q8_K: qs 127... as -127·-1: max 1 → -127·1/1
	// = -127, d = -1/127): isum = 2·Σ(1·-127) = -65024, c = f32(0.25·d)·isum.
	q6 := make([]byte, 210)
	for i := 0; i < 128; i++ {
		q6[i] = 0x11
	}
	for i := 128; i < 192; i++ {
		q6[i] = 0xaa // every 2-bit high field = 2
	}
	for g := 0; g < 16; g++ {
		q6[192+g] = 2
	}
	putLE16(q6[208:], 0x3400)
	ones256 := make([]float32, 256)
	for i := range ones256 {
		ones256[i] = 1
	}
	tests := []struct {
		name string
		typ  gguf.Type
		row  []byte
		x    []float32
		want float32
	}{
		{"Q8_0", gguf.Q8_0, q80, ones, float32(62992) * float32(0.5*dy)},
		{"Q4_0", gguf.Q4_0, q40, ones, float32(-14224) * dy},
		{"Q4_1", gguf.Q4_1, q41, ones, float32(4064)*dy + 2*32},
		{"F16", gguf.F16, f16row, tenths, 32 * 1.5 * 0.0999755859375},
		{"Q6_K", gguf.Q6_K, q6, ones256, float32(0.25*(-1/float32(127))) * -65024},
	}
	for _, tt := range tests {
		var a Act
		a.Set(tt.typ, tt.x)
		if got := DotRow(tt.typ, tt.row, &a); got != tt.want {
			t.Errorf("%s: DotRow = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDotF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 500; iter++ {
		n := 1 + rng.IntN(200)
		a, b := make([]uint16, n), make([]uint16, n)
		var lanes [32]float32
		var tiny [8]float32
		np := n / 32 * 32
		var tail float64
		for i := range a {
			a[i] = F32ToF16(float32(rng.NormFloat64()))
			b[i] = F32ToF16(float32(rng.NormFloat64()))
			if iter%3 == 0 && rng.IntN(20) == 0 {
				a[i] = f16Edges[rng.IntN(len(f16Edges))]
			}
			p := F16ToF32(a[i]) * F16ToF32(b[i]) // exact
			if i < np {
				lanes[i%32] += p
			} else {
				tail += float64(p)
			}
			tiny[i%8] += p
		}
		want := float32(float64(reduce32(&lanes)) + tail)
		if got := DotF16(a, b); !sameFloat(got, want) {
			t.Fatalf("DotF16(n=%d) = %v, want %v", n, got, want)
		}
		if got := dotF16F16Generic(a, b); !sameFloat(got, want) {
			t.Fatalf("dotF16F16Generic(n=%d) = %v, want %v", n, got, want)
		}
		if n%8 == 0 {
			want := hsum8(&tiny)
			if got := DotF16Tiny(a, b); !sameFloat(got, want) {
				t.Fatalf("DotF16Tiny(n=%d) = %v, want %v", n, got, want)
			}
		}
	}
	if got := DotF16([]uint16{0x3c00, 0x4000}, []uint16{0x4200, 0x3800, 0x1234}); got != 4 {
		t.Errorf("DotF16([1 2], [3 .5]) = %v, want 4", got)
	}
}

func TestDotRowPanics(t *testing.T) {
	var a Act
	a.Set(gguf.Q8_0, make([]float32, 64))
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"wrong activation type", func() { DotRow(gguf.Q4_K, make([]byte, 1000), &a) }},
		{"short row", func() { DotRow(gguf.Q8_0, make([]byte, 67), &a) }},
		{"unsupported type", func() { DotRow(gguf.IQ4_NL, make([]byte, 36), &a) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

func ExampleMatVec() {
	// Two rows of 32 weights, quantized the way llama-quantize does.
	w := make([]float32, 64)
	for i := range w {
		w[i] = float32(i%32) / 32
	}
	w[32] = -1
	data := make([]byte, 2*34)
	if err := QuantizeRow(gguf.Q8_0, w, data); err != nil {
		panic(err)
	}
	m, err := NewMatrix(gguf.Q8_0, data, 32, 2)
	if err != nil {
		panic(err)
	}
	x := make([]float32, 32)
	x[0], x[1], x[31] = 1, 1, 1 // row 0: 0 + 1/32 + 31/32; row 1: -1 + 1/32 + 31/32
	var a Act
	a.Set(m.Type, x)
	out := make([]float32, m.Rows)
	MatVec(m, &a, out, 0, m.Rows)
	fmt.Printf("%.3f %.3f\n", out[0], out[1])
	// Output: 0.999 0.000
}

// TestFMA32 checks FMA32 against exact arithmetic where a float64
// fused multiply-add would round twice: a·b+c within 2^-29 of a float32
// halfway point, c nudged by one ulp so that the exact sum lies just off
// it. It also checks random and subnormal cases.
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	naiveWrong := 0
	for found := 0; found < 300; {
		a, b := float32(1+rng.Float64()), float32(1+rng.Float64())
		p := float64(a) * float64(b)
		lo := float32(p)
		if float64(lo) > p {
			lo = math.Nextafter32(lo, 0)
		}
		hi := math.Nextafter32(lo, float32(math.Inf(1)))
		m := (float64(lo) + float64(hi)) / 2
		if math.Abs(m-p) > m*0x1p-29 || m == p {
			continue
		}
		c := float32(m - p)
		if float64(c) != m-p {
			continue
		}
		found++
		for _, cc := range []float32{c, math.Nextafter32(c, float32(math.Inf(1))), math.Nextafter32(c, float32(math.Inf(-1)))} {
			want := refFMA(a, b, cc)
			if got := FMA32(a, b, cc); got != want {
				t.Fatalf("FMA32(%v, %v, %v) = %v, exact %v", a, b, cc, got, want)
			}
			if float32(float64(a)*float64(b)+float64(cc)) != want {
				naiveWrong++
			}
		}
	}
	if naiveWrong == 0 {
		t.Errorf("no case where a float64 multiply-add rounds wrong: the test misses its point")
	}
	for i := 0; i < 20000; i++ {
		a, b, c := intFloat(rng, -80, 100), intFloat(rng, -80, 100), intFloat(rng, -149, 150)
		if i%3 == 0 {
			a, b, c = intFloat(rng, -90, 30), intFloat(rng, -90, 30), intFloat(rng, -170, 40)
		}
		if got, want := FMA32(a, b, c), refFMA(a, b, c); !sameFloat(got, want) {
			t.Fatalf("FMA32(%v, %v, %v) = %v, exact %v", a, b, c, got, want)
		}
	}
}
