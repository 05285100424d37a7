package sim

import (
	"io"

	"github.com/edgeprof/edgeprof/trace"
)

// Events returns a trace.Source that yields ev, for simulating events
// held in memory (tests, programs that generate their own patterns).
func Events(ev []trace.Event) trace.Source {
	return &sliceSource{ev: ev, hdr: trace.Header{Settings: map[string]string{"source": "memory"}}}
}

type sliceSource struct {
	ev  []trace.Event
	hdr trace.Header
}

func (s *sliceSource) Next(buf []trace.Event) (int, error) {
	if len(s.ev) == 0 {
		return 0, io.EOF
	}
	n := copy(buf, s.ev)
	s.ev = s.ev[n:]
	return n, nil
}

func (s *sliceSource) Header() *trace.Header { return &s.hdr }
func (s *sliceSource) Close() error          { return nil }
