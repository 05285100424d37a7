package dram

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/edgeprof/edgeprof/internal/yamlcheck"
	"gopkg.in/yaml.v3"
)

// maxTraceLine bounds a trace line, so that a file without newlines
// cannot make the reader buffer it whole.
const maxTraceLine = 4096

// TraceReader reads a DRAM request trace in DRAMsim3's text format, one
// request per line:
//
//	0x7f3a2c40 READ 1200
//
// the byte address in hexadecimal (0x optional, as C++'s std::hex reads
// it), READ or WRITE, and the arrival in DRAM clock cycles (decimal).
// Blank lines and lines starting with # are skipped. Every request has
// the same size (DRAMsim3's traces carry none: one transaction each).
type TraceReader struct {
	sc      *bufio.Scanner
	name    string
	line    int
	clockPS int64
	size    int
}

// NewTraceReader reads from r; name is used in errors, clockPS converts
// cycles to picoseconds (DRAM.ClockPS for the DRAM's own clock) and
// size is every request's size in bytes.
func NewTraceReader(r io.Reader, name string, clockPS int64, size int) *TraceReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxTraceLine)
	return &TraceReader{sc: sc, name: name, clockPS: max(clockPS, 1), size: size}
}

// Read fills rs with the next requests and returns how many it read. At
// the end of the trace it returns 0 and io.EOF; a malformed line gives
// an error naming the file, the line and the field.
func (t *TraceReader) Read(rs []Request) (int, error) {
	n := 0
	for n < len(rs) {
		if !t.sc.Scan() {
			if err := t.sc.Err(); err != nil {
				if errors.Is(err, bufio.ErrTooLong) {
					return n, fmt.Errorf("%s:%d: line longer than %d bytes", t.name, t.line+1, maxTraceLine)
				}
				return n, fmt.Errorf("%s: %w", t.name, err)
			}
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		t.line++
		text := bytes.TrimSpace(t.sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		if r, ok := t.parseCommon(text); ok {
			rs[n] = r
			n++
			continue
		}
		r, err := t.parse(text)
		if err != nil {
			return n, fmt.Errorf("%s:%d: %v", t.name, t.line, err)
		}
		rs[n] = r
		n++
	}
	return n, nil
}

// parseCommon reads the common form of a line in one pass: at most 16
// hex digits after an optional 0x, READ or WRITE, a decimal cycle,
// separated by spaces or tabs. Anything else (leading zeros past 16
// digits, other blanks, a malformed field) returns false and is left to
// parse, which gives the same result or the error; FuzzTraceReader
// checks that both agree.
func (t *TraceReader) parseCommon(text []byte) (Request, bool) {
	i := 0
	if len(text) > 2 && text[0] == '0' && text[1]|0x20 == 'x' {
		i = 2
	}
	start := i
	var addr uint64
	for ; i < len(text); i++ {
		d := hexDigit[text[i]]
		if d&0x80 != 0 {
			break
		}
		addr = addr<<4 | uint64(d)
	}
	if i == start || i-start > 16 {
		return Request{}, false
	}
	j := i
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	if j == i {
		return Request{}, false
	}
	var write bool
	switch rest := text[j:]; {
	case len(rest) > 4 && string(rest[:4]) == "READ" && (rest[4] == ' ' || rest[4] == '\t'):
		j += 4
	case len(rest) > 5 && string(rest[:5]) == "WRITE" && (rest[5] == ' ' || rest[5] == '\t'):
		j += 5
		write = true
	default:
		return Request{}, false
	}
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	if j == len(text) {
		return Request{}, false
	}
	limit := math.MaxInt64 / 4 / t.clockPS
	var cycle int64
	for ; j < len(text); j++ {
		c := text[j]
		if c < '0' || c > '9' {
			return Request{}, false
		}
		cycle = cycle*10 + int64(c-'0')
		if cycle > limit {
			return Request{}, false
		}
	}
	return Request{At: cycle * t.clockPS, Addr: addr, Size: t.size, Write: write}, true
}

func (t *TraceReader) parse(text []byte) (Request, error) {
	// By hand rather than bytes.Fields and strconv: those allocate per
	// line, and a trace has millions of lines.
	var f [3][]byte
	nf := 0
	for i := 0; i < len(text); {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		j := i
		for j < len(text) && !isSpace(text[j]) {
			j++
		}
		if j > i {
			if nf == len(f) {
				return Request{}, fmt.Errorf("more than 3 fields, want 3: ADDRESS READ|WRITE CYCLE")
			}
			f[nf] = text[i:j]
			nf++
		}
		i = j
	}
	if nf != 3 {
		return Request{}, fmt.Errorf("%d fields, want 3: ADDRESS READ|WRITE CYCLE", nf)
	}
	addr, ok := parseHex(f[0])
	if !ok {
		return Request{}, fmt.Errorf("address %.40q: want a hexadecimal number below 2^64", f[0])
	}
	var write bool
	switch string(f[1]) {
	case "READ":
	case "WRITE":
		write = true
	default:
		return Request{}, fmt.Errorf("operation %.40q: want READ or WRITE", f[1])
	}
	limit := math.MaxInt64 / 4 / t.clockPS
	cycle, ok := parseDecimal(f[2], limit)
	if !ok {
		return Request{}, fmt.Errorf("cycle %.40q: want a whole number from 0 to %d", f[2], limit)
	}
	return Request{At: cycle * t.clockPS, Addr: addr, Size: t.size, Write: write}, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// parseHex reads a hexadecimal number with an optional 0x or 0X.
func parseHex(b []byte) (uint64, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 {
		return 0, false
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 16 {
		return 0, false
	}
	var v uint64
	bad := byte(0)
	for _, c := range b {
		d := hexDigit[c] // a table: a switch mispredicts on random digits
		bad |= d
		v = v<<4 | uint64(d&15)
	}
	return v, bad&0x80 == 0
}

// hexDigit maps a byte to its hexadecimal value, or 0x80 if it is none.
var hexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for i := range 10 {
		t['0'+i] = byte(i)
	}
	for i := range 6 {
		t['a'+i], t['A'+i] = byte(10+i), byte(10+i)
	}
	return t
}()

// parseDecimal reads a decimal number from 0 to limit.
func parseDecimal(b []byte, limit int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > limit {
			return 0, false
		}
	}
	return v, true
}

// ClockPS is the DRAM's clock period (tCK) in picoseconds, the unit of
// DRAMsim3's trace cycles.
func (d *DRAM) ClockPS() int64 { return d.tm.tck }

// maxConfigBytes bounds DRAM configuration files: they are a few KiB, and
// YAML decoding of untrusted input must stay bounded (as SoC files are).
const maxConfigBytes = 1 << 20

// LoadConfig reads a DRAM configuration from a YAML file (see
// ParseConfig), or, when gradeOrPath is neither a file nor named .yaml
// or .yml, takes it as a grade such as "lpddr4x-4267" (checked by New).
func LoadConfig(gradeOrPath string) (Config, error) {
	st, err := os.Stat(gradeOrPath)
	isFile := err == nil && st.Mode().IsRegular()
	if !isFile && !strings.HasSuffix(gradeOrPath, ".yaml") && !strings.HasSuffix(gradeOrPath, ".yml") {
		return Config{Grade: gradeOrPath}, nil
	}
	f, err := os.Open(gradeOrPath)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", gradeOrPath, err)
	}
	if len(b) > maxConfigBytes {
		return Config{}, fmt.Errorf("%s: larger than the %d-byte limit for DRAM configuration files", gradeOrPath, maxConfigBytes)
	}
	return ParseConfig(b, gradeOrPath)
}

// ParseConfig reads a DRAM configuration from YAML, in the format of an
// SoC file's dram: section (unknown keys are errors), and checks it. name
// is used in errors.
func ParseConfig(data []byte, name string) (Config, error) {
	var c Config
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%s: empty, want a DRAM configuration (grade:, org:, timing:, ...)", name)
		}
		return Config{}, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	// Unknown keys and fractions in integer fields, by line and key.
	if err := yamlcheck.Check(&doc, reflect.TypeOf(c)); err != nil {
		var ye *yamlcheck.Error
		if errors.As(err, &ye) {
			return Config{}, fmt.Errorf("%s:%d: %s", name, ye.Line, ye.Msg)
		}
		return Config{}, fmt.Errorf("%s: %v", name, err)
	}
	if err := doc.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	// The model reads an organization field of 0 as the standard's
	// default; written out in a file it is a mistake (as in a SoC file).
	if key := zeroOrgField(&doc); key != "" {
		return Config{}, fmt.Errorf("%s: org.%s: 0, want 1 or more (leave the key out for the standard's default)", name, key)
	}
	r, err := c.Resolve()
	if err == nil {
		err = r.Validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %v", name, err)
	}
	return c, nil
}

// oneLine joins a multi-line message (yaml.v3 lists one error per line).
func oneLine(s string) string {
	return string(bytes.ReplaceAll(bytes.TrimSpace([]byte(s)), []byte("\n"), []byte("; ")))
}

// zeroOrgField returns the key of an org field given as 0 (in any
// spelling yaml.v3 reads as 0, through aliases and merges too): decoded
// into pointers, a given field is non-nil.
func zeroOrgField(doc *yaml.Node) string {
	var given struct {
		Org struct {
			Channels      *int `yaml:"channels"`
			Ranks         *int `yaml:"ranks"`
			BankGroups    *int `yaml:"bank_groups"`
			BanksPerGroup *int `yaml:"banks_per_group"`
			Rows          *int `yaml:"rows"`
			Columns       *int `yaml:"columns"`
			DeviceWidth   *int `yaml:"device_width"`
			BusWidth      *int `yaml:"bus_width"`
			BurstLength   *int `yaml:"burst_length"`
		} `yaml:"org"`
	}
	if doc.Decode(&given) != nil {
		return "" // the full decode reports it
	}
	o := given.Org
	for _, f := range []struct {
		key string
		v   *int
	}{{"channels", o.Channels}, {"ranks", o.Ranks}, {"bank_groups", o.BankGroups}, {"banks_per_group", o.BanksPerGroup},
		{"rows", o.Rows}, {"columns", o.Columns}, {"device_width", o.DeviceWidth}, {"bus_width", o.BusWidth}, {"burst_length", o.BurstLength}} {
		if f.v != nil && *f.v == 0 {
			return f.key
		}
	}
	return ""
}
