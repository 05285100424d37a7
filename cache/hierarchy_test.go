package cache

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

func level(name string, size, ways int) Config {
	return Config{Name: name, SizeBytes: size, Ways: ways, LineBytes: 64, LatencyCycles: 1, Replacement: "lru", WriteAllocate: true}
}

func build(t *testing.T, mem Memory, levels ...Config) *Hierarchy {
	t.Helper()
	h, err := NewHierarchy(HierarchyConfig{Cores: 1, CyclePS: 1000, Levels: levels, Memory: mem})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// lines turns line numbers into 8-byte events of one kind.
func lines(k trace.Kind, ls ...uint64) []trace.Event {
	ev := make([]trace.Event, len(ls))
	for i, l := range ls {
		ev[i] = trace.Event{Addr: l * 64, Size: 8, Kind: k}
	}
	return ev
}

func contains(h *Hierarchy, lvl int, ls ...uint64) (present []bool) {
	for _, l := range ls {
		present = append(present, h.Level(lvl, 0).Contains(Addr(l*64)))
	}
	return present
}

func checkStat(t *testing.T, name string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", name, got, want)
	}
}

// TestWriteBackCounts: L1 one set of 2 ways, L2 one set of 4 ways.
// W A, W B fill both levels (A and B dirty in L1). R C evicts A (dirty):
// a write-back that hits L2. R D evicts B: second write-back. L2 now
// holds A B C D (A, B dirty) in fill order, untouched since (write-backs
// do not reorder); R E evicts A from L2: one write-back to memory. L1
// evicts C, clean.
func TestWriteBackCounts(t *testing.T) {
	mem := &fixedMemory{}
	h := build(t, mem, level("L1", 128, 2), level("L2", 256, 4))
	h.Run(lines(trace.Write, 1, 2))
	h.Run(lines(trace.Read, 3, 4, 5))
	s := h.Stats()
	checkStat(t, "L1 writebacks", s[0].Writebacks, 2)
	checkStat(t, "L1 write misses", s[0].WriteMisses, 2)
	checkStat(t, "L1 read misses", s[0].ReadMisses, 3)
	checkStat(t, "L2 write accesses (read-for-ownership)", s[1].WriteAccesses, 2)
	checkStat(t, "L2 writebacks", s[1].Writebacks, 1)
	checkStat(t, "L2 evictions", s[1].Evictions, 1)
	checkStat(t, "memory reads", mem.reads, 5)
	checkStat(t, "memory writes", mem.writes, 1)
	if !h.Level(1, 0).Dirty(2*64) || h.Level(1, 0).Contains(1*64) {
		t.Errorf("L2 after the run: B dirty = %v, A present = %v; want true, false", h.Level(1, 0).Dirty(2*64), h.Level(1, 0).Contains(1*64))
	}
}

// TestInclusiveBackInvalidation: L1 and an inclusive L2, one set of 2
// ways each. R A, R B, R A (the L1 hit does not reach L2, so L2's LRU
// line stays A). R C misses both; L2 evicts A and back-invalidates it in
// L1, so L1 fills C into A's way without evicting. W B; R D: L2 evicts
// B (LRU there), back-invalidating the dirty L1 copy, whose data L2
// writes to memory.
func TestInclusiveBackInvalidation(t *testing.T) {
	mem := &fixedMemory{}
	l2 := level("L2", 128, 2)
	l2.Inclusion = Inclusive
	h := build(t, mem, level("L1", 128, 2), l2)
	h.Run(lines(trace.Read, 1, 2, 1, 3))
	if got := contains(h, 0, 1, 2, 3); got[0] || !got[1] || !got[2] {
		t.Fatalf("L1 holds A, B, C = %v, want false, true, true", got)
	}
	s := h.Stats()
	checkStat(t, "L1 invalidations", s[0].Invalidations, 1)
	checkStat(t, "L1 evictions", s[0].Evictions, 0)
	checkStat(t, "L2 evictions", s[1].Evictions, 1)
	h.Run(lines(trace.Write, 2))
	h.Run(lines(trace.Read, 4))
	s = h.Stats()
	checkStat(t, "L1 invalidations", s[0].Invalidations, 2)
	checkStat(t, "L2 writebacks", s[1].Writebacks, 1)
	checkStat(t, "L1 writebacks", s[0].Writebacks, 0)
	checkStat(t, "memory writes", mem.writes, 1)
	if got := contains(h, 0, 2, 3, 4); got[0] || !got[1] || !got[2] {
		t.Errorf("L1 holds B, C, D = %v, want false, true, true", got)
	}

	// The same reads on a non-inclusive L2 keep A in L1.
	h = build(t, &fixedMemory{}, level("L1", 128, 2), level("L2", 128, 2))
	h.Run(lines(trace.Read, 1, 2, 1, 3))
	if got := contains(h, 0, 1, 2, 3); !got[0] || got[1] || !got[2] {
		t.Errorf("non-inclusive: L1 holds A, B, C = %v, want true, false, true", got)
	}
}

// TestExclusive: L2 is a victim cache (one set of 2 ways each). R A, R B
// fill only L1. R C evicts A into L2. R A hits L2, which hands A up and
// drops it; L1 evicts B into L2. W C, R D: L1 evicts A (clean) into L2,
// which now holds B and A. R E: L1 evicts dirty C into L2, which evicts
// B, never referenced there (an untouched eviction), and keeps C dirty.
func TestExclusive(t *testing.T) {
	mem := &fixedMemory{}
	l2 := level("L2", 128, 2)
	l2.Inclusion = Exclusive
	h := build(t, mem, level("L1", 128, 2), l2)
	h.Run(lines(trace.Read, 1, 2, 3))
	if got := contains(h, 1, 1, 2, 3); !got[0] || got[1] || got[2] {
		t.Fatalf("L2 holds A, B, C = %v, want true, false, false", got)
	}
	h.Run(lines(trace.Read, 1))
	s := h.Stats()
	checkStat(t, "L2 read accesses", s[1].ReadAccesses, 4)
	checkStat(t, "L2 read misses", s[1].ReadMisses, 3)
	if got := contains(h, 1, 1, 2); got[0] || !got[1] {
		t.Fatalf("after R A: L2 holds A, B = %v, want false, true", got)
	}
	h.Run(lines(trace.Write, 3))
	h.Run(lines(trace.Read, 4, 5))
	s = h.Stats()
	checkStat(t, "L2 untouched evictions", s[1].UntouchedEvictions, 1)
	checkStat(t, "L2 writebacks", s[1].Writebacks, 0)
	checkStat(t, "memory reads", mem.reads, 5)
	if !h.Level(1, 0).Dirty(3 * 64) {
		t.Error("L2 does not hold C dirty after L1 evicted it")
	}
	// Exclusion: no line in both levels.
	h.Level(0, 0).Lines(func(a Addr, _ bool) {
		if h.Level(1, 0).Contains(a) {
			t.Errorf("line %#x in both L1 and exclusive L2", a)
		}
	})
}

// TestWriteThroughNoAllocate: a write-through, no-write-allocate L1 over
// a write-back L2. W A misses L1 and allocates only in L2 (dirty). R A
// fills L1 clean. W A hits L1, stays clean there, and writes through.
func TestWriteThroughNoAllocate(t *testing.T) {
	mem := &fixedMemory{}
	l1 := level("L1", 128, 2)
	l1.Write, l1.WriteAllocate = WriteThrough, false
	h := build(t, mem, l1, level("L2", 256, 4))
	h.Run(lines(trace.Write, 1))
	if h.Level(0, 0).Contains(64) || !h.Level(1, 0).Dirty(64) {
		t.Fatalf("after W A: in L1 = %v, dirty in L2 = %v; want false, true", h.Level(0, 0).Contains(64), h.Level(1, 0).Dirty(64))
	}
	h.Run(lines(trace.Read, 1))
	h.Run(lines(trace.Write, 1))
	s := h.Stats()
	checkStat(t, "L1 write-throughs", s[0].WriteThroughs, 1)
	checkStat(t, "L1 write misses", s[0].WriteMisses, 1)
	checkStat(t, "L2 write accesses", s[1].WriteAccesses, 1)
	checkStat(t, "L2 write misses", s[1].WriteMisses, 1)
	checkStat(t, "memory reads", mem.reads, 1)
	if h.Level(0, 0).Dirty(64) {
		t.Error("write-through L1 holds a dirty line")
	}
}

// TestPrefetchMetrics: a 1-set, 2-way L1 with next-line prefetching over
// a large L2; 1 GHz, L1 1 cycle, L2 10 cycles, memory 100 ns.
//
//	R 0 (t=0): misses both levels, done at 1+10+100 ns = 111000 ps.
//	  Prefetch 1: issued, ready at 111000+10000+100000 = 221000.
//	R 1 (t=111000): hits the prefetched line at 112000 < 221000: useful
//	  and late; the core waits until 221000. Prefetch 2: issued; the set
//	  is full, LRU is 0, evicted by a prefetch fill (recorded).
//	R 0 (t=221000): misses L1, found in the record: a pollution miss. L2
//	  hit, done 232000. The fill evicts 1 (LRU). Prefetch 1: issued, hits
//	  L2; its fill evicts 2, prefetched and never used: useless.
func TestPrefetchMetrics(t *testing.T) {
	mem := &fixedMemory{latency: 100_000}
	l1 := level("L1", 128, 2)
	l1.Prefetcher = PrefetcherConfig{Name: "next-line"}
	l2 := level("L2", 4096, 4)
	l2.LatencyCycles = 10
	h := build(t, mem, l1, l2)
	h.Run(lines(trace.Read, 0, 1, 0))
	s := h.Stats()
	p := s[0].Prefetch
	checkStat(t, "L1 accesses", s[0].Accesses(), 3)
	checkStat(t, "L1 misses", s[0].Misses(), 2)
	checkStat(t, "issued", p.Issued, 3)
	checkStat(t, "dropped", p.Dropped, 0)
	checkStat(t, "useful", p.Useful, 1)
	checkStat(t, "late", p.Late, 1)
	checkStat(t, "useless", p.Useless, 1)
	checkStat(t, "pollution misses", p.PollutionMisses, 1)
	checkStat(t, "L1 untouched evictions", s[0].UntouchedEvictions, 1)
	checkStat(t, "L2 prefetch requests", s[1].PrefetchRequests, 3)
	checkStat(t, "L2 prefetch request misses", s[1].PrefetchRequestMisses, 2)
	checkStat(t, "L2 demand reads", s[1].ReadAccesses, 2)
	checkStat(t, "memory reads", mem.reads, 3)
	checkStat(t, "core time (ps)", h.Now(0), 232000)
	for _, m := range []struct {
		name string
		got  Ratio
		want float64
	}{{"accuracy", p.Accuracy(), 1.0 / 3}, {"lateness", p.Lateness(), 1}, {"pollution", s[0].Pollution(), 0.5}} {
		if !m.got.OK || m.got.Value != m.want {
			t.Errorf("%s = %v, want %v", m.name, m.got, m.want)
		}
	}
	if c := Coverage(1, 4); !c.OK || c.Value != 0.75 {
		t.Errorf("Coverage(1, 4) = %v, want 0.75", c)
	}
	if c := Coverage(0, 0); c.OK {
		t.Errorf("Coverage(0, 0) = %v, want undefined", c)
	}
}

// TestPrefetchDropped: next-line of degree 2 over a sequential walk
// within one page: every reference after the first proposes one line
// already present.
func TestPrefetchDropped(t *testing.T) {
	l1 := level("L1", 1024, 4)
	l1.Prefetcher = PrefetcherConfig{Name: "next-line", Degree: 2}
	h := build(t, &fixedMemory{}, l1, level("L2", 8192, 8))
	h.Run(lines(trace.Read, 0, 1, 2, 3))
	p := h.Stats()[0].Prefetch
	// R0: issue 1, 2. R1: 2 present (dropped), issue 3. R2: 3 dropped,
	// issue 4. R3: 4 dropped, issue 5.
	checkStat(t, "issued", p.Issued, 5)
	checkStat(t, "dropped", p.Dropped, 3)
	checkStat(t, "useful", p.Useful, 3)
	checkStat(t, "L1 misses", h.Stats()[0].Misses(), 1)
}

// TestStridePrefetcher: a stride of 3 lines is confirmed on the third
// reference, which then prefetches degree lines distance strides ahead.
func TestStridePrefetcher(t *testing.T) {
	pf, err := NewPrefetcher(PrefetcherConfig{Name: "stride", Degree: 2, Distance: 2}, 64)
	if err != nil {
		t.Fatal(err)
	}
	var got []Addr
	for _, l := range []uint64{0, 3, 6, 9} {
		got = pf.OnAccess(Access{Addr: Addr(l * 64)}, got[:0])
		if l == 6 {
			if len(got) != 2 || got[0] != 12*64 || got[1] != 15*64 {
				t.Fatalf("after 0,3,6: prefetch %v, want [%d %d]", got, 12*64, 15*64)
			}
		}
	}
	if len(got) != 2 || got[0] != 15*64 {
		t.Errorf("after 9: prefetch %v, want 15 and 18 (x64)", got)
	}
	// Stays inside the 4 KiB region: from line 60 with stride 3, line 66
	// would cross.
	pf, _ = NewPrefetcher(PrefetcherConfig{Name: "stride", Degree: 4, Distance: 1}, 64)
	for _, l := range []uint64{54, 57, 60} {
		got = pf.OnAccess(Access{Addr: Addr(l * 64)}, got[:0])
	}
	if len(got) != 1 || got[0] != 63*64 {
		t.Errorf("near the region end: prefetch %v, want only line 63", got)
	}
}

// TestHintPrefetcher: trace prefetch events become prefetches at a level
// with the hint prefetcher, and only there.
func TestHintPrefetcher(t *testing.T) {
	l2 := level("L2", 8192, 8)
	l2.Prefetcher = PrefetcherConfig{Name: "hint"}
	mem := &fixedMemory{}
	h := build(t, mem, level("L1", 1024, 4), l2)
	h.Run(lines(trace.Prefetch, 7, 8))
	h.Run(lines(trace.Read, 7, 9))
	s := h.Stats()
	checkStat(t, "L2 issued", s[1].Prefetch.Issued, 2)
	checkStat(t, "L2 useful", s[1].Prefetch.Useful, 1)
	checkStat(t, "L2 read misses", s[1].ReadMisses, 1)
	checkStat(t, "L1 read misses", s[0].ReadMisses, 2)
	checkStat(t, "memory reads", mem.reads, 3)
}

// TestSharedLevels: 4 cores, private L1s, an L2 shared by all. Each
// core's reads fill its own L1; a line read by core 0 is an L2 hit for
// core 3. Thread 5 runs on core 1.
func TestSharedLevels(t *testing.T) {
	l2 := level("L2", 8192, 8)
	l2.SharedBy = 4
	h, err := NewHierarchy(HierarchyConfig{Cores: 4, CyclePS: 1000, Memory: &fixedMemory{}, Levels: []Config{level("L1", 1024, 4), l2}})
	if err != nil {
		t.Fatal(err)
	}
	if h.Instances(0) != 4 || h.Instances(1) != 1 {
		t.Fatalf("instances = %d, %d, want 4, 1", h.Instances(0), h.Instances(1))
	}
	h.Run([]trace.Event{{Addr: 64, Size: 8, Thread: 0}, {Addr: 64, Size: 8, Thread: 3}, {Addr: 128, Size: 8, Thread: 5}})
	s := h.Stats()
	checkStat(t, "L1 misses (all cores)", s[0].Misses(), 3)
	checkStat(t, "L2 misses", s[1].Misses(), 2)
	if !h.Level(0, 1).Contains(128) || h.Level(0, 0).Contains(128) {
		t.Error("thread 5's line is not in core 1's L1 only")
	}
}

// TestStraddle: an event spanning k lines is k references.
func TestStraddle(t *testing.T) {
	h := build(t, &fixedMemory{}, level("L1", 1024, 4), level("L2", 8192, 8))
	h.Run([]trace.Event{{Addr: 60, Size: 8}, {Addr: 0, Size: 64 * 5}})
	s := h.Stats()
	checkStat(t, "L1 accesses", s[0].Accesses(), 2+5)
	checkStat(t, "L1 misses", s[0].Misses(), 5)
}

// TestTLB: a 2-entry fully associative TLB of 4 KiB pages.
func TestTLB(t *testing.T) {
	tlb := &TLBConfig{Entries: 2, Ways: 2, PageBytes: 4096}
	h, err := NewHierarchy(HierarchyConfig{Cores: 1, CyclePS: 1000, Memory: &fixedMemory{}, TLB: tlb, Levels: []Config{level("L1", 1024, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	// Pages 0, 0 (second line), 1, 2 (evicts 0), 0 (miss), 2 (hit).
	h.Run([]trace.Event{{Addr: 0, Size: 8}, {Addr: 64, Size: 8}, {Addr: 4096, Size: 8}, {Addr: 8192, Size: 8}, {Addr: 0, Size: 8}, {Addr: 8192, Size: 8}})
	s, ok := h.TLBStats()
	if !ok || s.Accesses != 6 || s.Misses != 4 {
		t.Errorf("TLB stats = %+v (present %v), want 6 accesses, 4 misses", s, ok)
	}
}

// refLevel is a naive LRU cache: each set a slice in MRU-first order,
// the textbook model Cachegrind implements. It is the reference for the
// differential test below.
type refLevel struct {
	sets [][]refLine
	ways int
	mask uint64
}

type refLine struct {
	ln    uint64
	dirty bool
}

func newRef(size, ways int) *refLevel {
	n := size / 64 / ways
	return &refLevel{sets: make([][]refLine, n), ways: ways, mask: uint64(n - 1)}
}

func (r *refLevel) find(ln uint64) (set, pos int) {
	set = int(ln & r.mask)
	for i, l := range r.sets[set] {
		if l.ln == ln {
			return set, i
		}
	}
	return set, -1
}

// ref touches ln; on a miss it inserts it and returns the evicted line.
func (r *refLevel) ref(ln uint64) (hit bool, ev refLine, evicted bool) {
	set, pos := r.find(ln)
	s := r.sets[set]
	if pos >= 0 {
		l := s[pos]
		copy(s[1:pos+1], s[:pos])
		s[0] = l
		return true, ev, false
	}
	if len(s) == r.ways {
		ev, evicted = s[len(s)-1], true
		s = s[:len(s)-1]
	}
	r.sets[set] = append([]refLine{{ln: ln}}, s...)
	return false, ev, evicted
}

func (r *refLevel) setDirty(ln uint64) bool {
	set, pos := r.find(ln)
	if pos >= 0 {
		r.sets[set][pos].dirty = true
	}
	return pos >= 0
}

// TestDifferentialLRU compares a two-level write-back, write-allocate,
// non-inclusive LRU hierarchy with the naive model on random traces.
func TestDifferentialLRU(t *testing.T) {
	geoms := []struct{ l1, w1, l2, w2 int }{{1024, 2, 4096, 4}, {512, 1, 2048, 8}, {2048, 4, 2048, 4}, {256, 4, 16384, 16}}
	for gi, g := range geoms {
		rng := rand.New(rand.NewPCG(uint64(gi), 9))
		mem := &fixedMemory{}
		h := build(t, mem, level("L1", g.l1, g.w1), level("L2", g.l2, g.w2))
		r1, r2 := newRef(g.l1, g.w1), newRef(g.l2, g.w2)
		var m1r, m1w, m2r, m2w, wb1, wb2, memW uint64
		var ev []trace.Event
		for i := 0; i < 20000; i++ {
			ln := uint64(rng.IntN(400))
			if rng.IntN(4) == 0 {
				ln += uint64(rng.IntN(1 << 20))
			}
			write := rng.IntN(3) == 0
			k := trace.Read
			if write {
				k = trace.Write
			}
			ev = append(ev, trace.Event{Addr: ln*64 + uint64(rng.IntN(8))*8, Size: 8, Kind: k})
			hit, victim, evicted := r1.ref(ln)
			if !hit {
				if write {
					m1w++
				} else {
					m1r++
				}
				hit2, v2, ev2 := r2.ref(ln)
				if !hit2 {
					if write {
						m2w++
					} else {
						m2r++
					}
				}
				if ev2 && v2.dirty {
					wb2++
					memW++
				}
				if evicted && victim.dirty {
					wb1++
					if !r2.setDirty(victim.ln) {
						memW++
					}
				}
			}
			if write {
				r1.setDirty(ln)
			}
		}
		h.Run(ev)
		s := h.Stats()
		checkStat(t, "L1 read misses", s[0].ReadMisses, m1r)
		checkStat(t, "L1 write misses", s[0].WriteMisses, m1w)
		checkStat(t, "L2 read misses", s[1].ReadMisses, m2r)
		checkStat(t, "L2 write misses", s[1].WriteMisses, m2w)
		checkStat(t, "L1 writebacks", s[0].Writebacks, wb1)
		checkStat(t, "L2 writebacks", s[1].Writebacks, wb2)
		checkStat(t, "memory writes", mem.writes, memW)
	}
}

// TestSimplePathMatchesGeneral: the fast paths (simpleMiss, the inline
// repeat hit in Run) give exactly the counters and times of the general
// path, for every policy, on a multi-core trace with straddles and
// writes.
func TestSimplePathMatchesGeneral(t *testing.T) {
	ev := randomTrace(11, 20000)
	for _, pol := range Policies() {
		cfg := HierarchyConfig{Cores: 4, CyclePS: 500, Levels: []Config{
			{Name: "L1", SizeBytes: 2048, Ways: 4, LineBytes: 64, LatencyCycles: 2, Replacement: pol, WriteAllocate: true},
			{Name: "L2", SizeBytes: 8192, Ways: 8, LineBytes: 64, LatencyCycles: 9, Replacement: pol, WriteAllocate: true, SharedBy: 2},
			{Name: "L3", SizeBytes: 32768, Ways: 16, LineBytes: 64, LatencyCycles: 30, Replacement: pol, WriteAllocate: true, SharedBy: 4},
		}}
		run := func(fast bool) (string, []uint64) {
			mem := &fixedMemory{latency: 80_000}
			cfg.Memory = mem
			h, err := NewHierarchy(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !h.simple || !fast {
				if fast {
					t.Fatalf("%s: hierarchy not simple", pol)
				}
				h.simple, h.repeatOK, h.lines, h.fast = false, false, false, false
			}
			h.Run(ev)
			return fmt.Sprint(h.Stats(), mem.reads, mem.writes), h.now
		}
		fs, ft := run(true)
		gs, gt := run(false)
		if fs != gs {
			t.Errorf("%s: fast and general paths differ:\n%s\n%s", pol, fs, gs)
		}
		if fmt.Sprint(ft) != fmt.Sprint(gt) {
			t.Errorf("%s: core times differ: %v vs %v", pol, ft, gt)
		}
	}
}
