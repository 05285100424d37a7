package cache

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

// memCall is one request a hierarchy made of its memory.
type memCall struct {
	addr uint64
	size uint32
	kind trace.Kind
	core int
	now  uint64
}

// logMemory records every request and answers with a latency that
// depends on the address and kind, so that a path which asked at another
// time or in another order would drift.
type logMemory struct{ calls []memCall }

func (m *logMemory) Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) uint64 {
	m.calls = append(m.calls, memCall{addr, size, kind, core, now})
	if kind == trace.Write {
		return now + 700
	}
	return now + 40_000 + addr%7*1000
}

// generalOnly makes h take the general path everywhere, the reference
// that every specialized path must match.
func generalOnly(h *Hierarchy) {
	h.fast, h.simple, h.repeatOK, h.lines = false, false, false, false
}

// snapshot is everything a run can be observed by: counters, TLB
// counters, per-core times, every tag word (line, valid and dirty flags,
// in set and way order; for an inline-lru level in recency order, which
// is what LRU keeps — the recency-order loops move lines between ways) and the memory
// requests with their times.
func snapshot(h *Hierarchy, mem *logMemory) string {
	var b strings.Builder
	fmt.Fprintln(&b, h.Stats())
	if ts, ok := h.TLBStats(); ok {
		fmt.Fprintln(&b, "tlb", ts)
	}
	fmt.Fprintln(&b, "now", h.now)
	for i := 0; i < h.Levels(); i++ {
		for j := 0; j < h.Instances(i); j++ {
			l := h.Level(i, j)
			fmt.Fprintf(&b, "%s[%d]", l.cfg.Name, j)
			for set := 0; set < l.sets; set++ {
				fmt.Fprintf(&b, " %x", recencyOrder(l, set))
			}
			fmt.Fprintln(&b)
		}
	}
	for _, c := range mem.calls {
		fmt.Fprintln(&b, c)
	}
	return b.String()
}

// recencyOrder returns the tag words of a set: in way order, or for an
// inline-lru level newest stamp first.
func recencyOrder(l *Level, set int) []uint64 {
	b := set * l.stride
	words := append([]uint64(nil), l.tags[b:b+l.ways]...)
	if !l.inlineLRU {
		return words
	}
	stamps := l.tags[b+l.ways : b+2*l.ways]
	ways := make([]int, l.ways)
	for i := range ways {
		ways[i] = i
	}
	slices.SortFunc(ways, func(x, y int) int { return cmp.Compare(stamps[y], stamps[x]) })
	for i, w := range ways {
		words[i] = l.tags[b+w]
	}
	return words
}

// diffTrace makes n events with the features that select paths: several
// threads, one to a few lines, reads, writes and hints, hot lines, a
// sequential stream and a large random range.
func diffTrace(rng *rand.Rand, n, threads int) []trace.Event {
	ev := make([]trace.Event, n)
	var seq uint64
	for i := range ev {
		var addr uint64
		switch rng.IntN(4) {
		case 0:
			addr = uint64(rng.IntN(40)) * 64 // hot
		case 1:
			seq += 8
			addr = 1<<20 + seq
		default:
			addr = uint64(rng.IntN(1 << 18))
		}
		size := uint32(8)
		switch rng.IntN(16) {
		case 0, 1:
			size = uint32(1 + rng.IntN(300))
		case 2:
			size = uint32(4000 + rng.IntN(200)) // around the fast path's 65-line limit
		case 3:
			size = 1
		case 4:
			size = 0
		case 5:
			size = 64
		}
		k := trace.Read
		switch rng.IntN(10) {
		case 0, 1, 2:
			k = trace.Write
		case 3:
			if rng.IntN(4) == 0 {
				k = trace.Prefetch
			}
		}
		ev[i] = trace.Event{Addr: addr, Size: size, Kind: k, Thread: uint8(rng.IntN(threads))}
	}
	// Runs of one thread, as engines emit them.
	for i := 0; i+8 < n; i += 50 {
		for j := i + 1; j < i+8; j++ {
			ev[j].Thread = ev[i].Thread
		}
	}
	return ev
}

// replay feeds ev to h in chunks of random length, with single Load,
// Store and Hint calls in between.
func replay(h *Hierarchy, rng *rand.Rand, ev []trace.Event) {
	for len(ev) > 0 {
		k := min(len(ev), 1+rng.IntN(700))
		h.Run(ev[:k])
		ev = ev[k:]
		a := Addr(rng.IntN(1 << 18))
		switch rng.IntN(3) {
		case 0:
			h.Load(rng.IntN(8), a)
		case 1:
			h.Store(rng.IntN(8), a)
		default:
			h.Hint(rng.IntN(8), a)
		}
	}
}

// TestFastPathDifferential: every specialized path (the fast path of
// fast.go, simpleMiss, runLines, the inline repeat hit) gives exactly
// what the general path gives — counters, times, cache contents and the
// memory requests with their times — on random configurations over every
// policy, inclusion, write policy, sharing, TLB, prefetcher and
// associativity, and random traces replayed in random chunks.
func TestFastPathDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	incl := []Inclusion{NonInclusive, Inclusive, Exclusive}
	ways := []int{1, 2, 4, 8, 12, 16}
	var fastRuns int
	for trial := 0; trial < 300; trial++ {
		// Half the trials are in the fast path's domain.
		fastDomain := trial%2 == 0
		cores := 1 + rng.IntN(4)
		line := []int{32, 64, 128}[rng.IntN(3)]
		if rng.IntN(2) == 0 {
			line = 64
		}
		n := 1 + rng.IntN(3)
		var levels []Config
		shared := 1
		for i := 0; i < n; i++ {
			w := ways[rng.IntN(len(ways))]
			sets := 1 << rng.IntN(5)
			c := Config{
				Name: fmt.Sprintf("L%d", i+1), SizeBytes: sets * w * line, Ways: w, LineBytes: line,
				LatencyCycles: 1 + rng.IntN(12), Replacement: "lru", WriteAllocate: true,
				Seed: uint64(trial),
			}
			if i > 0 && rng.IntN(2) == 0 {
				shared *= 1 + rng.IntN(2)
			}
			c.SharedBy = shared
			if !fastDomain {
				c.Replacement = Policies()[rng.IntN(len(Policies()))]
				if i > 0 {
					c.Inclusion = incl[rng.IntN(3)]
				}
				if rng.IntN(4) == 0 {
					c.Write = WriteThrough
				}
				c.WriteAllocate = rng.IntN(4) != 0
				if rng.IntN(4) == 0 {
					c.Prefetcher = PrefetcherConfig{Name: Prefetchers()[rng.IntN(len(Prefetchers()))]}
				}
			}
			if c.Replacement == "plru" && w&(w-1) != 0 {
				c.Replacement = "lru"
			}
			levels = append(levels, c)
		}
		cfg := HierarchyConfig{Cores: cores, CyclePS: 1 + uint64(rng.IntN(900)), Levels: levels}
		if !fastDomain && rng.IntN(3) == 0 {
			cfg.TLB = &TLBConfig{Entries: 8, Ways: 2, PageBytes: 4096}
		}
		seed := rng.Uint64()
		ev := diffTrace(rand.New(rand.NewPCG(seed, 1)), 3000, 1+rng.IntN(6))
		var got, want string
		for _, general := range []bool{false, true} {
			mem := &logMemory{}
			c := cfg
			c.Memory = mem
			h, err := NewHierarchy(c)
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if general {
				generalOnly(h)
				replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
				want = snapshot(h, mem)
			} else {
				if fastDomain && !h.fast {
					t.Fatalf("trial %d: fast = false, want true", trial)
				}
				if h.fast {
					fastRuns++
				}
				replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
				got = snapshot(h, mem)
			}
		}
		if got == want && trial%10 == 0 {
			// The signatures stayed in step with the tags.
			mem := &logMemory{}
			c := cfg
			c.Memory = mem
			h, _ := NewHierarchy(c)
			replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
			checkInvariants(t, h)
		}
		if got != want {
			i, g, w := firstDiff(got, want)
			t.Fatalf("trial %d (%+v): specialized and general paths differ at line %d:\n got %s\nwant %s", trial, cfg, i, g, w)
		}
	}
	if fastRuns == 0 {
		t.Error("no trial took the fast path")
	}
}

// TestFastPathChoice: the fast path is chosen exactly for hierarchies of
// lru, non-inclusive, write-back, write-allocate levels with a private
// first level, no prefetcher and no TLB, counted per line.
func TestFastPathChoice(t *testing.T) {
	base := func() HierarchyConfig {
		return HierarchyConfig{Cores: 2, CyclePS: 400, Memory: &fixedMemory{}, Levels: []Config{
			{Name: "L1", SizeBytes: 4096, Ways: 4, LineBytes: 64, Replacement: "lru", WriteAllocate: true},
			{Name: "L2", SizeBytes: 16384, Ways: 8, LineBytes: 64, Replacement: "lru", WriteAllocate: true, SharedBy: 2},
		}}
	}
	for _, tc := range []struct {
		name string
		edit func(*HierarchyConfig)
		fast bool
	}{
		{"lru", func(*HierarchyConfig) {}, true},
		{"plru L2", func(c *HierarchyConfig) { c.Levels[1].Replacement = "plru" }, false},
		{"inclusive L2", func(c *HierarchyConfig) { c.Levels[1].Inclusion = Inclusive }, false},
		{"write-through L1", func(c *HierarchyConfig) { c.Levels[0].Write = WriteThrough }, false},
		{"no write-allocate L2", func(c *HierarchyConfig) { c.Levels[1].WriteAllocate = false }, false},
		{"prefetcher", func(c *HierarchyConfig) { c.Levels[1].Prefetcher = PrefetcherConfig{Name: "next-line"} }, false},
		{"tlb", func(c *HierarchyConfig) { c.TLB = &TLBConfig{Entries: 16, Ways: 4, PageBytes: 4096} }, false},
		{"cachegrind straddle", func(c *HierarchyConfig) { c.Straddle = StraddleCachegrind }, false},
		{"shared L1", func(c *HierarchyConfig) { c.Levels[0].SharedBy = 2; c.Levels[1].SharedBy = 2 }, false},
		{"more than 256 ways", func(c *HierarchyConfig) { c.Levels[1].Ways = 512; c.Levels[1].SizeBytes = 512 * 64 }, false},
	} {
		cfg := base()
		tc.edit(&cfg)
		h, err := NewHierarchy(cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if h.fast != tc.fast {
			t.Errorf("%s: fast = %v, want %v", tc.name, h.fast, tc.fast)
		}
	}
}

// TestSignatureClear: invalidating lines (which the fast path never does,
// but the general path may) keeps the signatures in step, and lines that
// share a lane are told apart by their tags.
func TestSignatureClear(t *testing.T) {
	for _, ways := range []int{4, 8} {
		h, err := NewHierarchy(HierarchyConfig{Cores: 1, CyclePS: 1, Memory: &fixedMemory{}, Levels: []Config{
			{Name: "L1", SizeBytes: 4 * 64 * ways, Ways: ways, LineBytes: 64, Replacement: "lru", WriteAllocate: true},
		}})
		if err != nil || !h.fast {
			t.Fatalf("%d ways: fast = %v, error %v", ways, h.fast, err)
		}
		l := h.Level(0, 0)
		// Lines of set 0 whose lanes collide with line 0's.
		lane := lane16
		if ways == 8 {
			lane = lane8
		}
		var same []uint64
		for ln := uint64(4); len(same) < 2; ln += 4 {
			if lane(ln|fValid) == lane(fValid) {
				same = append(same, ln)
			}
		}
		// 0 and same[0] in, then hits on both (their lanes match the
		// other's too), then same[1]: a miss though its lane matches.
		h.Run(lines(trace.Read, 0, same[0], 4, 8))
		h.Run(lines(trace.Read, same[0], 0, same[0], 0))
		checkStat(t, "misses after hits on lines sharing a lane", h.Stats()[0].Misses(), 4)
		h.Run(lines(trace.Read, same[1]))
		checkStat(t, "misses after a line sharing their lane", h.Stats()[0].Misses(), 5)
		for set := 0; set < l.sets; set++ {
			checkSig(t, l, set)
		}
		for w := 0; w < ways; w += 2 {
			l.clear(0, w)
		}
		for set := 0; set < l.sets; set++ {
			checkSig(t, l, set)
		}
	}
}

// TestFastLoopsDifferential: the loops for a 4-way first level and an
// 8-way second level of 64-byte lines on one core (firstRun4, lower2Run
// and lower2Slow, in assembly where there is some and in Go) give what
// the general path gives, on small caches where lines share lanes and
// dirty victims are common.
func TestFastLoopsDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	defer func(u bool) { useAsm = u }(useAsm)
	for trial := 0; trial < 60; trial++ {
		sets1, sets2 := 1<<rng.IntN(9), 1<<rng.IntN(11)
		cfg := HierarchyConfig{Cores: 1, CyclePS: 1 + uint64(rng.IntN(900)), Levels: []Config{
			{Name: "L1", SizeBytes: sets1 * 4 * 64, Ways: 4, LineBytes: 64, LatencyCycles: 1 + rng.IntN(5), Replacement: "lru", WriteAllocate: true},
			{Name: "L2", SizeBytes: sets2 * 8 * 64, Ways: 8, LineBytes: 64, LatencyCycles: 1 + rng.IntN(20), Replacement: "lru", WriteAllocate: true},
		}}
		seed := rng.Uint64()
		ev := diffTrace(rand.New(rand.NewPCG(seed, 1)), 5000, 1)
		// Mostly one-line references over a range the caches cannot hold,
		// and a few events that run past the top of the address space.
		for i := range ev {
			if rng.IntN(100) == 0 {
				ev[i].Addr, ev[i].Size = ^uint64(0)-uint64(rng.IntN(300)), uint32(1+rng.IntN(4096))
				continue
			}
			if rng.IntN(4) != 0 {
				ev[i].Addr, ev[i].Size = uint64(rng.IntN(1<<22)), 8
				if trial%2 == 1 && i/300%2 == 0 {
					// Phases of hits, for the switch between one pass
					// and two (fused2Run, twoPass).
					ev[i].Addr = uint64(rng.IntN(2048))
				}
				if rng.IntN(3) == 0 {
					ev[i].Kind = trace.Write
				} else {
					ev[i].Kind = trace.Read
				}
			}
		}
		var want string
		for _, path := range []string{"general", "go", "asm"} {
			mem := &logMemory{}
			c := cfg
			c.Memory = mem
			h, err := NewHierarchy(c)
			if err != nil {
				t.Fatal(err)
			}
			if !h.fast || !h.lower2OK() {
				t.Fatalf("trial %d: fast %v, lower2 %v, want both", trial, h.fast, h.lower2OK())
			}
			if !selectPath(h, path) {
				continue
			}
			replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
			got := snapshot(h, mem)
			if path == "general" {
				want = got
				continue
			}
			checkInvariants(t, h)
			if got != want {
				i, g, w := firstDiff(got, want)
				t.Fatalf("trial %d, %s loops (%d and %d sets): differ from the general path at line %d:\n got %s\nwant %s", trial, path, sets1, sets2, i, g, w)
			}
		}
		// The same over a FixedLatency memory, which the loops book in
		// batches and the general path calls request by request.
		want = ""
		for _, path := range []string{"general", "go", "asm"} {
			mem := &bookMemory{latency: 40_000 + uint64(trial)}
			c := cfg
			c.Memory = mem
			h, err := NewHierarchy(c)
			if err != nil {
				t.Fatal(err)
			}
			if !selectPath(h, path) {
				continue
			}
			replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
			got := snapshot(h, &logMemory{}) + fmt.Sprintf("memory %d reads %d writes %d+%d bytes", mem.reads, mem.writes, mem.readBytes, mem.writeBytes)
			if path == "general" {
				if mem.booked != 0 {
					t.Fatalf("trial %d: the general path booked %d batches, want none", trial, mem.booked)
				}
				want = got
				continue
			}
			if mem.booked == 0 {
				t.Fatalf("trial %d, %s loops: no batch booked", trial, path)
			}
			if got != want {
				t.Fatalf("trial %d, %s loops over a FixedLatency memory:\n got %s\nwant %s", trial, path, got, want)
			}
		}
	}
}

// selectPath makes h take the general path ("general") or the fast
// path's Go or assembly loops ("go", "asm"); false if this machine has
// no assembly loops.
func selectPath(h *Hierarchy, path string) bool {
	switch path {
	case "general":
		generalOnly(h)
	case "go":
		useAsm = false
	case "asm":
		if !haveAsm {
			return false
		}
		useAsm = true
	}
	return true
}

// firstDiff returns the first line at which two snapshots differ and
// both lines.
func firstDiff(got, want string) (int, string, string) {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	i := 0
	for i < min(len(gl), len(wl)) && gl[i] == wl[i] {
		i++
	}
	return i, gl[min(i, len(gl)-1)], wl[min(i, len(wl)-1)]
}

// bookMemory is an ideal memory that is a FixedLatency: Access and Book
// keep the same counts.
type bookMemory struct {
	latency                              uint64
	reads, writes, readBytes, writeBytes uint64
	booked                               int
}

func (m *bookMemory) Access(_ uint64, size uint32, kind trace.Kind, _ int, now uint64) uint64 {
	if kind == trace.Write {
		m.writes++
		m.writeBytes += uint64(size)
		return now
	}
	m.reads++
	m.readBytes += uint64(size)
	return now + m.latency
}

func (m *bookMemory) Latency() uint64 { return m.latency }

func (m *bookMemory) Book(reads, writes uint64, lineBytes uint32) {
	m.booked++
	m.reads += reads
	m.writes += writes
	m.readBytes += reads * uint64(lineBytes)
	m.writeBytes += writes * uint64(lineBytes)
}

// TestMRUGeometries: the recency-order loops (mru2Run, AVX2) against the
// general path on one-core hierarchies of 4, 8, 12 or 16 ways per level,
// over a logging memory and over a FixedLatency one.
func TestMRUGeometries(t *testing.T) {
	if !haveAsm || !haveAVX2 {
		t.Skip("no AVX2: the recency-order loops do not run here")
	}
	rng := rand.New(rand.NewPCG(11, 13))
	ways := []int{4, 8, 12, 16}
	mruRuns := 0
	for trial := 0; trial < 64; trial++ {
		w1, w2 := ways[trial%4], ways[trial/4%4]
		sets1, sets2 := 1<<rng.IntN(7), 1<<rng.IntN(9)
		cfg := HierarchyConfig{Cores: 1, CyclePS: 1 + uint64(rng.IntN(900)), Levels: []Config{
			{Name: "L1", SizeBytes: sets1 * w1 * 64, Ways: w1, LineBytes: 64, LatencyCycles: 1 + rng.IntN(5), Replacement: "lru", WriteAllocate: true},
			{Name: "L2", SizeBytes: sets2 * w2 * 64, Ways: w2, LineBytes: 64, LatencyCycles: 1 + rng.IntN(20), Replacement: "lru", WriteAllocate: true},
		}}
		seed := rng.Uint64()
		ev := diffTrace(rand.New(rand.NewPCG(seed, 1)), 4000, 1)
		for i := range ev {
			if rng.IntN(3) != 0 {
				ev[i].Addr, ev[i].Size = uint64(rng.IntN(1<<21)), 8
				if rng.IntN(3) == 0 {
					ev[i].Kind = trace.Write
				} else {
					ev[i].Kind = trace.Read
				}
			}
		}
		for _, fixed := range []bool{false, true} {
			var want string
			for _, general := range []bool{true, false} {
				lm, bm := &logMemory{}, &bookMemory{latency: 30_000}
				c := cfg
				if fixed {
					c.Memory = bm
				} else {
					c.Memory = lm
				}
				h, err := NewHierarchy(c)
				if err != nil {
					t.Fatal(err)
				}
				if !h.fast || !h.mruOK() {
					t.Fatalf("trial %d: fast %v, mruOK %v, want both", trial, h.fast, h.mruOK())
				}
				if general {
					generalOnly(h)
				}
				replay(h, rand.New(rand.NewPCG(seed, 2)), ev)
				got := snapshot(h, lm) + fmt.Sprintf("memory %d reads %d writes", bm.reads, bm.writes)
				if general {
					want = got
					continue
				}
				checkInvariants(t, h)
				if got != want {
					i, g, w := firstDiff(got, want)
					t.Fatalf("trial %d (%d-way %d sets over %d-way %d sets, fixed %v): differs from the general path at line %d:\n got %s\nwant %s",
						trial, w1, sets1, w2, sets2, fixed, i, g, w)
				}
				mruRuns++
			}
		}
	}
	if mruRuns == 0 {
		t.Error("the recency-order loops never ran")
	}
}

// growMemory grows the goroutine's stack on its first request, so that a
// caller's events on the stack move while Run replays them.
type growMemory struct {
	logMemory
	grown bool
}

func (m *growMemory) Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) uint64 {
	if !m.grown {
		m.grown = true
		growStack(400)
	}
	return m.logMemory.Access(addr, size, kind, core, now)
}

// growStack uses about n KiB of stack.
//
//go:noinline
func growStack(n int) int {
	var buf [1024]byte
	buf[n%1024] = byte(n)
	if n == 0 {
		return int(buf[0])
	}
	return growStack(n-1) + int(buf[(n*7)%1024])
}

func stackEvent(i int) trace.Event {
	return trace.Event{Addr: uint64(i) * 64 * 5, Size: 8, Kind: trace.Kind(i % 2)}
}

// replayStackEvents replays events held in an array on this function's
// stack; every reference misses, so the fast path's loops call the
// memory (which moves the stack) between runs over the same events.
//
//go:noinline
func replayStackEvents(t *testing.T, cfg HierarchyConfig) string {
	var ev [3000]trace.Event
	for i := range ev {
		ev[i] = stackEvent(i)
	}
	mem := &growMemory{}
	cfg.Memory = mem
	h, err := NewHierarchy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Run(ev[:])
	return snapshot(h, &mem.logMemory)
}

// TestEventsOnMovingStack: the assembly loops take the events' address
// afresh after every call that may move the stack (found by a stress
// test: they read the events of a moved stack from the old one).
func TestEventsOnMovingStack(t *testing.T) {
	defer func(a bool) { haveAVX2 = a }(haveAVX2)
	cfg := HierarchyConfig{Cores: 1, CyclePS: 300, Levels: []Config{
		{Name: "L1", SizeBytes: 4 * 4 * 64, Ways: 4, LineBytes: 64, LatencyCycles: 4, Replacement: "lru", WriteAllocate: true},
		{Name: "L2", SizeBytes: 8 * 8 * 64, Ways: 8, LineBytes: 64, LatencyCycles: 10, Replacement: "lru", WriteAllocate: true},
	}}
	ev := make([]trace.Event, 3000)
	for i := range ev {
		ev[i] = stackEvent(i)
	}
	mem := &logMemory{}
	c := cfg
	c.Memory = mem
	h, err := NewHierarchy(c)
	if err != nil {
		t.Fatal(err)
	}
	generalOnly(h)
	h.Run(ev)
	want := snapshot(h, mem)
	for _, avx := range []bool{true, false} { // the recency-order loops, then fused2Loop
		haveAVX2 = avx && haveAVX2
		if got := replayStackEvents(t, cfg); got != want {
			i, g, w := firstDiff(got, want)
			t.Errorf("AVX2 %v: events on a moving stack: differs from the general path at line %d:\n got %s\nwant %s", avx, i, g, w)
		}
	}
}
