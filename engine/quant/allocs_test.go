package quant

import (
	"math/rand"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// The hot paths allocate nothing: a matrix-vector product per type (on the
// vec_dot and, where it applies, the repacked path) and a batched product.
func TestMatVecAndMatMulAllocateNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const cols, rows = 256, 16
	for _, typ := range []gguf.Type{gguf.F32, gguf.F16, gguf.BF16, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1,
		gguf.Q8_0, gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K} {
		data := make([]byte, rows*int(typ.RowSize(cols)))
		for i := range data {
			data[i] = byte(rng.Intn(256))
		}
		m, err := NewMatrix(typ, data, cols, rows)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, cols)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		acts := make([]*Act, 5)
		outs := make([][]float32, 5)
		for i := range acts {
			acts[i] = new(Act)
			acts[i].Set(typ, x)
			outs[i] = make([]float32, rows)
		}
		if n := testing.AllocsPerRun(20, func() { MatVec(m, acts[0], outs[0], 0, rows) }); n != 0 {
			t.Errorf("MatVec(%s) allocates %.1f times per call, want 0", typ, n)
		}
		if n := testing.AllocsPerRun(20, func() { MatMul(m, acts, outs, 0, rows) }); n != 0 {
			t.Errorf("MatMul(%s) allocates %.1f times per call, want 0", typ, n)
		}
	}
}
