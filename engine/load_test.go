package engine

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// rewrite copies the stories260K file with its metadata and tensors passed
// through edit functions, so each test changes exactly one thing.
func rewrite(t *testing.T, editKV func(key string, v gguf.Value) (gguf.Value, bool), editTensor func(ti gguf.TensorInfo) (gguf.TensorInfo, []byte, bool)) string {
	t.Helper()
	src, err := gguf.Open(sharedPath(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, kv := range src.KV {
		v, keep := kv.Value, true
		if editKV != nil {
			v, keep = editKV(kv.Key, v)
		}
		if keep {
			if err := w.AddKV(kv.Key, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	type out struct {
		info gguf.TensorInfo
		data []byte
	}
	var outs []out
	for i := range src.Tensors {
		ti := src.Tensors[i]
		data, keep := src.TensorData(&ti), true
		if editTensor != nil {
			var d []byte
			ti, d, keep = editTensor(ti)
			if d != nil {
				data = d
			}
		}
		if !keep {
			continue
		}
		if err := w.AddTensor(ti.Name, ti.Type, ti.Dims...); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out{ti, data})
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if _, err := w.Write(o.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edited.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustValue(t *testing.T, x any) gguf.Value {
	v, err := gguf.MakeValue(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadRefusesWhatItCannotRun(t *testing.T) {
	cases := []struct {
		name    string
		editKV  func(string, gguf.Value) (gguf.Value, bool)
		editT   func(gguf.TensorInfo) (gguf.TensorInfo, []byte, bool)
		wantIs  error
		wantSub string
	}{
		{
			name: "unsupported architecture",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "general.architecture" {
					return mustValue(t, "gpt2"), true
				}
				return v, true
			},
			wantIs: ErrUnsupported, wantSub: `architecture "gpt2" (supported: llama)`,
		},
		{
			name: "gpt2 tokenizer",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "tokenizer.ggml.model" {
					return mustValue(t, "gpt2"), true
				}
				return v, true
			},
			wantSub: "gpt2 tokenizer (Llama 3, SmolLM) is not supported yet",
		},
		{
			name: "hyper-parameter disagrees with tensor shape",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "llama.feed_forward_length" {
					return mustValue(t, uint32(176)), true
				}
				return v, true
			},
			wantSub: `tensor "blk.0.ffn_gate.weight" has wrong shape [64 172], want [64 176]`,
		},
		{
			name: "key with the wrong type",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "llama.embedding_length" {
					return mustValue(t, uint64(64)), true
				}
				return v, true
			},
			wantIs: gguf.ErrWrongType, wantSub: `"llama.embedding_length" is u64, want u32`,
		},
		{
			name: "missing required key",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				return v, k != "llama.attention.layer_norm_rms_epsilon"
			},
			wantIs: gguf.ErrNotFound, wantSub: "llama.attention.layer_norm_rms_epsilon",
		},
		{
			name: "block count beyond the tensors",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "llama.block_count" {
					return mustValue(t, uint32(0x7fffffff)), true
				}
				return v, true
			},
			wantSub: "block_count 2147483647, but the file has only",
		},
		{
			name: "NaN epsilon",
			editKV: func(k string, v gguf.Value) (gguf.Value, bool) {
				if k == "llama.attention.layer_norm_rms_epsilon" {
					return mustValue(t, float32(math.NaN())), true
				}
				return v, true
			},
			wantSub: `"llama.attention.layer_norm_rms_epsilon" = NaN, want a small positive number`,
		},
		{
			name: "missing tensor",
			editT: func(ti gguf.TensorInfo) (gguf.TensorInfo, []byte, bool) {
				return ti, nil, ti.Name != "blk.3.attn_v.weight"
			},
			wantSub: `tensor "blk.3.attn_v.weight" not found`,
		},
		{
			name: "stray tensor",
			editT: func(ti gguf.TensorInfo) (gguf.TensorInfo, []byte, bool) {
				if ti.Name == "output.weight" {
					ti.Name = "output.extra"
				}
				return ti, nil, true
			},
			// Without output.weight the embeddings are tied; the renamed
			// tensor is then one llama.cpp would refuse as unused.
			wantSub: `unexpected tensor "output.extra"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := rewrite(t, tc.editKV, tc.editT)
			m, err := Load(path)
			if err == nil {
				m.Close()
				t.Fatalf("Load succeeded, want error containing %q", tc.wantSub)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Load error %v, want errors.Is %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantSub) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load error = %q, want one line containing %q", err, tc.wantSub)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("Load error = %q, want it to start with the file name", err)
			}
		})
	}
}

// Without output.weight the model uses the embeddings as the LM head, as
// llama.cpp does.
func TestTiedEmbeddings(t *testing.T) {
	path := rewrite(t, nil, func(ti gguf.TensorInfo) (gguf.TensorInfo, []byte, bool) { return ti, nil, ti.Name != "output.weight" })
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(Options{Ctx: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logits, err := s.Eval(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(logits) != 512 {
		t.Fatalf("%d logits, want 512", len(logits))
	}
	if m.output.offset != m.embd.offset {
		t.Errorf("LM head at offset %d, want token_embd's %d", m.output.offset, m.embd.offset)
	}
}

func TestFiniteLogits(t *testing.T) {
	if err := finiteLogits([]float32{0, -3.5, 1e30}, 4); err != nil {
		t.Errorf("finite logits: %v", err)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		err := finiteLogits([]float32{1, bad}, 7)
		if err == nil || !strings.Contains(err.Error(), "logit 1 of position 7") {
			t.Errorf("logit %v: error %v, want one naming logit 1 of position 7", bad, err)
		}
	}
}
