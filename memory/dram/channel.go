package dram

import (
	"math"
	"math/bits"
)

// req is one queued request of a channel.
type req struct {
	seq    uint64
	at     int64 // when the scheduler may consider it
	orig   int64 // arrival as submitted (latency origin)
	block  uint64
	row    int32
	bank   int32
	next   int32 // bank list, oldest first
	prev   int32
	bursts int32
	size   int32
	write  bool
	class  uint8 // first command issued for it: 0 none yet, 1 CAS (hit), 2 ACT (miss), 3 PRE (conflict)
}

const (
	classNone = iota
	classHit
	classMiss
	classConflict
)

type bank struct {
	openRow int32
	rank    int32
	bg      int32
	head    int32
	tail    int32
	nR, nW  int32
	casOK   int64 // earliest RD/WR (ACT + tRCD)
	preOK   int64 // earliest PRE (tRAS, tRTP, write recovery)
	actOK   int64 // earliest ACT (tRP, tRC, refresh)
}

type rank struct {
	lastACT   int64
	lastACTbg []int64
	faw       [4]int64
	fawI      int
	lastCAS   int64
	lastCASbg []int64
	lastWrEnd int64
	lastWrBG  []int64
	refDue    int64
	refBank   int

	// Background energy state: open bank count, union of open time,
	// power-down time.
	open        int
	activeStart int64
	idleFrom    int64
	activeTime  int64
	lastCmd     int64
	pdOpen      int64
	pdClosed    int64
}

// channel is one controller with its banks. Its state only moves
// forward in time: cmdFree is the time the command bus frees, and every
// command issues at or after it.
type channel struct {
	d  *DRAM
	p  *params
	id int

	banks   []bank
	ranks   []rank
	reqs    []req
	free    []int32
	pending []uint64 // bit per bank with queued requests

	nReads, nWrites int
	writeMode       bool
	idleDrain       bool

	cmdFree int64
	now     int64 // simulated up to here (arrival of the last request)
	busFree int64
	busDir  int8 // 0 none, 1 read, 2 write
	busRank int32

	energy energyAcc
}

func newChannel(d *DRAM, id int) *channel {
	p := &d.tm
	o := d.cfg.Org
	c := &channel{d: d, p: p, id: id, busFree: never, cmdFree: 0}
	nb := p.banksPerRnk * p.ranks
	c.banks = make([]bank, nb)
	for i := range c.banks {
		b := &c.banks[i]
		b.openRow = -1
		b.rank = int32(i / p.banksPerRnk)
		b.bg = int32(i % p.banksPerRnk / o.BanksPerGroup)
		b.head, b.tail = -1, -1
		b.casOK, b.preOK, b.actOK = never, never, never
	}
	c.ranks = make([]rank, p.ranks)
	for i := range c.ranks {
		r := &c.ranks[i]
		r.lastACT, r.lastCAS, r.lastWrEnd = never, never, never
		r.faw = [4]int64{never, never, never, never}
		r.lastACTbg = fill(make([]int64, o.BankGroups), never)
		r.lastCASbg = fill(make([]int64, o.BankGroups), never)
		r.lastWrBG = fill(make([]int64, o.BankGroups), never)
		// Stagger ranks' refreshes over the interval, as DRAMsim3's
		// RANK_LEVEL_STAGGERED policy does.
		interval := p.REFI
		if p.refresh == 2 {
			interval = p.refiPB
		}
		r.refDue = interval + interval*int64(i)/int64(p.ranks)
		if p.refresh == 0 {
			r.refDue = math.MaxInt64
		}
	}
	c.reqs = make([]req, p.rq+p.wq)
	c.free = make([]int32, 0, len(c.reqs))
	for i := len(c.reqs) - 1; i >= 0; i-- {
		c.free = append(c.free, int32(i))
	}
	c.pending = make([]uint64, (nb+63)/64)
	return c
}

func fill(s []int64, v int64) []int64 {
	for i := range s {
		s[i] = v
	}
	return s
}

// run simulates the channel up to (not including) time t.
func (c *channel) run(t int64) {
	for c.step(t - 1) {
	}
	c.now = max(c.now, t)
}

func (c *channel) submit(r Request, loc location, seq uint64) {
	at := r.At
	if at < c.now {
		at = c.now
	}
	c.run(at)
	d := c.d
	block := r.Addr >> d.m.blockBits
	b := &c.banks[loc.bank]
	// A read of a block waiting in the write buffer is served from it; a
	// second write to a waiting block merges into it (as DRAMsim3 does).
	for i := b.head; i >= 0; i = c.reqs[i].next {
		q := &c.reqs[i]
		if q.write && q.block == block {
			s := d.slotOf(Ticket(seq))
			s.done = at
			if r.Write {
				d.st.writes++
				d.st.merged++
			} else {
				d.st.reads++
				d.st.forwarded++
				d.hist.Add(at - r.At)
			}
			d.st.bytes += uint64(r.Size)
			d.st.lastDone = max(d.st.lastDone, at)
			return
		}
	}
	// Back-pressure: wait until the queue has room.
	for (r.Write && c.nWrites >= c.p.wq) || (!r.Write && c.nReads >= c.p.rq) {
		d.st.queueFullStalls++
		if !c.step(math.MaxInt64) {
			break
		}
		at = max(at, c.cmdFree)
	}
	c.now = max(c.now, at)
	i := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	q := &c.reqs[i]
	*q = req{
		seq: seq, at: at, orig: r.At, block: block, row: loc.row, bank: int32(loc.bank),
		next: -1, prev: b.tail, bursts: int32((r.Size + c.p.atom - 1) / c.p.atom),
		size: int32(r.Size), write: r.Write,
	}
	if b.tail >= 0 {
		c.reqs[b.tail].next = i
	} else {
		b.head = i
	}
	b.tail = i
	if r.Write {
		b.nW++
		c.nWrites++
	} else {
		b.nR++
		c.nReads++
	}
	c.pending[loc.bank>>6] |= 1 << (loc.bank & 63)
}

func (c *channel) unlink(i int32) {
	q := &c.reqs[i]
	b := &c.banks[q.bank]
	if q.prev >= 0 {
		c.reqs[q.prev].next = q.next
	} else {
		b.head = q.next
	}
	if q.next >= 0 {
		c.reqs[q.next].prev = q.prev
	} else {
		b.tail = q.prev
	}
	if q.write {
		b.nW--
		c.nWrites--
	} else {
		b.nR--
		c.nReads--
	}
	if b.head < 0 {
		c.pending[q.bank>>6] &^= 1 << (q.bank & 63)
	}
	c.free = append(c.free, i)
}

// Command kinds of a candidate.
const (
	cmdNone = iota
	cmdCAS
	cmdACT
	cmdPRE
)

// step issues the next command (or refresh) whose time is <= limit and
// reports whether it did. Among the commands the queued requests need
// next, it picks the one that can issue first; on a tie a column command
// (row hit) beats ACT/PRE, then the oldest request wins: FR-FCFS with
// time skipped between commands.
func (c *channel) step(limit int64) bool {
	p := c.p
	// Read/write mode: writes drain in batches between watermarks, or
	// while no read waits.
	if c.writeMode {
		if c.nWrites == 0 || (c.idleDrain && c.nReads > 0) || (!c.idleDrain && c.nWrites <= p.lo && c.nReads > 0) {
			c.writeMode, c.idleDrain = false, false
		}
	} else if c.nWrites >= p.hi {
		c.writeMode, c.idleDrain = true, false
	} else if c.nReads == 0 && c.nWrites > 0 {
		c.writeMode, c.idleDrain = true, true
	}
	wantWrite := c.writeMode

	bestT := int64(math.MaxInt64)
	bestKind := cmdNone
	var bestSeq uint64
	bestReq, bestBank := int32(-1), int32(-1)
	for w, word := range c.pending {
		for word != 0 {
			bi := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			b := &c.banks[bi]
			if (wantWrite && b.nW == 0) || (!wantWrite && b.nR == 0) {
				continue
			}
			var t int64
			kind := cmdNone
			ri := int32(-1)
			if b.openRow >= 0 {
				for i := b.head; i >= 0; i = c.reqs[i].next {
					q := &c.reqs[i]
					if q.write == wantWrite && q.row == b.openRow {
						ri = i
						break
					}
				}
				if ri >= 0 {
					kind = cmdCAS
					t = c.casReady(b, &c.reqs[ri])
				} else {
					kind = cmdPRE
					ri = c.oldest(b, wantWrite)
					t = max(b.preOK, c.cmdFree, c.reqs[ri].at)
				}
			} else {
				kind = cmdACT
				ri = c.oldest(b, wantWrite)
				t = c.actReady(b, c.reqs[ri].at)
			}
			q := &c.reqs[ri]
			if t < bestT || (t == bestT && (kind == cmdCAS && bestKind != cmdCAS || (kind == cmdCAS) == (bestKind == cmdCAS) && q.seq < bestSeq)) {
				bestT, bestKind, bestSeq, bestReq, bestBank = t, kind, q.seq, ri, bi
			}
		}
	}

	// Refresh takes precedence once due.
	if p.refresh != 0 {
		ri, due := -1, int64(math.MaxInt64)
		for i := range c.ranks {
			if c.ranks[i].refDue < due {
				ri, due = i, c.ranks[i].refDue
			}
		}
		horizon := min(bestT, limit)
		if bestKind == cmdNone && limit == math.MaxInt64 {
			horizon = math.MinInt64 // nothing queued: no reason to run refresh forever
		}
		if due <= horizon {
			if bestKind == cmdNone {
				c.idleRefresh(ri, limit)
			} else {
				c.refresh(ri)
			}
			return true
		}
	}
	if bestKind == cmdNone || bestT > limit {
		return false
	}
	b := &c.banks[bestBank]
	q := &c.reqs[bestReq]
	switch bestKind {
	case cmdACT:
		if q.class == classNone {
			q.class = classMiss
		}
		c.issueACT(b, q.row, bestT)
	case cmdPRE:
		if q.class == classNone {
			q.class = classConflict
		}
		c.issuePRE(b, bestT)
	case cmdCAS:
		if q.class == classNone {
			q.class = classHit
		}
		c.issueCAS(b, bestReq, bestT)
	}
	return true
}

func (c *channel) oldest(b *bank, write bool) int32 {
	for i := b.head; i >= 0; i = c.reqs[i].next {
		if c.reqs[i].write == write {
			return i
		}
	}
	return -1
}

func (c *channel) actReady(b *bank, at int64) int64 {
	p := c.p
	r := &c.ranks[b.rank]
	t := max(b.actOK, c.cmdFree, at)
	t = max(t, r.lastACT+p.RRDS, r.lastACTbg[b.bg]+p.RRDL, r.faw[r.fawI]+p.FAW)
	return c.wake(r, t)
}

func (c *channel) casReady(b *bank, q *req) int64 {
	p := c.p
	r := &c.ranks[b.rank]
	t := max(b.casOK, c.cmdFree, q.at)
	t = max(t, r.lastCAS+p.CCDS, r.lastCASbg[b.bg]+p.CCDL)
	lat := p.RL
	dir := int8(1)
	if q.write {
		lat, dir = p.WL, 2
	}
	var gap int64
	switch {
	case c.busDir == 0:
	case c.busDir == dir:
		if c.busRank != b.rank {
			gap = p.RTRS
		}
	case c.busDir == 1: // read -> write
		gap = p.Turnaround
		if c.busRank != b.rank {
			gap += p.RTRS
		}
	default: // write -> read
		if c.busRank != b.rank {
			gap = p.RTRS
		}
	}
	t = max(t, c.busFree+gap-lat)
	if !q.write {
		t = max(t, r.lastWrEnd+p.WTRS, r.lastWrBG[b.bg]+p.WTRL)
	}
	return c.wake(r, t)
}

// wake adds the power-down exit time when a command at t would find the
// rank powered down.
func (c *channel) wake(r *rank, t int64) int64 {
	if c.p.pdAfter > 0 && t-r.lastCmd > c.p.pdAfter {
		return max(t, r.lastCmd+c.p.pdAfter+c.p.XP)
	}
	return t
}

// touch records a command on a rank at t for power-down accounting.
func (c *channel) touch(r *rank, t int64) {
	if pd := c.p.pdAfter; pd > 0 {
		if gap := t - r.lastCmd; gap > pd+c.p.XP {
			if r.open > 0 {
				r.pdOpen += gap - pd - c.p.XP
			} else {
				r.pdClosed += gap - pd - c.p.XP
			}
		}
	}
	if t > r.lastCmd {
		r.lastCmd = t
	}
}

func (c *channel) opened(r *rank, t int64) {
	if r.open == 0 {
		r.activeStart = max(t, r.idleFrom)
	}
	r.open++
}

func (c *channel) closed(r *rank, t int64) {
	r.open--
	if r.open == 0 {
		if t > r.activeStart {
			r.activeTime += t - r.activeStart
		}
		r.idleFrom = max(r.idleFrom, t)
	}
}

func (c *channel) issueACT(b *bank, row int32, t int64) {
	p := c.p
	r := &c.ranks[b.rank]
	c.touch(r, t)
	b.openRow = row
	b.casOK = t + p.RCD
	b.preOK = max(b.preOK, t+p.RAS)
	b.actOK = max(b.actOK, t+p.RC)
	r.lastACT = t
	r.lastACTbg[b.bg] = t
	r.faw[r.fawI] = t
	r.fawI = (r.fawI + 1) & 3
	c.cmdFree = t + p.CmdACT
	c.d.st.acts++
	c.energy.act += p.e.act
	c.opened(r, t)
}

func (c *channel) issuePRE(b *bank, t int64) {
	p := c.p
	r := &c.ranks[b.rank]
	c.touch(r, t)
	b.openRow = -1
	b.actOK = max(b.actOK, t+p.RP)
	c.cmdFree = t + p.CmdPRE
	c.d.st.pres++
	c.closed(r, t)
}

func (c *channel) issueCAS(b *bank, i int32, t int64) {
	p := c.p
	d := c.d
	q := &c.reqs[i]
	r := &c.ranks[b.rank]
	c.touch(r, t)
	dur := int64(q.bursts) * p.burst
	last := t + dur - p.burst // a BL32 command is timed like two BL16 ones
	var end int64
	if q.write {
		end = t + p.WL + dur
		b.preOK = max(b.preOK, end+p.WR)
		r.lastWrEnd = end
		r.lastWrBG[b.bg] = end
		c.busDir = 2
		d.st.writes++
		d.st.writeBursts += uint64(q.bursts)
		c.energy.wr += p.e.wr * float64(q.bursts)
	} else {
		end = t + p.RL + dur
		b.preOK = max(b.preOK, last+p.RTP)
		c.busDir = 1
		d.st.reads++
		d.st.readBursts += uint64(q.bursts)
		c.energy.rd += p.e.rd * float64(q.bursts)
		d.hist.Add(end - q.orig)
	}
	c.energy.io += p.e.io * float64(q.bursts)
	c.busFree = end
	c.busRank = b.rank
	r.lastCAS = last
	r.lastCASbg[b.bg] = last
	c.cmdFree = t + p.CmdCAS
	switch q.class {
	case classHit:
		d.st.hits++
	case classMiss:
		d.st.misses++
	case classConflict:
		d.st.conflicts++
	}
	d.st.bytes += uint64(q.size)
	d.st.busBytes += uint64(q.bursts) * uint64(p.atom)
	d.st.lastDone = max(d.st.lastDone, end)
	if s := d.slotOf(Ticket(q.seq)); s.seq == q.seq {
		s.done = end
	}
	row := q.row
	c.unlink(i)
	if p.closed {
		// Auto-precharge (RDA/WRA) unless another queued request wants
		// this row.
		for j := b.head; j >= 0; j = c.reqs[j].next {
			if c.reqs[j].row == row {
				return
			}
		}
		pre := b.preOK
		b.openRow = -1
		b.actOK = max(b.actOK, pre+p.RP)
		d.st.pres++
		c.closed(r, pre)
	}
}

// refresh performs a due refresh of rank ri: precharge what it needs,
// then REFab (all banks) or REFpb (the next bank in turn).
func (c *channel) refresh(ri int) {
	p := c.p
	r := &c.ranks[ri]
	due := r.refDue
	first, n := ri*p.banksPerRnk, p.banksPerRnk
	if p.refresh == 2 {
		first, n = ri*p.banksPerRnk+r.refBank, 1
	}
	t := max(due, c.cmdFree)
	c.touch(r, t)
	for i := first; i < first+n; i++ {
		b := &c.banks[i]
		if b.openRow >= 0 {
			pt := max(b.preOK, c.cmdFree, t)
			b.openRow = -1
			rp := p.RP
			if n > 1 {
				rp = p.RPab
			}
			b.actOK = max(b.actOK, pt+rp)
			c.cmdFree = pt + p.CmdPRE
			c.d.st.pres++
			c.closed(r, pt)
		}
	}
	ref := c.cmdFree
	for i := first; i < first+n; i++ {
		ref = max(ref, c.banks[i].actOK)
	}
	c.cmdFree = ref + p.CmdPRE
	c.touch(r, ref)
	if n > 1 {
		for i := first; i < first+n; i++ {
			c.banks[i].actOK = ref + p.RFC
		}
		r.refDue += p.REFI
		c.d.st.refs++
		c.energy.ref += p.e.ref
	} else {
		// REFpb is timed against ACTs like an ACT (tRRD).
		ref = max(ref, r.lastACT+p.RRDS)
		c.banks[first].actOK = ref + p.RFCpb
		r.lastACT = ref
		r.refBank = (r.refBank + 1) % p.banksPerRnk
		r.refDue += p.refiPB
		c.d.st.refsPB++
		c.energy.ref += p.e.refPB
	}
}

// idleRefresh runs the refreshes of rank ri due up to limit while the
// channel has nothing queued. Long idle periods are batched: every
// refresh but the last few only adds its energy and advances the
// schedule, since no bank is open and nothing else happens.
func (c *channel) idleRefresh(ri int, limit int64) {
	p := c.p
	r := &c.ranks[ri]
	interval, keep := p.REFI, int64(1)
	if p.refresh == 2 {
		interval, keep = p.refiPB, int64(p.banksPerRnk)
	}
	if r.open == 0 && limit != math.MaxInt64 {
		due := (limit-r.refDue)/interval + 1
		if skip := due - keep; skip > 0 {
			if pd := p.pdAfter; pd > 0 && interval > pd+p.XP {
				r.pdClosed += skip * (interval - pd - p.XP)
			}
			r.refDue += skip * interval
			r.lastCmd = max(r.lastCmd, r.refDue-interval)
			if p.refresh == 2 {
				c.d.st.refsPB += uint64(skip)
				c.energy.ref += p.e.refPB * float64(skip)
				r.refBank = int((int64(r.refBank) + skip) % int64(p.banksPerRnk))
			} else {
				c.d.st.refs += uint64(skip)
				c.energy.ref += p.e.ref * float64(skip)
			}
			c.cmdFree = max(c.cmdFree, r.refDue-interval)
		}
	}
	c.refresh(ri)
}
