package sample_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/engine/sample"
)

func ExampleSampler() {
	logits := []float32{0.5, 2.0, 1.0, -1.0}

	greedy := sample.New(sample.Params{Temp: 0})
	fmt.Println("greedy:", greedy.Sample(logits))

	// llama-cli --min-p 0 --top-k 2 --top-p 0.95 --temp 0.8 --seed 42
	s := sample.New(sample.Params{Temp: 0.8, TopK: 2, TopP: 0.95, Seed: 42})
	var ids []int32
	for range 8 {
		ids = append(ids, s.Sample(logits))
	}
	fmt.Println("sampled:", ids)
	// Output:
	// greedy: 1
	// sampled: [2 1 2 1 1 1 1 1]
}
