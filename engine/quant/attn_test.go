package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refExpf is ggml_v_expf written from its definition with exact
// rational fused multiply-adds (refFMA), for one lane.
func refExpf(x float32) float32 {
	z := refFMA(x, 0x1.715476p+0, 0x1.8p23)
	n := z - 0x1.8p23
	b := refFMA(-n, 0x1.62e4p-1, x)
	b = refFMA(-n, 0x1.7f7d1cp-20, b)
	e := math.Float32bits(z) << 23
	k := math.Float32frombits(e + math.Float32bits(1))
	u := b * b
	j := refFMA(refFMA(refFMA(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, refFMA(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, 0x1.ffffecp-1*b)
	an := float32(math.Abs(float64(n)))
	if !(an > 126) {
		return refFMA(j, k, k)
	}
	var g uint32
	if n <= 0 {
		g = 0x82000000
	}
	s1, s2 := math.Float32frombits(g+0x7f000000), math.Float32frombits(e-g)
	if an > 192 {
		return s1 * s1
	}
	return refFMA(s2, j, s2) * s1
}

func TestExpfHand(t *testing.T) {
	for _, tc := range []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Inf(-1)), 0},
		{-200, 0},
		{100, float32(math.Inf(1))},
	} {
		if got := Expf(tc.x); got != tc.want {
			t.Errorf("Expf(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	// ExpfRow (assembly on amd64) and Expf against the reference, over
	// every branch.
	rng := rand.New(rand.NewPCG(25, 26))
	src := make([]float32, 1003)
	for i := range src {
		src[i] = float32(rng.Float64()*300 - 200)
		if i%5 == 0 {
			src[i] = float32(rng.NormFloat64())
		}
	}
	dst := make([]float32, len(src))
	ExpfRow(dst, src)
	for i, x := range src {
		if want := refExpf(x); !sameFloat(dst[i], want) || !sameFloat(Expf(x), want) {
			t.Fatalf("ExpfRow/Expf(%v) = %v/%v, reference %v", x, dst[i], Expf(x), want)
		}
	}
	// Within 1.5 ulp of exp over the normal range.
	for x := float32(-87); x < 88; x += 0.37 {
		got, want := float64(Expf(x)), math.Exp(float64(x))
		if math.Abs(got-want) > 1.5*math.Abs(want)*0x1p-23 {
			t.Fatalf("Expf(%v) = %v, exp %v", x, got, want)
		}
	}
}

// TestSoftMaxDifferential compares the active SoftMax (assembly on amd64)
// and the portable one with a plain reference (refExpf lane by lane,
// hsum8 per group of 8, a float64 sum), inputs reaching the |n| > 126
// and > 192 branches of ggml_v_expf.
func TestSoftMaxDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for iter := 0; iter < 400; iter++ {
		n := 1 + rng.IntN(70)
		w := make([]float32, n)
		scale := []float64{0.1, 3, 60, 150}[iter%4]
		for i := range w {
			w[i] = float32(rng.NormFloat64() * scale)
		}
		want := append([]float32(nil), w...)
		m := float32(math.Inf(-1))
		for _, v := range want {
			m = max(m, v)
		}
		var sum float64
		for i := 0; i < n; i += 8 {
			var e [8]float32
			for k := 0; k < 8 && i+k < n; k++ {
				e[k] = refExpf(want[i+k] - m)
				want[i+k] = e[k]
			}
			sum += float64(((e[0] + e[4]) + (e[2] + e[6])) + ((e[1] + e[5]) + (e[3] + e[7])))
		}
		inv := float32(1 / sum)
		for i := range want {
			want[i] *= inv
		}
		for _, path := range []string{SIMD(), "portable Go"} {
			got := append([]float32(nil), w...)
			if path == "portable Go" {
				restore := usePortable()
				SoftMax(got)
				restore()
			} else {
				SoftMax(got)
			}
			for i := range got {
				if !sameFloat(got[i], want[i]) {
					t.Fatalf("%s n=%d scale %v: SoftMax[%d] = %v, reference %v (input %v)", path, n, scale, i, got[i], want[i], w[i])
				}
			}
		}
	}
}

// TestAttentionKernelsDifferential: scores, accumulation and reduction,
// active against portable, over head sizes with and without assembly
// (multiples of 8 and 32 and others) and both lane layouts; plus the
// first cell's values against the scalar dot products.
func TestAttentionKernelsDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, hd := range []int{8, 16, 32, 64, 128, 12, 5} {
		for _, cells := range []int{1, 7, 8, 33, 100} {
			q := make([]float32, hd)
			k := make([]float32, cells*hd)
			v := make([]float32, cells*hd)
			p := make([]float32, cells)
			for i := range q {
				q[i] = float32(rng.NormFloat64())
			}
			for i := range k {
				k[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			for i := range p {
				p[i] = F16ToF32(F32ToF16(rng.Float32()))
			}
			q16, k16, v16 := make([]uint16, hd), make([]uint16, len(k)), make([]uint16, len(v))
			F32ToF16Row(q16, q)
			F32ToF16Row(k16, k)
			F32ToF16Row(v16, v)
			for i := range k16 {
				if k16[i] != F32ToF16(k[i]) {
					t.Fatalf("F32ToF16Row[%d] = %#04x, want %#04x", i, k16[i], F32ToF16(k[i]))
				}
			}
			back := make([]float32, len(k16))
			F16ToF32Row(back, k16)
			for i := range back {
				if back[i] != F16ToF32(k16[i]) {
					t.Fatalf("F16ToF32Row[%d] = %v, want %v", i, back[i], F16ToF32(k16[i]))
				}
			}
			type result struct{ s16, s16t, s32, o16, o32 []float32 }
			run := func() (r result) {
				r.s16 = make([]float32, cells)
				ScoresF16(r.s16, q16, k16, 0.125, false)
				if hd%8 == 0 {
					r.s16t = make([]float32, cells)
					ScoresF16(r.s16t, q16, k16, 0.125, true)
				}
				r.s32 = make([]float32, cells)
				ScoresF32(r.s32, q, k, 0.125)
				for _, lanes := range []int{LanesVecDot, LanesTiny} {
					acc := make([]float32, lanes*hd)
					out := make([]float32, hd)
					AccumulateF16(acc, lanes, v16, p, hd)
					ReduceLanes(out, acc, lanes)
					r.o16 = append(r.o16, out...)
					clear(acc)
					AccumulateF32(acc, lanes, v, p, hd)
					ReduceLanes(out, acc, lanes)
					r.o32 = append(r.o32, out...)
				}
				return r
			}
			got := run()
			restore := usePortable()
			want := run()
			restore()
			for name, pair := range map[string][2][]float32{
				"ScoresF16": {got.s16, want.s16}, "ScoresF16 tiny": {got.s16t, want.s16t}, "ScoresF32": {got.s32, want.s32},
				"AccumulateF16": {got.o16, want.o16}, "AccumulateF32": {got.o32, want.o32},
			} {
				for i := range pair[1] {
					if !sameFloat(pair[0][i], pair[1][i]) {
						t.Fatalf("hd %d cells %d: %s[%d] = %v (%s), portable %v", hd, cells, name, i, pair[0][i], SIMD(), pair[1][i])
					}
				}
			}
			if s := DotF16(k16[:hd], q16) * 0.125; !sameFloat(got.s16[0], s) {
				t.Errorf("hd %d: ScoresF16[0] = %v, DotF16·scale %v", hd, got.s16[0], s)
			}
			if s := DotF32(k[:hd], q) * 0.125; !sameFloat(got.s32[0], s) {
				t.Errorf("hd %d: ScoresF32[0] = %v, DotF32·scale %v", hd, got.s32[0], s)
			}
			if hd%8 == 0 {
				if s := DotF16Tiny(k16[:hd], q16) * 0.125; !sameFloat(got.s16t[0], s) {
					t.Errorf("hd %d: tiny ScoresF16[0] = %v, DotF16Tiny·scale %v", hd, got.s16t[0], s)
				}
			}
		}
	}
}

// TestAccumulateHand: two cells into 8 lanes land in lanes 0 and 1, the
// reduction adds them (hsum8 of [a, b, 0...] = a+b).
func TestAccumulateHand(t *testing.T) {
	v := []float32{1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40, 50, 60, 70, 80}
	p := []float32{0.5, 2}
	acc := make([]float32, LanesTiny*8)
	AccumulateF32(acc, LanesTiny, v, p, 8)
	if acc[0] != 0.5 || acc[8] != 20 || acc[16] != 0 {
		t.Errorf("lanes after AccumulateF32: %v %v %v, want 0.5 20 0", acc[0], acc[8], acc[16])
	}
	out := make([]float32, 8)
	ReduceLanes(out, acc, LanesTiny)
	for d := range out {
		if want := 0.5*v[d] + 2*v[8+d]; out[d] != want {
			t.Errorf("ReduceLanes[%d] = %v, want %v", d, out[d], want)
		}
	}
}

func TestAttentionPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"DotF16Tiny of 7", func() { DotF16Tiny(make([]uint16, 7), make([]uint16, 7)) }},
		{"ScoresF16 short keys", func() { ScoresF16(make([]float32, 3), make([]uint16, 8), make([]uint16, 16), 1, false) }},
		{"ScoresF16 tiny of 12", func() { ScoresF16(make([]float32, 1), make([]uint16, 12), make([]uint16, 12), 1, true) }},
		{"AccumulateF16 bad lanes", func() { AccumulateF16(make([]float32, 64), 4, make([]uint16, 8), make([]float32, 1), 8) }},
		{"ReduceLanes short", func() { ReduceLanes(make([]float32, 8), make([]float32, 63), LanesTiny) }},
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
