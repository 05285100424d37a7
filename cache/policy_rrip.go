package cache

func init() {
	RegisterPolicy("srrip", func(sets, ways int, _ uint64) (Policy, error) {
		return &rrip{ways: ways, rrpv: newRRPV(sets, ways)}, nil
	})
	RegisterPolicy("brrip", func(sets, ways int, _ uint64) (Policy, error) {
		return &rrip{ways: ways, rrpv: newRRPV(sets, ways), bimodal: true}, nil
	})
}

// Re-reference interval prediction (Jaleel, Theobald, Steely, Emer,
// "High Performance Cache Replacement Using Re-Reference Interval
// Prediction (RRIP)", ISCA 2010), with 2-bit re-reference prediction
// values (RRPV) and hit-priority promotion.
const (
	rrpvMax  = 3 // distant re-reference
	rrpvLong = 2 // SRRIP's insertion value
	// brripPeriod: BRRIP inserts at rrpvLong once every brripPeriod fills
	// and at rrpvMax otherwise. The paper's epsilon is 1/32; a counter
	// instead of a coin makes runs reproducible without a seed, as in
	// ChampSim's drrip module.
	brripPeriod = 32
)

func newRRPV(sets, ways int) []uint8 {
	r := make([]uint8, sets*ways)
	for i := range r {
		r[i] = rrpvMax
	}
	return r
}

// rripVictim scans for the first way predicted distant, ageing the whole
// set until one is.
func rripVictim(s []uint8) int {
	for {
		for w, v := range s {
			if v >= rrpvMax {
				return w
			}
		}
		for w := range s {
			s[w]++
		}
	}
}

// rrip is SRRIP, or BRRIP when bimodal is set.
type rrip struct {
	ways    int
	rrpv    []uint8
	bimodal bool
	fills   uint32
}

func (p *rrip) Victim(set int) int {
	return rripVictim(p.rrpv[set*p.ways : set*p.ways+p.ways])
}

func (p *rrip) OnHit(set, way int) { p.rrpv[set*p.ways+way] = 0 }

func (p *rrip) OnFill(set, way int, _ bool) {
	v := uint8(rrpvLong)
	if p.bimodal {
		v = bimodalInsert(&p.fills)
	}
	p.rrpv[set*p.ways+way] = v
}

func bimodalInsert(fills *uint32) uint8 {
	*fills++
	if *fills >= brripPeriod {
		*fills = 0
		return rrpvLong
	}
	return rrpvMax
}
