package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/quant"
	"github.com/edgeprof/edgeprof/engine/tokenizer"
	"github.com/edgeprof/edgeprof/trace"
)

// computeTypes are the tensor types the forward pass can use.
var computeTypes = map[gguf.Type]bool{
	gguf.F32: true, gguf.F16: true, gguf.BF16: true,
	gguf.Q4_0: true, gguf.Q4_1: true, gguf.Q5_0: true, gguf.Q5_1: true, gguf.Q8_0: true,
	gguf.Q2_K: true, gguf.Q3_K: true, gguf.Q4_K: true, gguf.Q5_K: true, gguf.Q6_K: true,
}

// weight is a matrix used by the forward pass together with what a trace
// needs to describe reads of it.
type weight struct {
	quant.Matrix
	id     uint16 // index in the trace symbol table
	offset uint64 // absolute file offset of row 0
}

type layer struct {
	attnNorm, ffnNorm  []float32
	q, k, v, o         weight
	gate, up, down     weight
	qb, kb, vb, ob     []float32 // optional biases (nil when absent)
	gateb, upb, downb  []float32
	attnNormID, ffnNID uint16
}

// Model is a loaded GGUF model: hyper-parameters, tokenizer and views of
// the memory-mapped weights. It is immutable and safe for concurrent use
// by several Sessions.
type Model struct {
	Cfg  Config
	File *gguf.File
	Path string
	Tok  *tokenizer.Tokenizer

	embd      weight
	outNorm   []float32
	outNormID uint16
	output    weight
	ropeFreqs []float32
	layers    []layer
}

// Load opens and checks a GGUF model. The weights are memory-mapped; call
// Close when done.
func Load(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := newModel(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// Close unmaps the model file.
func (m *Model) Close() error { return m.File.Close() }

// Name is the model's general.name, or its file name.
func (m *Model) Name() string {
	if m.Cfg.Name != "" {
		return m.Cfg.Name
	}
	return strings.TrimSuffix(filepath.Base(m.Path), ".gguf")
}

func newModel(f *gguf.File) (*Model, error) {
	cfg, err := ReadConfig(f)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, File: f, Tok: tok}
	used := map[string]bool{}
	ids := map[string]uint16{}
	for i := range f.Tensors {
		ids[f.Tensors[i].Name] = uint16(i)
	}
	if len(f.Tensors) >= int(trace.NoTensor) {
		return nil, fmt.Errorf("model: %d tensors exceed the trace symbol table limit", len(f.Tensors))
	}
	c := &m.Cfg

	get := func(name string, dims ...int) (*gguf.TensorInfo, error) {
		t, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("model: tensor %q not found", name)
		}
		if err := checkShape(t, dims); err != nil {
			return nil, err
		}
		if !computeTypes[t.Type] {
			return nil, fmt.Errorf("%w: tensor %q has type %s", ErrUnsupported, name, t.Type)
		}
		used[name] = true
		return t, nil
	}
	mat := func(name string, cols, rows int) (weight, error) {
		t, err := get(name, cols, rows)
		if err != nil {
			return weight{}, err
		}
		qm, err := quant.NewMatrix(t.Type, f.TensorData(t), cols, rows)
		if err != nil {
			return weight{}, fmt.Errorf("model: tensor %q: %w", name, err)
		}
		return weight{Matrix: qm, id: ids[name], offset: t.FileOffset}, nil
	}
	vec := func(name string, n int) ([]float32, error) {
		t, err := get(name, n)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		if err := quant.Dequantize(t.Type, f.TensorData(t), out); err != nil {
			return nil, fmt.Errorf("model: tensor %q: %w", name, err)
		}
		return out, nil
	}
	optVec := func(name string, n int) ([]float32, error) {
		if _, ok := f.Tensor(name); !ok {
			return nil, nil
		}
		return vec(name, n)
	}

	if m.embd, err = mat("token_embd.weight", c.Embd, c.Vocab); err != nil {
		return nil, err
	}
	if m.outNorm, err = vec("output_norm.weight", c.Embd); err != nil {
		return nil, err
	}
	m.outNormID = ids["output_norm.weight"]
	if _, ok := f.Tensor("output.weight"); ok {
		if m.output, err = mat("output.weight", c.Embd, c.Vocab); err != nil {
			return nil, err
		}
	} else {
		m.output = m.embd // tied embeddings, as llama.cpp does
	}
	if m.ropeFreqs, err = optVec("rope_freqs.weight", c.Rot/2); err != nil {
		return nil, err
	}

	m.layers = make([]layer, c.Layers)
	for i := range m.layers {
		l := &m.layers[i]
		n := func(s string) string { return fmt.Sprintf("blk.%d.%s", i, s) }
		if l.attnNorm, err = vec(n("attn_norm.weight"), c.Embd); err != nil {
			return nil, err
		}
		l.attnNormID = ids[n("attn_norm.weight")]
		if l.ffnNorm, err = vec(n("ffn_norm.weight"), c.Embd); err != nil {
			return nil, err
		}
		l.ffnNID = ids[n("ffn_norm.weight")]
		for _, w := range []struct {
			dst        *weight
			name       string
			cols, rows int
		}{
			{&l.q, "attn_q.weight", c.Embd, c.QDim()},
			{&l.k, "attn_k.weight", c.Embd, c.KVDim()},
			{&l.v, "attn_v.weight", c.Embd, c.KVDim()},
			{&l.o, "attn_output.weight", c.QDim(), c.Embd},
			{&l.gate, "ffn_gate.weight", c.Embd, c.FF},
			{&l.up, "ffn_up.weight", c.Embd, c.FF},
			{&l.down, "ffn_down.weight", c.FF, c.Embd},
		} {
			if *w.dst, err = mat(n(w.name), w.cols, w.rows); err != nil {
				return nil, err
			}
		}
		for _, b := range []struct {
			dst  *[]float32
			name string
			n    int
		}{
			{&l.qb, "attn_q.bias", c.QDim()}, {&l.kb, "attn_k.bias", c.KVDim()},
			{&l.vb, "attn_v.bias", c.KVDim()}, {&l.ob, "attn_output.bias", c.Embd},
			{&l.gateb, "ffn_gate.bias", c.FF}, {&l.upb, "ffn_up.bias", c.FF},
			{&l.downb, "ffn_down.bias", c.Embd},
		} {
			if *b.dst, err = optVec(n(b.name), b.n); err != nil {
				return nil, err
			}
		}
	}
	// llama.cpp refuses files with tensors it does not use ("wrong number
	// of tensors"); so do we, naming the first stray one.
	for _, t := range f.Tensors {
		if !used[t.Name] {
			return nil, fmt.Errorf("model: unexpected tensor %q for architecture %s", t.Name, c.Arch)
		}
	}
	return m, nil
}

func checkShape(t *gguf.TensorInfo, want []int) error {
	ok := len(t.Dims) >= len(want)
	for i := 0; ok && i < len(t.Dims); i++ {
		w := 1
		if i < len(want) {
			w = want[i]
		}
		ok = t.Dims[i] == uint64(w)
	}
	if !ok {
		return fmt.Errorf("model: tensor %q has wrong shape %v, want %v", t.Name, t.Dims, want)
	}
	return nil
}

// TraceHeader describes the model for a trace: every tensor of the file in
// file order, so Event.Tensor indexes Header.Tensors.
//
// Settings carry the model's hyper-parameters under the names llama.cpp
// uses (n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim, n_vocab), so a
// consumer such as the simulator's compute model can count FLOPs without
// knowing transformers; callers add the engine settings of the run.
func (m *Model) TraceHeader() trace.Header {
	c := &m.Cfg
	h := trace.Header{ModelName: m.Name(), ModelSize: m.File.Size, Settings: map[string]string{
		"arch": c.Arch, "n_embd": strconv.Itoa(c.Embd), "n_layer": strconv.Itoa(c.Layers), "n_ff": strconv.Itoa(c.FF),
		"n_head": strconv.Itoa(c.Heads), "n_head_kv": strconv.Itoa(c.KVHeads), "head_dim": strconv.Itoa(c.HeadDim),
		"n_vocab": strconv.Itoa(c.Vocab),
	}}
	for _, t := range m.File.Tensors {
		h.Tensors = append(h.Tensors, trace.TensorSym{
			Name: t.Name, Type: t.Type.String(), Dims: append([]uint64(nil), t.Dims...),
			Offset: t.FileOffset, Size: t.Size,
		})
	}
	return h
}

// TensorStats summarizes parameters and bytes of a model, with the FFN
// share that activation sparsity can act on.
type TensorStats struct {
	Params, Bytes       uint64
	FFNParams, FFNBytes uint64
}

// Stats counts parameters and bytes over all tensors.
func (m *Model) Stats() TensorStats {
	var s TensorStats
	for _, t := range m.File.Tensors {
		s.Params += t.Elements()
		s.Bytes += t.Size
		if isFFNWeight(t.Name) {
			s.FFNParams += t.Elements()
			s.FFNBytes += t.Size
		}
	}
	return s
}

func isFFNWeight(name string) bool {
	return strings.HasSuffix(name, ".ffn_gate.weight") || strings.HasSuffix(name, ".ffn_up.weight") ||
		strings.HasSuffix(name, ".ffn_down.weight")
}
