package sample

import (
	"fmt"
	"testing"
)

// BenchmarkSample measures one draw over a full vocabulary: stories260K's
// 512 tokens and LLaMA's 32000, with llama-cli's defaults (top-k 40), the
// full chain without top-k, and greedy.
func BenchmarkSample(b *testing.B) {
	for _, n := range []int{512, 32000} {
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = genLogit(32768, 1, uint32(i)) * 0.5
		}
		for _, c := range []struct {
			name string
			p    Params
		}{
			{"greedy", Params{}},
			{"topk40-topp0.95-temp0.8", Params{Temp: DefaultTemp, TopK: DefaultTopK, TopP: DefaultTopP, Seed: 1}},
			{"topk0-topp0.95-temp0.8", Params{Temp: DefaultTemp, TopK: 0, TopP: DefaultTopP, Seed: 1}},
		} {
			b.Run(fmt.Sprintf("vocab%d/%s", n, c.name), func(b *testing.B) {
				s := New(c.p)
				b.ReportAllocs()
				for b.Loop() {
					s.Sample(logits)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}
