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

// refPath is the reference of one row's product on path p.
func refPath(p Path, typ gguf.Type, row []byte, a *Act) float32 {
	switch p {
	case PathTiny:
		return refTiny(typ, row, a)
	case PathRepack:
		return refRepack(row, a)
	}
	return refDot(typ, row, a)
}

// TestMatVecMatMul: MatVec computes every row on VecPath, MatMul on
// BatchPath for batches and on VecPath for one activation, bit for bit
// like the references, including partial row ranges; the paths are the
// ones llama.cpp picks for the shape.
func TestMatVecMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, typ := range dotTypes {
		colsList := []int{512, 172, 8}
		switch typ.BlockSize() {
		case 32:
			colsList = []int{288, 32}
		case 256:
			colsList = []int{512}
		}
		for _, cols := range colsList {
			for _, rows := range []int{40, 36, 37} {
				m, err := NewMatrix(typ, randomRow(rng, typ, cols*rows, false), cols, rows)
				if err != nil {
					t.Fatal(err)
				}
				wantVec, wantBatch := PathVecDot, PathVecDot
				if typ == gguf.Q4_0 && rows%8 == 0 {
					wantVec, wantBatch = PathRepack, PathRepack
				}
				if (typ == gguf.F32 || typ == gguf.F16 || typ == gguf.BF16) && cols%8 == 0 && rows%4 == 0 {
					wantBatch = PathTiny
				}
				if m.VecPath() != wantVec || m.BatchPath() != wantBatch {
					t.Errorf("%s %dx%d: paths %v, %v, want %v, %v", typ, rows, cols, m.VecPath(), m.BatchPath(), wantVec, wantBatch)
				}
				acts := make([]*Act, 5)
				out := make([][]float32, len(acts))
				for j := range acts {
					acts[j] = new(Act)
					acts[j].Set(typ, randomActivation(rng, max(cols, 32))[:cols])
					out[j] = make([]float32, rows)
				}
				MatMul(m, acts, out, 3, rows)
				one := [][]float32{make([]float32, rows)}
				MatMul(m, acts[:1], one, 3, rows)
				vec := make([]float32, rows)
				for j, a := range acts {
					MatVec(m, a, vec, 3, rows)
					for r := 3; r < rows; r++ {
						if want := refPath(wantVec, typ, m.Row(r), a); !sameFloat(vec[r], want) {
							t.Fatalf("%s %dx%d: MatVec[%d] = %v, reference %v", typ, rows, cols, r, vec[r], want)
						}
						if want := refPath(wantBatch, typ, m.Row(r), a); !sameFloat(out[j][r], want) {
							t.Fatalf("%s %dx%d: MatMul[%d][%d] = %v, reference %v", typ, rows, cols, j, r, out[j][r], want)
						}
						if j == 0 && !sameFloat(one[0][r], vec[r]) {
							t.Fatalf("%s %dx%d: MatMul of one activation [%d] = %v, MatVec %v", typ, rows, cols, r, one[0][r], vec[r])
						}
					}
					if out[j][0] != 0 || vec[2] != 0 {
						t.Fatalf("%s: rows outside [3,%d) written", typ, rows)
					}
				}
			}
		}
	}
}
