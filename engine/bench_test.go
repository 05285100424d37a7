package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/synth"
	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"github.com/edgeprof/edgeprof/trace"
)

// benchModel returns a model for benchmarks: a shared file by name, or a
// synthetic shape ("synth:stories15M:Q8_0") generated once into the user
// cache folder (they are hundreds of MB; never in the repository).
func benchModel(b *testing.B, name string) *Model {
	b.Helper()
	var path string
	var shape, typ string
	if _, err := fmt.Sscanf(name, "synth:%s", &shape); err == nil {
		for i := len(shape) - 1; i >= 0; i-- {
			if shape[i] == ':' {
				shape, typ = shape[:i], shape[i+1:]
				break
			}
		}
		path = synthModel(b, shape, typ)
	} else {
		path = sharedPath(b, name)
	}
	m, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

func synthModel(b *testing.B, shape, typ string) string {
	b.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		b.Skip("no cache folder for synthetic models:", err)
	}
	dir = filepath.Join(dir, "edgeprof", "bench")
	path := filepath.Join(dir, fmt.Sprintf("%s-shape-%s.gguf", shape, typ))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	sh, err := synth.LookupShape(shape)
	if err != nil {
		b.Fatal(err)
	}
	t, err := gguf.ParseType(typ)
	if err != nil {
		b.Fatal(err)
	}
	g, err := synth.New(synth.Config{Shape: sh, Type: t, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Abort()
	if _, err := g.Write(context.Background(), f, nil); err != nil {
		b.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchModelList is benchModels, or the comma-separated list in
// EDGEPROF_BENCH_MODELS (e.g. "synth:tinyllama-1.1b:Q4_0").
func benchModelList() []string {
	if env := os.Getenv("EDGEPROF_BENCH_MODELS"); env != "" {
		return strings.Split(env, ",")
	}
	return benchModels
}

var benchModels = []string{
	"stories260K.gguf",
	"synth:stories15M:F32", "synth:stories15M:Q8_0", "synth:stories15M:Q4_0",
	"synth:stories110M:F32", "synth:stories110M:Q8_0", "synth:stories110M:Q4_0",
}

// BenchmarkDecode measures single-token decode steps (llama-bench's tg)
// at positions 16..143 of the context.
//
//	go test ./engine -run '^$' -bench Decode -benchtime 64x
func BenchmarkDecode(b *testing.B) {
	for _, name := range benchModelList() {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", name, threads), func(b *testing.B) {
				m := benchModel(b, name)
				benchDecode(b, m, Options{Threads: threads, Ctx: 160})
			})
		}
	}
}

func benchDecode(b *testing.B, m *Model, opt Options) {
	s, err := m.NewSession(opt)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	prompt := m.Tok.Encode("Once upon a time, there was a little girl named Lily. She", true, false)
	fill := func() {
		s.Reset()
		for _, id := range prompt {
			if err := s.EvalNoLogits(id); err != nil {
				b.Fatal(err)
			}
		}
	}
	fill()
	b.ReportAllocs()
	b.ResetTimer()
	tok := int32(400)
	for i := 0; i < b.N; i++ {
		if s.Pos() >= opt.Ctx {
			b.StopTimer()
			fill()
			b.StartTimer()
		}
		logits, err := s.Eval(tok)
		if err != nil {
			b.Fatal(err)
		}
		tok = int32(argmax(logits))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// BenchmarkDecodeTrace compares decode without a sink, with a sink that
// drops events, and with an .etr writer (encoding to io.Discard): the cost
// of tracing.
//
//	go test ./engine -run '^$' -bench DecodeTrace -count 10 | benchstat -col /sink -
func BenchmarkDecodeTrace(b *testing.B) {
	for _, name := range []string{"stories260K.gguf", "synth:stories15M:Q8_0"} {
		for _, sink := range []string{"none", "discard", "etr"} {
			b.Run(fmt.Sprintf("model=%s/sink=%s", name, sink), func(b *testing.B) {
				m := benchModel(b, name)
				opt := Options{Threads: 1, Ctx: 160}
				var w *trace.Writer
				switch sink {
				case "discard":
					opt.Sink = trace.Discard
				case "etr":
					var err error
					if w, err = trace.NewWriter(io.Discard, m.TraceHeader(), trace.WriterOptions{}); err != nil {
						b.Fatal(err)
					}
					opt.Sink = w
				}
				benchDecode(b, m, opt)
				if w != nil {
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(w.Events())/float64(b.N), "events/token")
				}
			})
		}
	}
}

// BenchmarkPerplexity measures llama-perplexity's work: 256-token windows
// with the second half scored.
//
//	go test ./engine -run '^$' -bench Perplexity -benchtime 4x
func BenchmarkPerplexity(b *testing.B) {
	for _, name := range benchModelList() {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", name, threads), func(b *testing.B) {
				m := benchModel(b, name)
				const ctx = 256
				toks := make([]int32, 2*ctx*threads)
				for i := range toks {
					toks[i] = int32(3 + i*7919%(min(m.Cfg.Vocab, 512)-3))
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := PerplexityTokens(m, toks, PerplexityOptions{Ctx: ctx, Threads: threads}); err != nil {
						b.Fatal(err)
					}
				}
				// Every window evaluates ctx-1 positions.
				b.ReportMetric(float64(b.N*len(toks)/ctx*(ctx-1))/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
