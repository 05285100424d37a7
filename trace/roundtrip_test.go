package trace

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
)

// encode writes events into an in-memory trace.
func encode(tb testing.TB, h Header, events []Event, opts WriterOptions) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h, opts)
	if err != nil {
		tb.Fatalf("NewWriter: %v", err)
	}
	for _, e := range events {
		w.Emit(e)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// decodeAll reads every event of data with a read buffer of bufLen.
func decodeAll(data []byte, bufLen int) (*Reader, []Event, error) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	var out []Event
	buf := make([]Event, bufLen)
	for {
		n, err := r.Next(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return r, out, nil
		}
		if err != nil {
			return r, out, err
		}
	}
}

func sameEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoded %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d = %v (%+v), want %v (%+v)", i, got[i], got[i], want[i], want[i])
		}
	}
}

// randomEvents draws events with every field random (valid enums), many
// sharing values so that all coder paths run.
func randomEvents(rng *rand.Rand, n, nTensors int) []Event {
	out := make([]Event, n)
	prev := Event{Tensor: NoTensor}
	for i := range out {
		e := prev
		switch rng.IntN(4) {
		case 0: // continue the previous stream
			e.Addr += uint64(e.Size)
		case 1: // anything at all
			e = Event{
				Addr: rng.Uint64(), Size: rng.Uint32() | 1, Token: rng.Uint32(),
				NeuronLo: rng.Uint32(), NeuronHi: rng.Uint32(),
				Tensor: NoTensor, Layer: int16(rng.Uint32()), Thread: uint8(rng.Uint32()),
				Op: Op(rng.IntN(int(NumOps))), Kind: Kind(rng.IntN(int(numKinds))), Phase: Phase(rng.IntN(int(numPhases))),
			}
			if nTensors > 0 && rng.IntN(2) == 0 {
				e.Tensor = uint16(rng.IntN(nTensors))
			}
		case 2: // small changes
			e.Addr += uint64(rng.IntN(1 << 20))
			e.Size = uint32(1 + rng.IntN(4096))
			e.Token += uint32(rng.IntN(2))
			e.Thread = uint8(rng.IntN(4))
			e.NeuronLo, e.NeuronHi = uint32(rng.IntN(100)), uint32(rng.IntN(200))
		case 3: // jump regions
			e.Addr = []uint64{0, RegionKV, RegionActivation, RegionPredictor, RegionEnd, math.MaxUint64 - 7}[rng.IntN(6)] + uint64(rng.IntN(64))
			e.Op = Op(rng.IntN(int(NumOps)))
		}
		if e.Size == 0 {
			e.Size = 1
		}
		out[i] = e
		prev = e
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	m := newEngineModel(tinyShape)
	rng := rand.New(rand.NewPCG(1, 2))
	maxEv := Event{Addr: math.MaxUint64, Size: math.MaxUint32, Token: math.MaxUint32, NeuronLo: math.MaxUint32, NeuronHi: math.MaxUint32,
		Tensor: NoTensor, Layer: math.MaxInt16, Thread: math.MaxUint8, Op: NumOps - 1, Kind: numKinds - 1, Phase: numPhases - 1}
	minEv := Event{Size: 1, Layer: math.MinInt16}
	var allEnums []Event
	for op := range NumOps {
		for k := range numKinds {
			for p := range numPhases {
				allEnums = append(allEnums, Event{Addr: uint64(op) << 40, Size: 64, Op: op, Kind: k, Phase: p, Layer: NoLayer, Tensor: NoTensor})
			}
		}
	}
	var jumps []Event
	for i, a := range []uint64{0, RegionKV - 1, RegionKV, RegionActivation + 5, RegionPredictor, RegionEnd, math.MaxUint64, 0, 1 << 63} {
		jumps = append(jumps, Event{Addr: a, Size: uint32(i + 1), Tensor: NoTensor, Layer: NoLayer})
	}
	cases := []struct {
		name   string
		h      Header
		events []Event
		opts   WriterOptions
	}{
		{"empty", m.h, nil, WriterOptions{}},
		{"one", Header{}, []Event{{Addr: 5, Size: 1, Tensor: NoTensor}}, WriterOptions{}},
		{"engine 2 threads", m.h, m.events(3, 4, 2), WriterOptions{}},
		{"engine 1 thread small blocks", m.h, m.events(2, 2, 1), WriterOptions{BlockEvents: 100}},
		{"engine blocks of 1", m.h, m.events(1, 1, 3), WriterOptions{BlockEvents: 1}},
		{"random", m.h, randomEvents(rng, 20000, len(m.h.Tensors)), WriterOptions{BlockEvents: 777}},
		{"random no tensors", Header{}, randomEvents(rng, 5000, 0), WriterOptions{}},
		{"max and min fields", m.h, []Event{maxEv, minEv, maxEv, maxEv, minEv, minEv}, WriterOptions{}},
		{"all ops kinds phases", m.h, allEnums, WriterOptions{BlockEvents: 7}},
		{"region jumps", Header{}, jumps, WriterOptions{}},
		{"max block", m.h, m.events(1, 0, 1)[:1], WriterOptions{BlockEvents: MaxBlockEvents}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.h, tc.events, tc.opts)
			for _, bl := range []int{1, 3, 4096} {
				r, got, err := decodeAll(data, bl)
				if err != nil {
					t.Fatalf("read (buffer %d): %v", bl, err)
				}
				sameEvents(t, got, tc.events)
				if w := r.Warning(); w != nil {
					t.Errorf("Warning() = %v, want nil", w)
				}
				info := r.Info()
				if !info.Indexed || info.Events != uint64(len(tc.events)) || info.FileBytes != int64(len(data)) ||
					info.HeaderBytes+info.BlockBytes+info.FooterBytes != int64(len(data)) {
					t.Errorf("Info() = %+v, want indexed, %d events, parts summing to %d", info, len(tc.events), len(data))
				}
				if !sameHeader(r.Header(), &tc.h) {
					t.Errorf("Header() = %+v, want %+v", r.Header(), tc.h)
				}
			}
		})
	}
}

// sameHeader compares headers treating nil and empty maps/slices alike.
func sameHeader(a, b *Header) bool {
	norm := func(h *Header) Header {
		c := *h
		if len(c.Settings) == 0 {
			c.Settings = nil
		}
		if len(c.Tensors) == 0 {
			c.Tensors = nil
		}
		c.Tensors = append([]TensorSym(nil), c.Tensors...)
		for i := range c.Tensors {
			if len(c.Tensors[i].Dims) == 0 {
				c.Tensors[i].Dims = nil
			}
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestWriterRejectsInvalidEvents(t *testing.T) {
	m := newEngineModel(tinyShape)
	cases := []struct {
		name string
		e    Event
	}{
		{"op", Event{Size: 1, Op: NumOps}},
		{"kind", Event{Size: 1, Kind: numKinds}},
		{"phase", Event{Size: 1, Phase: numPhases}},
		{"size 0", Event{}},
		{"tensor outside table", Event{Size: 1, Tensor: uint16(len(m.h.Tensors))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, m.h, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w.Emit(Event{Size: 1, Tensor: NoTensor})
			w.Emit(tc.e)
			w.Emit(Event{Size: 1, Tensor: NoTensor})
			if err := w.Close(); err == nil {
				t.Fatalf("Close() after Emit(%+v) = nil, want an error", tc.e)
			}
		})
	}
	if _, err := NewWriter(io.Discard, Header{}, WriterOptions{BlockEvents: MaxBlockEvents + 1}); err == nil {
		t.Error("NewWriter(BlockEvents too big) = nil error, want one")
	}
	if _, err := NewWriter(io.Discard, Header{Tensors: make([]TensorSym, NoTensor)}, WriterOptions{}); err == nil {
		t.Error("NewWriter(65535 tensors) = nil error, want one")
	}
}

func TestSeekToken(t *testing.T) {
	m := newEngineModel(tinyShape)
	events := m.events(2, 6, 2)
	// Tokens here never decrease, so "first event with Token >= n" is the
	// first event of token n.
	for _, bs := range []int{0, 50, 1} {
		data := encode(t, m.h, events, WriterOptions{BlockEvents: bs})
		for _, tok := range []uint32{0, 1, 3, 7, 8, 100} {
			r, err := NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if !r.Info().TokensSorted {
				t.Error("Info().TokensSorted = false for an engine trace, want true")
			}
			if err := r.SeekToken(tok); err != nil {
				t.Fatalf("SeekToken(%d): %v", tok, err)
			}
			var got []Event
			buf := make([]Event, 17)
			for {
				n, err := r.Next(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			first := len(events)
			for i, e := range events {
				if e.Token >= tok {
					first = i
					break
				}
			}
			sameEvents(t, got, events[first:])
		}
	}
}

func TestSeekTokenNonMonotone(t *testing.T) {
	// Tokens 5,1,7,2,9: seeking 6 must land on the 7 (the first event
	// with Token >= 6 in file order) and continue with 2 and 9.
	var events []Event
	for _, tok := range []uint32{5, 1, 7, 2, 9} {
		events = append(events, Event{Token: tok, Size: 4, Addr: uint64(tok) * 64, Tensor: NoTensor})
	}
	data := encode(t, Header{}, events, WriterOptions{BlockEvents: 2})
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Info().TokensSorted {
		t.Error("Info().TokensSorted = true for tokens 5,1,7,2,9, want false")
	}
	r.SeekToken(6)
	buf := make([]Event, 10)
	var got []Event
	for {
		n, err := r.Next(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	sameEvents(t, got, events[2:])
}

func TestCreateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.etr")
	m := newEngineModel(tinyShape)
	fw, err := Create(path, m.h, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events := m.events(1, 1, 1)
	for _, e := range events {
		fw.Emit(e)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.etr")); len(matches) != 0 {
		t.Fatalf("before Close, %v exist, want no .etr file", matches)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.Info().Events; got != uint64(len(events)) {
		t.Errorf("Info().Events = %d, want %d", got, len(events))
	}

	// An invalid event makes Close fail and leaves nothing behind.
	bad := filepath.Join(dir, "bad.etr")
	fw, err = Create(bad, m.h, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw.Emit(Event{})
	if err := fw.Close(); err == nil {
		t.Fatal("Close() after an invalid event = nil, want an error")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*bad*")); len(entries) != 0 {
		t.Errorf("after a failed Close, %v exist, want nothing", entries)
	}
}

func TestNextAfterEOF(t *testing.T) {
	data := encode(t, Header{}, []Event{{Size: 1, Tensor: NoTensor}}, WriterOptions{})
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]Event, 4)
	if n, err := r.Next(buf); n != 1 || err != nil {
		t.Fatalf("Next = %d, %v, want 1, nil", n, err)
	}
	for range 2 {
		if n, err := r.Next(buf); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("Next at end = %d, %v, want 0, EOF", n, err)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

// failAfter accepts limit bytes, then fails every write.
type failAfter struct{ limit, n int }

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

// TestWriterWriteError: a failing write is reported by Close, whether it
// hits the header, a block closed at its size, a block closed early at a
// pass start, or the footer.
func TestWriterWriteError(t *testing.T) {
	m := newEngineModel(tinyShape)
	events := m.engineEvents(2, 6, 2)
	h := m.h
	hdr := len(appendHeader(nil, &h))
	full := encode(t, h, events, WriterOptions{BlockEvents: 300})
	if _, err := NewWriter(&failAfter{limit: hdr - 1}, h, WriterOptions{}); !errors.Is(err, errDiskFull) {
		t.Errorf("NewWriter on a full disk = %v, want %v", err, errDiskFull)
	}
	for _, limit := range []int{hdr, hdr + 100, len(full) - 30} {
		w, err := NewWriter(&failAfter{limit: limit}, h, WriterOptions{BlockEvents: 300})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			w.Emit(e)
		}
		if err := w.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("limit %d of %d bytes: Close() = %v, want %v", limit, len(full), err, errDiskFull)
		}
	}
}
