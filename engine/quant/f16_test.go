package quant

import (
	"math"
	"testing"
)

func TestF16Hand(t *testing.T) {
	tests := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},                       // largest finite
		{float32(math.Ldexp(1, -14)), 0x0400}, // smallest normal
		{float32(math.Ldexp(1, -24)), 0x0001}, // smallest subnormal
		{float32(math.Ldexp(1023, -24)), 0x03ff},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0.1, 0x2e66}, // 0.0999755859375 (0x2e66) is nearer than 0x2e67
		{1.0 / 3, 0x3555},
	}
	for _, tt := range tests {
		if got := F32ToF16(tt.f); got != tt.h {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", tt.f, got, tt.h)
		}
		back := F16ToF32(tt.h)
		if tt.f != 0.1 && tt.f != 1.0/3 && math.Float32bits(back) != math.Float32bits(tt.f) {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", tt.h, back, tt.f)
		}
	}
	// Rounding at the edges: ties go to even, 65520 is the overflow tie.
	edges := []struct {
		f float32
		h uint16
	}{
		{1 + float32(math.Ldexp(1, -11)), 0x3c00},                               // tie, stays even
		{1 + float32(math.Ldexp(3, -11)), 0x3c02},                               // tie, rounds up to even
		{1 + float32(math.Ldexp(1, -11)) + float32(math.Ldexp(1, -23)), 0x3c01}, // just above the tie
		{65519.998, 0x7bff},
		{65520, 0x7c00},
		{float32(math.Ldexp(1, -25)), 0x0000}, // half the smallest subnormal: tie to 0
		{float32(math.Ldexp(1, -25)) * (1 + 1.0/(1<<23)), 0x0001}, // just above
		{float32(math.Ldexp(3, -25)), 0x0002},                     // 1.5 units: tie to even 2
		{float32(math.Ldexp(2047, -25)), 0x0400},                  // rounds up into the smallest normal
		{float32(math.Ldexp(1, -149)), 0x0000},                    // f32 subnormal
		{-float32(math.Ldexp(1, -149)), 0x8000},
	}
	for _, tt := range edges {
		if got := F32ToF16(tt.f); got != tt.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", tt.f, got, tt.h)
		}
	}
	nan := math.Float32frombits(0x7fc00000 | 0x12345)
	if got := F32ToF16(nan); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, want a NaN", got)
	}
	if got := F32ToF16(math.Float32frombits(0x7f800001)); got != 0x7e00 {
		t.Errorf("F32ToF16(sNaN 0x7f800001) = %#04x, want 0x7e00 (quieted)", got)
	}
	if got := F16ToF32(0x7e01); !math.IsNaN(float64(got)) || math.Float32bits(got) != 0x7fc02000 {
		t.Errorf("F16ToF32(0x7e01) bits = %#08x, want 0x7fc02000", math.Float32bits(got))
	}
}

// TestF16Exhaustive checks F16ToF32 against the defining formula for every
// bit pattern, that F32ToF16 inverts it, and that F32ToF16 rounds every
// midpoint between neighbouring binary16 values (and the float32 values
// just beside it) the IEEE way.
func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		exp, mant := h>>10&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && mant == 0:
			want = math.Inf(1)
		case exp == 0x1f:
			if !math.IsNaN(float64(f)) {
				t.Fatalf("F16ToF32(%#04x) = %v, want NaN", h, f)
			}
			continue
		case exp == 0:
			want = math.Ldexp(float64(mant), -24)
		default:
			want = math.Ldexp(float64(1024+mant), exp-25)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, f, want)
		}
		if got := F32ToF16(f); got != uint16(h) {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
		if f16Table[h] != f && !math.IsNaN(float64(f)) {
			t.Fatalf("f16Table[%#04x] = %v, want %v", h, f16Table[h], f)
		}
	}
	for h := uint16(0); h < 0x7bff; h++ {
		lo, hi := float64(F16ToF32(h)), float64(F16ToF32(h+1))
		mid := float32((lo + hi) / 2) // exact: the midpoint has 12 significant bits
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, s := range []float32{1, -1} {
			sign := uint16(0)
			if s < 0 {
				sign = 0x8000
			}
			if got := F32ToF16(s * mid); got != sign|even {
				t.Fatalf("F32ToF16(%g) = %#04x, want %#04x", s*mid, got, sign|even)
			}
			below := math.Nextafter32(s*mid, 0)
			if got := F32ToF16(below); got != sign|h {
				t.Fatalf("F32ToF16(%g) = %#04x, want %#04x", below, got, sign|h)
			}
			above := math.Nextafter32(s*mid, s*float32(math.Inf(1)))
			if got := F32ToF16(above); got != sign|(h+1) {
				t.Fatalf("F32ToF16(%g) = %#04x, want %#04x", above, got, sign|(h+1))
			}
		}
	}
}

func TestBF16(t *testing.T) {
	tests := []struct {
		f float32
		h uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81}, // above the tie
		{math.Float32frombits(0x00000001), 0x0000}, // subnormal rounds, no flush
		{math.Float32frombits(0x00008000), 0x0000}, // tie to even 0
		{math.Float32frombits(0x00018000), 0x0002}, // tie to even
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // overflow to inf
		{float32(math.Inf(-1)), 0xff80},
		{math.Float32frombits(0x7f800001), 0x7fc0}, // sNaN quieted
		{math.Float32frombits(0xffc12345), 0xffc1},
	}
	for _, tt := range tests {
		if got := F32ToBF16(tt.f); got != tt.h {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(tt.f), got, tt.h)
		}
	}
	if got := BF16ToF32(0x3fc0); got != 1.5 {
		t.Errorf("BF16ToF32(0x3fc0) = %v, want 1.5", got)
	}
}
