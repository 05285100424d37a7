package quant

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// TestQuantizeRowHand checks blocks worked out by hand from
// quantize_row_*_ref.
func TestQuantizeRowHand(t *testing.T) {
	block := func(vals ...float32) []float32 {
		x := make([]float32, 32)
		copy(x, vals)
		return x
	}
	tests := []struct {
		name string
		typ  gguf.Type
		x    []float32
		want map[int]byte // byte offset → value
	}{
		// amax 127 → d = 1, id = 1; roundf rounds halves away from zero.
		{"Q8_0", gguf.Q8_0, block(127, 2.5, -2.5, 0.5, -126.4),
			map[int]byte{0: 0x00, 1: 0x3c, 2: 127, 3: 3, 4: 0xfd, 5: 1, 6: 0x82, 7: 0}},
		// The first value of largest magnitude (-8, not the later 8) sets
		// d = -8/-8 = 1; q = min(15, trunc(x + 8.5)).
		// Element j pairs with j+16 in byte 2+j.
		{"Q4_0", gguf.Q4_0, func() []float32 {
			x := block(-8, 7, 7.4, -0.5, 0.49, 0.5, 8)
			x[16], x[17] = 3, -8
			return x
		}(), map[int]byte{0: 0x00, 1: 0x3c, 2: 0x00 | 11<<4, 3: 15 | 0<<4, 4: 15 | 8<<4, 5: 8 | 8<<4, 6: 8 | 8<<4, 7: 9 | 8<<4, 8: 15 | 8<<4}},
		// min -1, max 14 → d = 1, m = -1; q = min(15, trunc(x+1 + 0.5)).
		{"Q4_1", gguf.Q4_1, block(-1, 14, 0.49, 0.5),
			map[int]byte{0: 0x00, 1: 0x3c, 2: 0x00, 3: 0xbc, 4: 0x00 | 1<<4, 5: 15 | 1<<4, 6: 1 | 1<<4, 7: 2 | 1<<4}},
		// max -16 → d = 1; q = min(31, trunc(x + 16.5)); bit 4 goes to qh.
		{"Q5_0", gguf.Q5_0, block(-16, 15, 0, -0.6),
			// q: 0, 31, 16, 15, then 16 for every zero element: qh has
			// bits 1, 2 and 4..31 set.
			map[int]byte{0: 0x00, 1: 0x3c, 2: 0xf6, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0x00, 7: 0x0f, 8: 0x00, 9: 0x0f}},
		// min 0, max 31 → d = 1, m = 0; q = trunc(x + 0.5).
		{"Q5_1", gguf.Q5_1, block(0, 31, 16, 15.4),
			map[int]byte{0: 0x00, 1: 0x3c, 2: 0, 3: 0, 4: 0x06, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0x0f, 10: 0, 11: 0x0f}},
	}
	for _, tt := range tests {
		got := make([]byte, tt.typ.TypeSize())
		if err := QuantizeRow(tt.typ, tt.x, got); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for off, w := range tt.want {
			if got[off] != w {
				t.Errorf("%s: byte %d = %#02x, want %#02x (block % x)", tt.name, off, got[off], w, got)
			}
		}
	}
}

// TestQuantizeRoundTrip: every element comes back within half a step
// (plus the binary16 rounding of d and m), and float formats round once.
func TestQuantizeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, typ := range []gguf.Type{gguf.Q8_0, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.F16, gguf.BF16, gguf.F32} {
		for iter := 0; iter < 200; iter++ {
			x := randomActivation(rng, 256)
			enc := make([]byte, typ.RowSize(256))
			if err := QuantizeRow(typ, x, enc); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, 256)
			if err := Dequantize(typ, enc, y); err != nil {
				t.Fatal(err)
			}
			for b := 0; b < 256/32; b++ {
				xs, ys := x[32*b:32*b+32], y[32*b:32*b+32]
				lo, hi := minMax(xs)
				amax := math.Max(math.Abs(float64(lo)), math.Abs(float64(hi)))
				var step, levels float64 // exact step, max |q| the step is scaled by
				switch typ {
				case gguf.Q8_0:
					step, levels = amax/127, 127
				case gguf.Q4_0:
					step, levels = amax/8, 8
				case gguf.Q5_0:
					step, levels = amax/16, 16
				case gguf.Q4_1:
					step, levels = float64(hi-lo)/15, 15
				case gguf.Q5_1:
					step, levels = float64(hi-lo)/31, 31
				}
				if step < 6.2e-5 || step*levels > 65504 || amax > 65504 {
					continue // d or m outside binary16's normal range: no relative bound
				}
				// d and m are stored as binary16: 2^-11 relative each.
				slack := step*levels*1e-3 + math.Abs(float64(lo))*1e-3 + 1e-30
				for j := range xs {
					err := math.Abs(float64(xs[j]) - float64(ys[j]))
					bound := step/2 + slack
					if (typ == gguf.Q4_0 || typ == gguf.Q5_0) && float64(xs[j])*sgn(hi, lo) > 0 && math.Abs(float64(xs[j])) > amax*(levels-1)/levels {
						bound = step + slack // the positive end clips at 2^(b-1)-1
					}
					if err > bound {
						t.Fatalf("%s: x=%v → %v: error %v > %v (step %v)", typ, xs[j], ys[j], err, bound, step)
					}
				}
			}
			if typ == gguf.F16 || typ == gguf.BF16 || typ == gguf.F32 {
				for i := range x {
					var want float32
					switch typ {
					case gguf.F16:
						want = F16ToF32(F32ToF16(x[i]))
					case gguf.BF16:
						want = BF16ToF32(F32ToBF16(x[i]))
					default:
						want = x[i]
					}
					if y[i] != want {
						t.Fatalf("%s: %v → %v, want %v", typ, x[i], y[i], want)
					}
				}
			}
		}
	}
}

// sgn is the sign opposite to the block's value of largest magnitude: the
// side where Q4_0/Q5_0 clip.
func sgn(hi, lo float32) float64 {
	if -lo >= hi {
		return 1
	}
	return -1
}

// TestQuantizeMatchesLlamaQuantize quantizes the F32 synth model with
// QuantizeRow and compares every Q8_0 and Q4_0 tensor with the bytes
// llama-quantize (c392e5094) wrote.
func TestQuantizeMatchesLlamaQuantize(t *testing.T) {
	src, err := gguf.Open(sharedtest.Model(t, "synth/synth-kq-F32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, name := range []string{"synth-kq-Q8_0.gguf", "synth-kq-Q4_0.gguf"} {
		q, err := gguf.Open(sharedtest.Model(t, "synth/"+name))
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for i := range q.Tensors {
			ti := &q.Tensors[i]
			if ti.Type != gguf.Q8_0 && ti.Type != gguf.Q4_0 {
				continue
			}
			si, ok := src.Tensor(ti.Name)
			if !ok || si.Type != gguf.F32 {
				t.Fatalf("%s: no F32 source for %s", name, ti.Name)
			}
			x := make([]float32, si.Elements())
			if err := Dequantize(gguf.F32, src.TensorData(si), x); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, ti.Size)
			if err := QuantizeRow(ti.Type, x, got); err != nil {
				t.Fatal(err)
			}
			if want := q.TensorData(ti); !bytes.Equal(got, want) {
				at := 0
				for at < len(got) && got[at] == want[at] {
					at++
				}
				t.Errorf("%s %s (%s): QuantizeRow differs from llama-quantize at byte %d", name, ti.Name, ti.Type, at)
			}
			checked++
		}
		if checked < 15 {
			t.Errorf("%s: only %d tensors compared", name, checked)
		}
		q.Close()
	}
}

func TestQuantizeRowErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  gguf.Type
		n    int
		dst  int
		want error
	}{
		{"not a block multiple", gguf.Q8_0, 33, 68, ErrLength},
		{"short destination", gguf.Q4_0, 64, 35, ErrLength},
		{"K-quant encoders not provided", gguf.Q4_K, 256, 144, ErrType},
	}
	for _, tt := range tests {
		if err := QuantizeRow(tt.typ, make([]float32, tt.n), make([]byte, tt.dst)); !errors.Is(err, tt.want) {
			t.Errorf("%s: QuantizeRow = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func ExampleQuantizeRow() {
	x := []float32{-1, -0.5, 0, 0.25, 0.5, 0.75, 1, 0.1}
	x = append(x, make([]float32, 24)...) // one block of 32
	blk := make([]byte, gguf.Q4_0.RowSize(32))
	if err := QuantizeRow(gguf.Q4_0, x, blk); err != nil {
		panic(err)
	}
	y := make([]float32, 32)
	if err := Dequantize(gguf.Q4_0, blk, y); err != nil {
		panic(err)
	}
	// The block's first value of largest magnitude (-1) sets d = -1/-8:
	// values come back on a grid of 1/8 from -8·d to 7·d, so +1 clips.
	fmt.Println(len(blk), y[:8])
	// Output: 18 [-1 -0.5 0 0.25 0.5 0.75 0.875 0.125]
}
