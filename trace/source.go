package trace

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
)

// Source is a stream of events read in batches: an .etr Reader or a din
// DinReader. Next fills buf and returns n > 0 and nil, or 0 and an error:
// io.EOF at the end, an error matching ErrTruncated after the good prefix
// of a trace cut off mid-write, anything else for bad input.
type Source interface {
	Next(buf []Event) (int, error)
	Header() *Header
	Close() error
}

var (
	_ Source = (*Reader)(nil)
	_ Source = (*DinReader)(nil)
	_ Sink   = (*Writer)(nil)
	_ Sink   = (*DinWriter)(nil)
)

// Format names a trace file format.
type Format string

const (
	FormatETR Format = "etr"
	FormatDin Format = "din"
)

// FormatOf returns the format of path by its extension (.etr or .din).
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".etr":
		return FormatETR, nil
	case ".din":
		return FormatDin, nil
	default:
		return "", fmt.Errorf("trace: %s: unknown trace extension %q, want .etr or .din", path, ext)
	}
}

// OpenFile opens an .etr or .din trace by its extension.
func OpenFile(path string, din DinOptions) (Source, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if f == FormatDin {
		return OpenDin(path, din)
	}
	return Open(path)
}

// ConvertOptions control ConvertFile.
type ConvertOptions struct {
	// Din controls reading din input.
	Din DinOptions
	// EdgeprofVersion, if set, replaces the header's edgeprof version
	// in .etr output.
	EdgeprofVersion string
	// AllowTruncated converts the good prefix of an .etr input cut off
	// mid-write instead of failing (the output is then a complete trace
	// of fewer events; the result's Warning says so).
	AllowTruncated bool
	// Writer tunes .etr output.
	Writer WriterOptions
}

// ConvertResult reports a conversion.
type ConvertResult struct {
	Events uint64
	// Warning is a non-fatal problem with the input (a truncated .etr
	// converted with AllowTruncated, or a missing footer index).
	Warning error
	// Din holds the din reader's counts when the input was din.
	Din *DinStats
}

// ConvertFile converts the trace in to out, each .etr or .din by
// extension, streaming with bounded memory. out is written through a
// temporary file and appears only if the conversion succeeds.
func ConvertFile(in, out string, opts ConvertOptions) (ConvertResult, error) {
	var res ConvertResult
	outFmt, err := FormatOf(out)
	if err != nil {
		return res, err
	}
	src, err := OpenFile(in, opts.Din)
	if err != nil {
		return res, err
	}
	defer src.Close()
	if r, ok := src.(*Reader); ok {
		res.Warning = r.Warning()
	}
	f, err := atomicfile.Create(out)
	if err != nil {
		return res, err
	}
	defer f.Abort()
	var sink Sink
	var finish func() error
	switch outFmt {
	case FormatETR:
		h := *src.Header()
		if opts.EdgeprofVersion != "" {
			h.EdgeprofVersion = opts.EdgeprofVersion
		}
		w, err := NewWriter(f, h, opts.Writer)
		if err != nil {
			return res, fmt.Errorf("%s: %w", out, err)
		}
		sink, finish = w, w.Close
	case FormatDin:
		w := NewDinWriter(f)
		sink, finish = w, w.Close
	}
	buf := make([]Event, 4096)
	for {
		n, err := src.Next(buf)
		for _, e := range buf[:n] {
			sink.Emit(e)
		}
		res.Events += uint64(n)
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrTruncated) && opts.AllowTruncated {
			res.Warning = err
			break
		}
		if err != nil {
			return res, err
		}
	}
	if d, ok := src.(*DinReader); ok {
		st := d.Stats()
		res.Din = &st
	}
	if err := finish(); err != nil {
		return res, fmt.Errorf("%s: %w", out, err)
	}
	return res, f.Commit()
}
