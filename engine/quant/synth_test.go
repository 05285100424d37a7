package quant

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// dequantHashes mirrors ../shared/models/synth/ref/dequant-hashes.json:
// llama.cpp's dequantized float32 data of every tensor of every synth file.
type dequantHashes struct {
	Files map[string]struct {
		Tensors []struct {
			Name   string    `json:"name"`
			Type   string    `json:"type"`
			SHA256 string    `json:"deq_sha256"`
			Sum    float64   `json:"deq_sum"`
			SumSq  float64   `json:"deq_sumsq"`
			First8 []float64 `json:"deq_first8"`
		} `json:"tensors"`
	} `json:"files"`
}

func loadDequantHashes(t *testing.T) dequantHashes {
	t.Helper()
	raw, err := os.ReadFile(sharedtest.File(t, "models/synth/ref/dequant-hashes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var h dequantHashes
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSynthDequantHashes dequantizes every tensor of every quantized synth
// file and compares with llama.cpp's bytes (SHA-256), its sum and its
// first eight values.
func TestSynthDequantHashes(t *testing.T) {
	h := loadDequantHashes(t)
	names := make([]string, 0, len(h.Files))
	for n := range h.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[gguf.Type]int{}
	for _, name := range names {
		want := h.Files[name]
		f, err := gguf.Open(sharedtest.Model(t, "synth/"+name))
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Tensors) != len(f.Tensors) {
			t.Errorf("%s: %d tensors in the reference, %d in the file", name, len(want.Tensors), len(f.Tensors))
		}
		for _, wt := range want.Tensors {
			ti, ok := f.Tensor(wt.Name)
			if !ok {
				t.Errorf("%s: tensor %s missing", name, wt.Name)
				continue
			}
			if ti.Type.String() != wt.Type {
				t.Errorf("%s %s: type %s, reference says %s", name, wt.Name, ti.Type, wt.Type)
			}
			dst := make([]float32, ti.Elements())
			if err := Dequantize(ti.Type, f.TensorData(ti), dst); err != nil {
				t.Errorf("%s %s: %v", name, wt.Name, err)
				continue
			}
			seen[ti.Type]++
			var buf bytes.Buffer
			binary.Write(&buf, binary.LittleEndian, dst)
			sum := sha256.Sum256(buf.Bytes())
			if got := hex.EncodeToString(sum[:]); got != wt.SHA256 {
				t.Errorf("%s %s (%s): sha256 = %s, want %s", name, wt.Name, ti.Type, got, wt.SHA256)
			}
			var s, s2 float64
			for _, v := range dst {
				s += float64(v)
				s2 += float64(v) * float64(v)
			}
			if math.Abs(s-wt.Sum) > 1e-9*math.Max(1, math.Abs(wt.Sum)) || math.Abs(s2-wt.SumSq) > 1e-9*wt.SumSq {
				t.Errorf("%s %s: sum, sumsq = %v, %v, want %v, %v", name, wt.Name, s, s2, wt.Sum, wt.SumSq)
			}
			for i, w := range wt.First8 {
				if float64(dst[i]) != w {
					t.Errorf("%s %s: value %d = %v, want %v", name, wt.Name, i, dst[i], w)
				}
			}
		}
		f.Close()
	}
	for _, typ := range []gguf.Type{gguf.F32, gguf.Q4_0, gguf.Q8_0, gguf.Q2_K, gguf.Q3_K, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K} {
		if seen[typ] == 0 {
			t.Errorf("no %s tensor checked", typ)
		}
	}
	t.Logf("tensors checked per type: %v", seen)
}
