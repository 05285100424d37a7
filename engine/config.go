package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// ErrUnsupported marks models the engine refuses by design (architecture,
// tokenizer, rope scaling or tensor type it does not implement yet).
var ErrUnsupported = errors.New("engine: unsupported model")

// Config holds a LLaMA-family model's hyper-parameters, read from GGUF
// metadata with llama.cpp's rules (exact key types, defaults).
type Config struct {
	Arch      string
	Name      string
	CtxTrain  int // llama.context_length, tokens
	Embd      int // n_embd
	Layers    int // n_layer
	FF        int // n_ff, FFN intermediate width (neurons per layer)
	Heads     int // n_head
	KVHeads   int // n_head_kv
	HeadDim   int // per-head width of Q, K and V
	Rot       int // rope.dimension_count
	RopeBase  float32
	RopeScale float32 // freq_scale = 1/rope.scaling.factor (1 when absent)
	AttnScale float32 // rope.scaling.attn_factor (1 when absent)
	RMSEps    float32
	Vocab     int
}

// QDim is the width of the concatenated query heads.
func (c *Config) QDim() int { return c.Heads * c.HeadDim }

// KVDim is the width of one token's K (or V) across KV heads.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// layerInt reads a per-layer hyper-parameter that llama.cpp accepts either
// as a u32 or as an i32 array of length n_layer. Arrays with differing
// entries (per-layer widths, as in OpenELM) are refused.
func layerInt(f *gguf.File, key string, layers int, def int, required bool) (int, error) {
	v, ok := f.Lookup(key)
	if !ok {
		if required {
			return 0, fmt.Errorf("model: required metadata key %q is missing", key)
		}
		return def, nil
	}
	switch x := v.Any().(type) {
	case uint32:
		return int(x), nil
	case []int32:
		if len(x) != layers {
			return 0, fmt.Errorf("model: %q has %d entries, want block_count = %d", key, len(x), layers)
		}
		for _, e := range x {
			if e != x[0] {
				return 0, fmt.Errorf("%w: %q differs between layers", ErrUnsupported, key)
			}
		}
		if len(x) == 0 {
			return def, nil
		}
		return int(x[0]), nil
	}
	return 0, fmt.Errorf("model: %q is %s, want u32 or array of i32", key, v.TypeName())
}

func optUint32(f *gguf.File, key string, def int) (int, error) {
	if _, ok := f.Lookup(key); !ok {
		return def, nil
	}
	v, err := f.Uint32(key)
	return int(v), err
}

func optFloat32(f *gguf.File, key string, def float32) (float32, error) {
	if _, ok := f.Lookup(key); !ok {
		return def, nil
	}
	return f.Float32(key)
}

// ReadConfig reads and checks the hyper-parameters of a GGUF model.
func ReadConfig(f *gguf.File) (Config, error) {
	var c Config
	arch, err := f.String("general.architecture")
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if arch != "llama" {
		return c, fmt.Errorf("%w: architecture %q (supported: llama)", ErrUnsupported, arch)
	}
	c.Arch = arch
	if name, err := f.String("general.name"); err == nil {
		c.Name = name
	}
	p := arch + "."
	req := func(key string) (int, error) {
		v, err := f.Uint32(p + key)
		if err != nil {
			return 0, fmt.Errorf("model: %w", err)
		}
		return int(v), nil
	}
	if c.CtxTrain, err = req("context_length"); err != nil {
		return c, err
	}
	if c.Embd, err = req("embedding_length"); err != nil {
		return c, err
	}
	if c.Layers, err = req("block_count"); err != nil {
		return c, err
	}
	if c.Embd <= 0 || c.Layers <= 0 {
		return c, fmt.Errorf("model: embedding_length %d and block_count %d must be positive", c.Embd, c.Layers)
	}
	// Every block has tensors of its own: a count beyond the file's
	// tensors is corrupt, and must not size an allocation.
	if c.Layers > len(f.Tensors) {
		return c, fmt.Errorf("model: block_count %d, but the file has only %d tensors (each block has its own)", c.Layers, len(f.Tensors))
	}
	if c.FF, err = layerInt(f, p+"feed_forward_length", c.Layers, 0, true); err != nil {
		return c, err
	}
	if c.Heads, err = layerInt(f, p+"attention.head_count", c.Layers, 0, true); err != nil {
		return c, err
	}
	if c.KVHeads, err = layerInt(f, p+"attention.head_count_kv", c.Layers, c.Heads, false); err != nil {
		return c, err
	}
	if c.Heads <= 0 || c.KVHeads <= 0 || c.FF <= 0 {
		return c, fmt.Errorf("model: head_count %d, head_count_kv %d and feed_forward_length %d must be positive", c.Heads, c.KVHeads, c.FF)
	}
	if c.Heads%c.KVHeads != 0 {
		return c, fmt.Errorf("model: head_count %d is not a multiple of head_count_kv %d", c.Heads, c.KVHeads)
	}
	if c.Embd%c.Heads != 0 {
		return c, fmt.Errorf("model: embedding_length %d is not a multiple of head_count %d", c.Embd, c.Heads)
	}
	kl, err := optUint32(f, p+"attention.key_length", c.Embd/c.Heads)
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	vl, err := optUint32(f, p+"attention.value_length", c.Embd/c.Heads)
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if kl != vl || kl <= 0 || kl%2 != 0 {
		return c, fmt.Errorf("model: attention key_length %d and value_length %d must be equal and even", kl, vl)
	}
	c.HeadDim = kl
	if c.Rot, err = optUint32(f, p+"rope.dimension_count", c.HeadDim); err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if c.Rot != c.HeadDim {
		return c, fmt.Errorf("model: rope.dimension_count %d must equal the head size %d for llama", c.Rot, c.HeadDim)
	}
	if c.RopeBase, err = optFloat32(f, p+"rope.freq_base", 10000); err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if st, err := f.String(p + "rope.scaling.type"); err == nil && st != "linear" && st != "none" {
		return c, fmt.Errorf("%w: rope scaling %q (supported: linear, none)", ErrUnsupported, st)
	}
	factor, err := optFloat32(f, p+"rope.scaling.factor", 0)
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if factor == 0 {
		if factor, err = optFloat32(f, p+"rope.scale_linear", 0); err != nil {
			return c, fmt.Errorf("model: %w", err)
		}
	}
	c.RopeScale = 1
	if factor != 0 {
		c.RopeScale = 1 / factor
	}
	if c.AttnScale, err = optFloat32(f, p+"rope.scaling.attn_factor", 1); err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	if c.RMSEps, err = f.Float32(p + "attention.layer_norm_rms_epsilon"); err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	// NaN fails both comparisons.
	if !(c.RMSEps > 0 && c.RMSEps < 1) {
		return c, fmt.Errorf("model: %q = %g, want a small positive number (1e-5, 1e-6)", p+"attention.layer_norm_rms_epsilon", c.RMSEps)
	}
	if !(c.RopeBase > 0) || math.IsInf(float64(c.RopeBase), 0) {
		return c, fmt.Errorf("model: %q = %g, want a positive number (10000)", p+"rope.freq_base", c.RopeBase)
	}
	if n, err := optUint32(f, p+"expert_count", 0); err != nil || n > 0 {
		if err != nil {
			return c, fmt.Errorf("model: %w", err)
		}
		return c, fmt.Errorf("%w: mixture of experts (%d experts)", ErrUnsupported, n)
	}
	toks, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return c, fmt.Errorf("model: %w", err)
	}
	c.Vocab = len(toks)
	return c, nil
}
