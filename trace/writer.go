package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// WriterOptions tune a Writer. The zero value is the default.
type WriterOptions struct {
	// BlockEvents is the number of events per block (default
	// DefaultBlockEvents, at most MaxBlockEvents). Smaller blocks make
	// SeekToken more precise and cost ~25 bytes each.
	BlockEvents int
}

// Validate checks the options.
func (o WriterOptions) Validate() error {
	if o.BlockEvents < 0 || o.BlockEvents > MaxBlockEvents {
		return fmt.Errorf("trace: WriterOptions.BlockEvents = %d, want 0 (default) to %d", o.BlockEvents, MaxBlockEvents)
	}
	return nil
}

// indexEntry is one block in the footer index.
type indexEntry struct {
	offset          int64
	events          uint32
	first, min, max uint32
}

// Writer encodes events into an .etr stream. It is a Sink: errors from
// Emit (an invalid event, a failed write) are kept and returned by Close,
// and later events are dropped. Memory is one block buffer plus 24 bytes
// of index per block (about 1.5 KiB per million events).
type Writer struct {
	w           io.Writer
	blockEvents int
	nTensors    int

	c      coder
	buf    []byte // block header placeholder + payload
	events int    // in the current block
	first  uint32
	min    uint32
	max    uint32
	runPos int    // offset in buf of the last record's header byte, -1 if none
	run    uint64 // repeats pending after that record

	index    []indexEntry
	unsorted bool // some event's token was below the previous one's
	lastTok  uint32
	off      int64
	total    uint64
	err      error
	closed   bool
}

// NewWriter writes h to w and returns a Writer for the events. Nothing is
// buffered across blocks; call Close to write the last block and the
// footer index (a stream without them reads as truncated).
func NewWriter(w io.Writer, h Header, opts WriterOptions) (*Writer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	if opts.BlockEvents == 0 {
		opts.BlockEvents = DefaultBlockEvents
	}
	hdr := appendHeader(nil, &h)
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("trace: write header: %w", err)
	}
	tw := &Writer{
		w:           w,
		blockEvents: opts.BlockEvents,
		nTensors:    len(h.Tensors),
		buf:         make([]byte, blockHeaderSize, blockHeaderSize+blockPayloadSoft+2*maxRecordBytes),
		runPos:      -1,
		off:         int64(len(hdr)),
	}
	tw.c.reset()
	return tw, nil
}

// Events returns the number of events accepted so far.
func (w *Writer) Events() uint64 { return w.total }

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) check(e Event) error {
	switch {
	case !e.Op.Valid():
		return fmt.Errorf("op %d is not a defined op", uint8(e.Op))
	case !e.Kind.Valid():
		return fmt.Errorf("kind %d is not a defined kind", uint8(e.Kind))
	case !e.Phase.Valid():
		return fmt.Errorf("phase %d is not a defined phase", uint8(e.Phase))
	case e.Size == 0:
		return errors.New("size is 0, want >= 1")
	case e.Tensor != NoTensor && int(e.Tensor) >= w.nTensors:
		return fmt.Errorf("tensor %d is outside the header's %d tensors", e.Tensor, w.nTensors)
	}
	return nil
}

// Emit appends e to the trace.
func (w *Writer) Emit(e Event) {
	// Fast path: e continues the open run of slot 0. Slot 0 then holds
	// the previous event, already validated and counted in the block's
	// token range, so only the run length changes.
	if w.runPos >= 0 && w.err == nil {
		s := &w.c.slots[w.c.order[0]]
		p := s.ev
		p.Addr += s.stride
		p.NeuronLo += s.nstride
		p.NeuronHi += s.nstride
		if e == p {
			s.ev = e
			w.run++
			w.total++
			w.events++
			if w.events >= w.blockEvents {
				w.flushBlock()
			}
			return
		}
	}
	w.emitRecord(e)
}

func (w *Writer) emitRecord(e Event) {
	if w.err != nil || w.closed {
		return
	}
	if err := w.check(e); err != nil {
		w.err = fmt.Errorf("trace: event %d (%v): %w", w.total, e, err)
		return
	}
	if e.Token < w.lastTok {
		w.unsorted = true
	}
	w.lastTok = e.Token
	w.total++
	w.note(e)
	w.flushRun()
	w.record(e)
	if w.events >= w.blockEvents || len(w.buf)-blockHeaderSize >= blockPayloadSoft {
		w.flushBlock()
	}
}

func (w *Writer) note(e Event) {
	if w.events == 0 {
		w.first, w.min, w.max = e.Token, e.Token, e.Token
	} else if e.Token < w.min {
		w.min = e.Token
	} else if e.Token > w.max {
		w.max = e.Token
	}
	w.events++
}

// record codes e through the slot that predicts it most cheaply.
func (w *Writer) record(e Event) {
	// An exact prediction is a 1-byte record (threads' interleaved rows).
	for k := range slotCount {
		if e == w.c.predict(k) {
			w.runPos = len(w.buf)
			w.buf = append(w.buf, byte(k))
			w.c.update(k, false, e)
			return
		}
	}
	best, bestCost := 0, math.MaxInt
	for k := range slotCount {
		c := recordCost(&e, &w.c.slots[w.c.order[k]])
		if c < bestCost {
			best, bestCost = k, c
			if c == 1 {
				break
			}
		}
	}
	ref := &w.c.slots[w.c.order[best]].ev
	fork := e.Tensor != ref.Tensor || e.Op != ref.Op || e.Kind != ref.Kind ||
		e.Thread != ref.Thread || e.Layer != ref.Layer
	w.runPos = len(w.buf)
	w.buf = appendRecord(w.buf, best, fork, e, w.c.predict(best))
	w.c.update(best, fork, e)
}

// recordCost is len(appendRecord(nil, k, _, e, prediction of s)) without
// the repeat count; it reads the slot in place because it runs for every
// slot of every event that is not a repeat.
func recordCost(e *Event, s *slot) int {
	p := &s.ev
	n := 1
	if a := p.Addr + s.stride; e.Addr != a {
		n += uvarintLen(zigzag(int64(e.Addr - a)))
	}
	m := 0
	if e.Size != p.Size {
		m += uvarintLen(uint64(e.Size))
	}
	if e.Token != p.Token {
		m += uvarintLen(zigzag(int64(int32(e.Token - p.Token))))
	}
	if e.Tensor != p.Tensor {
		m += uvarintLen(zigzag(int64(int16(e.Tensor - p.Tensor))))
	}
	if e.Layer != p.Layer {
		m += uvarintLen(zigzag(int64(e.Layer - p.Layer)))
	}
	if e.Op != p.Op || e.Kind != p.Kind || e.Phase != p.Phase {
		m++
	}
	if e.Thread != p.Thread {
		m++
	}
	if lo, hi := p.NeuronLo+s.nstride, p.NeuronHi+s.nstride; e.NeuronLo != lo || e.NeuronHi != hi {
		m += uvarintLen(zigzag(int64(int32(e.NeuronLo-lo)))) + uvarintLen(zigzag(int64(int32(e.NeuronHi-hi))))
	}
	if m > 0 {
		n += 1 + m
	}
	return n
}

// appendRecord encodes e against its prediction p from MRU slot k.
func appendRecord(dst []byte, k int, fork bool, e, p Event) []byte {
	h := byte(k)
	if fork {
		h |= recFork
	}
	if e.Addr != p.Addr {
		h |= recAddr
	}
	var m byte
	if e.Size != p.Size {
		m |= fieldSize
	}
	if e.Token != p.Token {
		m |= fieldToken
	}
	if e.Tensor != p.Tensor {
		m |= fieldTensor
	}
	if e.Layer != p.Layer {
		m |= fieldLayer
	}
	if e.Op != p.Op || e.Kind != p.Kind || e.Phase != p.Phase {
		m |= fieldOKP
	}
	if e.Thread != p.Thread {
		m |= fieldThread
	}
	if e.NeuronLo != p.NeuronLo || e.NeuronHi != p.NeuronHi {
		m |= fieldNeurons
	}
	if m != 0 {
		h |= recFields
	}
	dst = append(dst, h)
	if m != 0 {
		dst = append(dst, m)
	}
	if h&recAddr != 0 {
		dst = binary.AppendUvarint(dst, zigzag(int64(e.Addr-p.Addr)))
	}
	if m&fieldSize != 0 {
		dst = binary.AppendUvarint(dst, uint64(e.Size))
	}
	if m&fieldToken != 0 {
		dst = binary.AppendUvarint(dst, zigzag(int64(int32(e.Token-p.Token))))
	}
	if m&fieldTensor != 0 {
		dst = binary.AppendUvarint(dst, zigzag(int64(int16(e.Tensor-p.Tensor))))
	}
	if m&fieldLayer != 0 {
		dst = binary.AppendUvarint(dst, zigzag(int64(e.Layer-p.Layer)))
	}
	if m&fieldOKP != 0 {
		dst = append(dst, packOKP(e))
	}
	if m&fieldThread != 0 {
		dst = append(dst, e.Thread)
	}
	if m&fieldNeurons != 0 {
		dst = binary.AppendUvarint(dst, zigzag(int64(int32(e.NeuronLo-p.NeuronLo))))
		dst = binary.AppendUvarint(dst, zigzag(int64(int32(e.NeuronHi-p.NeuronHi))))
	}
	return dst
}

// flushRun stores the pending repeat count in the last record.
func (w *Writer) flushRun() {
	if w.run == 0 {
		return
	}
	code := min(w.run, 3)
	w.buf[w.runPos] |= byte(code) << recRepeatSh
	if code == 3 {
		w.buf = binary.AppendUvarint(w.buf, w.run-3)
	}
	w.run = 0
}

func (w *Writer) flushBlock() {
	if w.events == 0 {
		return
	}
	w.flushRun()
	b := w.buf
	b[0] = blockTag
	binary.LittleEndian.PutUint32(b[1:], uint32(len(b)-blockHeaderSize))
	binary.LittleEndian.PutUint32(b[5:], uint32(w.events))
	binary.LittleEndian.PutUint32(b[9:], w.first)
	binary.LittleEndian.PutUint32(b[13:], w.min)
	binary.LittleEndian.PutUint32(b[17:], w.max)
	crc := crc32.Update(crc32.Checksum(b[:21], castagnoli), castagnoli, b[blockHeaderSize:])
	binary.LittleEndian.PutUint32(b[21:], crc)
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("trace: write block %d: %w", len(w.index), err)
		return
	}
	w.index = append(w.index, indexEntry{offset: w.off, events: uint32(w.events), first: w.first, min: w.min, max: w.max})
	w.off += int64(len(b))
	w.buf = w.buf[:blockHeaderSize]
	w.events = 0
	w.runPos = -1
	w.c.reset()
}

// Close writes the last block, the footer index and the trailer. It does
// not close the underlying writer. It returns the first error of the
// whole stream (an invalid event, a failed write).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer func() { w.runPos = -1 }()
	if w.err != nil {
		return w.err
	}
	w.flushBlock()
	if w.err != nil {
		return w.err
	}
	f := make([]byte, 0, footerFixed+footerEntrySize*len(w.index)+trailerSize)
	f = append(f, footerTag)
	var flags uint32
	if !w.unsorted {
		flags |= footerTokensSorted
	}
	f = binary.LittleEndian.AppendUint32(f, flags)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(w.index)))
	f = binary.LittleEndian.AppendUint64(f, w.total)
	for _, ie := range w.index {
		f = binary.LittleEndian.AppendUint64(f, uint64(ie.offset))
		f = binary.LittleEndian.AppendUint32(f, ie.events)
		f = binary.LittleEndian.AppendUint32(f, ie.first)
		f = binary.LittleEndian.AppendUint32(f, ie.min)
		f = binary.LittleEndian.AppendUint32(f, ie.max)
	}
	f = binary.LittleEndian.AppendUint32(f, crc32.Checksum(f, castagnoli))
	f = binary.LittleEndian.AppendUint64(f, uint64(w.off))
	f = append(f, trailerMagic[:]...)
	if _, err := w.w.Write(f); err != nil {
		w.err = fmt.Errorf("trace: write footer: %w", err)
	}
	return w.err
}

// FileWriter writes a trace file through a temporary file that is
// renamed into place only by a successful Close, so a reader never sees
// a partial trace under the final name.
type FileWriter struct {
	*Writer
	f    *atomicfile.File
	path string
}

// Create starts writing the trace file path.
func Create(path string, h Header, opts WriterOptions) (*FileWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, h, opts)
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &FileWriter{Writer: w, f: f, path: path}, nil
}

// Close finishes the trace and renames it into place; on any error the
// temporary file is removed and nothing appears under path.
func (fw *FileWriter) Close() error {
	if err := fw.Writer.Close(); err != nil {
		fw.f.Abort()
		return fmt.Errorf("%s: %w", fw.path, err)
	}
	return fw.f.Commit()
}

// Abort discards the trace. Safe after Close.
func (fw *FileWriter) Abort() {
	fw.Writer.closed = true
	fw.Writer.runPos = -1
	fw.f.Abort()
}
