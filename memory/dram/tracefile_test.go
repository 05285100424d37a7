package dram

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func TestTraceReaderParsesDRAMsim3Lines(t *testing.T) {
	src := "# comment\n0x0000000000000000000040 READ 0\n\n  80 WRITE 12  \n0XFFFFFFFFFFFFFFC0 READ 1000000\n"
	tr := NewTraceReader(strings.NewReader(src), "t.trace", 833, 64)
	rs := make([]Request, 2)
	n, err := tr.Read(rs)
	if err != nil || n != 2 {
		t.Fatalf("first Read: %d, %v", n, err)
	}
	want := []Request{{At: 0, Addr: 0x40, Size: 64}, {At: 12 * 833, Addr: 0x80, Size: 64, Write: true}}
	for i := range want {
		if rs[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, rs[i], want[i])
		}
	}
	n, err = tr.Read(rs)
	if err != nil || n != 1 || rs[0] != (Request{At: 833_000_000, Addr: 0xFFFFFFFFFFFFFFC0, Size: 64}) {
		t.Fatalf("second Read: %d %+v, %v", n, rs[0], err)
	}
	if n, err := tr.Read(rs); n != 0 || err != io.EOF {
		t.Fatalf("at the end: %d, %v; want 0, io.EOF", n, err)
	}
}

func TestTraceReaderErrorsNameLineAndField(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"0x40 READ 0\n0x80 READ\n", "t.trace:2: 2 fields, want 3"},
		{"0xg0 READ 0\n", `t.trace:1: address "0xg0": want a hexadecimal`},
		{"0x40 LOAD 0\n", `t.trace:1: operation "LOAD": want READ or WRITE`},
		{"0x40 read 0\n", `t.trace:1: operation "read"`},
		{"0x40 READ -1\n", `t.trace:1: cycle "-1": want a whole number`},
		{"0x40 READ 99999999999999999\n", `t.trace:1: cycle "99999999999999999"`},
		{"0x10000000000000000 READ 1\n", `t.trace:1: address`},
		{strings.Repeat("0", 5000) + " READ 1\n", "t.trace:1: line longer than 4096 bytes"},
	} {
		tr := NewTraceReader(strings.NewReader(c.src), "t.trace", 833, 64)
		var err error
		for err == nil {
			_, err = tr.Read(make([]Request, 4))
		}
		if errors.Is(err, io.EOF) || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%.30q: error %q, want one line starting %q", c.src, err, c.want)
		}
	}
}

func TestParseConfigReadsTheReferenceFiles(t *testing.T) {
	for _, path := range []string{"testdata/dramsim3-lpddr4-2400.yaml", "testdata/dramsim3-ddr4-3200.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseConfig(b, path)
		if err != nil {
			t.Fatal(err)
		}
		if want := loadConfig(t, path); c.Grade != want.Grade || c.Org != want.Org || c.Timing != want.Timing {
			t.Errorf("%s: ParseConfig gives %+v, want %+v", path, c, want)
		}
	}
	for _, c := range []struct{ src, want string }{
		{"", "d.yaml: empty"},
		{"grade: lpddr4x-4267\norg: {channels: 3}\n", "d.yaml: "},
		{"grade: lpddr9-1\n", "d.yaml: "},
		{"grade: lpddr4x-4267\nbogus: 1\n", "d.yaml:2: bogus: unknown key, want one of controller, data_rate_mts, grade, org, power, standard, timing"},
		{"grade: lpddr4x-4267\norg: {channels: 1.7}\n", `d.yaml:2: org.channels: want an integer, got "1.7"`},
		{"grade: lpddr4x-4267\ntiming: {trefi_ps: 3.9e6}\norg: &o {channels: 2}\n", ""},
		{"grade: lpddr4x-4267\norg:\n  ranks: 1\n  channels: 0\n", "d.yaml: org.channels: 0, want 1 or more (leave the key out for the standard's default)"},
		{"grade: lpddr4x-4267\norg: {channels: 0.0}\n", "d.yaml: org.channels: 0"},
		{"grade: lpddr4x-4267\norg: {rows: 0x0}\n", "d.yaml: org.rows: 0"},
		{"grade: lpddr4x-4267\ntiming: {trefi_ps: &z 0}\norg: {channels: *z}\n", "d.yaml: org.channels: 0"},
		{"grade: lpddr4x-4267\norg: {<<: {ranks: -0}}\n", "d.yaml: org.ranks: 0"},
		{"grade: lpddr4x-4267\npower: {rails: [{name: vdd, volts: high}]}\n", `d.yaml:2: power.rails[0].volts: want a number, got "high"`},
	} {
		_, err := ParseConfig([]byte(c.src), "d.yaml")
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v, want it read (whole numbers as floats, anchors)", c.src, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line starting %q", c.src, err, c.want)
		}
	}
}

// The clock of a grade is what its data rate gives: LPDDR4X-4267 and
// DDR4 move two transfers per clock (2133 and 1600 MHz), LPDDR5 four
// per CK at 6400 MT/s.
func TestClockPS(t *testing.T) {
	for grade, want := range map[string]int64{"lpddr4x-4267": 469, "lpddr4-2400": 833, "ddr4-3200": 625, "lpddr5-6400": 1250} {
		d, err := New(Config{Grade: grade})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.ClockPS(); got != want {
			t.Errorf("%s: clock %d ps, want %d", grade, got, want)
		}
	}
}

func FuzzTraceReader(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzTraceReader.
	f.Add([]byte("0x40 READ 0\n0x80 WRITE 12\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The one-pass reader of common lines agrees with the general one
		// on every line it accepts.
		for _, line := range bytes.Split(data, []byte("\n")) {
			tr := NewTraceReader(nil, "f", 833, 64)
			text := bytes.TrimSpace(line)
			if fast, ok := tr.parseCommon(text); ok {
				if slow, err := tr.parse(text); err != nil || slow != fast {
					t.Fatalf("line %q: one-pass %+v, general %+v, %v", text, fast, slow, err)
				}
			}
		}
		tr := NewTraceReader(strings.NewReader(string(data)), "f", 833, 64)
		rs := make([]Request, 3)
		for range 1000 {
			n, err := tr.Read(rs)
			for _, r := range rs[:n] {
				if r.At < 0 || r.Size != 64 {
					t.Fatalf("bad request %+v", r)
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) && n != 0 {
					t.Fatalf("io.EOF with %d requests", n)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("multi-line error %q", err)
				}
				return
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, path := range []string{"testdata/dramsim3-lpddr4-2400.yaml", "testdata/dramsim3-ddr4-3200.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "f")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if _, err := New(c); err != nil {
			t.Fatalf("ParseConfig accepted a config New rejects: %v", err)
		}
	})
}

// BenchmarkTraceReader measures parsing alone (lines of gen.py's shape).
func BenchmarkTraceReader(b *testing.B) {
	var sb strings.Builder
	for i := range 1 << 16 {
		fmt.Fprintf(&sb, "0x%x %s %d\n", uint64(i)*0x9e3779b97f4a7c15>>34<<6, [2]string{"READ", "WRITE"}[i%3/2], 12*i)
	}
	src := sb.String()
	rs := make([]Request, 4096)
	b.SetBytes(int64(len(src)) >> 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		tr := NewTraceReader(strings.NewReader(src), "b", 833, 64)
		for i < b.N {
			n, err := tr.Read(rs[:min(len(rs), b.N-i)])
			i += n
			if err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// The one-pass reader takes the usual lines and leaves the rest to the
// general parser, with the same result either way.
func TestTraceLineParsersAgree(t *testing.T) {
	tr := NewTraceReader(nil, "f", 833, 64)
	for _, c := range []struct {
		line   string
		common bool
		want   Request
	}{
		{"0x40 READ 0", true, Request{At: 0, Addr: 0x40, Size: 64}},
		{"7f3a2c40\tWRITE\t1200", true, Request{At: 1200 * 833, Addr: 0x7f3a2c40, Size: 64, Write: true}},
		{"0XFFFFFFFFFFFFFFFF READ 9", true, Request{At: 9 * 833, Addr: 1<<64 - 1, Size: 64}},
		{"0x00000000000000000040 READ 1", false, Request{At: 833, Addr: 0x40, Size: 64}},
		{"0x40\vREAD 1", false, Request{At: 833, Addr: 0x40, Size: 64}},
	} {
		got, ok := tr.parseCommon([]byte(c.line))
		slow, err := tr.parse([]byte(c.line))
		if ok != c.common || err != nil || slow != c.want || ok && got != c.want {
			t.Errorf("%q: one-pass %+v (ok %v, want %v), general %+v (%v), want %+v", c.line, got, ok, c.common, slow, err, c.want)
		}
	}
}
