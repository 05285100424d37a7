package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// fastWeights returns n bytes of weights of type t for benchmarks: random
// quants with ordinary binary16 scales, or Gaussian floats (no NaN or
// subnormal slowing the float kernels down).
func fastWeights(t gguf.Type, cols, rows int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	size := int(t.RowSize(uint64(cols))) * rows
	b := make([]byte, size)
	switch t {
	case gguf.F32:
		for i := 0; i < size; i += 4 {
			putLE32(b[i:], math.Float32bits(float32(rng.NormFloat64()*0.02)))
		}
		return b
	case gguf.F16, gguf.BF16:
		for i := 0; i < size; i += 2 {
			v := float32(rng.NormFloat64() * 0.02)
			if t == gguf.F16 {
				putLE16(b[i:], F32ToF16(v))
			} else {
				putLE16(b[i:], F32ToBF16(v))
			}
		}
		return b
	}
	for i := 0; i+8 <= size; i += 8 {
		v := rng.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	fields := map[gguf.Type][]int{gguf.Q4_0: {0}, gguf.Q4_1: {0, 2}, gguf.Q5_0: {0}, gguf.Q5_1: {0, 2}, gguf.Q8_0: {0},
		gguf.Q2_K: {80, 82}, gguf.Q3_K: {108}, gguf.Q4_K: {0, 2}, gguf.Q5_K: {0, 2}, gguf.Q6_K: {208}}[t]
	ts := int(t.TypeSize())
	for blk := 0; blk < size/ts; blk++ {
		for _, off := range fields {
			putLE16(b[blk*ts+off:], 0x1800|uint16(rng.IntN(0x400))) // ≈ 0.002
		}
	}
	return b
}

// pool holds enough copies of a matrix that cycling through them streams
// from DRAM, as decoding a model larger than the caches does.
type pool struct {
	ms []Matrix
	i  int
}

const poolBytes = 256 << 20

func newPool(b *testing.B, t gguf.Type, cols, rows int) *pool {
	b.Helper()
	size := int(t.RowSize(uint64(cols))) * rows
	n := max(1, poolBytes/size)
	data := fastWeights(t, cols, rows*n, uint64(cols*rows))
	p := &pool{}
	for k := 0; k < n; k++ {
		m, err := NewMatrix(t, data[k*size:(k+1)*size], cols, rows)
		if err != nil {
			b.Fatal(err)
		}
		p.ms = append(p.ms, m)
	}
	return p
}

func (p *pool) next() Matrix {
	m := p.ms[p.i]
	p.i = (p.i + 1) % len(p.ms)
	return m
}

var benchTypes = []gguf.Type{gguf.F32, gguf.F16, gguf.BF16, gguf.Q8_0, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1,
	gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K}

// BenchmarkMatVec: one matrix-vector product per op over a 256 MiB pool of
// matrices (DRAM-bound like real decoding). Shapes: tinyllama's
// ffn_gate/up (2048 in, 5632 out) and ffn_down (5632 in, 2048 out), and
// stories110M's attention (768×768) and ffn_up (768 in, 2048 out).
func BenchmarkMatVec(b *testing.B) {
	shapes := []struct {
		name       string
		cols, rows int
	}{
		{"tinyllama_ffn_up_2048x5632", 2048, 5632},
		{"tinyllama_ffn_down_5632x2048", 5632, 2048},
		{"stories110M_attn_768x768", 768, 768},
		{"stories110M_ffn_up_768x2048", 768, 2048},
	}
	for _, sh := range shapes {
		for _, t := range benchTypes {
			if sh.cols%int(t.BlockSize()) != 0 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", sh.name, t), func(b *testing.B) {
				p := newPool(b, t, sh.cols, sh.rows)
				x := randomActivation(rand.New(rand.NewPCG(1, 1)), sh.cols)
				var a Act
				a.Set(t, x)
				out := make([]float32, sh.rows)
				b.ReportAllocs()
				b.SetBytes(int64(len(p.ms[0].Data)))
				b.ResetTimer()
				for b.Loop() {
					MatVec(p.next(), &a, out, 0, sh.rows)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(sh.rows), "ns/row")
			})
		}
	}
}

// decodeShape lists the matrix-vector products of one decoded token.
type decodeShape struct {
	name                           string
	embd, ff, layers, kvDim, vocab int
}

var decodeShapes = []decodeShape{
	{"stories110M", 768, 2048, 12, 768, 32000},
	{"tinyllama", 2048, 5632, 22, 256, 32000},
}

// BenchmarkDecodeMatVecs runs every weight matrix-vector product of one
// decoded token (q, k, v, o, gate, up, down per layer, then the output
// head) of a model shape on one thread, with a distinct matrix per layer,
// and reports tokens/s. Attention, norms and activation quantization are
// not included (they are <2% of decode time on these shapes).
func BenchmarkDecodeMatVecs(b *testing.B) {
	for _, sh := range decodeShapes {
		for _, t := range []gguf.Type{gguf.F32, gguf.Q8_0, gguf.Q4_0, gguf.Q4_K, gguf.Q6_K} {
			if sh.name == "tinyllama" && t == gguf.F32 {
				continue // 4.4 GB
			}
			b.Run(sh.name+"/"+t.String(), func(b *testing.B) {
				type mv struct {
					m   Matrix
					act int // 0: embd input, 1: ff input
				}
				var mvs []mv
				var total int64
				seed := uint64(1)
				add := func(cols, rows, act int) {
					m, err := NewMatrix(t, fastWeights(t, cols, rows, seed), cols, rows)
					if err != nil {
						b.Fatal(err)
					}
					seed++
					mvs = append(mvs, mv{m, act})
					total += int64(len(m.Data))
				}
				for l := 0; l < sh.layers; l++ {
					add(sh.embd, sh.embd, 0)
					add(sh.embd, sh.kvDim, 0)
					add(sh.embd, sh.kvDim, 0)
					add(sh.embd, sh.embd, 0)
					add(sh.embd, sh.ff, 0)
					add(sh.embd, sh.ff, 0)
					add(sh.ff, sh.embd, 1)
				}
				add(sh.embd, sh.vocab, 0)
				rng := rand.New(rand.NewPCG(2, 2))
				var acts [2]Act
				acts[0].Set(t, randomActivation(rng, sh.embd))
				acts[1].Set(t, randomActivation(rng, sh.ff))
				out := make([]float32, sh.vocab)
				b.ReportAllocs()
				b.SetBytes(total)
				b.ResetTimer()
				for b.Loop() {
					for _, x := range mvs {
						MatVec(x.m, &acts[x.act], out, 0, x.m.Rows)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// BenchmarkMatMul: a batch of activations (prompt processing, perplexity)
// against tinyllama's ffn_up; reports tokens/s for this one matrix.
func BenchmarkMatMul(b *testing.B) {
	const cols, rows = 2048, 5632
	for _, t := range []gguf.Type{gguf.F32, gguf.F16, gguf.Q8_0, gguf.Q4_0, gguf.Q4_K, gguf.Q6_K} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch%d", t, batch), func(b *testing.B) {
				m, err := NewMatrix(t, fastWeights(t, cols, rows, 5), cols, rows)
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(3, 3))
				acts := make([]*Act, batch)
				out := make([][]float32, batch)
				for j := range acts {
					acts[j] = new(Act)
					acts[j].Set(t, randomActivation(rng, cols))
					out[j] = make([]float32, rows)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					MatMul(m, acts, out, 0, rows)
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

func BenchmarkActSet(b *testing.B) {
	x := randomActivation(rand.New(rand.NewPCG(4, 4)), 5632)
	for _, t := range []gguf.Type{gguf.F32, gguf.F16, gguf.Q8_0, gguf.Q4_1, gguf.Q4_K} {
		b.Run(t.String(), func(b *testing.B) {
			var a Act
			b.ReportAllocs()
			for b.Loop() {
				a.Set(t, x)
			}
		})
	}
}

func BenchmarkDequantize(b *testing.B) {
	const n = 1 << 16
	for _, t := range []gguf.Type{gguf.F16, gguf.Q8_0, gguf.Q4_0, gguf.Q4_K, gguf.Q6_K} {
		b.Run(t.String(), func(b *testing.B) {
			src := fastWeights(t, n, 1, 6)
			dst := make([]float32, n)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if err := Dequantize(t, src, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDotRow: the kernel alone on one cache-resident row of 4096
// elements (compute speed, no memory stalls); reports weight bytes/s, for
// the active kernels and for the portable ones (what arm64 runs).
func BenchmarkDotRow(b *testing.B) {
	const n = 4096
	for _, path := range []string{"active", "portable"} {
		for _, t := range benchTypes {
			b.Run(path+"/"+t.String(), func(b *testing.B) {
				row := fastWeights(t, n, 1, 7)
				var a Act
				a.Set(t, randomActivation(rand.New(rand.NewPCG(1, 1)), n))
				k := kernels[t]
				if path == "portable" {
					k = generic[t]
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(row)))
				var s float32
				for b.Loop() {
					s += k(row, &a)
				}
				sink = s
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
	}
}

var sink float32

// BenchmarkMatVecCached: MatVec on a matrix of about 256 KiB that stays
// in the L2 cache (kernel speed along MatVec's path, e.g. the repacked
// Q4_0 order, without DRAM stalls); reports ns per row of 4096.
func BenchmarkMatVecCached(b *testing.B) {
	const cols = 4096
	for _, t := range benchTypes {
		b.Run(t.String(), func(b *testing.B) {
			rows := max(8, (256<<10)/int(t.RowSize(cols))/8*8)
			m, err := NewMatrix(t, fastWeights(t, cols, rows, 8), cols, rows)
			if err != nil {
				b.Fatal(err)
			}
			var a Act
			a.Set(t, randomActivation(rand.New(rand.NewPCG(1, 1)), cols))
			out := make([]float32, rows)
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Data)))
			for b.Loop() {
				MatVec(m, &a, out, 0, rows)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
		})
	}
}
