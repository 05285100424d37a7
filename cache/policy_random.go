package cache

func init() { RegisterPolicy("random", newRandom) }

// random evicts a uniformly chosen way, from a seeded generator so that
// runs repeat exactly.
type random struct {
	ways int
	rng  xorshift
}

func newRandom(_, ways int, seed uint64) (Policy, error) {
	return &random{ways: ways, rng: newXorshift(seed)}, nil
}

func (p *random) Victim(int) int        { return p.rng.below(p.ways) }
func (p *random) OnHit(int, int)        {}
func (p *random) OnFill(int, int, bool) {}
