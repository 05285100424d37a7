package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Info describes the layout of an opened trace.
type Info struct {
	// Indexed is true when the footer index was found and valid; false
	// for a trace cut off mid-write, whose blocks were found by scanning.
	Indexed bool
	// TokensSorted is true when the writer saw every event's Token at or
	// above the previous one's (known only for indexed traces). Then the
	// events of token n are exactly those from SeekToken(n) up to the
	// first event with a larger token.
	TokensSorted bool
	// Blocks and Events count the complete blocks found and their events.
	Blocks int
	Events uint64
	// FileBytes is the size of the file; HeaderBytes, BlockBytes (block
	// headers and payloads) and FooterBytes its parts.
	FileBytes   int64
	HeaderBytes int64
	BlockBytes  int64
	FooterBytes int64
}

// Reader decodes an .etr trace. Next yields events into a caller's buffer
// without allocating; the only buffers the reader owns are one block's
// payload and its decoded events. A Reader is not safe for concurrent use.
type Reader struct {
	r      io.ReaderAt
	size   int64
	path   string
	closer io.Closer

	header  *Header
	info    Info
	index   []indexEntry
	warning error
	// tail is returned after the last indexed block of an unindexed
	// trace: why the scan stopped (nil: it reached a footer).
	tail *FormatError

	next    int      // next block to load
	starts  []uint64 // starts[i]: events in blocks before block i
	payload []byte
	pos     int     // in payload, while decoding
	events  []Event // the current block's events
	cur     int     // next of events to deliver
	c       coder
	blk     int // current block index
	blkOff  int64
	minTok  uint32
	seeking bool
	err     error // sticky
	hb      [blockHeaderSize]byte
	// generalOnly (tests) decodes every record through the general
	// path, the reference the slot-record loop is checked against.
	generalOnly bool
	// tlo and thi are the smallest and largest token decoded in the
	// block, kept by the decoding loops.
	tlo, thi uint32
}

// Open opens the trace file path. Close releases it.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("trace: %w", err)
	}
	r, err := newReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a trace of size bytes from r.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) { return newReader(r, size, "") }

func newReader(ra io.ReaderAt, size int64, path string) (*Reader, error) {
	r := &Reader{r: ra, size: size, path: path}
	r.c.reset()
	if err := r.readHeader(); err != nil {
		return nil, r.named(err)
	}
	if err := r.readFooter(); err != nil {
		r.warning = r.named(err)
		r.scan()
	}
	r.starts = make([]uint64, len(r.index)+1)
	for i, ie := range r.index {
		r.starts[i+1] = r.starts[i] + uint64(ie.events)
	}
	r.info.Events = r.starts[len(r.index)]
	r.info.Blocks = len(r.index)
	r.info.FileBytes = size
	return r, nil
}

func (r *Reader) named(err error) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = r.path
	}
	return err
}

// Close closes the file opened by Open; it is a no-op for NewReader.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Header returns the trace's header. The caller must not modify it.
func (r *Reader) Header() *Header { return r.header }

// Info returns the trace's layout.
func (r *Reader) Info() Info { return r.info }

// Warning returns a non-fatal problem found when opening: the footer
// index was missing or damaged, so blocks were found by scanning. Nil
// for a complete trace.
func (r *Reader) Warning() error { return r.warning }

func (r *Reader) readAt(b []byte, off int64) error {
	n, err := r.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) readHeader() error {
	var fixed [fileHeaderFixed]byte
	if r.size < fileHeaderFixed {
		if r.size >= 8 {
			if err := r.readAt(fixed[:8], 0); err != nil {
				return err
			}
			if [8]byte(fixed[:8]) != fileMagic {
				return &FormatError{Block: -1, Msg: fmt.Sprintf("magic % x, want % x", fixed[:8], fileMagic), Kind: ErrBadMagic}
			}
		}
		return &FormatError{Block: -1, Msg: fmt.Sprintf("file is %d bytes, shorter than the %d-byte header", r.size, fileHeaderFixed), Kind: ErrTruncated}
	}
	if err := r.readAt(fixed[:], 0); err != nil {
		return fmt.Errorf("trace: read header: %w", err)
	}
	if [8]byte(fixed[:8]) != fileMagic {
		return &FormatError{Block: -1, Msg: fmt.Sprintf("magic % x, want % x", fixed[:8], fileMagic), Kind: ErrBadMagic}
	}
	if v := binary.LittleEndian.Uint16(fixed[8:]); v != Version {
		return &FormatError{Block: -1, Offset: 8, Msg: fmt.Sprintf("version %d, this build reads version %d", v, Version), Kind: ErrVersion}
	}
	if f := binary.LittleEndian.Uint16(fixed[10:]); f != 0 {
		return corruptf(-1, 10, 0, "flags %#x, want 0", f)
	}
	n := int64(le32(fixed[12:]))
	if n > maxHeaderBody || fileHeaderFixed+n+4 > r.size {
		return &FormatError{Block: -1, Offset: 12, Msg: fmt.Sprintf("header length %d exceeds the %d bytes of the file", n, r.size), Kind: ErrTruncated}
	}
	hb := make([]byte, fileHeaderFixed+n+4)
	if err := r.readAt(hb, 0); err != nil {
		return fmt.Errorf("trace: read header: %w", err)
	}
	body := hb[fileHeaderFixed : fileHeaderFixed+n]
	if got, want := crc32.Checksum(hb[:fileHeaderFixed+n], castagnoli), le32(hb[fileHeaderFixed+n:]); got != want {
		return corruptf(-1, fileHeaderFixed+n, 0, "header crc32c %#08x, stored %#08x", got, want)
	}
	h, err := parseHeaderBody(body, fileHeaderFixed)
	if err != nil {
		return err
	}
	r.header = h
	r.info.HeaderBytes = fileHeaderFixed + n + 4
	return nil
}

// readFooter loads and checks the footer index through the trailer.
func (r *Reader) readFooter() error {
	hdrEnd := r.info.HeaderBytes
	if r.size-hdrEnd < trailerSize+footerFixed {
		return &FormatError{Block: -1, Part: "trailer", Offset: r.size, Msg: "no footer index (trace not closed: cut off mid-write?)", Kind: ErrTruncated}
	}
	var t [trailerSize]byte
	if err := r.readAt(t[:], r.size-trailerSize); err != nil {
		return fmt.Errorf("trace: read trailer: %w", err)
	}
	if [8]byte(t[8:]) != trailerMagic {
		return &FormatError{Block: -1, Part: "trailer", Offset: r.size - trailerSize, Msg: "no trailer (trace not closed: cut off mid-write?)", Kind: ErrTruncated}
	}
	foff := int64(le64(t[:]))
	flen := r.size - trailerSize - foff
	if foff < hdrEnd || flen < footerFixed || (flen-footerFixed)%footerEntrySize != 0 {
		return footerErr("trailer", r.size-trailerSize, "trailer points to footer at %d, which does not fit between %d and %d", foff, hdrEnd, r.size-trailerSize)
	}
	f := make([]byte, flen)
	if err := r.readAt(f, foff); err != nil {
		return fmt.Errorf("trace: read footer: %w", err)
	}
	if got, want := crc32.Checksum(f[:flen-4], castagnoli), le32(f[flen-4:]); got != want {
		return footerErr("footer", foff, "footer crc32c %#08x, stored %#08x", got, want)
	}
	flags := le32(f[1:])
	if flags&^footerTokensSorted != 0 {
		return footerErr("footer", foff+1, "footer flags %#x, want only bit 0", flags)
	}
	nb := int64(le32(f[5:]))
	if f[0] != footerTag || nb != (flen-footerFixed)/footerEntrySize {
		return footerErr("footer", foff, "footer tag %#02x with %d entries in %d bytes, want %#02x and %d entries", f[0], nb, flen, footerTag, (flen-footerFixed)/footerEntrySize)
	}
	total := le64(f[9:])
	idx := make([]indexEntry, nb)
	var sum uint64
	for i := range idx {
		e := f[17+i*footerEntrySize:]
		ie := indexEntry{offset: int64(le64(e)), events: le32(e[8:]), first: le32(e[12:]), min: le32(e[16:]), max: le32(e[20:])}
		switch {
		case i == 0 && ie.offset != hdrEnd:
			return footerErr("footer", foff, "footer entry 0: block offset %d, want %d (end of header)", ie.offset, hdrEnd)
		case i > 0 && ie.offset <= idx[i-1].offset+blockHeaderSize:
			return footerErr("footer", foff, "footer entry %d: block offset %d does not follow block %d at %d", i, ie.offset, i-1, idx[i-1].offset)
		case ie.offset > foff-blockHeaderSize-1:
			return footerErr("footer", foff, "footer entry %d: block offset %d leaves no room before the footer at %d", i, ie.offset, foff)
		case ie.events == 0 || ie.events > MaxBlockEvents || ie.min > ie.first || ie.first > ie.max:
			return footerErr("footer", foff, "footer entry %d: %d events, tokens first %d min %d max %d, want 1 to %d events and min <= first <= max", i, ie.events, ie.first, ie.min, ie.max, MaxBlockEvents)
		}
		// Block lengths are checked against the next offset when loaded.
		sum += uint64(ie.events)
		idx[i] = ie
	}
	if nb == 0 && foff != hdrEnd {
		return footerErr("footer", foff, "footer lists no blocks but %d bytes precede it", foff-hdrEnd)
	}
	if sum != total {
		return footerErr("footer", foff, "footer says %d events, its blocks hold %d", total, sum)
	}
	r.index = idx
	r.info.Indexed = true
	r.info.TokensSorted = flags&footerTokensSorted != 0
	r.info.FooterBytes = flen + trailerSize
	r.info.BlockBytes = foff - hdrEnd
	return nil
}

func footerErr(part string, off int64, format string, args ...any) *FormatError {
	e := corruptf(-1, off, 0, format, args...)
	e.Part = part
	return e
}

// scan finds the blocks of a trace without a usable footer by walking
// block headers; it records why the walk stopped in r.tail.
func (r *Reader) scan() {
	off := r.info.HeaderBytes
	var events uint64
	hb := r.hb[:]
	for {
		if off == r.size {
			r.tail = &FormatError{Block: len(r.index), Offset: off, GoodEvents: events, Msg: "trace ends without a footer (cut off mid-write?)", Kind: ErrTruncated}
			break
		}
		if err := r.readAt(hb[:1], off); err != nil {
			r.tail = &FormatError{Block: len(r.index), Offset: off, GoodEvents: events, Msg: err.Error(), Kind: ErrCorrupt}
			break
		}
		if hb[0] == footerTag {
			if r.footerAt(off) {
				break // complete blocks, damaged trailer
			}
			r.tail = corruptf(len(r.index), off, events, "tag %#02x ('F') but no footer listing the %d blocks before it follows", hb[0], len(r.index))
			break
		}
		if r.size-off < blockHeaderSize {
			r.tail = &FormatError{Block: len(r.index), Offset: off, GoodEvents: events, Msg: fmt.Sprintf("block header cut off after %d of %d bytes", r.size-off, blockHeaderSize), Kind: ErrTruncated}
			break
		}
		if err := r.readAt(hb, off); err != nil {
			r.tail = &FormatError{Block: len(r.index), Offset: off, GoodEvents: events, Msg: err.Error(), Kind: ErrCorrupt}
			break
		}
		ie, plen, msg := parseBlockHeader(hb, off)
		if msg != "" {
			r.tail = corruptf(len(r.index), off, events, "%s", msg)
			break
		}
		if end := off + blockHeaderSize + plen; end > r.size {
			r.tail = &FormatError{Block: len(r.index), Offset: off, GoodEvents: events, Msg: fmt.Sprintf("block cut off: %d of %d payload bytes present", r.size-off-blockHeaderSize, plen), Kind: ErrTruncated}
			break
		}
		r.index = append(r.index, ie)
		events += uint64(ie.events)
		off += blockHeaderSize + plen
	}
	r.info.BlockBytes = off - r.info.HeaderBytes
	r.info.FooterBytes = 0
}

// footerAt reports whether what starts at off (with tag 'F') is this
// trace's footer: its flags are valid and it lists exactly the blocks
// found, and its CRC matches if the file holds all of it. A footer cut
// off by the end of the file passes on the fields present: all blocks
// before it are complete.
func (r *Reader) footerAt(off int64) bool {
	var fixed [9]byte
	avail := min(r.size-off, int64(len(fixed)))
	if r.readAt(fixed[:avail], off) != nil {
		return false
	}
	if avail >= 5 && le32(fixed[1:]) > footerTokensSorted {
		return false
	}
	if avail < 9 {
		return true
	}
	nb := int64(le32(fixed[5:]))
	if nb != int64(len(r.index)) {
		return false
	}
	n := footerFixed + footerEntrySize*nb
	if n > r.size-off {
		return true
	}
	f := make([]byte, n)
	if r.readAt(f, off) != nil {
		return false
	}
	return crc32.Checksum(f[:n-4], castagnoli) == le32(f[n-4:])
}

// parseBlockHeader decodes and range-checks a block header (not its CRC).
func parseBlockHeader(hb []byte, off int64) (indexEntry, int64, string) {
	ie := indexEntry{offset: off, events: le32(hb[5:]), first: le32(hb[9:]), min: le32(hb[13:]), max: le32(hb[17:])}
	plen := int64(le32(hb[1:]))
	switch {
	case hb[0] != blockTag:
		return ie, 0, fmt.Sprintf("tag %#02x, want %#02x ('B')", hb[0], blockTag)
	case plen == 0 || plen > MaxBlockPayload:
		return ie, 0, fmt.Sprintf("payload length %d, want 1 to %d", plen, MaxBlockPayload)
	case ie.events == 0 || ie.events > MaxBlockEvents:
		return ie, 0, fmt.Sprintf("event count %d, want 1 to %d", ie.events, MaxBlockEvents)
	case ie.min > ie.first || ie.first > ie.max:
		return ie, 0, fmt.Sprintf("tokens first %d min %d max %d, want min <= first <= max", ie.first, ie.min, ie.max)
	}
	return ie, plen, ""
}

// loadBlock reads and checks block r.next and decodes it: into
// direct[:events] when direct is not nil (it must have room for the
// block's events), else into r.events, which becomes current. It
// returns the number of events decoded into direct.
func (r *Reader) loadBlock(direct []Event) (int, error) {
	i := r.next
	if i >= len(r.index) {
		if r.tail != nil {
			return 0, r.named(r.tail)
		}
		return 0, io.EOF
	}
	ie := r.index[i]
	limit := r.info.HeaderBytes + r.info.BlockBytes
	if i+1 < len(r.index) {
		limit = r.index[i+1].offset
	}
	good := r.starts[i]
	hb := r.hb[:]
	if err := r.readAt(hb, ie.offset); err != nil {
		return 0, r.named(corruptf(i, ie.offset, good, "read block header: %v", err))
	}
	got, plen, msg := parseBlockHeader(hb, ie.offset)
	if msg != "" {
		return 0, r.named(corruptf(i, ie.offset, good, "%s", msg))
	}
	if got != ie {
		return 0, r.named(corruptf(i, ie.offset, good, "block header (%d events, tokens %d/%d/%d) disagrees with the index (%d events, tokens %d/%d/%d)",
			got.events, got.first, got.min, got.max, ie.events, ie.first, ie.min, ie.max))
	}
	if ie.offset+blockHeaderSize+plen != limit {
		return 0, r.named(corruptf(i, ie.offset, good, "block of %d payload bytes ends at %d, the next structure starts at %d", plen, ie.offset+blockHeaderSize+plen, limit))
	}
	if cap(r.payload) < int(plen) {
		// Grow geometrically so a trace of growing blocks allocates
		// O(log) times; plen was checked against the file size.
		r.payload = make([]byte, max(plen, min(2*int64(cap(r.payload)), r.size)))
	}
	r.payload = r.payload[:plen]
	if err := r.readAt(r.payload, ie.offset+blockHeaderSize); err != nil {
		return 0, r.named(corruptf(i, ie.offset, good, "read block payload: %v", err))
	}
	crc := crc32.Update(crc32.Checksum(hb[:21], castagnoli), castagnoli, r.payload)
	if want := le32(hb[21:]); crc != want {
		return 0, r.named(corruptf(i, ie.offset, good, "crc32c %#08x, stored %#08x", crc, want))
	}
	r.next = i + 1
	r.blk = i
	r.blkOff = ie.offset
	r.cur = 0
	r.events = r.events[:0]
	total := int(ie.events)
	dst := direct
	if dst == nil {
		dst = r.events[:min(cap(r.events), total)]
	} else {
		dst = dst[:total]
	}
	ev, err := r.decodeBlock(dst, total)
	if err != nil {
		return 0, r.named(err)
	}
	// The token fields must be the events' so that SeekToken can trust
	// them; the decoder tracked the smallest and largest token.
	if ev[0].Token != ie.first || r.tlo != ie.min || r.thi != ie.max {
		return 0, r.named(corruptf(i, ie.offset, good, "block header says tokens first %d min %d max %d, its events have %d, %d, %d",
			ie.first, ie.min, ie.max, ev[0].Token, r.tlo, r.thi))
	}
	if direct != nil {
		return total, nil
	}
	r.events = ev
	return 0, nil
}

// Next decodes up to len(buf) events into buf (which must not be empty;
// 4096 is a good size, and one of at least a block's events, 16384 by
// default, is decoded into without a copy). It returns n > 0 and a nil
// error, or 0 and an error: io.EOF at the end of a complete trace; an
// error matching ErrTruncated after the last good event of a trace cut
// off mid-write (the events before it were all delivered, so callers may
// report it as a warning); any other error for corruption, after which
// the reader stays failed. Events of a block are delivered only after its
// CRC matched and all of it decoded. Like io.Reader's Read, Next may use
// all of buf as scratch space during the call.
func (r *Reader) Next(buf []Event) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	for n < len(buf) {
		if r.cur == len(r.events) {
			if n > 0 {
				break
			}
			if !r.seeking && r.next < len(r.index) && int(r.index[r.next].events) <= len(buf) {
				// The whole block fits: decode it in place.
				k, err := r.loadBlock(buf)
				if err != nil {
					r.err = err
					return 0, err
				}
				return k, nil
			}
			if _, err := r.loadBlock(nil); err != nil {
				r.err = err
				return 0, err
			}
		}
		if r.seeking {
			// SeekToken: skip the events of the target block before
			// the first one at or after the wanted token.
			for r.cur < len(r.events) && r.events[r.cur].Token < r.minTok {
				r.cur++
			}
			if r.cur == len(r.events) {
				continue
			}
			r.seeking = false
		}
		k := copy(buf[n:], r.events[r.cur:])
		r.cur += k
		n += k
	}
	return n, nil
}

func (r *Reader) corrupt(format string, args ...any) *FormatError {
	return corruptf(r.blk, r.blkOff, r.starts[r.blk], format, args...)
}

// grow returns dst (r.events) with room for need events, growing
// geometrically up to the block's total so that a block costs memory in
// proportion to the events it really holds.
func (r *Reader) grow(dst []Event, need, total int) []Event {
	ev := make([]Event, min(max(need, 2*len(dst), DefaultBlockEvents), total))
	copy(ev, dst)
	r.events = ev[:0]
	return ev
}

// decodeBlock decodes the payload of the current block, which holds total
// events, into dst and returns them. dst has room for all of them (a
// caller's buffer) or is r.events, grown as events are decoded. On an
// error it returns the events decoded before the failing record.
func (r *Reader) decodeBlock(dst []Event, total int) ([]Event, error) {
	r.c.reset()
	r.tlo, r.thi = ^uint32(0), 0
	p := r.payload
	nt := len(r.header.Tensors)
	pos, n := 0, 0
	for {
		// Most records of record-style traces (and the first pass of
		// engine blocks) are a slot's prediction with at most an address
		// correction: decoded in one loop, without calls.
		if !r.generalOnly {
			pos, n = r.slotRecords(pos, dst, n)
			if pos < len(p) && p[pos]&recSrcMask == srcRun {
				var ok bool
				var err error
				if pos, n, ok, err = r.runRecord(pos, dst, n); err != nil {
					return dst[:n], err
				}
				if ok {
					continue
				}
			}
		}
		if n == total {
			break
		}
		if pos >= len(p) {
			return dst[:n], r.corrupt("payload ends after %d of the block's %d events", n, total)
		}
		r.pos = pos
		h := p[pos]
		src := int(h & recSrcMask)
		switch {
		case src == srcControl:
			if err := r.control(h, n); err != nil {
				return dst[:n], err
			}
			pos = r.pos
			continue
		case src == srcRun:
			c := int(h>>4) + 1
			if c > total-n {
				return dst[:n], r.corrupt("address run at payload byte %d holds %d events, only %d left in the block", pos, c, total-n)
			}
			if n+c > len(dst) {
				dst = r.grow(dst[:n], n+c, total)
			}
			var err error
			if n, err = r.addressRun(c, dst, n); err != nil {
				return dst[:n], err
			}
			pos = r.pos
			continue
		case src >= srcPeriod0 && r.c.periods[src-srcPeriod0].d == 0:
			return dst[:n], r.corrupt("record at payload byte %d: period register %d used before it was set", pos, src-srcPeriod0)
		}
		start := pos
		e, rep, fork, err := r.record(src, dst[:n])
		if err != nil {
			return dst[:n], err
		}
		if e.Size == 0 {
			return dst[:n], r.corrupt("record at payload byte %d: event size 0", start)
		}
		if e.Tensor != NoTensor && int(e.Tensor) >= nt {
			return dst[:n], r.corrupt("record at payload byte %d: tensor %d outside the header's %d tensors", start, e.Tensor, nt)
		}
		if rep >= uint64(total-n) {
			return dst[:n], r.corrupt("record at payload byte %d repeats %d events, only %d left in the block", start, rep, total-n-1)
		}
		if need := n + 1 + int(rep); need > len(dst) {
			dst = r.grow(dst[:n], need, total)
		}
		r.tlo, r.thi = min(r.tlo, e.Token), max(r.thi, e.Token)
		if src < slotCount {
			dst[n] = e
			n++
			if fork {
				// A new stream: its repeats continue it at position 0.
				r.c.fork(&e)
				src = 0
			} else {
				r.c.update(src, &e)
			}
			n, err = r.repeatSlot(dst, n, src, int(rep), start)
		} else {
			pr := &r.c.periods[src-srcPeriod0]
			if h&(recAddr|recFields) != 0 {
				// A corrected event starts a stream in the slots.
				pr.learn(dst, n, &e)
				r.c.fork(&e)
			}
			dst[n] = e
			n++
			n, err = r.repeatPeriod(dst, n, pr, int(rep), nt, start)
		}
		if err != nil {
			return dst[:n], err
		}
		pos = r.pos
	}
	if pos != len(p) {
		return dst[:n], r.corrupt("%d payload bytes left after the block's last event", len(p)-pos)
	}
	return dst[:n], nil
}

// slotRecords decodes records from p[pos:] into dst[n:] as long as each
// is a slot's prediction with at most an address correction (no field
// mask) and its events fit in dst; it returns where it stopped. Such an
// event continues its slot's stream (only the address, neurons and token
// move), so the slot update needs no stream test; a slot that holds an
// event holds a valid one, so the only check is that it is not empty.
// Anything else, including every malformed record, stops the loop before
// changing any state and is left to the general path, which reports it.
func (r *Reader) slotRecords(pos int, dst []Event, n int) (int, int) {
	c := &r.c
	p := r.payload
	o := c.order
	// b and out advance over the records and the events, which keeps
	// the loop's state in registers.
	b := p[pos:]
	out := dst[n:]
loop:
	for len(b) > 0 {
		h := b[0]
		// A slot source (0..11) without a field mask.
		if h&(recFields|recSrcMask) >= slotCount {
			break
		}
		k := uint(h & recSrcMask)
		q := b[1:]
		var d uint64
		if h&recAddr != 0 {
			// Corrections of record-style traces take 1 to 3 bytes;
			// longer ones (and cut-off ones) are left to the general
			// path, as a call here would make the loop keep its state
			// in memory.
			if len(q) < 3 {
				break
			}
			b0, b1, b2 := uint64(q[0]), uint64(q[1]), uint64(q[2])
			switch {
			case b0 < 0x80:
				d, q = b0, q[1:]
			case b1 < 0x80:
				d, q = b0&0x7f|b1<<7, q[2:]
			case b2 < 0x80:
				d, q = b0&0x7f|(b1&0x7f)<<7|b2<<14, q[3:]
			default:
				break loop
			}
			d = uint64(unzigzag(d))
		}
		rep := uint64(h >> recRepeatSh)
		if rep == 3 {
			// Counts up to 2^14+2 in 1 or 2 bytes.
			if len(q) < 2 {
				break
			}
			b0, b1 := uint64(q[0]), uint64(q[1])
			switch {
			case b0 < 0x80:
				rep, q = b0+3, q[1:]
			case b1 < 0x80:
				rep, q = b0&0x7f|b1<<7+3, q[2:]
			default:
				break loop
			}
		}
		if rep >= uint64(len(out)) {
			break
		}
		// A slot holds an event of this block, whose token the block's
		// token range already has: without a token stride, the events
		// of this record leave the range as it is. Records through
		// slots with one are left to the general path, which keeps the
		// range.
		s := &c.slots[o.at(k)]
		if s.ev.Size == 0 || s.tstride != 0 {
			break
		}
		if k > 0 && rep > 0 && !c.noTokenStrides(o, k, rep) {
			break
		}
		b = q
		s.stride += d
		e := &s.ev
		e.Addr += s.stride
		e.NeuronLo += s.nstride
		e.NeuronHi += s.nstride
		out[0] = *e
		out = out[1:]
		if k == 0 {
			// One stream advancing by its strides: the common run.
			run := out[:rep]
			for i := range run {
				e.Addr += s.stride
				e.NeuronLo += s.nstride
				e.NeuronHi += s.nstride
				run[i] = *e
			}
			out = out[rep:]
			continue
		}
		o = o.front(k)
		run := out[:rep]
		for i := range run {
			s := &c.slots[o.at(k)]
			e := &s.ev
			e.Addr += s.stride
			e.NeuronLo += s.nstride
			e.NeuronHi += s.nstride
			run[i] = *e
			o = o.front(k)
		}
		out = out[rep:]
	}
	c.order = o
	return len(p) - len(b), len(dst) - len(out)
}

// runRecord decodes the address run at p[pos] into dst[n:] for
// slotRecords. It leaves the run to the general path (ok false, no state
// changed) when its events do not fit in dst or a slot of positions 0 to
// 3 has a token stride: without one, the run's events have tokens the
// block's token range already holds. Entries that fail are reported as
// the general path reports them, after the same events.
func (r *Reader) runRecord(pos int, dst []Event, n int) (int, int, bool, error) {
	c := &r.c
	p := r.payload
	cnt := int(p[pos]>>4) + 1
	if cnt > len(dst)-n {
		return pos, n, false, nil
	}
	// The entries' positions (0 to 3) hold the same four slots
	// throughout the run: moving one of them to the front permutes
	// them. Those holding events come first (slotRecords), f of them.
	o := c.order
	f := uint(0)
	var tstrides uint32
	for ; f < runPositions; f++ {
		s := &c.slots[o.at(f)]
		if s.ev.Size == 0 {
			break
		}
		tstrides |= s.tstride
	}
	if tstrides != 0 {
		return pos, n, false, nil
	}
	// b and out advance over the entries and the events, which keeps
	// the loop's state in registers.
	b := p[pos+1:]
	out := dst[n : n+cnt]
	slots := &c.slots
	for len(out) > 0 && len(b) >= 3 {
		// Entries of 1 to 3 bytes here; a longer or cut-off one, or
		// one through an empty slot, ends the loop (a call here would
		// make it keep its state in memory) and the general path
		// decodes the rest of the run.
		b0, b1, b2 := uint64(b[0]), uint64(b[1]), uint64(b[2])
		entry := b
		var z uint64
		switch {
		case b0 < 0x80:
			z, b = b0, b[1:]
		case b1 < 0x80:
			z, b = b0&0x7f|b1<<7, b[2:]
		case b2 < 0x80:
			z, b = b0&0x7f|(b1&0x7f)<<7|b2<<14, b[3:]
		default:
			goto rest
		}
		k := uint(z & (runPositions - 1))
		if k >= f {
			b = entry
			goto rest
		}
		s := &slots[o.at(k)]
		s.stride += uint64(unzigzag(z >> runPosBits))
		e := &s.ev
		e.Addr += s.stride
		e.NeuronLo += s.nstride
		e.NeuronHi += s.nstride
		out[0] = *e
		out = out[1:]
		o = o.front(k)
	}
	if len(out) == 0 {
		c.order = o
		return len(p) - len(b), n + cnt, true, nil
	}
rest:
	c.order = o
	done := cnt - len(out)
	r.pos = len(p) - len(b)
	n, err := r.addressEntries(pos, cnt-done, dst, n+done)
	return r.pos, n, true, err
}

// addressRun decodes the cnt entries of the address run at r.pos into
// dst[n:] (room was made by the caller) and returns the new count: each
// is the prediction of a slot with a corrected address, then that slot's
// update.
func (r *Reader) addressRun(cnt int, dst []Event, n int) (int, error) {
	r.pos++
	return r.addressEntries(r.pos-1, cnt, dst, n)
}

// addressEntries decodes cnt entries of the address run at payload byte
// start from r.pos on, as addressRun.
func (r *Reader) addressEntries(start, cnt int, dst []Event, n int) (int, error) {
	for range cnt {
		z, err := r.uvarint("address run entry")
		if err != nil {
			return n, err
		}
		k := int(z & (runPositions - 1))
		e := r.c.predict(k)
		if e.Size == 0 {
			return n, r.corrupt("address run at payload byte %d: entry %#x predicts from the empty slot at position %d", start, z, k)
		}
		e.Addr += uint64(unzigzag(z >> runPosBits))
		dst[n] = e
		n++
		r.tlo, r.thi = min(r.tlo, e.Token), max(r.thi, e.Token)
		// Only the address differs from the prediction: the event
		// continues the slot's stream.
		r.c.update(k, &e)
	}
	return n, nil
}

// noTokenStrides reports whether the slots that the repeats of a record
// through position k > 0 take in turn, at positions k-1, k-2, ... (the
// streams in round robin), have no token stride. None of them is empty:
// every change of the order moves a slot that then holds an event to the
// front, so the slots holding events always come first.
func (c *coder) noTokenStrides(o mru, k uint, rep uint64) bool {
	var t uint32
	for j := uint(1); j <= k && uint64(j) <= rep; j++ {
		t |= c.slots[o.at(k-j)].tstride
	}
	return t == 0
}

// control applies the control record at r.pos, met after n events.
func (r *Reader) control(h byte, n int) error {
	start := r.pos
	r.pos++
	if h&ctlReserved != 0 {
		return r.corrupt("control record at payload byte %d: reserved bits set in %#02x", start, h)
	}
	d, err := r.uvarint("period")
	if err != nil {
		return err
	}
	if d == 0 || d > uint64(n) {
		return r.corrupt("control record at payload byte %d: period %d, want 1 to the %d events before it", start, d, n)
	}
	var step uint32
	if h&ctlTokenStep != 0 {
		step = 1
	}
	reg := 0
	if h&ctlRegister != 0 {
		reg = 1
	}
	r.c.periods[reg].set(int(d), n, step)
	return nil
}

// repeatSlot writes rep events into dst[n:], each the prediction of MRU
// position k followed by its update, and returns the new count. Room was
// made by the caller.
func (r *Reader) repeatSlot(dst []Event, n, k, rep, start int) (int, error) {
	if k == 0 {
		// One slot advancing by its strides: the common run.
		s := r.c.slot(0)
		e := s.ev
		lo, hi := r.tlo, r.thi
		for i := n; i < n+rep; i++ {
			e.Addr += s.stride
			e.NeuronLo += s.nstride
			e.NeuronHi += s.nstride
			e.Token += s.tstride
			dst[i] = e
			lo, hi = min(lo, e.Token), max(hi, e.Token)
		}
		s.ev = e
		r.tlo, r.thi = lo, hi
		return n + rep, nil
	}
	// Streams taking turns (threads' chunks): each repeat advances the
	// slot at position k by its strides, which its update keeps, and
	// moves it to the front.
	for range rep {
		s := r.c.slot(k)
		if s.ev.Size == 0 {
			// A record corrected from an all-zero slot and forked
			// leaves a zero slot at position k.
			return n, r.corrupt("record at payload byte %d: a repeat predicts from an empty slot", start)
		}
		s.ev.Addr += s.stride
		s.ev.NeuronLo += s.nstride
		s.ev.NeuronHi += s.nstride
		s.ev.Token += s.tstride
		dst[n] = s.ev
		n++
		r.tlo, r.thi = min(r.tlo, s.ev.Token), max(r.thi, s.ev.Token)
		r.c.order = r.c.order.front(uint(k))
	}
	return n, nil
}

// repeatPeriod writes rep events into dst[n:], each the prediction of
// period register pr, and returns the new count. Room was made by the
// caller.
func (r *Reader) repeatPeriod(dst []Event, n int, pr *period, rep, nt, start int) (int, error) {
	// The first repetition, if any of it is left, event by event.
	for ; rep > 0 && n-2*pr.d < pr.origin; rep-- {
		e := predictPeriod(dst, n, pr)
		if e.Size == 0 || e.Tensor != NoTensor && int(e.Tensor) >= nt {
			return n, r.corrupt("record at payload byte %d: repeat %d predicts size %d, tensor %d", start, n, e.Size, e.Tensor)
		}
		dst[n] = e
		n++
		r.tlo, r.thi = min(r.tlo, e.Token), max(r.thi, e.Token)
	}
	// Then a + (a - b) in place: the hot loop of a decoded token.
	d := pr.d
	ev := dst[:n+rep]
	lo, hi := r.tlo, r.thi
	for i := n; i < len(ev); i++ {
		a, b, e := &ev[i-d], &ev[i-2*d], &ev[i]
		*e = *a
		e.Addr += a.Addr - b.Addr
		e.Size += a.Size - b.Size
		e.Token += a.Token - b.Token
		e.NeuronLo += a.NeuronLo - b.NeuronLo
		e.NeuronHi += a.NeuronHi - b.NeuronHi
		e.Tensor += a.Tensor - b.Tensor
		e.Layer += a.Layer - b.Layer
		if e.Size == 0 || e.Tensor != NoTensor && int(e.Tensor) >= nt {
			return i, r.corrupt("record at payload byte %d: repeat %d predicts size %d, tensor %d", start, i, e.Size, e.Tensor)
		}
		lo, hi = min(lo, e.Token), max(hi, e.Token)
	}
	r.tlo, r.thi = lo, hi
	return n + rep, nil
}

func (r *Reader) uvarint(what string) (uint64, error) {
	v, k := binary.Uvarint(r.payload[r.pos:])
	if k <= 0 {
		return 0, r.corrupt("%s at payload byte %d: bad or cut-off varint", what, r.pos)
	}
	r.pos += k
	return v, nil
}

// svarint reads a zigzag varint that must fit in bits bits.
func (r *Reader) svarint(what string, bits uint) (int64, error) {
	pos := r.pos
	u, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if bits < 64 && u >= 1<<bits {
		return 0, r.corrupt("%s at payload byte %d: %d does not fit in %d bits", what, pos, u, bits)
	}
	return unzigzag(u), nil
}

func (r *Reader) byte(what string) (byte, error) {
	if r.pos >= len(r.payload) {
		return 0, r.corrupt("%s: payload ends at byte %d", what, r.pos)
	}
	b := r.payload[r.pos]
	r.pos++
	return b, nil
}

// record decodes the event record at r.pos, predicted from source src
// after the block's events hist, and its repeat count.
func (r *Reader) record(src int, hist []Event) (Event, uint64, bool, error) {
	start := r.pos
	h := r.payload[r.pos]
	r.pos++
	var e Event
	if src < slotCount {
		e = r.c.predict(src)
	} else {
		e = predictPeriod(hist, len(hist), &r.c.periods[src-srcPeriod0])
	}
	var m byte
	if h&recFields != 0 {
		var err error
		if m, err = r.byte("field mask"); err != nil {
			return Event{}, 0, false, err
		}
		if m&fieldFork != 0 && src >= slotCount {
			return Event{}, 0, false, r.corrupt("record at payload byte %d: fork bit with period register %d as the source", start, src-srcPeriod0)
		}
	}
	if h&recAddr != 0 {
		d, err := r.svarint("address delta", 64)
		if err != nil {
			return Event{}, 0, false, err
		}
		e.Addr += uint64(d)
	}
	if m != 0 {
		if m&fieldSize != 0 {
			pos := r.pos
			v, err := r.uvarint("size")
			if err != nil {
				return Event{}, 0, false, err
			}
			if v == 0 || v > 0xffffffff {
				return Event{}, 0, false, r.corrupt("size at payload byte %d: %d, want 1 to 2^32-1", pos, v)
			}
			e.Size = uint32(v)
		}
		if m&fieldToken != 0 {
			d, err := r.svarint("token delta", 32)
			if err != nil {
				return Event{}, 0, false, err
			}
			e.Token += uint32(d)
		}
		if m&fieldTensor != 0 {
			d, err := r.svarint("tensor delta", 16)
			if err != nil {
				return Event{}, 0, false, err
			}
			e.Tensor += uint16(d)
		}
		if m&fieldLayer != 0 {
			d, err := r.svarint("layer delta", 16)
			if err != nil {
				return Event{}, 0, false, err
			}
			e.Layer += int16(d)
		}
		if m&fieldOKP != 0 {
			b, err := r.byte("op/kind/phase")
			if err != nil {
				return Event{}, 0, false, err
			}
			e.Op, e.Kind, e.Phase = Op(b&31), Kind(b>>5&3), Phase(b>>7)
			if !e.Op.Valid() || !e.Kind.Valid() {
				return Event{}, 0, false, r.corrupt("op/kind/phase byte %#02x at payload byte %d: op %d or kind %d undefined", b, r.pos-1, e.Op, e.Kind)
			}
		}
		if m&fieldThread != 0 {
			var err error
			if e.Thread, err = r.byte("thread"); err != nil {
				return Event{}, 0, false, err
			}
		}
		if m&fieldNeurons != 0 {
			lo, err := r.svarint("neuron_lo delta", 32)
			if err != nil {
				return Event{}, 0, false, err
			}
			hi, err := r.svarint("neuron_hi delta", 32)
			if err != nil {
				return Event{}, 0, false, err
			}
			e.NeuronLo += uint32(lo)
			e.NeuronHi += uint32(hi)
		}
	}
	rep := uint64(h >> recRepeatSh)
	if rep == 3 {
		v, err := r.uvarint("repeat count")
		if err != nil {
			return Event{}, 0, false, err
		}
		if v > MaxBlockEvents {
			return Event{}, 0, false, r.corrupt("repeat count %d exceeds %d", v+3, MaxBlockEvents)
		}
		rep = v + 3
	}
	return e, rep, m&fieldFork != 0, nil
}

// SeekToken positions the reader at the first event, in file order, whose
// Token is at least n; Next continues from there. With the footer index
// (or the scanned block list of a truncated trace) it reads only the
// block holding that event. If no event qualifies, Next reports the end.
func (r *Reader) SeekToken(n uint32) error {
	if r.err != nil && !errors.Is(r.err, io.EOF) && !errors.Is(r.err, ErrTruncated) {
		return r.err
	}
	r.err = nil
	i := 0
	for i < len(r.index) && r.index[i].max < n {
		i++
	}
	r.next = i
	r.events = r.events[:0]
	r.cur = 0
	r.minTok = n
	r.seeking = true
	return nil
}
