package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// checkReader reads data through every public path and checks the
// invariants that hold for any input: no panic, one-line errors, a clean
// read delivers Info().Events events that re-encode to the same events.
func checkReader(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("open error spans lines: %q", err)
		}
		return
	}
	var events []Event
	buf := make([]Event, 7)
	var end error
	for {
		n, err := r.Next(buf)
		if n > 0 && err != nil {
			t.Fatalf("Next = %d, %v: want events or an error, not both", n, err)
		}
		events = append(events, buf[:n]...)
		if err != nil {
			end = err
			break
		}
		if len(events) > 1<<24 {
			t.Fatalf("more than %d events from %d bytes", 1<<24, len(data))
		}
	}
	if strings.ContainsAny(end.Error(), "\n\r") {
		t.Fatalf("error spans lines: %q", end)
	}
	var fe *FormatError
	if errors.As(end, &fe) && uint64(len(events)) < fe.GoodEvents {
		t.Fatalf("error says %d good events, %d were delivered", fe.GoodEvents, len(events))
	}
	if end == io.EOF {
		if uint64(len(events)) != r.Info().Events {
			t.Fatalf("clean read gave %d events, Info says %d", len(events), r.Info().Events)
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, *r.Header(), WriterOptions{})
		if err != nil {
			t.Fatalf("re-encode header: %v", err)
		}
		for _, e := range events {
			w.Emit(e)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		_, again, err := decodeAll(out.Bytes(), 100)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		for i := range events {
			if again[i] != events[i] {
				t.Fatalf("re-encoded event %d = %v, want %v", i, again[i], events[i])
			}
		}
	}
	if len(events) > 0 {
		r.SeekToken(events[len(events)/2].Token)
		r.Next(buf)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkReader)
}

// wrapPayload builds a complete, correctly checksummed trace around one
// block payload, so the fuzzer reaches the event decoder.
func wrapPayload(payload []byte, events uint32, nTensors int) []byte {
	return wrapPayloadTokens(payload, events, nTensors, [3]uint32{})
}

// wrapPayloadTokens is wrapPayload with the block's first, min and max
// tokens.
func wrapPayloadTokens(payload []byte, events uint32, nTensors int, tokens [3]uint32) []byte {
	h := Header{Tensors: make([]TensorSym, nTensors)}
	data := appendHeader(nil, &h)
	off := len(data)
	b := []byte{blockTag}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, events)
	for _, t := range tokens {
		b = binary.LittleEndian.AppendUint32(b, t)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Update(crc32.Checksum(b, castagnoli), castagnoli, payload))
	data = append(append(data, b...), payload...)
	foff := len(data)
	f := []byte{footerTag}
	f = binary.LittleEndian.AppendUint32(f, footerTokensSorted)
	f = binary.LittleEndian.AppendUint32(f, 1)
	f = binary.LittleEndian.AppendUint64(f, uint64(events))
	f = binary.LittleEndian.AppendUint64(f, uint64(off))
	f = binary.LittleEndian.AppendUint32(f, events)
	for _, t := range tokens {
		f = binary.LittleEndian.AppendUint32(f, t)
	}
	f = binary.LittleEndian.AppendUint32(f, crc32.Checksum(f, castagnoli))
	data = append(data, f...)
	data = binary.LittleEndian.AppendUint64(data, uint64(foff))
	return append(data, trailerMagic[:]...)
}

func FuzzPayload(f *testing.F) {
	for _, s := range payloadSeeds(f) {
		f.Add(s.payload, s.events, s.tensors)
	}
	f.Fuzz(func(t *testing.T, payload []byte, events uint16, tensors uint8) {
		if len(payload) == 0 || events == 0 {
			return
		}
		checkSlotRecords(t, payload, int(events), int(tensors))
		checkReader(t, wrapPayload(payload, uint32(events), int(tensors)))
		// Again with the block header's tokens matching the events, so
		// that payloads which decode are read cleanly and re-encoded.
		if tok, ok := payloadTokens(t, payload, int(events), int(tensors)); ok && tok != [3]uint32{} {
			checkReader(t, wrapPayloadTokens(payload, uint32(events), int(tensors), tok))
		}
	})
}

// decodePayload decodes a block payload of the given event count, with
// or without the slot-record loop. It checks the token range the decoder
// kept against the events.
func decodePayload(t testing.TB, payload []byte, events, nTensors int, generalOnly bool) ([]Event, error) {
	r := &Reader{header: &Header{Tensors: make([]TensorSym, nTensors)}, payload: payload, starts: make([]uint64, 1), generalOnly: generalOnly}
	ev, err := r.decodeBlock(nil, events)
	if err == nil {
		lo, hi := ev[0].Token, ev[0].Token
		for _, e := range ev {
			lo, hi = min(lo, e.Token), max(hi, e.Token)
		}
		if r.tlo != lo || r.thi != hi {
			t.Fatalf("decoder's token range [%d, %d], events' [%d, %d]", r.tlo, r.thi, lo, hi)
		}
	}
	return ev, err
}

// checkSlotRecords decodes a payload with and without the slot-record
// loop: events and errors must be the same.
func checkSlotRecords(t *testing.T, payload []byte, events, nTensors int) {
	fast, ferr := decodePayload(t, payload, events, nTensors, false)
	ref, rerr := decodePayload(t, payload, events, nTensors, true)
	if fmt.Sprint(ferr) != fmt.Sprint(rerr) {
		t.Fatalf("decode error %v, general path %v", ferr, rerr)
	}
	// On an error too: the events before the failing record.
	if len(fast) != len(ref) {
		t.Fatalf("decoded %d events, general path %d", len(fast), len(ref))
	}
	for i := range ref {
		if fast[i] != ref[i] {
			t.Fatalf("event %d = %v, general path %v", i, fast[i], ref[i])
		}
	}
}

// payloadTokens decodes a block payload and returns the first, min and
// max token of its events, or false if it does not decode.
func payloadTokens(t testing.TB, payload []byte, events, nTensors int) ([3]uint32, bool) {
	ev, err := decodePayload(t, payload, events, nTensors, false)
	if err != nil {
		return [3]uint32{}, false
	}
	tok := [3]uint32{ev[0].Token, ev[0].Token, ev[0].Token}
	for _, e := range ev {
		tok[1] = min(tok[1], e.Token)
		tok[2] = max(tok[2], e.Token)
	}
	return tok, true
}

type payloadSeed struct {
	payload []byte
	events  uint16
	tensors uint8
}

func readerSeeds(tb testing.TB) [][]byte {
	m := newEngineModel(tinyShape)
	one := encode(tb, Header{ModelName: "m", Settings: map[string]string{"k": "v"}}, []Event{{Addr: 64, Size: 8, Tensor: NoTensor, Layer: NoLayer}}, WriterOptions{})
	engine := encode(tb, m.h, m.events(1, 1, 2)[:600], WriterOptions{BlockEvents: 64})
	// Passes that repeat, so the period registers are set and used.
	passes := encode(tb, m.h, m.engineEvents(2, 4, 2), WriterOptions{BlockEvents: 400})
	// One small access per event: forks and address runs.
	records := encode(tb, Header{}, append(simRecords(200), lackeyRecords(newRand(1), 200)...), WriterOptions{BlockEvents: 150})
	return [][]byte{
		encode(tb, Header{}, nil, WriterOptions{}),
		one,
		engine,
		engine[:len(engine)/2],
		one[:len(one)-trailerSize],
		passes,
		records,
	}
}

// payloadSeeds are the single-block payloads of small real traces.
func payloadSeeds(tb testing.TB) []payloadSeed {
	m := newEngineModel(tinyShape)
	var out []payloadSeed
	for _, evs := range [][]Event{m.events(1, 0, 2)[:300], randomEvents(newRand(5), 40, len(m.h.Tensors)), m.engineEvents(2, 3, 2), simRecords(300), lackeyRecords(newRand(2), 300)} {
		data := encode(tb, m.h, evs, WriterOptions{})
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			tb.Fatal(err)
		}
		ie := r.index[0]
		plen := le32(data[ie.offset+1:])
		p := data[ie.offset+blockHeaderSize : ie.offset+blockHeaderSize+int64(plen)]
		out = append(out, payloadSeed{bytes.Clone(p), uint16(ie.events), uint8(len(m.h.Tensors))})
	}
	return out
}

// TestWriteFuzzSeeds keeps the committed seed corpora in step with the
// format: run with -update-fuzz-seeds after a format change.
func TestWriteFuzzSeeds(t *testing.T) {
	write := func(target string, i int, args ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch v := a.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case uint16:
				fmt.Fprintf(&b, "uint16(%d)\n", v)
			case uint8:
				fmt.Fprintf(&b, "byte('\\x%02x')\n", v)
			}
		}
		path := filepath.Join("testdata", "fuzz", target, fmt.Sprintf("seed-%d", i))
		if !*updateSeeds {
			got, err := os.ReadFile(path)
			if err != nil || string(got) != b.String() {
				t.Errorf("%s is missing or stale; run go test -run TestWriteFuzzSeeds -update-fuzz-seeds ./trace/", path)
			}
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range readerSeeds(t) {
		write("FuzzReader", i, s)
	}
	for i, s := range payloadSeeds(t) {
		write("FuzzPayload", i, s.payload, s.events, s.tensors)
	}
}
