package trace

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

// countWriter counts bytes and discards them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var (
	benchOnce   sync.Once
	benchModel  *engineModel
	benchEvents []Event
	benchData   []byte
)

// benchStream is 4 prompt + 12 decode tokens of stories15M-shape Q8_0 on 2
// threads: ~0.9 M events.
func benchStream(b *testing.B) (*engineModel, []Event, []byte) {
	benchOnce.Do(func() {
		benchModel = newEngineModel(stories15MShape)
		benchEvents = benchModel.events(4, 12, 2)
		benchData = encode(b, benchModel.h, benchEvents, WriterOptions{})
	})
	return benchModel, benchEvents, benchData
}

func BenchmarkWrite(b *testing.B) {
	m, events, _ := benchStream(b)
	b.ReportAllocs()
	var cw countWriter
	for b.Loop() {
		cw.n = 0
		w, err := NewWriter(&cw, m.h, WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range events {
			w.Emit(e)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cw.n)/float64(len(events)), "bytes/event")
}

// BenchmarkWriteRandom is the writer's worst case: nothing predicts.
func BenchmarkWriteRandom(b *testing.B) {
	events := randomEvents(rand.New(rand.NewPCG(3, 4)), 200000, 0)
	b.ReportAllocs()
	var cw countWriter
	for b.Loop() {
		cw.n = 0
		w, _ := NewWriter(&cw, Header{}, WriterOptions{})
		for _, e := range events {
			w.Emit(e)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cw.n)/float64(len(events)), "bytes/event")
}

// BenchmarkWriteInterleaved writes 2 threads' rows round-robin, so no
// event is a repeat and every one searches the slots.
func BenchmarkWriteInterleaved(b *testing.B) {
	m := newEngineModel(stories15MShape)
	m.interleave = true
	events := m.events(2, 4, 2)
	b.ReportAllocs()
	var cw countWriter
	for b.Loop() {
		cw.n = 0
		w, _ := NewWriter(&cw, m.h, WriterOptions{})
		for _, e := range events {
			w.Emit(e)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cw.n)/float64(len(events)), "bytes/event")
}

func BenchmarkRead(b *testing.B) {
	_, seq, seqData := benchStream(b)
	m := newEngineModel(stories15MShape)
	m.interleave = true
	inter := m.events(2, 4, 2)
	interData := encode(b, m.h, inter, WriterOptions{})
	for _, tc := range []struct {
		name   string
		events []Event
		data   []byte
	}{{"engine", seq, seqData}, {"interleaved", inter, interData}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]Event, 4096)
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)))
				if err != nil {
					b.Fatal(err)
				}
				total := 0
				for {
					n, err := r.Next(buf)
					total += n
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if total != len(tc.events) {
					b.Fatalf("read %d events, want %d", total, len(tc.events))
				}
			}
			b.ReportMetric(float64(len(tc.events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(tc.data))/float64(len(tc.events)), "bytes/event")
		})
	}
}

// TestReadAllocs pins the read path at zero allocations per event: after
// the reader's one payload buffer exists, decoding a whole trace again
// allocates nothing.
func TestReadAllocs(t *testing.T) {
	m := newEngineModel(tinyShape)
	data := encode(t, m.h, m.events(2, 3, 2), WriterOptions{BlockEvents: 300})
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]Event, 64)
	allocs := testing.AllocsPerRun(5, func() {
		r.SeekToken(0)
		for {
			if _, err := r.Next(buf); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per full read = %v, want 0", allocs)
	}
}

// TestEngineLikeSize pins the compression of the engine-like stream: the
// issue's target is <= 4 bytes per event.
func TestEngineLikeSize(t *testing.T) {
	m := newEngineModel(stories15MShape)
	for _, interleave := range []bool{false, true} {
		for _, threads := range []int{1, 2, 4} {
			m.interleave = interleave
			events := m.events(2, 3, threads)
			data := encode(t, m.h, events, WriterOptions{})
			r, _, err := decodeAll(data, 1024)
			if err != nil {
				t.Fatal(err)
			}
			perEvent := float64(r.Info().BlockBytes) / float64(len(events))
			t.Logf("threads %d interleaved %v: %d events, %d bytes (%d header), %.3f block bytes/event", threads, interleave, len(events), len(data), r.Info().HeaderBytes, perEvent)
			if perEvent > 1.5 {
				t.Errorf("threads %d interleaved %v: %.3f bytes/event, want <= 1.5 (target 4)", threads, interleave, perEvent)
			}
		}
	}
}
