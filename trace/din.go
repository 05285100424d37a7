package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// DineroIV "din" traces: one access per text line, "label address [size]".
// Labels: 0 data read, 1 data write, 2 instruction fetch, 3 escape
// (unknown access type), 4 escape (cache flush). Addresses are hex as
// Dinero writes them, without 0x (a 0x prefix is accepted too). Dinero
// ignores the rest of a line; so does this reader, except that a third
// field made only of decimal digits is the access size in bytes (and a
// signed number there is an error).
// docs/trace-format.md ("DineroIV din") gives the mapping to events.

// DinOptions control how din records become events.
type DinOptions struct {
	// DefaultSize is the size in bytes of records without a size field.
	// 0 means 1, Dinero's own assumption: each record is one reference
	// that touches one cache line.
	DefaultSize uint32
	// IFetch keeps instruction fetches (label 2) as reads. By default they
	// are skipped, because the simulator models the data side only.
	IFetch bool
}

// DinStats counts what a din reader saw.
type DinStats struct {
	Lines    uint64 // lines read, blank and comment lines included
	Reads    uint64 // label 0
	Writes   uint64 // label 1
	IFetches uint64 // label 2 (read events only with DinOptions.IFetch)
	Misc     uint64 // label 3, read as data reads
	Flushes  uint64 // label 4, skipped: an event cannot express a flush
	Events   uint64 // events produced
}

const dinMaxLine = 4096

// DinReader turns a din text stream into events. Memory is one line
// buffer; lines longer than 4 KiB are read through, keeping their first
// 4 KiB (Dinero's fields come first, the rest is comment).
type DinReader struct {
	br     *bufio.Reader
	name   string
	size   uint32
	ifetch bool
	stats  DinStats
	header Header
	err    error
	closer io.Closer
}

// NewDinReader reads din records from r; name (a file name, may be empty)
// prefixes error messages.
func NewDinReader(r io.Reader, name string, opts DinOptions) *DinReader {
	size := opts.DefaultSize
	if size == 0 {
		size = 1
	}
	return &DinReader{
		br:     bufio.NewReaderSize(r, dinMaxLine),
		name:   name,
		size:   size,
		ifetch: opts.IFetch,
		header: Header{Settings: map[string]string{"source": "din"}},
	}
}

// OpenDin opens the din file path.
func OpenDin(path string, opts DinOptions) (*DinReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("din: %w", err)
	}
	d := NewDinReader(f, path, opts)
	d.closer = f
	return d, nil
}

// Header returns the synthetic header of a din trace: no model, no
// tensors, Settings {"source": "din"}.
func (d *DinReader) Header() *Header { return &d.header }

// Stats returns the counts so far.
func (d *DinReader) Stats() DinStats { return d.stats }

// Close closes the file opened by OpenDin.
func (d *DinReader) Close() error {
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

func (d *DinReader) errorf(format string, args ...any) error {
	where := "din"
	if d.name != "" {
		where += " " + d.name
	}
	return fmt.Errorf("%s:%d: %s", where, d.stats.Lines, fmt.Sprintf(format, args...))
}

// Next fills buf with events, like Reader.Next: n > 0 and nil, or 0 and
// io.EOF at the end, or 0 and a line-numbered error.
func (d *DinReader) Next(buf []Event) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	for n < len(buf) {
		line, err := d.br.ReadSlice('\n')
		if len(line) == 0 && err != nil {
			if err != io.EOF {
				err = d.errorf("read: %v", err)
			}
			d.err = err
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		d.stats.Lines++
		e, ok, perr := d.parse(line)
		// A line longer than the buffer: its fields were in the part
		// just parsed; the rest is comment.
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = d.br.ReadSlice('\n')
		}
		if perr == nil && err != nil && err != io.EOF {
			perr = d.errorf("read: %v", err)
		}
		if perr != nil {
			d.err = perr
			if n > 0 {
				return n, nil
			}
			return 0, perr
		}
		if ok {
			buf[n] = e
			n++
			d.stats.Events++
		}
	}
	return n, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// field returns the next whitespace-separated field of s from i.
func field(s []byte, i int) (f []byte, next int) {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], j
}

// parse decodes one line; ok is false for lines that yield no event.
func (d *DinReader) parse(line []byte) (Event, bool, error) {
	lab, i := field(line, 0)
	if len(lab) == 0 || lab[0] == '#' {
		return Event{}, false, nil // blank or comment line (an extension: Dinero rejects them)
	}
	if len(lab) != 1 || lab[0] < '0' || lab[0] > '4' {
		return Event{}, false, d.errorf("label %q, want 0 (read), 1 (write), 2 (instruction fetch), 3 or 4 (escape)", truncateField(lab))
	}
	label := lab[0] - '0'
	addrField, i := field(line, i)
	if len(addrField) == 0 {
		return Event{}, false, d.errorf("missing address after label %d", label)
	}
	addr, ok := parseHexAddr(addrField)
	if !ok {
		return Event{}, false, d.errorf("address %q, want at most 16 hex digits with an optional 0x", truncateField(addrField))
	}
	if label == 4 {
		d.stats.Flushes++ // a flush carries no access: its size is not read
		return Event{}, false, nil
	}
	size := d.size
	sf, _ := field(line, i)
	// A signed number is a size gone wrong, not the free text Dinero
	// allows after the address.
	if len(sf) > 1 && (sf[0] == '-' || sf[0] == '+') && allDigits(sf[1:]) {
		return Event{}, false, d.errorf("size %q, want 1 to 4294967295 bytes", truncateField(sf))
	}
	if len(sf) > 0 && allDigits(sf) {
		v, err := strconv.ParseUint(string(sf), 10, 32)
		if err != nil || v == 0 {
			return Event{}, false, d.errorf("size %q, want 1 to 4294967295 bytes", truncateField(sf))
		}
		size = uint32(v)
	}
	e := Event{Addr: addr, Size: size, Tensor: NoTensor, Layer: NoLayer, Op: OpOther, Kind: Read}
	switch label {
	case 0:
		d.stats.Reads++
	case 1:
		d.stats.Writes++
		e.Kind = Write
	case 2:
		d.stats.IFetches++
		if !d.ifetch {
			return Event{}, false, nil
		}
	case 3:
		d.stats.Misc++
	}
	return e, true, nil
}

func allDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseHexAddr(s []byte) (uint64, bool) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		var x byte
		switch {
		case c >= '0' && c <= '9':
			x = c - '0'
		case c >= 'a' && c <= 'f':
			x = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			x = c - 'A' + 10
		default:
			return 0, false
		}
		if v>>60 != 0 {
			return 0, false
		}
		v = v<<4 | uint64(x)
	}
	return v, true
}

// truncateField keeps error messages on one short line.
func truncateField(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// DinWriter writes events as din lines "label address size": reads and
// prefetches as label 0 (din has no prefetch label; a software prefetch
// fills the cache like a load), writes as label 1, the address in
// lower-case hex without 0x, the size in decimal. It is a Sink; the first
// write error is kept and returned by Close.
type DinWriter struct {
	bw  *bufio.Writer
	buf []byte
	err error
}

// NewDinWriter writes din lines to w.
func NewDinWriter(w io.Writer) *DinWriter {
	return &DinWriter{bw: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 48)}
}

// Emit writes one line for e.
func (d *DinWriter) Emit(e Event) {
	if d.err != nil {
		return
	}
	b := d.buf[:0]
	if e.Kind == Write {
		b = append(b, '1', ' ')
	} else {
		b = append(b, '0', ' ')
	}
	b = strconv.AppendUint(b, e.Addr, 16)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(e.Size), 10)
	b = append(b, '\n')
	if _, err := d.bw.Write(b); err != nil {
		d.err = fmt.Errorf("din: write: %w", err)
	}
	d.buf = b
}

// Close flushes buffered lines; it does not close the underlying writer.
func (d *DinWriter) Close() error {
	if d.err != nil {
		return d.err
	}
	if err := d.bw.Flush(); err != nil {
		d.err = fmt.Errorf("din: write: %w", err)
	}
	return d.err
}
