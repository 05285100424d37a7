package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/internal/sharedtest"
)

func putU32(b []byte, off int64, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func putU64(b []byte, off int64, v uint64) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint64(b[off:], v)
	return b
}

// withTwins writes a file whose two keys and two tensor names differ only
// in their last byte, so a one-byte patch makes them duplicates, and which
// declares general.alignment.
func withTwins(t *testing.T) ([]byte, Layout) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must(t, w.Add("k.a", uint8(1)))
	must(t, w.Add("k.b", uint8(2)))
	must(t, w.Add(KeyAlignment, uint32(32)))
	must(t, w.AddTensor("t.a", F32, 2))
	must(t, w.AddTensor("t.b", F32, 2))
	must(t, w.WriteHeader())
	_, err := w.Write(make([]byte, 16))
	must(t, err)
	must(t, w.Close())
	return buf.Bytes(), w.Layout()
}

// longName returns the tiny file with its first tensor renamed to a
// 64-byte name, one more than ggml allows.
func longName(t *testing.T) ([]byte, int64) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	name := strings.Repeat("n", MaxNameLen)
	must(t, w.AddTensor(name, F32, 1))
	must(t, w.WriteHeader())
	_, err := w.Write(make([]byte, 4))
	must(t, err)
	must(t, w.Close())
	b, l := buf.Bytes(), w.Layout()
	nameEnd := l.Tensors[0].Name + 8 + MaxNameLen
	out := append(bytes.Clone(b[:nameEnd]), 'n')
	out = append(out, b[nameEnd:]...)
	binary.LittleEndian.PutUint64(out[l.Tensors[0].Name:], MaxNameLen+1)
	return out, l.Tensors[0].Name
}

// TestMalformed checks that each kind of damage is reported with the
// right sentinel at the byte offset of the offending field.
func TestMalformed(t *testing.T) {
	b, l := tiny(t, 3)
	tw, tl := withTwins(t)
	long, longOff := longName(t)
	a, bt := l.Tensors[0], l.Tensors[1]
	firstTok := l.KV[1].Value + 4 + 8 // first element of the string array
	tests := []struct {
		name string
		file []byte
		want error
		off  int64
	}{
		// truncated file
		{"empty file", nil, ErrTruncated, 0},
		{"half magic", []byte("GG"), ErrTruncated, 0},
		{"cut in version", b[:6], ErrTruncated, 4},
		{"cut in tensor count", b[:10], ErrTruncated, 8},
		{"cut in kv count", b[:20], ErrTruncated, 16},
		{"cut in key", b[:l.KV[0].Key+8+3], ErrTruncated, l.KV[0].Key},
		{"cut in value type", b[:l.KV[0].Type+2], ErrTruncated, l.KV[0].Type},
		{"cut in string array element", b[:firstTok+13+9+3], ErrTruncated, firstTok + 13 + 9},
		{"cut in second key", b[:l.KV[1].Key+8+3], ErrTruncated, l.KV[1].Key},
		{"cut in tensor dims", b[:a.Dims[1]+4], ErrTruncated, a.Dims[1]},
		{"cut in tensor offset", b[:bt.Offset+1], ErrTruncated, bt.Offset},
		{"cut in padding", b[:l.InfosEnd+1], ErrTensorBounds, a.Name},
		{"cut in data", b[:bt.Data+10], ErrTensorBounds, bt.Name},
		// bad magic
		{"bad magic", append([]byte("GGML"), b[4:]...), ErrBadMagic, 0},
		{"short bad magic", []byte("GU"), ErrBadMagic, 0},
		// unknown version
		{"version 1", putU32(b, l.Version, 1), ErrVersion, 4},
		{"version 4", putU32(b, l.Version, 4), ErrVersion, 4},
		{"version 0", putU32(b, l.Version, 0), ErrVersion, 4},
		{"big-endian version 3", putU32(b, l.Version, 3<<24), ErrVersion, 4},
		// counts
		{"tensor count huge", putU64(b, l.TensorCount, 1<<62), ErrTooManyCounts, l.TensorCount},
		{"kv count negative", putU64(b, l.KVCount, 1<<63), ErrTooManyCounts, l.KVCount},
		{"tensor count small lie", putU64(b[:l.InfosEnd], l.TensorCount, 3), ErrTruncated, l.InfosEnd},
		// string length past EOF
		{"key length past EOF", putU64(b, l.KV[0].Key, 1<<40), ErrTruncated, l.KV[0].Key},
		{"string value past EOF", putU64(b, l.KV[0].Value, uint64(len(b))), ErrTruncated, l.KV[0].Value},
		{"array element past EOF", putU64(b, firstTok, 1<<63), ErrTruncated, firstTok},
		{"array count past EOF", putU64(b, l.KV[1].Value+4, 1<<61), ErrTruncated, l.KV[1].Value + 4},
		{"tensor name past EOF", putU64(b, a.Name, 1<<50), ErrTruncated, a.Name},
		// metadata types
		{"unknown value type", putU32(b, l.KV[0].Type, 13), ErrBadValueType, l.KV[0].Type},
		{"negative value type", putU32(b, l.KV[0].Type, 0xffffffff), ErrBadValueType, l.KV[0].Type},
		{"nested array", putU32(b, l.KV[1].Value, uint32(TypeArray)), ErrBadValueType, l.KV[1].Value},
		{"unknown array element type", putU32(b, l.KV[1].Value, 200), ErrBadValueType, l.KV[1].Value},
		// overflowing and invalid dims
		{"element count overflow", putU64(putU64(b, a.Dims[0], 1<<40), a.Dims[1], 1<<40), ErrBadTensor, a.Dims[1]},
		{"element count just over int64", putU64(putU64(b, a.Dims[0], 1<<32), a.Dims[1], 1<<31), ErrBadTensor, a.Dims[1]},
		{"negative dim", putU64(b, a.Dims[0], 1<<63|4), ErrBadTensor, a.Dims[0]},
		{"zero dim", putU64(b, a.Dims[1], 0), ErrBadTensor, a.Dims[1]},
		{"five dims", putU32(b, a.NDims, 5), ErrBadTensor, a.NDims},
		{"zero dims", putU32(b, a.NDims, 0), ErrBadTensor, a.NDims},
		{"name of 64 bytes", long, ErrBadTensor, longOff},
		{"row not whole blocks", putU64(b, bt.Dims[0], 33), ErrBadTensor, bt.Dims[0]},
		// unknown tensor type
		{"removed type 4", putU32(b, a.Type, 4), ErrTensorType, a.Type},
		{"removed type 31", putU32(b, a.Type, 31), ErrTensorType, a.Type},
		{"type 39", putU32(b, a.Type, 39), ErrTensorType, a.Type},
		{"type -1", putU32(b, a.Type, 0xffffffff), ErrTensorType, a.Type},
		// offsets and tensor data out of range
		{"offset gap", putU64(b, bt.Offset, 64), ErrTensorOffset, bt.Offset},
		{"offset overlap", putU64(b, bt.Offset, 0), ErrTensorOffset, bt.Offset},
		{"first offset not 0", putU64(b, a.Offset, 32), ErrTensorOffset, a.Offset},
		{"data past end", putU64(b, bt.Dims[0], 64), ErrTensorBounds, bt.Name},
		{"data far past end", putU64(b, bt.Dims[0], 32<<40), ErrTensorBounds, bt.Name},
		// duplicates and alignment
		{"duplicate key", putU32(tw, tl.KV[1].Key+8, binary.LittleEndian.Uint32([]byte("k.a\x00"))&0xffffff|uint32(tw[tl.KV[1].Key+8+3])<<24), ErrDuplicateKey, tl.KV[1].Key},
		{"duplicate tensor", patchByte(tw, tl.Tensors[1].Name+8+2, 'a'), ErrDuplicateTensor, tl.Tensors[1].Name},
		{"alignment 48", putU32(tw, tl.KV[2].Value, 48), ErrAlignment, tl.KV[2].Key},
		{"alignment 0", putU32(tw, tl.KV[2].Value, 0), ErrAlignment, tl.KV[2].Key},
		{"alignment i32", putU32(tw, tl.KV[2].Type, uint32(TypeInt32)), ErrAlignment, tl.KV[2].Key},
		{"alignment f32", putU32(tw, tl.KV[2].Type, uint32(TypeFloat32)), ErrAlignment, tl.KV[2].Key},
	}
	for _, tt := range tests {
		_, err := Parse(tt.file)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Parse error = %v, want a *FormatError", tt.name, err)
			continue
		}
		if !errors.Is(err, tt.want) || fe.Off != tt.off {
			t.Errorf("%s: Parse error = %q (offset %d), want %q at offset %d", tt.name, err, fe.Off, tt.want, tt.off)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasSuffix(msg, fmt.Sprintf("at byte offset %d", tt.off)) {
			t.Errorf("%s: message %q is not one line ending in its offset", tt.name, msg)
		}
	}
	// Sanity: the undamaged files parse, and so does the tiny file without
	// its last tensor's trailing padding (llama.cpp does not need it).
	for name, file := range map[string][]byte{"tiny": b, "twins": tw, "unpadded": b[:bt.Data+34]} {
		if _, err := Parse(file); err != nil {
			t.Errorf("Parse(%s) = %v, want success", name, err)
		}
	}
}

func patchByte(b []byte, off int64, v byte) []byte {
	b = bytes.Clone(b)
	b[off] = v
	return b
}

func TestOpenNamesFile(t *testing.T) {
	p := t.TempDir() + "/bad.gguf"
	if err := writeFile(p, []byte("GGUF\x01\x00\x00\x00")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p)
	if !errors.Is(err, ErrVersion) || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("Open(bad) = %v, want ErrVersion prefixed with the path", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open(directory) = nil error")
	}
}

// TestParseAllocBound parses hostile but valid-length files built to
// maximise decoded size per file byte, and checks that allocation stays a
// small multiple of the file size (measured: 2x for empty strings, 8x for
// 33-byte tensor infos, 11x for 17-byte metadata pairs, mostly the index
// maps; real files spend a few percent of their header).
func TestParseAllocBound(t *testing.T) {
	emptyStrings := func(n int) []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		must(t, w.Add("a", make([]string, n)))
		must(t, w.Close())
		return buf.Bytes()
	}
	manyTensors := func(n int) []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		must(t, w.Add(KeyAlignment, uint32(1)))
		for i := range n {
			must(t, w.AddTensor(fmt.Sprintf("%x", i), I8, 1))
		}
		must(t, w.WriteHeader())
		_, err := w.Write(make([]byte, n))
		must(t, err)
		must(t, w.Close())
		return buf.Bytes()
	}
	manyKeys := func(n int) []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for i := range n {
			must(t, w.Add(fmt.Sprintf("%x", i), uint8(0)))
		}
		must(t, w.Close())
		return buf.Bytes()
	}
	for name, file := range map[string][]byte{
		"empty strings": emptyStrings(1 << 17),
		"many tensors":  manyTensors(1 << 15),
		"many keys":     manyKeys(1 << 15),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f, err := Parse(file)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.KeepAlive(f)
		ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(file))
		t.Logf("%s: %d-byte file, allocated %.1fx its size", name, len(file), ratio)
		if ratio > 16 {
			t.Errorf("%s: Parse allocated %.1fx the file size, want at most 16x", name, ratio)
		}
	}
}

func TestParseSharedAllocs(t *testing.T) {
	f, err := Open(sharedtest.Model(t, "stories260K.gguf"))
	must(t, err)
	defer f.Close()
	// The header is 14 KB; Parse must not touch (copy) the 1.1 MB of data.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, err := Parse(f.Bytes())
	runtime.ReadMemStats(&after)
	must(t, err)
	runtime.KeepAlive(g)
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 {
		t.Errorf("Parse(stories260K) allocated %d bytes, want under 256 KiB (header only)", got)
	}
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
