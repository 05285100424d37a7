package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// The .etr format, version 1. docs/trace-format.md is the specification;
// the constants here are the numbers it names.
const (
	// Version is the format version this package writes and reads.
	Version = 1

	// MaxBlockEvents bounds the events in one block. Readers reject larger
	// counts, so a crafted block cannot make them produce an unbounded run.
	MaxBlockEvents = 1 << 16
	// MaxBlockPayload bounds the encoded bytes of one block (the reader's
	// payload buffer).
	MaxBlockPayload = 1 << 24
	// DefaultBlockEvents is the writer's largest block: three decoded
	// tokens of a stories15M-shape model as the engine records them
	// (blocks close at forward passes), 512 KiB of events in the writer
	// and the reader, and at most that much decoding for SeekToken. A
	// block's first pass has nothing to repeat; larger blocks would
	// shrink traces a little more (0.12 to 0.06 bytes per event at the
	// 65536 maximum, stories15M-shape on 4 threads).
	DefaultBlockEvents = 1 << 14

	// slotCount is the number of reference events (prediction slots) the
	// coder keeps; a record's 4-bit source field selects one of them, a
	// period register, or marks a control record.
	slotCount = 12

	fileHeaderFixed  = 16                // magic, version, flags, body length
	blockHeaderSize  = 25                // tag, payload length, events, 3 tokens, crc
	footerEntrySize  = 24                // offset, events, first/min/max token
	footerFixed      = 1 + 4 + 4 + 8 + 4 // tag, flags, count, total, crc
	trailerSize      = 16
	maxDims          = 8
	maxHeaderBody    = 1 << 30
	blockTag         = 'B'
	footerTag        = 'F'
	maxRecordBytes   = 1 + 1 + 10 + 5 + 5 + 3 + 3 + 1 + 1 + 5 + 5 + 3
	blockPayloadSoft = 64 << 10
)

var (
	fileMagic    = [8]byte{0x89, 'E', 'T', 'R', '\r', '\n', 0x1a, '\n'}
	trailerMagic = [8]byte{0x89, 'E', 'N', 'D', '\r', '\n', 0x1a, '\n'}
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

// Record header bits (docs/trace-format.md, "Records").
const (
	recSrcMask   = 0x0f
	recAddr      = 0x10
	recFields    = 0x20
	recRepeatSh  = 6
	fieldSize    = 0x01
	fieldToken   = 0x02
	fieldTensor  = 0x04
	fieldLayer   = 0x08
	fieldOKP     = 0x10
	fieldThread  = 0x20
	fieldNeurons = 0x40
	fieldFork    = 0x80

	// Sources above the slot positions.
	srcPeriod0 = slotCount     // period register 0
	srcPeriod1 = slotCount + 1 // period register 1
	srcRun     = slotCount + 2 // an address run
	// An address run: the header's high nibble is its length less one,
	// and each entry names a slot position below runPositions in its low
	// bits (docs/trace-format.md, "Address runs").
	runMax       = 16
	runPositions = 4
	runPosBits   = 2
	srcControl   = slotCount + 3
	// Control record bits above the source.
	ctlRegister  = 0x10
	ctlTokenStep = 0x20
	ctlReserved  = 0xc0

	// footerTokensSorted: every event's Token is >= the previous one's.
	footerTokensSorted = 1
)

// Sentinel errors; FormatError wraps one of them so callers can branch with
// errors.Is.
var (
	// ErrBadMagic: the file is not an .etr trace.
	ErrBadMagic = errors.New("trace: not an .etr trace (bad magic)")
	// ErrVersion: an .etr trace of a version this build cannot read.
	ErrVersion = errors.New("trace: unsupported .etr version")
	// ErrCorrupt: a checksum failed or a structure is malformed.
	ErrCorrupt = errors.New("trace: corrupt")
	// ErrTruncated: the trace ends early (cut off mid-write). The events
	// before the cut were delivered; callers may treat it as a warning.
	ErrTruncated = errors.New("trace: truncated")
)

// FormatError describes a malformed or truncated .etr trace: where the
// problem is and how much of the trace before it was good.
type FormatError struct {
	// Path is the file name when known (Open), else empty.
	Path string
	// Block is the index of the failing block, or -1 when the problem is
	// in Part.
	Block int
	// Part names the structure when Block is -1: "header" (the default),
	// "footer" or "trailer".
	Part string
	// Offset is the byte offset of the failing structure.
	Offset int64
	// GoodEvents is the number of events, all in blocks before Block, that
	// were decoded and checksummed correctly.
	GoodEvents uint64
	// Msg says what was wrong and what was expected.
	Msg string
	// Kind is ErrBadMagic, ErrVersion, ErrCorrupt or ErrTruncated.
	Kind error
}

func (e *FormatError) Error() string {
	where := "trace"
	if e.Path != "" {
		where = "trace " + e.Path
	}
	part := e.Part
	if part == "" {
		part = "header"
	}
	if e.Block >= 0 {
		part = fmt.Sprintf("block %d", e.Block)
	}
	good := ""
	if e.Block >= 0 {
		good = fmt.Sprintf("; the %d events before it are good", e.GoodEvents)
	}
	return fmt.Sprintf("%s: %s at offset %d: %s%s", where, part, e.Offset, e.Msg, good)
}

// Unwrap lets errors.Is match the sentinel in Kind.
func (e *FormatError) Unwrap() error { return e.Kind }

func corruptf(block int, off int64, good uint64, format string, args ...any) *FormatError {
	return &FormatError{Block: block, Offset: off, GoodEvents: good, Msg: fmt.Sprintf(format, args...), Kind: ErrCorrupt}
}

// slot is one reference event of the coder: the last event coded through
// it and the address, neuron and token strides that predict the next one.
type slot struct {
	ev      Event
	stride  uint64 // added to ev.Addr (wrapping)
	nstride uint32 // added to ev.NeuronLo and ev.NeuronHi (wrapping)
	tstride uint32 // added to ev.Token (wrapping)
}

// period is a period register: events repeat the ones d back in the
// block. From index origin+2d on they are extrapolated linearly from the
// ones d and 2d back; in the first repetition, where the ones 2d back
// are not part of the pattern, the change from d back is the one the
// last corrected event of the same class (address region and kind) had.
// d == 0: not set.
type period struct {
	d, origin int
	delta     [periodClasses]Event
}

// periodClasses: address regions (RegionOf, 5 values) times kinds.
const periodClasses = 5 * int(numKinds)

func periodClass(a *Event) int { return int(RegionOf(a.Addr))*int(numKinds) + int(a.Kind) }

// set starts the register with period d at index n of the block; the
// first repetition moves tokens by tokenStep until it learns otherwise.
func (pr *period) set(d, n int, tokenStep uint32) {
	*pr = period{d: d, origin: n - d}
	for i := range pr.delta {
		pr.delta[i].Token = tokenStep
	}
}

// learn records, after e was coded through the register at index n,
// how it differs from the event d back, for the first repetition's
// predictions of that class.
func (pr *period) learn(hist []Event, n int, e *Event) {
	if n-2*pr.d >= pr.origin {
		return
	}
	a := &hist[n-pr.d]
	d := &pr.delta[periodClass(a)]
	d.Addr = e.Addr - a.Addr
	d.Size = e.Size - a.Size
	d.Token = e.Token - a.Token
	d.NeuronLo = e.NeuronLo - a.NeuronLo
	d.NeuronHi = e.NeuronHi - a.NeuronHi
	d.Tensor = e.Tensor - a.Tensor
	d.Layer = e.Layer - a.Layer
}

// mru is the slots' most-recently-used order, one slot number per
// nibble: nibble k (bits 4k to 4k+3) is the slot at position k. Packed
// in a word, moving a position to the front is a few shifts and masks
// with no branch and no memory traffic, for the reader's per-event loop.
type mru uint64

// mruStart is positions 0..11 holding slots 0..11.
const mruStart mru = 0xba9876543210

// at returns the slot at position k (k < slotCount). The shift counts
// are masked to 63 so that the compiler emits plain shifts.
func (o mru) at(k uint) uint { return uint(o>>(k<<2&63)) & 15 }

// first returns the slot at position 0.
func (o mru) first() uint { return uint(o) & 15 }

// front moves the slot at position k to position 0; positions 0..k-1
// shift down by one.
func (o mru) front(k uint) mru {
	sh := k << 2 & 63
	below := o & (1<<sh - 1)
	return o&^(1<<sh<<4-1) | below<<4 | o>>sh&15
}

// coder is the prediction state shared, bit for bit, by writer and
// reader. Slots are kept in most-recently-used order through order, which
// maps a record's slot number to a physical slot. Both sides also keep
// the block's events so far, which the period registers refer to.
type coder struct {
	// slots has room for every nibble value so that indexing it with
	// one needs no bounds check; the last four are never used.
	slots   [16]slot
	order   mru
	periods [2]period
}

func (c *coder) reset() {
	c.slots = [16]slot{}
	c.order = mruStart
	c.periods[0].d, c.periods[1].d = 0, 0
}

// slot returns the slot at MRU position k.
func (c *coder) slot(k int) *slot { return &c.slots[c.order.at(uint(k))] }

// predict returns the event slot k (MRU position) expects next.
func (c *coder) predict(k int) Event {
	s := c.slot(k)
	p := s.ev
	p.Addr += s.stride
	p.NeuronLo += s.nstride
	p.NeuronHi += s.nstride
	p.Token += s.tstride
	return p
}

// sameStream reports whether a and b belong to one stream: the coder
// continues a slot with an event of its stream and forks a new slot for
// any other.
func sameStream(a, b *Event) bool {
	return a.Tensor == b.Tensor && a.Op == b.Op && a.Kind == b.Kind && a.Thread == b.Thread && a.Layer == b.Layer
}

// update records that e was coded through MRU position k: it advances
// slot k if e continues its stream, else forks e into the least recently
// used slot; the touched slot moves to the front.
func (c *coder) update(k int, e *Event) {
	s := c.slot(k)
	if !sameStream(e, &s.ev) {
		c.fork(e)
		return
	}
	s.stride = e.Addr - s.ev.Addr
	s.nstride = e.NeuronLo - s.ev.NeuronLo
	s.tstride = e.Token - s.ev.Token
	s.ev = *e
	c.order = c.order.front(uint(k))
}

// fork starts a stream with e in the least recently used slot, which
// moves to the front: its next event is expected right after e, with the
// next neuron range of the same width.
func (c *coder) fork(e *Event) {
	c.slots[c.order.at(slotCount-1)] = slot{ev: *e, stride: uint64(e.Size), nstride: e.NeuronHi - e.NeuronLo}
	c.order = c.order.front(slotCount - 1)
}

// predictPeriod returns what period register pr expects at index n of
// the block, whose earlier events are hist[:n]. The register must be set
// (pr.d > 0, checked when it was set: origin >= 0, origin+d <= n).
func predictPeriod(hist []Event, n int, pr *period) Event {
	a := hist[n-pr.d]
	var b *Event
	if j := n - 2*pr.d; j >= pr.origin {
		// a + (a - b)
		b = &hist[j]
		a.Addr += a.Addr - b.Addr
		a.Size += a.Size - b.Size
		a.Token += a.Token - b.Token
		a.NeuronLo += a.NeuronLo - b.NeuronLo
		a.NeuronHi += a.NeuronHi - b.NeuronHi
		a.Tensor += a.Tensor - b.Tensor
		a.Layer += a.Layer - b.Layer
		return a
	}
	d := &pr.delta[periodClass(&a)]
	a.Addr += d.Addr
	a.Size += d.Size
	a.Token += d.Token
	a.NeuronLo += d.NeuronLo
	a.NeuronHi += d.NeuronHi
	a.Tensor += d.Tensor
	a.Layer += d.Layer
	return a
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func uvarintLen(v uint64) int { return 1 + (bits.Len64(v|1)-1)/7 }

// packOKP packs op, kind and phase into the one byte the format stores.
func packOKP(e Event) byte { return byte(e.Op) | byte(e.Kind)<<5 | byte(e.Phase)<<7 }

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
