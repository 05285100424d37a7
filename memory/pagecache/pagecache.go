// Package pagecache models the operating system's page cache for a
// memory-mapped model file whose pages do not all fit in the DRAM left
// for them (the "LLM in a Flash" case): a budget of resident pages, a
// synchronous major fault plus readahead when a page is missing, and an
// eviction policy chosen by name (lru, linux).
//
// Time is integer picoseconds; the flash device behind the cache is
// any Backing (memory/flash implements it).
package pagecache

import (
	"errors"
	"fmt"
	"math/bits"
)

// Backing reads file bytes; it returns the time the data has arrived.
type Backing interface {
	Read(at int64, off uint64, size int) (int64, error)
}

// Config of the page cache.
type Config struct {
	// WeightsBudget is the DRAM available for the file's pages, bytes.
	WeightsBudget int64 `yaml:"weights_budget" json:"weights_budget"`
	// PageBytes is the page size (default 4096).
	PageBytes int `yaml:"page_bytes,omitempty" json:"page_bytes"`
	// Policy names the eviction policy: lru or linux (default).
	Policy string `yaml:"policy,omitempty" json:"policy"`
	// Readahead is "ondemand" (default: the kernel's sync + async
	// readahead with a growing window), "mmap" (the kernel's read-around
	// for mmap faults: a window centred on the fault) or "none".
	Readahead string `yaml:"readahead,omitempty" json:"readahead"`
	// ReadaheadKB is the largest window (Linux read_ahead_kb, default
	// 128).
	ReadaheadKB int `yaml:"readahead_kb,omitempty" json:"readahead_kb"`
	// Access is how the program reads the file: "mmap" (default: loads
	// through a shared mapping, as llama.cpp reads its model; the kernel
	// sees them only through the page tables' accessed bits) or "read"
	// (read()/pread() calls, each marking the page accessed).
	Access string `yaml:"access,omitempty" json:"access"`
	// FaultAroundKB is the window a page fault on a mapped file maps in
	// one go (the kernel's fault_around_bytes, default 64 KiB; 4 KiB, one
	// page, turns it off): every resident page of the aligned window
	// gets a page-table entry, so touching it later takes no fault.
	FaultAroundKB int `yaml:"fault_around_kb,omitempty" json:"fault_around_kb"`
	// PrefaultOld maps those neighbouring pages with the accessed bit
	// clear, as arm64 does on cores that set the bit in hardware
	// (arch_wants_old_prefaulted_pte: Cortex-A76 and later); otherwise
	// (x86, ARMv8.0 cores such as the A72) they are mapped young, and
	// reclaim takes them for used.
	PrefaultOld bool `yaml:"prefault_old,omitempty" json:"prefault_old"`
	// FileBytes, when > 0, stops readahead at the end of the file.
	FileBytes int64 `yaml:"file_bytes,omitempty" json:"file_bytes"`
}

// ErrInvalidConfig wraps configuration errors.
var ErrInvalidConfig = errors.New("pagecache: invalid config")

// ErrOutOfRange reports an access beyond the file (or beyond maxPages
// pages when the file size is not given).
var ErrOutOfRange = errors.New("pagecache: access out of range")

// maxPages bounds the budget and the file (256 GiB of 4 KiB pages), so
// the per-page tables stay bounded whatever the input.
const maxPages = 1 << 26

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

func (c Config) withDefaults() Config {
	if c.PageBytes == 0 {
		c.PageBytes = 4096
	}
	if c.Policy == "" {
		c.Policy = "linux"
	}
	if c.Readahead == "" {
		c.Readahead = "ondemand"
	}
	if c.ReadaheadKB == 0 {
		c.ReadaheadKB = 128
	}
	if c.Access == "" {
		c.Access = "mmap"
	}
	if c.FaultAroundKB == 0 {
		c.FaultAroundKB = 64
	}
	return c
}

// Validate checks c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.PageBytes < 512 || c.PageBytes > 1<<21 || c.PageBytes&(c.PageBytes-1) != 0:
		return invalid("page_bytes = %d, want a power of two in 512..2097152", c.PageBytes)
	case c.WeightsBudget < int64(c.PageBytes):
		return invalid("weights_budget = %d bytes, want at least one page (%d)", c.WeightsBudget, c.PageBytes)
	case c.WeightsBudget/int64(c.PageBytes) > maxPages:
		return invalid("weights_budget = %d bytes is more than %d pages", c.WeightsBudget, maxPages)
	case c.ReadaheadKB < 0 || c.ReadaheadKB > 1<<20:
		return invalid("readahead_kb = %d, want 0..1048576", c.ReadaheadKB)
	case c.FaultAroundKB < 0 || c.FaultAroundKB > 1<<12:
		return invalid("fault_around_kb = %d, want 0..4096", c.FaultAroundKB)
	case c.FileBytes < 0 || c.FileBytes/int64(c.PageBytes) > maxPages:
		return invalid("file_bytes = %d, want 0..%d pages", c.FileBytes, maxPages)
	}
	switch c.Readahead {
	case "ondemand", "mmap", "none":
	default:
		return invalid("readahead = %q, want ondemand, mmap or none", c.Readahead)
	}
	switch c.Access {
	case "mmap", "read":
	default:
		return invalid("access = %q, want mmap or read", c.Access)
	}
	if _, err := NewPolicy(c.Policy); err != nil {
		return err
	}
	return nil
}

// PageCache tracks which file pages are resident. Not safe for
// concurrent use.
type PageCache struct {
	cfg  Config
	pol  Policy
	back Backing
	// mapper is pol when the file is mapped and pol tells mapped
	// references apart.
	mapper Mapper

	frameOf []int32  // per file page: frame, or -1
	page    []uint64 // per frame
	ready   []int64  // per frame: time its data arrives
	marker  []bool   // per frame: PG_readahead
	mapped  []bool   // per frame: has a page-table entry (mmap access)
	// faultAround is the fault-around window in pages (a power of two,
	// 1 = off); 0 when the file is read with read().
	faultAround uint64
	used        int
	cap         int

	raStart, raSize, raAsync uint64
	raValid                  bool
	raMax                    uint64
	filePages                uint64
	last                     uint64
	hasLast                  bool

	st Stats
}

// Stats are the page cache counters, in pages unless named otherwise.
type Stats struct {
	Accesses uint64 `json:"accesses" yaml:"accesses"`
	Hits     uint64 `json:"hits" yaml:"hits"`
	// MajorFaults: accesses that found the page absent and waited for
	// flash. IOWaits: hits on a page still being read (readahead in
	// flight), which wait too.
	MajorFaults uint64 `json:"major_faults" yaml:"major_faults"`
	IOWaits     uint64 `json:"io_waits" yaml:"io_waits"`
	// ReadaheadPages: pages read that no fault asked for.
	ReadaheadPages uint64 `json:"readahead_pages" yaml:"readahead_pages"`
	Evictions      uint64 `json:"evictions" yaml:"evictions"`
	ResidentBytes  uint64 `json:"resident_bytes" yaml:"resident_bytes"`
	FlashReads     uint64 `json:"flash_reads" yaml:"flash_reads"`
	FlashBytes     uint64 `json:"flash_bytes" yaml:"flash_bytes"`
	// StallNS sums the time accesses waited for flash.
	StallNS float64 `json:"stall_ns" yaml:"stall_ns"`
	stallPS int64
}

// New builds a page cache over back (which must not be nil).
func New(cfg Config, back Backing) (*PageCache, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if back == nil {
		return nil, invalid("no backing store")
	}
	pol, _ := NewPolicy(cfg.Policy)
	n := int(cfg.WeightsBudget / int64(cfg.PageBytes))
	pol.Init(n, cfg.PageBytes)
	c := &PageCache{
		cfg: cfg, pol: pol, back: back, cap: n,
		page:   make([]uint64, n),
		ready:  make([]int64, n),
		marker: make([]bool, n),
		mapped: make([]bool, n),
	}
	if cfg.Access == "mmap" {
		if m, ok := pol.(Mapper); ok {
			m.Map()
			c.mapper = m
		}
		w := uint64(max(1, cfg.FaultAroundKB*1024/cfg.PageBytes))
		c.faultAround = 1 << (bits.Len64(w) - 1) // do_fault_around rounds down
	}
	c.raMax = uint64(max(1, cfg.ReadaheadKB*1024/cfg.PageBytes))
	// A window never takes more than a quarter of the cache.
	c.raMax = min(c.raMax, uint64(max(1, n/4)))
	if cfg.FileBytes > 0 {
		c.filePages = uint64((cfg.FileBytes + int64(cfg.PageBytes) - 1) / int64(cfg.PageBytes))
	}
	return c, nil
}

// Config returns the configuration with defaults applied.
func (c *PageCache) Config() Config { return c.cfg }

// Resident reports whether the page holding byte off is in the cache.
func (c *PageCache) Resident(off uint64) bool {
	p := off / uint64(c.cfg.PageBytes)
	return p < uint64(len(c.frameOf)) && c.frameOf[p] >= 0
}

// Access touches the bytes [off, off+size) at time at and returns the
// time they are all in DRAM. Pages are touched in order, each at the
// time the previous one became available, as a thread reading them
// would. Size 0 touches nothing.
func (c *PageCache) Access(at int64, off uint64, size int) (int64, error) {
	if size < 0 {
		return at, fmt.Errorf("pagecache: size %d < 0", size)
	}
	if size == 0 {
		return at, nil
	}
	pb := uint64(c.cfg.PageBytes)
	limit := uint64(maxPages)
	if c.filePages > 0 {
		limit = c.filePages
	}
	last := (off + uint64(size) - 1) / pb
	if off+uint64(size) < off || last >= limit {
		return at, fmt.Errorf("%w: bytes [%d, %d) beyond %d pages", ErrOutOfRange, off, off+uint64(size), limit)
	}
	t := at
	for p := off / pb; p <= last; p++ {
		c.st.Accesses++
		if f := c.frame(p); f >= 0 {
			c.st.Hits++
			if c.faultAround > 0 && !c.mapped[f] {
				c.mapAround(p) // a minor fault
			}
			switch {
			case c.mapper != nil:
				c.mapper.Touched(f)
			case !c.hasLast || c.last != p:
				c.pol.Accessed(f)
			}
			if c.marker[f] {
				c.marker[f] = false
				if err := c.asyncReadahead(t); err != nil {
					return t, err
				}
			}
			if r := c.ready[f]; r > t {
				c.st.IOWaits++
				c.st.stallPS += r - t
				t = r
			}
		} else {
			c.st.MajorFaults++
			if c.faultAround > 0 {
				// do_read_fault maps what is already resident around
				// the page before it reads the page itself.
				c.mapAround(p)
			}
			done, err := c.fault(t, p)
			if err != nil {
				return t, err
			}
			c.st.stallPS += done - t
			t = done
		}
		c.last, c.hasLast = p, true
	}
	return t, nil
}

// mapAround maps the resident pages of the aligned fault-around window
// holding page p (filemap_map_pages): page p itself is mapped by the
// fault; its neighbours get the accessed bit unless PrefaultOld.
func (c *PageCache) mapAround(p uint64) {
	start := p &^ (c.faultAround - 1)
	for q := start; q < start+c.faultAround; q++ {
		f := c.frame(q)
		if f < 0 || c.mapped[f] {
			continue
		}
		c.mapped[f] = true
		if q != p && !c.cfg.PrefaultOld && c.mapper != nil {
			c.mapper.Touched(f)
		}
	}
}

func (c *PageCache) frame(p uint64) int32 {
	if p < uint64(len(c.frameOf)) {
		return c.frameOf[p]
	}
	return -1
}

// initSize and nextSize are get_init_ra_size and get_next_ra_size of
// mm/readahead.c.
func initSize(req, maxPages uint64) uint64 {
	n := uint64(1) << bits.Len64(req-1)
	switch {
	case n <= maxPages/32:
		n *= 4
	case n <= maxPages/4:
		n *= 2
	default:
		n = maxPages
	}
	return min(n, maxPages)
}

func nextSize(cur, maxPages uint64) uint64 {
	switch {
	case cur < maxPages/16:
		return min(4*cur, maxPages)
	case cur <= maxPages/2:
		return min(2*cur, maxPages)
	}
	return maxPages
}

// fault handles a major fault on page p at t and returns when p is in.
func (c *PageCache) fault(t int64, p uint64) (int64, error) {
	var start, size, async uint64
	switch c.cfg.Readahead {
	case "none":
		start, size = p, 1
	case "mmap":
		// do_sync_mmap_readahead: read around the fault.
		size = c.raMax
		start = p - min(p, size/2)
		async = size / 4
	default:
		// ondemand readahead (page_cache_sync_ra): a miss right after
		// the previous window continues the sequence with a larger
		// window; a miss at the start of the file or next to the
		// previous access starts an initial window; any other miss looks
		// back for the pages a stream would have left cached (context
		// readahead) and reads that many ahead, or, with none, reads
		// just the page and leaves the readahead state alone (a
		// standalone random read).
		switch {
		case c.raValid && p == c.raStart+c.raSize:
			start, size = p, nextSize(c.raSize, c.raMax)
			async = size
		case p == 0 || c.hasLast && p >= c.last && p-c.last <= 1:
			start, size = p, initSize(1, c.raMax)
			async = size - 1
		default:
			contig := uint64(0)
			for contig < c.raMax && contig < p && c.frame(p-1-contig) >= 0 {
				contig++
			}
			if contig <= 1 {
				return c.read(t, p, 1, p)
			}
			if contig == p { // cached from the start of the file
				contig *= 2
			}
			start, size, async = p, min(contig+1, c.raMax), 1
		}
	}
	if c.filePages > 0 && start+size > c.filePages {
		size = max(c.filePages, p+1) - start
		async = min(async, size-1)
	}
	c.raStart, c.raSize, c.raAsync, c.raValid = start, size, async, true
	done, err := c.read(t, start, size, p)
	if err != nil {
		return t, err
	}
	if async > 0 {
		m := start + size - async
		if f := c.frame(m); f >= 0 {
			c.marker[f] = true
			// A marker on the faulting page itself starts the next
			// window at once, as filemap_get_pages does.
			if m == p {
				c.marker[f] = false
				if err := c.asyncReadahead(t); err != nil {
					return t, err
				}
			}
		}
	}
	return done, nil
}

// asyncReadahead runs when a readahead marker page is hit: the next
// window, grown, is read without waiting.
func (c *PageCache) asyncReadahead(t int64) error {
	if c.cfg.Readahead == "none" || !c.raValid {
		return nil
	}
	start := c.raStart + c.raSize
	size := nextSize(c.raSize, c.raMax)
	if c.filePages > 0 {
		if start >= c.filePages {
			return nil
		}
		size = min(size, c.filePages-start)
	}
	c.raStart, c.raSize, c.raAsync = start, size, size
	if _, err := c.read(t, start, size, ^uint64(0)); err != nil {
		return err
	}
	if f := c.frame(start); f >= 0 {
		c.marker[f] = true
	}
	return nil
}

// read brings pages [start, start+n) in at t, one flash read per run of
// absent pages, and returns when page demand (if in the range) is in.
func (c *PageCache) read(t int64, start, n uint64, demand uint64) (int64, error) {
	pb := uint64(c.cfg.PageBytes)
	done := t
	for p := start; p < start+n; {
		if c.frame(p) >= 0 {
			p++
			continue
		}
		q := p
		for q < start+n && c.frame(q) < 0 {
			q++
		}
		end, err := c.back.Read(t, p*pb, int((q-p)*pb))
		if err != nil {
			return t, err
		}
		c.st.FlashReads++
		c.st.FlashBytes += (q - p) * pb
		for i := p; i < q; i++ {
			c.insert(i, end, i == demand)
			if i != demand {
				c.st.ReadaheadPages++
			}
		}
		if demand >= p && demand < q {
			done = end
		}
		p = q
	}
	return done, nil
}

func (c *PageCache) insert(p uint64, ready int64, demand bool) {
	var f int32
	if c.used < c.cap {
		f = int32(c.used)
		c.used++
	} else {
		f = c.pol.Victim()
		c.frameOf[c.page[f]] = -1
		c.st.Evictions++
	}
	if p >= uint64(len(c.frameOf)) {
		n := max(2*len(c.frameOf), int(p)+1, 1024)
		s := make([]int32, n)
		copy(s, c.frameOf)
		for i := len(c.frameOf); i < n; i++ {
			s[i] = -1
		}
		c.frameOf = s
	}
	c.frameOf[p] = f
	c.page[f] = p
	c.ready[f] = ready
	c.marker[f] = false
	// The faulting page is mapped by its fault; the rest wait for one.
	c.mapped[f] = demand && c.faultAround > 0
	c.pol.Inserted(f, p, demand)
}

// Stats returns the counters.
func (c *PageCache) Stats() Stats {
	s := c.st
	s.ResidentBytes = uint64(c.used) * uint64(c.cfg.PageBytes)
	s.StallNS = float64(s.stallPS) / 1000
	return s
}
