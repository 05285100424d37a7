package dram

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Request is one access below the last-level cache.
type Request struct {
	// At is the arrival time at the memory controller in picoseconds.
	// Arrivals should not decrease; a request that arrives before the
	// time its channel has already been simulated to is scheduled from
	// that time on (its latency still counts from At).
	At int64
	// Addr is the byte address; the address mapping decides channel,
	// rank, bank, row and column.
	Addr uint64
	// Size in bytes, 1 up to the mapping block (max of one burst and
	// Controller.TransactionBytes, normally the 64 B cache line). A
	// request needing n bursts is sent as one column command of n bursts
	// (BL32 for a 64 B line on a x16 LPDDR channel).
	Size int
	// Write marks a write (a cache write-back); writes are posted.
	Write bool
}

// Ticket identifies a submitted request until its completion is read.
type Ticket uint64

// ErrBadRequest reports a request the model cannot serve.
var ErrBadRequest = errors.New("dram: bad request")

// ErrTicketExpired reports a ticket whose completion record has been
// reused by later requests (see DRAM.Wait).
var ErrTicketExpired = errors.New("dram: ticket expired")

const never = math.MinInt64 / 4 // "long ago": constrains nothing

// slot records one request's completion. Slots live in a ring much
// larger than the controller queues, so a slot is reused only long after
// its request completed.
type slot struct {
	seq  uint64
	done int64 // -1 while pending
	ch   int32
}

const slotBits = 14

// DRAM is an event-level model of a DRAM subsystem: per channel a
// bounded read queue and write buffer, an FR-FCFS scheduler (oldest
// row hit first, else oldest request), per-bank row buffers and the
// JEDEC timing constraints between commands, refresh and power-down.
// It computes command issue times directly instead of ticking a clock,
// so its cost is per command, not per cycle.
//
// Use: Submit requests in arrival order; the model simulates each
// channel lazily, only as far as needed. Wait (or Access for one
// request at a time) returns a completion time; Advance and Drain move
// every channel forward; Stats reads the counters. Not safe for
// concurrent use: give each goroutine its own DRAM.
type DRAM struct {
	cfg   Config
	tm    params
	m     *mapper
	chans []*channel

	slots        []slot
	nextSeq      uint64
	lateArrivals uint64

	firstAt int64
	lastAt  int64
	horizon int64 // latest time any channel was advanced to
	started bool
}

// params are the resolved timing values the scheduler reads.
type params struct {
	Timing
	tck         int64 // clock period
	burst       int64 // duration of one burst (BL transfers)
	atom        int   // bytes per burst (a power of two)
	atomBits    uint  // log2(atom)
	block       int   // bytes per request block
	blockMask   uint32
	banksPerRnk int
	ranks       int
	devices     float64 // dies per rank
	refresh     int     // 0 none, 1 all-bank, 2 per-bank
	closed      bool
	refiPB      int64
	rq, wq      int
	hi, lo      int
	pdAfter     int64
	e           energyParams
	// The write-drain policy beyond the watermarks (appended: the
	// fields above are read on every step).
	idleMin   int // writes that start a drain while no read waits
	minSwitch int // writes a drain serves before a waiting read ends it
}

type counters struct {
	reads, writes            uint64
	outcomes                 [4]uint64 // by request class: hits, misses, conflicts
	bytes                    uint64
	forwarded, merged        uint64
	acts, pres, refs, refsPB uint64
	readBursts, writeBursts  uint64
	lastDone                 int64
	queueFullStalls          uint64
}

// add accumulates o into c.
func (c *counters) add(o *counters) {
	c.reads += o.reads
	c.writes += o.writes
	for i := range c.outcomes {
		c.outcomes[i] += o.outcomes[i]
	}
	c.bytes += o.bytes
	c.forwarded += o.forwarded
	c.merged += o.merged
	c.acts += o.acts
	c.pres += o.pres
	c.refs += o.refs
	c.refsPB += o.refsPB
	c.readBursts += o.readBursts
	c.writeBursts += o.writeBursts
	c.lastDone = max(c.lastDone, o.lastDone)
	c.queueFullStalls += o.queueFullStalls
}

// New validates cfg (after Resolve) and builds the model.
func New(cfg Config) (*DRAM, error) {
	c, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	std, _ := Lookup(c.Standard)
	d := &DRAM{cfg: c, m: newMapper(c)}
	o := c.Org
	tck := clockPS(c.DataRate, std.TransfersPerClock())
	p := &d.tm
	p.Timing = c.Timing
	p.tck = tck
	p.burst = int64(o.BurstLength) * tck / int64(std.TransfersPerClock())
	p.atom = o.BusWidth / 8 * o.BurstLength
	p.atomBits = uint(bits.TrailingZeros(uint(p.atom)))
	p.block = max(p.atom, c.Controller.TransactionBytes)
	p.blockMask = uint32(p.block - 1)
	p.banksPerRnk = o.BankGroups * o.BanksPerGroup
	p.ranks = o.Ranks
	p.devices = float64(o.BusWidth / o.DeviceWidth)
	switch c.Controller.Refresh {
	case "all-bank":
		p.refresh = 1
	case "per-bank":
		p.refresh = 2
	}
	p.refiPB = c.Timing.REFI / int64(p.banksPerRnk)
	p.closed = c.Controller.PagePolicy == "closed"
	p.rq, p.wq = c.Controller.ReadQueue, c.Controller.WriteQueue
	p.hi, p.lo = c.Controller.WriteHigh, c.Controller.WriteLow
	p.idleMin, p.minSwitch = c.Controller.IdleWriteMin, c.Controller.MinWritesPerSwitch
	p.pdAfter = c.Controller.PowerDownAfter
	p.e = newEnergyParams(c, p)
	d.slots = make([]slot, 1<<slotBits)
	for i := range d.slots {
		d.slots[i].seq = math.MaxUint64
	}
	if (p.rq+p.wq)*o.Channels > len(d.slots)/4 {
		d.slots = make([]slot, 4*(p.rq+p.wq)*o.Channels)
		for i := range d.slots {
			d.slots[i].seq = math.MaxUint64
		}
	}
	d.chans = make([]*channel, o.Channels)
	for i := range d.chans {
		d.chans[i] = newChannel(d, i)
	}
	return d, nil
}

// Config returns the resolved configuration.
func (d *DRAM) Config() Config { return d.cfg }

// BurstBytes is the data one column command of burst length BL moves on
// one channel.
func (d *DRAM) BurstBytes() int { return d.tm.atom }

// BlockBytes is the largest request size.
func (d *DRAM) BlockBytes() int { return d.tm.block }

// PeakBandwidth is the data-bus limit of all channels in GB/s.
func (d *DRAM) PeakBandwidth() float64 {
	return float64(d.tm.atom) * float64(len(d.chans)) / float64(d.tm.burst) * 1000
}

func (d *DRAM) slotOf(t Ticket) *slot { return &d.slots[uint64(t)&uint64(len(d.slots)-1)] }

// Submit hands a request to its channel's controller and returns a
// ticket for its completion. If the channel's queue for that kind of
// request is full, the channel is simulated until an entry frees, which
// delays the request (its latency counts from r.At).
func (d *DRAM) Submit(r Request) (Ticket, error) {
	if uint(r.Size-1) >= uint(d.tm.block) { // r.Size outside 1..block
		return 0, fmt.Errorf("%w: size %d, want 1..%d bytes", ErrBadRequest, r.Size, d.tm.block)
	}
	loc, seq := d.admit(r)
	s := d.slotOf(Ticket(seq))
	s.seq, s.done, s.ch = seq, -1, int32(loc.ch)
	d.chans[loc.ch].submit(r, loc.bank, loc.row, loc.block, seq)
	return Ticket(seq), nil
}

// admit accounts for the arrival of request r and returns its location
// and sequence number.
func (d *DRAM) admit(r Request) (location, uint64) {
	d.arrive(r.At)
	loc := d.m.decode(r.Addr)
	seq := d.nextSeq
	d.nextSeq++
	if seq == maxFastSeq {
		// The fast scheduler packs request ages into 56 bits; past
		// 7.2e16 requests every channel continues with stepScan.
		for _, c := range d.chans {
			c.fast = false
		}
	}
	return loc, seq
}

// arrive records an arrival at time at: the first one, and those
// earlier than an arrival before them.
func (d *DRAM) arrive(at int64) {
	if !d.started {
		d.started = true
		d.firstAt = at
	}
	if at < d.lastAt {
		d.lateArrivals++
	} else {
		d.lastAt = at
	}
}

// Decided counts the requests whose completion time has become known
// since New. A caller polling Done for many tickets can skip the poll
// while it has not changed: no answer of Done can have changed either.
func (d *DRAM) Decided() uint64 {
	var n uint64
	for _, c := range d.chans {
		n += c.decided
	}
	return n
}

// Done reports the completion time of a ticket if it is known yet
// (without simulating further).
func (d *DRAM) Done(t Ticket) (int64, bool) {
	s := d.slotOf(t)
	if s.seq != uint64(t) || s.done < 0 {
		return 0, false
	}
	return s.done, true
}

// Wait simulates the ticket's channel until the request's column command
// has issued and returns the time its last data beat transfers (for a
// write: when its data has been written into the row buffer). A ticket
// stays answerable until about 16 K later requests have been submitted.
func (d *DRAM) Wait(t Ticket) (int64, error) {
	s := d.slotOf(t)
	if s.seq != uint64(t) {
		return 0, ErrTicketExpired
	}
	c := d.chans[s.ch]
	for s.done < 0 {
		c.flushWrites()
		if !c.step(math.MaxInt64) {
			return 0, fmt.Errorf("dram: internal error: request %d never scheduled", t)
		}
	}
	return s.done, nil
}

// Access submits one request and waits for it: the synchronous helper
// for callers that have a single request in flight.
func (d *DRAM) Access(at int64, addr uint64, size int, write bool) (int64, error) {
	t, err := d.Submit(Request{At: at, Addr: addr, Size: size, Write: write})
	if err != nil {
		return 0, err
	}
	return d.Wait(t)
}

// Advance simulates every channel up to time t (ps): commands ready
// before t issue, refreshes due before t happen. Requests submitted
// later must arrive at t or after.
func (d *DRAM) Advance(t int64) {
	for _, c := range d.chans {
		c.run(t)
	}
	d.horizon = max(d.horizon, t)
}

// Drain serves every queued request and returns the time the last one
// completed.
func (d *DRAM) Drain() int64 {
	for _, c := range d.chans {
		c.drain()
	}
	return d.lastDone()
}

// lastDone is the latest completion time of any request.
func (d *DRAM) lastDone() int64 {
	var t int64
	for _, c := range d.chans {
		t = max(t, c.st.lastDone)
	}
	return t
}

// Pending returns the number of queued requests on all channels.
func (d *DRAM) Pending() int {
	n := 0
	for _, c := range d.chans {
		n += c.nReads + c.nWrites
	}
	return n
}
