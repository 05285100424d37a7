package synth

import (
	"fmt"
	"strings"
)

// Shape is the set of LLaMA hyper-parameters a synthetic model is made
// of. All counts; Context is in tokens.
type Shape struct {
	// Name is written as general.name.
	Name    string
	Dim     int // n_embd: embedding width
	FFN     int // n_ff: feed-forward hidden width
	Layers  int // n_layer
	Heads   int // n_head: query heads
	KVHeads int // n_head_kv: key/value heads (grouped-query attention)
	Vocab   int // n_vocab: tokens
	Context int // n_ctx_train: tokens
}

// Fixed hyper-parameters of every synthetic model (facts/shapes.md).
const (
	RopeFreqBase = 10000.0
	RMSEpsilon   = 1e-5
	// MinVocab keeps the control tokens and the 256 byte tokens of the
	// base vocabulary, so any text can be tokenized.
	MinVocab = 3 + 256
)

// Limits that keep every count inside its u32 metadata key and every
// tensor far from overflow; real models are orders of magnitude smaller.
const (
	maxWidth  = 1 << 20 // Dim, FFN
	maxCount  = 1 << 16 // Layers, Heads
	maxTokens = 1 << 24 // Vocab, Context
)

// HeadDim is the width of one attention head.
func (s Shape) HeadDim() int {
	if s.Heads == 0 {
		return 0
	}
	return s.Dim / s.Heads
}

// Validate checks that the shape makes a model llama.cpp can load.
func (s Shape) Validate() error {
	checks := []struct {
		name     string
		v, lo, h int
	}{
		{"dim", s.Dim, 1, maxWidth},
		{"ffn", s.FFN, 1, maxWidth},
		{"layers", s.Layers, 1, maxCount},
		{"heads", s.Heads, 1, maxCount},
		{"kv-heads", s.KVHeads, 1, maxCount},
		{"vocab", s.Vocab, MinVocab, maxTokens},
		{"ctx", s.Context, 1, maxTokens},
	}
	for _, c := range checks {
		if c.v < c.lo || c.v > c.h {
			return fmt.Errorf("synth: shape %q: %s = %d, want %d..%d", s.Name, c.name, c.v, c.lo, c.h)
		}
	}
	switch {
	case s.Dim%s.Heads != 0:
		return fmt.Errorf("synth: shape %q: dim %d is not a multiple of heads %d", s.Name, s.Dim, s.Heads)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("synth: shape %q: heads %d is not a multiple of kv-heads %d", s.Name, s.Heads, s.KVHeads)
	case s.HeadDim()%2 != 0:
		return fmt.Errorf("synth: shape %q: head dim %d is odd (RoPE rotates pairs)", s.Name, s.HeadDim())
	case s.Name == "" || len(s.Name) > 256:
		return fmt.Errorf("synth: shape name %q: want 1..256 bytes", s.Name)
	}
	return nil
}

// CustomName is the general.name given to a shape defined by its
// dimensions rather than by name.
func (s Shape) CustomName() string {
	return fmt.Sprintf("synth-d%d-ff%d-l%d-h%d-kv%d-v%d-ctx%d", s.Dim, s.FFN, s.Layers, s.Heads, s.KVHeads, s.Vocab, s.Context)
}

// namedShapes are the reference shapes of facts/shapes.md (synth-kq,
// stories15M, stories110M, tinyllama-1.1b; general.name as in their
// manifests) and Llama-2-7B's published hyper-parameters.
var namedShapes = []struct {
	key   string
	shape Shape
}{
	{"synth-kq", Shape{Name: "synth-kq", Dim: 256, FFN: 768, Layers: 2, Heads: 8, KVHeads: 4, Vocab: 512, Context: 512}},
	{"stories15M", Shape{Name: "stories15M-shape", Dim: 288, FFN: 768, Layers: 6, Heads: 6, KVHeads: 6, Vocab: 32000, Context: 256}},
	{"stories110M", Shape{Name: "stories110M-shape", Dim: 768, FFN: 2048, Layers: 12, Heads: 12, KVHeads: 12, Vocab: 32000, Context: 1024}},
	{"tinyllama-1.1b", Shape{Name: "tinyllama-shape", Dim: 2048, FFN: 5632, Layers: 22, Heads: 32, KVHeads: 4, Vocab: 32000, Context: 2048}},
	{"llama-2-7b", Shape{Name: "llama-2-7b-shape", Dim: 4096, FFN: 11008, Layers: 32, Heads: 32, KVHeads: 32, Vocab: 32000, Context: 4096}},
}

// ShapeNames lists the named shapes, smallest first.
func ShapeNames() []string {
	names := make([]string, len(namedShapes))
	for i, s := range namedShapes {
		names[i] = s.key
	}
	return names
}

// LookupShape returns the named shape; an unknown name is an error that
// lists the known ones.
func LookupShape(name string) (Shape, error) {
	for _, s := range namedShapes {
		if s.key == name {
			return s.shape, nil
		}
	}
	return Shape{}, fmt.Errorf("synth: unknown shape %q (known: %s)", name, strings.Join(ShapeNames(), ", "))
}
