package cache

import "math/bits"

// TLBConfig describes a per-core data TLB.
type TLBConfig struct {
	// Entries is the number of page translations held.
	Entries int
	// Ways is the associativity; Ways == Entries is fully associative.
	Ways int
	// PageBytes is the page size: 4 KiB, 16 KiB, 64 KiB or 2 MiB.
	PageBytes int
	// Replacement names a policy from the registry; "" means lru.
	Replacement string
	// Seed feeds randomized policies.
	Seed uint64
}

// Validate checks the configuration.
func (c TLBConfig) Validate() error {
	switch c.PageBytes {
	case 4 << 10, 16 << 10, 64 << 10, 2 << 20:
	default:
		return fieldErr("dtlb.page", "%d bytes, want 4KiB, 16KiB, 64KiB or 2MiB", c.PageBytes)
	}
	if c.Entries < 1 || c.Entries > 1<<16 {
		return fieldErr("dtlb.entries", "%d, want 1..65536", c.Entries)
	}
	if c.Ways < 1 || c.Ways > c.Entries || c.Entries%c.Ways != 0 {
		return fieldErr("dtlb.ways", "%d, want a divisor of entries (%d)", c.Ways, c.Entries)
	}
	if sets := c.Entries / c.Ways; bits.OnesCount(uint(sets)) != 1 {
		return fieldErr("dtlb.ways", "entries/ways = %d sets, want a power of two", sets)
	}
	if _, ok := policies[c.replacement()]; !ok {
		return fieldErr("dtlb.replacement", "unknown policy %q (known: %v)", c.Replacement, Policies())
	}
	return nil
}

func (c TLBConfig) replacement() string {
	if c.Replacement == "" {
		return "lru"
	}
	return c.Replacement
}

// TLBStats counts data-TLB lookups, one per demand line reference.
type TLBStats struct {
	Accesses uint64
	Misses   uint64
}

// TLB is a set-associative cache of page numbers.
type TLB struct {
	cfg       TLBConfig
	ways      int
	setMask   uint64
	pageShift uint
	tags      []uint64
	repl      Policy
	st        TLBStats
}

// NewTLB builds a TLB.
func NewTLB(cfg TLBConfig) (*TLB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sets := cfg.Entries / cfg.Ways
	repl, err := NewPolicy(cfg.replacement(), sets, cfg.Ways, cfg.Seed)
	if err != nil {
		return nil, &FieldError{Field: "dtlb.replacement", Msg: err.Error()}
	}
	return &TLB{
		cfg: cfg, ways: cfg.Ways, setMask: uint64(sets - 1),
		pageShift: uint(bits.TrailingZeros(uint(cfg.PageBytes))),
		tags:      make([]uint64, cfg.Entries), repl: repl,
	}, nil
}

// Stats returns the counters.
func (t *TLB) Stats() TLBStats { return t.st }

// Access looks up the page of addr, filling it on a miss, and reports a
// hit.
func (t *TLB) Access(addr Addr) bool { return t.access(uint64(addr) >> t.pageShift) }

func (t *TLB) access(page uint64) bool {
	t.st.Accesses++
	set := int(page & t.setMask)
	base := set * t.ways
	key := page | fValid
	for w, k := range t.tags[base : base+t.ways] {
		if k == key {
			t.repl.OnHit(set, w)
			return true
		}
	}
	t.st.Misses++
	way := -1
	for w, k := range t.tags[base : base+t.ways] {
		if k == 0 {
			way = w
			break
		}
	}
	if way < 0 {
		way = t.repl.Victim(set)
		if uint(way) >= uint(t.ways) {
			way = 0
		}
	}
	t.tags[base+way] = key
	t.repl.OnFill(set, way, false)
	return false
}
