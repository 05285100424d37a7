package synth

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/quant"
)

// Config selects what to generate.
type Config struct {
	Shape Shape
	// Type is the storage type of the weight matrices: F32, F16, Q8_0 or
	// Q4_0. Norm weights are always F32. Quantized types apply to every
	// matrix, token_embd and output included; a matrix whose rows are not
	// a whole number of blocks is stored as F16, as llama.cpp's converter
	// does.
	Type gguf.Type
	// Seed selects the values; facts/shapes.md's files use seed 1.
	Seed uint64
}

// Validate checks the shape and the type.
func (c Config) Validate() error {
	if err := c.Shape.Validate(); err != nil {
		return err
	}
	if _, ok := fileTypes[c.Type]; !ok {
		return fmt.Errorf("synth: type %v not supported (want f32, f16, q8_0 or q4_0)", c.Type)
	}
	return nil
}

// fileTypes maps matrix types to llama.cpp's general.file_type
// (LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q4_0, MOSTLY_Q8_0).
var fileTypes = map[gguf.Type]uint32{gguf.F32: 0, gguf.F16: 1, gguf.Q4_0: 2, gguf.Q8_0: 7}

// SupportedTypes lists the matrix types New accepts.
func SupportedTypes() []gguf.Type {
	return []gguf.Type{gguf.F32, gguf.F16, gguf.Q8_0, gguf.Q4_0}
}

// Kind says how a tensor's values are distributed.
type Kind uint8

const (
	Matrix Kind = iota // N(0, 0.02)
	Norm               // N(1, 0.1)
)

func (k Kind) String() string {
	if k == Norm {
		return "norm"
	}
	return "matrix"
}

// Tensor is one tensor of the model, in file order.
type Tensor struct {
	Name string
	Dims []uint64 // GGUF ne order: Dims[0] is the contiguous one
	Type gguf.Type
	Kind Kind
}

// Elements is the number of values.
func (t Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Size is the number of data bytes.
func (t Tensor) Size() uint64 { return t.Type.RowSize(t.Dims[0]) * (t.Elements() / t.Dims[0]) }

// Generator writes one synthetic model.
type Generator struct {
	cfg     Config
	tensors []Tensor
	size    int64 // file bytes
}

// New checks cfg and plans the file.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, tensors: plan(cfg)}
	w, err := g.declare(io.Discard)
	if err != nil {
		return nil, err
	}
	g.size = w.Size()
	return g, nil
}

// plan lists the tensors in the order of facts/shapes.md.
func plan(cfg Config) []Tensor {
	s := cfg.Shape
	dim, ff, kv := uint64(s.Dim), uint64(s.FFN), uint64(s.HeadDim()*s.KVHeads)
	matrix := func(name string, ne0, ne1 uint64) Tensor {
		t := cfg.Type
		if ne0%t.BlockSize() != 0 {
			t = gguf.F16
		}
		return Tensor{Name: name, Dims: []uint64{ne0, ne1}, Type: t, Kind: Matrix}
	}
	norm := func(name string) Tensor {
		return Tensor{Name: name, Dims: []uint64{dim}, Type: gguf.F32, Kind: Norm}
	}
	ts := []Tensor{
		matrix("token_embd.weight", dim, uint64(s.Vocab)),
		norm("output_norm.weight"),
		matrix("output.weight", dim, uint64(s.Vocab)),
	}
	for i := range s.Layers {
		p := "blk." + strconv.Itoa(i) + "."
		ts = append(ts,
			matrix(p+"attn_q.weight", dim, dim),
			matrix(p+"attn_k.weight", dim, kv),
			matrix(p+"attn_v.weight", dim, kv),
			matrix(p+"attn_output.weight", dim, dim),
			norm(p+"attn_norm.weight"),
			matrix(p+"ffn_gate.weight", dim, ff),
			matrix(p+"ffn_down.weight", ff, dim),
			matrix(p+"ffn_up.weight", dim, ff),
			norm(p+"ffn_norm.weight"),
		)
	}
	return ts
}

// vocab returns the tokenizer arrays for n tokens: the base vocabulary
// cut or extended with <extra_ID> tokens (score -1e9, type normal).
func vocab(n int) ([]string, []float32, []int32) {
	tokens := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	for i := range n {
		if i < len(baseTokens) {
			tokens[i], scores[i], types[i] = baseTokens[i], baseScores[i], baseTypes[i]
			continue
		}
		tokens[i], scores[i], types[i] = "<extra_"+strconv.Itoa(i)+">", -1e9, 1
	}
	return tokens, scores, types
}

// declare returns a gguf.Writer on w with all metadata and tensors
// declared, in the order of facts/shapes.md.
func (g *Generator) declare(w io.Writer) (*gguf.Writer, error) {
	s := g.cfg.Shape
	tokens, scores, types := vocab(s.Vocab)
	gw := gguf.NewWriter(w)
	kvs := []struct {
		key string
		val any
	}{
		{"general.architecture", "llama"},
		{"general.name", s.Name},
		{"general.file_type", fileTypes[g.cfg.Type]},
		{gguf.KeyAlignment, uint32(gguf.DefaultAlignment)},
		{"llama.vocab_size", uint32(s.Vocab)},
		{"llama.context_length", uint32(s.Context)},
		{"llama.embedding_length", uint32(s.Dim)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.FFN)},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.KVHeads)},
		{"llama.rope.dimension_count", uint32(s.HeadDim())},
		{"llama.rope.freq_base", float32(RopeFreqBase)},
		{"llama.attention.layer_norm_rms_epsilon", float32(RMSEpsilon)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.eos_token_id", uint32(2)},
		{"tokenizer.ggml.unknown_token_id", uint32(0)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}
	if g.cfg.Type != gguf.F32 && g.cfg.Type != gguf.F16 {
		// As llama-quantize records it (GGML_QNT_VERSION).
		kvs = append(kvs, struct {
			key string
			val any
		}{"general.quantization_version", uint32(2)})
	}
	for _, kv := range kvs {
		if err := gw.Add(kv.key, kv.val); err != nil {
			return nil, err
		}
	}
	for _, t := range g.tensors {
		if err := gw.AddTensor(t.Name, t.Type, t.Dims...); err != nil {
			return nil, err
		}
	}
	return gw, nil
}

// Config returns the configuration the generator was made with.
func (g *Generator) Config() Config { return g.cfg }

// Tensors returns the tensors in file order.
func (g *Generator) Tensors() []Tensor { return g.tensors }

// Params is the number of weights.
func (g *Generator) Params() uint64 {
	var n uint64
	for _, t := range g.tensors {
		n += t.Elements()
	}
	return n
}

// Size is the size of the file in bytes.
func (g *Generator) Size() int64 { return g.size }

// Progress is called after each chunk with the bytes written so far and
// the total. It runs on the writing goroutine; keep it cheap.
type Progress func(done, total int64)

// Write writes the model file to w, streaming: memory use is a few rows
// of the widest tensor, whatever the model size. It stops with ctx's
// error when ctx is cancelled.
func (g *Generator) Write(ctx context.Context, w io.Writer, progress Progress) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	gw, err := g.declare(bw)
	if err != nil {
		return 0, err
	}
	total := g.Size()
	if err := gw.WriteHeader(); err != nil {
		return gw.Written(), err
	}
	for i := range g.tensors {
		err := g.generate(ctx, i, func(chunk []byte) error {
			if _, err := gw.Write(chunk); err != nil {
				return err
			}
			if progress != nil {
				progress(gw.Written(), total)
			}
			return nil
		})
		if err != nil {
			return gw.Written(), err
		}
	}
	if err := gw.Close(); err != nil {
		return gw.Written(), err
	}
	if err := bw.Flush(); err != nil {
		return gw.Written(), err
	}
	if progress != nil {
		progress(gw.Written(), total)
	}
	return gw.Written(), nil
}

// WriteTensor writes the data of tensor i (no padding) to w: what a
// manifest's per-tensor SHA-256 covers.
func (g *Generator) WriteTensor(ctx context.Context, w io.Writer, i int) error {
	if i < 0 || i >= len(g.tensors) {
		return fmt.Errorf("synth: tensor index %d out of range [0, %d)", i, len(g.tensors))
	}
	return g.generate(ctx, i, func(chunk []byte) error {
		_, err := w.Write(chunk)
		return err
	})
}

// chunkElems is about how many values are generated per chunk: large
// enough to amortize calls, small enough to stay in cache.
const chunkElems = 1 << 15

// generate produces tensor i's bytes in whole-row chunks and passes each
// to emit (which must not keep it).
func (g *Generator) generate(ctx context.Context, i int, emit func([]byte) error) error {
	t := g.tensors[i]
	tb := getTables()
	rowLen := t.Dims[0]
	rows := t.Elements() / rowLen
	rowsPerChunk := max(1, chunkElems/rowLen)
	n := rowsPerChunk * rowLen
	raw := make([]byte, 2*n)
	out := make([]byte, rowsPerChunk*t.Type.RowSize(rowLen))
	var vals []float32
	if t.Type != gguf.F32 && t.Type != gguf.F16 {
		vals = make([]float32, n)
	}
	h := stream(g.cfg.Seed, t.Name)
	for done := uint64(0); done < rows; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(rowsPerChunk, rows-done)
		m := k * rowLen
		h.Read(raw[:2*m])
		var chunk []byte
		switch {
		case t.Kind == Norm:
			chunk = out[:4*m]
			for j := range m {
				u := binary.LittleEndian.Uint16(raw[2*j:])
				binary.LittleEndian.PutUint32(chunk[4*j:], math.Float32bits(tb.normF32[u]))
			}
		case t.Type == gguf.F32:
			chunk = out[:4*m]
			for j := range m {
				u := binary.LittleEndian.Uint16(raw[2*j:])
				binary.LittleEndian.PutUint32(chunk[4*j:], math.Float32bits(tb.matrixF32[u]))
			}
		case t.Type == gguf.F16:
			chunk = out[:2*m]
			for j := range m {
				u := binary.LittleEndian.Uint16(raw[2*j:])
				binary.LittleEndian.PutUint16(chunk[2*j:], tb.matrixF16[u])
			}
		default:
			rs := t.Type.RowSize(rowLen)
			chunk = out[:k*rs]
			for j := range m {
				vals[j] = tb.matrixF32[binary.LittleEndian.Uint16(raw[2*j:])]
			}
			for r := range k {
				if err := quant.QuantizeRow(t.Type, vals[r*rowLen:(r+1)*rowLen], chunk[r*rs:(r+1)*rs]); err != nil {
					return fmt.Errorf("synth: quantizing %s: %w", t.Name, err)
				}
			}
		}
		if err := emit(chunk); err != nil {
			return err
		}
		done += k
	}
	return nil
}
