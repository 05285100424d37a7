package cache

func init() { RegisterPolicy("fifo", newFIFO) }

// fifo evicts the line filled longest ago; hits do not reorder.
type fifo struct {
	ways  int
	clock uint64
	stamp []uint64
}

func newFIFO(sets, ways int, _ uint64) (Policy, error) {
	return &fifo{ways: ways, stamp: make([]uint64, sets*ways)}, nil
}

func (p *fifo) Victim(set int) int {
	s := p.stamp[set*p.ways : set*p.ways+p.ways]
	v, min := 0, s[0]
	for w := 1; w < len(s); w++ {
		if s[w] < min {
			v, min = w, s[w]
		}
	}
	return v
}

func (p *fifo) OnHit(int, int) {}

func (p *fifo) OnFill(set, way int, _ bool) {
	p.clock++
	p.stamp[set*p.ways+way] = p.clock
}
