package pagecache

import (
	"errors"
	"slices"
	"testing"

	"github.com/edgeprof/edgeprof/memory/flash"
)

// fixed is a backing store where every read takes 1 us plus 1 ns per
// byte and is counted.
type fixed struct {
	reads, bytes uint64
}

func (f *fixed) Read(at int64, off uint64, size int) (int64, error) {
	f.reads++
	f.bytes += uint64(size)
	return at + 1_000_000 + int64(size)*1000, nil
}

func newCache(t *testing.T, pages int, policy, ra string) (*PageCache, *fixed) {
	t.Helper()
	return newCacheAccess(t, pages, policy, ra, "")
}

func newCacheAccess(t *testing.T, pages int, policy, ra, access string) (*PageCache, *fixed) {
	t.Helper()
	b := &fixed{}
	c, err := New(Config{WeightsBudget: int64(pages) * 4096, Policy: policy, Readahead: ra, Access: access}, b)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, b
}

func touch(t *testing.T, c *PageCache, at int64, pages ...uint64) int64 {
	t.Helper()
	for _, p := range pages {
		var err error
		if at, err = c.Access(at, p*4096, 1); err != nil {
			t.Fatal(err)
		}
	}
	return at
}

func resident(c *PageCache, pages ...uint64) []bool {
	r := make([]bool, len(pages))
	for i, p := range pages {
		r[i] = c.Resident(p * 4096)
	}
	return r
}

func TestLRUEvictionOrder(t *testing.T) {
	c, _ := newCache(t, 3, "lru", "none")
	touch(t, c, 0, 0, 1, 2, 0) // LRU order now 1, 2, 0
	touch(t, c, 0, 3)          // evicts 1
	if got := resident(c, 0, 1, 2, 3); got[1] || !got[0] || !got[2] || !got[3] {
		t.Errorf("after 0 1 2 0 3: resident(0,1,2,3) = %v, want 1 evicted", got)
	}
	touch(t, c, 0, 2, 4) // order 0 3 2 -> evicts 0
	if got := resident(c, 0, 2, 3, 4); got[0] || !got[1] || !got[2] || !got[3] {
		t.Errorf("after 2 4: resident(0,2,3,4) = %v, want 0 evicted", got)
	}
	s := c.Stats()
	if s.MajorFaults != 5 || s.Hits != 2 || s.Evictions != 2 || s.ResidentBytes != 3*4096 {
		t.Errorf("faults/hits/evictions/resident = %d/%d/%d/%d, want 5/2/2/%d",
			s.MajorFaults, s.Hits, s.Evictions, s.ResidentBytes, 3*4096)
	}
}

func TestFaultWaitsForFlash(t *testing.T) {
	c, b := newCache(t, 8, "lru", "none")
	at := int64(10_000_000)
	// A fault reads one page: 1 us + 4096 ns.
	done := touch(t, c, at, 5)
	if want := at + 1_000_000 + 4096*1000; done != want {
		t.Errorf("fault done = %d, want %d", done, want)
	}
	// Touched again before its data arrived, the page waits for it.
	if got := touch(t, c, at+1, 5); got != done {
		t.Errorf("hit during I/O done = %d, want %d", got, done)
	}
	if got := touch(t, c, done+5, 5); got != done+5 {
		t.Errorf("hit done = %d, want %d (no wait)", got, done+5)
	}
	if s := c.Stats(); s.IOWaits != 1 || s.Hits != 2 || s.MajorFaults != 1 {
		t.Errorf("io waits/hits/faults = %d/%d/%d, want 1/2/1", s.IOWaits, s.Hits, s.MajorFaults)
	}
	if b.reads != 1 || b.bytes != 4096 {
		t.Errorf("flash reads/bytes = %d/%d, want 1/4096", b.reads, b.bytes)
	}
}

func TestOndemandReadaheadGrows(t *testing.T) {
	b := &fixed{}
	c, err := New(Config{WeightsBudget: 1 << 20, Policy: "lru", FileBytes: 64 * 4096}, b)
	if err != nil {
		t.Fatal(err)
	}
	var at int64
	for p := range uint64(64) {
		at = touch(t, c, at, p)
	}
	// One fault; windows of 4, 8, 16 and 32 pages (read_ahead_kb 128),
	// the last clipped at the end of the 64-page file to 4: 5 reads.
	s := c.Stats()
	if s.MajorFaults != 1 || s.ReadaheadPages != 63 || s.FlashReads != 5 || s.FlashBytes != 64*4096 {
		t.Errorf("faults/readahead/flash reads/bytes = %d/%d/%d/%d, want 1/63/5/%d",
			s.MajorFaults, s.ReadaheadPages, s.FlashReads, s.FlashBytes, 64*4096)
	}
}

func TestModelLargerThanBudgetStreamsFromFlash(t *testing.T) {
	const model = 1000 // pages
	for _, policy := range Policies() {
		for _, budget := range []int{800, 1200} {
			c, b := newCache(t, budget, policy, "ondemand")
			var at int64
			pass := func() uint64 {
				before := b.bytes
				for p := range uint64(model) {
					at = touch(t, c, at, p)
				}
				return b.bytes - before
			}
			first := pass()
			second := pass()
			t.Logf("%s, budget %d pages, model %d: flash bytes pass 1 %d, pass 2 %d", policy, budget, model, first, second)
			if first < model*4096 {
				t.Errorf("%s budget %d: first pass read %d bytes, want the whole model %d", policy, budget, first, model*4096)
			}
			if budget > model && second != 0 {
				t.Errorf("%s budget %d > model: second pass read %d bytes, want 0", policy, budget, second)
			}
			if budget < model && second == 0 {
				t.Errorf("%s budget %d < model: second pass read nothing, want flash traffic", policy, budget)
			}
		}
	}
}

// A cyclic scan slightly larger than the cache: LRU evicts every page
// just before it is needed again.
func TestCyclicScanDefeatsLRU(t *testing.T) {
	c, _ := newCache(t, 1000, "lru", "none")
	for range 3 {
		for p := range uint64(1100) {
			touch(t, c, 0, p)
		}
	}
	before := c.Stats()
	for p := range uint64(1100) {
		touch(t, c, 0, p)
	}
	s := c.Stats()
	if hits := s.Hits - before.Hits; hits != 0 {
		t.Errorf("LRU hits in a 1100-page cyclic scan over 1000 pages = %d, want 0", hits)
	}
}

// The kernel's two lists protect pages that proved themselves (two
// read() calls) from a scan of pages used once: a 1100-page sequential
// scan through a 1000-page cache flushes everything under LRU, while
// linux keeps the 400 active pages. (Through a mapping the same two
// touches are not enough: TestLinuxMappedSecondLook and the kernel
// experiments of TestLinuxMatchesKernel.)
func TestLinuxKeepsWorkingSetThroughScan(t *testing.T) {
	hot := make([]uint64, 400)
	for i := range hot {
		hot[i] = uint64(i)
	}
	results := map[string]uint64{}
	for _, policy := range []string{"lru", "linux"} {
		c, _ := newCacheAccess(t, 1000, policy, "none", "read")
		touch(t, c, 0, hot...)
		touch(t, c, 0, hot...)
		for p := range uint64(1100) {
			touch(t, c, 0, 10_000+p)
		}
		before := c.Stats().Hits
		touch(t, c, 0, hot...)
		results[policy] = c.Stats().Hits - before
	}
	if results["lru"] != 0 || results["linux"] != 400 {
		t.Errorf("hot-set hits after a 1100-page scan: lru %d, linux %d; want 0 and 400", results["lru"], results["linux"])
	}
}

// In a cyclic scan slightly larger than the cache, linux keeps the pages
// already active as long as refaulting pages come back from farther
// than the active list is long (refault distance > active size):
// 50 active pages, a 1100-page loop over 1000 pages, refault distance
// 100. LRU keeps nothing.
func TestLinuxCyclicScanKeepsActivePart(t *testing.T) {
	for _, c := range []struct {
		policy string
		want   uint64
	}{{"lru", 0}, {"linux", 50}} {
		pc, _ := newCacheAccess(t, 1000, c.policy, "none", "read")
		for range 2 {
			for p := range uint64(50) {
				touch(t, pc, 0, p)
			}
		}
		for range 3 {
			for p := range uint64(1100) {
				touch(t, pc, 0, p)
			}
		}
		before := pc.Stats().Hits
		for p := range uint64(1100) {
			touch(t, pc, 0, p)
		}
		if got := pc.Stats().Hits - before; got != c.want {
			t.Errorf("%s: hits per pass = %d, want %d", c.policy, got, c.want)
		}
	}
}

// Mapped pages, worked by hand on three frames (readahead off). Pages
// 0, 1, 2 fault in with their accessed bits set. Page 3's fault finds
// every inactive page accessed: each is marked and rotated once, then 0
// (not accessed since) is reclaimed. Touching 1 sets its bit again, so
// at page 4's fault 1 is activated (marked and accessed) and 2 goes.
func TestLinuxMappedSecondLook(t *testing.T) {
	c, _ := newCacheAccess(t, 3, "linux", "none", "mmap")
	touch(t, c, 0, 0, 1, 2, 3)
	if got, want := resident(c, 0, 1, 2, 3), []bool{false, true, true, true}; !slices.Equal(got, want) {
		t.Fatalf("after 0..3 resident %v, want %v", got, want)
	}
	touch(t, c, 0, 1, 4)
	if got, want := resident(c, 0, 1, 2, 3, 4), []bool{false, true, false, true, true}; !slices.Equal(got, want) {
		t.Fatalf("after touching 1 and 4 resident %v, want %v", got, want)
	}
	// 1 is active now: two more faults take 3 and 4 (marked, not accessed
	// again), not 1.
	touch(t, c, 0, 5, 6)
	if got, want := resident(c, 1, 3, 4, 5, 6), []bool{true, false, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("after 5 and 6 resident %v, want %v", got, want)
	}
}

func TestConsecutiveAccessesCountOnce(t *testing.T) {
	// Two back-to-back references to one page are one reference: the
	// page stays inactive and a scan evicts it.
	c, _ := newCacheAccess(t, 10, "linux", "none", "read")
	touch(t, c, 0, 1, 1, 1)
	for p := range uint64(20) {
		touch(t, c, 0, 100+p)
	}
	if c.Resident(4096) {
		t.Errorf("page referenced only consecutively survived a scan, want it evicted")
	}
}

func TestPoliciesConformance(t *testing.T) {
	for _, name := range Policies() {
		t.Run(name, func(t *testing.T) {
			c, _ := newCache(t, 16, name, "ondemand")
			var at int64
			for i := range uint64(2000) {
				at = touch(t, c, at, (i*7919)%300)
			}
			s := c.Stats()
			if s.ResidentBytes != 16*4096 {
				t.Errorf("resident = %d, want full cache %d", s.ResidentBytes, 16*4096)
			}
			if s.Hits+s.MajorFaults != s.Accesses {
				t.Errorf("hits %d + faults %d != accesses %d", s.Hits, s.MajorFaults, s.Accesses)
			}
			n := 0
			for p := range uint64(300) {
				if c.Resident(p * 4096) {
					n++
				}
			}
			if n != 16 {
				t.Errorf("%d resident pages, want 16", n)
			}
		})
	}
}

func TestWithFlashBacking(t *testing.T) {
	f, err := flash.New(flash.Config{Device: "ufs-3.1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{WeightsBudget: 1 << 20}, f)
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Access(0, 0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	fs := f.Stats()
	if done <= 0 || fs.Reads != 1 || fs.Bytes != 4*4096 {
		t.Errorf("first fault: done %d, flash reads %d bytes %d; want > 0, 1, %d (initial window 4 pages)", done, fs.Reads, fs.Bytes, 4*4096)
	}
}

func TestBadConfig(t *testing.T) {
	b := &fixed{}
	for _, cfg := range []Config{
		{WeightsBudget: 100},
		{WeightsBudget: 1 << 20, Policy: "clock"},
		{WeightsBudget: 1 << 20, Readahead: "always"},
		{WeightsBudget: 1 << 20, PageBytes: 3000},
		{WeightsBudget: 1 << 20, Access: "direct"},
	} {
		if _, err := New(cfg, b); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%+v) error = %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

func BenchmarkAccess(b *testing.B) {
	for _, policy := range Policies() {
		b.Run(policy, func(b *testing.B) {
			back := &fixed{}
			c, err := New(Config{WeightsBudget: 64 << 20, Policy: policy}, back)
			if err != nil {
				b.Fatal(err)
			}
			// A 80 MiB model read sequentially over and over, 2 KiB rows:
			// two accesses per page, the model 25 % larger than the cache.
			const rows = 80 << 20 / 2048
			b.ReportAllocs()
			for i := range rows { // warm up: grow the tables once
				c.Access(0, uint64(i)*2048, 2048)
			}
			b.ResetTimer()
			for i := range b.N {
				c.Access(int64(i), uint64(i%rows)*2048, 2048)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accesses/s")
		})
	}
}

func TestOutOfRange(t *testing.T) {
	b := &fixed{}
	c, _ := New(Config{WeightsBudget: 1 << 20, FileBytes: 10 * 4096}, b)
	if _, err := c.Access(0, 10*4096, 1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Access beyond the file: error = %v, want ErrOutOfRange", err)
	}
	c2, _ := New(Config{WeightsBudget: 1 << 20}, b)
	if _, err := c2.Access(0, 1<<40, 64); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Access at 1 TiB without file size: error = %v, want ErrOutOfRange", err)
	}
	if _, err := c2.Access(0, 9*4096, 4096); err != nil {
		t.Errorf("Access inside: %v", err)
	}
}
