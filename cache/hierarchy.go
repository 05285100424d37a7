package cache

import (
	"errors"
	"fmt"

	"github.com/edgeprof/edgeprof/trace"
)

// Memory serves what leaves the last cache level: line fetches (demand
// and prefetch) and write-backs. It is the seam below the caches: DRAM,
// flash and the page cache (package memory) or an ideal fixed-latency
// memory implement it. Its signature uses only built-in types and
// trace.Kind, so an implementation needs nothing from this package.
type Memory interface {
	// Access serves one request of size bytes (one line) at byte address
	// addr, issued by core at time now (picoseconds), and returns the
	// time its data is available (trace.Read: demand fetch, including a
	// store's read-for-ownership; trace.Prefetch: prefetch fetch) or the
	// time it is accepted (trace.Write: write-back or write-through).
	// Results below now are treated as now.
	Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) uint64
}

// FixedLatency is a Memory that serves every fetch (trace.Read) the same
// latency after it is made, accepts every write at once and keeps only
// counts: an ideal memory. The fast path books a batch of its line
// requests in one call rather than one Access each; the results are the
// same.
type FixedLatency interface {
	Memory
	// Latency is the fetch latency in picoseconds.
	Latency() uint64
	// Book counts reads fetches and writes write-backs of lineBytes
	// each, as that many calls of Access would.
	Book(reads, writes uint64, lineBytes uint32)
}

// HierarchyConfig describes the caches of an SoC from the core outwards.
type HierarchyConfig struct {
	// Cores is the number of cores; trace thread t runs on core
	// t mod Cores.
	Cores int
	// CyclePS is the core clock period in picoseconds; level latencies
	// are given in cycles.
	CyclePS uint64
	// Levels lists the levels, nearest the core first. All share one
	// line size. A level with SharedBy = s has ceil(Cores/s) instances;
	// core c uses instance c/s. Each level's SharedBy must be a multiple
	// of the one above it.
	Levels []Config
	// TLB, when not nil, gives every core a data TLB.
	TLB *TLBConfig
	// Memory lies below the last level.
	Memory Memory
	// Straddle says how an event spanning several lines is counted.
	Straddle StraddleMode
}

// StraddleMode says how an event spanning several lines is counted.
type StraddleMode uint8

const (
	// StraddleLines makes every line an event spans one reference (the
	// default: an event of k lines is k accesses).
	StraddleLines StraddleMode = iota
	// StraddleCachegrind counts an event once per level, as Cachegrind
	// counts an access that straddles two lines: every line is looked up
	// (and filled on a miss) at the first level; the access is one miss
	// if any line missed, and then every line goes on to the next level,
	// including lines that hit above. It needs non-inclusive,
	// write-back, write-allocate levels without prefetchers, the only
	// hierarchy Cachegrind models.
	StraddleCachegrind
)

var straddleNames = [...]string{"lines", "cachegrind"}

func (m StraddleMode) String() string {
	if int(m) < len(straddleNames) {
		return straddleNames[m]
	}
	return fmt.Sprintf("StraddleMode(%d)", uint8(m))
}

// ParseStraddle is the inverse of StraddleMode.String.
func ParseStraddle(s string) (StraddleMode, error) {
	for i, n := range straddleNames {
		if n == s {
			return StraddleMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown straddle mode %q (known: lines, cachegrind)", s)
}

// maxSimLines bounds the lines a hierarchy simulates over all instances
// (8 bytes of tag each, 24 with prefetch tracking), so that a config
// cannot ask for an unbounded allocation.
const maxSimLines = 1 << 27

// Validate checks the configuration without allocating.
func (c HierarchyConfig) Validate() error {
	if c.Cores < 1 || c.Cores > 256 {
		return fieldErr("cores", "%d, want 1..256", c.Cores)
	}
	if c.CyclePS < 1 || c.CyclePS > 1e9 {
		return fieldErr("clock", "cycle of %d ps, want 1 ps .. 1 ms", c.CyclePS)
	}
	if len(c.Levels) == 0 {
		return fieldErr("caches", "empty, want at least one level")
	}
	if len(c.Levels) > 8 {
		return fieldErr("caches", "%d levels, want at most 8", len(c.Levels))
	}
	if c.Memory == nil {
		return errors.New("cache: hierarchy has no memory below the last level")
	}
	names := map[string]bool{}
	lines := 0
	prevShared := 1
	for i, l := range c.Levels {
		if err := l.Validate(); err != nil {
			return &LevelError{Level: i, Name: l.Name, Err: err}
		}
		if names[l.Name] {
			return &LevelError{Level: i, Name: l.Name, Err: fieldErr("name", "%q used twice", l.Name)}
		}
		names[l.Name] = true
		if l.LineBytes != c.Levels[0].LineBytes {
			return &LevelError{Level: i, Name: l.Name, Err: fieldErr("line", "%d, want %d like %s (all levels share one line size)", l.LineBytes, c.Levels[0].LineBytes, c.Levels[0].Name)}
		}
		if i == 0 && l.Inclusion != NonInclusive {
			return &LevelError{Level: i, Name: l.Name, Err: fieldErr("inclusion", "%v, but the first level has no level above it; want non-inclusive", l.Inclusion)}
		}
		s := sharedBy(l)
		if s%prevShared != 0 {
			return &LevelError{Level: i, Name: l.Name, Err: fieldErr("shared_by", "%d, want a multiple of %d (the level above)", s, prevShared)}
		}
		prevShared = s
		lines += instances(c.Cores, s) * (l.SizeBytes / l.LineBytes)
		if lines > maxSimLines {
			return &LevelError{Level: i, Name: l.Name, Err: fieldErr("size", "the hierarchy holds more than %d lines over all instances; this simulator's limit", maxSimLines)}
		}
	}
	if c.TLB != nil {
		if err := c.TLB.Validate(); err != nil {
			return err
		}
	}
	switch c.Straddle {
	case StraddleLines:
	case StraddleCachegrind:
		for i, l := range c.Levels {
			p, _ := ResolvePrefetcher(l.Prefetcher)
			if l.Inclusion != NonInclusive || l.Write != WriteBack || !l.WriteAllocate || p.Name != "none" || l.WriteStreaming.AfterLines != 0 {
				return &LevelError{Level: i, Name: l.Name, Err: fieldErr("straddle", "cachegrind counting needs non-inclusive, write-back, write-allocate levels without prefetchers or write streaming")}
			}
		}
	default:
		return fieldErr("straddle", "%v, want lines or cachegrind", c.Straddle)
	}
	return nil
}

// LevelError locates a configuration error in one level of a hierarchy.
type LevelError struct {
	Level int
	Name  string
	Err   error
}

func (e *LevelError) Error() string {
	return fmt.Sprintf("caches[%s]: %v", e.Name, e.Err)
}

func (e *LevelError) Unwrap() error { return e.Err }

func sharedBy(c Config) int {
	if c.SharedBy < 1 {
		return 1
	}
	return c.SharedBy
}

func instances(cores, shared int) int { return (cores + shared - 1) / shared }

// Hierarchy is a tree of cache levels over a memory: private levels per
// core, shared levels per group of cores. It is not safe for concurrent
// use; run independent hierarchies in parallel instead.
type Hierarchy struct {
	cfg       HierarchyConfig
	n         int
	levels    [][]*Level // [level][instance]
	path      [][]*Level // [core][level]
	top       []*Level   // [core]: path[c][0]
	shared    []int      // [level]: cores per instance
	tlbs      []*TLB
	tlbShift  uint // page shift - line shift
	mem       Memory
	now       []uint64 // per-core time, ps
	last      []int    // per core: tags index of the last first-level hit
	lineShift uint
	lineBytes uint32
	// simple is set when every level is non-inclusive, write-back and
	// write-allocate and nothing prefetches: misses then take simpleMiss,
	// a loop without the branches the general path needs (about twice as
	// fast on a stream of misses). Both paths give identical results
	// (TestSimplePathMatchesGeneral).
	simple bool
	// repeatOK: a repeated first-level hit needs nothing but a counter,
	// the LRU stamp and the time (inline LRU, no prefetcher, no TLB), so
	// Run handles it without calling ref.
	repeatOK bool
	// lines: the hierarchy is simple, every level is inline LRU and there
	// is no TLB, so multi-line events take runLines.
	lines bool
	// fast: Run takes the fast path of fast.go (fastOK), with state fs.
	fast bool
	fs   *fastState
	// mru: the two levels of a one-core 4-way + 8-way hierarchy keep
	// their sets in recency order for mru2Run (mru.go), not in stamps.
	mru bool
	// coreOf maps a trace thread to its core (thread mod Cores).
	coreOf [256]uint8
	// ws holds each core's write-streaming detector and wsAfter each
	// level's threshold (max uint64: never); ws is nil when no level
	// streams (stream.go).
	ws      []streamDetector
	wsAfter []uint64
}

// NewHierarchy builds the levels of cfg. It never panics on bad input.
func NewHierarchy(cfg HierarchyConfig) (*Hierarchy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hierarchy{
		cfg: cfg, n: len(cfg.Levels), mem: cfg.Memory,
		now: make([]uint64, cfg.Cores), last: make([]int, cfg.Cores), lineBytes: uint32(cfg.Levels[0].LineBytes),
	}
	anyPF := false
	for i, lc := range cfg.Levels {
		s := sharedBy(lc)
		h.shared = append(h.shared, s)
		var insts []*Level
		for j := 0; j < instances(cfg.Cores, s); j++ {
			c := lc
			c.Seed = DeriveSeed(lc.Seed, uint64(j))
			l, err := New(c)
			if err != nil {
				return nil, &LevelError{Level: i, Name: lc.Name, Err: err}
			}
			l.pos, l.inst = i, j
			l.latPS = uint64(lc.LatencyCycles) * cfg.CyclePS
			anyPF = anyPF || l.pf != nil
			insts = append(insts, l)
		}
		h.levels = append(h.levels, insts)
		h.lineShift = insts[0].lineShift
	}
	if anyPF {
		for _, insts := range h.levels {
			for _, l := range insts {
				l.trackPrefetch()
			}
		}
	}
	h.repeatOK = h.levels[0][0].inlineLRU && h.levels[0][0].pf == nil && cfg.TLB == nil
	h.simple = !anyPF
	h.lines = cfg.TLB == nil
	for i, lc := range cfg.Levels {
		if lc.Inclusion != NonInclusive || lc.Write != WriteBack || !lc.WriteAllocate {
			h.simple = false
		}
		if !h.levels[i][0].inlineLRU {
			h.lines = false
		}
	}
	h.initStreaming()
	if h.ws != nil {
		// Every store must reach the detector and every store miss the
		// allocation decision: only the general path does both.
		h.simple = false
	}
	h.lines = h.lines && h.simple
	h.fast = h.fastOK()
	if h.fast {
		h.fs = &fastState{pend: make([]uint64, cfg.Cores)}
		// Only the fast path reads signatures, so only its levels pay
		// for keeping them.
		for _, insts := range h.levels {
			for _, l := range insts {
				if sigWays(l.inlineLRU, l.ways) {
					l.sig, l.laneBits = make([]uint64, l.sets), uint(64/l.ways)
				}
			}
		}
	}
	for t := range h.coreOf {
		h.coreOf[t] = uint8(t % cfg.Cores)
	}
	for c := 0; c < cfg.Cores; c++ {
		p := make([]*Level, h.n)
		for i := range p {
			p[i] = h.levels[i][c/h.shared[i]]
		}
		h.path = append(h.path, p)
		h.top = append(h.top, p[0])
	}
	if cfg.TLB != nil {
		for c := 0; c < cfg.Cores; c++ {
			t := *cfg.TLB
			t.Seed = DeriveSeed(t.Seed, uint64(c))
			tlb, err := NewTLB(t)
			if err != nil {
				return nil, err
			}
			h.tlbs = append(h.tlbs, tlb)
		}
		h.tlbShift = h.tlbs[0].pageShift - h.lineShift
	}
	return h, nil
}

// Config returns the configuration the hierarchy was built from.
func (h *Hierarchy) Config() HierarchyConfig { return h.cfg }

// Level returns instance inst of level i.
func (h *Hierarchy) Level(i, inst int) *Level {
	h.leaveMRU() // its methods read stamps and signatures
	return h.levels[i][inst]
}

// LevelStats returns the counters of instance inst of level i, as
// Level(i, inst).Stats() does, without making the levels leave recency
// order (mru.go): the timing model reads them after every chunk.
func (h *Hierarchy) LevelStats(i, inst int) Stats { return h.levels[i][inst].st }

// Instances returns the number of instances of level i.
func (h *Hierarchy) Instances(i int) int { return len(h.levels[i]) }

// Levels returns the number of levels.
func (h *Hierarchy) Levels() int { return h.n }

// LevelStats are one level's counters summed over its instances.
type LevelStats struct {
	Name      string
	Instances int
	Stats
}

// Stats returns every level's counters, nearest the core first.
func (h *Hierarchy) Stats() []LevelStats {
	out := make([]LevelStats, h.n)
	for i, insts := range h.levels {
		out[i] = LevelStats{Name: h.cfg.Levels[i].Name, Instances: len(insts)}
		for _, l := range insts {
			out[i].Add(&l.st)
		}
	}
	return out
}

// TLBStats returns the data-TLB counters summed over cores, and false
// when there is no TLB.
func (h *Hierarchy) TLBStats() (TLBStats, bool) {
	var s TLBStats
	for _, t := range h.tlbs {
		s.Accesses += t.st.Accesses
		s.Misses += t.st.Misses
	}
	return s, h.tlbs != nil
}

// Now returns core c's simulated time in picoseconds.
func (h *Hierarchy) Now(c int) uint64 { return h.now[c] }

// Time returns the latest core time in picoseconds.
func (h *Hierarchy) Time() uint64 {
	var t uint64
	for _, n := range h.now {
		t = max(t, n)
	}
	return t
}

// Run simulates events in order. Each event is split into the lines it
// spans; every line is one reference. Reads and writes are demand
// references; prefetch events are hints offered to the prefetchers of the
// core's levels. Each core's time advances by the service time of its
// demand references (a blocking core; the timing model of package sim
// may do better).
func (h *Hierarchy) Run(events []trace.Event) {
	if h.fast {
		h.runFast(events)
		return
	}
	shift := h.lineShift
	cores := uint(h.cfg.Cores)
	cg := h.cfg.Straddle == StraddleCachegrind
	for i := range events {
		e := &events[i]
		c := uint(e.Thread)
		if c >= cores {
			c %= cores
		}
		ln := e.Addr >> shift
		last := ln
		if e.Size > 1 {
			end := e.Addr + uint64(e.Size) - 1
			if end < e.Addr { // wraps past the top of the address space
				end = ^uint64(0)
			}
			last = end >> shift
		}
		k := e.Kind
		if k > trace.Write {
			if k == trace.Prefetch {
				for ; ; ln++ {
					h.hint(int(c), Line(ln))
					if ln == last {
						break
					}
				}
			}
			continue
		}
		if cg && last != ln {
			h.cachegrindRef(int(c), ln, last, k == trace.Write)
			continue
		}
		write := k == trace.Write
		if h.ws != nil {
			if write {
				h.streamStores(int(c), e.Addr, e.Size, ln, last)
				continue
			}
			h.observeLoad(int(c), ln, last)
		}
		if h.lines && last != ln {
			h.runLines(int(c), ln, last, write)
			continue
		}
		l := h.top[c]
		if !h.repeatOK || write && !l.writeBack {
			for ; ; ln++ {
				h.ref(int(c), ln, write)
				if ln == last {
					break
				}
			}
			continue
		}
		// The hit path of ref, inline, for a first level that needs nothing
		// but counters, the LRU stamp and the time on a hit (inline LRU,
		// no prefetcher, no TLB), and for stores a write-back level.
		for ; ; ln++ {
			key := ln | fValid
			idx := h.last[c]
			if l.tags[idx]&^fDirty != key {
				base := int(ln&l.setMask) * l.stride
				w := l.find(base, key)
				if w < 0 && h.simple {
					if write {
						l.st.WriteAccesses++
						l.st.WriteMisses++
					} else {
						l.st.ReadAccesses++
						l.st.ReadMisses++
					}
					h.simpleMiss(int(c), l, Line(ln), write)
					if ln == last {
						break
					}
					continue
				}
				if w < 0 || l.tags[base+w]&fUntouched != 0 {
					h.ref(int(c), ln, write)
					if ln == last {
						break
					}
					continue
				}
				idx = base + w
				h.last[c] = idx
			}
			if write {
				l.st.WriteAccesses++
				l.tags[idx] |= fDirty
			} else {
				l.st.ReadAccesses++
			}
			// A line that was the level's last reference is already its
			// set's most recent; stamping it again would change nothing.
			if s := idx + l.ways; l.tags[s]>>8 != l.clock {
				l.clock++
				l.tags[s] = l.clock<<8 | l.tags[s]&0xff
			}
			h.now[c] += l.latPS
			if ln == last {
				break
			}
		}
	}
}

// Load simulates one demand load of the line holding addr by core c.
func (h *Hierarchy) Load(c int, addr Addr) {
	h.leaveMRU()
	c %= h.cfg.Cores
	ln := uint64(addr) >> h.lineShift
	if h.ws != nil {
		h.observeLoad(c, ln, ln)
	}
	h.ref(c, ln, false)
}

// Store simulates one demand store to the line holding addr by core c.
// It is a store of less than a line: it ends a write-streaming run (Run
// events that cover whole lines to stream).
func (h *Hierarchy) Store(c int, addr Addr) {
	h.leaveMRU()
	c %= h.cfg.Cores
	ln := uint64(addr) >> h.lineShift
	if h.ws != nil {
		h.observeStore(c, ln, false)
	}
	h.ref(c, ln, true)
}

// Hint offers a prefetch hint for the line holding addr to core c's
// prefetchers.
func (h *Hierarchy) Hint(c int, addr Addr) {
	h.leaveMRU()
	h.hint(c%h.cfg.Cores, Line(uint64(addr)>>h.lineShift))
}

// ref is one demand reference by core c to line ln: the hot path. The
// slot of the core's previous first-level hit is checked first, since
// consecutive references to one line are the common case (a record per
// element, several rows in one line); it is verified, so a stale slot is
// harmless. A first-level hit then costs one tag compare and a stamp.
func (h *Hierarchy) ref(c int, ln uint64, write bool) {
	if h.tlbs != nil {
		h.tlbs[c].access(ln >> h.tlbShift)
	}
	l := h.top[c]
	if write {
		l.st.WriteAccesses++
	} else {
		l.st.ReadAccesses++
	}
	key := ln | fValid
	idx := h.last[c]
	t := l.tags[idx]
	if t&^fDirty != key {
		base := int(ln&l.setMask) * l.stride
		w := l.find(base, key)
		if w < 0 {
			set := int(ln & l.setMask)
			if write {
				l.st.WriteMisses++
			} else {
				l.st.ReadMisses++
			}
			if h.simple {
				h.simpleMiss(c, l, Line(ln), write)
			} else {
				h.topMiss(c, l, set, Line(ln), write)
			}
			return
		}
		idx = base + w
		t = l.tags[idx]
		h.last[c] = idx
	}
	now := h.now[c] + l.latPS
	if t&fUntouched != 0 {
		now = l.firstUse(idx, now)
	}
	if l.inlineLRU {
		// A line that was the level's last reference is already its set's
		// most recent; stamping it again would change nothing.
		if s := idx + l.ways; l.tags[s]>>8 != l.clock {
			l.clock++
			l.tags[s] = l.clock<<8 | l.tags[s]&0xff
		}
	} else {
		set := int(ln & l.setMask)
		l.repl.OnHit(set, idx-set*l.stride)
	}
	if write {
		if l.writeBack {
			l.tags[idx] |= fDirty // firstUse may have changed the flags since t was read
		} else {
			l.st.WriteThroughs++
			h.writeData(1, c, Line(ln), now, false)
		}
	}
	h.now[c] = now
	if l.pf != nil {
		h.trigger(0, c, l, Line(ln), write, true, t&fPrefetched != 0, now)
	}
}

// runLines serves the references of one event spanning lines
// first..last in a simple, all-LRU hierarchy without a TLB: the loop the
// Run/ref/simpleMiss path would take, with the per-call work (loading the
// path, the level fields) done once per event rather than once per line.
// Weight rows are events of tens of lines that mostly miss, so this is
// where engine traces spend their time.
func (h *Hierarchy) runLines(c int, first, last uint64, write bool) {
	path := h.path[c]
	n := len(path)
	now := h.now[c]
	lastIdx := h.last[c]
	for ln := first; ; ln++ {
		key := ln | fValid
		i := 0
		for ; i < n; i++ {
			l := path[i]
			now += l.latPS
			if write {
				l.st.WriteAccesses++
			} else {
				l.st.ReadAccesses++
			}
			base := int(ln&l.setMask) * l.stride
			if w := l.find(base, key); w >= 0 {
				s := l.tags[base : base+l.stride]
				l.clock++
				s[l.ways+w] = l.clock<<8 | uint64(w)
				if i == 0 {
					if write {
						s[w] |= fDirty
					}
					lastIdx = base + w
				}
				break
			}
			if write {
				l.st.WriteMisses++
			} else {
				l.st.ReadMisses++
			}
		}
		if i == n {
			if d := h.mem.Access(ln<<h.lineShift, h.lineBytes, trace.Read, c, now); d > now {
				now = d
			}
		}
		for i--; i >= 0; i-- {
			l := path[i]
			base := int(ln&l.setMask) * l.stride
			w := l.lruVictim(base + l.ways)
			s := l.tags[base : base+l.stride]
			if tag := s[w]; tag&fValid != 0 {
				l.st.Evictions++
				if tag&fDirty != 0 {
					l.st.Writebacks++
					h.writeData(i+1, c, Line(tag&lineMask), now, false)
				}
			}
			f := key
			if write && i == 0 {
				f |= fDirty
				lastIdx = base + w
			} else if i == 0 {
				lastIdx = base + w
			}
			l.setLine(int(ln&l.setMask), w, base+w, f)
			l.clock++
			s[l.ways+w] = l.clock<<8 | uint64(w)
			l.st.Fills++
		}
		if ln == last {
			break
		}
	}
	h.now[c] = now
	h.last[c] = lastIdx
}

// simpleMiss serves a first-level demand miss (counted by the caller) in
// a simple hierarchy: look the line up level by level, fetch it from
// memory if no level has it, then fill every level that missed, deepest
// first, exactly as the general path does.
func (h *Hierarchy) simpleMiss(c int, l1 *Level, ln Line, write bool) {
	path := h.path[c]
	key := uint64(ln) | fValid
	now := h.now[c] + l1.latPS
	i := 1
	for ; i < len(path); i++ {
		l := path[i]
		now += l.latPS
		if write {
			l.st.WriteAccesses++
		} else {
			l.st.ReadAccesses++
		}
		set := int(uint64(ln) & l.setMask)
		if w := l.find(set*l.stride, key); w >= 0 {
			l.touch(set, w, set*l.stride+w)
			break
		}
		if write {
			l.st.WriteMisses++
		} else {
			l.st.ReadMisses++
		}
	}
	if i == len(path) {
		if d := h.mem.Access(uint64(ln)<<h.lineShift, h.lineBytes, trace.Read, c, now); d > now {
			now = d
		}
	}
	for i--; i >= 0; i-- {
		l := path[i]
		set := int(uint64(ln) & l.setMask)
		base := set * l.stride
		var way int
		if l.inlineLRU {
			way = l.lruVictim(base + l.ways)
		} else if int(l.nvalid[set]) == l.ways {
			way = l.victim(set)
		} else {
			way = l.find(base, 0) // a hole: its tag word is 0
			l.nvalid[set]++
		}
		idx := base + way
		if tag := l.tags[idx]; tag&fValid != 0 {
			l.st.Evictions++
			if tag&fDirty != 0 {
				l.st.Writebacks++
				h.writeData(i+1, c, Line(tag&lineMask), now, false)
			}
		}
		f := key
		if write && i == 0 {
			f |= fDirty
		}
		l.setLine(set, way, idx, f)
		if l.inlineLRU {
			l.clock++
			l.tags[idx+l.ways] = l.clock<<8 | uint64(way)
		} else {
			l.repl.OnFill(set, way, false)
		}
		l.st.Fills++
		if i == 0 {
			h.last[c] = idx
		}
	}
	h.now[c] = now
}

// topMiss handles a first-level demand miss (counted by the caller).
func (h *Hierarchy) topMiss(c int, l *Level, set int, ln Line, write bool) {
	if l.polluted != nil && l.forgetPolluter(set, ln) {
		l.st.Prefetch.PollutionMisses++
	}
	now := h.now[c] + l.latPS
	var done uint64
	switch {
	case write && !l.cfg.WriteAllocate:
		done = h.writeData(1, c, ln, now, true)
	case write && h.streams(c, 0):
		l.st.StreamingStores++
		done = h.writeData(1, c, ln, now, true)
	default:
		kind := reqRead
		if write {
			kind = reqWrite
		}
		var dirty bool
		done, dirty = h.access(1, c, ln, kind, now)
		var f uint64
		if dirty || (write && l.cfg.Write == WriteBack) {
			f = fDirty
		}
		h.last[c] = h.fill(0, c, l, set, ln, f, done, false)
		if write && l.cfg.Write == WriteThrough {
			l.st.WriteThroughs++
			h.writeData(1, c, ln, done, false)
		}
	}
	h.now[c] = done
	if l.pf != nil {
		h.trigger(0, c, l, ln, write, false, false, done)
	}
}

// reqKind is a request arriving at a level below the first.
type reqKind uint8

const (
	reqRead     reqKind = iota // demand load that missed above
	reqWrite                   // read-for-ownership of a store that missed above
	reqPrefetch                // fetch for a prefetcher above
)

// access serves a fetch of ln at level i for core c, starting at time now,
// and returns when the data is available and whether it comes dirty (from
// an exclusive level handing its line up).
func (h *Hierarchy) access(i, c int, ln Line, kind reqKind, now uint64) (uint64, bool) {
	if i == h.n {
		k := trace.Read
		if kind == reqPrefetch {
			k = trace.Prefetch
		}
		return h.memAccess(ln, k, c, now), false
	}
	l := h.path[c][i]
	t := now + l.latPS
	switch kind {
	case reqRead:
		l.st.ReadAccesses++
	case reqWrite:
		l.st.WriteAccesses++
	default:
		l.st.PrefetchRequests++
	}
	set, way, hit := l.lookup(ln)
	if hit {
		idx := l.index(set, way)
		tag := l.tags[idx]
		switch {
		case kind != reqPrefetch && tag&fUntouched != 0:
			t = l.firstUse(idx, t)
		case l.ready != nil && l.ready[idx] > t:
			t = l.ready[idx]
		}
		l.touch(set, way, idx)
		dirty := false
		if l.cfg.Inclusion == Exclusive {
			// The line moves up: the level above fills it, with its
			// dirty data, and it leaves this level without a write-back.
			dirty = tag&fDirty != 0
			l.clear(set, idx)
		}
		if kind != reqPrefetch && l.pf != nil {
			h.trigger(i, c, l, ln, kind == reqWrite, true, tag&fPrefetched != 0, t)
		}
		return t, dirty
	}
	switch kind {
	case reqRead:
		l.st.ReadMisses++
	case reqWrite:
		l.st.WriteMisses++
	default:
		l.st.PrefetchRequestMisses++
	}
	if kind != reqPrefetch && l.polluted != nil && l.forgetPolluter(set, ln) {
		l.st.Prefetch.PollutionMisses++
	}
	done, dirty := h.access(i+1, c, ln, kind, t)
	if l.cfg.Inclusion != Exclusive {
		var f uint64
		if kind == reqPrefetch {
			f = fUntouched
		}
		if dirty { // the dirty data now lives here; the copy above is clean
			f |= fDirty
			dirty = false
		}
		h.fill(i, c, l, set, ln, f, done, kind == reqPrefetch)
	}
	if kind != reqPrefetch && l.pf != nil {
		h.trigger(i, c, l, ln, kind == reqWrite, false, false, done)
	}
	return done, dirty
}

// writeData delivers store data to level i: a demand store passed on by a
// no-write-allocate level above (demand), or a write-back or
// write-through (not demand). Write-backs and write-throughs do not touch
// replacement state, and one that misses a level goes on down without
// allocating. It returns when the data is accepted.
func (h *Hierarchy) writeData(i, c int, ln Line, now uint64, demand bool) uint64 {
	if i == h.n {
		return h.memAccess(ln, trace.Write, c, now)
	}
	l := h.path[c][i]
	t := now + l.latPS
	if demand {
		l.st.WriteAccesses++
	}
	set, way, hit := l.lookup(ln)
	if hit {
		idx := l.index(set, way)
		tag := l.tags[idx]
		if demand {
			if tag&fUntouched != 0 {
				t = l.firstUse(idx, t)
			}
			l.touch(set, way, idx)
		}
		if l.cfg.Write == WriteBack {
			l.tags[idx] |= fDirty
		} else {
			l.st.WriteThroughs++
			h.writeData(i+1, c, ln, t, false)
		}
		if demand && l.pf != nil {
			h.trigger(i, c, l, ln, true, true, tag&fPrefetched != 0, t)
		}
		return t
	}
	if !demand {
		return h.writeData(i+1, c, ln, t, false)
	}
	l.st.WriteMisses++
	if l.polluted != nil && l.forgetPolluter(set, ln) {
		l.st.Prefetch.PollutionMisses++
	}
	var done uint64
	allocate := l.cfg.WriteAllocate && l.cfg.Inclusion != Exclusive
	if allocate && h.streams(c, i) {
		l.st.StreamingStores++
		allocate = false
	}
	if allocate {
		var dirty bool
		done, dirty = h.access(i+1, c, ln, reqWrite, t)
		var f uint64
		if dirty || l.cfg.Write == WriteBack {
			f = fDirty
		}
		h.fill(i, c, l, set, ln, f, done, false)
		if l.cfg.Write == WriteThrough {
			l.st.WriteThroughs++
			h.writeData(i+1, c, ln, done, false)
		}
	} else {
		done = h.writeData(i+1, c, ln, t, true)
	}
	if l.pf != nil {
		h.trigger(i, c, l, ln, true, false, false, done)
	}
	return done
}

func (h *Hierarchy) memAccess(ln Line, k trace.Kind, c int, now uint64) uint64 {
	d := h.mem.Access(uint64(ln)<<h.lineShift, h.lineBytes, k, c, now)
	if d < now {
		d = now
	}
	return d
}

// fill places ln in set of level i (instance l, on core c's path),
// evicting a victim if the set is full, and returns the line's index.
func (h *Hierarchy) fill(i, c int, l *Level, set int, ln Line, flags, ready uint64, byPrefetch bool) int {
	base := set * l.stride
	way := 0
	switch {
	case l.inlineLRU:
		way = l.victim(set)
		if l.tags[base+way]&fValid != 0 {
			h.evict(i, c, l, set, base+way, byPrefetch, ready)
		}
	case int(l.nvalid[set]) == l.ways:
		way = l.victim(set)
		h.evict(i, c, l, set, base+way, byPrefetch, ready)
	default:
		for w, t := range l.tags[base : base+l.ways] {
			if t&fValid == 0 {
				way = w
				break
			}
		}
	}
	idx := base + way
	l.setLine(set, way, idx, uint64(ln)|fValid|flags)
	if !l.inlineLRU {
		l.nvalid[set]++
	}
	if l.ready != nil {
		l.ready[idx] = ready
		l.forgetPolluter(set, ln)
	}
	l.filled(set, way, idx, byPrefetch)
	l.st.Fills++
	return idx
}

// evict removes the line in idx to make room for a fill and sends it
// where it goes: back-invalidating copies above an inclusive level, into
// an exclusive level below, or down as a write-back if dirty.
func (h *Hierarchy) evict(i, c int, l *Level, set, idx int, byPrefetch bool, now uint64) {
	tag := l.leave(set, idx)
	v := Line(tag & lineMask)
	l.st.Evictions++
	if byPrefetch && l.polluted != nil {
		l.recordPolluter(set, v)
	}
	dirty := tag&fDirty != 0
	if l.cfg.Inclusion == Inclusive && h.backInvalidate(i, l, v) {
		dirty = true
	}
	if i+1 < h.n && h.cfg.Levels[i+1].Inclusion == Exclusive {
		h.victimFill(i+1, c, v, dirty, now)
		return
	}
	if dirty {
		l.st.Writebacks++
		h.writeData(i+1, c, v, now, false)
	}
}

// victimFill puts a line evicted from the level above into exclusive level
// j.
func (h *Hierarchy) victimFill(j, c int, v Line, dirty bool, now uint64) {
	l := h.path[c][j]
	set, way, hit := l.lookup(v)
	if hit { // its own prefetcher brought it in meanwhile
		if dirty {
			l.tags[l.index(set, way)] |= fDirty
		}
		return
	}
	f := fUntouched
	if dirty {
		f |= fDirty
	}
	h.fill(j, c, l, set, v, f, now, false)
}

// backInvalidate removes v from every level above inclusive level i, in
// the instances that share l, and reports whether any copy was dirty.
func (h *Hierarchy) backInvalidate(i int, l *Level, v Line) bool {
	lo := l.inst * h.shared[i]
	hi := min(lo+h.shared[i], h.cfg.Cores)
	dirty := false
	for k := 0; k < i; k++ {
		s := h.shared[k]
		for j := lo / s; j <= (hi-1)/s; j++ {
			u := h.levels[k][j]
			set, way, ok := u.lookup(v)
			if !ok {
				continue
			}
			tag := u.leave(set, u.index(set, way))
			u.st.Invalidations++
			dirty = dirty || tag&fDirty != 0
		}
	}
	return dirty
}

// trigger runs level i's prefetcher after a demand reference to ln.
func (h *Hierarchy) trigger(i, c int, l *Level, ln Line, write, hit, pfHit bool, now uint64) {
	acc := Access{Addr: Addr(uint64(ln) << h.lineShift), Core: c, Write: write, Hit: hit, PrefetchHit: pfHit}
	buf := l.pf.OnAccess(acc, l.pfBuf[:0])
	for _, a := range buf {
		h.issue(i, c, l, a, now)
	}
	l.pfBuf = buf[:0]
}

// hint offers a trace prefetch hint to every prefetcher on core c's path.
func (h *Hierarchy) hint(c int, ln Line) {
	now := h.now[c]
	for i, l := range h.path[c] {
		if l.pf == nil {
			continue
		}
		acc := Access{Addr: Addr(uint64(ln) << h.lineShift), Core: c, Hint: true}
		buf := l.pf.OnAccess(acc, l.pfBuf[:0])
		for _, a := range buf {
			h.issue(i, c, l, a, now)
		}
		l.pfBuf = buf[:0]
	}
}

// issue sends one prefetch of level i for the line holding a.
func (h *Hierarchy) issue(i, c int, l *Level, a Addr, now uint64) {
	ln := Line(uint64(a) >> h.lineShift)
	set, _, hit := l.lookup(ln)
	if hit {
		l.st.Prefetch.Dropped++
		return
	}
	l.st.Prefetch.Issued++
	done, dirty := h.access(i+1, c, ln, reqPrefetch, now)
	f := fUntouched | fPrefetched
	if dirty {
		f |= fDirty
	}
	h.fill(i, c, l, set, ln, f, done, true)
}

// cachegrindRef is one access spanning lines first..last, counted as
// Cachegrind counts it (see StraddleCachegrind): level by level, once per
// level reached.
func (h *Hierarchy) cachegrindRef(c int, first, last uint64, write bool) {
	if h.tlbs != nil {
		for ln := first; ; ln++ {
			h.tlbs[c].access(ln >> h.tlbShift)
			if ln == last {
				break
			}
		}
	}
	now := h.now[c]
	done := now
	for i := 0; i < h.n; i++ {
		l := h.path[c][i]
		now += l.latPS
		done = now
		if write {
			l.st.WriteAccesses++
		} else {
			l.st.ReadAccesses++
		}
		missed := false
		for ln := first; ; ln++ {
			set, way, hit := l.lookup(Line(ln))
			idx := l.index(set, way)
			if hit {
				l.touch(set, way, idx)
			} else {
				missed = true
				var t uint64 = now
				if i == h.n-1 {
					t = h.memAccess(Line(ln), trace.Read, c, now)
					done = max(done, t)
				}
				idx = h.fill(i, c, l, set, Line(ln), 0, t, false)
			}
			if write && i == 0 {
				l.tags[idx] |= fDirty
			}
			if ln == last {
				break
			}
		}
		if !missed {
			break
		}
		if write {
			l.st.WriteMisses++
		} else {
			l.st.ReadMisses++
		}
	}
	h.now[c] = done
}
