package dram

import (
	"fmt"
	"runtime"
	"sync"
)

// Replay serves the requests rs in order and then drains the model: the
// same as Submit for each request followed by Drain, with the same
// statistics and completion times, but channels are simulated
// concurrently (a goroutine per channel when GOMAXPROCS > 1). A
// channel's schedule depends only on its own requests, so the results
// do not depend on the interleaving. If done is not nil it must have
// len(rs) entries and receives each request's completion time (as Wait
// would return it).
//
// Replay is for open-loop traces, where arrival times do not depend on
// completions; a caller whose next request waits for an earlier one
// (a CPU model with bounded outstanding misses) uses Submit and Wait.
func (d *DRAM) Replay(rs []Request, done []int64) error {
	return d.replay(rs, done, true, d.parallel())
}

// SubmitAll submits the requests rs in order, as Submit for each would,
// simulating the channels concurrently as Replay does, but without
// draining: requests still queued at the end stay queued for later
// requests, Advance or Drain. It is Replay for a trace read in pieces;
// it records no completion times (Stats has the counters).
func (d *DRAM) SubmitAll(rs []Request) error {
	return d.replay(rs, nil, false, d.parallel())
}

// parallel reports whether to simulate channels on several goroutines.
func (d *DRAM) parallel() bool { return len(d.chans) > 1 && runtime.GOMAXPROCS(0) > 1 }

func (d *DRAM) replay(rs []Request, done []int64, drain, parallel bool) error {
	if done != nil && len(done) != len(rs) {
		return fmt.Errorf("dram: Replay: %d completion slots for %d requests", len(done), len(rs))
	}
	for i := range rs {
		if uint(rs[i].Size-1) >= uint(d.tm.block) {
			return fmt.Errorf("%w: request %d: size %d, want 1..%d bytes", ErrBadRequest, i, rs[i].Size, d.tm.block)
		}
	}
	base := d.nextSeq
	for _, c := range d.chans {
		c.out, c.outBase = done, base
	}
	defer func() {
		for _, c := range d.chans {
			c.out = nil
		}
	}()
	if !parallel || base+uint64(len(rs)) > maxFastSeq {
		// One channel after another is Submit's own path (past 7.2e16
		// requests the channels switch schedulers in the middle, see
		// admit).
		for _, q := range rs {
			loc, seq := d.admit(q)
			d.chans[loc.ch].submit(q, loc.bank, loc.row, loc.block, seq)
		}
		if drain {
			d.Drain()
		}
		return nil
	}
	// The arrival bookkeeping Submit does per request, in one pass.
	for i := range rs {
		d.arrive(rs[i].At)
	}
	d.nextSeq += uint64(len(rs))
	// Every channel reads the whole trace and takes its own requests:
	// decoding an address twice costs less than handing requests over
	// between goroutines.
	m := d.m
	d.forChannels(func(c *channel) {
		ch := uint64(c.id)
		for i := range rs {
			q := &rs[i]
			if a := q.Addr >> (m.blockBits & 63); a>>(m.shift[fCh]&63)&m.mask[fCh] != ch {
				continue
			}
			loc := m.decode(q.Addr)
			c.submit(*q, loc.bank, loc.row, loc.block, base+uint64(i))
		}
		if drain {
			c.drain()
		}
	})
	return nil
}

// forChannels calls f for every channel, each on its own goroutine.
func (d *DRAM) forChannels(f func(c *channel)) {
	var wg sync.WaitGroup
	for _, c := range d.chans {
		wg.Go(func() { f(c) })
	}
	wg.Wait()
}
