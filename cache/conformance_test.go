package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

// randomTrace mixes reads, writes and hints from several threads over a
// few hot lines and a large cold range, with events of 1 to 3 lines.
func randomTrace(seed uint64, n int) []trace.Event {
	rng := rand.New(rand.NewPCG(seed, 1))
	ev := make([]trace.Event, n)
	for i := range ev {
		ln := uint64(rng.IntN(300))
		if rng.IntN(3) == 0 {
			ln = uint64(rng.IntN(1 << 16))
		}
		k := trace.Read
		switch rng.IntN(10) {
		case 0, 1, 2:
			k = trace.Write
		case 3:
			k = trace.Prefetch
		}
		ev[i] = trace.Event{Addr: ln*64 + uint64(rng.IntN(64)), Size: uint32(1 + rng.IntN(150)), Kind: k, Thread: uint8(rng.IntN(5))}
	}
	return ev
}

// checkInvariants verifies what must hold after any run: per-set valid
// counts, no duplicate lines, inclusion and exclusion, and the line
// balance of non-exclusive levels.
func checkInvariants(t *testing.T, h *Hierarchy) {
	t.Helper()
	for i := 0; i < h.Levels(); i++ {
		for j := 0; j < h.Instances(i); j++ {
			l := h.Level(i, j)
			valid := 0
			for set := 0; set < l.sets; set++ {
				seen := map[uint64]bool{}
				n := 0
				for _, tg := range l.tags[set*l.stride : set*l.stride+l.ways] {
					if tg&fValid == 0 {
						continue
					}
					n++
					if seen[tg&lineMask] {
						t.Fatalf("%s[%d] set %d holds line %#x twice", l.cfg.Name, j, set, tg&lineMask)
					}
					seen[tg&lineMask] = true
					if int(tg&lineMask&l.setMask) != set {
						t.Fatalf("%s[%d]: line %#x in set %d", l.cfg.Name, j, tg&lineMask, set)
					}
				}
				checkSig(t, l, set)
				if l.inlineLRU {
					for w := 0; w < l.ways; w++ {
						if valid := l.tags[set*l.stride+w]&fValid != 0; valid != (l.tags[set*l.stride+l.ways+w]>>8 != 0) || l.tags[set*l.stride+l.ways+w]&0xff != uint64(w) {
							t.Fatalf("%s[%d] set %d way %d: valid %v but stamp %d", l.cfg.Name, j, set, w, valid, l.tags[set*l.stride+l.ways+w])
						}
					}
				} else if int(l.nvalid[set]) != n {
					t.Fatalf("%s[%d] set %d: nvalid %d, want %d", l.cfg.Name, j, set, l.nvalid[set], n)
				}
				valid += n
			}
			if l.cfg.Inclusion != Exclusive {
				if bal := l.st.Fills - l.st.Evictions - l.st.Invalidations; bal != uint64(valid) {
					t.Fatalf("%s[%d]: fills-evictions-invalidations = %d, want %d valid lines", l.cfg.Name, j, bal, valid)
				}
			}
			if l.pf != nil && l.cfg.Inclusion != Exclusive && l.st.Prefetch.Useful+l.st.Prefetch.Useless > l.st.Prefetch.Issued {
				t.Fatalf("%s[%d]: useful %d + useless %d > issued %d", l.cfg.Name, j, l.st.Prefetch.Useful, l.st.Prefetch.Useless, l.st.Prefetch.Issued)
			}
			// Inclusion and exclusion against the instances above that
			// share this one. Exclusion holds only towards a single
			// instance above: a shared victim cache may take a line one
			// core evicted while another core's cache still holds it
			// (there is no coherence protocol), and its own prefetcher
			// may fetch a line held above.
			lo := j * h.shared[i]
			hi := min(lo+h.shared[i], h.cfg.Cores)
			for k := 0; k < i; k++ {
				for u := lo / h.shared[k]; u <= (hi-1)/h.shared[k]; u++ {
					h.Level(k, u).Lines(func(a Addr, _ bool) {
						switch {
						case l.cfg.Inclusion == Inclusive && !l.Contains(a):
							t.Fatalf("inclusive %s[%d] lacks %#x held by %s[%d]", l.cfg.Name, j, a, h.cfg.Levels[k].Name, u)
						case l.cfg.Inclusion == Exclusive && l.pf == nil && k == i-1 && h.shared[k] == h.shared[i] && l.Contains(a):
							t.Fatalf("exclusive %s[%d] shares %#x with %s[%d]", l.cfg.Name, j, a, h.cfg.Levels[k].Name, u)
						}
					})
				}
			}
		}
	}
}

// checkSig verifies the signature of set, if l keeps signatures, against
// its tags.
func checkSig(t *testing.T, l *Level, set int) {
	t.Helper()
	if l.sig == nil {
		return
	}
	var want uint64
	lb := 64 / l.ways
	for w, tg := range l.tags[set*l.stride : set*l.stride+l.ways] {
		if tg&fValid != 0 {
			k := tg&^flagBits | fValid
			lane := lane16(k)
			if l.ways == 8 {
				lane = lane8(k)
			}
			want |= lane << (w * lb)
		}
	}
	if l.sig[set] != want {
		t.Fatalf("%s set %d: signature %#x, want %#x", l.cfg.Name, set, l.sig[set], want)
	}
}

// TestHierarchyConformance runs every policy and prefetcher through
// three-level hierarchies with every inclusion at L2 and L3, private and
// shared levels, write-back and write-through, on a random multi-core
// trace, and checks the invariants.
func TestHierarchyConformance(t *testing.T) {
	ev := randomTrace(5, 3000)
	var refs uint64
	for _, e := range ev {
		if e.Kind != trace.Prefetch {
			refs += (e.Addr+uint64(e.Size)-1)/64 - e.Addr/64 + 1
		}
	}
	incl := []Inclusion{NonInclusive, Inclusive, Exclusive}
	for _, pol := range Policies() {
		for _, pf := range Prefetchers() {
			for _, i2 := range incl {
				for _, i3 := range incl {
					// Every policy and every prefetcher meets every
					// inclusion combination; the cross product of all
					// four is left out to keep the test quick.
					if pol != "lru" && pf != "none" && (i2 != NonInclusive || i3 != NonInclusive) {
						continue
					}
					name := fmt.Sprintf("%s/%s/L2-%v/L3-%v", pol, pf, i2, i3)
					t.Run(name, func(t *testing.T) {
						l1 := Config{Name: "L1", SizeBytes: 2048, Ways: 4, LineBytes: 64, LatencyCycles: 2, Replacement: pol, WriteAllocate: true, Prefetcher: PrefetcherConfig{Name: pf}}
						l2 := Config{Name: "L2", SizeBytes: 8192, Ways: 8, LineBytes: 64, LatencyCycles: 9, Replacement: pol, WriteAllocate: true, Inclusion: i2, SharedBy: 2, Prefetcher: PrefetcherConfig{Name: pf}}
						l3 := Config{Name: "L3", SizeBytes: 32768, Ways: 16, LineBytes: 64, LatencyCycles: 30, Replacement: pol, WriteAllocate: i3 != Inclusive, Inclusion: i3, SharedBy: 4, Write: WriteThrough}
						if i2 == NonInclusive {
							l1.Write, l1.WriteAllocate = WriteThrough, false
						}
						mem := &fixedMemory{latency: 90_000}
						h, err := NewHierarchy(HierarchyConfig{Cores: 4, CyclePS: 400, Levels: []Config{l1, l2, l3}, Memory: mem, TLB: &TLBConfig{Entries: 16, Ways: 4, PageBytes: 4096, Replacement: pol}})
						if err != nil {
							t.Fatal(err)
						}
						h.Run(ev)
						checkInvariants(t, h)
						s := h.Stats()
						if got := s[0].Accesses(); got != refs {
							t.Errorf("L1 accesses = %d, want %d line references", got, refs)
						}
						if ts, _ := h.TLBStats(); ts.Accesses != refs {
							t.Errorf("TLB accesses = %d, want %d", ts.Accesses, refs)
						}
						if s[0].Misses() == 0 || mem.reads == 0 {
							t.Errorf("no L1 misses (%d) or memory reads (%d) on a cold trace", s[0].Misses(), mem.reads)
						}
						// A second hierarchy from the same config gives the
						// same counts: runs are reproducible.
						h2, _ := NewHierarchy(h.Config())
						h2.cfg.Memory = &fixedMemory{latency: 90_000}
						h2.mem = h2.cfg.Memory
						h2.Run(ev)
						if fmt.Sprint(h.Stats()) != fmt.Sprint(h2.Stats()) {
							t.Errorf("two runs differ:\n%v\n%v", h.Stats(), h2.Stats())
						}
					})
				}
			}
		}
	}
}

// TestPrefetcherConformance: every registered prefetcher resolves with
// defaults, rejects parameters it does not take, and proposes only
// addresses in the accessed page without allocating once warm.
func TestPrefetcherConformance(t *testing.T) {
	for _, name := range Prefetchers() {
		t.Run(name, func(t *testing.T) {
			cfg, err := ResolvePrefetcher(PrefetcherConfig{Name: name})
			if err != nil {
				t.Fatalf("ResolvePrefetcher(%s) error %v", name, err)
			}
			pf, err := NewPrefetcher(cfg, 64)
			if err != nil {
				t.Fatal(err)
			}
			if name == "none" {
				if pf != nil {
					t.Fatal("none built a prefetcher")
				}
				return
			}
			for _, p := range []string{"degree", "distance", "table"} {
				c := PrefetcherConfig{Name: name}
				switch p {
				case "degree":
					c.Degree = 3
				case "distance":
					c.Distance = 3
				case "table":
					c.Table = 8
				}
				_, err := ResolvePrefetcher(c)
				var fe *FieldError
				if uses := contains1(prefetchers[name].Params, p); uses == (err != nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "prefetcher."+p)) {
					t.Errorf("ResolvePrefetcher(%s with %s) error = %v; uses it: %v", name, p, err, uses)
				}
			}
			buf := make([]Addr, 0, maxPrefetchDegree)
			rng := rand.New(rand.NewPCG(1, 2))
			allocs := testing.AllocsPerRun(100, func() {
				for i := 0; i < 100; i++ {
					a := Addr(rng.IntN(1<<20)) &^ 63
					if i%3 != 0 {
						a = Addr(i * 128)
					}
					buf = pf.OnAccess(Access{Addr: a, Hint: i%7 == 0}, buf[:0])
					for _, p := range buf {
						if p/pageBytes != a/pageBytes {
							t.Fatalf("prefetch %#x for access %#x leaves the page", p, a)
						}
					}
				}
			})
			if allocs != 0 {
				t.Errorf("OnAccess allocates %.1f times per 100 calls, want 0", allocs)
			}
		})
	}
	if _, err := ResolvePrefetcher(PrefetcherConfig{Name: "magic"}); err == nil {
		t.Error("ResolvePrefetcher(magic) succeeded, want an error")
	}
}

func contains1(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestConfigErrors: each bad configuration is rejected with the field it
// concerns.
func TestConfigErrors(t *testing.T) {
	good := Config{Name: "L1", SizeBytes: 32768, Ways: 4, LineBytes: 64, Replacement: "lru", WriteAllocate: true}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		field string
		mod   func(*Config)
	}{
		{"name", func(c *Config) { c.Name = "" }},
		{"line", func(c *Config) { c.LineBytes = 48 }},
		{"line", func(c *Config) { c.LineBytes = 8 }},
		{"ways", func(c *Config) { c.Ways = 0 }},
		{"size", func(c *Config) { c.SizeBytes = 0 }},
		{"size", func(c *Config) { c.SizeBytes = 1 << 40 }},
		{"size", func(c *Config) { c.SizeBytes = 3 * 64 * 4 }},
		{"size", func(c *Config) { c.SizeBytes = 1000 }},
		{"latency_cycles", func(c *Config) { c.LatencyCycles = -1 }},
		{"replacement", func(c *Config) { c.Replacement = "lfu" }},
		{"write", func(c *Config) { c.Write = 7 }},
		{"inclusion", func(c *Config) { c.Inclusion = 9 }},
		{"shared_by", func(c *Config) { c.SharedBy = -2 }},
		{"prefetcher", func(c *Config) { c.Prefetcher.Name = "magic" }},
		{"prefetcher.degree", func(c *Config) { c.Prefetcher = PrefetcherConfig{Name: "next-line", Degree: 1000} }},
		{"prefetcher.table", func(c *Config) { c.Prefetcher = PrefetcherConfig{Name: "stride", Table: 3} }},
		{"prefetcher.distance", func(c *Config) { c.Prefetcher = PrefetcherConfig{Name: "next-line", Distance: 2} }},
	}
	for _, tc := range tests {
		c := good
		tc.mod(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("Validate(%+v) = %v, want an error in field %s", c, err, tc.field)
		}
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", c)
		}
	}
	// Hierarchy-level rules.
	mem := &fixedMemory{}
	l2 := good
	l2.Name, l2.SizeBytes = "L2", 1<<20
	htests := []struct {
		field string
		cfg   HierarchyConfig
	}{
		{"cores", HierarchyConfig{Cores: 0, CyclePS: 1, Memory: mem, Levels: []Config{good}}},
		{"clock", HierarchyConfig{Cores: 1, CyclePS: 0, Memory: mem, Levels: []Config{good}}},
		{"caches", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem}},
		{"inclusion", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem, Levels: []Config{func() Config { c := good; c.Inclusion = Inclusive; return c }()}}},
		{"name", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem, Levels: []Config{good, good}}},
		{"line", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem, Levels: []Config{good, func() Config { c := l2; c.LineBytes = 128; return c }()}}},
		{"shared_by", HierarchyConfig{Cores: 4, CyclePS: 1, Memory: mem, Levels: []Config{func() Config { c := good; c.SharedBy = 2; return c }(), func() Config { c := l2; c.SharedBy = 3; return c }()}}},
		{"size", HierarchyConfig{Cores: 256, CyclePS: 1, Memory: mem, Levels: []Config{func() Config { c := good; c.SizeBytes = 1 << 30; return c }()}}},
		{"dtlb.page", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem, Levels: []Config{good}, TLB: &TLBConfig{Entries: 4, Ways: 4, PageBytes: 8192}}},
		{"dtlb.ways", HierarchyConfig{Cores: 1, CyclePS: 1, Memory: mem, Levels: []Config{good}, TLB: &TLBConfig{Entries: 48, Ways: 16, PageBytes: 4096}}},
	}
	for _, tc := range htests {
		_, err := NewHierarchy(tc.cfg)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("NewHierarchy(%s case) = %v, want an error in field %s", tc.field, err, tc.field)
		}
	}
	if _, err := NewHierarchy(HierarchyConfig{Cores: 1, CyclePS: 1, Levels: []Config{good}}); err == nil {
		t.Error("NewHierarchy without memory succeeded")
	}
}
