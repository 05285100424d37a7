package trace

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestStatsEdgeAddresses(t *testing.T) {
	st := NewStats(StatsOptions{})
	st.Emit(Event{Addr: math.MaxUint64 - 63, Size: 1000, Tensor: NoTensor}) // clamped at 2^64
	st.Emit(Event{Addr: 5, Size: 0, Tensor: NoTensor})                      // invalid: no lines
	s := st.Summary()
	if s.Events != 2 || s.UniqueLines != 1 || s.UniquePages != 1 || s.Reuse.Accesses != 1 {
		t.Errorf("events %d, lines %d, pages %d, accesses %d; want 2, 1, 1, 1", s.Events, s.UniqueLines, s.UniquePages, s.Reuse.Accesses)
	}
}

func TestStatsHandComputed(t *testing.T) {
	// Lines accessed: 0, 1, 0, 2, 3, 0, 0 (the last event repeats line 0).
	// Distances: cold, cold, 1 ({1}), cold, cold, 2 ({2,3}), 0.
	ev := func(addr uint64, size uint32, op Op, layer int16, tok uint32) Event {
		return Event{Addr: addr, Size: size, Op: op, Layer: layer, Token: tok, Tensor: NoTensor}
	}
	events := []Event{
		ev(0, 64, OpFFNGate, 0, 0),
		ev(64, 64, OpFFNUp, 1, 0),
		ev(0, 8, OpAttnQ, 1, 1),
		ev(128, 128, OpFFNDown, NoLayer, 1),
		ev(60, 2, OpKVRead, 3, 1),
		ev(62, 2, OpKVRead, 3, 1),
	}
	st := NewStats(StatsOptions{})
	for _, e := range events {
		st.Emit(e)
	}
	s := st.Summary()
	if s.Events != 6 || s.Bytes != 268 || s.Tokens != 2 || s.UniqueLines != 4 || s.UniquePages != 1 {
		t.Errorf("totals = %d events, %d bytes, %d tokens, %d lines, %d pages; want 6, 268, 2, 4, 1", s.Events, s.Bytes, s.Tokens, s.UniqueLines, s.UniquePages)
	}
	wantReuse := ReuseHistogram{Accesses: 7, Cold: 4, Buckets: []uint64{1, 1, 1}}
	if s.Reuse == nil || s.Reuse.Accesses != wantReuse.Accesses || s.Reuse.Cold != wantReuse.Cold || !slices.Equal(s.Reuse.Buckets, wantReuse.Buckets) {
		t.Errorf("Reuse = %+v, want %+v", s.Reuse, wantReuse)
	}
	if got := s.Reuse.Misses(2); got != 5 { // cold 4 + the distance-2 access
		t.Errorf("Misses(2) = %d, want 5", got)
	}
	wantLayers := []LayerStats{
		{Layer: 0, Count: Count{1, 64}, FFNBytes: 64},
		{Layer: 1, Count: Count{2, 72}, FFNBytes: 64},
		{Layer: 2},
		{Layer: 3, Count: Count{2, 4}},
	}
	if !slices.Equal(s.ByLayer, wantLayers) {
		t.Errorf("ByLayer = %+v, want %+v", s.ByLayer, wantLayers)
	}
	if s.NoLayer != (Count{1, 128}) {
		t.Errorf("NoLayer = %+v, want {1 128}", s.NoLayer)
	}
	wantTokens := []TokenStats{{Token: 0, Count: Count{2, 128}, FFNBytes: 128}, {Token: 1, Count: Count{4, 140}, FFNBytes: 128}}
	if !slices.Equal(s.ByToken, wantTokens) {
		t.Errorf("ByToken = %+v, want %+v", s.ByToken, wantTokens)
	}
	if s.ByOp[OpKVRead] != (Count{2, 4}) || s.ByOp[OpFFNDown] != (Count{1, 128}) {
		t.Errorf("ByOp kv_read, ffn_down = %+v, %+v, want {2 4}, {1 128}", s.ByOp[OpKVRead], s.ByOp[OpFFNDown])
	}
}

// naiveReuse is the textbook LRU stack: the distance is the line's
// position from the top.
func naiveReuse(lines []uint64) ReuseHistogram {
	h := ReuseHistogram{Buckets: make([]uint64, 65)}
	var stack []uint64
	for _, l := range lines {
		h.Accesses++
		i := slices.Index(stack, l)
		if i < 0 {
			h.Cold++
		} else {
			d := uint64(i)
			b := 0
			for d>>b != 0 {
				b++
			}
			h.Buckets[b]++
			stack = slices.Delete(stack, i, i+1)
		}
		stack = slices.Insert(stack, 0, l)
	}
	n := len(h.Buckets)
	for n > 0 && h.Buckets[n-1] == 0 {
		n--
	}
	h.Buckets = h.Buckets[:n]
	return h
}

func TestReuseAgainstNaive(t *testing.T) {
	rng := newRand(11)
	for _, tc := range []struct {
		name     string
		accesses int
		lines    int
	}{
		{"few lines", 5000, 8},
		{"many lines", 5000, 4000},
		{"past a compaction", 200000, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := make([]uint64, tc.accesses)
			for i := range seq {
				// Skewed: a hot set plus a long tail, with repeats.
				if rng.IntN(3) == 0 && i > 0 {
					seq[i] = seq[i-1]
				} else {
					seq[i] = uint64(rng.IntN(tc.lines) * rng.IntN(3))
				}
			}
			st := NewStats(StatsOptions{})
			for _, l := range seq {
				st.Emit(Event{Addr: l << lineShift, Size: 1, Tensor: NoTensor})
			}
			got := *st.Summary().Reuse
			want := naiveReuse(seq)
			if got.Accesses != want.Accesses || got.Cold != want.Cold || !slices.Equal(got.Buckets, want.Buckets) {
				t.Errorf("reuse = %+v, want %+v", got, want)
			}
		})
	}
}

func TestUnitSetAgainstMap(t *testing.T) {
	rng := newRand(12)
	var u unitSet
	ref := map[uint64]bool{}
	for range 3000 {
		first := uint64(rng.IntN(1 << 14))
		if rng.IntN(10) == 0 {
			first = math.MaxUint64 - uint64(rng.IntN(9000))
		}
		n := uint64(rng.IntN(9000))
		last := first + n
		if last < first {
			last = math.MaxUint64
		}
		u.addRange(first, last)
		for x := first; ; x++ {
			ref[x] = true
			if x == last {
				break
			}
		}
	}
	if u.count != uint64(len(ref)) {
		t.Errorf("count = %d, want %d", u.count, len(ref))
	}
}

// TestStatsEngineDense is the acceptance check of issue 3 on the
// engine-like dense stream: every token reads each FFN tensor exactly
// once, so per-token FFN bytes equal the FFN tensors' total size, per
// layer too.
func TestStatsEngineDense(t *testing.T) {
	m := newEngineModel(tinyShape)
	const prompt, decode = 2, 3
	events := m.events(prompt, decode, 2)
	data := encode(t, m.h, events, WriterOptions{BlockEvents: 500})
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Collect(r, StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ffnTotal uint64
	for l := range tinyShape.nLayer {
		ffnTotal += m.ffnBytes(l)
	}
	if s.Events != uint64(len(events)) || s.Tokens != prompt+decode {
		t.Fatalf("events, tokens = %d, %d, want %d, %d", s.Events, s.Tokens, len(events), prompt+decode)
	}
	for _, ts := range s.ByToken {
		wantPhase := Prompt
		if ts.Token >= prompt {
			wantPhase = Decode
		}
		if ts.FFNBytes != ffnTotal || ts.Phase != wantPhase {
			t.Errorf("token %d: ffn bytes %d, phase %v, want %d, %v", ts.Token, ts.FFNBytes, ts.Phase, ffnTotal, wantPhase)
		}
	}
	for l, ls := range s.ByLayer {
		if want := (prompt + decode) * m.ffnBytes(l); ls.FFNBytes != want {
			t.Errorf("layer %d: ffn bytes %d, want %d", l, ls.FFNBytes, want)
		}
	}
	for _, ts := range s.ByTensor {
		name := m.h.Tensors[ts.Tensor].Name
		if strings.Contains(name, "ffn_") && !strings.Contains(name, "norm") {
			if want := (prompt + decode) * m.h.Tensors[ts.Tensor].Size; ts.Bytes != want {
				t.Errorf("tensor %s: %d bytes, want %d", name, ts.Bytes, want)
			}
		}
	}
	if s.UniqueLines != s.Reuse.Cold {
		t.Errorf("unique lines %d != cold accesses %d", s.UniqueLines, s.Reuse.Cold)
	}
	// Truncated: the good prefix and ErrTruncated.
	cut := data[:len(data)/2]
	r, err = NewReader(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Collect(r, StatsOptions{NoReuse: true})
	if !errors.Is(err, ErrTruncated) || p == nil || p.Events == 0 || p.Events >= s.Events || p.Reuse != nil {
		t.Errorf("Collect(truncated) = %v, %v; want a partial summary without reuse and ErrTruncated", p, err)
	}
}

func BenchmarkStats(b *testing.B) {
	events := streamNamed(b, "rows").events
	for _, reuse := range []bool{false, true} {
		name := "no-reuse"
		if reuse {
			name = "reuse"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := NewStats(StatsOptions{NoReuse: !reuse})
				for _, e := range events {
					st.Emit(e)
				}
				st.Summary()
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
