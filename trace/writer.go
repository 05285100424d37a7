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
	// BlockEvents is the most events per block (default
	// DefaultBlockEvents, at most MaxBlockEvents). The writer closes a
	// block early where a forward pass starts that would not fit, so
	// that blocks hold whole passes when passes are shorter. Smaller
	// blocks make SeekToken more precise and cost ~25 bytes each, plus
	// the coding of their first pass, which has nothing to repeat.
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

// noRun marks that no record is open in the block.
const noRun = -1

// Writer encodes events into an .etr stream. It is a Sink: errors from
// Emit (an invalid event, a failed write) are kept and returned by Close,
// and later events are dropped. Memory is one block's payload and events
// (32 bytes each: 512 KiB at the default block size) plus 24 bytes of
// index per block.
type Writer struct {
	w           io.Writer
	blockEvents int
	nTensors    int

	c      coder
	steady [16]bool // by physical slot: its last event was near its prediction
	hist   []Event  // the block's events so far
	buf    []byte   // block header placeholder + payload
	first  uint32
	min    uint32
	max    uint32
	runSrc int    // source of the last record, noRun if none
	runPos int    // offset in buf of the last record's header byte
	run    uint64 // repeats pending after that record

	// Address runs. lastPos is the offset of the last record when it
	// can be an address-run entry (a slot position below runPositions,
	// an address correction lastD), -1 otherwise; it is one (lastEntry)
	// or a record that may become one; lastEnd is where it ends, so
	// that anything appended after it closes it. runHdr is the offset
	// of the open run's header, runLen its entries.
	lastPos   int
	lastEnd   int
	lastK     int
	lastD     uint64
	lastEntry bool
	runHdr    int
	runLen    int
	// entryReps counts the repeats of the last entry coded as exact
	// entries after it (see Emit).
	entryReps int

	// Period finding (see hints).
	lastTok    uint32
	lastLayer  int16
	newTok     bool  // the previous event started a new token
	maxTok     int64 // -1 before the first event
	passStart  int   // index of the current pass's first event, -1 if none
	layerStart int   // index of the current layer's first event, -1 if none
	want       [2]int

	index    []indexEntry
	unsorted bool // some event's token was below the previous one's
	prevTok  uint32
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
		hist:        make([]Event, 0, opts.BlockEvents),
		off:         int64(len(hdr)),
		maxTok:      -1,
		lastLayer:   NoLayer,
	}
	tw.resetBlock()
	return tw, nil
}

func (w *Writer) resetBlock() {
	w.c.reset()
	w.steady = [16]bool{}
	w.hist = w.hist[:0]
	w.buf = w.buf[:blockHeaderSize]
	w.runSrc = noRun
	w.run = 0
	w.lastPos, w.lastEntry, w.runHdr = -1, false, -1
	w.passStart, w.layerStart = -1, -1
	w.want = [2]int{}
}

// Events returns the number of events accepted so far.
func (w *Writer) Events() uint64 { return w.total }

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) check(e *Event) error {
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
	if w.err != nil || w.closed {
		return
	}
	if e.Token != w.lastTok || e.Layer != w.lastLayer || w.maxTok < 0 {
		if w.hints(&e); w.err != nil {
			return // closing a block early failed
		}
	} else {
		w.newTok = false
	}
	// Fast path: e is what the open record's source predicts, so it is
	// one more repeat. A slot's prediction is a valid event (only its
	// address, neurons and token move); a period's may not be.
	if src := w.runSrc; src >= srcPeriod0 {
		if w.periodRepeats(&e, &w.c.periods[src-srcPeriod0]) {
			w.repeat(&e)
			return
		}
	} else if src != noRun && slotRepeats(&e, w.c.slot(src)) {
		if w.lastEntry && w.lastPos >= 0 && w.lastEnd == len(w.buf) {
			// The open record is a run entry, which has no repeat
			// count. One or two repeats are cheapest as exact entries
			// (a byte each, and the run goes on); from the third on,
			// the entry and its repeats become a record with a count.
			if w.entryReps < 2 && w.runLen < runMax {
				w.entryReps++
				w.runLen++
				w.buf[w.runHdr] = srcRun | byte(w.runLen-1)<<4
				w.buf = append(w.buf, byte(src))
				w.lastEnd = len(w.buf)
				w.c.update(src, &e)
				w.note(&e)
				if len(w.hist) >= w.blockEvents {
					w.flushBlock()
				}
				return
			}
			w.entryToRecord()
		}
		if src == 0 {
			// Continuing the front slot leaves its strides as they are.
			w.c.slot(0).ev = e
		} else {
			w.c.update(src, &e)
		}
		w.repeat(&e)
		return
	}
	w.emitRecord(&e)
}

// slotRepeats reports whether e is slot s's prediction.
func slotRepeats(e *Event, s *slot) bool {
	p := &s.ev
	return e.Addr == p.Addr+s.stride && e.Token == p.Token+s.tstride &&
		e.NeuronLo == p.NeuronLo+s.nstride && e.NeuronHi == p.NeuronHi+s.nstride &&
		e.Size == p.Size && e.Tensor == p.Tensor && e.Layer == p.Layer &&
		e.Thread == p.Thread && e.Op == p.Op && e.Kind == p.Kind && e.Phase == p.Phase
}

// periodRepeats reports whether e is the valid event that period
// register pr predicts next: predictPeriod without building the event,
// for the writer's hottest path.
func (w *Writer) periodRepeats(e *Event, pr *period) bool {
	n := len(w.hist)
	a := &w.hist[n-pr.d]
	if e.Thread != a.Thread || e.Op != a.Op || e.Kind != a.Kind || e.Phase != a.Phase ||
		e.Size == 0 || e.Tensor != NoTensor && int(e.Tensor) >= w.nTensors {
		return false
	}
	if j := n - 2*pr.d; j >= pr.origin {
		b := &w.hist[j]
		return e.Addr == a.Addr+(a.Addr-b.Addr) && e.Size == a.Size+(a.Size-b.Size) &&
			e.Token == a.Token+(a.Token-b.Token) && e.Tensor == a.Tensor+(a.Tensor-b.Tensor) &&
			e.Layer == a.Layer+(a.Layer-b.Layer) && e.NeuronLo == a.NeuronLo+(a.NeuronLo-b.NeuronLo) &&
			e.NeuronHi == a.NeuronHi+(a.NeuronHi-b.NeuronHi)
	}
	d := &pr.delta[periodClass(a)]
	return e.Addr == a.Addr+d.Addr && e.Size == a.Size+d.Size && e.Token == a.Token+d.Token &&
		e.Tensor == a.Tensor+d.Tensor && e.Layer == a.Layer+d.Layer &&
		e.NeuronLo == a.NeuronLo+d.NeuronLo && e.NeuronHi == a.NeuronHi+d.NeuronHi
}

// repeat counts e as one more repeat of the open record.
func (w *Writer) repeat(e *Event) {
	w.run++
	w.note(e)
	if len(w.hist) >= w.blockEvents {
		w.flushBlock()
	}
}

func (w *Writer) emitRecord(e *Event) {
	if err := w.check(e); err != nil {
		w.err = fmt.Errorf("trace: event %d (%v): %w", w.total, *e, err)
		return
	}
	w.flushRun()
	w.setPeriods()
	w.record(e)
	w.note(e)
	if len(w.hist) >= w.blockEvents || len(w.buf)-blockHeaderSize >= blockPayloadSoft {
		w.flushBlock()
	}
}

// note accounts for e, already coded: the block's token range, the
// file's sort order and the block's history.
func (w *Writer) note(e *Event) {
	if len(w.hist) == 0 {
		w.first, w.min, w.max = e.Token, e.Token, e.Token
	} else if e.Token < w.min {
		w.min = e.Token
	} else if e.Token > w.max {
		w.max = e.Token
	}
	if e.Token < w.prevTok {
		w.unsorted = true
	}
	w.prevTok = e.Token
	w.total++
	w.hist = append(w.hist, *e)
}

// hints looks, before e is coded and when its token or layer differs
// from the previous event's, for the two periods of an engine
// trace and proposes them for the registers: register 0 gets the length
// of a forward pass (from the first event of one batch of new tokens to
// the next; tokens repeat it with the token, KV slot and KV length moving
// linearly), register 1 the length of a layer (layers repeat it with
// tensor ids, weight addresses and KV addresses moving linearly). Any
// other choice decodes the same; these only make the trace small.
func (w *Writer) hints(e *Event) {
	n := len(w.hist)
	if int64(e.Token) > w.maxTok {
		if !w.newTok {
			if w.passStart >= 0 {
				d := n - w.passStart
				if n+d > w.blockEvents {
					// A pass as long as the last one would not fit:
					// start a block with this one rather than cut it.
					w.flushBlock()
					n = 0
				} else {
					w.want[0] = d
				}
			}
			w.passStart = n
		}
		w.maxTok = int64(e.Token)
		w.newTok = true
	} else {
		w.newTok = false
	}
	if e.Layer != w.lastLayer && e.Layer != NoLayer {
		if w.layerStart >= 0 && e.Layer == w.hist[w.layerStart].Layer+1 {
			w.want[1] = n - w.layerStart
		}
		w.layerStart = n
	}
	w.lastTok, w.lastLayer = e.Token, e.Layer
}

// setPeriods writes control records for the registers whose proposed
// period changed.
func (w *Writer) setPeriods() {
	if w.want == [2]int{} {
		return
	}
	for r := range w.want {
		d := w.want[r]
		if d == 0 || d == w.c.periods[r].d || d > len(w.hist) {
			continue
		}
		h := byte(srcControl)
		var step uint32
		if r == 1 {
			h |= ctlRegister
		} else {
			step = 1
			h |= ctlTokenStep
		}
		w.buf = append(w.buf, h)
		w.buf = binary.AppendUvarint(w.buf, uint64(d))
		w.c.periods[r].set(d, len(w.hist), step)
	}
}

// record codes e through the source that predicts it most cheaply.
func (w *Writer) record(e *Event) {
	n := len(w.hist)
	// An exact prediction is a 1-byte record; periods first, as their
	// runs are the longest.
	var pp [2]Event
	periods := w.c.periods[0].d|w.c.periods[1].d != 0 // none in foreign traces
	for r := range w.c.periods {
		if pr := &w.c.periods[r]; periods && pr.d != 0 {
			if pp[r] = predictPeriod(w.hist, n, pr); *e == pp[r] {
				w.open(srcPeriod0 + r)
				w.buf = append(w.buf, byte(srcPeriod0+r))
				return
			}
		}
	}
	// Otherwise an exact slot, or the cheapest source; slots first,
	// since coding through a slot also teaches the slots the new stream.
	best, bestCost, addrOnly := 0, math.MaxInt, false
	o := w.c.order
	for k := range slotCount {
		s := &w.c.slots[o.first()]
		o >>= 4
		c, f := slotCost(e, s, bestCost)
		if c == 1 {
			w.addrRecord(k, 0)
			w.c.update(k, e)
			w.steady[w.c.order.first()] = true
			return
		}
		if c < bestCost {
			best, bestCost, addrOnly = k, c, f == 0
		}
		if s.ev.Size == 0 {
			// The empty slots come last (reader.go, slotRecords) and
			// all predict the same: the first one stands for all.
			break
		}
	}
	for r := range w.c.periods {
		if periods && w.c.periods[r].d != 0 {
			if c := recordCost(e, &pp[r]); c < bestCost {
				best, bestCost = srcPeriod0+r, c
			}
		}
	}
	if best < slotCount && addrOnly {
		// Only the address differs from the slot's prediction (the
		// common record of record-style traces): the event continues
		// the slot's stream, with the same token and neuron strides.
		phys := w.c.order.at(uint(best))
		s := &w.c.slots[phys]
		d := e.Addr - (s.ev.Addr + s.stride)
		if far(d) && (w.steady[phys] || w.c.slot(slotCount-1).ev.Size == 0) {
			w.open(best)
			w.buf = append(w.buf, byte(best)|recAddr|recFields, fieldFork)
			w.buf = binary.AppendUvarint(w.buf, zigzag(int64(d)))
			w.c.fork(e)
			w.steady[w.c.order.first()] = false
			w.runSrc = 0
			return
		}
		w.addrRecord(best, d)
		s.stride = e.Addr - s.ev.Addr
		s.ev = *e
		w.c.order = w.c.order.front(uint(best))
		w.steady[phys] = !far(d)
		return
	}
	bestP := w.c.predict(best)
	if best >= slotCount {
		bestP = pp[best-srcPeriod0]
	}
	w.open(best)
	if best < slotCount && sameStream(e, &w.c.slot(best).ev) {
		if far(e.Addr-bestP.Addr) && (w.steady[w.c.order.at(uint(best))] || w.c.slot(slotCount-1).ev.Size == 0) {
			// The update would move a stream that its stride predicts
			// well far away, or a slot is still free: the stream may
			// well continue (a sequential walk interrupted by a random
			// access), so the event starts a new one instead. A slot
			// that took a far event stays the home of such events
			// (random accesses), which then cost no fork.
			w.buf = appendRecord(w.buf, best, e, &bestP, fieldFork)
			w.c.fork(e)
			w.steady[w.c.order.first()] = false
			w.runSrc = 0
			return
		}
		w.buf = appendRecord(w.buf, best, e, &bestP, 0)
		w.c.update(best, e)
		w.steady[w.c.order.first()] = !far(e.Addr - bestP.Addr)
		return
	}
	w.buf = appendRecord(w.buf, best, e, &bestP, 0)
	if best < slotCount {
		w.c.update(best, e)
	} else {
		w.c.periods[best-srcPeriod0].learn(w.hist, n, e)
		w.c.fork(e)
	}
	w.steady[w.c.order.first()] = false
}

// open starts a record through src at the end of the payload.
func (w *Writer) open(src int) {
	w.runSrc = src
	w.runPos = len(w.buf)
	w.lastPos, w.lastEntry = -1, false
}

// addrRecord codes an event that is the prediction of slot position k
// with its address moved by d (0: exact): an entry of the open address
// run, or of a new one that takes in the record before if that was such
// an event too (a run pays its header from its second entry on), or a
// record of its own. Repeats of an entry turn it back into a record
// (entryToRecord).
func (w *Writer) addrRecord(k int, d uint64) {
	z := zigzag(int64(d))
	if k >= runPositions || z >= 1<<(64-runPosBits) {
		w.plainAddrRecord(k, d)
		w.lastPos = -1
		return
	}
	if w.lastPos >= 0 && w.lastEnd == len(w.buf) {
		switch {
		case w.lastEntry && w.runLen < runMax:
			w.runLen++
			w.buf[w.runHdr] = srcRun | byte(w.runLen-1)<<4
			w.appendEntry(k, d)
			return
		case !w.lastEntry && w.buf[w.lastPos]>>recRepeatSh == 0 &&
			1+uvarintLen(zigzag(int64(w.lastD))<<runPosBits|uint64(w.lastK))+uvarintLen(z<<runPosBits|uint64(k)) <= w.lastEnd-w.lastPos+addrRecordLen(d):
			// Only if the run costs no more than the two records.
			pk, pd := w.lastK, w.lastD
			w.buf = w.buf[:w.lastPos]
			w.runHdr, w.runLen = len(w.buf), 2
			w.buf = append(w.buf, srcRun|1<<4)
			w.buf = binary.AppendUvarint(w.buf, zigzag(int64(pd))<<runPosBits|uint64(pk))
			w.appendEntry(k, d)
			return
		}
	}
	w.plainAddrRecord(k, d)
	w.lastPos, w.lastEnd, w.lastK, w.lastD, w.lastEntry = w.runPos, len(w.buf), k, d, false
}

// appendEntry appends the run entry of slot position k and address
// correction d; a repeat that follows continues position k.
func (w *Writer) appendEntry(k int, d uint64) {
	w.runSrc = k
	w.lastPos, w.lastK, w.lastD, w.lastEntry, w.entryReps = len(w.buf), k, d, true, 0
	w.buf = binary.AppendUvarint(w.buf, zigzag(int64(d))<<runPosBits|uint64(k))
	w.lastEnd = len(w.buf)
}

// addrRecordLen is the length of a record with address correction d and
// no repeats.
func addrRecordLen(d uint64) int {
	if d == 0 {
		return 1
	}
	return 1 + uvarintLen(zigzag(int64(d)))
}

// plainAddrRecord appends a record through slot position k with address
// correction d.
func (w *Writer) plainAddrRecord(k int, d uint64) {
	w.open(k)
	if d == 0 {
		w.buf = append(w.buf, byte(k))
		return
	}
	w.buf = append(w.buf, byte(k)|recAddr)
	w.buf = binary.AppendUvarint(w.buf, zigzag(int64(d)))
}

// entryToRecord turns the last run entry and the exact entries of its
// repeats that follow it into a record of its own with that many
// repeats pending, which can hold more.
func (w *Writer) entryToRecord() {
	w.buf = w.buf[:w.lastPos]
	if w.runLen -= 1 + w.entryReps; w.runLen == 0 {
		w.buf = w.buf[:w.runHdr]
	} else {
		w.buf[w.runHdr] = srcRun | byte(w.runLen-1)<<4
	}
	w.plainAddrRecord(w.lastK, w.lastD)
	w.run = uint64(w.entryReps)
}

// recordCost is len(appendRecord(nil, _, e, p)) without the repeat count:
// 1 when e is p.
func recordCost(e, p *Event) int {
	n := 1
	if e.Addr != p.Addr {
		n += uvarintLen(zigzag(int64(e.Addr - p.Addr)))
	}
	return n + fieldsCost(e, p, p.Token, p.NeuronLo, p.NeuronHi)
}

// slotCost is recordCost against slot s's prediction, read in place as it
// runs for every slot of every event that no run or period predicts, and
// the part of it that is not the header and address (fieldsCost). A slot
// whose address correction alone costs limit or more cannot be the
// cheapest: its cost is only known to be at least limit (f is -1).
func slotCost(e *Event, s *slot, limit int) (c, f int) {
	p := &s.ev
	n := 1
	if a := p.Addr + s.stride; e.Addr != a {
		n += uvarintLen(zigzag(int64(e.Addr - a)))
	}
	if n >= limit {
		return n, -1
	}
	f = fieldsCost(e, p, p.Token+s.tstride, p.NeuronLo+s.nstride, p.NeuronHi+s.nstride)
	return n + f, f
}

// fieldsCost is the length of the field mask and the fields of e against
// a prediction that is p with the given token and neuron range.
func fieldsCost(e, p *Event, tok, lo, hi uint32) int {
	m := 0
	if e.Size != p.Size {
		m += uvarintLen(uint64(e.Size))
	}
	if e.Token != tok {
		m += uvarintLen(zigzag(int64(int32(e.Token - tok))))
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
	if e.NeuronLo != lo || e.NeuronHi != hi {
		m += uvarintLen(zigzag(int64(int32(e.NeuronLo-lo)))) + uvarintLen(zigzag(int64(int32(e.NeuronHi-hi))))
	}
	if m > 0 {
		return 1 + m
	}
	return 0
}

// forkDistance is the address correction from which the writer forks
// an event of a slot's stream into a new slot rather than moving the
// slot there.
const forkDistance = 1 << 16

// far reports whether an address correction d (two's complement) is at
// least forkDistance either way.
func far(d uint64) bool { return d+forkDistance-1 > 2*forkDistance-2 }

// appendRecord encodes e against its prediction p from source src; m0
// holds extra field mask bits (fieldFork).
func appendRecord(dst []byte, src int, e, p *Event, m0 byte) []byte {
	h := byte(src)
	if e.Addr != p.Addr {
		h |= recAddr
	}
	m := m0
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
		dst = append(dst, packOKP(*e))
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
	events := len(w.hist)
	if events == 0 {
		return
	}
	w.flushRun()
	b := w.buf
	b[0] = blockTag
	binary.LittleEndian.PutUint32(b[1:], uint32(len(b)-blockHeaderSize))
	binary.LittleEndian.PutUint32(b[5:], uint32(events))
	binary.LittleEndian.PutUint32(b[9:], w.first)
	binary.LittleEndian.PutUint32(b[13:], w.min)
	binary.LittleEndian.PutUint32(b[17:], w.max)
	crc := crc32.Update(crc32.Checksum(b[:21], castagnoli), castagnoli, b[blockHeaderSize:])
	binary.LittleEndian.PutUint32(b[21:], crc)
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("trace: write block %d: %w", len(w.index), err)
		return
	}
	w.index = append(w.index, indexEntry{offset: w.off, events: uint32(events), first: w.first, min: w.min, max: w.max})
	w.off += int64(len(b))
	w.resetBlock()
}

// Close writes the last block, the footer index and the trailer. It does
// not close the underlying writer. It returns the first error of the
// whole stream (an invalid event, a failed write).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
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
	fw.f.Abort()
}
