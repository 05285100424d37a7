package dram

import (
	"math"
	"math/bits"
)

// The fast scheduler finds the same command as stepScan without looking
// at every bank.
//
// A bank's next command (its cached candidate) can issue at
// T_b = max(L_b, G_c, floor): L_b its own constraints (tRCD, tRAS, tRP,
// tRC, refresh, arrival), G_c the rank/channel constraints shared by
// every candidate of its class c, and floor the command bus and the
// start of the current read/write batch. The classes are PRE (no shared
// constraint), ACT per (rank, bank group) (tRRD, tFAW) and RD/WR per
// (rank, bank group, direction) (tCCD, tWTR, data bus). With
// V_b = max(L_b, G_c) the earliest command issues at
// X = max(floor, min_b V_b), and the FR-FCFS winner is, among the banks
// with V_b <= X, a column command before ACT/PRE, then the oldest
// request.
//
// min_b V_b = min_c max(G_c, min over c's banks of L_b), so each step
// looks at the non-empty classes (a few) instead of the banks; only the
// classes whose max(G_c, Lmin_c) <= X are opened to find the winner.
// A bank's candidate changes only when the bank or its queue does
// (inval marks it dirty; the next step re-picks it and moves it between
// classes); G_c changes only when the rank activates (ACT classes) or a
// column command issues anywhere on the channel (RD/WR classes, through
// the data bus), which epochs track.
//
// Refresh and power-down make a candidate's time depend on more than
// these terms (a due refresh blocks the banks it covers, a powered-down
// rank adds tXP), so a step whose earliest command would come at or
// after a refresh is due, and every step with power-down enabled, uses
// stepScan. Organizations with more than 64 banks or classes per
// channel also use stepScan.

// scanOnly makes every channel use stepScan (with its caches); tests
// compare the fast scheduler against it and against the plain search.
var scanOnly = false

// class is the set of banks whose candidates share G_c.
type class struct {
	members uint64 // bit per bank
	lmin    int64  // min cLocal of the members
	g       int64  // G_c (kept while the class has members)
	rank    int32
	bg      int32
	dir     uint8
}

type sched struct {
	fast     bool
	regWrite bool   // the mode the registered candidates were picked for
	dirty    uint64 // banks whose candidate must be re-picked
	nonEmpty uint64 // classes with members
	classes  []class
	// u[c] = max(G_c, Lmin_c), MaxInt64 for an empty class: the
	// earliest any command of the class could issue, floor aside.
	u       []int64
	casBase int // first RD/WR class; ACT classes are 1..casBase-1, PRE is 0
	// G_c to recompute: ACT classes of these ranks, every RD/WR class.
	actDirty uint64
	casDirty bool
}

func (c *channel) initSched() {
	p := c.p
	nb := len(c.banks)
	nbg := c.nbg
	nc := 1 + 3*p.ranks*nbg
	c.fast = !uncached && !scanOnly && p.pdAfter == 0 && nb <= 64 && nc <= 64
	if !c.fast {
		return
	}
	c.casBase = 1 + p.ranks*nbg
	c.classes = make([]class, nc)
	c.u = make([]int64, nc)
	for i := range c.u {
		c.u[i] = math.MaxInt64
	}
	c.classes[0].g = never
	for r := range p.ranks {
		for bg := range nbg {
			a := &c.classes[1+r*nbg+bg]
			a.rank, a.bg = int32(r), int32(bg)
			for dir := range 2 {
				k := &c.classes[c.casBase+(r*nbg+bg)*2+dir]
				k.rank, k.bg, k.dir = int32(r), int32(bg), uint8(dir)
			}
		}
	}
}

// inval drops bank b's cached candidate.
func (c *channel) inval(b *bank) {
	b.cValid = false
	if c.fast {
		c.dirty |= 1 << uint(b.id)
	}
}

// classOf returns the class of bank b's candidate.
func (c *channel) classOf(b *bank) int {
	switch b.cKind {
	case cmdPRE:
		return 0
	case cmdACT:
		return 1 + int(b.rank)*c.nbg + int(b.bg)
	}
	return c.casBase + (int(b.rank)*c.nbg+int(b.bg))*2 + int(b.cDir)
}

// classG computes G_c.
func (c *channel) classG(ci int) int64 {
	k := &c.classes[ci]
	switch {
	case ci == 0:
		return never
	case ci < c.casBase:
		return c.actRank(k.rank, k.bg)
	}
	return c.casRank(k.rank, k.bg, k.dir)
}

// refreshG recomputes G_c and u of the non-empty classes whose
// constraints changed since the last step.
func (c *channel) refreshG() {
	for rm := c.actDirty; rm != 0; rm &= rm - 1 {
		r := bits.TrailingZeros64(rm)
		for ci := 1 + r*c.nbg; ci < 1+(r+1)*c.nbg; ci++ {
			if k := &c.classes[ci]; k.members != 0 {
				k.g = c.actRank(k.rank, k.bg)
				c.u[ci] = max(k.g, k.lmin)
			}
		}
	}
	c.actDirty = 0
	if c.casDirty {
		c.casDirty = false
		for m := c.nonEmpty >> uint(c.casBase); m != 0; m &= m - 1 {
			ci := c.casBase + bits.TrailingZeros64(m)
			k := &c.classes[ci]
			k.g = c.casRank(k.rank, k.bg, k.dir)
			c.u[ci] = max(k.g, k.lmin)
		}
	}
}

// flush re-picks the dirty banks and moves them to their classes.
func (c *channel) flush(wantWrite bool) {
	for d := c.dirty; d != 0; d &= d - 1 {
		bi := bits.TrailingZeros64(d)
		b := &c.banks[bi]
		bit := uint64(1) << uint(bi)
		if ci := b.cCls; ci >= 0 {
			k := &c.classes[ci]
			k.members &^= bit
			switch {
			case k.members == 0:
				c.nonEmpty &^= 1 << uint(ci)
				c.u[ci] = math.MaxInt64
			case b.cLocal == k.lmin:
				lmin := int64(math.MaxInt64)
				for mm := k.members; mm != 0; mm &= mm - 1 {
					lmin = min(lmin, c.banks[bits.TrailingZeros64(mm)].cLocal)
				}
				k.lmin = lmin
				c.u[ci] = max(k.g, lmin)
			}
			b.cCls = -1
		}
		if b.n[0]+b.n[1] == 0 {
			continue
		}
		if !b.cValid || b.cWrite != wantWrite {
			c.pick(b, wantWrite)
		}
		if b.cKind == cmdNone {
			continue
		}
		ci := c.classOf(b)
		k := &c.classes[ci]
		if k.members == 0 {
			c.nonEmpty |= 1 << uint(ci)
			k.g = c.classG(ci)
			k.lmin = b.cLocal
		} else {
			k.lmin = min(k.lmin, b.cLocal)
		}
		c.u[ci] = max(k.g, k.lmin)
		k.members |= bit
		b.cCls = int32(ci)
	}
	c.dirty = 0
}

// stepFast is step with the class structure; see the comment above.
func (c *channel) stepFast(limit int64) bool {
	if limit < c.lb || limit < c.cmdFree {
		return false
	}
	wantWrite := c.writeMode
	if wantWrite != c.regWrite {
		c.regWrite = wantWrite
		c.dirty |= c.pending[0]
	}
	if c.actDirty != 0 || c.casDirty {
		c.refreshG()
	}
	if c.dirty != 0 {
		c.flush(wantWrite)
	}
	p := c.p
	x := int64(math.MaxInt64)
	for _, u := range c.u {
		x = min(x, u)
	}
	if x == math.MaxInt64 {
		return c.stepScan(limit) // nothing to do but refresh, if anything
	}
	x = max(x, c.cmdFree, c.modeAt)
	minDue := int64(math.MaxInt64)
	if p.refresh != 0 {
		for i := range c.ranks {
			minDue = min(minDue, c.ranks[i].refDue)
		}
	}
	if x >= minDue {
		return c.stepScan(limit)
	}
	if x > limit {
		c.lb = x
		return false
	}
	// Among the banks ready at x: a column command first, then the
	// oldest request.
	bestBank := int32(-1)
	bestCAS := false
	var bestSeq uint64
	for ci, u := range c.u {
		if u > x {
			continue
		}
		isCAS := ci >= c.casBase
		if bestCAS && !isCAS {
			continue
		}
		for mm := c.classes[ci].members; mm != 0; mm &= mm - 1 {
			bi := int32(bits.TrailingZeros64(mm))
			b := &c.banks[bi]
			if b.cLocal > x {
				continue
			}
			if bestBank < 0 || isCAS && !bestCAS || b.cSeq < bestSeq {
				bestBank, bestCAS, bestSeq = bi, isCAS, b.cSeq
			}
		}
	}
	b := &c.banks[bestBank]
	c.issueFor(int(b.cKind), bestBank, b.cReq, x)
	c.lb = c.cmdFree
	return true
}
