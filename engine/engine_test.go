package engine

import (
	"encoding/binary"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/edgeprof/edgeprof/engine/sample"

	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

func loadShared(t testing.TB, name string) *Model {
	t.Helper()
	m, err := Load(sharedtest.Model(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestStories260KConfig(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	want := Config{Arch: "llama", Name: "llama", CtxTrain: 2048, Embd: 64, Layers: 5, FF: 172, Heads: 8, KVHeads: 4,
		HeadDim: 8, Rot: 8, RopeBase: 10000, RopeScale: 1, AttnScale: 1, RMSEps: 1e-5, Vocab: 512}
	if m.Cfg != want {
		t.Errorf("Cfg = %+v, want %+v", m.Cfg, want)
	}
	st := m.Stats()
	// 5 layers × 3 FFN matrices × 64×172 floats.
	if st.FFNParams != 5*3*64*172 || st.FFNBytes != 4*st.FFNParams {
		t.Errorf("FFN params/bytes = %d/%d, want %d/%d", st.FFNParams, st.FFNBytes, 5*3*64*172, 4*5*3*64*172)
	}
}

func TestTokenizeOnceUponATime(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	got := m.Tok.Encode("Once upon a time", true, false)
	want := []int32{1, 403, 407, 261, 378}
	if !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// llama.cpp's greedy continuation of "Once upon a time" on stories260K
// (llama-cli -n 64 --temp 0, llama.cpp c392e5094; from issue 2).
var greedyStories260K = []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410,
	408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426,
	338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336}

func TestGreedyMatchesLlamaCpp(t *testing.T) {
	for _, name := range []string{"stories260K.gguf"} {
		for _, threads := range []int{1, 2} {
			m := loadShared(t, name)
			g, err := m.Generate("Once upon a time", GenerateOptions{MaxTokens: 64, Session: Options{Threads: threads}, Sample: sample.Params{Temp: 0}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.Tokens, greedyStories260K) {
				t.Errorf("%s t%d: greedy tokens = %v, want %v", name, threads, g.Tokens, greedyStories260K)
			}
			if want := ", there was a little girl named Lily. She loved to play outside in the park."; len(g.Text) < len(want) || g.Text[:len(want)] != want {
				t.Errorf("%s t%d: text = %q, want prefix %q", name, threads, g.Text, want)
			}
		}
	}
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func lastLogits(t *testing.T, m *Model, ids []int32, opt Options) []float32 {
	t.Helper()
	s, err := m.NewSession(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var logits []float32
	for _, id := range ids {
		if logits, err = s.Eval(id); err != nil {
			t.Fatal(err)
		}
	}
	return slices.Clone(logits)
}

// The synth-kq references were computed by llama.cpp with an F32 KV cache
// on the prompt "<s> Once upon a time" (models/synth/README.md).
var synthKQ = []string{"F32", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K",
	"pure-Q2_K", "pure-Q3_K", "pure-Q4_K", "pure-Q5_K", "pure-Q6_K"}

func TestSynthKQLogits(t *testing.T) {
	prompt := []int32{1, 403, 407, 261, 378}
	for _, q := range synthKQ {
		t.Run(q, func(t *testing.T) {
			m := loadShared(t, "synth/synth-kq-"+q+".gguf")
			// Float path against llama.cpp on the dequantized file.
			deqRef := "models/synth/ref/synth-kq-" + q + ".deq-F32.f32"
			if q == "F32" {
				deqRef = "models/synth/ref/synth-kq-F32.f32"
			}
			want := readF32(t, sharedtest.File(t, deqRef))
			got := lastLogits(t, m, prompt, Options{KVF32: true, FloatWeights: true, Ctx: 16})
			if d := maxAbsDiff(got, want); d > 1e-4 {
				t.Errorf("float path: max |logit - llama.cpp deq-F32| = %.3g, want <= 1e-4", d)
			}
			// Quantized-activation path against llama.cpp's own kernels.
			want = readF32(t, sharedtest.File(t, "models/synth/ref/synth-kq-"+q+".f32"))
			got = lastLogits(t, m, prompt, Options{KVF32: true, Ctx: 16})
			d := maxAbsDiff(got, want)
			t.Logf("fast path: max |logit - llama.cpp| = %.3g", d)
			if d > 1e-4 {
				t.Errorf("fast path: max |logit - llama.cpp| = %.3g, want <= 1e-4", d)
			}
		})
	}
}

func sharedPath(tb testing.TB, name string) string { return sharedtest.Model(tb, name) }

// A batch computes exactly what token-by-token evaluation computes.
func TestEvalBatchEqualsSequential(t *testing.T) {
	for _, name := range []string{"stories260K.gguf", "stories260K-Q4_K_M.gguf"} {
		m := loadShared(t, name)
		toks := m.Tok.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", true, false)
		want := make([][]float32, len(toks))
		seq, err := m.NewSession(Options{Ctx: 64})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range toks {
			l, err := seq.Eval(id)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = slices.Clone(l)
		}
		seq.Close()
		for _, batch := range []int{1, 3, 7, 512} {
			for _, threads := range []int{1, 2} {
				s, err := m.NewSession(Options{Ctx: 64, Batch: batch, Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				from := 5
				got, err := s.EvalBatch(toks, from)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(toks)-from {
					t.Fatalf("%s batch %d: %d logit rows, want %d", name, batch, len(got), len(toks)-from)
				}
				for i := range got {
					if !slices.Equal(got[i], want[from+i]) {
						t.Fatalf("%s batch %d t%d: logits of position %d differ from sequential evaluation", name, batch, threads, from+i)
					}
				}
				s.Close()
			}
		}
	}
}
