package engine

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/engine/sample"
	"github.com/edgeprof/edgeprof/trace"
)

type teeSink []trace.Sink

func (t teeSink) Emit(e trace.Event) {
	for _, s := range t {
		s.Emit(e)
	}
}

func generateTraced(t *testing.T, m *Model, n int, opt Options) *Generation {
	t.Helper()
	g, err := m.Generate("Once upon a time", GenerateOptions{Session: opt, MaxTokens: n, Sample: sample.Params{Temp: 0}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Dense decoding reads every FFN weight byte exactly once per token and
// layer: no double counting, nothing missing.
func TestTraceFFNBytesPerTokenEqualTensorBytes(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	for _, threads := range []int{1, 3} {
		for _, chunk := range []int{0, -1} {
			var c trace.Capture
			g := generateTraced(t, m, 6, Options{Threads: threads, TraceChunk: chunk, Sink: &c})
			tokens := len(g.PromptTokens) + len(g.Tokens) - 1
			wantPerLayer := uint64(0)
			for _, name := range []string{"ffn_gate", "ffn_up", "ffn_down"} {
				ti, _ := m.File.Tensor("blk.0." + name + ".weight")
				wantPerLayer += ti.Size
			}
			ffn := map[[2]int]uint64{}
			for _, e := range c.Events {
				if e.Op.IsFFN() {
					ffn[[2]int{int(e.Token), int(e.Layer)}] += uint64(e.Size)
				}
			}
			// The prompt is one batch: its weights are read once, under
			// its first token; every decoded token reads them again.
			var readers []int
			readers = append(readers, 0)
			for tok := len(g.PromptTokens); tok < tokens; tok++ {
				readers = append(readers, tok)
			}
			for _, tok := range readers {
				for l := 0; l < m.Cfg.Layers; l++ {
					if got := ffn[[2]int{tok, l}]; got != wantPerLayer {
						t.Errorf("t%d chunk %d: token %d layer %d FFN bytes = %d, want %d", threads, chunk, tok, l, got, wantPerLayer)
					}
				}
			}
			tokens = len(readers)
			if len(ffn) != tokens*m.Cfg.Layers {
				t.Errorf("t%d chunk %d: FFN reads in %d (token, layer) pairs, want %d", threads, chunk, len(ffn), tokens*m.Cfg.Layers)
			}
		}
	}
}

// Every weight row of every matrix is read exactly once per token, by the
// thread llama.cpp's row split gives it, and gate/up events name the
// neurons whose rows they read.
func TestTraceRowsCoveredOncePerToken(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	const threads = 2
	var c trace.Capture
	g := generateTraced(t, m, 2, Options{Threads: threads, TraceChunk: -1, Sink: &c})
	// The first decoded token reads every matrix once.
	tok := uint32(len(g.PromptTokens))
	h := m.TraceHeader()
	seen := map[[2]uint64]int{}
	for _, e := range c.Events {
		if e.Tensor == trace.NoTensor || e.Token != tok {
			continue
		}
		sym := h.Tensors[e.Tensor]
		if e.Addr < sym.Offset || e.End() > sym.Offset+sym.Size {
			t.Fatalf("event %v outside tensor %s [%d, %d)", e, sym.Name, sym.Offset, sym.Offset+sym.Size)
		}
		if len(sym.Dims) == 2 && e.Op != trace.OpEmbed {
			rowBytes := sym.Size / sym.Dims[1]
			row := (e.Addr - sym.Offset) / rowBytes
			if e.Size != uint32(rowBytes) {
				t.Fatalf("event %v: size %d, want one row of %d bytes", e, e.Size, rowBytes)
			}
			lo, hi := split(int(sym.Dims[1]), threads, int(e.Thread))
			if int(row) < lo || int(row) >= hi {
				t.Errorf("%s row %d read by thread %d, which owns [%d, %d)", sym.Name, row, e.Thread, lo, hi)
			}
			if (e.Op == trace.OpFFNGate || e.Op == trace.OpFFNUp) && (e.NeuronLo != uint32(row) || e.NeuronHi != uint32(row)+1) {
				t.Errorf("%s row %d: neurons [%d, %d), want [%d, %d)", sym.Name, row, e.NeuronLo, e.NeuronHi, row, row+1)
			}
			if e.Op == trace.OpFFNDown && (e.NeuronLo != 0 || e.NeuronHi != uint32(m.Cfg.FF)) {
				t.Errorf("ffn_down row %d: neurons [%d, %d), want [0, %d)", row, e.NeuronLo, e.NeuronHi, m.Cfg.FF)
			}
			seen[[2]uint64{uint64(e.Tensor), row}]++
		}
	}
	for _, sym := range h.Tensors {
		if len(sym.Dims) != 2 || strings.HasPrefix(sym.Name, "token_embd") {
			continue
		}
		id := -1
		for i := range h.Tensors {
			if h.Tensors[i].Name == sym.Name {
				id = i
			}
		}
		for r := uint64(0); r < sym.Dims[1]; r++ {
			if n := seen[[2]uint64{uint64(id), r}]; n != 1 {
				t.Fatalf("%s row %d read %d times in token %d, want 1", sym.Name, r, n, tok)
			}
		}
	}
}

// Recording to an .etr file and reading it back gives exactly the events
// the engine emitted.
func TestTraceRecordRoundTrip(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	var c trace.Capture
	var buf bytes.Buffer
	h := m.TraceHeader()
	h.EdgeprofVersion = "test"
	h.Settings = map[string]string{"threads": "2"}
	w, err := trace.NewWriter(&buf, h, trace.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	generateTraced(t, m, 5, Options{Threads: 1, Sink: teeSink{&c, w}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := trace.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []trace.Event
	ev := make([]trace.Event, 1000)
	for {
		n, err := r.Next(ev)
		got = append(got, ev[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(c.Events) {
		t.Fatalf("read %d events, emitted %d", len(got), len(c.Events))
	}
	for i := range got {
		if got[i] != c.Events[i] {
			t.Fatalf("event %d = %v, emitted %v", i, got[i], c.Events[i])
		}
	}
	if bpe := float64(buf.Len()) / float64(len(got)); bpe > 4 {
		t.Errorf("%.2f bytes/event for a stories260K trace, want <= 4", bpe)
	}
}

// A trace must not change what the engine computes.
func TestTraceDoesNotChangeTokens(t *testing.T) {
	m := loadShared(t, "stories260K.gguf")
	var c trace.Capture
	a := generateTraced(t, m, 20, Options{Threads: 2, Sink: &c})
	b := generateTraced(t, m, 20, Options{Threads: 1})
	if !equalInt32(a.Tokens, b.Tokens) || len(c.Events) == 0 {
		t.Errorf("tokens with sink %v, without %v (%d events)", a.Tokens, b.Tokens, len(c.Events))
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
