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
	pos       int // position in the hierarchy (0 = nearest the core)
	inst      int // instance number within its level
	sets      int
	ways      int
	setMask   uint64
	lineShift uint
	latPS     uint64
	// tags holds each set's tag words at [set*stride, set*stride+ways).
	// For lru levels the stride is 2*ways and the ways' LRU stamps follow
	// the tags, so a lookup and its victim choice touch one or two
	// adjacent host cache lines, not two arrays; the simulator is bound by
	// those memory accesses.
	tags   []uint64
	stride int
	// inlineLRU: the level's policy is lru, kept in tags as above rather
	// than in a policy object (repl is nil); the hit path then
	// costs a store instead of an interface call. clock numbers the
	// references; a way's stamp is clock<<8 | way, so the victim is the
	// minimum stamp and its low byte the way, found without a branch per
	// way. An invalid way's stamp is its way number alone: holes win,
	// lowest first.
	inlineLRU bool
	clock     uint64
	// sig holds the set signatures of an inline-lru level of 4 or 8
	// ways in a hierarchy that takes the fast path (sig.go), nil
	// otherwise. laneBits is the width of a way's lane (16 or 8).
	sig       []uint64
	laneBits  uint
	writeBack bool
	// nvalid counts the valid lines of each set of a non-lru level, so a
	// fill into a full set goes straight to the policy instead of
	// scanning for a hole. (An lru victim scan finds holes by their zero
	// stamp.)
	nvalid []uint16
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
	inline := cfg.Replacement == "lru" && cfg.Ways <= 256
	var repl Policy
	if !inline {
		var err error
		repl, err = NewPolicy(cfg.Replacement, sets, cfg.Ways, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("cache %s: %w", cfg.Name, &FieldError{Field: "replacement", Msg: err.Error()})
		}
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
		cfg: cfg, sets: sets, ways: cfg.Ways, stride: cfg.Ways, setMask: uint64(sets - 1), lineShift: shift,
		repl: repl, pf: pf, writeBack: cfg.Write == WriteBack,
	}
	if inline {
		l.inlineLRU, l.stride = true, 2*cfg.Ways
	} else {
		l.nvalid = make([]uint16, sets)
	}
	l.tags = make([]uint64, sets*l.stride)
	if l.inlineLRU {
		for set := 0; set < sets; set++ {
			for w := 0; w < cfg.Ways; w++ {
				l.tags[set*l.stride+cfg.Ways+w] = uint64(w)
			}
		}
	}
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
	return ok && l.tags[set*l.stride+way]&fDirty != 0
}

// Lines calls f with the byte address of every valid line, in set and way
// order (tests check inclusion invariants with it).
func (l *Level) Lines(f func(addr Addr, dirty bool)) {
	for set := 0; set < l.sets; set++ {
		for _, t := range l.tags[set*l.stride : set*l.stride+l.ways] {
			if t&fValid != 0 {
				f(Addr((t&lineMask)<<l.lineShift), t&fDirty != 0)
			}
		}
	}
}

func (l *Level) lookup(ln Line) (set, way int, ok bool) {
	set = int(uint64(ln) & l.setMask)
	if w := l.find(set*l.stride, uint64(ln)|fValid); w >= 0 {
		return set, w, true
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
	if l.sig != nil { // the empty lane is 0; no call, so clear stays inlined
		l.sig[set] &^= (1<<l.laneBits - 1) << (uint(idx-set*l.stride) * l.laneBits & 63)
	}
	if l.inlineLRU {
		l.tags[idx+l.ways] = uint64(idx - set*l.stride)
	} else {
		l.nvalid[set]--
	}
	return tag
}

// index returns the position of way in set within tags.
func (l *Level) index(set, way int) int { return set*l.stride + way }

// victim asks the policy for the way to evict from a full set. An lru
// level may also be asked about a set with holes: the hole's zero stamp
// wins, lowest way first, the way fill would have chosen.
func (l *Level) victim(set int) int {
	if l.inlineLRU {
		return l.lruVictim(set*l.stride + l.ways)
	}
	way := l.repl.Victim(set)
	if uint(way) >= uint(l.ways) { // a policy out of contract must not crash a run
		way = 0
	}
	return way
}

// filled tells the policy about a fill of way (index idx).
func (l *Level) filled(set, way, idx int, prefetch bool) {
	if l.inlineLRU {
		l.clock++
		l.tags[idx+l.ways] = l.clock<<8 | uint64(way)
		return
	}
	l.repl.OnFill(set, way, prefetch)
}

// touch records a hit on way of set (index idx) with the policy.
func (l *Level) touch(set, way, idx int) {
	if l.inlineLRU {
		l.clock++
		l.tags[idx+l.ways] = l.clock<<8 | uint64(way)
		return
	}
	l.repl.OnHit(set, way)
}
