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

// maxFastSeq is the first request sequence number the fast scheduler's
// priority key cannot hold (flag, 57-bit age, 6-bit bank).
const maxFastSeq = 1 << 57

// scanOnly makes every channel use stepScan (with its caches); tests
// compare the fast scheduler against it and against the plain search.
var scanOnly = false

// sched is the fast scheduler's state. Banks and classes are indexed
// below 64 (checked in initSched), so fixed arrays need no bounds checks.
type sched struct {
	fast     bool
	regWrite bool   // the mode the registered candidates were picked for
	dirty    uint64 // banks whose candidate must be re-picked
	nc       int    // number of classes
	casBase  int    // first RD/WR class; ACT classes are 1..casBase-1, PRE is 0
	// Bank groups with classes of their own (1 when the _L constraints
	// never bind beyond the _S ones, see initSched) for ACT and RD/WR.
	actBG, casBG int

	nb   int // banks
	none int // the class of banks without a candidate (G = MaxInt64)

	// Per bank: the registered candidate's L_b, its priority key
	// (RD/WR first, then the oldest request, then the bank index) and
	// its class; v is scratch.
	// Index 64 is a sentinel without a candidate (see stepFast).
	cand uint64 // banks with a candidate
	cl   [65]int64
	pk   [65]uint64
	ccls [65]uint8
	v    [65]int64
	// Per bank: its ACT class and its first RD/WR class (+1 for WR).
	actCls [64]uint8
	casCls [64]uint8

	// Per class: G_c, and for RD/WR classes G_c without the data-bus
	// term.
	g  [64]int64
	rp [64]int64
}

func (c *channel) initSched() {
	p := c.p
	nb := len(c.banks)
	// A bank group's last ACT (column command, write end) is never later
	// than the rank's (each sets both to the same time, and the rank's
	// only grows as all timings are >= 0), so when tRRD_L <= tRRD_S the
	// bank-group term of an ACT never binds and all ACTs of a rank share
	// G_c; likewise for RD/WR when tCCD_L <= tCCD_S and tWTR_L <= tWTR_S
	// (LPDDR4 and every standard without bank groups). Fewer classes,
	// same times.
	c.actBG, c.casBG = c.nbg, c.nbg
	if p.RRDL <= p.RRDS {
		c.actBG = 1
	}
	if p.CCDL <= p.CCDS && p.WTRL <= p.WTRS {
		c.casBG = 1
	}
	nc := 1 + p.ranks*(c.actBG+2*c.casBG)
	c.fast = !uncached && !scanOnly && p.pdAfter == 0 && nb <= 64 && nc < 64
	if !c.fast {
		return
	}
	c.nc = nc
	c.nb = nb
	c.none = nc
	c.casBase = 1 + p.ranks*c.actBG
	for i := range c.ccls {
		c.ccls[i] = uint8(nc)
	}
	c.pk[64] = math.MaxUint64
	c.g[0] = never
	c.g[nc] = math.MaxInt64
	for i := range c.banks {
		b := &c.banks[i]
		c.actCls[i] = uint8(1 + int(b.rank)*c.actBG + int(b.bg)%c.actBG)
		c.casCls[i] = uint8(c.casBase + (int(b.rank)*c.casBG+int(b.bg)%c.casBG)*2)
	}
	for r := range p.ranks {
		c.actChanged(int32(r))
		c.casChanged(int32(r))
	}
}

// inval drops bank b's cached candidate.
func (c *channel) inval(b *bank) {
	b.cValid = false
	if c.fast {
		c.dirty |= 1 << uint(b.id&63)
	}
}

// actChanged recomputes G_c of the ACT classes of a rank after it
// activated (or refreshed one bank): tRRD and tFAW.
func (c *channel) actChanged(rank int32) {
	p := c.p
	r := &c.ranks[rank]
	common := max(r.lastACT+p.RRDS, r.faw[r.fawI]+p.FAW)
	base := 1 + int(rank)*c.actBG
	if c.actBG == 1 {
		c.g[base&63] = common
		return
	}
	for bg, t := range r.lastACTbg {
		c.g[(base+bg)&63] = max(common, t+p.RRDL)
	}
}

// casChanged recomputes G_c of the RD/WR classes after a column command
// of a rank: that rank's tCCD and tWTR terms, and the data-bus term of
// every class. The terms are casRank's, grouped.
func (c *channel) casChanged(rank int32) {
	p := c.p
	r := &c.ranks[rank]
	base := c.casBase + int(rank)*c.casBG*2
	if c.casBG == 1 {
		ccd := r.lastCAS + p.CCDS
		c.rp[base&63] = max(ccd, r.lastWrEnd+p.WTRS)
		c.rp[(base+1)&63] = ccd
	} else {
		for bg := range c.casBG {
			ccd := max(r.lastCAS+p.CCDS, r.lastCASbg[bg]+p.CCDL)
			ci := (base + 2*bg) & 63
			c.rp[ci] = max(ccd, r.lastWrEnd+p.WTRS, r.lastWrBG[bg]+p.WTRL)
			c.rp[(ci+1)&63] = ccd
		}
	}
	// The data-bus term busFree + gap - latency of casRank: after a read
	// a write adds the turnaround, and a rank other than the last one
	// adds tRTRS (no gap before the first column command).
	rd, wr := c.busFree-p.RL, c.busFree-p.WL
	if c.busDir == 1 {
		wr += p.Turnaround
	}
	for rk := range int32(len(c.ranks)) {
		var off int64
		if c.busDir != 0 && rk != c.busRank {
			off = p.RTRS
		}
		ci := c.casBase + int(rk)*c.casBG*2
		for end := ci + 2*c.casBG; ci < end; ci += 2 {
			c.g[ci&63] = max(c.rp[ci&63], rd+off)
			c.g[(ci+1)&63] = max(c.rp[(ci+1)&63], wr+off)
		}
	}
}

// classOf returns the class of bank b's candidate.
func (c *channel) classOf(b *bank) uint8 {
	switch b.cKind {
	case cmdPRE:
		return 0
	case cmdACT:
		return c.actCls[b.id&63]
	}
	return c.casCls[b.id&63] + b.cDir
}

// flush re-picks the dirty banks and records their candidates.
func (c *channel) flush(wantWrite bool) {
	for d := c.dirty; d != 0; d &= d - 1 {
		bi := bits.TrailingZeros64(d) & 63
		b := &c.banks[bi]
		c.ccls[bi] = uint8(c.none)
		c.cand &^= 1 << uint(bi)
		if b.n[0]+b.n[1] == 0 {
			continue
		}
		if !b.cValid || b.cWrite != wantWrite {
			c.pick(b, wantWrite)
		}
		if b.cKind == cmdNone {
			continue
		}
		c.cand |= 1 << uint(bi)
		c.ccls[bi] = c.classOf(b)
		c.cl[bi] = b.cLocal
		notCAS := uint64(0)
		if b.cKind != cmdCAS {
			notCAS = 1 << 63
		}
		c.pk[bi] = notCAS | b.cSeq<<6 | uint64(bi)
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
	if c.dirty != 0 {
		c.flush(wantWrite)
	}
	// V_b = max(L_b, G_c) for every bank with a candidate, then the
	// earliest; then among the banks with V_b <= x the smallest key.
	// All values lie in [0, MaxInt64] (arrivals are clamped to
	// c.now >= 0), so differences cannot overflow: min and max by sign
	// masks, without branches. With many candidates all banks are
	// scanned four at a time (independent chains), else two candidates
	// per round; past the last one TrailingZeros64 gives 64, a sentinel
	// without a candidate, as are the banks without one.
	var minV int64
	var many bool
	if many = bits.OnesCount64(c.cand) > 4; many {
		m0, m1, m2, m3 := int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64)
		for bi := 0; bi < c.nb; bi += 4 {
			i0, i1, i2, i3 := bi&63, (bi+1)&63, (bi+2)&63, (bi+3)&63
			v0 := maxS(c.cl[i0], c.g[c.ccls[i0]&63])
			v1 := maxS(c.cl[i1], c.g[c.ccls[i1]&63])
			v2 := maxS(c.cl[i2], c.g[c.ccls[i2]&63])
			v3 := maxS(c.cl[i3], c.g[c.ccls[i3]&63])
			c.v[i0], c.v[i1], c.v[i2], c.v[i3] = v0, v1, v2, v3
			m0, m1, m2, m3 = minS(m0, v0), minS(m1, v1), minS(m2, v2), minS(m3, v3)
		}
		minV = minS(minS(m0, m1), minS(m2, m3))
	} else {
		m0, m1 := int64(math.MaxInt64), int64(math.MaxInt64)
		for m := c.cand; m != 0; {
			b0 := bits.TrailingZeros64(m)
			m &= m - 1
			b1 := bits.TrailingZeros64(m)
			m &= m - 1
			v0, v1 := c.vOf(b0), c.vOf(b1)
			m0, m1 = minS(m0, v0), minS(m1, v1)
		}
		minV = minS(m0, m1)
	}
	if minV == math.MaxInt64 {
		return c.stepScan(limit) // nothing to do but refresh, if anything
	}
	x := max(minV, c.cmdFree, c.modeAt)
	if x >= c.minDue {
		return c.stepRefresh(limit)
	}
	if x > limit {
		c.lb = x
		return false
	}
	var key uint64
	if many {
		k0, k1, k2, k3 := uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64)
		for bi := 0; bi < c.nb; bi += 4 {
			i0, i1, i2, i3 := bi&63, (bi+1)&63, (bi+2)&63, (bi+3)&63
			k0 = minU64(k0, c.pk[i0]|uint64((x-c.v[i0])>>63))
			k1 = minU64(k1, c.pk[i1]|uint64((x-c.v[i1])>>63))
			k2 = minU64(k2, c.pk[i2]|uint64((x-c.v[i2])>>63))
			k3 = minU64(k3, c.pk[i3]|uint64((x-c.v[i3])>>63))
		}
		key = minU64(minU64(k0, k1), minU64(k2, k3))
	} else {
		k0, k1 := uint64(math.MaxUint64), uint64(math.MaxUint64)
		for m := c.cand; m != 0; {
			b0 := bits.TrailingZeros64(m)
			m &= m - 1
			b1 := bits.TrailingZeros64(m)
			m &= m - 1
			k0, k1 = minU64(k0, c.keyOf(b0, x)), minU64(k1, c.keyOf(b1, x))
		}
		key = minU64(k0, k1)
	}
	best := int(key & 63)
	b := &c.banks[best]
	c.issueFor(int(b.cKind), int32(best), b.cReq, x)
	c.lb = c.cmdFree
	return true
}

// minS and maxS are min and max of values whose difference cannot
// overflow, without branches.
func minS(a, b int64) int64 {
	d := b - a
	return a + d&(d>>63)
}

func maxS(a, b int64) int64 {
	d := a - b
	return a - d&(d>>63)
}

// minU64 is min without branches.
func minU64(a, b uint64) uint64 {
	_, lt := bits.Sub64(b, a, 0)
	return a ^ (a^b)&-lt
}

// stepRefresh is stepFast when a refresh may be due before the next
// command: stepScan's search and refresh handling, over the V_b that
// stepFast just computed instead of the rank/channel memo.
func (c *channel) stepRefresh(limit int64) bool {
	floor := max(c.cmdFree, c.modeAt)
	minDue := c.minDue
	bestT, bestKind, bestBank := int64(math.MaxInt64), cmdNone, int32(-1)
	var bestSeq uint64
	for m := c.cand; m != 0; m &= m - 1 {
		bi := bits.TrailingZeros64(m) & 63
		v := c.v[bi]
		b := &c.banks[bi]
		kind := int(b.cKind)
		t := max(v, floor)
		if t >= minDue && !(kind == cmdCAS && b.fresh) && c.refreshBlocks(int32(bi), t) {
			continue
		}
		if t > bestT {
			continue
		}
		seq := b.cSeq
		if t < bestT || (kind == cmdCAS) != (bestKind == cmdCAS) && kind == cmdCAS || (kind == cmdCAS) == (bestKind == cmdCAS) && seq < bestSeq {
			bestT, bestKind, bestBank, bestSeq = t, kind, int32(bi), seq
		}
	}
	best := cand{t: bestT, kind: bestKind, seq: bestSeq, bank: bestBank}
	if bestBank >= 0 {
		best.req = c.banks[bestBank].cReq
	}
	if minDue <= best.t && minDue <= limit {
		c.refreshCands(&best)
	}
	if best.kind == cmdNone || best.t > limit {
		c.lb = min(best.t, minDue)
		return false
	}
	c.issue(&best)
	c.lb = c.cmdFree
	return true
}

// vOf computes and stores V_b of bank bi (0..64).
func (c *channel) vOf(bi int) int64 {
	if bi > 64 {
		bi = 64 // never; lets the compiler drop bounds checks
	}
	v := maxS(c.cl[bi], c.g[c.ccls[bi]&63])
	c.v[bi] = v
	return v
}

// keyOf returns bank bi's priority key if its V_b <= x, else MaxUint64.
func (c *channel) keyOf(bi int, x int64) uint64 {
	if bi > 64 {
		bi = 64
	}
	return c.pk[bi] | uint64((x-c.v[bi])>>63)
}
