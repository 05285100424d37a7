package quant

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// FuzzDot feeds arbitrary weight bytes and activations to every kernel:
// the active kernel (assembly on amd64), the portable one and refDot must
// agree bit for bit (also the repacked Q4_0 and tinyBLAS kernels with
// their references), and Dequantize must not fail on a whole block.
func FuzzDot(f *testing.F) {
	f.Add(uint8(3), uint8(5), []byte{0x00, 0x3c, 0x12, 0x34}, []byte{1, 2, 3})
	f.Add(uint8(10), uint8(1), []byte{0xff, 0x7b, 0x80}, []byte{0xff, 0xff, 0x7f})
	f.Add(uint8(0), uint8(37), []byte{0x00, 0x00, 0x80, 0x7f}, []byte{0x00, 0x00, 0xc0, 0x7f})
	f.Fuzz(func(t *testing.T, typeIdx, blocks uint8, w, x []byte) {
		typ := dotTypes[int(typeIdx)%len(dotTypes)]
		bs := int(typ.BlockSize())
		nb := 1 + int(blocks)%9
		if bs == 1 {
			nb = 1 + int(blocks)
		}
		n := nb * bs
		row := make([]byte, typ.RowSize(uint64(n)))
		if len(w) > 0 {
			for i := range row {
				row[i] = w[i%len(w)] ^ byte(i/len(w)) // repeat the seed, varied
			}
		}
		act := make([]float32, n)
		for i := range act {
			if len(x) >= 4 {
				k := 4 * (i % (len(x) / 4))
				act[i] = math.Float32frombits(binary.LittleEndian.Uint32(x[k:]) + uint32(i/(len(x)/4)))
			}
		}
		var a Act
		a.Set(typ, act)
		want := refDot(typ, row, &a)
		if got := DotRow(typ, row, &a); !sameFloat(got, want) {
			t.Fatalf("%s n=%d: DotRow = %v, reference %v", typ, n, got, want)
		}
		if got := generic[typ](row, &a); !sameFloat(got, want) {
			t.Fatalf("%s n=%d: portable = %v, reference %v", typ, n, got, want)
		}
		if typ == gguf.Q4_0 {
			want := refRepack(row, &a)
			if got, gen := repackQ4_0(row, &a), dotQ4_0RepackGeneric(row, &a); !sameFloat(got, want) || !sameFloat(gen, want) {
				t.Fatalf("repacked Q4_0 n=%d: %v, portable %v, reference %v", n, got, gen, want)
			}
		}
		if tinyGeneric[typ] != nil && n%8 == 0 {
			want := refTiny(typ, row, &a)
			if got, gen := tinyKernels[typ](row, &a), tinyGeneric[typ](row, &a); !sameFloat(got, want) || !sameFloat(gen, want) {
				t.Fatalf("tinyBLAS %s n=%d: %v, portable %v, reference %v", typ, n, got, gen, want)
			}
		}
		if err := Dequantize(typ, row, make([]float32, n)); err != nil {
			t.Fatal(err)
		}
	})
}
