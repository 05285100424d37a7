package synth_test

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/synth"
)

func ExampleNew() {
	shape, err := synth.LookupShape("synth-kq")
	if err != nil {
		panic(err)
	}
	g, err := synth.New(synth.Config{Shape: shape, Type: gguf.F32, Seed: 1})
	if err != nil {
		panic(err)
	}
	h := sha256.New() // an *os.File in real use
	n, err := g.Write(context.Background(), h, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(g.Tensors()), g.Params(), n)
	fmt.Printf("%x\n", h.Sum(nil)) // sha256 of shared/models/synth/synth-kq-F32.gguf
	// Output:
	// 21 1836288 7357856
	// 65edf1911c57ce5a88d0a9fe4a1c27e2b5c6edac9843e80eb03f55e50def3ecf
}
