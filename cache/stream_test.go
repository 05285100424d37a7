package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

// fullLines is one 64-byte store event per line.
func fullLines(ls ...uint64) []trace.Event {
	ev := make([]trace.Event, len(ls))
	for i, l := range ls {
		ev[i] = trace.Event{Addr: l * 64, Size: 64, Kind: trace.Write}
	}
	return ev
}

func span(first, n uint64) []uint64 {
	ls := make([]uint64, n)
	for i := range ls {
		ls[i] = first + uint64(i)
	}
	return ls
}

func concat(evs ...[]trace.Event) []trace.Event {
	var out []trace.Event
	for _, e := range evs {
		out = append(out, e...)
	}
	return out
}

// TestWriteStreaming checks hand-computed cases on one core: L1 (16
// lines) streams from the 4th line of a run, L2 (256 lines, room for
// everything) from the 8th. A line L1 allocates is fetched through L2
// (a memory read, filled in both); a line only L1 streams is written to
// L2, which allocates it (a memory read); a line both stream is written
// to memory.
func TestWriteStreaming(t *testing.T) {
	tests := []struct {
		name       string
		ev         []trace.Event
		l1Stream   uint64 // L1 StreamingStores
		l2Stream   uint64
		reads      uint64 // memory reads (fills for stores, loads)
		writes     uint64 // memory writes
		l1Present  []uint64
		l1Absent   []uint64
		l2Absent   []uint64
		l2Accesses uint64
	}{
		{
			// Runs 1..12: L1 streams runs 4..12 (9 lines), L2 runs 8..12 (5).
			// Reads: 3 lines allocated in L1 + 4 allocated by L2 alone.
			name: "twelve one-line stores", ev: fullLines(span(100, 12)...),
			l1Stream: 9, l2Stream: 5, reads: 7, writes: 5,
			l1Present: []uint64{100, 101, 102}, l1Absent: []uint64{103, 111}, l2Absent: []uint64{107, 111},
			l2Accesses: 12,
		},
		{
			name: "one twelve-line store", ev: []trace.Event{{Addr: 100 * 64, Size: 12 * 64, Kind: trace.Write}},
			l1Stream: 9, l2Stream: 5, reads: 7, writes: 5,
			l1Present: []uint64{100, 101, 102}, l1Absent: []uint64{103, 111}, l2Absent: []uint64{107, 111},
			l2Accesses: 12,
		},
		{
			// Line 100 partial (run 0), 101..111 full (runs 1..11), 112
			// partial: L1 streams runs 4..11 (104..111), L2 runs 8..11
			// (108..111). Reads: 100..103 and 112 through L1, 104..107 by L2.
			name: "unaligned store", ev: []trace.Event{{Addr: 100*64 + 8, Size: 12 * 64, Kind: trace.Write}},
			l1Stream: 8, l2Stream: 4, reads: 9, writes: 4,
			l1Present: []uint64{100, 103, 112}, l1Absent: []uint64{104, 111}, l2Absent: []uint64{108, 111},
			l2Accesses: 13,
		},
		{
			name: "every other line", ev: fullLines(100, 102, 104, 106, 108, 110, 112, 114),
			reads: 8, l1Present: []uint64{100, 114}, l2Accesses: 8,
		},
		{
			// A partial store ends the run: runs 1..6, then 1..6 again; L1
			// streams runs 4..6 twice. Reads: 6 + the partial line through
			// L1, 6 allocated by L2.
			name:     "partial store in between",
			ev:       concat(fullLines(span(100, 6)...), lines(trace.Write, 300), fullLines(span(106, 6)...)),
			l1Stream: 6, reads: 13, l1Present: []uint64{102, 106, 108, 300}, l1Absent: []uint64{103, 105, 109, 111},
			l2Accesses: 13,
		},
		{
			// A load of the run's last line ends it: as above without the
			// partial store; the load of 105 misses L1 and hits L2.
			name:     "load of the last line",
			ev:       concat(fullLines(span(100, 6)...), lines(trace.Read, 105), fullLines(span(106, 6)...)),
			l1Stream: 6, reads: 12, l1Present: []uint64{100, 105, 106}, l1Absent: []uint64{103, 109, 111},
			l2Accesses: 13,
		},
		{
			// A load of another line leaves the run alone: runs 1..12.
			name:     "load of another line",
			ev:       concat(fullLines(span(100, 6)...), lines(trace.Read, 50), fullLines(span(106, 6)...)),
			l1Stream: 9, l2Stream: 5, reads: 8, writes: 5, l1Present: []uint64{50, 102}, l1Absent: []uint64{103},
			l2Accesses: 13,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := &fixedMemory{}
			l1 := level("L1", 1024, 2)
			l1.WriteStreaming.AfterLines = 4
			l2 := level("L2", 16384, 4)
			l2.WriteStreaming.AfterLines = 8
			h := build(t, mem, l1, l2)
			if h.fast || h.simple {
				t.Fatalf("fast %v, simple %v with write streaming, want the general path", h.fast, h.simple)
			}
			h.Run(tc.ev)
			s := h.Stats()
			checkStat(t, "L1 StreamingStores", s[0].StreamingStores, tc.l1Stream)
			checkStat(t, "L2 StreamingStores", s[1].StreamingStores, tc.l2Stream)
			checkStat(t, "memory reads", mem.reads, tc.reads)
			checkStat(t, "memory writes", mem.writes, tc.writes)
			checkStat(t, "L2 accesses", s[1].Accesses(), tc.l2Accesses)
			for _, ln := range tc.l1Present {
				if !h.Level(0, 0).Contains(Addr(ln * 64)) {
					t.Errorf("L1 lacks line %d", ln)
				}
			}
			for _, ln := range tc.l1Absent {
				if h.Level(0, 0).Contains(Addr(ln * 64)) {
					t.Errorf("L1 holds streamed line %d", ln)
				}
			}
			for _, ln := range tc.l2Absent {
				if h.Level(1, 0).Contains(Addr(ln * 64)) {
					t.Errorf("L2 holds streamed line %d", ln)
				}
			}
			checkInvariants(t, h)
		})
	}
}

// TestStoreAllocates: the question a timing model asks while a store is
// served follows the core's run, per core.
func TestStoreAllocates(t *testing.T) {
	l1 := level("L1", 1024, 2)
	l1.WriteStreaming.AfterLines = 2
	l2 := level("L2", 16384, 4)
	l2.WriteStreaming.AfterLines = 3
	l3 := level("L3", 65536, 4)
	l3.WriteAllocate = false
	h, err := NewHierarchy(HierarchyConfig{Cores: 2, CyclePS: 1000, Levels: []Config{l1, l2, l3}, Memory: &fixedMemory{}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, core int, want [3]bool) {
		t.Helper()
		for i := range want {
			if got := h.StoreAllocates(core, i); got != want[i] {
				t.Errorf("%s: StoreAllocates(%d, %d) = %v, want %v", when, core, i, got, want[i])
			}
		}
	}
	check("start", 0, [3]bool{true, true, false})
	h.Run(fullLines(10))
	check("run 1", 0, [3]bool{true, true, false})
	h.Run(fullLines(11))
	check("run 2", 0, [3]bool{false, true, false})
	check("other core", 1, [3]bool{true, true, false})
	h.Run(fullLines(12))
	check("run 3", 0, [3]bool{false, false, false})
	h.Store(0, Addr(13*64))
	check("after a partial store", 0, [3]bool{true, true, false})
}

// streamTrace mixes randomTrace's events with sequential full-line store
// runs of random lengths from several threads, some of them unaligned.
func streamTrace(seed uint64, n int) []trace.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	ev := randomTrace(seed, n)
	var out []trace.Event
	next := [5]uint64{1 << 20, 2 << 20, 3 << 20, 4 << 20, 5 << 20}
	for _, e := range ev {
		out = append(out, e)
		if rng.IntN(8) != 0 {
			continue
		}
		th := rng.IntN(5)
		k := 1 + rng.IntN(40)
		off := uint64(0)
		if rng.IntN(4) == 0 {
			off = uint64(rng.IntN(64))
		}
		if rng.IntN(2) == 0 {
			out = append(out, trace.Event{Addr: next[th] + off, Size: uint32(64 * k), Kind: trace.Write, Thread: uint8(th)})
		} else {
			for i := 0; i < k; i++ {
				out = append(out, trace.Event{Addr: next[th] + uint64(64*i) + off, Size: 64, Kind: trace.Write, Thread: uint8(th)})
			}
		}
		next[th] += uint64(64 * k)
	}
	return out
}

// TestWriteStreamingConformance runs write-streaming levels with every
// policy and inclusion through the invariants, and checks that streaming
// happened and that runs are reproducible.
func TestWriteStreamingConformance(t *testing.T) {
	ev := streamTrace(11, 3000)
	incl := []Inclusion{NonInclusive, Inclusive, Exclusive}
	for _, pol := range Policies() {
		for _, i2 := range incl {
			for _, i3 := range incl {
				t.Run(fmt.Sprintf("%s/L2-%v/L3-%v", pol, i2, i3), func(t *testing.T) {
					l1 := Config{Name: "L1", SizeBytes: 2048, Ways: 4, LineBytes: 64, LatencyCycles: 2, Replacement: pol, WriteAllocate: true, WriteStreaming: WriteStreaming{AfterLines: 3}}
					l2 := Config{Name: "L2", SizeBytes: 8192, Ways: 8, LineBytes: 64, LatencyCycles: 9, Replacement: pol, WriteAllocate: true, Inclusion: i2, SharedBy: 2, WriteStreaming: WriteStreaming{AfterLines: 6}, Prefetcher: PrefetcherConfig{Name: "next-line"}}
					l3 := Config{Name: "L3", SizeBytes: 32768, Ways: 16, LineBytes: 64, LatencyCycles: 30, Replacement: pol, WriteAllocate: true, Inclusion: i3, SharedBy: 4, WriteStreaming: WriteStreaming{AfterLines: 20}}
					cfg := HierarchyConfig{Cores: 4, CyclePS: 400, Levels: []Config{l1, l2, l3}, Memory: &logMemory{}}
					h, err := NewHierarchy(cfg)
					if err != nil {
						t.Fatal(err)
					}
					h.Run(ev)
					checkInvariants(t, h)
					s := h.Stats()
					if s[0].StreamingStores == 0 {
						t.Errorf("L1 StreamingStores = 0, want > 0 on a trace of store runs")
					}
					if i2 != Exclusive && s[1].StreamingStores == 0 {
						t.Errorf("L2 StreamingStores = 0, want > 0")
					}
					if i2 == Exclusive && s[1].StreamingStores != 0 {
						t.Errorf("exclusive L2 StreamingStores = %d, want 0 (it never allocates stores)", s[1].StreamingStores)
					}
					mem2 := &logMemory{}
					cfg.Memory = mem2
					h2, _ := NewHierarchy(cfg)
					h2.Run(ev)
					if a, b := snapshot(h, h.cfg.Memory.(*logMemory)), snapshot(h2, mem2); a != b {
						t.Errorf("two runs differ")
					}
				})
			}
		}
	}
}

// TestWriteStreamingNeverReached: with thresholds no run reaches, a
// write-streaming hierarchy gives exactly what the same hierarchy
// without write streaming gives on its general path — counters, times,
// contents and memory requests — so the detector changes nothing but
// the allocation of streamed lines. Configurations as in
// TestFastPathDifferential, both inside and outside the fast path's
// domain.
func TestWriteStreamingNeverReached(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	incl := []Inclusion{NonInclusive, Inclusive, Exclusive}
	for trial := 0; trial < 60; trial++ {
		cores := 1 + rng.IntN(4)
		n := 1 + rng.IntN(3)
		var levels []Config
		shared := 1
		for i := 0; i < n; i++ {
			w := []int{1, 2, 4, 8}[rng.IntN(4)]
			c := Config{
				Name: fmt.Sprintf("L%d", i+1), SizeBytes: (1 << rng.IntN(5)) * w * 64, Ways: w, LineBytes: 64,
				LatencyCycles: 1 + rng.IntN(12), Replacement: "lru", WriteAllocate: true, Seed: uint64(trial),
			}
			if i > 0 && rng.IntN(2) == 0 {
				shared *= 2
			}
			c.SharedBy = shared
			if trial%2 == 1 {
				c.Replacement = Policies()[rng.IntN(len(Policies()))]
				if c.Replacement == "plru" && w&(w-1) != 0 {
					c.Replacement = "lru"
				}
				if i > 0 {
					c.Inclusion = incl[rng.IntN(3)]
				}
				c.WriteAllocate = rng.IntN(4) != 0
			}
			levels = append(levels, c)
		}
		ev := streamTrace(rng.Uint64(), 1500)
		var got, want string
		for _, streaming := range []bool{true, false} {
			c := HierarchyConfig{Cores: cores, CyclePS: 400, Levels: append([]Config(nil), levels...)}
			if streaming {
				for i := range c.Levels {
					c.Levels[i].WriteStreaming.AfterLines = maxStreamLines
				}
			}
			mem := &logMemory{}
			c.Memory = mem
			h, err := NewHierarchy(c)
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			generalOnly(h)
			replay(h, rand.New(rand.NewPCG(uint64(trial), 3)), ev)
			if streaming {
				got = snapshot(h, mem)
			} else {
				want = snapshot(h, mem)
			}
		}
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			i := 0
			for i < min(len(gl), len(wl)) && gl[i] == wl[i] {
				i++
			}
			t.Fatalf("trial %d: unreached write streaming changed the run at line %d:\n got %s\nwant %s", trial, i, gl[min(i, len(gl)-1)], wl[min(i, len(wl)-1)])
		}
	}
}

func TestWriteStreamingConfigErrors(t *testing.T) {
	good := Config{Name: "L1", SizeBytes: 32768, Ways: 4, LineBytes: 64, Replacement: "lru", WriteAllocate: true}
	for _, n := range []int{-1, maxStreamLines + 1} {
		c := good
		c.WriteStreaming.AfterLines = n
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "write_streaming.after_lines" {
			t.Errorf("Validate(after_lines %d) = %v, want an error in write_streaming.after_lines", n, err)
		}
	}
	c := good
	c.WriteStreaming.AfterLines = 4
	_, err := NewHierarchy(HierarchyConfig{Cores: 1, CyclePS: 1, Memory: &fixedMemory{}, Levels: []Config{c}, Straddle: StraddleCachegrind})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "straddle" {
		t.Errorf("cachegrind straddle with write streaming: %v, want an error in straddle", err)
	}
}
