package tokenizer

import (
	"os"
	"testing"

	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// BenchmarkEncodeTinyStories tokenizes the whole 794 KB validation text as
// one SentencePiece session, as perplexity does (BOS, parseSpecial=false).
func BenchmarkEncodeTinyStories(b *testing.B) {
	raw, err := os.ReadFile(sharedtest.Data(b, "tinystories_val.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	for _, c := range []struct {
		name string
		tok  func(testing.TB) *Tokenizer
	}{{"stories260K", stories}, {"llama2-32k", llamaSPM}} {
		tok := c.tok(b)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			var n int
			for b.Loop() {
				n = len(tok.Encode(text, true, false))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

func BenchmarkDecodeTinyStories(b *testing.B) {
	raw, err := os.ReadFile(sharedtest.Data(b, "tinystories_val.txt"))
	if err != nil {
		b.Fatal(err)
	}
	tok := stories(b)
	ids := tok.Encode(string(raw), true, false)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		tok.Decode(ids, true, false)
	}
	b.ReportMetric(float64(len(ids))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
