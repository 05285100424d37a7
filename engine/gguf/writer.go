package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// Writer streams a GGUF file the way llama.cpp's gguf writer lays it out
// (gguf.cpp gguf_write_to_buf): header, metadata, tensor infos, zero
// padding to the alignment, then each tensor's data followed by zero
// padding to the alignment, the last one included. Files are byte-identical
// to llama.cpp's for the same content.
//
// Usage: declare metadata with AddKV/Add and tensors with AddTensor, call
// WriteHeader, then Write each tensor's bytes in declaration order (any
// chunking; padding is inserted between tensors automatically), then
// Close. Memory use is the header plus whatever the caller passes to
// Write, so arbitrarily large models stream in O(row) memory. The
// underlying writer is not buffered here; wrap it in a bufio.Writer when
// writing small chunks.
//
// Every method validates its input the way Parse does, so a Writer cannot
// produce a file Parse rejects. Tests that need malformed files write a
// valid one and patch the bytes at the field offsets reported by Layout.
type Writer struct {
	w         io.Writer
	version   uint32
	alignment uint64
	kv        []KV
	kvIndex   map[string]bool
	tensors   []TensorInfo
	tIndex    map[string]bool
	dataBound uint64 // upper bound of the data section size

	headerDone bool
	closed     bool
	cur        int    // tensor being written
	curDone    uint64 // bytes of it written so far
	n          int64  // bytes written to w
	err        error  // sticky write error
}

// NewWriter returns a Writer for a GGUF v3 file with alignment 32 (unless
// general.alignment is added).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, version: 3, alignment: DefaultAlignment, kvIndex: map[string]bool{}, tIndex: map[string]bool{}}
}

// ErrWriter reports misuse of a Writer: bad declarations, data written in
// the wrong amount or order.
var ErrWriter = errors.New("gguf: writer")

func (w *Writer) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrWriter}, args...)...)
}

// SetVersion selects GGUF version 2 or 3 (the layout is identical; the
// default is 3, as llama.cpp writes).
func (w *Writer) SetVersion(v uint32) error {
	if w.headerDone {
		return w.errf("SetVersion after WriteHeader")
	}
	if v != 2 && v != 3 {
		return w.errf("version %d (want 2 or 3)", v)
	}
	w.version = v
	return nil
}

// Add declares a metadata pair from a Go value (see MakeValue for the
// accepted types).
func (w *Writer) Add(key string, x any) error {
	v, err := MakeValue(x)
	if err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	return w.AddKV(key, v)
}

// AddKV declares a metadata pair. Keys must be unique;
// general.alignment must be a u32 power of two and sets the alignment.
func (w *Writer) AddKV(key string, v Value) error {
	if w.headerDone {
		return w.errf("AddKV(%q) after WriteHeader", key)
	}
	if w.kvIndex[key] {
		return w.errf("duplicate metadata key %q", key)
	}
	if _, err := encodedValueSize(v); err != nil {
		return w.errf("key %q: %v", key, err)
	}
	if key == KeyAlignment {
		a, ok := v.v.(uint32)
		if !ok {
			return w.errf("%s is %s, want u32", KeyAlignment, v.TypeName())
		}
		if a == 0 || a&(a-1) != 0 {
			return w.errf("%s %d is not a power of two", KeyAlignment, a)
		}
		w.alignment = uint64(a)
	}
	w.kvIndex[key] = true
	w.kv = append(w.kv, KV{Key: key, Value: v})
	return nil
}

// AddTensor declares the next tensor. dims are in GGUF ne order (the
// contiguous dimension first), 1 to MaxDims of them, each at least 1, and
// dims[0] must be a multiple of t's block size.
func (w *Writer) AddTensor(name string, t Type, dims ...uint64) error {
	if w.headerDone {
		return w.errf("AddTensor(%q) after WriteHeader", name)
	}
	if len(name) > MaxNameLen {
		return w.errf("tensor name %q is %d bytes (max %d)", name, len(name), MaxNameLen)
	}
	if w.tIndex[name] {
		return w.errf("duplicate tensor name %q", name)
	}
	if !t.Valid() {
		return w.errf("tensor %q: invalid type %v", name, t)
	}
	if len(dims) == 0 || len(dims) > MaxDims {
		return w.errf("tensor %q has %d dims (want 1..%d)", name, len(dims), MaxDims)
	}
	elems := uint64(1)
	for j, d := range dims {
		hi, lo := bits.Mul64(elems, d)
		if d == 0 || d > math.MaxInt64 || hi != 0 || lo > math.MaxInt64 {
			return w.errf("tensor %q dim %d = %d (want 1.. and a total element count within int64)", name, j, d)
		}
		elems = lo
	}
	if dims[0]%t.BlockSize() != 0 {
		return w.errf("tensor %q: row of %d elements is not a multiple of %s's block size %d", name, dims[0], t, t.BlockSize())
	}
	hi, size := bits.Mul64(elems/t.BlockSize(), t.TypeSize())
	// Padding adds less than the largest alignment (2^31) per tensor;
	// bounding the sum keeps every offset far from overflow.
	const maxData = 1 << 62
	if hi != 0 || size > maxData || w.dataBound+size+1<<31 > maxData {
		return w.errf("tensor %q: data section exceeds 2^62 bytes", name)
	}
	w.dataBound += size + 1<<31
	w.tIndex[name] = true
	w.tensors = append(w.tensors, TensorInfo{Name: name, Dims: append([]uint64(nil), dims...), Type: t, Size: size})
	return nil
}

// Layout gives the byte offset of every header field of the file being
// written, so tests can patch them to make malformed files, and the
// positions of the tensors' data.
type Layout struct {
	Version     int64 // u32
	TensorCount int64 // u64
	KVCount     int64 // u64
	KV          []KVLayout
	Tensors     []TensorLayout
	// InfosEnd is where the tensor infos end (padding starts).
	InfosEnd int64
	// DataOffset is where the data section starts.
	DataOffset int64
	// Size is the size of the whole file.
	Size int64
}

// KVLayout locates one metadata pair's fields.
type KVLayout struct {
	Key   int64 // u64 key length, then the key bytes
	Type  int64 // u32 value type
	Value int64 // the value (for arrays: u32 element type, u64 count, elements)
}

// TensorLayout locates one tensor info's fields and its data.
type TensorLayout struct {
	Name   int64   // u64 name length, then the name bytes
	NDims  int64   // u32
	Dims   []int64 // u64 each
	Type   int64   // u32
	Offset int64   // u64, relative to the data section
	Data   int64   // absolute offset of the data
}

// Tensors returns the declared tensors with their offsets and sizes as
// they will be in the file (FileOffset and InfoOffset included).
func (w *Writer) Tensors() []TensorInfo {
	_, l := w.encodeHeader()
	ts := make([]TensorInfo, len(w.tensors))
	for i, t := range w.tensors {
		t.Dims = append([]uint64(nil), t.Dims...)
		t.FileOffset = uint64(l.Tensors[i].Data)
		t.InfoOffset = l.Tensors[i].Name
		ts[i] = t
	}
	return ts
}

// Layout returns the field offsets of the file as declared so far.
func (w *Writer) Layout() Layout {
	_, l := w.encodeHeader()
	return l
}

// Size returns the size in bytes the whole file will have.
func (w *Writer) Size() int64 { return w.Layout().Size }

// Written returns the number of bytes written to the underlying writer.
func (w *Writer) Written() int64 { return w.n }

// encodeHeader assigns the tensor offsets (the running sum of padded
// sizes, which llama.cpp requires) and encodes everything before the
// padding. Offsets are assigned here, not in AddTensor, because
// general.alignment may be declared after the tensors.
func (w *Writer) encodeHeader() ([]byte, Layout) {
	off := uint64(0)
	for i := range w.tensors {
		w.tensors[i].Offset = off
		off += alignUp(w.tensors[i].Size, w.alignment)
	}
	size := 4 + 4 + 8 + 8
	for _, kv := range w.kv {
		vs, _ := encodedValueSize(kv.Value)
		size += 8 + len(kv.Key) + 4 + vs
	}
	for _, t := range w.tensors {
		size += 8 + len(t.Name) + 4 + 8*len(t.Dims) + 4 + 8
	}
	b := make([]byte, 0, size)
	var l Layout
	le := binary.LittleEndian
	b = append(b, Magic...)
	l.Version = int64(len(b))
	b = le.AppendUint32(b, w.version)
	l.TensorCount = int64(len(b))
	b = le.AppendUint64(b, uint64(len(w.tensors)))
	l.KVCount = int64(len(b))
	b = le.AppendUint64(b, uint64(len(w.kv)))
	l.KV = make([]KVLayout, len(w.kv))
	for i, kv := range w.kv {
		l.KV[i].Key = int64(len(b))
		b = appendString(b, kv.Key)
		l.KV[i].Type = int64(len(b))
		b = le.AppendUint32(b, uint32(kv.Value.Type))
		l.KV[i].Value = int64(len(b))
		b = appendValue(b, kv.Value)
	}
	l.Tensors = make([]TensorLayout, len(w.tensors))
	for i, t := range w.tensors {
		tl := &l.Tensors[i]
		tl.Name = int64(len(b))
		b = appendString(b, t.Name)
		tl.NDims = int64(len(b))
		b = le.AppendUint32(b, uint32(len(t.Dims)))
		tl.Dims = make([]int64, len(t.Dims))
		for j, d := range t.Dims {
			tl.Dims[j] = int64(len(b))
			b = le.AppendUint64(b, d)
		}
		tl.Type = int64(len(b))
		b = le.AppendUint32(b, uint32(t.Type))
		tl.Offset = int64(len(b))
		b = le.AppendUint64(b, t.Offset)
	}
	l.InfosEnd = int64(len(b))
	l.DataOffset = int64(alignUp(uint64(len(b)), w.alignment))
	for i, t := range w.tensors {
		l.Tensors[i].Data = l.DataOffset + int64(t.Offset)
	}
	l.Size = l.DataOffset
	if n := len(w.tensors); n > 0 {
		last := w.tensors[n-1]
		l.Size += int64(last.Offset + alignUp(last.Size, w.alignment))
	}
	return b, l
}

// WriteHeader writes everything before the tensor data, padding included.
func (w *Writer) WriteHeader() error {
	if w.headerDone {
		return w.errf("WriteHeader called twice")
	}
	w.headerDone = true
	b, l := w.encodeHeader()
	b = append(b, make([]byte, l.DataOffset-l.InfosEnd)...)
	return w.write(b)
}

func (w *Writer) write(p []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	w.err = err
	return err
}

var zeros [256]byte

func (w *Writer) pad(n uint64) error {
	for n > 0 {
		k := min(n, uint64(len(zeros)))
		if err := w.write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// Current returns the index of the tensor the next Write goes to and how
// many of its bytes are still expected (len(Tensors()) and 0 when all data
// has been written).
func (w *Writer) Current() (tensor int, remaining uint64) {
	if w.cur >= len(w.tensors) {
		return w.cur, 0
	}
	return w.cur, w.tensors[w.cur].Size - w.curDone
}

// Write writes tensor data: the bytes of the declared tensors, in order,
// back to back without padding. Writing more than declared is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if !w.headerDone {
		return 0, w.errf("Write before WriteHeader")
	}
	if w.closed {
		return 0, w.errf("Write after Close")
	}
	written := 0
	for len(p) > 0 {
		if w.cur >= len(w.tensors) {
			return written, w.errf("%d bytes written past the last tensor", len(p))
		}
		t := &w.tensors[w.cur]
		k := min(uint64(len(p)), t.Size-w.curDone)
		if err := w.write(p[:k]); err != nil {
			return written, err
		}
		written += int(k)
		p = p[k:]
		w.curDone += k
		if w.curDone == t.Size {
			if err := w.pad(alignUp(t.Size, w.alignment) - t.Size); err != nil {
				return written, err
			}
			w.cur++
			w.curDone = 0
		}
	}
	return written, nil
}

// Close checks that all tensor data was written. It does not close the
// underlying writer. A header without tensors is written by Close if
// WriteHeader was not called.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if !w.headerDone && len(w.tensors) == 0 {
		if err := w.WriteHeader(); err != nil {
			return err
		}
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if !w.headerDone {
		return w.errf("Close before WriteHeader")
	}
	if w.cur < len(w.tensors) {
		t := &w.tensors[w.cur]
		return w.errf("tensor %q: %d of %d bytes written", t.Name, w.curDone, t.Size)
	}
	return nil
}

// WriteTo writes f as a new file with the same version, metadata, tensors
// and data. For a file written by llama.cpp the result is byte-identical;
// other files may differ in padding bytes, bool bytes other than 0 and 1,
// and bytes after the last tensor.
func (f *File) WriteTo(dst io.Writer) (int64, error) {
	w := NewWriter(dst)
	if err := w.SetVersion(f.Version); err != nil {
		return 0, err
	}
	for _, kv := range f.KV {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			return 0, err
		}
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := w.AddTensor(t.Name, t.Type, t.Dims...); err != nil {
			return 0, err
		}
	}
	if err := w.WriteHeader(); err != nil {
		return w.Written(), err
	}
	for i := range f.Tensors {
		if _, err := w.Write(f.TensorData(&f.Tensors[i])); err != nil {
			return w.Written(), err
		}
	}
	return w.Written(), w.Close()
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// encodedValueSize returns the encoded size of v, or an error if the held
// Go value does not match v's declared type.
func encodedValueSize(v Value) (int, error) {
	switch v.Type {
	case TypeString:
		s, ok := v.v.(string)
		if !ok {
			return 0, fmt.Errorf("value of type string holds %T", v.v)
		}
		return 8 + len(s), nil
	case TypeArray:
		if v.Elem == TypeArray || v.Elem >= numValueTypes {
			return 0, fmt.Errorf("invalid array element type %v", v.Elem)
		}
		if !holdsArrayOf(v) {
			return 0, fmt.Errorf("array of %v holds %T", v.Elem, v.v)
		}
		if a, ok := v.v.([]string); ok {
			n := 4 + 8
			for _, s := range a {
				n += 8 + len(s)
			}
			return n, nil
		}
		return 4 + 8 + v.Len()*v.Elem.scalarSize(), nil
	}
	if v.Type >= numValueTypes {
		return 0, fmt.Errorf("invalid value type %d", uint32(v.Type))
	}
	want, err := MakeValue(v.v)
	if err != nil || want.Type != v.Type {
		return 0, fmt.Errorf("value of type %v holds %T", v.Type, v.v)
	}
	return v.Type.scalarSize(), nil
}

func holdsArrayOf(v Value) bool {
	m, err := MakeValue(v.v)
	return err == nil && m.Type == TypeArray && m.Elem == v.Elem
}

// appendValue encodes v, which encodedValueSize accepted.
func appendValue(b []byte, v Value) []byte {
	le := binary.LittleEndian
	switch x := v.v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case bool:
		return append(b, boolByte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case string:
		return appendString(b, x)
	}
	b = le.AppendUint32(b, uint32(v.Elem))
	b = le.AppendUint64(b, uint64(v.Len()))
	switch a := v.v.(type) {
	case []uint8:
		b = append(b, a...)
	case []int8:
		for _, x := range a {
			b = append(b, byte(x))
		}
	case []bool:
		for _, x := range a {
			b = append(b, boolByte(x))
		}
	case []uint16:
		for _, x := range a {
			b = le.AppendUint16(b, x)
		}
	case []int16:
		for _, x := range a {
			b = le.AppendUint16(b, uint16(x))
		}
	case []uint32:
		for _, x := range a {
			b = le.AppendUint32(b, x)
		}
	case []int32:
		for _, x := range a {
			b = le.AppendUint32(b, uint32(x))
		}
	case []float32:
		for _, x := range a {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	case []uint64:
		for _, x := range a {
			b = le.AppendUint64(b, x)
		}
	case []int64:
		for _, x := range a {
			b = le.AppendUint64(b, uint64(x))
		}
	case []float64:
		for _, x := range a {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
	case []string:
		for _, x := range a {
			b = appendString(b, x)
		}
	}
	return b
}

func boolByte(x bool) byte {
	if x {
		return 1
	}
	return 0
}
