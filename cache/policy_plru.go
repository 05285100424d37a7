package cache

import "fmt"

func init() { RegisterPolicy("plru", newPLRU) }

// plru is tree pseudo-LRU: ways-1 bits per set form a binary tree whose
// bits point towards the less recently used half. A reference flips the
// bits on its path to point away from it; the victim is found by
// following the bits from the root. Arm's Cortex-A76 L1D uses a
// pseudo-LRU of this kind (TRM 100798).
//
// Bit layout per set: node 1 is the root, node n has children 2n and
// 2n+1, leaves ways..2*ways-1 are the ways (heap order). A bit value of 0
// points left, 1 points right.
type plru struct {
	ways  int
	depth int
	bits  []uint64 // one word per set; node n is bit n
}

func newPLRU(sets, ways int, _ uint64) (Policy, error) {
	if ways > 64 || ways&(ways-1) != 0 {
		return nil, fmt.Errorf("plru needs a power-of-two way count up to 64, got %d", ways)
	}
	d := 0
	for 1<<d < ways {
		d++
	}
	return &plru{ways: ways, depth: d, bits: make([]uint64, sets)}, nil
}

func (p *plru) Victim(set int) int {
	b := p.bits[set]
	n := 1
	for i := 0; i < p.depth; i++ {
		n = 2*n + int(b>>n&1)
	}
	return n - p.ways
}

// touch points every node on the path to way away from it.
func (p *plru) touch(set, way int) {
	b := p.bits[set]
	n := way + p.ways
	for n > 1 {
		parent := n / 2
		if n&1 == 0 { // way is in the left subtree: point right
			b |= 1 << parent
		} else {
			b &^= 1 << parent
		}
		n = parent
	}
	p.bits[set] = b
}

func (p *plru) OnHit(set, way int)          { p.touch(set, way) }
func (p *plru) OnFill(set, way int, _ bool) { p.touch(set, way) }
