package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"
)

// TestTableHashes checks the 65536-entry tables against the SHA-256 sums
// published with the definition (facts/shapes.md, "Shortcut and checks").
func TestTableHashes(t *testing.T) {
	tb := getTables()
	f32 := func(a *[65536]float32) string {
		b := make([]byte, 0, 4*65536)
		for _, v := range a {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	f16 := func(a *[65536]uint16) string {
		b := make([]byte, 0, 2*65536)
		for _, v := range a {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	var normF16 [65536]uint16
	for u := range 65536 {
		normF16[u] = f64ToF16(value(uint16(u), normMean, normStd))
	}
	tests := []struct{ name, got, want string }{
		{"matrices f32", f32(&tb.matrixF32), "53ec26d3e7fb6f0476066ca14ef5c98d465e9489d3aab316fbfc9c32f3361669"},
		{"matrices f16", f16(&tb.matrixF16), "7708884e640fa12c31efa890a968e57489db00dba12a07f436838de67e669273"},
		{"norms f32", f32(&tb.normF32), "f82203129b7952d69879a30bad5d548e39eeda3352a9b9a9879190e52cb31662"},
		{"norms f16", f16(&normF16), "3848cc9857cee0ae18ec86be6314b2894a9936648e57a44d31dc4157d102eeaa"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("sha256(%s table) = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

// TestVectors checks the seed-1 test vectors of the definition.
func TestVectors(t *testing.T) {
	tb := getTables()
	tests := []struct {
		tensor string
		prefix string
	}{
		{"blk.0.attn_q.weight", "175ca88a6d7f04f5"},
		{"token_embd.weight", "a68e04682c591786"},
	}
	for _, tt := range tests {
		b := make([]byte, 8)
		stream(1, tt.tensor).Read(b)
		if got := hex.EncodeToString(b); got != tt.prefix {
			t.Errorf("stream(1, %q) begins %s, want %s", tt.tensor, got, tt.prefix)
		}
	}
	b := make([]byte, 8)
	stream(1, "blk.0.attn_q.weight").Read(b)
	wantU := []uint16{23575, 35496, 32621, 62724}
	wantV := []float32{-0.00718342001, 0.00209100265, -0.000112067552, 0.0343596116}
	for i := range wantU {
		u := binary.LittleEndian.Uint16(b[2*i:])
		if u != wantU[i] || tb.matrixF32[u] != wantV[i] {
			t.Errorf("attn_q element %d: u = %d, value %.9g; want %d, %.9g", i, u, tb.matrixF32[u], wantU[i], wantV[i])
		}
	}
	stream(1, "token_embd.weight").Read(b)
	u := binary.LittleEndian.Uint16(b)
	if tb.matrixF32[u] != 0.00287890201 || tb.matrixF16[u] != 0x19e5 {
		t.Errorf("token_embd[0] = %.9g / f16 %#04x, want 0.00287890201 / 0x19e5", tb.matrixF32[u], tb.matrixF16[u])
	}
	stream(1, "blk.0.attn_norm.weight").Read(b)
	if got := tb.normF32[binary.LittleEndian.Uint16(b)]; got != 0.961216152 {
		t.Errorf("attn_norm[0] = %.9g, want 0.961216152", got)
	}
	// Range of the tables as documented.
	if lo, hi := tb.matrixF32[0], tb.matrixF32[65535]; lo != -hi || hi < 0.0864 || hi > 0.0866 {
		t.Errorf("matrix range [%g, %g], want ±0.0865…", lo, hi)
	}
}

func TestF64ToF16(t *testing.T) {
	tests := []struct {
		x    float64
		want uint16
	}{
		{0, 0}, {math.Copysign(0, -1), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff},
		{65519.99, 0x7bff}, {65520, 0x7c00}, {1e6, 0x7c00}, {math.Inf(-1), 0xfc00},
		{0x1p-24, 0x0001}, {0x1p-25, 0}, {0x1.0000001p-25, 0x0001}, {3 * 0x1p-25, 0x0002}, // ties to even
		{0x1p-14, 0x0400}, {0x1.ff8p-15, 0x03ff}, {0x1.ffcp-15, 0x0400}, {0x1.ffbp-15, 0x03ff}, // tie rounds up into the normals
		{1 + 0x1p-11, 0x3c00}, {1 + 3*0x1p-11, 0x3c02}, {1 + 0x1.0000001p-11, 0x3c01},
		{1.9990234375, 0x3fff}, {1.99951171875, 0x4000}, // tie to even carries into the exponent
		{0.1, 0x2e66}, {-0.000112067552, 0x8758},
	}
	for _, tt := range tests {
		if got := f64ToF16(tt.x); got != tt.want {
			t.Errorf("f64ToF16(%g) = %#04x, want %#04x", tt.x, got, tt.want)
		}
	}
	if got := f64ToF16(math.NaN()); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("f64ToF16(NaN) = %#04x, want a NaN", got)
	}
}
