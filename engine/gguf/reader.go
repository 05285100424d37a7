package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
)

// Magic is the 4-byte file signature "GGUF".
const Magic = "GGUF"

// DefaultAlignment is used when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name ggml accepts (GGML_MAX_NAME - 1).
const MaxNameLen = 63

// Sentinel errors callers can branch on with errors.Is. Decoding errors
// arrive wrapped in a *FormatError that carries the byte offset.
var (
	ErrBadMagic      = errors.New("gguf: bad magic")
	ErrVersion       = errors.New("gguf: unsupported version")
	ErrTruncated     = errors.New("gguf: file truncated")
	ErrBadValueType  = errors.New("gguf: invalid metadata value type")
	ErrDuplicateKey  = errors.New("gguf: duplicate metadata key")
	ErrAlignment     = errors.New("gguf: invalid general.alignment")
	ErrBadTensor     = errors.New("gguf: invalid tensor info")
	ErrTensorType    = errors.New("gguf: invalid tensor type")
	ErrTensorBounds  = errors.New("gguf: tensor data out of range")
	ErrNotFound      = errors.New("gguf: not found")
	ErrWrongType     = errors.New("gguf: metadata key has wrong type")
	ErrTooManyCounts = errors.New("gguf: count exceeds file size")
)

// FormatError reports a malformed file: what is wrong and at which byte
// offset, like debug/elf's FormatError.
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
	// Dims are in GGUF ne order: Dims[0] is the contiguous dimension.
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
	for _, d := range t.Dims[1:] {
		n *= d
	}
	return n
}

// RowSize is the number of bytes of one row.
func (t *TensorInfo) RowSize() uint64 { return t.Type.RowSize(t.Dims[0]) }

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

func (d *decoder) need(n uint64, what string) error {
	if n > uint64(len(d.b)-d.off) {
		return d.errf(d.off, ErrTruncated, "%s needs %d bytes, %d left", what, n, len(d.b)-d.off)
	}
	return nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

func (d *decoder) str(what string) (string, error) {
	start := d.off
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)-d.off) {
		return "", d.errf(start, ErrTruncated, "%s length %d exceeds the %d bytes left in the file", what, n, len(d.b)-d.off)
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s, nil
}

func (d *decoder) header(f *File) error {
	if len(d.b) < 4 || string(d.b[:4]) != Magic {
		got := d.b[:min(4, len(d.b))]
		return d.errf(0, ErrBadMagic, "got %q, want %q", got, Magic)
	}
	d.off = 4
	v, err := d.u32("version")
	if err != nil {
		return err
	}
	if v != 2 && v != 3 {
		return d.errf(4, ErrVersion, "version %d (want 2 or 3)", v)
	}
	f.Version = v
	countOff := d.off
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return err
	}
	// Each metadata pair takes at least 13 bytes (empty key, type, 1-byte
	// value) and each tensor info at least 24 (empty name, n_dims, one dim,
	// type, offset); bounding counts by the file size bounds every
	// allocation below by the file size.
	left := uint64(len(d.b) - d.off)
	if nKV > left/13 {
		return d.errf(countOff+8, ErrTooManyCounts, "metadata count %d cannot fit in %d bytes", nKV, left)
	}
	if nTensors > left/24 {
		return d.errf(countOff, ErrTooManyCounts, "tensor count %d cannot fit in %d bytes", nTensors, left)
	}
	f.KV = make([]KV, 0, nKV)
	f.kvIndex = make(map[string]int, nKV)
	for i := uint64(0); i < nKV; i++ {
		kvOff := d.off
		key, err := d.str("metadata key")
		if err != nil {
			return err
		}
		if _, dup := f.kvIndex[key]; dup {
			return d.errf(kvOff, ErrDuplicateKey, "key %q", key)
		}
		typOff := d.off
		t, err := d.u32("metadata value type of " + key)
		if err != nil {
			return err
		}
		val, err := d.value(ValueType(t), typOff, key)
		if err != nil {
			return err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: val})
	}
	if i, ok := f.kvIndex["general.alignment"]; ok {
		val := f.KV[i].Value
		a, isU32 := val.v.(uint32)
		if !isU32 {
			return d.errf(0, ErrAlignment, "type %s (want u32)", val.TypeName())
		}
		if a == 0 || a&(a-1) != 0 {
			return d.errf(0, ErrAlignment, "%d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, nTensors)
	f.tIndex = make(map[string]int, nTensors)
	for i := uint64(0); i < nTensors; i++ {
		ti, err := d.tensorInfo()
		if err != nil {
			return err
		}
		if _, dup := f.tIndex[ti.Name]; dup {
			return d.errf(int(ti.InfoOffset), ErrBadTensor, "duplicate tensor name %q", ti.Name)
		}
		f.tIndex[ti.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}

	f.DataOffset = alignUp(uint64(d.off), f.Alignment)
	// llama.cpp requires each tensor at the running sum of the padded sizes
	// of those before it; anything else is rejected there, so here too.
	expect := uint64(0)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset != expect {
			return d.errf(int(t.InfoOffset), ErrTensorBounds, "tensor %q has offset %d, expected %d", t.Name, t.Offset, expect)
		}
		end, carry := bits.Add64(f.DataOffset+t.Offset, t.Size, 0)
		if carry != 0 || end > f.Size || f.DataOffset+t.Offset < f.DataOffset {
			return d.errf(int(t.InfoOffset), ErrTensorBounds, "tensor %q data [%d, %d+%d) is not within the file (%d bytes)", t.Name, f.DataOffset+t.Offset, f.DataOffset+t.Offset, t.Size, f.Size)
		}
		t.FileOffset = f.DataOffset + t.Offset
		padded, overflow := alignUpChecked(t.Size, f.Alignment)
		if overflow {
			return d.errf(int(t.InfoOffset), ErrTensorBounds, "tensor %q size %d overflows", t.Name, t.Size)
		}
		expect += padded
	}
	return nil
}

func (d *decoder) tensorInfo() (TensorInfo, error) {
	start := d.off
	name, err := d.str("tensor name")
	if err != nil {
		return TensorInfo{}, err
	}
	if len(name) > MaxNameLen {
		return TensorInfo{}, d.errf(start, ErrBadTensor, "tensor name of %d bytes (max %d)", len(name), MaxNameLen)
	}
	ndOff := d.off
	nd, err := d.u32("n_dims of " + name)
	if err != nil {
		return TensorInfo{}, err
	}
	if nd == 0 || nd > MaxDims {
		return TensorInfo{}, d.errf(ndOff, ErrBadTensor, "tensor %q has %d dims (want 1..%d)", name, nd, MaxDims)
	}
	dims := make([]uint64, nd)
	elems := uint64(1)
	for j := range dims {
		dOff := d.off
		v, err := d.u64("dim of " + name)
		if err != nil {
			return TensorInfo{}, err
		}
		if int64(v) < 0 {
			return TensorInfo{}, d.errf(dOff, ErrBadTensor, "tensor %q dim %d is negative (%d)", name, j, int64(v))
		}
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, d.errf(dOff, ErrBadTensor, "tensor %q element count overflows int64", name)
		}
		elems = lo
		dims[j] = v
	}
	tOff := d.off
	tv, err := d.u32("type of " + name)
	if err != nil {
		return TensorInfo{}, err
	}
	typ := Type(tv)
	if !typ.Valid() {
		return TensorInfo{}, d.errf(tOff, ErrTensorType, "tensor %q has type id %d", name, tv)
	}
	if dims[0]%typ.BlockSize() != 0 {
		return TensorInfo{}, d.errf(start, ErrBadTensor, "tensor %q: row of %d elements is not a multiple of %s's block size %d", name, dims[0], typ, typ.BlockSize())
	}
	off, err := d.u64("offset of " + name)
	if err != nil {
		return TensorInfo{}, err
	}
	// elems <= MaxInt64 and TypeSize <= 292 with BlockSize >= 1, so the
	// size can still overflow; check it.
	hi, size := bits.Mul64(elems/typ.BlockSize(), typ.TypeSize())
	if hi != 0 {
		return TensorInfo{}, d.errf(start, ErrBadTensor, "tensor %q byte size overflows", name)
	}
	return TensorInfo{Name: name, Dims: dims, Type: typ, Offset: off, Size: size, InfoOffset: int64(start)}, nil
}

func (d *decoder) value(t ValueType, typOff int, key string) (Value, error) {
	if t == TypeArray {
		et, err := d.u32("array element type of " + key)
		if err != nil {
			return Value{}, err
		}
		elem := ValueType(et)
		if elem == TypeArray || elem >= numValueTypes {
			return Value{}, d.errf(typOff+4, ErrBadValueType, "key %q: array element type %d", key, et)
		}
		cntOff := d.off
		n, err := d.u64("array length of " + key)
		if err != nil {
			return Value{}, err
		}
		minSize := uint64(elem.scalarSize())
		if elem == TypeString {
			minSize = 8
		}
		if n > uint64(len(d.b)-d.off)/minSize {
			return Value{}, d.errf(cntOff, ErrTruncated, "key %q: array of %d %s elements exceeds the %d bytes left in the file", key, n, elem, len(d.b)-d.off)
		}
		return d.array(elem, int(n), key)
	}
	if t >= numValueTypes {
		return Value{}, d.errf(typOff, ErrBadValueType, "key %q: value type %d", key, uint32(t))
	}
	if t == TypeString {
		s, err := d.str("value of " + key)
		return Value{Type: TypeString, v: s}, err
	}
	n := t.scalarSize()
	if err := d.need(uint64(n), "value of "+key); err != nil {
		return Value{}, err
	}
	p := d.b[d.off:]
	d.off += n
	le := binary.LittleEndian
	var v any
	switch t {
	case TypeUint8:
		v = p[0]
	case TypeInt8:
		v = int8(p[0])
	case TypeBool:
		v = p[0] != 0 // llama.cpp treats any nonzero byte as true
	case TypeUint16:
		v = le.Uint16(p)
	case TypeInt16:
		v = int16(le.Uint16(p))
	case TypeUint32:
		v = le.Uint32(p)
	case TypeInt32:
		v = int32(le.Uint32(p))
	case TypeFloat32:
		v = math.Float32frombits(le.Uint32(p))
	case TypeUint64:
		v = le.Uint64(p)
	case TypeInt64:
		v = int64(le.Uint64(p))
	case TypeFloat64:
		v = math.Float64frombits(le.Uint64(p))
	}
	return Value{Type: t, v: v}, nil
}

func (d *decoder) array(elem ValueType, n int, key string) (Value, error) {
	val := Value{Type: TypeArray, Elem: elem}
	le := binary.LittleEndian
	if elem == TypeString {
		a := make([]string, n)
		for i := range a {
			s, err := d.str(fmt.Sprintf("%s[%d]", key, i))
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
		val.v = append([]uint8(nil), p...)
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

func alignUpChecked(x, a uint64) (uint64, bool) {
	s, carry := bits.Add64(x, a-1, 0)
	if carry != 0 {
		return 0, true
	}
	return s / a * a, false
}

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

func getTyped[T any](f *File, key string, want ValueType) (T, error) {
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
func (f *File) String(key string) (string, error) { return getTyped[string](f, key, TypeString) }

// Uint32 returns the u32 value of key.
func (f *File) Uint32(key string) (uint32, error) { return getTyped[uint32](f, key, TypeUint32) }

// Float32 returns the f32 value of key.
func (f *File) Float32(key string) (float32, error) { return getTyped[float32](f, key, TypeFloat32) }

// Bool returns the bool value of key.
func (f *File) Bool(key string) (bool, error) { return getTyped[bool](f, key, TypeBool) }

// Strings returns the string-array value of key.
func (f *File) Strings(key string) ([]string, error) { return getTyped[[]string](f, key, TypeArray) }

// Float32s returns the f32-array value of key.
func (f *File) Float32s(key string) ([]float32, error) {
	return getTyped[[]float32](f, key, TypeArray)
}

// Int32s returns the i32-array value of key.
func (f *File) Int32s(key string) ([]int32, error) { return getTyped[[]int32](f, key, TypeArray) }
