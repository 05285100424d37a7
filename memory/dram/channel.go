package dram

import (
	"math"
	"math/bits"

	"github.com/edgeprof/edgeprof/memory/internal/histo"
)

// req is one queued request of a channel.
type req struct {
	seq    uint64
	at     int64 // when the scheduler may consider it
	orig   int64 // arrival as submitted (latency origin)
	block  uint64
	row    int32
	bank   int32
	next   int32 // the bank's list of this direction, oldest first
	prev   int32
	bursts int32
	size   int32
	off    uint32 // the first byte's offset in its block
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
	rk      *rank // &channel.ranks[rank]
	id      int32
	openRow int32
	rank    int32
	bg      int32
	// Queued requests per direction (0 read, 1 write), oldest first.
	head [2]int32
	tail [2]int32
	n    [2]int32
	// noHit[dir]: no queued request of that direction targets openRow
	// (learned by a search; forgotten when the row changes or a request
	// for it arrives).
	noHit [2]bool
	// fresh: activated, no column command yet; freshWrite: for which kind.
	fresh      bool
	freshWrite bool
	// Cached next command (see pick), valid while cValid.
	cValid bool
	cWrite bool
	cKind  uint8
	cDir   uint8 // 0 read, 1 write
	cReq   int32
	cLocal int64
	cSeq   uint64
	casOK  int64 // earliest RD/WR (ACT + tRCD)
	preOK  int64 // earliest PRE (tRAS, tRTP, write recovery)
	actOK  int64 // earliest ACT (tRP, tRC, refresh)
	// rowCnt counts queued requests per direction and row modulo 64, so
	// a search for a row hit runs only when one may exist.
	rowCnt [128]uint16 // [rowIndex(dir, row)]
}

// rowIndex is the rowCnt entry of a direction and row.
func rowIndex(dir int, row int32) int { return (dir<<6 | int(row&63)) & 127 }

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
	free    int32    // free entries of reqs, linked through next (-1 ends)
	pending []uint64 // bit per bank with queued requests
	// wfilt counts queued writes per hash of their block, so a request
	// searches the write buffer only when a write to its block may wait.
	wfilt     []uint16
	wfiltBits uint

	nReads, nWrites int
	writeMode       bool
	idleDrain       bool

	cmdFree int64
	now     int64 // simulated up to here (arrival of the last request)
	// lb: no command can issue before lb (valid until the state changes).
	lb      int64
	modeAt  int64
	minDue  int64 // earliest refDue of the ranks (MaxInt64 without refresh)
	busFree int64
	busDir  int8 // 0 none, 1 read, 2 write
	busRank int32

	energy energyAcc

	// Per-step memo of the rank/channel part of command ready times.
	gen     uint64
	nbg     int
	actMemo []memo
	casMemo []memo

	sched // the fast scheduler's state (sched.go)

	// The counters of the requests this channel served; DRAM.Stats sums
	// them. Kept per channel so that Replay can run channels at once.
	st      counters
	hist    histo.Hist
	qhist   histo.Hist // read latency from entry into the queue
	decided uint64
	// out receives the completion times of a Replay's requests: request
	// seq's at out[seq-outBase] (requests submitted one by one use slots).
	out     []int64
	outBase uint64

	// served counts the writes of the current write batch;
	// flushing lets a batch start below idle_write_min (see flushWrites).
	served   int
	flushing bool
}

type memo struct {
	gen uint64
	t   int64
}

func newChannel(d *DRAM, id int) *channel {
	p := &d.tm
	o := d.cfg.Org
	c := &channel{d: d, p: p, id: id, busFree: never, cmdFree: 0, lb: math.MinInt64}
	nb := p.banksPerRnk * p.ranks
	c.banks = make([]bank, nb)
	for i := range c.banks {
		b := &c.banks[i]
		b.id = int32(i)
		b.openRow = -1
		b.rank = int32(i / p.banksPerRnk)
		b.bg = int32(i % p.banksPerRnk / o.BanksPerGroup)
		b.head, b.tail = [2]int32{-1, -1}, [2]int32{-1, -1}
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
	for i := range c.banks {
		c.banks[i].rk = &c.ranks[c.banks[i].rank]
	}
	c.setMinDue()
	c.reqs = make([]req, p.rq+p.wq)
	c.free = -1
	for i := len(c.reqs) - 1; i >= 0; i-- {
		c.reqs[i].next = c.free
		c.free = int32(i)
	}
	c.pending = make([]uint64, (nb+63)/64)
	c.wfiltBits = 8
	for 1<<c.wfiltBits < 8*p.wq && c.wfiltBits < 14 {
		c.wfiltBits++
	}
	c.wfilt = make([]uint16, 1<<c.wfiltBits)
	c.nbg = o.BankGroups
	c.actMemo = make([]memo, p.ranks*o.BankGroups)
	c.casMemo = make([]memo, p.ranks*o.BankGroups*2)
	c.initSched()
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
	if c.fast {
		c.stepsFast(t-1, &c.nReads, 0) // until none is due
	} else {
		for c.stepScan(t - 1) {
		}
	}
	c.now = max(c.now, t)
}

// flushWrites starts draining the writes that wait below idle_write_min
// while nothing else is queued, for callers that need every request
// served (Drain, Wait), as a controller drains its buffer when the
// system does. It must come before such a caller's step: a step with
// only those writes queued would otherwise issue refreshes forever.
func (c *channel) flushWrites() {
	if c.writeMode || c.nWrites == 0 || c.nReads > 0 {
		return
	}
	c.flushing = true
	c.updateMode(max(c.now, c.cmdFree))
	c.flushing = false
}

// drain serves everything queued.
func (c *channel) drain() {
	for {
		c.flushWrites()
		if !c.step(math.MaxInt64) {
			return
		}
	}
}

// submit queues request r (decoded to bank and row, sequence number
// seq) on the channel.
func (c *channel) submit(r Request, bank int, row int32, block, seq uint64) {
	at := max(r.At, c.now)
	if c.fast && (at-1 < c.lb || at-1 < c.cmdFree) {
		c.now = at // run(at) would issue nothing
	} else {
		c.run(at)
	}
	b := &c.banks[bank]
	// A read of bytes that a waiting write holds is served from the
	// write buffer; a write of bytes a waiting write covers merges into
	// it (DRAMsim3 does both for equal addresses).
	h := c.wfiltIndex(block)
	off := uint32(r.Addr) & c.p.blockMask
	if c.wfilt[h] > 0 && c.forward(r, b, block, off, seq, at) {
		return
	}
	p := c.p
	if r.Write && c.nWrites >= p.wq || !r.Write && c.nReads >= p.rq {
		at = c.makeRoom(r.Write, at)
	}
	c.now = max(c.now, at)
	i := c.free
	q := &c.reqs[i]
	c.free = q.next
	dir := dirOf(r.Write)
	// Field by field: a composite literal is built on the stack and
	// copied, which costs a store-forwarding stall.
	tail := b.tail[dir]
	q.seq, q.at, q.orig, q.block = seq, at, r.At, block
	q.row, q.bank, q.next, q.prev = row, int32(bank), -1, tail
	q.bursts = int32((r.Size + p.atom - 1) >> (p.atomBits & 63))
	q.size, q.off, q.write, q.class = int32(r.Size), off, r.Write, classNone
	if tail >= 0 {
		c.reqs[tail].next = i
	} else {
		b.head[dir] = i
	}
	b.tail[dir] = i
	if row == b.openRow {
		b.noHit[dir] = false
	}
	b.rowCnt[rowIndex(dir, row)]++
	// The youngest request changes the bank's next command only if the
	// bank had none of its kind, or it hits a row a PRE would close.
	// (A bank without a valid candidate must be marked for the fast
	// scheduler too.)
	if !b.cValid || b.cWrite == r.Write && (b.cKind == cmdNone || b.cKind == cmdPRE && row == b.openRow) {
		c.inval(b)
	}
	b.n[dir]++
	// updateMode after one more request. Every earlier count change
	// was followed by updateMode, so write mode with a read waiting
	// implies a drain that has not served min_writes_per_switch writes
	// yet, or a watermark drain above lo; read mode implies nReads > 0
	// or nWrites < idle_write_min (nWrites may have reached hi during an
	// idle drain that a read ended).
	if r.Write {
		c.wfilt[h]++
		c.nWrites++
		if !c.writeMode && (c.nWrites >= p.hi || c.nReads == 0 && c.nWrites >= p.idleMin) {
			c.writeMode, c.idleDrain = true, c.nWrites < p.hi
			c.served = 0
			c.modeAt = max(c.modeAt, at)
		}
	} else {
		c.nReads++
		if c.writeMode {
			if c.served >= p.minSwitch && (c.idleDrain || c.nWrites <= p.lo) {
				c.writeMode, c.idleDrain = false, false
				c.modeAt = max(c.modeAt, at)
			}
		} else if c.nWrites >= p.hi {
			c.writeMode = true
			c.served = 0
			c.modeAt = max(c.modeAt, at)
		}
	}
	c.pending[bank>>6] |= 1 << (bank & 63)
	c.lb = min(c.lb, max(at, c.cmdFree))
}

// makeRoom simulates until the queue for writes (or reads) has room
// and returns the time the request enters it.
func (c *channel) makeRoom(write bool, at int64) int64 {
	queued, room := &c.nReads, c.p.rq
	if write {
		queued, room = &c.nWrites, c.p.wq
	}
	// Every step counts as a stall; cmdFree never decreases, so the
	// request enters at the last issued command's cmdFree.
	var steps uint64
	var issued bool
	if c.fast && *queued >= room {
		n, stopped := c.stepsFast(math.MaxInt64, queued, room)
		steps = uint64(n)
		if stopped {
			steps++
		}
		issued = n > 0
	} else {
		for *queued >= room {
			steps++
			if !c.stepScan(math.MaxInt64) {
				break
			}
			issued = true
		}
	}
	c.st.queueFullStalls += steps
	if issued {
		at = max(at, c.cmdFree)
	}
	return at
}

// forward serves request r from the write buffer if a write to its
// block waits there (a read gets its data, a write merges) and reports
// whether it did.
func (c *channel) forward(r Request, b *bank, block uint64, off uint32, seq uint64, at int64) bool {
	d := c.d
	for i := b.head[1]; i >= 0; i = c.reqs[i].next {
		q := &c.reqs[i]
		if q.block == block && off >= q.off && uint64(off)+uint64(r.Size) <= uint64(q.off)+uint64(q.size) {
			if s := d.slotOf(Ticket(seq)); s.seq == seq {
				s.done = at
			} else if o := seq - c.outBase; o < uint64(len(c.out)) {
				c.out[o] = at // a Replay's request
			}
			c.decided++
			if r.Write {
				c.st.writes++
				c.st.merged++
			} else {
				c.st.reads++
				c.st.forwarded++
				c.hist.Add(at - r.At)
				c.qhist.Add(0)
			}
			c.st.bytes += uint64(r.Size)
			c.st.lastDone = max(c.st.lastDone, at)
			return true
		}
	}
	return false
}

func (c *channel) unlink(i int32) {
	c.inval(&c.banks[c.reqs[i].bank])
	c.dequeue(i)
}

// dequeue takes request i out of its bank's list and the queue counts
// (the caller re-picks the bank's candidate).
func (c *channel) dequeue(i int32) {
	q := &c.reqs[i]
	b := &c.banks[q.bank]
	dir := dirOf(q.write)
	if q.prev >= 0 {
		c.reqs[q.prev].next = q.next
	} else {
		b.head[dir] = q.next
	}
	if q.next >= 0 {
		c.reqs[q.next].prev = q.prev
	} else {
		b.tail[dir] = q.prev
	}
	b.n[dir]--
	b.rowCnt[rowIndex(dir, q.row)]--
	if q.write {
		c.wfilt[c.wfiltIndex(q.block)]--
		c.nWrites--
		c.served++
	} else {
		c.nReads--
	}
	if b.n[0]+b.n[1] == 0 {
		c.pending[q.bank>>6] &^= 1 << (q.bank & 63)
	}
	q.next = c.free
	c.free = i
}

// Command kinds of a candidate.
const (
	cmdNone = iota
	cmdCAS
	cmdACT
	cmdPRE
	cmdREFPRE // precharge for a refresh
	cmdREF    // REFab or REFpb
)

// uncached disables the scheduler's caches (per-bank candidates, memo,
// lower bound); tests compare against it.
var uncached = false

// cand is a command the scheduler could issue next.
type cand struct {
	t    int64
	kind int
	seq  uint64
	req  int32
	bank int32
	rank int32 // for refresh commands
}

func (a *cand) better(t int64, kind int, seq uint64) bool {
	if t != a.t {
		return t < a.t
	}
	// Refresh first, then column commands (row hits), then the oldest.
	ra, rb := a.kind >= cmdREF, kind >= cmdREF
	if ra != rb {
		return rb
	}
	ca, cb := a.kind == cmdCAS, kind == cmdCAS
	if ca != cb {
		return cb
	}
	return seq < a.seq
}

// step issues the next command whose time is <= limit and reports
// whether it did. Among the commands the queued requests need next it
// picks the one that can issue first; on a tie a column command (row
// hit) beats ACT/PRE, then the oldest request wins: FR-FCFS with the
// time between commands skipped. A row activated for a request is not
// closed before that request's column command ("fresh" rows), whatever
// the read/write mode or a refresh falling due meanwhile.
func (c *channel) step(limit int64) bool {
	if c.fast {
		return c.stepFast(limit)
	}
	return c.stepScan(limit)
}

// stepScan is step by a search over every bank with queued requests.
func (c *channel) stepScan(limit int64) bool {
	// Every command issues at or after cmdFree, and nothing has changed
	// since a step found no command before lb.
	if !uncached && (limit < c.lb || limit < c.cmdFree) {
		return false
	}
	p := c.p
	wantWrite := c.writeMode
	// No command issues before the mode (read or write batch) it belongs
	// to began.
	floor := max(c.cmdFree, c.modeAt)

	minDue := int64(math.MaxInt64)
	if p.refresh != 0 {
		for i := range c.ranks {
			minDue = min(minDue, c.ranks[i].refDue)
		}
	}
	c.gen++
	bestT, bestKind, bestBank := int64(math.MaxInt64), cmdNone, int32(-1)
	var bestSeq uint64
	for w, word := range c.pending {
		for word != 0 {
			bi := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			b := &c.banks[bi]
			if uncached || !b.cValid || b.cWrite != wantWrite {
				c.pick(b, wantWrite)
			}
			kind := int(b.cKind)
			if kind == cmdNone {
				continue
			}
			t := max(b.cLocal, floor)
			switch kind {
			case cmdCAS:
				i := (int(b.rank)*c.nbg+int(b.bg))*2 + int(b.cDir)
				if m := &c.casMemo[i]; m.gen == c.gen && !uncached {
					t = max(t, m.t)
				} else {
					t = max(t, c.casGlobal(b.rank, b.bg, b.cDir))
				}
			case cmdACT:
				i := int(b.rank)*c.nbg + int(b.bg)
				if m := &c.actMemo[i]; m.gen == c.gen && !uncached {
					t = max(t, m.t)
				} else {
					t = max(t, c.actGlobal(b.rank, b.bg))
				}
			}
			if c.p.pdAfter > 0 {
				t = c.wake(&c.ranks[b.rank], t)
			}
			// Once a refresh of this bank is due, its requests wait
			// (except the first column command of a fresh row).
			if t >= minDue && !(kind == cmdCAS && b.fresh) && c.refreshBlocks(bi, t) {
				continue
			}
			if t > bestT {
				continue
			}
			seq := b.cSeq
			if t < bestT || (kind == cmdCAS) != (bestKind == cmdCAS) && kind == cmdCAS || (kind == cmdCAS) == (bestKind == cmdCAS) && seq < bestSeq {
				bestT, bestKind, bestBank, bestSeq = t, kind, bi, seq
			}
		}
	}
	best := cand{t: bestT, kind: bestKind, seq: bestSeq, bank: bestBank}
	if bestBank >= 0 {
		best.req = c.banks[bestBank].cReq
	}

	if minDue <= best.t && minDue <= limit {
		if c.nReads+c.nWrites == 0 {
			if limit == math.MaxInt64 {
				return false // nothing queued: do not refresh forever
			}
			if c.idleRefresh(limit) {
				return true
			}
		}
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

func (c *channel) issue(x *cand) {
	switch x.kind {
	case cmdREFPRE:
		c.issuePRE(&c.banks[x.bank], x.t)
	case cmdREF:
		c.issueREF(int(x.rank), x.t)
	default:
		c.issueFor(x.kind, x.bank, x.req, x.t)
	}
}

// issueFor issues the ACT, PRE or column command of request ri in bank
// bi at t. (Arguments, not a cand: building a struct and passing its
// address costs a store-forwarding stall per command.)
func (c *channel) issueFor(kind int, bi, ri int32, t int64) {
	b, q := &c.banks[bi], &c.reqs[ri]
	switch kind {
	case cmdACT:
		if q.class == classNone {
			q.class = classMiss
		}
		c.issueACT(b, q, t)
	case cmdPRE:
		if q.class == classNone {
			q.class = classConflict
		}
		c.issuePRE(b, t)
	case cmdCAS:
		if q.class == classNone {
			q.class = classHit
		}
		c.issueCAS(b, ri, t)
	}
}

// updateMode switches between read and write batches; it runs whenever
// the queue counts change, at that event's time tm.
func (c *channel) updateMode(tm int64) {
	p := c.p
	was := c.writeMode
	// Writes drain in batches between the watermarks, or while no read
	// waits and at least idle_write_min writes do (any, when flushing);
	// a waiting read ends a drain only after min_writes_per_switch
	// writes.
	if c.writeMode {
		if c.nWrites == 0 || c.nReads > 0 && c.served >= p.minSwitch && (c.idleDrain || c.nWrites <= p.lo) {
			c.writeMode, c.idleDrain = false, false
		}
	} else if c.nWrites >= p.hi {
		c.writeMode, c.idleDrain = true, false
	} else if c.nReads == 0 && c.nWrites > 0 && (c.nWrites >= p.idleMin || c.flushing) {
		c.writeMode, c.idleDrain = true, true
	}
	if c.writeMode != was {
		c.modeAt = max(c.modeAt, tm)
		c.served = 0
	}
}

// refreshBlocks reports whether a refresh due by t covers bank bi.
func (c *channel) refreshBlocks(bi int32, t int64) bool {
	p := c.p
	r := &c.ranks[c.banks[bi].rank]
	if r.refDue > t {
		return false
	}
	return p.refresh == 1 || int(bi)%p.banksPerRnk == r.refBank
}

// refreshCands adds the commands of due refreshes: PRE of every open
// (not fresh) bank the refresh covers, then REF once they are closed.
func (c *channel) refreshCands(best *cand) {
	p := c.p
	for ri := range c.ranks {
		r := &c.ranks[ri]
		if r.refDue > best.t {
			continue
		}
		first, n := ri*p.banksPerRnk, p.banksPerRnk
		if p.refresh == 2 {
			first, n = ri*p.banksPerRnk+r.refBank, 1
		}
		start := max(c.cmdFree, r.refDue)
		ready := start
		allClosed := true
		for i := first; i < first+n; i++ {
			b := &c.banks[i]
			if b.openRow >= 0 {
				allClosed = false
				if !b.fresh {
					if t := max(b.preOK, start); best.better(t, cmdREFPRE, 0) {
						*best = cand{t: t, kind: cmdREFPRE, bank: int32(i), rank: int32(ri)}
					}
				}
				continue
			}
			ready = max(ready, b.actOK)
		}
		if !allClosed {
			continue
		}
		if n == 1 {
			ready = max(ready, r.lastACT+p.RRDS) // REFpb counts as an ACT for tRRD
		}
		if best.better(ready, cmdREF, 0) {
			*best = cand{t: ready, kind: cmdREF, rank: int32(ri)}
		}
	}
}

// pick caches the command bank b needs next in the given mode: the
// oldest row hit (CAS), else PRE of the open row, else ACT for the
// oldest request; a fresh row's first hit goes first in any mode. The
// cache is cleared whenever the bank's state or queue changes.
func (c *channel) pick(b *bank, wantWrite bool) {
	b.cValid, b.cWrite = true, wantWrite
	b.cKind, b.cReq = cmdNone, -1
	switch {
	case b.openRow >= 0 && b.fresh:
		b.cKind, b.cReq = cmdCAS, c.hit(b, b.freshWrite)
	case b.n[dirOf(wantWrite)] == 0:
		return
	case b.openRow >= 0:
		if ri := c.hit(b, wantWrite); ri >= 0 {
			b.cKind, b.cReq = cmdCAS, ri
		} else {
			b.cKind, b.cReq = cmdPRE, c.oldest(b, wantWrite)
		}
	default:
		b.cKind, b.cReq = cmdACT, c.oldest(b, wantWrite)
	}
	// The bank's own constraints; the channel's and rank's are added per
	// step (casGlobal, actGlobal).
	q := &c.reqs[b.cReq]
	b.cSeq = q.seq
	switch b.cKind {
	case cmdCAS:
		b.cLocal = max(b.casOK, q.at)
		b.cDir = 0
		if q.write {
			b.cDir = 1
		}
	case cmdPRE:
		b.cLocal = max(b.preOK, q.at)
	default:
		b.cLocal = max(b.actOK, q.at)
	}
}

// hit returns the oldest queued request of the direction that targets
// the open row, or -1.
func (c *channel) hit(b *bank, write bool) int32 {
	dir := dirOf(write)
	if b.noHit[dir] || b.rowCnt[rowIndex(dir, b.openRow)] == 0 {
		return -1
	}
	for i := b.head[dir]; i >= 0; i = c.reqs[i].next {
		if c.reqs[i].row == b.openRow {
			return i
		}
	}
	b.noHit[dir] = true
	return -1
}

func (c *channel) oldest(b *bank, write bool) int32 { return b.head[dirOf(write)] }

func dirOf(write bool) int {
	if write {
		return 1
	}
	return 0
}

// wfiltIndex hashes a block address into wfilt (Fibonacci hashing).
func (c *channel) wfiltIndex(block uint64) uint64 {
	return block * 0x9e3779b97f4a7c15 >> ((64 - c.wfiltBits) & 63)
}

// actGlobal returns the earliest ACT time in (rank, bg) allowed by the
// command bus, tRRD and tFAW, memoized for the current step.
func (c *channel) actGlobal(rank, bg int32) int64 {
	i := int(rank)*c.nbg + int(bg)
	g := &c.actMemo[i]
	if g.gen == c.gen {
		return g.t
	}
	t := max(c.cmdFree, c.actRank(rank, bg))
	g.gen, g.t = c.gen, t
	return t
}

// actRank is actGlobal without the command bus: tRRD and tFAW, which
// change only when the rank activates a row (or refreshes a bank).
func (c *channel) actRank(rank, bg int32) int64 {
	p := c.p
	r := &c.ranks[rank]
	return max(r.lastACT+p.RRDS, r.lastACTbg[bg]+p.RRDL, r.faw[r.fawI]+p.FAW)
}

// casGlobal returns the earliest RD (dir 0) or WR (dir 1) time in
// (rank, bg) allowed by the command bus, tCCD, the data bus (rank
// switch and read-write turnaround) and tWTR, memoized per step.
func (c *channel) casGlobal(rank, bg int32, dir uint8) int64 {
	i := (int(rank)*c.nbg+int(bg))*2 + int(dir)
	g := &c.casMemo[i]
	if g.gen == c.gen {
		return g.t
	}
	t := max(c.cmdFree, c.casRank(rank, bg, dir))
	g.gen, g.t = c.gen, t
	return t
}

// casRank is casGlobal without the command bus: the constraints that
// change only when a column command issues.
func (c *channel) casRank(rank, bg int32, dir uint8) int64 {
	p := c.p
	r := &c.ranks[rank]
	t := max(r.lastCAS+p.CCDS, r.lastCASbg[bg]+p.CCDL)
	lat := p.RL
	d := int8(1)
	if dir == 1 {
		lat, d = p.WL, 2
	}
	var gap int64
	switch {
	case c.busDir == 0:
	case c.busDir == d:
		if c.busRank != rank {
			gap = p.RTRS
		}
	case c.busDir == 1: // read -> write
		gap = p.Turnaround
		if c.busRank != rank {
			gap += p.RTRS
		}
	default: // write -> read
		if c.busRank != rank {
			gap = p.RTRS
		}
	}
	t = max(t, c.busFree+gap-lat)
	if dir == 0 {
		t = max(t, r.lastWrEnd+p.WTRS, r.lastWrBG[bg]+p.WTRL)
	}
	return t
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
	pd := c.p.pdAfter
	if pd == 0 {
		return // lastCmd is read only for power-down
	}
	if gap := t - r.lastCmd; gap > pd+c.p.XP {
		if r.open > 0 {
			r.pdOpen += gap - pd - c.p.XP
		} else {
			r.pdClosed += gap - pd - c.p.XP
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

func (c *channel) issueACT(b *bank, q *req, t int64) {
	p := c.p
	r := b.rk
	c.touch(r, t)
	b.openRow = q.row
	b.noHit = [2]bool{}
	b.fresh, b.freshWrite = true, q.write
	c.inval(b)
	b.casOK = t + p.RCD
	b.preOK = max(b.preOK, t+p.RAS)
	b.actOK = max(b.actOK, t+p.RC)
	r.lastACT = t
	r.lastACTbg[b.bg] = t
	r.faw[r.fawI] = t
	r.fawI = (r.fawI + 1) & 3
	if c.fast {
		c.actChanged(b.rank)
	}
	c.cmdFree = t + p.CmdACT
	c.st.acts++
	c.energy.act += p.e.act
	c.opened(r, t)
}

func (c *channel) issuePRE(b *bank, t int64) {
	p := c.p
	r := b.rk
	c.touch(r, t)
	b.openRow = -1
	b.fresh = false
	c.inval(b)
	b.actOK = max(b.actOK, t+p.RP)
	c.cmdFree = t + p.CmdPRE
	c.st.pres++
	c.closed(r, t)
}

func (c *channel) issueCAS(b *bank, i int32, t int64) {
	p := c.p
	d := c.d
	q := &c.reqs[i]
	r := b.rk
	c.touch(r, t)
	b.fresh = false
	dur := int64(q.bursts) * p.burst
	last := t + dur - p.burst // a BL32 command is timed like two BL16 ones
	var end int64
	if q.write {
		end = t + p.WL + dur
		b.preOK = max(b.preOK, end+p.WR)
		r.lastWrEnd = end
		r.lastWrBG[b.bg] = end
		c.busDir = 2
		c.st.writes++
		c.st.writeBursts += uint64(q.bursts)
		c.energy.wr += float64(p.e.wr * float64(q.bursts))
	} else {
		end = t + p.RL + dur
		b.preOK = max(b.preOK, last+p.RTP)
		c.busDir = 1
		c.st.reads++
		c.st.readBursts += uint64(q.bursts)
		c.energy.rd += float64(p.e.rd * float64(q.bursts))
		c.hist.Add(end - q.orig)
		c.qhist.Add(end - q.at)
	}
	c.energy.io += float64(p.e.io * float64(q.bursts))
	c.busFree = end
	c.busRank = b.rank
	r.lastCAS = last
	r.lastCASbg[b.bg] = last
	if c.fast {
		c.casChanged(b.rank)
	}
	c.cmdFree = t + p.CmdCAS
	c.st.outcomes[q.class&3]++
	c.st.bytes += uint64(q.size)
	c.st.lastDone = max(c.st.lastDone, end)
	if s := d.slotOf(Ticket(q.seq)); s.seq == q.seq {
		s.done = end
	} else if o := q.seq - c.outBase; o < uint64(len(c.out)) {
		c.out[o] = end // a Replay's request
	}
	c.decided++
	c.unlink(i)
	c.updateMode(t)
	if p.closed {
		// Auto-precharge (RDA/WRA) unless another queued request wants
		// this row.
		if c.hit(b, false) >= 0 || c.hit(b, true) >= 0 {
			return
		}
		pre := b.preOK
		b.openRow = -1
		c.inval(b)
		b.actOK = max(b.actOK, pre+p.RP)
		c.st.pres++
		c.closed(r, pre)
	}
}

func (c *channel) setMinDue() {
	m := int64(math.MaxInt64)
	for i := range c.ranks {
		m = min(m, c.ranks[i].refDue)
	}
	c.minDue = m
}

// issueREF issues the due refresh of rank ri at t: REFab (all banks,
// closed by now) or REFpb of the next bank in turn.
func (c *channel) issueREF(ri int, t int64) {
	p := c.p
	r := &c.ranks[ri]
	c.touch(r, t)
	c.cmdFree = t + p.CmdPRE
	if p.refresh == 1 {
		for i := ri * p.banksPerRnk; i < (ri+1)*p.banksPerRnk; i++ {
			c.banks[i].actOK = t + p.RFC
			c.inval(&c.banks[i])
		}
		r.refDue += p.REFI
		c.setMinDue()
		c.st.refs++
		c.energy.ref += p.e.ref
		return
	}
	c.banks[ri*p.banksPerRnk+r.refBank].actOK = t + p.RFCpb
	c.inval(&c.banks[ri*p.banksPerRnk+r.refBank])
	r.lastACT = t
	if c.fast {
		c.actChanged(int32(ri))
	}
	r.refBank = (r.refBank + 1) % p.banksPerRnk
	r.refDue += p.refiPB
	c.setMinDue()
	c.st.refsPB++
	c.energy.ref += p.e.refPB
}

// idleRefresh handles refreshes due up to limit while nothing is queued.
// Over long idle periods every refresh but the last few only adds its
// energy and advances the schedule: no bank is open and nothing else
// happens. It reports whether it did anything; if not, the caller
// issues the refresh commands one by one.
func (c *channel) idleRefresh(limit int64) bool {
	p := c.p
	did := false
	for ri := range c.ranks {
		r := &c.ranks[ri]
		if r.open != 0 || r.refDue > limit {
			continue
		}
		interval, keep := p.REFI, int64(1)
		if p.refresh == 2 {
			interval, keep = p.refiPB, int64(p.banksPerRnk)
		}
		skip := (limit-r.refDue)/interval + 1 - keep
		if skip <= 0 {
			continue
		}
		did = true
		if pd := p.pdAfter; pd > 0 && interval > pd+p.XP {
			r.pdClosed += skip * (interval - pd - p.XP)
		}
		r.refDue += skip * interval
		c.setMinDue()
		last := r.refDue - interval
		r.lastCmd = max(r.lastCmd, last)
		c.cmdFree = max(c.cmdFree, last)
		if p.refresh == 2 {
			c.st.refsPB += uint64(skip)
			c.energy.ref += float64(p.e.refPB * float64(skip))
			r.refBank = int((int64(r.refBank) + skip) % int64(p.banksPerRnk))
		} else {
			c.st.refs += uint64(skip)
			c.energy.ref += float64(p.e.ref * float64(skip))
			for i := ri * p.banksPerRnk; i < (ri+1)*p.banksPerRnk; i++ {
				c.banks[i].actOK = max(c.banks[i].actOK, last+p.RFC)
				c.inval(&c.banks[i])
			}
		}
	}
	return did
}
