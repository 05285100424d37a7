package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

func mustNew(t testing.TB, name string, typ gguf.Type) *Generator {
	t.Helper()
	s, err := LookupShape(name)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Shape: s, Type: typ, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestShapesTable checks sizes and parameter counts against
// facts/shapes.md's table.
func TestShapesTable(t *testing.T) {
	tests := []struct {
		shape  string
		typ    gguf.Type
		params uint64
		bytes  int64
	}{
		{"synth-kq", gguf.F32, 1836288, 7357856},
		{"stories15M", gguf.F32, 24407712, 98548864},
		{"stories110M", gguf.F32, 134105856, 537344608},
		{"tinyllama-1.1b", gguf.F16, 1100048384, 2201207648},
	}
	for _, tt := range tests {
		g := mustNew(t, tt.shape, tt.typ)
		if g.Params() != tt.params || g.Size() != tt.bytes {
			t.Errorf("%s %v: params %d, bytes %d; want %d, %d", tt.shape, tt.typ, g.Params(), g.Size(), tt.params, tt.bytes)
		}
	}
	// Llama-2-7B's published parameter count (6.74e9) with untied output.
	if g := mustNew(t, "llama-2-7b", gguf.F32); g.Params() != 6738415616 {
		t.Errorf("llama-2-7b params = %d, want 6738415616", g.Params())
	}
}

// TestSynthKQBytes regenerates the shared synth-kq F32 file byte for byte.
func TestSynthKQBytes(t *testing.T) {
	want, err := os.ReadFile(sharedtest.Model(t, "synth/synth-kq-F32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	g := mustNew(t, "synth-kq", gguf.F32)
	var buf bytes.Buffer
	var calls int
	var last int64
	n, err := g.Write(context.Background(), &buf, func(done, total int64) {
		if done < last || total != int64(len(want)) {
			t.Fatalf("progress(%d, %d) after %d; want increasing towards %d", done, total, last, len(want))
		}
		last = done
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		i := 0
		for i < min(buf.Len(), len(want)) && buf.Bytes()[i] == want[i] {
			i++
		}
		t.Fatalf("synth-kq F32: %d bytes, first difference at %d; want the %d bytes of synth-kq-F32.gguf", n, i, len(want))
	}
	if last != n || calls < 2 {
		t.Errorf("progress: %d calls, last %d; want several, ending at %d", calls, last, n)
	}
}

type manifest struct {
	Version string `json:"version"`
	Name    string `json:"name"`
	Seed    uint64 `json:"seed"`
	Tensors []struct {
		Name   string   `json:"name"`
		Dims   []uint64 `json:"dims"`
		Type   string   `json:"type"`
		SHA256 string   `json:"sha256"`
	} `json:"tensors"`
}

// checkManifest hashes every generated tensor (without writing a file) and
// compares it with the shared manifest.
func checkManifest(t *testing.T, file, shape string, typ gguf.Type) {
	t.Helper()
	b, err := os.ReadFile(sharedtest.File(t, "models/synth/manifests/"+file))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	g := mustNew(t, shape, typ)
	if m.Version != Version || m.Seed != 1 || m.Name != g.Config().Shape.Name {
		t.Errorf("%s: version %q seed %d name %q; want %q 1 %q", file, m.Version, m.Seed, m.Name, Version, g.Config().Shape.Name)
	}
	ts := g.Tensors()
	if len(ts) != len(m.Tensors) {
		t.Fatalf("%s: %d tensors, generator has %d", file, len(m.Tensors), len(ts))
	}
	for i, mt := range m.Tensors {
		tt := ts[i]
		if tt.Name != mt.Name || !reflect.DeepEqual(tt.Dims, mt.Dims) || tt.Type.String() != mt.Type {
			t.Errorf("%s: tensor %d is %s %v %v, want %s %s %v", file, i, tt.Name, tt.Type, tt.Dims, mt.Name, mt.Type, mt.Dims)
			continue
		}
		h := sha256.New()
		if err := g.WriteTensor(context.Background(), h, i); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != mt.SHA256 {
			t.Errorf("%s: sha256(%s) = %s, want %s", file, mt.Name, got, mt.SHA256)
		}
	}
}

func TestManifestSynthKQ(t *testing.T) {
	checkManifest(t, "synth-kq-F32.manifest.json", "synth-kq", gguf.F32)
}

func TestManifestStories15M(t *testing.T) {
	checkManifest(t, "stories15M-shape-F32.manifest.json", "stories15M", gguf.F32)
}

// The two big manifests hash 0.5 GB and 2.2 GB of generated tensors;
// they are skipped with -short.
func TestManifestStories110M(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 537 MB of tensors; skipped with -short")
	}
	checkManifest(t, "stories110M-shape-F32.manifest.json", "stories110M", gguf.F32)
}

func TestManifestTinyLlama(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 2.2 GB of tensors; skipped with -short")
	}
	checkManifest(t, "tinyllama-shape-F16.manifest.json", "tinyllama-1.1b", gguf.F16)
}

// TestVocabMatchesStories260K checks the embedded vocabulary against the
// real file it was generated from.
func TestVocabMatchesStories260K(t *testing.T) {
	f, err := gguf.Open(sharedtest.Model(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tokens, _ := f.Strings("tokenizer.ggml.tokens")
	scores, _ := f.Float32s("tokenizer.ggml.scores")
	types, _ := f.Int32s("tokenizer.ggml.token_type")
	if !reflect.DeepEqual(tokens, baseTokens[:]) || !reflect.DeepEqual(types, baseTypes[:]) || len(scores) != len(baseScores) {
		t.Fatalf("embedded vocabulary differs from stories260K.gguf; regenerate vocab_data.go with gen_vocab.go")
	}
	// Compare scores bit for bit: == would equate 0 and -0 (token 259).
	for i := range scores {
		if math.Float32bits(scores[i]) != math.Float32bits(baseScores[i]) {
			t.Errorf("score[%d] = %#08x, stories260K.gguf has %#08x", i, math.Float32bits(baseScores[i]), math.Float32bits(scores[i]))
		}
	}
	if !math.Signbit(float64(baseScores[259])) {
		t.Error("score[259] lost its negative zero")
	}
}

// TestFileContents parses a generated file and checks the metadata and
// vocabulary extension that facts/shapes.md specifies.
func TestFileContents(t *testing.T) {
	s := Shape{Name: "test", Dim: 64, FFN: 96, Layers: 1, Heads: 4, KVHeads: 2, Vocab: 600, Context: 32}
	g, err := New(Config{Shape: s, Type: gguf.F16, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := g.Write(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != g.Size() {
		t.Errorf("wrote %d bytes, Size() = %d", buf.Len(), g.Size())
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	u32 := map[string]uint32{
		"general.file_type": 1, "llama.vocab_size": 600, "llama.context_length": 32, "llama.embedding_length": 64,
		"llama.block_count": 1, "llama.feed_forward_length": 96, "llama.attention.head_count": 4,
		"llama.attention.head_count_kv": 2, "llama.rope.dimension_count": 16, "tokenizer.ggml.bos_token_id": 1,
		"tokenizer.ggml.eos_token_id": 2, "tokenizer.ggml.unknown_token_id": 0, "general.alignment": 32,
	}
	for k, want := range u32 {
		if got, err := f.Uint32(k); got != want || err != nil {
			t.Errorf("Uint32(%q) = %d, %v; want %d", k, got, err, want)
		}
	}
	if eps, _ := f.Float32("llama.attention.layer_norm_rms_epsilon"); eps != float32(1e-5) {
		t.Errorf("rms eps = %g, want 1e-5", eps)
	}
	if name, _ := f.String("general.name"); name != "test" {
		t.Errorf("general.name = %q, want test", name)
	}
	tokens, _ := f.Strings("tokenizer.ggml.tokens")
	scores, _ := f.Float32s("tokenizer.ggml.scores")
	types, _ := f.Int32s("tokenizer.ggml.token_type")
	if len(tokens) != 600 || tokens[511] != baseTokens[511] || tokens[512] != "<extra_512>" || tokens[599] != "<extra_599>" ||
		scores[512] != -1e9 || types[512] != 1 || scores[511] != baseScores[511] {
		t.Errorf("vocab extension: tokens[511:513] = %q, scores[512] = %g, types[512] = %d", tokens[511:513], scores[512], types[512])
	}
	types2 := map[string]gguf.Type{"token_embd.weight": gguf.F16, "output_norm.weight": gguf.F32, "blk.0.ffn_down.weight": gguf.F16, "blk.0.ffn_norm.weight": gguf.F32}
	for name, want := range types2 {
		if ti, ok := f.Tensor(name); !ok || ti.Type != want {
			t.Errorf("Tensor(%q) type = %v, want %v", name, ti, want)
		}
	}
	k, _ := f.Tensor("blk.0.attn_k.weight")
	if !reflect.DeepEqual(k.Dims, []uint64{64, 32}) {
		t.Errorf("attn_k dims = %v, want [64 32] (head_dim 16 × 2 kv heads)", k.Dims)
	}
	// Norm values are f32 from the norm table, whatever the matrix type.
	n, _ := f.Tensor("output_norm.weight")
	var want bytes.Buffer
	if err := g.WriteTensor(context.Background(), &want, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.TensorData(n), want.Bytes()) {
		t.Error("output_norm.weight data differs from WriteTensor(1)")
	}
}

// TestSeedAndTypeConsistency: the F16 matrices are the F32 ones rounded
// from the same float64 values, and another seed gives other values.
func TestSeedAndTypeConsistency(t *testing.T) {
	s, _ := LookupShape("synth-kq")
	data := func(typ gguf.Type, seed uint64, i int) []byte {
		g, err := New(Config{Shape: s, Type: typ, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := g.WriteTensor(context.Background(), &b, i); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	f32, f16 := data(gguf.F32, 1, 3), data(gguf.F16, 1, 3)
	tb := getTables()
	for j := 0; j < len(f16)/2; j += 997 {
		u16 := uint16(f16[2*j]) | uint16(f16[2*j+1])<<8
		v32 := uint32(f32[4*j]) | uint32(f32[4*j+1])<<8 | uint32(f32[4*j+2])<<16 | uint32(f32[4*j+3])<<24
		// Find u from the f32 value's table position: both come from the
		// same stream element.
		found := false
		for u := range 65536 {
			if math.Float32bits(tb.matrixF32[u]) == v32 {
				found = tb.matrixF16[u] == u16
				break
			}
		}
		if !found {
			t.Fatalf("element %d: f16 %#04x is not the f16 rounding of f32 bits %#08x", j, u16, v32)
		}
	}
	if bytes.Equal(data(gguf.F32, 2, 3), f32) {
		t.Error("seed 2 gives the same attn_q as seed 1")
	}
	if norm16, norm32 := data(gguf.F16, 1, 1), data(gguf.F32, 1, 1); !bytes.Equal(norm16, norm32) {
		t.Error("norms differ between the F16 and F32 files; they must stay F32")
	}
}

func TestConfigErrors(t *testing.T) {
	good, _ := LookupShape("synth-kq")
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"zero dim", func(c *Config) { c.Shape.Dim = 0 }, "dim = 0"},
		{"heads do not divide dim", func(c *Config) { c.Shape.Heads = 3 }, "not a multiple of heads"},
		{"kv heads do not divide heads", func(c *Config) { c.Shape.KVHeads = 3 }, "not a multiple of kv-heads"},
		{"odd head dim", func(c *Config) { c.Shape.Dim, c.Shape.Heads, c.Shape.KVHeads = 24, 8, 8 }, "odd"},
		{"small vocab", func(c *Config) { c.Shape.Vocab = 100 }, "vocab = 100"},
		{"huge ffn", func(c *Config) { c.Shape.FFN = 1 << 30 }, "ffn"},
		{"no name", func(c *Config) { c.Shape.Name = "" }, "name"},
		{"unsupported type", func(c *Config) { c.Type = gguf.Q4_K }, "not supported"},
		{"type id out of range", func(c *Config) { c.Type = 200 }, "not supported"},
	}
	for _, tt := range tests {
		c := Config{Shape: good, Type: gguf.F32, Seed: 1}
		tt.mutate(&c)
		_, err := New(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := LookupShape("gpt-5"); err == nil || !strings.Contains(err.Error(), "stories110M") {
		t.Errorf("LookupShape(gpt-5) error = %v, want one listing the known shapes", err)
	}
}

func TestCancel(t *testing.T) {
	g := mustNew(t, "stories15M", gguf.F32)
	ctx, cancel := context.WithCancel(context.Background())
	var n int64
	_, err := g.Write(ctx, discard{&n}, func(done, total int64) {
		if done > 1<<20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || n > 4<<20 {
		t.Errorf("Write after cancel: err %v after %d bytes; want context.Canceled within a few MB", err, n)
	}
}

type discard struct{ n *int64 }

func (d discard) Write(p []byte) (int, error) { *d.n += int64(len(p)); return len(p), nil }

// TestQuantizedMatchesLlamaQuantize compares every tensor that
// llama-quantize stored in our policy's type (Q8_0: all matrices; Q4_0:
// all but output.weight, which it keeps in Q6_K) with ours, byte for byte.
func TestQuantizedMatchesLlamaQuantize(t *testing.T) {
	for _, tt := range []struct {
		file string
		typ  gguf.Type
		want int // tensors compared
	}{
		{"synth/synth-kq-Q8_0.gguf", gguf.Q8_0, 21},
		{"synth/synth-kq-Q4_0.gguf", gguf.Q4_0, 20},
	} {
		f, err := gguf.Open(sharedtest.Model(t, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		g := mustNew(t, "synth-kq", tt.typ)
		compared := 0
		for i, ours := range g.Tensors() {
			ref, ok := f.Tensor(ours.Name)
			if !ok {
				t.Fatalf("%s: no tensor %s", tt.file, ours.Name)
			}
			if ref.Type != ours.Type {
				continue
			}
			var b bytes.Buffer
			if err := g.WriteTensor(context.Background(), &b, i); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), f.TensorData(ref)) {
				t.Errorf("%s: %s (%v) differs from llama-quantize's", tt.file, ours.Name, ours.Type)
			}
			compared++
		}
		if compared != tt.want {
			t.Errorf("%s: compared %d tensors, want %d", tt.file, compared, tt.want)
		}
		f.Close()
	}
}

func TestQuantizedFile(t *testing.T) {
	s := Shape{Name: "q", Dim: 64, FFN: 48, Layers: 1, Heads: 2, KVHeads: 1, Vocab: 512, Context: 16}
	g, err := New(Config{Shape: s, Type: gguf.Q4_0, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := g.Write(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// ffn_down rows are 48 wide, not whole 32-blocks: F16, as llama.cpp's
	// converter falls back.
	want := map[string]gguf.Type{"token_embd.weight": gguf.Q4_0, "output.weight": gguf.Q4_0, "blk.0.ffn_gate.weight": gguf.Q4_0,
		"blk.0.ffn_down.weight": gguf.F16, "blk.0.attn_norm.weight": gguf.F32}
	for name, typ := range want {
		if ti, ok := f.Tensor(name); !ok || ti.Type != typ {
			t.Errorf("Tensor(%q) = %v, want type %v", name, ti, typ)
		}
	}
	ft, _ := f.Uint32("general.file_type")
	qv, _ := f.Uint32("general.quantization_version")
	if ft != 2 || qv != 2 {
		t.Errorf("file_type %d, quantization_version %d; want 2, 2", ft, qv)
	}
}
