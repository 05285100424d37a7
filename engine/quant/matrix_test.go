package quant

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

func TestNewMatrix(t *testing.T) {
	tests := []struct {
		name       string
		typ        gguf.Type
		data       int
		cols, rows int
		want       error
		rowBytes   int
	}{
		{"Q4_0 exact", gguf.Q4_0, 2 * 36, 64, 2, nil, 36},
		{"longer data is cut", gguf.Q8_0, 1000, 32, 3, nil, 34},
		{"F32", gguf.F32, 12, 3, 1, nil, 12},
		{"columns not a block multiple", gguf.Q4_K, 1000, 300, 1, ErrLength, 0},
		{"short data", gguf.Q6_K, 419, 256, 2, ErrLength, 0},
		{"no dot product", gguf.Q8_K, 292, 256, 1, ErrType, 0},
		{"zero columns", gguf.F16, 10, 0, 1, ErrLength, 0},
	}
	for _, tt := range tests {
		m, err := NewMatrix(tt.typ, make([]byte, tt.data), tt.cols, tt.rows)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: NewMatrix error = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil && (m.RowBytes != tt.rowBytes || len(m.Data) != tt.rows*tt.rowBytes || len(m.Row(tt.rows-1)) != tt.rowBytes) {
			t.Errorf("%s: RowBytes %d, len(Data) %d, want %d, %d", tt.name, m.RowBytes, len(m.Data), tt.rowBytes, tt.rows*tt.rowBytes)
		}
	}
}

// TestMatVecMatMul: MatVec equals DotRow per row, MatMul equals MatVec,
// bit for bit, including partial row ranges.
func TestMatVecMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, typ := range dotTypes {
		cols := 512
		if typ.BlockSize() == 32 {
			cols = 288 // 9 blocks: a tail after groups of 4
		}
		rows := 37
		m, err := NewMatrix(typ, randomRow(rng, typ, cols*rows, false), cols, rows)
		if err != nil {
			t.Fatal(err)
		}
		acts := make([]*Act, 5)
		out := make([][]float32, len(acts))
		for j := range acts {
			acts[j] = new(Act)
			acts[j].Set(typ, randomActivation(rng, cols))
			out[j] = make([]float32, rows)
		}
		MatMul(m, acts, out, 3, rows)
		vec := make([]float32, rows)
		for j, a := range acts {
			MatVec(m, a, vec, 3, rows)
			for r := 3; r < rows; r++ {
				if want := DotRow(typ, m.Row(r), a); !sameFloat(vec[r], want) {
					t.Fatalf("%s: MatVec[%d] = %v, DotRow %v", typ, r, vec[r], want)
				}
				if !sameFloat(out[j][r], vec[r]) {
					t.Fatalf("%s: MatMul[%d][%d] = %v, MatVec %v", typ, j, r, out[j][r], vec[r])
				}
			}
			if out[j][0] != 0 || vec[2] != 0 {
				t.Fatalf("%s: rows outside [3,%d) written", typ, rows)
			}
		}
	}
}
