package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

// tiny builds a small valid file: two metadata pairs and two tensors
// (an F32 [4,2] and a Q8_0 [32]), returning the bytes and the layout.
func tiny(t testing.TB, version uint32) ([]byte, Layout) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must(t, w.SetVersion(version))
	must(t, w.Add("general.architecture", "llama"))
	must(t, w.Add("tokenizer.ggml.tokens", []string{"<unk>", "a", ""}))
	must(t, w.AddTensor("a.weight", F32, 4, 2))
	must(t, w.AddTensor("b.weight", Q8_0, 32))
	must(t, w.WriteHeader())
	a := make([]byte, 32)
	for i := range a {
		a[i] = byte(i + 1)
	}
	b := make([]byte, 34)
	for i := range b {
		b[i] = byte(100 + i)
	}
	// Split writes across the tensor boundary to exercise chunking.
	data := append(a, b...)
	for len(data) > 0 {
		k := min(len(data), 7)
		n, err := w.Write(data[:k])
		must(t, err)
		if n != k {
			t.Fatalf("Write(%d bytes) = %d", k, n)
		}
		data = data[k:]
	}
	must(t, w.Close())
	return buf.Bytes(), w.Layout()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriterBytes checks the encoding against bytes laid out by hand from
// the format description (facts/gguf-and-quants.md §1.1).
func TestWriterBytes(t *testing.T) {
	got, l := tiny(t, 3)
	var want []byte
	le := binary.LittleEndian
	str := func(s string) { want = le.AppendUint64(want, uint64(len(s))); want = append(want, s...) }
	want = append(want, "GGUF"...)
	want = le.AppendUint32(want, 3)
	want = le.AppendUint64(want, 2) // tensors
	want = le.AppendUint64(want, 2) // kv
	str("general.architecture")
	want = le.AppendUint32(want, 8)
	str("llama")
	str("tokenizer.ggml.tokens")
	want = le.AppendUint32(want, 9)
	want = le.AppendUint32(want, 8)
	want = le.AppendUint64(want, 3)
	str("<unk>")
	str("a")
	str("")
	str("a.weight")
	want = le.AppendUint32(want, 2)
	want = le.AppendUint64(want, 4)
	want = le.AppendUint64(want, 2)
	want = le.AppendUint32(want, 0)
	want = le.AppendUint64(want, 0)
	str("b.weight")
	want = le.AppendUint32(want, 1)
	want = le.AppendUint64(want, 32)
	want = le.AppendUint32(want, 8)
	want = le.AppendUint64(want, 32) // 32 bytes of a.weight, already aligned
	infosEnd := len(want)
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	dataOff := len(want)
	for i := range 32 {
		want = append(want, byte(i+1))
	}
	for i := range 34 {
		want = append(want, byte(100+i))
	}
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("tiny file:\n got %x\nwant %x", got, want)
	}
	if l.InfosEnd != int64(infosEnd) || l.DataOffset != int64(dataOff) || l.Size != int64(len(want)) {
		t.Errorf("Layout = {InfosEnd %d DataOffset %d Size %d}, want {%d %d %d}", l.InfosEnd, l.DataOffset, l.Size, infosEnd, dataOff, len(want))
	}
	if l.Tensors[1].Data != int64(dataOff+32) {
		t.Errorf("Layout.Tensors[1].Data = %d, want %d", l.Tensors[1].Data, dataOff+32)
	}
	if v := le.Uint32(got[l.Tensors[1].Type:]); v != uint32(Q8_0) {
		t.Errorf("type field at Layout.Tensors[1].Type = %d, want %d", v, Q8_0)
	}
}

// TestRoundTripValues writes every value type, scalar and array, in v2 and
// v3, and reads them back.
func TestRoundTripValues(t *testing.T) {
	values := []any{
		uint8(0xfe), int8(-7), uint16(0xbeef), int16(-12345), uint32(0xdeadbeef), int32(-2000000000),
		float32(-1.5e-3), true, false, "héllo\x00world", "", uint64(1 << 63), int64(-1 << 62), math.Pi,
		float32(math.Inf(-1)),
		[]uint8{1, 2, 255}, []int8{-128, 127}, []uint16{0, 65535}, []int16{-32768, 1},
		[]uint32{7}, []int32{-1, 0, 1}, []float32{0.25, -1e9}, []bool{true, false, true},
		[]string{"<unk>", "", "▁the", "\xff\xfe"}, []uint64{}, []int64{math.MinInt64}, []float64{1e300, -0.0},
		[]string{},
	}
	for _, version := range []uint32{2, 3} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		must(t, w.SetVersion(version))
		keys := make([]string, len(values))
		for i, v := range values {
			keys[i] = "k" + string(rune('a'+i))
			must(t, w.Add(keys[i], v))
		}
		must(t, w.Close())
		f, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("v%d: Parse: %v", version, err)
		}
		if f.Version != version {
			t.Errorf("Version = %d, want %d", f.Version, version)
		}
		if len(f.KV) != len(values) {
			t.Fatalf("v%d: %d KVs, want %d", version, len(f.KV), len(values))
		}
		for i, v := range values {
			got, ok := f.Lookup(keys[i])
			if !ok {
				t.Fatalf("v%d: Lookup(%q) missing", version, keys[i])
			}
			want, _ := MakeValue(v)
			if got.Type != want.Type || got.Elem != want.Elem || !reflect.DeepEqual(got.Any(), v) {
				t.Errorf("v%d: Lookup(%q) = %s %#v, want %s %#v", version, keys[i], got.TypeName(), got.Any(), want.TypeName(), v)
			}
			if f.KV[i].Key != keys[i] {
				t.Errorf("v%d: KV[%d].Key = %q, want %q (order kept)", version, i, f.KV[i].Key, keys[i])
			}
		}
		// Files without tensors still end on the alignment, as llama.cpp
		// writes them.
		if f.Size%32 != 0 || f.DataOffset != f.Size {
			t.Errorf("v%d: size %d, data offset %d; want both equal and a multiple of 32", version, f.Size, f.DataOffset)
		}
	}
}

func TestTypedGetters(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must(t, w.Add("s", "x"))
	must(t, w.Add("u", uint32(7)))
	must(t, w.Add("f", float32(0.5)))
	must(t, w.Add("b", true))
	must(t, w.Add("ss", []string{"a", "b"}))
	must(t, w.Add("fs", []float32{1, 2}))
	must(t, w.Add("is", []int32{-1}))
	must(t, w.Add("u64", uint64(7)))
	must(t, w.Close())
	f, err := Parse(buf.Bytes())
	must(t, err)
	if v, err := f.String("s"); v != "x" || err != nil {
		t.Errorf("String(s) = %q, %v; want x", v, err)
	}
	if v, err := f.Uint32("u"); v != 7 || err != nil {
		t.Errorf("Uint32(u) = %d, %v; want 7", v, err)
	}
	if v, err := f.Float32("f"); v != 0.5 || err != nil {
		t.Errorf("Float32(f) = %v, %v; want 0.5", v, err)
	}
	if v, err := f.Bool("b"); !v || err != nil {
		t.Errorf("Bool(b) = %v, %v; want true", v, err)
	}
	if v, err := f.Strings("ss"); !reflect.DeepEqual(v, []string{"a", "b"}) || err != nil {
		t.Errorf("Strings(ss) = %q, %v", v, err)
	}
	if v, err := f.Float32s("fs"); !reflect.DeepEqual(v, []float32{1, 2}) || err != nil {
		t.Errorf("Float32s(fs) = %v, %v", v, err)
	}
	if v, err := f.Int32s("is"); !reflect.DeepEqual(v, []int32{-1}) || err != nil {
		t.Errorf("Int32s(is) = %v, %v", v, err)
	}
	// llama.cpp's getters require the exact type: a u64 is not a u32.
	if _, err := f.Uint32("u64"); !errors.Is(err, ErrWrongType) {
		t.Errorf("Uint32(u64) error = %v, want ErrWrongType", err)
	}
	if _, err := f.Strings("fs"); !errors.Is(err, ErrWrongType) {
		t.Errorf("Strings(fs) error = %v, want ErrWrongType", err)
	}
	if _, err := f.String("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("String(missing) error = %v, want ErrNotFound", err)
	}
}

func TestTensorRoundTrip(t *testing.T) {
	b, l := tiny(t, 2)
	f, err := Parse(b)
	must(t, err)
	if f.Version != 2 {
		t.Errorf("Version = %d, want 2", f.Version)
	}
	ta, ok := f.Tensor("a.weight")
	if !ok {
		t.Fatal("Tensor(a.weight) missing")
	}
	if !reflect.DeepEqual(ta.Dims, []uint64{4, 2}) || ta.Type != F32 || ta.Size != 32 || ta.Rows() != 2 || ta.RowSize() != 16 || ta.Elements() != 8 {
		t.Errorf("a.weight = %+v", *ta)
	}
	if got := f.TensorData(ta); got[0] != 1 || got[31] != 32 || len(got) != 32 {
		t.Errorf("TensorData(a.weight) = %v", got)
	}
	tb, _ := f.Tensor("b.weight")
	if tb.Offset != 32 || tb.FileOffset != uint64(l.Tensors[1].Data) || tb.Size != 34 {
		t.Errorf("b.weight offset %d file offset %d size %d, want 32 %d 34", tb.Offset, tb.FileOffset, tb.Size, l.Tensors[1].Data)
	}
	if got := f.TensorData(tb); got[0] != 100 || got[33] != 133 {
		t.Errorf("TensorData(b.weight) = %v", got)
	}
}

func TestWriterRejects(t *testing.T) {
	tests := []struct {
		name string
		do   func(w *Writer) error
	}{
		{"duplicate key", func(w *Writer) error { w.Add("a", uint8(1)); return w.Add("a", uint8(2)) }},
		{"alignment type", func(w *Writer) error { return w.Add(KeyAlignment, uint64(32)) }},
		{"alignment not power of two", func(w *Writer) error { return w.Add(KeyAlignment, uint32(48)) }},
		{"alignment zero", func(w *Writer) error { return w.Add(KeyAlignment, uint32(0)) }},
		{"bad value", func(w *Writer) error { return w.AddKV("a", Value{}) }},
		{"unsupported Go type", func(w *Writer) error { return w.Add("a", 3) }},
		{"mismatched array", func(w *Writer) error {
			return w.AddKV("a", Value{Type: TypeArray, Elem: TypeInt32, v: []uint32{1}})
		}},
		{"duplicate tensor", func(w *Writer) error { w.AddTensor("t", F32, 1); return w.AddTensor("t", F32, 1) }},
		{"long name", func(w *Writer) error { return w.AddTensor(strings.Repeat("x", 64), F32, 1) }},
		{"no dims", func(w *Writer) error { return w.AddTensor("t", F32) }},
		{"five dims", func(w *Writer) error { return w.AddTensor("t", F32, 1, 1, 1, 1, 1) }},
		{"zero dim", func(w *Writer) error { return w.AddTensor("t", F32, 4, 0) }},
		{"removed type", func(w *Writer) error { return w.AddTensor("t", Type(4), 32) }},
		{"block size", func(w *Writer) error { return w.AddTensor("t", Q4_0, 48) }},
		{"element overflow", func(w *Writer) error { return w.AddTensor("t", F32, 1<<32, 1<<32) }},
		{"byte size overflow", func(w *Writer) error { return w.AddTensor("t", Q8_K, 256<<40, 1<<14) }},
		{"version", func(w *Writer) error { return w.SetVersion(1) }},
		{"write before header", func(w *Writer) error { _, err := w.Write([]byte{1}); return err }},
		{"too much data", func(w *Writer) error {
			w.AddTensor("t", F32, 1)
			w.WriteHeader()
			_, err := w.Write(make([]byte, 5))
			return err
		}},
		{"too little data", func(w *Writer) error {
			w.AddTensor("t", F32, 2)
			w.WriteHeader()
			w.Write(make([]byte, 4))
			return w.Close()
		}},
		{"declare after header", func(w *Writer) error { w.WriteHeader(); return w.Add("a", true) }},
	}
	for _, tt := range tests {
		w := NewWriter(&bytes.Buffer{})
		err := tt.do(w)
		if err == nil {
			t.Errorf("%s: error = nil, want an error", tt.name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q spans lines", tt.name, err)
		}
	}
}

func TestWriterAlignment(t *testing.T) {
	for _, align := range []uint32{1, 8, 64, 4096} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		must(t, w.AddTensor("a", F32, 3))
		must(t, w.AddTensor("b", F16, 5))
		// Declared after the tensors: offsets must still use it.
		must(t, w.Add(KeyAlignment, align))
		must(t, w.WriteHeader())
		_, err := w.Write(make([]byte, 12+10))
		must(t, err)
		must(t, w.Close())
		f, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("alignment %d: %v", align, err)
		}
		a := uint64(align)
		wantB := alignUp(12, a)
		if f.Alignment != a || f.DataOffset%a != 0 || f.Tensors[1].Offset != wantB || f.Size != f.DataOffset+wantB+alignUp(10, a) {
			t.Errorf("alignment %d: Alignment %d DataOffset %d b.Offset %d Size %d; want b.Offset %d", align, f.Alignment, f.DataOffset, f.Tensors[1].Offset, f.Size, wantB)
		}
		if int64(f.Size) != w.Size() {
			t.Errorf("alignment %d: Writer.Size() = %d, file has %d bytes", align, w.Size(), f.Size)
		}
	}
}

// sharedModels lists every .gguf under ../shared/models (synth/ included).
func sharedModels(t *testing.T) []string {
	t.Helper()
	dir := filepath.Dir(sharedtest.Model(t, "stories260K.gguf"))
	var paths []string
	for _, pat := range []string{"*.gguf", "synth/*.gguf"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		must(t, err)
		paths = append(paths, m...)
	}
	if len(paths) < 18 {
		t.Fatalf("found %d .gguf files under %s, want the 18 shared models", len(paths), dir)
	}
	return paths
}

// TestRewriteSharedModels re-writes every shared model (written by
// llama.cpp's tools) from its parsed contents and expects the same bytes.
func TestRewriteSharedModels(t *testing.T) {
	for _, p := range sharedModels(t) {
		f, err := Open(p)
		if err != nil {
			t.Errorf("Open: %v", err)
			continue
		}
		orig, err := os.ReadFile(p)
		must(t, err)
		var buf bytes.Buffer
		n, err := f.WriteTo(&buf)
		if err != nil || n != int64(len(orig)) || !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("%s: rewrite gave %d bytes (err %v), want the original %d bytes back", filepath.Base(p), n, err, len(orig))
		}
		f.Close()
	}
}

// TestVocabOnlyFile parses llama.cpp's tokenizer test vocabulary, a
// tensor-less file written by gguf-py, which (unlike llama.cpp) does not
// pad the end of the header when there is no data.
func TestVocabOnlyFile(t *testing.T) {
	p := sharedtest.File(t, "data/tokenizer/ggml-vocab-llama-spm.gguf")
	f, err := Open(p)
	must(t, err)
	defer f.Close()
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil || len(tokens) != 32000 || tokens[15043] != "▁Hello" || tokens[29871] != "▁" {
		t.Fatalf("tokens: %d tokens, err %v; want 32000 with [15043]=▁Hello", len(tokens), err)
	}
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors, want 0", len(f.Tensors))
	}
	var buf bytes.Buffer
	_, err = f.WriteTo(&buf)
	must(t, err)
	if want := alignUp(f.Size, 32); uint64(buf.Len()) != want || !bytes.Equal(buf.Bytes()[:f.Size], f.Bytes()) {
		t.Errorf("rewrite: %d bytes, want the original %d bytes plus padding to %d", buf.Len(), f.Size, want)
	}
}

func TestSharedModels(t *testing.T) {
	type spot struct {
		tensors int
		types   map[Type]int
		check   map[string]Type
	}
	llamaSmall := map[string]Type{"output_norm.weight": F32, "blk.0.ffn_down.weight": F16}
	want := map[string]spot{
		"stories260K.gguf":        {48, map[Type]int{F32: 48}, map[string]Type{"blk.4.ffn_down.weight": F32}},
		"stories260K-Q8_0.gguf":   {48, map[Type]int{F32: 11, F16: 5, Q8_0: 32}, llamaSmall},
		"stories260K-Q4_0.gguf":   {48, map[Type]int{F32: 11, F16: 5, Q4_0: 31, Q8_0: 1}, llamaSmall},
		"stories260K-Q6_K.gguf":   {48, map[Type]int{F32: 11, F16: 5, Q8_0: 32}, llamaSmall},
		"stories260K-Q4_K_M.gguf": {48, map[Type]int{F32: 11, F16: 5, Q5_0: 29, Q8_0: 3}, map[string]Type{"output.weight": Q8_0, "token_embd.weight": Q5_0, "blk.2.attn_v.weight": Q8_0, "blk.4.ffn_down.weight": F16}},
		"synth-kq-F32.gguf":       {21, map[Type]int{F32: 21}, nil},
		"synth-kq-Q4_K_M.gguf":    {21, map[Type]int{F32: 5, Q4_K: 13, Q6_K: 3}, map[string]Type{"output.weight": Q6_K, "blk.1.ffn_down.weight": Q6_K}},
		"synth-kq-Q4_0.gguf":      {21, map[Type]int{F32: 5, Q4_0: 15, Q6_K: 1}, map[string]Type{"output.weight": Q6_K}},
		"synth-kq-pure-Q2_K.gguf": {21, map[Type]int{F32: 5, Q2_K: 16}, nil},
	}
	seen := 0
	for _, p := range sharedModels(t) {
		f, err := Open(p)
		if err != nil {
			t.Errorf("Open: %v", err)
			continue
		}
		if f.Version != 3 || f.Alignment != 32 || f.DataOffset%32 != 0 {
			t.Errorf("%s: version %d alignment %d data offset %d", filepath.Base(p), f.Version, f.Alignment, f.DataOffset)
		}
		if arch, err := f.String("general.architecture"); arch != "llama" || err != nil {
			t.Errorf("%s: architecture %q, %v", filepath.Base(p), arch, err)
		}
		if tok, err := f.Strings("tokenizer.ggml.tokens"); len(tok) != 512 || tok[1] != "<s>" || err != nil {
			t.Errorf("%s: %d tokens (err %v), want 512 with [1]=<s>", filepath.Base(p), len(tok), err)
		}
		s, ok := want[filepath.Base(p)]
		if ok {
			seen++
			types := map[Type]int{}
			for _, ti := range f.Tensors {
				types[ti.Type]++
			}
			if len(f.Tensors) != s.tensors || !reflect.DeepEqual(types, s.types) {
				t.Errorf("%s: %d tensors %v, want %d %v", filepath.Base(p), len(f.Tensors), types, s.tensors, s.types)
			}
			for name, typ := range s.check {
				if ti, ok := f.Tensor(name); !ok || ti.Type != typ {
					t.Errorf("%s: Tensor(%q) = %v, want type %v", filepath.Base(p), name, ti, typ)
				}
			}
		}
		f.Close()
	}
	if seen != len(want) {
		t.Errorf("spot-checked %d files, want %d", seen, len(want))
	}
}
