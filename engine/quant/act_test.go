package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

func TestVecDotType(t *testing.T) {
	tests := []struct{ w, want gguf.Type }{
		{gguf.F32, gguf.F32}, {gguf.F16, gguf.F16}, {gguf.BF16, gguf.BF16},
		{gguf.Q4_0, gguf.Q8_0}, {gguf.Q5_0, gguf.Q8_0}, {gguf.Q8_0, gguf.Q8_0},
		{gguf.Q4_1, gguf.Q8_1}, {gguf.Q5_1, gguf.Q8_1},
		{gguf.Q2_K, gguf.Q8_K}, {gguf.Q3_K, gguf.Q8_K}, {gguf.Q4_K, gguf.Q8_K}, {gguf.Q5_K, gguf.Q8_K}, {gguf.Q6_K, gguf.Q8_K},
	}
	for _, tt := range tests {
		if got, ok := VecDotType(tt.w); !ok || got != tt.want {
			t.Errorf("VecDotType(%s) = %s, %v, want %s, true", tt.w, got, ok, tt.want)
		}
	}
	for _, w := range []gguf.Type{gguf.Q8_1, gguf.Q8_K, gguf.IQ4_NL, gguf.I8} {
		if _, ok := VecDotType(w); ok {
			t.Errorf("VecDotType(%s) ok, want no dot product", w)
		}
	}
}

// TestActQ8_0Hand: amax 127 makes id = 127/127 = 1 exactly, so x·id = x
// and the rounding rule shows directly: halves go to even (2.5 → 2,
// 3.5 → 4, -0.5 → 0), unlike the scalar reference's roundf.
func TestActQ8_0Hand(t *testing.T) {
	x := make([]float32, 64)
	copy(x, []float32{127, 2.5, -2.5, 3.5, 0.5, -0.5, 1.5, -126.5, 0.49})
	// Second block: amax 254 → d = 2, id = 0.5; 3 → 1.5 → 2; 5 → 2.5 → 2.
	copy(x[32:], []float32{-254, 3, 5, 1, -1})
	var a Act
	a.Set(gguf.Q8_0, x)
	want := []int8{127, 2, -2, 4, 0, 0, 2, -126, 0}
	for i, w := range want {
		if a.qs[i] != w {
			t.Errorf("Q8_0 qs[%d] (x=%v) = %d, want %d", i, x[i], a.qs[i], w)
		}
	}
	want2 := []int8{-127, 2, 2, 0, 0}
	for i, w := range want2 {
		if a.qs[32+i] != w {
			t.Errorf("Q8_0 qs[%d] (x=%v) = %d, want %d", 32+i, x[32+i], a.qs[32+i], w)
		}
	}
	if a.d16[0] != 0x3c00 || a.d[0] != 1 || a.d16[1] != 0x4000 {
		t.Errorf("Q8_0 d = %#04x %#04x, want 0x3c00 0x4000", a.d16[0], a.d16[1])
	}
	blocks := a.AppendBlocks(nil)
	if len(blocks) != 68 || blocks[0] != 0x00 || blocks[1] != 0x3c || blocks[2] != 127 || blocks[3] != 2 || blocks[4] != 0xfe {
		t.Errorf("Q8_0 AppendBlocks = % x..., want 00 3c 7f 02 fe...", blocks[:5])
	}

	// Q8_1 adds s = f16(d·Σqs) with the unrounded d: block 0 has
	// Σ = 127+2-2+4+0+0+2-126+0 = 7, d = 1.
	a.Set(gguf.Q4_1, x)
	if a.kind != gguf.Q8_1 || a.s[0] != 7 || a.s16[1] != F32ToF16(2*(-127+2+2)) {
		t.Errorf("Q8_1 s = %v, %#04x, want 7, %#04x", a.s[0], a.s16[1], F32ToF16(-246))
	}

	// d is rounded to binary16 for the dot product but id uses the float32
	// amax: amax = 1 gives d = 1/127 and id = 127, so 1/127·x·127 rounds
	// from the exact x.
	y := make([]float32, 32)
	y[0], y[1] = 1, 0.0236220472 // 0.02362·127 = 2.99999..., rounds to 3
	a.Set(gguf.Q8_0, y)
	if a.qs[0] != 127 || a.qs[1] != 3 || a.d16[0] != F32ToF16(float32(1)/127) {
		t.Errorf("Q8_0 of [1 0.02362]: qs = %d %d, d = %#04x", a.qs[0], a.qs[1], a.d16[0])
	}
}

// TestActQ8_KHand: the value of largest magnitude maps to -127 (the first
// one wins a tie); iscale = -127/max; halves round to even.
func TestActQ8_KHand(t *testing.T) {
	x := make([]float32, 512)
	copy(x, []float32{1, 2, 0, -4, 0.5, 4, -2})
	// iscale = -127/-4 = 31.75: 1 → 31.75 → 32; 2 → 63.5 → 64 (even);
	// -4 → -127; 0.5 → 15.875 → 16; 4 → 127; -2 → -63.5 → -64.
	var a Act
	a.Set(gguf.Q4_K, x)
	want := []int8{32, 64, 0, -127, 16, 127, -64}
	for i, w := range want {
		if a.qs[i] != w {
			t.Errorf("Q8_K qs[%d] (x=%v) = %d, want %d", i, x[i], a.qs[i], w)
		}
	}
	if a.d[0] != 1/float32(31.75) {
		t.Errorf("Q8_K d = %v, want 1/31.75", a.d[0])
	}
	if a.bsums[0] != 32+64-127+16+127-64 || a.bsums[1] != 0 {
		t.Errorf("Q8_K bsums = %d %d, want 48 0", a.bsums[0], a.bsums[1])
	}
	// The second super-block is all zero: d = 0, quants and sums 0.
	if a.d[1] != 0 || a.bsums[16] != 0 || a.qs[256] != 0 {
		t.Errorf("Q8_K zero block: d = %v, bsums %d", a.d[1], a.bsums[16])
	}
	// Positive maximum: iscale negative, the max maps to -127.
	copy(x, []float32{3, -1.5})
	x[3], x[5], x[6] = 0, 0, 0
	a.Set(gguf.Q6_K, x)
	if a.qs[0] != -127 || a.qs[1] != 64 { // -1.5·(-127/3) = 63.5 → 64
		t.Errorf("Q8_K of [3 -1.5]: qs = %d %d, want -127 64", a.qs[0], a.qs[1])
	}
	blocks := a.AppendBlocks(nil)
	deq := make([]float32, 512)
	if err := Dequantize(gguf.Q8_K, blocks, deq); err != nil {
		t.Fatal(err)
	}
	if deq[0] != 3 || deq[1] != float32(64*(float32(3)/-127)*-1)*-1 && deq[1] != a.d[0]*64 {
		t.Errorf("Q8_K round trip: %v %v", deq[0], deq[1])
	}
}

// TestActProperties checks every format on random vectors: each quant is
// the nearest level (|x - d·q| ≤ d/2 up to float32 rounding), the
// extreme value reaches ±127, float formats are the rounded inputs.
func TestActProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200; iter++ {
		x := randomActivation(rng, 512)
		var a Act
		for _, w := range []gguf.Type{gguf.Q8_0, gguf.Q4_1, gguf.Q4_K, gguf.F16, gguf.BF16, gguf.F32} {
			a.Set(w, x)
			switch a.kind {
			case gguf.F32, gguf.F16, gguf.BF16:
				for i, v := range x {
					var want float32
					switch a.kind {
					case gguf.F32:
						want = v
					case gguf.F16:
						want = F16ToF32(F32ToF16(v))
					default:
						want = BF16ToF32(F32ToBF16(v))
					}
					if !sameFloat(a.f[i], want) {
						t.Fatalf("%s act[%d] = %v, want %v", a.kind, i, a.f[i], want)
					}
				}
				continue
			}
			bs := int(a.kind.BlockSize())
			for b := 0; b < len(x)/bs; b++ {
				// The exact scale: amax/127 for Q8_0/Q8_1; for Q8_K the
				// signed maximum over -127.
				var amax, vmax float64
				for _, v := range x[b*bs : (b+1)*bs] {
					if math.Abs(float64(v)) > amax {
						amax, vmax = math.Abs(float64(v)), float64(v)
					}
				}
				scale := amax / 127
				if amax > 0 && float32(127/float32(amax)) > math.MaxFloat32 {
					// ggml's id overflows: Q8_0/Q8_1 quants become -128
					// (cvtps2dq's indefinite value), Q8_K ones 0.
					want := int8(-128)
					if a.kind == gguf.Q8_K {
						want = 0
					}
					for j := b * bs; j < (b+1)*bs; j++ {
						if a.qs[j] != want {
							t.Fatalf("%s tiny block %d: qs[%d] = %d, want %d", a.kind, b, j, a.qs[j], want)
						}
					}
					continue
				}
				if a.kind == gguf.Q8_K {
					scale = vmax / -127
				}
				top := 0
				for j := b * bs; j < (b+1)*bs; j++ {
					q := float64(a.qs[j])
					if err := math.Abs(float64(x[j]) - scale*q); err > math.Abs(scale)*(0.5+1e-5) {
						t.Fatalf("%s block %d: x=%v q=%d scale %v: error %v > scale/2", a.kind, b, x[j], a.qs[j], scale, err)
					}
					top = max(top, int(math.Abs(q)))
				}
				if amax > 0 && top != 127 {
					t.Fatalf("%s block %d: largest |q| = %d, want 127", a.kind, b, top)
				}
			}
		}
	}
}

// randomActivation draws n values: usually Gaussian with a random scale,
// sometimes with zero blocks, spikes, or tiny (subnormal) values.
func randomActivation(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	scale := math.Pow(10, rng.Float64()*6-3)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	switch rng.IntN(6) {
	case 0:
		lo := 32 * rng.IntN(n/32)
		clear(x[lo : lo+32])
	case 1:
		x[rng.IntN(n)] *= 1000
	case 2:
		for i := range x {
			x[i] *= 1e-40
		}
	}
	return x
}

func TestActSetAllocs(t *testing.T) {
	x := randomActivation(rand.New(rand.NewPCG(5, 6)), 2048)
	var a Act
	for _, w := range []gguf.Type{gguf.F32, gguf.F16, gguf.BF16, gguf.Q8_0, gguf.Q4_1, gguf.Q4_K} {
		a.Set(w, x)
		if n := testing.AllocsPerRun(10, func() { a.Set(w, x) }); n != 0 {
			t.Errorf("Act.Set(%s) allocates %v times after the first call, want 0", w, n)
		}
	}
}
