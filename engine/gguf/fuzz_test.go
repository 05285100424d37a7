package gguf

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzParse seeds from the writer")

// fuzzSeeds returns small valid and malformed files, all made by Writer
// (malformed ones by patching its output at Layout offsets).
func fuzzSeeds(t *testing.T) map[string][]byte {
	b3, l := tiny(t, 3)
	b2, _ := tiny(t, 2)
	tw, tl := withTwins(t)
	seeds := map[string][]byte{
		"valid-v3":             b3,
		"valid-v2":             b2,
		"valid-alignment":      tw,
		"bad-magic":            append([]byte("GGML"), b3[4:]...),
		"truncated-header":     b3[:l.KV[1].Key+8+3],
		"truncated-data":       b3[:l.Tensors[1].Data+10],
		"version-1":            putU32(b3, l.Version, 1),
		"string-past-eof":      putU64(b3, l.KV[0].Value, 1<<40),
		"dims-overflow":        putU64(putU64(b3, l.Tensors[0].Dims[0], 1<<40), l.Tensors[0].Dims[1], 1<<40),
		"tensor-type-removed":  putU32(b3, l.Tensors[0].Type, 4),
		"offset-gap":           putU64(b3, l.Tensors[1].Offset, 64),
		"data-out-of-range":    putU64(b3, l.Tensors[1].Dims[0], 64),
		"duplicate-tensor":     patchByte(tw, tl.Tensors[1].Name+8+2, 'a'),
		"alignment-not-pow2":   putU32(tw, tl.KV[2].Value, 48),
		"nested-array":         putU32(b3, l.KV[1].Value, uint32(TypeArray)),
		"every-value-type":     everyValueType(t),
		"kquant-and-f16-types": quantTypes(t),
	}
	return seeds
}

func everyValueType(t *testing.T) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, v := range []any{uint8(1), int8(-1), uint16(2), int16(-2), uint32(3), int32(-3), float32(0.5), true, "s",
		uint64(4), int64(-4), 0.25, []uint8{1}, []int8{-1}, []uint16{2}, []int16{-2}, []uint32{3}, []int32{-3},
		[]float32{0.5}, []bool{true}, []string{"a", ""}, []uint64{4}, []int64{-4}, []float64{0.25}} {
		must(t, w.Add(strconv.Itoa(i), v))
	}
	must(t, w.Close())
	return buf.Bytes()
}

func quantTypes(t *testing.T) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	types := []Type{F16, BF16, Q4_0, Q5_1, Q2_K}
	total := 0
	for _, typ := range types {
		must(t, w.AddTensor(typ.String(), typ, typ.BlockSize()))
		total += int(typ.TypeSize())
	}
	must(t, w.WriteHeader())
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(i * 7)
	}
	_, err := w.Write(data)
	must(t, err)
	must(t, w.Close())
	return buf.Bytes()
}

func seedFile(b []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
}

// TestFuzzSeeds keeps the committed seed corpus equal to what the writer
// makes today (run with -update-seeds after changing the seeds).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	seeds := fuzzSeeds(t)
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := seedFile(seeds[name])
		p := filepath.Join(dir, name)
		if *updateSeeds {
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.WriteFile(p, want, 0o644))
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("seed %s is stale or missing (err %v); run go test -run TestFuzzSeeds -update-seeds ./engine/gguf/", p, err)
		}
		if len(want) > 4096 {
			t.Errorf("seed %s is %d bytes, keep seeds under 4 KiB", name, len(want))
		}
	}
}

// FuzzParse checks that Parse never panics, that every failure is a
// one-line *FormatError inside the file, and that whatever parses
// re-writes to a file that parses to the same thing.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error %v (%T) is not a *FormatError", err, err)
			}
			if fe.Off < 0 || fe.Off > int64(len(b)) {
				t.Fatalf("error offset %d outside the %d-byte file: %v", fe.Off, len(b), err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error spans lines: %q", msg)
			}
			return
		}
		for i := range file.Tensors {
			ti := &file.Tensors[i]
			if d := file.TensorData(ti); uint64(len(d)) != ti.Size || ti.FileOffset%file.Alignment != 0 {
				t.Fatalf("tensor %q: %d data bytes at %d, want %d aligned to %d", ti.Name, len(d), ti.FileOffset, ti.Size, file.Alignment)
			}
			if ti.Size != ti.Type.RowSize(ti.Dims[0])*ti.Rows() {
				t.Fatalf("tensor %q: size %d, want row size x rows", ti.Name, ti.Size)
			}
		}
		var once bytes.Buffer
		if _, err := file.WriteTo(&once); err != nil {
			t.Fatalf("WriteTo of a parsed file: %v", err)
		}
		again, err := Parse(once.Bytes())
		if err != nil {
			t.Fatalf("Parse of the rewritten file: %v", err)
		}
		var twice bytes.Buffer
		if _, err := again.WriteTo(&twice); err != nil {
			t.Fatalf("second WriteTo: %v", err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("rewrite is not stable")
		}
		if summary(file) != summary(again) {
			t.Fatalf("rewrite changed the file:\n%s\n%s", summary(file), summary(again))
		}
	})
}

func summary(f *File) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "v%d a%d", f.Version, f.Alignment)
	for _, kv := range f.KV {
		fmt.Fprintf(&sb, " %q:%s", kv.Key, kv.Value.TypeName())
	}
	for _, t := range f.Tensors {
		fmt.Fprintf(&sb, " %q%v%v@%d", t.Name, t.Type, t.Dims, t.Offset)
	}
	return sb.String()
}
