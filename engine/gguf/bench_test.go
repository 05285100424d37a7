package gguf

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// BenchmarkParseHeader parses the header of stories260K (512-token vocab,
// 48 tensors) from memory; the data section is only bounds-checked.
func BenchmarkParseHeader(b *testing.B) {
	f, err := Open(sharedtest.Model(b, "stories260K.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	benchParse(b, f.Bytes(), int64(f.DataOffset))
}

// BenchmarkParseHeader32k parses a LLaMA-2-sized header: a 32000-token
// vocabulary (strings, scores, types) and 291 tensor infos, as in a 7B
// model file.
func BenchmarkParseHeader32k(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	tokens := make([]string, 32000)
	scores := make([]float32, 32000)
	types := make([]int32, 32000)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("▁tok%d", i)
		scores[i] = -float32(i)
		types[i] = 1
	}
	must(b, w.Add("general.architecture", "llama"))
	must(b, w.Add("tokenizer.ggml.tokens", tokens))
	must(b, w.Add("tokenizer.ggml.scores", scores))
	must(b, w.Add("tokenizer.ggml.token_type", types))
	for i := range 291 {
		must(b, w.AddTensor(fmt.Sprintf("blk.%d.t%d.weight", i/9, i%9), Q4_K, 256))
	}
	must(b, w.WriteHeader())
	_, err := w.Write(make([]byte, 291*144))
	must(b, err)
	must(b, w.Close())
	benchParse(b, buf.Bytes(), w.Layout().DataOffset)
}

func benchParse(b *testing.B, file []byte, header int64) {
	b.ReportAllocs()
	b.SetBytes(header)
	for b.Loop() {
		if _, err := Parse(file); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "headers/s")
}
