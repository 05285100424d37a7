package cache

// Write streaming (Arm's "read-allocate mode"): Cortex-A cores watch
// their own stores, and after a run of consecutive full-line writes
// (memset, memcpy, STREAM's copy) stop allocating store misses, first in
// L1 and, as the run grows, in the levels below: the line is written on
// without a read-for-ownership fill, which would only fetch data about
// to be overwritten. The Cortex-A53 and A35 TRMs describe the L1 and L2
// thresholds (CPUACTLR_EL1.L1RADIS: 4th line by default; RADIS: 128th),
// the Cortex-A76 TRM the levels a stream may go out to (CPUECTLR_EL1
// WS_THR_L2/L3/L4/DRAM: 4 KiB, 16 KiB, 64 KiB, 1 MiB by default).
//
// The model: each core has one detector. A store event that covers a
// whole line extends the core's run when that line follows the run's
// last line (line address + 1) and starts a new run of one otherwise; a
// store that covers only part of a line ends the run, and so does a
// load of the run's last line (the TRMs' exit conditions: a write that
// is not a full line, a load of the line being written). A level with
// WriteStreaming.AfterLines = n does not allocate a store miss of a core
// whose run, counting the store's own line, is at least n: the n-th line
// of a run is the first one streamed. Hits are unaffected. Detection is
// per event: stores that only together fill a line (a din trace of
// 8-byte stores) never count as full-line writes, which would need the
// cores' write-combining buffers.

// WriteStreaming configures a level's write-streaming mode.
type WriteStreaming struct {
	// AfterLines is the length in cache lines of a core's run of
	// sequential full-line stores from which this level stops allocating
	// the core's store misses (the AfterLines-th line is the first not
	// allocated); 0 turns write streaming off.
	AfterLines int `yaml:"after_lines" json:"after_lines"`
}

// maxStreamLines bounds AfterLines: 2^24 lines is 1 GiB of 64-byte
// lines, far beyond any documented threshold (the largest Arm lists is
// 1 MiB).
const maxStreamLines = 1 << 24

func (w WriteStreaming) validate() error {
	if w.AfterLines < 0 || w.AfterLines > maxStreamLines {
		return fieldErr("write_streaming.after_lines", "%d, want 0 (off) .. %d lines", w.AfterLines, maxStreamLines)
	}
	return nil
}

// streamDetector is one core's write-streaming detector.
type streamDetector struct {
	run  uint64 // lines in the current run of sequential full-line stores
	last uint64 // the run's last line (meaningful when run > 0)
}

// initStreaming sets up the detectors when a level streams; without one,
// h.ws stays nil and nothing else changes.
func (h *Hierarchy) initStreaming() {
	on := false
	after := make([]uint64, h.n)
	for i, lc := range h.cfg.Levels {
		after[i] = ^uint64(0)
		if lc.WriteStreaming.AfterLines > 0 {
			after[i] = uint64(lc.WriteStreaming.AfterLines)
			on = true
		}
	}
	if on {
		h.ws = make([]streamDetector, h.cfg.Cores)
		h.wsAfter = after
	}
}

// observeStore feeds one line of a store event to core c's detector;
// full says the event writes all of the line.
func (h *Hierarchy) observeStore(c int, ln uint64, full bool) {
	d := &h.ws[c]
	switch {
	case !full:
		d.run = 0
	case d.run > 0 && ln == d.last+1:
		d.run++
		d.last = ln
	default:
		d.run, d.last = 1, ln
	}
}

// observeLoad ends core c's run when a load reads the run's last line.
func (h *Hierarchy) observeLoad(c int, first, last uint64) {
	if d := &h.ws[c]; d.run > 0 && d.last >= first && d.last <= last {
		d.run = 0
	}
}

// streams reports whether core c's store misses skip allocation at
// level i now.
func (h *Hierarchy) streams(c, i int) bool {
	return h.ws != nil && h.ws[c].run >= h.wsAfter[i]
}

// StoreAllocates reports whether a store miss by core c at level i would
// fill the line there now: the level is write-allocate and the core is
// not in write-streaming mode at it. A timing model asks this while the
// hierarchy serves a store, to tell the fills a core waits for from
// fetches made below on behalf of a store it did not allocate.
func (h *Hierarchy) StoreAllocates(c, i int) bool {
	return h.cfg.Levels[i].WriteAllocate && !h.streams(c, i)
}

// streamStores serves a store event of size bytes at addr by core c,
// lines first..last, line by line, feeding the detector before each
// line's reference so that the line's own allocation sees its run.
func (h *Hierarchy) streamStores(c int, addr uint64, size uint32, first, last uint64) {
	end := addr + uint64(size)
	if end < addr {
		end = ^uint64(0)
	}
	lb := uint64(h.lineBytes)
	for ln := first; ; ln++ {
		start := ln << h.lineShift
		h.observeStore(c, ln, start >= addr && end-start >= lb)
		h.ref(c, ln, true)
		if ln == last {
			break
		}
	}
}
