package engine_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/edgeprof/edgeprof/engine"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
	"github.com/edgeprof/edgeprof/trace"
)

// captureWriter records what the engine emits and writes it to an .etr
// stream at the same time.
type captureWriter struct {
	events []trace.Event
	w      *trace.Writer
}

func (c *captureWriter) Emit(e trace.Event) {
	c.events = append(c.events, e)
	c.w.Emit(e)
}

// TestETRSize records real engine traces of stories260K as `edgeprof trace
// record -n 32 -t N` does (the prompt in one batch, then 32 greedily
// decoded tokens) on 1, 2 and 4 threads, reads each back exactly, and
// checks the target: at most 4 bytes per event, the whole file
// included. More threads interleave more streams (weight chunks
// round-robin, per-thread activation reads and writes, KV heads per
// thread), which is what made real traces hard to compress.
func TestETRSize(t *testing.T) {
	m, err := engine.Load(sharedtest.Model(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, threads := range []int{1, 2, 4} {
		var buf bytes.Buffer
		w, err := trace.NewWriter(&buf, m.TraceHeader(), trace.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := &captureWriter{w: w}
		g, err := m.Generate("Once upon a time", engine.GenerateOptions{Session: engine.Options{Threads: threads, Sink: c}, MaxTokens: 32})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if len(g.Tokens) != 32 {
			t.Fatalf("%d threads: generated %d tokens, want 32", threads, len(g.Tokens))
		}
		r, err := trace.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var got []trace.Event
		ev := make([]trace.Event, 4096)
		for {
			n, err := r.Next(ev)
			got = append(got, ev[:n]...)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%d threads: read: %v", threads, err)
			}
		}
		if len(got) != len(c.events) {
			t.Fatalf("%d threads: read %d events, emitted %d", threads, len(got), len(c.events))
		}
		for i := range got {
			if got[i] != c.events[i] {
				t.Fatalf("%d threads: event %d = %v, emitted %v", threads, i, got[i], c.events[i])
			}
		}
		perEvent := float64(buf.Len()) / float64(len(got))
		t.Logf("%d threads: %d events, %d bytes (%d in blocks): %.3f bytes/event, %.3f in blocks",
			threads, len(got), buf.Len(), r.Info().BlockBytes, perEvent, float64(r.Info().BlockBytes)/float64(len(got)))
		if perEvent > 4 {
			t.Errorf("%d threads: %.3f bytes/event, want <= 4", threads, perEvent)
		}
	}
}
