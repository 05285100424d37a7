package cache

import "fmt"

// Tag words hold a line address in the low 60 bits and flags in the top
// four, so that one load and one compare decide a hit and the flags come
// along for free.
const (
	fValid      uint64 = 1 << 63
	fDirty      uint64 = 1 << 62
	fUntouched  uint64 = 1 << 61 // filled but not yet referenced by a demand access
	fPrefetched uint64 = 1 << 60 // brought in by this level's own prefetcher
	flagBits           = fDirty | fUntouched | fPrefetched
	keyMask            = ^flagBits // keeps valid bit and line
	lineMask    uint64 = maxLine
)

// Level is one instance of a set-associative cache level: tags, flags and
// the replacement state, with its counters. Levels are driven through a
// Hierarchy, which moves lines between them.
type Level struct {
	cfg       Config
	index     int // position in the hierarchy (0 = nearest the core)
	inst      int // instance number within its level
	sets      int
	ways      int
	setMask   uint64
	lineShift uint
	latPS     uint64
	tags      []uint64
	// nvalid counts the valid lines of each set, so a fill into a full
	// set goes straight to the policy instead of scanning for a hole.
	nvalid []uint16
	// lru is the policy when it is lru: the hit path updates its stamp
	// directly instead of through the interface (a third of the hit cost).
	lru *lru
	// ready holds, per line, the time (ps) its fill completes. It exists
	// only when some level prefetches, because only then can a reference
	// find a line still in flight.
	ready []uint64
	repl  Policy
	pf    Prefetcher
	pfBuf []Addr
	// polluted is the exact per-set record of lines evicted by prefetch
	// fills: ways slots per set, used as a ring (pollNext), holding
	// line|fValid keys. nil when nothing prefetches.
	polluted []uint64
	pollNext []uint16
	st       Stats
}

// New builds one instance of a level. It never panics on a bad
// configuration; it returns the first problem found.
func New(cfg Config) (*Level, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cache %s: %w", cfg.Name, err)
	}
	sets := cfg.Sets()
	repl, err := NewPolicy(cfg.Replacement, sets, cfg.Ways, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", cfg.Name, &FieldError{Field: "replacement", Msg: err.Error()})
	}
	pf, err := NewPrefetcher(cfg.Prefetcher, cfg.LineBytes)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", cfg.Name, err)
	}
	shift := uint(0)
	for 1<<shift < cfg.LineBytes {
		shift++
	}
	l := &Level{
		cfg: cfg, sets: sets, ways: cfg.Ways, setMask: uint64(sets - 1), lineShift: shift,
		tags: make([]uint64, sets*cfg.Ways), nvalid: make([]uint16, sets), repl: repl, pf: pf,
	}
	l.lru, _ = repl.(*lru)
	if pf != nil {
		l.pfBuf = make([]Addr, 0, maxPrefetchDegree)
	}
	return l, nil
}

// trackPrefetch allocates the fill-time and pollution records, needed as
// soon as any level of the hierarchy prefetches.
func (l *Level) trackPrefetch() {
	l.ready = make([]uint64, len(l.tags))
	l.polluted = make([]uint64, len(l.tags))
	l.pollNext = make([]uint16, l.sets)
}

// Config returns the level's configuration.
func (l *Level) Config() Config { return l.cfg }

// Stats returns the level's counters.
func (l *Level) Stats() Stats { return l.st }

// Contains reports whether the line holding addr is present.
func (l *Level) Contains(addr Addr) bool {
	_, _, ok := l.lookup(Line(uint64(addr) >> l.lineShift))
	return ok
}

// Dirty reports whether the line holding addr is present and dirty.
func (l *Level) Dirty(addr Addr) bool {
	set, way, ok := l.lookup(Line(uint64(addr) >> l.lineShift))
	return ok && l.tags[set*l.ways+way]&fDirty != 0
}

// Lines calls f with the byte address of every valid line, in set and way
// order (tests check inclusion invariants with it).
func (l *Level) Lines(f func(addr Addr, dirty bool)) {
	for _, t := range l.tags {
		if t&fValid != 0 {
			f(Addr((t&lineMask)<<l.lineShift), t&fDirty != 0)
		}
	}
}

func (l *Level) lookup(ln Line) (set, way int, ok bool) {
	set = int(uint64(ln) & l.setMask)
	base := set * l.ways
	key := uint64(ln) | fValid
	for w, t := range l.tags[base : base+l.ways] {
		if t&keyMask == key {
			return set, w, true
		}
	}
	return set, 0, false
}

// firstUse handles the first demand reference to a line that arrived
// untouched: it may be a useful (and possibly late) prefetch. t is when
// the reference reaches the level; the result is when the data is there.
func (l *Level) firstUse(idx int, t uint64) uint64 {
	tag := l.tags[idx]
	l.tags[idx] = tag &^ (fUntouched | fPrefetched)
	own := tag&fPrefetched != 0
	if own {
		l.st.Prefetch.Useful++
	}
	if l.ready != nil && l.ready[idx] > t {
		if own {
			l.st.Prefetch.Late++
		}
		t = l.ready[idx]
	}
	return t
}

// recordPolluter notes that a prefetch fill evicted ln from set.
func (l *Level) recordPolluter(set int, ln Line) {
	i := int(l.pollNext[set])
	l.polluted[set*l.ways+i] = uint64(ln) | fValid
	i++
	if i == l.ways {
		i = 0
	}
	l.pollNext[set] = uint16(i)
}

// forgetPolluter removes ln from set's record and reports whether it was
// there.
func (l *Level) forgetPolluter(set int, ln Line) bool {
	key := uint64(ln) | fValid
	r := l.polluted[set*l.ways : set*l.ways+l.ways]
	for i, k := range r {
		if k == key {
			r[i] = 0
			return true
		}
	}
	return false
}

// leave does the bookkeeping common to eviction and invalidation of the
// line in idx and returns its tag.
func (l *Level) leave(set, idx int) uint64 {
	tag := l.clear(set, idx)
	if tag&fUntouched != 0 {
		l.st.UntouchedEvictions++
		if tag&fPrefetched != 0 {
			l.st.Prefetch.Useless++
		}
	}
	return tag
}

// clear invalidates the line in idx and returns its tag.
func (l *Level) clear(set, idx int) uint64 {
	tag := l.tags[idx]
	l.tags[idx] = 0
	l.nvalid[set]--
	return tag
}

// victim asks the policy for the way to evict from a full set.
func (l *Level) victim(set int) int {
	if p := l.lru; p != nil {
		s := p.stamp[set*l.ways : set*l.ways+l.ways]
		v, min := 0, s[0]
		for w := 1; w < len(s); w++ {
			if s[w] < min {
				v, min = w, s[w]
			}
		}
		return v
	}
	way := l.repl.Victim(set)
	if uint(way) >= uint(l.ways) { // a policy out of contract must not crash a run
		way = 0
	}
	return way
}

// filled tells the policy about a fill of way (index idx).
func (l *Level) filled(set, way, idx int, prefetch bool) {
	if p := l.lru; p != nil {
		p.clock++
		p.stamp[idx] = p.clock
		return
	}
	l.repl.OnFill(set, way, prefetch)
}

// touch records a hit on way of set (index idx) with the policy.
func (l *Level) touch(set, way, idx int) {
	if p := l.lru; p != nil {
		p.clock++
		p.stamp[idx] = p.clock
		return
	}
	l.repl.OnHit(set, way)
}
