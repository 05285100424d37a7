package trace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readDin(t testing.TB, text string, opts DinOptions) ([]Event, DinStats, error) {
	d := NewDinReader(strings.NewReader(text), "t.din", opts)
	var out []Event
	buf := make([]Event, 3)
	for {
		n, err := d.Next(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, d.Stats(), nil
		}
		if err != nil {
			return out, d.Stats(), err
		}
	}
}

func dinEvent(k Kind, addr uint64, size uint32) Event {
	return Event{Addr: addr, Size: size, Kind: k, Op: OpOther, Tensor: NoTensor, Layer: NoLayer}
}

func TestDinRead(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		opts  DinOptions
		want  []Event
		stats DinStats
	}{
		{"dinero examples", "2 0\n0 1000\n1 70f60888\n", DinOptions{},
			[]Event{dinEvent(Read, 0x1000, 1), dinEvent(Write, 0x70f60888, 1)},
			DinStats{Lines: 3, Reads: 1, Writes: 1, IFetches: 1, Events: 2}},
		{"ifetch kept", "2 400\n", DinOptions{IFetch: true}, []Event{dinEvent(Read, 0x400, 1)},
			DinStats{Lines: 1, IFetches: 1, Events: 1}},
		{"sizes, 0x, tabs, CRLF, comments", "0 0x10 8\r\n1\tABCdef 64 trailing words\n0 20 a comment\n\n# note\n3 ff\n4 0\n", DinOptions{DefaultSize: 4},
			[]Event{dinEvent(Read, 0x10, 8), dinEvent(Write, 0xabcdef, 64), dinEvent(Read, 0x20, 4), dinEvent(Read, 0xff, 4)},
			DinStats{Lines: 7, Reads: 2, Writes: 1, Misc: 1, Flushes: 1, Events: 4}},
		{"max address, no final newline", "0 ffffffffffffffff 4294967295", DinOptions{},
			[]Event{dinEvent(Read, ^uint64(0), ^uint32(0))}, DinStats{Lines: 1, Reads: 1, Events: 1}},
		{"leading zeros", "0 00000000000000000000abc\n", DinOptions{}, []Event{dinEvent(Read, 0xabc, 1)}, DinStats{Lines: 1, Reads: 1, Events: 1}},
		{"a flush's size is not read", "4 0 0\n0 10 8\n", DinOptions{}, []Event{dinEvent(Read, 0x10, 8)}, DinStats{Lines: 2, Reads: 1, Flushes: 1, Events: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := readDin(t, tc.text, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, got, tc.want)
			if st != tc.stats {
				t.Errorf("Stats() = %+v, want %+v", st, tc.stats)
			}
		})
	}
}

func TestDinErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"label", "0 10\n5 10\n", "t.din:2: label \"5\""},
		{"label word", "read 10\n", "t.din:1: label \"read\""},
		{"missing address", "0 1\n1\n", "t.din:2: missing address"},
		{"bad hex", "0 12g\n", "t.din:1: address \"12g\""},
		{"overflow", "0 1ffffffffffffffff\n", "t.din:1: address"},
		{"bare 0x", "0 0x\n", "t.din:1: address \"0x\""},
		{"size 0", "0 10 0\n", "t.din:1: size \"0\""},
		{"size too big", "0 10 4294967296\n", "t.din:1: size"},
		{"negative size", "0 10 -1\n", "t.din:1: size \"-1\", want 1 to 4294967295 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readDin(t, tc.text, DinOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("read %q: error %v, want one line containing %q", tc.text, err, tc.want)
			}
		})
	}
}

func TestDinLongLine(t *testing.T) {
	text := "0 10 " + strings.Repeat("x", 3*dinMaxLine) + "\n1 20\n"
	got, st, err := readDin(t, text, DinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, []Event{dinEvent(Read, 0x10, 1), dinEvent(Write, 0x20, 1)})
	if st.Lines != 2 {
		t.Errorf("Lines = %d, want 2", st.Lines)
	}
}

// TestDinExportImport: any trace → din → events keep address, size and
// read/write (prefetches become reads); the engine fields are dropped.
func TestDinExportImport(t *testing.T) {
	m := newEngineModel(tinyShape)
	events := m.events(1, 1, 2)
	events = append(events, Event{Addr: ^uint64(0) - 3, Size: 4, Kind: Prefetch, Tensor: NoTensor})
	var buf bytes.Buffer
	w := NewDinWriter(&buf)
	for _, e := range events {
		w.Emit(e)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, st, err := readDin(t, buf.String(), DinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]Event, len(events))
	for i, e := range events {
		k := Read
		if e.Kind == Write {
			k = Write
		}
		want[i] = dinEvent(k, e.Addr, e.Size)
	}
	sameEvents(t, got, want)
	if st.Events != uint64(len(events)) {
		t.Errorf("Events = %d, want %d", st.Events, len(events))
	}
	if first := strings.SplitN(buf.String(), "\n", 2)[0]; first != "0 b4f2c 68" {
		t.Errorf("first line = %q, want %q", first, "0 b4f2c 68")
	}
}

func TestConvertFile(t *testing.T) {
	dir := t.TempDir()
	m := newEngineModel(tinyShape)
	events := m.events(1, 2, 2)
	etr := filepath.Join(dir, "a.etr")
	if err := os.WriteFile(etr, encode(t, m.h, events, WriterOptions{BlockEvents: 100}), 0o644); err != nil {
		t.Fatal(err)
	}
	din := filepath.Join(dir, "a.din")
	res, err := ConvertFile(etr, din, ConvertOptions{})
	if err != nil || res.Events != uint64(len(events)) {
		t.Fatalf("etr → din: %+v, %v; want %d events", res, err, len(events))
	}
	back := filepath.Join(dir, "b.etr")
	res, err = ConvertFile(din, back, ConvertOptions{EdgeprofVersion: "v9"})
	if err != nil || res.Events != uint64(len(events)) || res.Din == nil || res.Din.Events != uint64(len(events)) {
		t.Fatalf("din → etr: %+v, %v; want %d events", res, err, len(events))
	}
	r, err := Open(back)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.Header(); h.EdgeprofVersion != "v9" || len(h.Tensors) != 0 || h.Settings["source"] != "din" {
		t.Errorf("din → etr header = %+v, want version v9, no tensors, source din", h)
	}
	buf := make([]Event, len(events)+1)
	n, _ := r.Next(buf)
	for i := range n {
		if e := buf[i]; e.Addr != events[i].Addr || e.Size != events[i].Size || e.Op != OpOther {
			t.Fatalf("din → etr event %d = %v, want addr %#x size %d op other", i, e, events[i].Addr, events[i].Size)
		}
	}

	// A truncated input fails unless allowed, and leaves no output.
	data, _ := os.ReadFile(etr)
	cut := filepath.Join(dir, "cut.etr")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	out := filepath.Join(dir, "cut-out.din")
	if _, err := ConvertFile(cut, out, ConvertOptions{}); !errors.Is(err, ErrTruncated) {
		t.Errorf("convert truncated: %v, want ErrTruncated", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("after a failed convert, %s exists", out)
	}
	res, err = ConvertFile(cut, out, ConvertOptions{AllowTruncated: true})
	if err != nil || !errors.Is(res.Warning, ErrTruncated) || res.Events == 0 || res.Events >= uint64(len(events)) {
		t.Errorf("convert truncated, allowed: %+v, %v; want a warning and a prefix of the events", res, err)
	}
	if _, err := ConvertFile(etr, filepath.Join(dir, "x.txt"), ConvertOptions{}); err == nil || !strings.Contains(err.Error(), ".etr or .din") {
		t.Errorf("convert to .txt: %v, want an unknown-extension error", err)
	}
}

func FuzzDin(f *testing.F) {
	f.Add([]byte("2 0\n0 1000\n1 70f60888\n"))
	f.Add([]byte("0 0x10 8\r\n1\tABCdef 64 x\n# c\n\n3 ff\n4 0\n"))
	f.Add([]byte("0 ffffffffffffffff 4294967295"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []DinOptions{{}, {IFetch: true, DefaultSize: 64}} {
			events, st, err := readDin(t, string(data), opts)
			if err != nil {
				if strings.ContainsAny(err.Error(), "\n\r") || !strings.HasPrefix(err.Error(), "din t.din:") {
					t.Fatalf("error %q: want one line starting with the file name", err)
				}
				continue
			}
			if st.Events != uint64(len(events)) || st.Reads+st.Writes+st.Misc+st.IFetches+st.Flushes > st.Lines {
				t.Fatalf("stats %+v inconsistent with %d events", st, len(events))
			}
			// Export and re-import: the same events.
			var buf bytes.Buffer
			w := NewDinWriter(&buf)
			for _, e := range events {
				if e.Size == 0 {
					t.Fatalf("event %v has size 0", e)
				}
				w.Emit(e)
			}
			w.Close()
			again, _, err := readDin(t, buf.String(), opts)
			if err != nil {
				t.Fatalf("re-read export: %v", err)
			}
			sameEvents(t, again, events)
		}
	})
}
