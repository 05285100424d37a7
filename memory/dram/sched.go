package dram

import (
	"math"
	"math/bits"
)

// The fast scheduler finds the same command as stepScan without
// evaluating every bank's constraints on every step.
//
// A bank's next command (its cached candidate, see pick) can issue at
// T_b = max(L_b, G_c, floor): L_b the bank's own constraints (tRCD,
// tRAS, tRP, tRC, tWR, tRTP, refresh, the request's arrival), G_c the
// rank/channel constraints shared by every candidate of its class c,
// and floor the command bus and the start of the current read/write
// batch. The classes are PRE (no shared constraint), ACT per (rank,
// bank group) (tRRD, tFAW) and RD/WR per (rank, bank group, direction)
// (tCCD, tWTR, data bus: rank switch, read-write turnaround). With
// V_b = max(L_b, G_c) the earliest command issues at
// x = max(floor, min_b V_b), and the FR-FCFS winner is, among the banks
// with V_b <= x, a column command before ACT/PRE, then the oldest
// request: stepScan's order exactly. Each bank's priority key packs
// that order (RD/WR flag, request age, bank index), so a step is two
// branch-free passes over the banks: the least V_b, then the least key
// among the banks ready by x. Up to 16 banks per channel the passes
// read every bank unrolled and compute V_b from L_b and G_c on the
// fly; beyond, they visit the banks with a candidate and V_b is kept
// per bank (setG updates a class's banks). Keeping V_b current below
// 17 banks too saves about 8 % of the instructions on DRAMsim3's
// organization but ends setG's loop over a class's banks in a
// mispredicted branch (cachegrind's branch simulation: 6.6 -> 10
// mispredicts per request), and was not measurably faster.
//
// Both passes were also written in AVX2 assembly (four banks per
// vector, V_b by a VPERMD of the class table instead of a gather, both
// minimums over whole vectors; tried 2026-11-28, not kept). It ran 5 %
// (8 banks) to 20 % (16 banks) fewer instructions but 9-28 % more time
// per request on the 2-vCPU EPYC VM, also with the stored words loaded
// one by one. A step's pass depends on the stores of the command just
// issued (the winner's L_b and key, its classes' G_c): the vector pass
// is one chain of cross-lane reductions and vector-scalar moves (about
// 10 ns for 8 banks in a dependent loop), which cannot start before all
// its lanes are loaded, while the scalar passes start on the unchanged
// banks as the previous command still issues.
//
// The state changes incrementally:
//   - a bank's candidate changes only when the bank or its queue does.
//     The issued command's bank is re-registered at once: PRE is
//     followed by ACT and ACT by the column command of the same request
//     (no search), a column command by a pick; any other change (a new
//     request, a refresh, a read/write mode switch) marks the bank dirty
//     and the next step re-picks it (flush);
//   - G_c changes only when a rank activates or refreshes one bank (its
//     ACT classes) or a column command issues (every RD/WR class through
//     the data bus, casChanged).
//
// A refresh falling due blocks the banks it covers; a step whose
// earliest command would come at or after the earliest due refresh
// takes stepRefresh, stepScan's search and refresh handling over the
// same V_b. Power-down (a rank's wake-up adds tXP to its commands) and
// organizations with more than 64 banks or classes per channel use
// stepScan throughout.
//
// The issue paths are written for the compiler: they avoid calls on the
// common path (every call makes live values go through the stack),
// update the bank-group times only where their classes are separate,
// and pass the winner through opaque so that the passes use
// conditional moves rather than mispredicted branches.

// maxFastSeq is the first request sequence number the fast scheduler's
// priority key cannot hold (see keyFor).
const maxFastSeq = 1 << 56

// keyFor returns the priority key of a candidate: the least key wins
// among the banks ready at the same time. From the top: not a column
// command, the request's sequence number (56 bits), then below the
// order (sequence numbers are distinct) whether it is a PRE and the
// bank index, so that the step dispatches on the key itself, without
// waiting for a load.
func keyFor(kind uint8, seq uint64, bi int) uint64 {
	var k uint64
	switch kind {
	case cmdACT:
		k = 1 << 63
	case cmdPRE:
		k = 1<<63 | 1<<6
	}
	return k | seq<<7 | uint64(bi)
}

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
	// its class. Index 64 is a sentinel without a candidate (see
	// stepFast).
	cand uint64 // banks with a candidate
	cl   [65]int64
	pk   [65]uint64
	ccls [65]uint8
	// Per bank: its ACT class and its first RD/WR class (+1 for WR).
	actCls [64]uint8
	casCls [64]uint8
	crank  [64]int32 // per class: its rank

	// Per bank: V_b = max(L_b, G_c) of its candidate, MaxInt64 without
	// one and for the sentinel 64 (kept beyond 16 banks; up to 16,
	// scratch for stepsFast's passes).
	v [65]int64

	// Per class: its banks, G_c (clamped at 0: it only meets L_b >= 0
	// in a max) and, for RD/WR classes, G_c without the data-bus term.
	members [64]uint64
	g       [256]int64 // indexed by a uint8 class without a bounds check
	rp      [64]int64
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
	// same times. The fast scheduler then does not even update the
	// bank-group times: older values bind even less (stepScan reads
	// them after a switch at maxFastSeq).
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
	for i := range c.v {
		c.v[i] = math.MaxInt64
	}
	c.g[nc] = math.MaxInt64
	for i := range c.banks {
		b := &c.banks[i]
		c.actCls[i] = uint8(1 + int(b.rank)*c.actBG + int(b.bg)%c.actBG)
		c.casCls[i] = uint8(c.casBase + (int(b.rank)*c.casBG+int(b.bg)%c.casBG)*2)
		c.crank[c.actCls[i]], c.crank[c.casCls[i]], c.crank[c.casCls[i]+1] = b.rank, b.rank, b.rank
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
	common := max(r.lastACT+p.RRDS, r.faw[r.fawI]+p.FAW, 0)
	base := 1 + int(rank)*c.actBG
	if c.actBG == 1 {
		c.setG(base, common)
		return
	}
	for bg, t := range r.lastACTbg {
		c.setG(base+bg, max(common, t+p.RRDL))
	}
}

// setG sets G_c of class ci (g >= 0); beyond 16 banks also the V_b of
// its banks (up to 16, stepsFast computes every V_b: a loop over the
// class's banks would end in a mispredicted branch, which costs more).
func (c *channel) setG(ci int, g int64) {
	ci &= 63
	c.g[ci] = g
	if c.nb <= 16 {
		return
	}
	for m := c.members[ci]; m != 0; m &= m - 1 {
		bi := bits.TrailingZeros64(m) & 63
		c.v[bi] = max(c.cl[bi], g)
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
	var rtrs int64
	if c.busDir != 0 {
		rtrs = p.RTRS
	}
	for ci := c.casBase; ci < c.nc; ci += 2 {
		var off int64
		if c.crank[ci&63] != c.busRank {
			off = rtrs
		}
		c.setG(ci, max(c.rp[ci&63], rd+off, 0))
		c.setG(ci+1, max(c.rp[(ci+1)&63], wr+off, 0))
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

// flush re-picks the dirty banks and moves them between classes.
func (c *channel) flush(wantWrite bool) {
	for d := c.dirty; d != 0; d &= d - 1 {
		c.repick(bits.TrailingZeros64(d)&63, wantWrite)
	}
	c.dirty = 0
}

// repick re-picks bank bi's candidate if its cache is stale and
// registers it in its class.
func (c *channel) repick(bi int, wantWrite bool) {
	b := &c.banks[bi&63]
	if b.n[0]+b.n[1] == 0 {
		c.unplace(bi)
		return
	}
	if !b.cValid || b.cWrite != wantWrite {
		c.pick(b, wantWrite)
	}
	if b.cKind == cmdNone {
		c.unplace(bi)
		return
	}
	c.pk[bi&63] = keyFor(b.cKind, b.cSeq, bi)
	c.place(bi, int(c.classOf(b)), b.cLocal)
}

// place registers bank bi's candidate in class ci (< c.none) with
// L_b = l; its priority key is set by the caller.
func (c *channel) place(bi, ci int, l int64) {
	bi &= 63
	ci &= 63
	bit := uint64(1) << uint(bi)
	c.members[c.ccls[bi]&63] &^= bit
	c.members[ci] |= bit
	c.ccls[bi] = uint8(ci)
	c.cl[bi] = l
	c.v[bi] = max(l, c.g[ci])
	c.cand |= bit
}

// unplace removes bank bi from its class: it has no candidate.
func (c *channel) unplace(bi int) {
	bi &= 63
	bit := uint64(1) << uint(bi)
	c.members[c.ccls[bi]&63] &^= bit
	c.ccls[bi] = uint8(c.none)
	c.v[bi] = math.MaxInt64
	c.cand &^= bit
}

// stepFast is step with the class structure (see the top of this file).
func (c *channel) stepFast(limit int64) bool {
	n, _ := c.stepsFast(limit, &c.nReads, math.MaxInt)
	return n > 0
}

// stepsFast issues commands as stepFast does while *queued >= room
// (checked after each command; the caller checks before the first) and
// returns how many it issued and whether it stopped because no command
// could issue by limit. A loop rather than a call per command: the
// saturated controller spends its time here.
func (c *channel) stepsFast(limit int64, queued *int, room int) (issued int, stopped bool) {
next:
	if *queued < room && issued > 0 {
		return issued, false
	}
	if limit < c.lb || limit < c.cmdFree {
		return issued, true
	}
	if c.writeMode != c.regWrite {
		c.regWrite = c.writeMode
		c.dirty |= c.pending[0]
	}
	if c.dirty != 0 {
		c.flush(c.regWrite)
	}
	// The earliest time any bank's candidate can issue, then among the
	// banks ready by x (V_b <= x) the least priority key wins (a column
	// command's key is below any ACT's or PRE's). All values lie in
	// [0, MaxInt64] (arrivals are clamped to c.now >= 0, G_c at 0), so
	// differences cannot overflow. Up to 16 banks are read unrolled (V_b
	// is MaxInt64 past the last bank), min and max without branches (see
	// opaque).
	var minV int64
	nb := c.nb
	switch {
	case nb <= 8:
		v := &c.v
		v[0], v[1], v[2], v[3] = c.vOf(0), c.vOf(1), c.vOf(2), c.vOf(3)
		v[4], v[5], v[6], v[7] = c.vOf(4), c.vOf(5), c.vOf(6), c.vOf(7)
		minV = min(min(min(v[0], v[1]), min(v[2], v[3])), min(min(v[4], v[5]), min(v[6], v[7])))
	case nb <= 16:
		v := &c.v
		v[0], v[1], v[2], v[3] = c.vOf(0), c.vOf(1), c.vOf(2), c.vOf(3)
		v[4], v[5], v[6], v[7] = c.vOf(4), c.vOf(5), c.vOf(6), c.vOf(7)
		v[8], v[9], v[10], v[11] = c.vOf(8), c.vOf(9), c.vOf(10), c.vOf(11)
		v[12], v[13], v[14], v[15] = c.vOf(12), c.vOf(13), c.vOf(14), c.vOf(15)
		m0 := min(min(min(v[0], v[1]), min(v[2], v[3])), min(min(v[4], v[5]), min(v[6], v[7])))
		m1 := min(min(min(v[8], v[9]), min(v[10], v[11])), min(min(v[12], v[13]), min(v[14], v[15])))
		minV = min(m0, m1)
	default:
		m0, m1 := int64(math.MaxInt64), int64(math.MaxInt64)
		for m := c.cand; m != 0; {
			b0 := bits.TrailingZeros64(m)
			m &= m - 1
			b1 := bits.TrailingZeros64(m)
			m &= m - 1
			m0, m1 = min(m0, c.vAt(b0)), min(m1, c.vAt(b1))
		}
		minV = min(m0, m1)
	}
	if minV == math.MaxInt64 {
		// Nothing to do but refresh, if anything.
		if !c.stepScan(limit) {
			return issued, true
		}
		issued++
		goto next
	}
	x := max(max(minV, c.cmdFree), c.modeAt)
	if x >= c.minDue {
		if !c.stepRefresh(limit) {
			return issued, true
		}
		issued++
		goto next
	}
	if x > limit {
		c.lb = x
		return issued, true
	}
	k0, k1 := uint64(math.MaxUint64), uint64(math.MaxUint64)
	switch {
	case nb <= 8:
		k0 = min(min(c.keyOf(0, x), c.keyOf(1, x)), min(c.keyOf(2, x), c.keyOf(3, x)))
		k1 = min(min(c.keyOf(4, x), c.keyOf(5, x)), min(c.keyOf(6, x), c.keyOf(7, x)))
	case nb <= 16:
		k0 = min(min(min(c.keyOf(0, x), c.keyOf(1, x)), min(c.keyOf(2, x), c.keyOf(3, x))),
			min(min(c.keyOf(4, x), c.keyOf(5, x)), min(c.keyOf(6, x), c.keyOf(7, x))))
		k1 = min(min(min(c.keyOf(8, x), c.keyOf(9, x)), min(c.keyOf(10, x), c.keyOf(11, x))),
			min(min(c.keyOf(12, x), c.keyOf(13, x)), min(c.keyOf(14, x), c.keyOf(15, x))))
	default:
		// Two banks per round; past the last one TrailingZeros64 gives
		// 64, the sentinel without a candidate.
		for m := c.cand; m != 0; {
			b0 := bits.TrailingZeros64(m)
			m &= m - 1
			b1 := bits.TrailingZeros64(m)
			m &= m - 1
			k0, k1 = min(k0, c.keyOf(b0, x)), min(k1, c.keyOf(b1, x))
		}
	}
	key := opaque(min(k0, k1))
	best := int(key & 63)
	b := &c.banks[best]
	switch {
	case key < 1<<63: // a column command
		rank := b.rank
		c.fastCAS(best, x)
		if c.nc != 4 {
			c.casChanged(rank)
		}
		c.lb = c.cmdFree
		issued++
		goto next
	case key&(1<<6) == 0: // ACT
		c.fastACT(best, x)
		c.lb = c.cmdFree
		issued++
		goto next
	}
	// PRE: the bank's next candidate is ACT for the same request (the
	// oldest of its direction), with the same key but for the PRE bit.
	p := c.p
	q := &c.reqs[b.cReq]
	if q.class == classNone {
		q.class = classConflict
	}
	b.openRow = -1
	b.fresh = false
	b.actOK = max(b.actOK, x+p.RP)
	c.cmdFree = x + p.CmdPRE
	c.lb = c.cmdFree
	c.st.pres++
	c.closed(b.rk, x)
	b.cKind = cmdACT
	l := max(b.actOK, q.at)
	b.cLocal = l
	c.pk[best] &^= 1 << 6 // an ACT's key (keyFor)
	c.place(best, int(c.actCls[best]), l)
	issued++
	goto next
}

// fastACT issues the ACT candidate of bank bi at t and registers the
// bank's next candidate directly: the column command of the same
// request, the first hit of the fresh row (it heads its direction's
// list).
func (c *channel) fastACT(bi int, t int64) {
	p := c.p
	bi &= 63
	b := &c.banks[bi]
	q := &c.reqs[b.cReq]
	if q.class == classNone {
		q.class = classMiss
	}
	r := b.rk
	b.openRow = q.row
	b.noHit = [2]bool{}
	b.fresh, b.freshWrite = true, q.write
	b.casOK = t + p.RCD
	b.preOK = max(b.preOK, t+p.RAS)
	b.actOK = max(b.actOK, t+p.RC)
	r.lastACT = t
	if c.actBG != 1 {
		// With merged classes the bank-group term never binds, also
		// when left older than the truth (see initSched).
		r.lastACTbg[b.bg] = t
	}
	r.faw[r.fawI&3] = t
	r.fawI = (r.fawI + 1) & 3
	c.cmdFree = t + p.CmdACT
	c.st.acts++
	c.energy.act += p.e.act
	c.opened(r, t)
	b.cKind = cmdCAS
	var dir uint8
	if q.write {
		dir = 1
	}
	b.cDir = dir
	l := max(b.casOK, q.at)
	b.cLocal = l
	c.pk[bi] &^= 1 << 63
	c.place(bi, int(c.casCls[bi]+dir), l)
	if c.actBG == 1 {
		// actChanged: tRRD from this ACT, tFAW from the fourth last.
		c.setG(1+int(b.rank), max(t+p.RRDS, r.faw[r.fawI&3]+p.FAW, 0))
	} else {
		c.actChanged(b.rank)
	}
}

// opaque returns x. The compiler compiles min and max to branches, not
// conditional moves, when the result feeds a load address (as the
// winning bank's index does); a scheduling decision is a random branch,
// so mispredictions would cost more than the moves. It does not see
// through the float64 round trip when it decides, and removes it later.
func opaque(x uint64) uint64 { return math.Float64bits(math.Float64frombits(x)) }

// stepRefresh is stepFast when a refresh may be due before the next
// command: stepScan's search and refresh handling, over the banks'
// V_b = max(L_b, G_c) instead of the rank/channel memo.
func (c *channel) stepRefresh(limit int64) bool {
	floor := max(c.cmdFree, c.modeAt)
	minDue := c.minDue
	bestT, bestKind, bestBank := int64(math.MaxInt64), cmdNone, int32(-1)
	var bestSeq uint64
	for m := c.cand; m != 0; m &= m - 1 {
		bi := bits.TrailingZeros64(m) & 63
		v := c.vOf(bi)
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

// vOf computes V_b = max(L_b, G_c) of bank bi.
func (c *channel) vOf(bi int) int64 {
	bi &= 63
	return max(c.cl[bi], c.g[c.ccls[bi]])
}

// vAt returns V_b of bank bi (a candidate's bank or the sentinel 64).
func (c *channel) vAt(bi int) int64 {
	if bi > 64 {
		bi = 64 // never; lets the compiler drop bounds checks
	}
	return c.v[bi]
}

// keyOf returns bank bi's priority key if its V_b <= x, else MaxUint64.
func (c *channel) keyOf(bi int, x int64) uint64 {
	if bi > 64 {
		bi = 64 // never; lets the compiler drop bounds checks
	}
	return c.pk[bi] | uint64((x-c.v[bi])>>63)
}

// fastCAS issues the column command candidate of bank bi at t (issueCAS
// without power-down, with unlink and updateMode) and registers the
// bank's next candidate at once (pick).
func (c *channel) fastCAS(bi int, t int64) {
	p := c.p
	d := c.d
	bi &= 63
	b := &c.banks[bi]
	i := b.cReq
	q := &c.reqs[i]
	class := q.class
	if class == classNone {
		class = classHit
	}
	rank := b.rank
	r := b.rk
	b.fresh = false
	bursts := int64(q.bursts)
	dur := bursts * p.burst
	last := t + dur - p.burst // a BL32 command is timed like two BL16 ones
	write := q.write
	var end int64
	if write {
		end = t + p.WL + dur
		b.preOK = max(b.preOK, end+p.WR)
		r.lastWrEnd = end
		if c.casBG != 1 {
			r.lastWrBG[b.bg] = end // see the ACT's lastACTbg
		}
		c.busDir = 2
		c.st.writes++
		c.st.writeBursts += uint64(bursts)
		c.energy.wr += float64(p.e.wr * float64(bursts))
	} else {
		end = t + p.RL + dur
		b.preOK = max(b.preOK, last+p.RTP)
		c.busDir = 1
		c.st.reads++
		c.st.readBursts += uint64(bursts)
		c.energy.rd += float64(p.e.rd * float64(bursts))
		c.hist.Add(end - q.orig)
		c.qhist.Add(end - q.at)
	}
	c.energy.io += float64(p.e.io * float64(bursts))
	c.busFree = end
	c.busRank = rank
	r.lastCAS = last
	if c.casBG != 1 {
		r.lastCASbg[b.bg] = last
	}
	if c.nc == 4 {
		// One rank, RD and WR classes 2 and 3 (casChanged's terms);
		// more ranks or bank groups: stepFast calls casChanged (a call
		// here would make the compiler keep values on the stack).
		ccd := last + p.CCDS
		rd, wr := end-p.RL, end-p.WL
		if !write {
			wr += p.Turnaround
		}
		c.setG(2, max(ccd, r.lastWrEnd+p.WTRS, rd, 0))
		c.setG(3, max(ccd, wr, 0))
	}
	c.cmdFree = t + p.CmdCAS
	c.st.outcomes[class&3]++
	c.st.bytes += uint64(q.size)
	c.st.lastDone = max(c.st.lastDone, end)
	if s := d.slotOf(Ticket(q.seq)); s.seq == q.seq {
		s.done = end
	} else if o := q.seq - c.outBase; o < uint64(len(c.out)) {
		c.out[o] = end // a Replay's request
	}
	c.decided++

	// Dequeue (unlink without inval).
	dir := dirOf(write)
	next, prev := q.next, q.prev
	if prev >= 0 {
		c.reqs[prev].next = next
	} else {
		b.head[dir] = next
	}
	if next >= 0 {
		c.reqs[next].prev = prev
	} else {
		b.tail[dir] = prev
	}
	b.n[dir]--
	b.rowCnt[rowIndex(dir, q.row)]--
	if write {
		c.wfilt[c.wfiltIndex(q.block)]--
		c.nWrites--
		c.served++
	} else {
		c.nReads--
	}
	q.next = c.free
	c.free = i
	// updateMode, inlined (see there).
	if c.writeMode {
		if c.nWrites == 0 || c.nReads > 0 && c.served >= p.minSwitch && (c.idleDrain || c.nWrites <= p.lo) {
			c.writeMode, c.idleDrain = false, false
			c.modeAt = max(c.modeAt, t)
		}
	} else if c.nWrites >= p.hi {
		c.writeMode, c.idleDrain = true, false
		c.modeAt = max(c.modeAt, t)
		c.served = 0
	} else if c.nReads == 0 && c.nWrites >= p.idleMin {
		c.writeMode, c.idleDrain = true, true
		c.modeAt = max(c.modeAt, t)
		c.served = 0
	}

	if b.n[0]+b.n[1] == 0 {
		c.pending[0] &^= 1 << uint(bi)
		if p.closed {
			c.autoPrecharge(b, r)
		}
		b.cValid = false
		c.unplace(bi)
		return
	}
	if p.closed && c.hit(b, false) < 0 && c.hit(b, true) < 0 {
		c.autoPrecharge(b, r)
	}
	// pick for a bank that is not fresh. Registered candidates belong
	// to regWrite's mode; after a mode switch the next step re-picks
	// every pending bank.
	want := c.regWrite
	b.cValid, b.cWrite = true, want
	wdir := dirOf(want)
	if b.n[wdir] == 0 {
		b.cKind, b.cReq = cmdNone, -1
		c.unplace(bi)
		return
	}
	var kind uint8
	var ci int
	var l int64
	ri := b.head[wdir]
	if b.openRow >= 0 {
		if h := c.hit(b, want); h >= 0 {
			ri = h
			kind = cmdCAS
		} else {
			kind = cmdPRE
		}
	} else {
		kind = cmdACT
	}
	nq := &c.reqs[ri]
	switch kind {
	case cmdCAS:
		l = max(b.casOK, nq.at)
		b.cDir = uint8(wdir)
		ci = int(c.casCls[bi]) + wdir
	case cmdPRE:
		l = max(b.preOK, nq.at)
	default:
		l = max(b.actOK, nq.at)
		ci = int(c.actCls[bi])
	}
	b.cKind, b.cReq, b.cSeq, b.cLocal = kind, ri, nq.seq, l
	c.pk[bi] = keyFor(kind, nq.seq, bi)
	c.place(bi, ci, l)
}

// autoPrecharge closes bank b's row after its last column command
// (RDA/WRA): no queued request wants the row.
func (c *channel) autoPrecharge(b *bank, r *rank) {
	pre := b.preOK
	b.openRow = -1
	b.actOK = max(b.actOK, pre+c.p.RP)
	c.st.pres++
	c.closed(r, pre)
}
