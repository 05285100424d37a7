package cache

import (
	"syscall"
	"testing"
	"time"

	"github.com/edgeprof/edgeprof/trace"
)

// fixedMemory is an ideal memory with a constant latency, like sim's.
type fixedMemory struct {
	latency uint64
	reads   uint64
	writes  uint64
}

func (m *fixedMemory) Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) uint64 {
	if kind == trace.Write {
		m.writes++
	} else {
		m.reads++
	}
	return now + m.latency
}

func twoLevel(repl string, pf PrefetcherConfig) HierarchyConfig {
	return HierarchyConfig{
		Cores: 1, CyclePS: 417, Memory: &fixedMemory{latency: 100_000},
		Levels: []Config{
			{Name: "L1D", SizeBytes: 64 << 10, Ways: 4, LineBytes: 64, LatencyCycles: 4, Replacement: repl, WriteAllocate: true, Prefetcher: pf},
			{Name: "L2", SizeBytes: 512 << 10, Ways: 8, LineBytes: 64, LatencyCycles: 9, Replacement: repl, WriteAllocate: true},
		},
	}
}

// benchEvents is a mix that resembles decoding: weight rows streamed from
// a 16 MiB region (one line per record, misses both levels), activation
// reads and writes in a 32 KiB buffer (L1 hits) and KV-cache reads in a
// 256 KiB region (mostly L2 hits), in a 1:6:1 ratio.
func benchEvents(n int) []trace.Event {
	ev := make([]trace.Event, n)
	x := uint64(12345)
	var w uint64
	for i := range ev {
		x = x*6364136223846793005 + 1442695040888963407
		r := x >> 33
		e := trace.Event{Size: 8, Kind: trace.Read}
		switch r % 8 {
		case 0:
			e.Addr, e.Size = w%(16<<20), 64
			w += 64
		case 7:
			e.Addr = trace.RegionKV + (r>>3)%(256<<10)&^7
		default:
			e.Addr = trace.RegionActivation + (r>>3)%(32<<10)&^7
			if r&(1<<20) != 0 {
				e.Kind = trace.Write
			}
		}
		ev[i] = e
	}
	return ev
}

func benchPattern(b *testing.B, ev []trace.Event, cfg HierarchyConfig) {
	h, err := NewHierarchy(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h.Run(ev)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		h.Run(ev)
	}
	reportSpeed(b, len(ev), cpu)
}

// cpuTime is the process's user+system CPU time. The build machine is
// shared, so besides accesses per wall-clock second the benchmarks report
// accesses per CPU second, which other processes disturb far less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportSpeed(b *testing.B, perOp int, cpu0 time.Duration) {
	n := float64(b.N) * float64(perOp)
	b.ReportMetric(n/b.Elapsed().Seconds()/1e6, "Maccesses/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds()/1e6, "Maccesses/cpu-s")
	}
}

// patterns are the benchmark traces: one 8-byte reference per record,
// as Dinero IV is fed, 2^20 records each.
var patterns = []struct {
	name string
	gen  func(i int, x uint64) (addr uint64, write bool)
}{
	// All first-level hits: random reads in 16 KiB.
	{"hot", func(i int, x uint64) (uint64, bool) { return (x >> 40) % (16 << 10) &^ 7, false }},
	// Sequential 8-byte reads over 256 KiB (Cachegrind pattern 1): 1 in 8
	// misses L1, L2 holds the region.
	{"seq", func(i int, x uint64) (uint64, bool) { return uint64(i*8) % (256 << 10), false }},
	// Sequential over 8 MiB with a store in 4: 1 in 8 misses both levels.
	{"seq-8MiB-rw", func(i int, x uint64) (uint64, bool) { return uint64(i*8) % (8 << 20), i%4 == 0 }},
	// The decode-like mix of benchEvents.
	{"mixed", nil},
	// Random reads over 1 MiB: misses L1, half hit L2.
	{"random-1MiB", func(i int, x uint64) (uint64, bool) { return (x >> 30) % (1 << 20) &^ 7, false }},
	// Every reference a new line: misses both levels.
	{"stream", func(i int, x uint64) (uint64, bool) { return uint64(i) * 64, false }},
}

// patternEvents makes 2^20 8-byte references by gen.
func patternEvents(gen func(i int, x uint64) (addr uint64, write bool)) []trace.Event {
	ev := make([]trace.Event, 1<<20)
	x := uint64(99)
	for i := range ev {
		x = x*6364136223846793005 + 1442695040888963407
		a, w := gen(i, x)
		ev[i] = trace.Event{Addr: a, Size: 8}
		if w {
			ev[i].Kind = trace.Write
		}
	}
	return ev
}

// BenchmarkHierarchy replays each pattern on the example: L1D
// 64 KiB 4-way + L2 512 KiB 8-way, LRU, no prefetching.
func BenchmarkHierarchy(b *testing.B) {
	for _, p := range patterns {
		ev := benchEvents(1 << 20)
		if p.gen != nil {
			ev = patternEvents(p.gen)
		}
		for _, pf := range []string{"none", "stride"} {
			if pf != "none" && p.name != "mixed" {
				continue
			}
			b.Run(p.name+"/"+pf, func(b *testing.B) {
				cfg := twoLevel("lru", PrefetcherConfig{Name: pf})
				h, err := NewHierarchy(cfg)
				if err != nil {
					b.Fatal(err)
				}
				h.Run(ev)
				s := h.Stats()
				benchPattern(b, ev, cfg)
				// After benchPattern: ResetTimer drops metrics reported before.
				b.ReportMetric(float64(s[0].Misses())/float64(s[0].Accesses()), "L1-miss-rate")
				b.ReportMetric(float64(s[1].Misses())/float64(max(s[1].Accesses(), 1)), "L2-miss-rate")
			})
		}
	}
}

// Latency and Book make fixedMemory a FixedLatency, as sim's ideal
// memory is.
func (m *fixedMemory) Latency() uint64 { return m.latency }

func (m *fixedMemory) Book(reads, writes uint64, _ uint32) {
	m.reads += reads
	m.writes += writes
}

// BenchmarkGeometries replays the miss-heavy patterns (and hot, all
// hits) on other common two-level LRU geometries: the x86 client cores'
// 32 KiB or 48 KiB 8- or 12-way L1D over a 16-way L2, and 8-way levels.
func BenchmarkGeometries(b *testing.B) {
	geos := []struct {
		name   string
		s1, w1 int
		s2, w2 int
	}{
		{"32KiB8-512KiB8", 32 << 10, 8, 512 << 10, 8},
		{"32KiB8-1MiB16", 32 << 10, 8, 1 << 20, 16},
		{"32KiB4-1MiB16", 32 << 10, 4, 1 << 20, 16},
		{"48KiB12-2MiB16", 48 << 10, 12, 2 << 20, 16},
	}
	for _, p := range patterns {
		if p.name != "hot" && p.name != "random-1MiB" && p.name != "stream" {
			continue
		}
		ev := patternEvents(p.gen)
		for _, g := range geos {
			b.Run(g.name+"/"+p.name, func(b *testing.B) {
				cfg := twoLevel("lru", PrefetcherConfig{Name: "none"})
				cfg.Levels[0].SizeBytes, cfg.Levels[0].Ways = g.s1, g.w1
				cfg.Levels[1].SizeBytes, cfg.Levels[1].Ways = g.s2, g.w2
				benchPattern(b, ev, cfg)
			})
		}
	}
}
