package cache

func init() { RegisterPolicy("drrip", newDRRIP) }

// drrip chooses between SRRIP and BRRIP by set dueling (Jaleel et al.,
// ISCA 2010; Qureshi et al., ISCA 2007): a few leader sets always use one
// policy each, and a saturating counter (PSEL) counts their misses; the
// other (follower) sets use whichever policy misses less.
type drrip struct {
	ways   int
	rrpv   []uint8
	period int // leader spacing in sets
	psel   int
	fills  uint32
}

const (
	pselMax  = 1<<10 - 1 // 10-bit counter, as in the paper
	pselInit = 1 << 9
	// drripLeaders is the number of leader sets per policy in large
	// caches (32 in the paper); small caches use one per 8 sets.
	drripLeaders = 32
)

func newDRRIP(sets, ways int, _ uint64) (Policy, error) {
	n := sets / 8
	if n > drripLeaders {
		n = drripLeaders
	}
	if n < 1 {
		n = 1
	}
	return &drrip{ways: ways, rrpv: newRRPV(sets, ways), period: sets / n, psel: pselInit}, nil
}

type duel uint8

const (
	follower duel = iota
	srripLeader
	brripLeader
)

// role: set s leads SRRIP when s is a multiple of the period and BRRIP
// half a period later, so leaders spread evenly over the index space.
func (p *drrip) role(set int) duel {
	switch set % p.period {
	case 0:
		return srripLeader
	case p.period / 2:
		return brripLeader
	}
	return follower
}

func (p *drrip) Victim(set int) int {
	return rripVictim(p.rrpv[set*p.ways : set*p.ways+p.ways])
}

func (p *drrip) OnHit(set, way int) { p.rrpv[set*p.ways+way] = 0 }

// OnFill follows a miss. Demand misses in leader sets move PSEL: up for
// SRRIP's misses, down for BRRIP's; followers use BRRIP while PSEL is
// above its midpoint. Prefetch fills do not vote.
func (p *drrip) OnFill(set, way int, prefetch bool) {
	useBRRIP := p.psel > pselInit
	switch p.role(set) {
	case srripLeader:
		useBRRIP = false
		if !prefetch && p.psel < pselMax {
			p.psel++
		}
	case brripLeader:
		useBRRIP = true
		if !prefetch && p.psel > 0 {
			p.psel--
		}
	}
	v := uint8(rrpvLong)
	if useBRRIP {
		v = bimodalInsert(&p.fills)
	}
	p.rrpv[set*p.ways+way] = v
}
