package trace

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
)

// Validate checks that h can be written: at most 65535 tensors (NoTensor
// is reserved) with at most 8 dimensions each.
func (h *Header) Validate() error {
	if len(h.Tensors) >= int(NoTensor) {
		return fmt.Errorf("trace: header has %d tensors, want at most %d", len(h.Tensors), int(NoTensor)-1)
	}
	for i, t := range h.Tensors {
		if len(t.Dims) > maxDims {
			return fmt.Errorf("trace: header tensor %d (%q) has %d dims, want at most %d", i, t.Name, len(t.Dims), maxDims)
		}
	}
	return nil
}

// TensorName returns the name of tensor id, or "" for NoTensor and ids
// outside the symbol table.
func (h *Header) TensorName(id uint16) string {
	if int(id) < len(h.Tensors) {
		return h.Tensors[id].Name
	}
	return ""
}

// appendHeader encodes the file header (fixed part, body, CRC).
func appendHeader(dst []byte, h *Header) []byte {
	body := appendString(nil, h.EdgeprofVersion)
	body = appendString(body, h.ModelName)
	body = appendString(body, h.ModelSHA256)
	body = binary.AppendUvarint(body, h.ModelSize)
	keys := make([]string, 0, len(h.Settings))
	for k := range h.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	body = binary.AppendUvarint(body, uint64(len(keys)))
	for _, k := range keys {
		body = appendString(body, k)
		body = appendString(body, h.Settings[k])
	}
	body = binary.AppendUvarint(body, uint64(len(h.Tensors)))
	for _, t := range h.Tensors {
		body = appendString(body, t.Name)
		body = appendString(body, t.Type)
		body = binary.AppendUvarint(body, uint64(len(t.Dims)))
		for _, d := range t.Dims {
			body = binary.AppendUvarint(body, d)
		}
		body = binary.AppendUvarint(body, t.Offset)
		body = binary.AppendUvarint(body, t.Size)
	}
	start := len(dst)
	dst = append(dst, fileMagic[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, Version)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = append(dst, body...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// bodyDecoder reads the header body; every count and length is checked
// against the bytes left before anything is allocated.
type bodyDecoder struct {
	b   []byte
	off int
	err error
	// base is the file offset of b[0], for error messages.
	base int64
}

func (d *bodyDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corruptf(-1, d.base+int64(d.off), 0, format, args...)
	}
}

func (d *bodyDecoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("header field %s: bad or cut-off varint", field)
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items each at least minBytes long.
func (d *bodyDecoder) count(field string, minBytes int, max uint64) int {
	v := d.uvarint(field)
	if d.err != nil {
		return 0
	}
	if v > max || v > uint64(len(d.b)-d.off)/uint64(minBytes) {
		d.fail("header field %s: count %d exceeds the %d bytes left (or the limit %d)", field, v, len(d.b)-d.off, max)
		return 0
	}
	return int(v)
}

func (d *bodyDecoder) str(field string) string {
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("header field %s: string length %d exceeds the %d bytes left", field, n, len(d.b)-d.off)
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

// parseHeaderBody decodes the body bytes of the file header.
func parseHeaderBody(b []byte, base int64) (*Header, error) {
	d := &bodyDecoder{b: b, base: base}
	h := &Header{}
	h.EdgeprofVersion = d.str("edgeprof_version")
	h.ModelName = d.str("model_name")
	h.ModelSHA256 = d.str("model_sha256")
	h.ModelSize = d.uvarint("model_size")
	if n := d.count("settings", 2, 1<<32); n > 0 {
		h.Settings = make(map[string]string, n)
		prev := ""
		for i := 0; i < n && d.err == nil; i++ {
			k := d.str("setting key")
			v := d.str("setting value")
			if d.err == nil && i > 0 && k <= prev {
				d.fail("header settings not sorted by key: %q after %q", k, prev)
			}
			prev = k
			h.Settings[k] = v
		}
	}
	if n := d.count("tensors", 5, uint64(NoTensor)-1); n > 0 {
		h.Tensors = make([]TensorSym, n)
		for i := 0; i < n && d.err == nil; i++ {
			t := &h.Tensors[i]
			t.Name = d.str("tensor name")
			t.Type = d.str("tensor type")
			if nd := d.count("tensor dims", 1, maxDims); nd > 0 {
				t.Dims = make([]uint64, nd)
				for j := range t.Dims {
					t.Dims[j] = d.uvarint("tensor dim")
				}
			}
			t.Offset = d.uvarint("tensor offset")
			t.Size = d.uvarint("tensor size")
		}
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail("header body has %d bytes after the symbol table, want 0", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return h, nil
}
