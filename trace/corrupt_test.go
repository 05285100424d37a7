package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// smallTrace is a multi-block trace of the tiny model, then record-style
// events (forks, address runs): ~45 blocks.
func smallTrace(t testing.TB) (Header, []Event, []byte) {
	m := newEngineModel(tinyShape)
	events := append(m.events(1, 1, 2), simRecords(80)...)
	events = append(events, lackeyRecords(newRand(6), 80)...)
	return m.h, events, encode(t, m.h, events, WriterOptions{BlockEvents: 40})
}

// readResult reads data to the end and classifies the outcome.
type readResult struct {
	openErr error
	warning error
	events  []Event
	endErr  error // io.EOF on a clean end
}

func readEverything(data []byte) readResult {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return readResult{openErr: err}
	}
	res := readResult{warning: r.Warning()}
	buf := make([]Event, 13)
	for {
		n, err := r.Next(buf)
		res.events = append(res.events, buf[:n]...)
		if err != nil {
			res.endErr = err
			return res
		}
	}
}

func oneLine(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error %q spans several lines, want one", err)
	}
}

// TestTruncatedEveryOffset cuts a trace at every byte offset: before the
// end of the header opening fails; after it, exactly the events of the
// complete blocks come back, then ErrTruncated (or, with the footer
// partly present, io.EOF plus a warning).
func TestTruncatedEveryOffset(t *testing.T) {
	_, events, data := smallTrace(t)
	full, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	info := full.Info()
	hdrEnd := info.HeaderBytes
	footerOff := hdrEnd + info.BlockBytes
	// Block ends and the events before each end.
	type mark struct {
		end    int64
		events uint64
	}
	var marks []mark
	for i := range full.index {
		end := footerOff
		if i+1 < len(full.index) {
			end = full.index[i+1].offset
		}
		marks = append(marks, mark{end, full.starts[i+1]})
	}
	for cut := 0; cut < len(data); cut++ {
		res := readEverything(data[:cut])
		oneLine(t, res.openErr)
		oneLine(t, res.endErr)
		oneLine(t, res.warning)
		if int64(cut) < hdrEnd {
			if res.openErr == nil {
				t.Fatalf("cut %d (header ends at %d): open succeeded, want an error", cut, hdrEnd)
			}
			continue
		}
		if res.openErr != nil {
			t.Fatalf("cut %d: open: %v, want the good prefix", cut, res.openErr)
		}
		if res.warning == nil {
			t.Fatalf("cut %d: Warning() = nil, want the missing footer reported", cut)
		}
		var want uint64
		for _, mk := range marks {
			if mk.end <= int64(cut) {
				want = mk.events
			}
		}
		if uint64(len(res.events)) != want {
			t.Fatalf("cut %d: %d events, want %d", cut, len(res.events), want)
		}
		sameEvents(t, res.events, events[:want])
		if int64(cut) > footerOff {
			if res.endErr != io.EOF {
				t.Fatalf("cut %d (inside footer): end = %v, want io.EOF", cut, res.endErr)
			}
			continue
		}
		var fe *FormatError
		if !errors.Is(res.endErr, ErrTruncated) || !errors.As(res.endErr, &fe) {
			t.Fatalf("cut %d: end = %v, want a FormatError matching ErrTruncated", cut, res.endErr)
		}
		if fe.GoodEvents != want {
			t.Fatalf("cut %d: GoodEvents = %d, want %d", cut, fe.GoodEvents, want)
		}
	}
}

// TestBitFlips flips every bit of a small trace: each flip is reported
// (an error or a warning) or leaves the events exactly as they were.
func TestBitFlips(t *testing.T) {
	_, events, data := smallTrace(t)
	if testing.Short() {
		data = data[:len(data)/4]
	}
	buf := make([]byte, len(data))
	reported := 0
	for i := range data {
		for bit := range 8 {
			copy(buf, data)
			buf[i] ^= 1 << bit
			res := readEverything(buf)
			oneLine(t, res.openErr)
			oneLine(t, res.endErr)
			if res.openErr != nil || res.warning != nil || res.endErr != io.EOF {
				reported++
				continue
			}
			if len(res.events) != len(events) {
				t.Fatalf("flip byte %d bit %d: unreported, %d events, want %d", i, bit, len(res.events), len(events))
			}
			for j := range events {
				if res.events[j] != events[j] {
					t.Fatalf("flip byte %d bit %d: unreported, event %d = %v, want %v", i, bit, j, res.events[j], events[j])
				}
			}
		}
	}
	// Only flips inside the trailer's unused high offset bits could
	// possibly go unreported; everything else is checksummed.
	if min := 8*len(data) - 8*trailerSize; reported < min {
		t.Errorf("%d of %d flips reported, want at least %d", reported, 8*len(data), min)
	}
}

// TestFlippedTagWithoutFooter: in a trace without trailer, a block whose
// tag was flipped to 'F' must not pass for the footer.
func TestFlippedTagWithoutFooter(t *testing.T) {
	_, _, data := smallTrace(t)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	const bad = 3
	d := bytes.Clone(data[:len(data)-trailerSize-5]) // no trailer, footer cut
	d[r.index[bad].offset] = footerTag
	res := readEverything(d)
	var fe *FormatError
	if !errors.As(res.endErr, &fe) || fe.Block != bad || uint64(len(res.events)) != r.starts[bad] {
		t.Errorf("end = %v after %d events, want an error at block %d after %d events", res.endErr, len(res.events), bad, r.starts[bad])
	}
}

// TestCorruptBlockError checks the failing block's index, offset and good
// events in the message of a CRC failure.
func TestCorruptBlockError(t *testing.T) {
	_, _, data := smallTrace(t)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	const bad = 5
	off := r.index[bad].offset
	data = bytes.Clone(data)
	data[off+blockHeaderSize+1] ^= 0x40
	res := readEverything(data)
	var fe *FormatError
	if !errors.As(res.endErr, &fe) || !errors.Is(res.endErr, ErrCorrupt) {
		t.Fatalf("end = %v, want a FormatError matching ErrCorrupt", res.endErr)
	}
	if fe.Block != bad || fe.Offset != off || fe.GoodEvents != r.starts[bad] || uint64(len(res.events)) != r.starts[bad] {
		t.Errorf("error = %+v after %d events, want block %d at %d with %d good events", fe, len(res.events), bad, off, r.starts[bad])
	}
	want := "block 5 at offset"
	if !strings.Contains(fe.Error(), want) || !strings.Contains(fe.Error(), "crc32c") {
		t.Errorf("Error() = %q, want it to contain %q and crc32c", fe.Error(), want)
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 15, 16, 100, 4096} {
		for range 20 {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			res := readEverything(data)
			if res.openErr == nil {
				t.Fatalf("random %d bytes: open succeeded, want an error", n)
			}
			oneLine(t, res.openErr)
		}
	}
	// A valid header followed by garbage.
	_, _, trace := smallTrace(t)
	r, _ := NewReader(bytes.NewReader(trace), int64(len(trace)))
	hdr := trace[:r.Info().HeaderBytes]
	for range 200 {
		data := append(bytes.Clone(hdr), make([]byte, rng.IntN(300))...)
		for i := len(hdr); i < len(data); i++ {
			data[i] = byte(rng.Uint32())
		}
		res := readEverything(data)
		if res.openErr != nil || res.endErr == io.EOF && res.warning == nil {
			t.Fatalf("header + garbage: open %v, end %v, warning %v; want a warning and an error at the end", res.openErr, res.endErr, res.warning)
		}
		oneLine(t, res.endErr)
	}
}

// TestBoundedAllocation reads corrupted traces whose counts and lengths
// claim far more than the file holds; the reader must allocate in
// proportion to the file, not to the claims.
func TestBoundedAllocation(t *testing.T) {
	_, _, data := smallTrace(t)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	hdrEnd := r.Info().HeaderBytes
	var cases [][]byte
	set32 := func(off int64, v uint32) []byte {
		d := bytes.Clone(data)
		binary.LittleEndian.PutUint32(d[off:], v)
		return d
	}
	cases = append(cases,
		set32(12, 0xffffffff),                   // header length
		set32(hdrEnd+1, MaxBlockPayload),        // block payload length
		set32(hdrEnd+5, 0xffffffff),             // block events
		set32(int64(len(data))-trailerSize, 16), // footer offset
	)
	// Header body counts: settings and tensors claiming 2^60 entries,
	// with the CRC fixed so the parser sees them.
	h := Header{Settings: map[string]string{"a": "b"}, Tensors: []TensorSym{{Name: "t", Dims: []uint64{1}}}}
	hb := appendHeader(nil, &h)
	for _, pos := range []int{fileHeaderFixed + 3, fileHeaderFixed + 3 + 1 + 4} {
		d := bytes.Clone(hb[:len(hb)-4])
		d[pos] = 0xff
		d = binary.LittleEndian.AppendUint32(d, crc32.Checksum(d, castagnoli))
		cases = append(cases, d)
	}
	for i, d := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res := readEverything(d)
		runtime.ReadMemStats(&after)
		if res.openErr == nil && res.endErr == io.EOF && res.warning == nil {
			t.Errorf("case %d: read cleanly, want an error", i)
		}
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*len(d)+1<<20); got > limit {
			t.Errorf("case %d: allocated %d bytes reading %d, want <= %d", i, got, len(d), limit)
		}
	}
}

// TestPayloads decodes hand-made block payloads (with valid CRCs), good
// and bad, byte by byte as docs/trace-format.md specifies them. Record
// header: source in bits 0-3, A 0x10, X 0x20, repeat code << 6.
func TestPayloads(t *testing.T) {
	t1 := func(e Event) Event { e.Thread = 1; return e }
	cases := []struct {
		name    string
		payload []byte
		events  uint32
		tokens  [3]uint32 // first, min, max
		tensors int
		want    []Event // nil: an error containing err
		err     string
	}{
		// The zero slot's stream (tensor 0, layer 0, thread 0, embed
		// read): an update with A and X (addr 0+100, size 64) learns
		// stride 100; repeat code 1.
		{"update and repeat", []byte{0x70, 0x01, 0xc8, 0x01, 0x40}, 2, [3]uint32{}, 1,
			[]Event{{Addr: 100, Size: 64}, {Addr: 200, Size: 64}}, ""},
		// Thread 1 is another stream: a fork, whose stride is the size.
		{"fork stride is the size", []byte{0x60, 0x21, 0x08, 0x01}, 2, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 8}), t1(Event{Addr: 8, Size: 8})}, ""},
		// Repeat code 3 with c = 1: 4 repeats.
		{"long repeat", []byte{0xe0, 0x21, 0x08, 0x01, 0x01}, 5, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 8}), t1(Event{Addr: 8, Size: 8}), t1(Event{Addr: 16, Size: 8}), t1(Event{Addr: 24, Size: 8}), t1(Event{Addr: 32, Size: 8})}, ""},
		// Fork (size 4, stride 4); an update with address 4+6 learns
		// stride 10; a bare record predicts 20.
		{"update learns stride", []byte{0x20, 0x21, 0x04, 0x01, 0x10, 0x0c, 0x00}, 3, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 4}), t1(Event{Addr: 10, Size: 4}), t1(Event{Addr: 20, Size: 4})}, ""},
		// Two threads' streams alternate: after both forks, source 1
		// repeated is always the other stream.
		{"round robin", []byte{0x20, 0x21, 0x10, 0x01, 0x30, 0x20, 0xb0, 0x0f, 0x02, 0x81}, 5, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 16}), {Addr: 1000, Size: 16, Thread: 2}, t1(Event{Addr: 16, Size: 16}), {Addr: 1016, Size: 16, Thread: 2}, t1(Event{Addr: 32, Size: 16})}, ""},
		{"every field", []byte{0x30, 0x7f, 0x02, 0x01, 0x03, 0x02, 0x03, 0x30, 0x07, 0x04, 0x06}, 1, [3]uint32{^uint32(0) - 1, ^uint32(0) - 1, ^uint32(0) - 1}, 2,
			[]Event{{Addr: 1, Size: 1, Token: ^uint32(0) - 1, Tensor: 1, Layer: -2, Op: OpOther, Kind: Write, Phase: Prompt, Thread: 7, NeuronLo: 2, NeuronHi: 3}}, ""},
		// Two events of token 0, then period register 0 set to 2 with
		// token step 1: the first repetition moves the token by 1 until
		// a corrected event (addr +8) teaches its class addr +8 too;
		// from event 4 on, events 2 and 0 back extrapolate linearly.
		{"token period", []byte{0x20, 0x21, 0x08, 0x01, 0x10, 0x70, 0x2f, 0x02, 0x0c, 0x1c, 0x10, 0x4c}, 6, [3]uint32{0, 0, 2}, 1,
			[]Event{t1(Event{Size: 8}), t1(Event{Addr: 64, Size: 8}), t1(Event{Size: 8, Token: 1}), t1(Event{Addr: 72, Size: 8, Token: 1}),
				t1(Event{Size: 8, Token: 2}), t1(Event{Addr: 80, Size: 8, Token: 2})}, ""},
		// Register 1 (0x10), no token step: events 1 back repeat.
		{"period register 1", []byte{0x20, 0x21, 0x08, 0x01, 0x1f, 0x01, 0x4d}, 3, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 8}), t1(Event{Size: 8}), t1(Event{Size: 8})}, ""},
		{"payload ends early", []byte{0x20, 0x01, 0x01}, 2, [3]uint32{}, 1, nil, "payload ends"},
		{"size 0", []byte{0x20, 0x01, 0x00}, 1, [3]uint32{}, 1, nil, "size"},
		{"zero slot has size 0", []byte{0x00}, 1, [3]uint32{}, 1, nil, "size 0"},
		// Corrected from the zero slot at position 5 and forked: position
		// 5 is still a zero slot for the repeat.
		{"repeat from a zero slot", []byte{0x65, 0x21, 0x08, 0x01}, 2, [3]uint32{}, 1, nil, "empty slot"},
		{"repeat past the block", []byte{0xe0, 0x01, 0x01, 0x00}, 2, [3]uint32{}, 1, nil, "repeats 3 events"},
		// A stream of thread 1 (fork, stride 8; exact), then a far
		// event from its slot with the fork bit (mask 0x80, address
		// 16+984) and a repeat: the new stream continues at position 0
		// and the old one, now at position 1, still predicts 16.
		{"fork bit", []byte{0x20, 0x21, 0x08, 0x01, 0x00, 0x70, 0x80, 0xb0, 0x0f, 0x01}, 5, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 8}), t1(Event{Addr: 8, Size: 8}), t1(Event{Addr: 1000, Size: 8}), t1(Event{Addr: 1008, Size: 8}), t1(Event{Addr: 16, Size: 8})}, ""},
		{"fork bit with a period source", []byte{0x20, 0x01, 0x01, 0x0f, 0x01, 0x2c, 0x80}, 2, [3]uint32{}, 1, nil, "fork bit with period register 0"},
		{"undefined op", []byte{0x20, 0x11, 0x01, 0x1f}, 1, [3]uint32{}, 1, nil, "op/kind/phase"},
		{"undefined kind", []byte{0x20, 0x11, 0x01, 0x60}, 1, [3]uint32{}, 1, nil, "op/kind/phase"},
		{"bytes left over", []byte{0x20, 0x01, 0x01, 0x00}, 1, [3]uint32{}, 1, nil, "payload bytes left"},
		{"tensor outside table", []byte{0x20, 0x05, 0x01, 0x04}, 1, [3]uint32{}, 1, nil, "tensor 2 outside"},
		{"no tensors at all", []byte{0x20, 0x01, 0x01}, 1, [3]uint32{}, 0, nil, "tensor 0 outside"},
		{"token delta too wide", []byte{0x20, 0x03, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10}, 1, [3]uint32{}, 1, nil, "does not fit in 32 bits"},
		{"cut-off varint", []byte{0x30, 0x01, 0x01, 0x80}, 1, [3]uint32{}, 1, nil, "varint"},
		// Streams of threads 1 and 2 (the second forked at address
		// 1000), then an address run of 3 (0x2e): entry 1 (position 1,
		// exact) continues thread 1 at 8, entry 1 again thread 2 at
		// 1008, entry 0x21 (position 1, address +4) thread 1 at 20.
		{"address run", []byte{0x20, 0x21, 0x08, 0x01, 0x30, 0x20, 0xc0, 0x0f, 0x02, 0x2e, 0x01, 0x01, 0x21}, 5, [3]uint32{}, 1,
			[]Event{t1(Event{Size: 8}), {Addr: 1000, Size: 8, Thread: 2}, t1(Event{Addr: 8, Size: 8}), {Addr: 1008, Size: 8, Thread: 2}, t1(Event{Addr: 20, Size: 8})}, ""},
		{"address run past the block", []byte{0x20, 0x01, 0x01, 0x1e, 0x00, 0x00}, 2, [3]uint32{}, 1, nil, "holds 2 events, only 1 left"},
		{"address run from an empty slot", []byte{0x20, 0x01, 0x01, 0x0e, 0x01}, 2, [3]uint32{}, 1, nil, "empty slot at position 1"},
		{"cut-off address run entry", []byte{0x20, 0x01, 0x01, 0x0e, 0x80}, 2, [3]uint32{}, 1, nil, "varint"},
		{"period before it is set", []byte{0x0c}, 1, [3]uint32{}, 1, nil, "period register 0 used before it was set"},
		{"period 0", []byte{0x20, 0x01, 0x01, 0x0f, 0x00, 0x0c}, 2, [3]uint32{}, 1, nil, "period 0"},
		{"period longer than the events", []byte{0x20, 0x01, 0x01, 0x0f, 0x02, 0x0c}, 2, [3]uint32{}, 1, nil, "period 2"},
		{"control reserved bits", []byte{0x20, 0x01, 0x01, 0x4f, 0x01, 0x0c}, 2, [3]uint32{}, 1, nil, "reserved bits"},
		{"cut-off control", []byte{0x20, 0x01, 0x01, 0x0f}, 2, [3]uint32{}, 1, nil, "varint"},
		// Sizes 3, 2, then period 1: a corrected 1 teaches size -1,
		// and the linear extrapolation predicts 0.
		{"period predicts size 0", []byte{0x20, 0x01, 0x03, 0x20, 0x01, 0x02, 0x0f, 0x01, 0x2c, 0x01, 0x01, 0x0c}, 4, [3]uint32{}, 1, nil, "event size 0"},
		{"period repeat predicts size 0", []byte{0x20, 0x01, 0x03, 0x20, 0x01, 0x02, 0x0f, 0x01, 0x6c, 0x01, 0x01}, 4, [3]uint32{}, 1, nil, "predicts size 0"},
		{"tokens disagree with the block header", []byte{0x20, 0x01, 0x01}, 1, [3]uint32{0, 0, 5}, 1, nil, "block header says tokens"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readEverything(wrapPayloadTokens(tc.payload, tc.events, tc.tensors, tc.tokens))
			if res.openErr != nil {
				t.Fatalf("open: %v", res.openErr)
			}
			if tc.want == nil {
				if res.endErr == io.EOF || !strings.Contains(res.endErr.Error(), tc.err) || !errors.Is(res.endErr, ErrCorrupt) {
					t.Errorf("read = %v, want a corrupt-block error containing %q", res.endErr, tc.err)
				}
				return
			}
			if res.endErr != io.EOF {
				t.Fatalf("read: %v", res.endErr)
			}
			sameEvents(t, res.events, tc.want)
		})
	}
}
