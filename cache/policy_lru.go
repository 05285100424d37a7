package cache

func init() { RegisterPolicy("lru", newLRU) }

// lru is true least-recently-used replacement. A per-line stamp from a
// per-level clock replaces Cachegrind's move-to-front list: the victim is
// the smallest stamp, which is the list's tail, so both evict the same
// line on every miss.
type lru struct {
	ways  int
	clock uint64
	stamp []uint64
}

func newLRU(sets, ways int, _ uint64) (Policy, error) {
	return &lru{ways: ways, stamp: make([]uint64, sets*ways)}, nil
}

func (p *lru) Victim(set int) int {
	s := p.stamp[set*p.ways : set*p.ways+p.ways]
	v, min := 0, s[0]
	for w := 1; w < len(s); w++ {
		if s[w] < min {
			v, min = w, s[w]
		}
	}
	return v
}

func (p *lru) OnHit(set, way int) {
	p.clock++
	p.stamp[set*p.ways+way] = p.clock
}

func (p *lru) OnFill(set, way int, _ bool) {
	p.clock++
	p.stamp[set*p.ways+way] = p.clock
}
