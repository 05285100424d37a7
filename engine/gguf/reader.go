package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
)

// Magic is the 4-byte file signature "GGUF".
const Magic = "GGUF"

// DefaultAlignment is used when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name ggml accepts (GGML_MAX_NAME - 1).
const MaxNameLen = 63

// KeyAlignment is the metadata key that sets the data alignment.
const KeyAlignment = "general.alignment"

// Sentinel errors callers can branch on with errors.Is. Decoding errors
// arrive wrapped in a *FormatError that carries the byte offset.
var (
	ErrBadMagic        = errors.New("gguf: bad magic")
	ErrVersion         = errors.New("gguf: unsupported version")
	ErrTruncated       = errors.New("gguf: file truncated")
	ErrBadValueType    = errors.New("gguf: invalid metadata value type")
	ErrDuplicateKey    = errors.New("gguf: duplicate metadata key")
	ErrAlignment       = errors.New("gguf: invalid general.alignment")
	ErrBadTensor       = errors.New("gguf: invalid tensor info")
	ErrDuplicateTensor = errors.New("gguf: duplicate tensor name")
	ErrTensorType      = errors.New("gguf: invalid tensor type")
	ErrTensorOffset    = errors.New("gguf: tensor offset not where llama.cpp expects it")
	ErrTensorBounds    = errors.New("gguf: tensor data out of range")
	ErrNotFound        = errors.New("gguf: not found")
	ErrWrongType       = errors.New("gguf: metadata key has wrong type")
	// ErrTooManyCounts: a tensor or metadata count above 2^24 (or
	// negative) that the rest of the file cannot hold.
	ErrTooManyCounts = errors.New("gguf: count exceeds file size")
)

// FormatError reports a malformed file: what is wrong and at which byte
// offset, like debug/elf's FormatError. Its message is always one line:
// names read from the file are quoted.
type FormatError struct {
	Off int64  // byte offset in the file where the problem was found
	Err error  // one of the sentinels above
	Msg string // details
}

func (e *FormatError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("%v at byte offset %d", e.Err, e.Off)
	}
	return fmt.Sprintf("%v: %s at byte offset %d", e.Err, e.Msg, e.Off)
}

func (e *FormatError) Unwrap() error { return e.Err }

// TensorInfo describes one tensor of the file.
type TensorInfo struct {
	Name string
	// Dims are in GGUF ne order: Dims[0] is the contiguous dimension. A
	// parsed file always has 1 to MaxDims dims, each at least 1.
	Dims []uint64
	Type Type
	// Offset is relative to the start of the data section, as stored.
	Offset uint64
	// FileOffset is the absolute byte offset of the data in the file.
	FileOffset uint64
	// Size is the number of bytes of data.
	Size uint64
	// InfoOffset is where the tensor info starts in the file (for error
	// messages).
	InfoOffset int64
}

// Elements is the number of elements of the tensor.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows is the number of rows (product of all dims but the first).
func (t *TensorInfo) Rows() uint64 {
	n := uint64(1)
	if len(t.Dims) > 1 {
		for _, d := range t.Dims[1:] {
			n *= d
		}
	}
	return n
}

// RowSize is the number of bytes of one row.
func (t *TensorInfo) RowSize() uint64 {
	if len(t.Dims) == 0 {
		return 0
	}
	return t.Type.RowSize(t.Dims[0])
}

// File is a parsed GGUF file. Tensor data is a view into the mapped file;
// nothing is copied.
type File struct {
	Version   uint32
	Alignment uint64
	KV        []KV
	Tensors   []TensorInfo
	// DataOffset is the absolute offset of the data section.
	DataOffset uint64
	// Size is the file size in bytes.
	Size uint64

	data    []byte
	kvIndex map[string]int
	tIndex  map[string]int
	unmap   func() error
}

// Open memory-maps path read-only and parses it. Errors name the file.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, unmap, err := mapFile(fd, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.unmap = unmap
	return f, nil
}

// Close unmaps the file. Tensor data slices must not be used afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap = nil
	f.data = nil
	return err
}

// Bytes returns the whole file contents (the mapping).
func (f *File) Bytes() []byte { return f.data }

// Parse parses a GGUF file held in memory. The File keeps b.
//
// It checks everything llama.cpp's gguf_init_from_file and model loader
// check before they use a file (facts/gguf-and-quants.md §1.5), and two
// more things llama.cpp would crash on: tensors with 0 dims or a 0-sized
// dim are rejected. Nothing is allocated for a count before the bytes it
// claims are there (capacity hints are capped), so memory follows the
// bytes actually decoded: the decoded header takes at most about 11 times
// its encoded size, reached only by adversarial files of tiny entries
// where the lookup maps dominate; real headers take about 2 times.
func Parse(b []byte) (*File, error) {
	d := &decoder{b: b}
	f := &File{data: b, Size: uint64(len(b)), Alignment: DefaultAlignment}
	if err := d.header(f); err != nil {
		return nil, err
	}
	return f, nil
}

type decoder struct {
	b   []byte
	off int
}

func (d *decoder) errf(off int, sentinel error, format string, args ...any) error {
	return &FormatError{Off: int64(off), Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) left() uint64 { return uint64(len(d.b) - d.off) }

// field names the thing being decoded, for error messages only; it is
// formatted lazily so that decoding allocates nothing for it.
type field struct {
	what   string // e.g. "value type of"
	name   string // key or tensor name, quoted when set
	idx    int    // element or tensor index, when >= 0
	hasKey bool
}

func named(what, name string) field { return field{what: what, name: name, idx: -1, hasKey: true} }
func plain(what string) field       { return field{what: what, idx: -1} }

func (f field) String() string {
	s := f.what
	if f.hasKey {
		s += " " + strconv.Quote(f.name)
	}
	if f.idx >= 0 {
		s += fmt.Sprintf("[%d]", f.idx)
	}
	return s
}

// need checks that n more bytes exist.
func (d *decoder) need(n uint64, f field) error {
	if n > d.left() {
		return d.errf(d.off, ErrTruncated, "%v needs %d bytes, %d left", f, n, d.left())
	}
	return nil
}

func (d *decoder) u32(f field) (uint32, error) {
	if err := d.need(4, f); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64(f field) (uint64, error) {
	if err := d.need(8, f); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

// str decodes a string; f names it (its length field is named "f length").
func (d *decoder) str(f field) (string, error) {
	start := d.off
	if d.left() < 8 {
		return "", d.errf(d.off, ErrTruncated, "%v length needs 8 bytes, %d left", f, d.left())
	}
	n := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	if n > d.left() {
		return "", d.errf(start, ErrTruncated, "%v length %d exceeds the %d bytes left in the file", f, n, d.left())
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s, nil
}

// Smallest encodings, used to bound counts by the bytes left: a metadata
// pair is at least an empty key (8), a type (4) and a 1-byte value; a
// tensor info at least an empty name (8), n_dims (4), one dim (8), a type
// (4) and an offset (8).
const (
	minKVSize     = 8 + 4 + 1
	minTensorSize = 8 + 4 + 8 + 4 + 8
	// maxPrealloc caps capacity hints taken from the file, so that a count
	// that passes the size check still cannot make us allocate much more
	// than we end up filling.
	maxPrealloc = 1024
	// maxPlausibleCount is far above any real model's tensor or metadata
	// count (hundreds to a few thousand).
	maxPlausibleCount = 1 << 24
)

func (d *decoder) header(f *File) error {
	if len(d.b) < len(Magic) {
		if string(d.b) == Magic[:len(d.b)] {
			return d.errf(0, ErrTruncated, "magic needs 4 bytes, %d left", len(d.b))
		}
		return d.errf(0, ErrBadMagic, "got %q, want %q", d.b, Magic)
	}
	if string(d.b[:4]) != Magic {
		return d.errf(0, ErrBadMagic, "got %q, want %q", d.b[:4], Magic)
	}
	d.off = 4
	v, err := d.u32(plain("version"))
	if err != nil {
		return err
	}
	if v != 2 && v != 3 {
		return d.errf(4, ErrVersion, "version %d (want 2 or 3)", v)
	}
	f.Version = v
	tensorCountOff := d.off
	nTensors, err := d.u64(plain("tensor count"))
	if err != nil {
		return err
	}
	kvCountOff := d.off
	nKV, err := d.u64(plain("metadata count"))
	if err != nil {
		return err
	}
	// llama.cpp reads both counts as int64 and rejects negatives. A count
	// the rest of the file cannot hold is either a lie or a file cut short;
	// an absurd one (negative, or beyond any real model) is reported here,
	// a plausible one is decoded until the bytes run out, so a truncated
	// file reports ErrTruncated where it ends. Nothing is preallocated from
	// a count beyond maxPrealloc, so memory follows the bytes decoded.
	if nKV > d.left()/minKVSize && nKV > maxPlausibleCount {
		return d.errf(kvCountOff, ErrTooManyCounts, "metadata count %d cannot fit in the %d bytes left", int64(nKV), d.left())
	}
	if nTensors > d.left()/minTensorSize && nTensors > maxPlausibleCount {
		return d.errf(tensorCountOff, ErrTooManyCounts, "tensor count %d cannot fit in the %d bytes left", int64(nTensors), d.left())
	}
	f.KV = make([]KV, 0, min(nKV, maxPrealloc))
	f.kvIndex = make(map[string]int, min(nKV, maxPrealloc))
	alignOff := -1
	for i := uint64(0); i < nKV; i++ {
		kvOff := d.off
		key, err := d.str(field{what: "metadata key", idx: int(i)})
		if err != nil {
			return err
		}
		if _, dup := f.kvIndex[key]; dup {
			return d.errf(kvOff, ErrDuplicateKey, "key %q", key)
		}
		typOff := d.off
		t, err := d.u32(named("value type of", key))
		if err != nil {
			return err
		}
		val, err := d.value(ValueType(t), typOff, key)
		if err != nil {
			return err
		}
		if key == KeyAlignment {
			alignOff = kvOff
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = appendDoubling(f.KV, KV{Key: key, Value: val})
	}
	if alignOff >= 0 {
		val := f.KV[f.kvIndex[KeyAlignment]].Value
		a, isU32 := val.v.(uint32)
		if !isU32 {
			return d.errf(alignOff, ErrAlignment, "type %s (want u32)", val.TypeName())
		}
		if a == 0 || a&(a-1) != 0 {
			return d.errf(alignOff, ErrAlignment, "%d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, min(nTensors, maxPrealloc))
	f.tIndex = make(map[string]int, min(nTensors, maxPrealloc))
	offsetFields := make([]int, 0, min(nTensors, maxPrealloc))
	for i := uint64(0); i < nTensors; i++ {
		ti, offField, err := d.tensorInfo(i)
		if err != nil {
			return err
		}
		if _, dup := f.tIndex[ti.Name]; dup {
			return d.errf(int(ti.InfoOffset), ErrDuplicateTensor, "tensor %q", ti.Name)
		}
		f.tIndex[ti.Name] = len(f.Tensors)
		f.Tensors = appendDoubling(f.Tensors, ti)
		offsetFields = appendDoubling(offsetFields, offField)
	}

	f.DataOffset = alignUp(uint64(d.off), f.Alignment)
	// llama.cpp requires each tensor at the running sum of the padded sizes
	// of those before it ("tensor has offset X, expected Y"), so here too.
	// Each size passed the bounds check before it is added, so expect stays
	// below twice the file size and cannot overflow.
	expect := uint64(0)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset != expect {
			return d.errf(offsetFields[i], ErrTensorOffset, "tensor %q has offset %d, expected %d", t.Name, t.Offset, expect)
		}
		start := f.DataOffset + t.Offset
		if start > f.Size || t.Size > f.Size-start {
			return d.errf(int(t.InfoOffset), ErrTensorBounds, "tensor %q data [%d, %d) is not within the file (%d bytes)", t.Name, start, satAdd(start, t.Size), f.Size)
		}
		t.FileOffset = start
		expect += alignUp(t.Size, f.Alignment)
	}
	return nil
}

// appendDoubling is append with capacity doubling: the runtime grows
// large slices by 1.25x, which allocates 5x the final size in total;
// doubling keeps it at 2x for files with hundreds of thousands of entries.
func appendDoubling[T any](s []T, x T) []T {
	if len(s) == cap(s) {
		n := make([]T, len(s), 2*cap(s)+1)
		copy(n, s)
		s = n
	}
	return append(s, x)
}

// satAdd adds without wrapping, for error messages.
func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// tensorInfo decodes the i-th tensor info and returns it with the byte
// offset of its offset field.
func (d *decoder) tensorInfo(i uint64) (TensorInfo, int, error) {
	start := d.off
	name, err := d.str(field{what: "name of tensor", idx: int(i)})
	if err != nil {
		return TensorInfo{}, 0, err
	}
	if len(name) > MaxNameLen {
		return TensorInfo{}, 0, d.errf(start, ErrBadTensor, "tensor name %q is %d bytes (max %d)", name, len(name), MaxNameLen)
	}
	ndOff := d.off
	nd, err := d.u32(named("n_dims of tensor", name))
	if err != nil {
		return TensorInfo{}, 0, err
	}
	if nd == 0 || nd > MaxDims {
		return TensorInfo{}, 0, d.errf(ndOff, ErrBadTensor, "tensor %q has %d dims (want 1..%d)", name, nd, MaxDims)
	}
	dims := make([]uint64, nd)
	elems := uint64(1)
	dim0Off := d.off
	for j := range dims {
		dOff := d.off
		v, err := d.u64(field{what: "dims of tensor", name: name, idx: j, hasKey: true})
		if err != nil {
			return TensorInfo{}, 0, err
		}
		if int64(v) < 0 {
			return TensorInfo{}, 0, d.errf(dOff, ErrBadTensor, "tensor %q dim %d is negative (%d)", name, j, int64(v))
		}
		if v == 0 {
			return TensorInfo{}, 0, d.errf(dOff, ErrBadTensor, "tensor %q dim %d is 0", name, j)
		}
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, 0, d.errf(dOff, ErrBadTensor, "tensor %q element count overflows int64 at dim %d (%d)", name, j, v)
		}
		elems = lo
		dims[j] = v
	}
	tOff := d.off
	tv, err := d.u32(named("type of tensor", name))
	if err != nil {
		return TensorInfo{}, 0, err
	}
	typ := Type(tv)
	if !typ.Valid() {
		return TensorInfo{}, 0, d.errf(tOff, ErrTensorType, "tensor %q has type id %d (unknown or removed)", name, int32(tv))
	}
	if dims[0]%typ.BlockSize() != 0 {
		return TensorInfo{}, 0, d.errf(dim0Off, ErrBadTensor, "tensor %q: row of %d elements is not a multiple of %s's block size %d", name, dims[0], typ, typ.BlockSize())
	}
	offField := d.off
	off, err := d.u64(named("offset of tensor", name))
	if err != nil {
		return TensorInfo{}, 0, err
	}
	// elems <= MaxInt64 and a block of at most 292 bytes can still
	// overflow 64 bits.
	hi, size := bits.Mul64(elems/typ.BlockSize(), typ.TypeSize())
	if hi != 0 {
		return TensorInfo{}, 0, d.errf(dim0Off, ErrBadTensor, "tensor %q byte size overflows", name)
	}
	return TensorInfo{Name: name, Dims: dims, Type: typ, Offset: off, Size: size, InfoOffset: int64(start)}, offField, nil
}

func (d *decoder) value(t ValueType, typOff int, key string) (Value, error) {
	if t == TypeArray {
		et, err := d.u32(named("array element type of", key))
		if err != nil {
			return Value{}, err
		}
		elem := ValueType(et)
		if elem == TypeArray || elem >= numValueTypes {
			return Value{}, d.errf(typOff+4, ErrBadValueType, "key %q: array element type %d (nested arrays are not allowed)", key, int32(et))
		}
		cntOff := d.off
		n, err := d.u64(named("array length of", key))
		if err != nil {
			return Value{}, err
		}
		minSize := uint64(elem.scalarSize())
		if elem == TypeString {
			minSize = 8
		}
		if n > d.left()/minSize {
			return Value{}, d.errf(cntOff, ErrTruncated, "key %q: array of %d %s elements exceeds the %d bytes left in the file", key, n, elem, d.left())
		}
		return d.array(elem, int(n), key)
	}
	if t >= numValueTypes {
		return Value{}, d.errf(typOff, ErrBadValueType, "key %q: value type %d", key, int32(t))
	}
	if t == TypeString {
		s, err := d.str(named("value of", key))
		return Value{Type: TypeString, v: s}, err
	}
	n := t.scalarSize()
	if err := d.need(uint64(n), named("value of", key)); err != nil {
		return Value{}, err
	}
	v := decodeScalar(t, d.b[d.off:])
	d.off += n
	return Value{Type: t, v: v}, nil
}

// decodeScalar decodes one scalar of type t from the start of p, which
// holds at least t.scalarSize() bytes.
func decodeScalar(t ValueType, p []byte) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return p[0]
	case TypeInt8:
		return int8(p[0])
	case TypeBool:
		return p[0] != 0 // llama.cpp treats any nonzero byte as true
	case TypeUint16:
		return le.Uint16(p)
	case TypeInt16:
		return int16(le.Uint16(p))
	case TypeUint32:
		return le.Uint32(p)
	case TypeInt32:
		return int32(le.Uint32(p))
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(p))
	case TypeUint64:
		return le.Uint64(p)
	case TypeInt64:
		return int64(le.Uint64(p))
	case TypeFloat64:
		return math.Float64frombits(le.Uint64(p))
	}
	return nil
}

// array decodes n elements; the caller checked that n elements of the
// smallest encoding fit in the bytes left.
func (d *decoder) array(elem ValueType, n int, key string) (Value, error) {
	val := Value{Type: TypeArray, Elem: elem}
	le := binary.LittleEndian
	if elem == TypeString {
		a := make([]string, n)
		for i := range a {
			s, err := d.str(field{what: "element of", name: key, idx: i, hasKey: true})
			if err != nil {
				return Value{}, err
			}
			a[i] = s
		}
		val.v = a
		return val, nil
	}
	size := elem.scalarSize()
	p := d.b[d.off : d.off+n*size]
	d.off += n * size
	switch elem {
	case TypeUint8:
		val.v = append([]uint8{}, p...)
	case TypeInt8:
		a := make([]int8, n)
		for i := range a {
			a[i] = int8(p[i])
		}
		val.v = a
	case TypeBool:
		a := make([]bool, n)
		for i := range a {
			a[i] = p[i] != 0
		}
		val.v = a
	case TypeUint16:
		a := make([]uint16, n)
		for i := range a {
			a[i] = le.Uint16(p[2*i:])
		}
		val.v = a
	case TypeInt16:
		a := make([]int16, n)
		for i := range a {
			a[i] = int16(le.Uint16(p[2*i:]))
		}
		val.v = a
	case TypeUint32:
		a := make([]uint32, n)
		for i := range a {
			a[i] = le.Uint32(p[4*i:])
		}
		val.v = a
	case TypeInt32:
		a := make([]int32, n)
		for i := range a {
			a[i] = int32(le.Uint32(p[4*i:]))
		}
		val.v = a
	case TypeFloat32:
		a := make([]float32, n)
		for i := range a {
			a[i] = math.Float32frombits(le.Uint32(p[4*i:]))
		}
		val.v = a
	case TypeUint64:
		a := make([]uint64, n)
		for i := range a {
			a[i] = le.Uint64(p[8*i:])
		}
		val.v = a
	case TypeInt64:
		a := make([]int64, n)
		for i := range a {
			a[i] = int64(le.Uint64(p[8*i:]))
		}
		val.v = a
	case TypeFloat64:
		a := make([]float64, n)
		for i := range a {
			a[i] = math.Float64frombits(le.Uint64(p[8*i:]))
		}
		val.v = a
	}
	return val, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// Lookup returns the metadata value of key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the tensor's bytes, a view into the mapped file.
func (f *File) TensorData(t *TensorInfo) []byte {
	return f.data[t.FileOffset : t.FileOffset+t.Size : t.FileOffset+t.Size]
}

func getTyped[T any](f *File, key string, want string) (T, error) {
	var zero T
	v, ok := f.Lookup(key)
	if !ok {
		return zero, fmt.Errorf("%w: metadata key %q", ErrNotFound, key)
	}
	x, ok := v.v.(T)
	if !ok {
		return zero, fmt.Errorf("%w: %q is %s, want %s", ErrWrongType, key, v.TypeName(), want)
	}
	return x, nil
}

// String returns the string value of key; a missing key or another type is
// an error (llama.cpp's getters require the exact type too).
func (f *File) String(key string) (string, error) { return getTyped[string](f, key, "string") }

// Uint32 returns the u32 value of key.
func (f *File) Uint32(key string) (uint32, error) { return getTyped[uint32](f, key, "u32") }

// Float32 returns the f32 value of key.
func (f *File) Float32(key string) (float32, error) { return getTyped[float32](f, key, "f32") }

// Bool returns the bool value of key.
func (f *File) Bool(key string) (bool, error) { return getTyped[bool](f, key, "bool") }

// Strings returns the string-array value of key.
func (f *File) Strings(key string) ([]string, error) {
	return getTyped[[]string](f, key, "array[string]")
}

// Float32s returns the f32-array value of key.
func (f *File) Float32s(key string) ([]float32, error) {
	return getTyped[[]float32](f, key, "array[f32]")
}

// Int32s returns the i32-array value of key.
func (f *File) Int32s(key string) ([]int32, error) {
	return getTyped[[]int32](f, key, "array[i32]")
}
