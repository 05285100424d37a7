package cache

import (
	"runtime"
	"unsafe"

	"github.com/edgeprof/edgeprof/trace"
)

// haveAsm: the fast path's loops have assembly versions (fast_amd64.s).
const haveAsm = true

// lower2Loop is lower2Run's loop over f.recs[f.aK:], from the state set
// up by lower2RunAsm; it leaves f.aK at the first record it did not serve.
// Unlike the Go loop it also writes dirty first-level victims back
// (searching every way whose lane matches), so it leaves only records
// with an ambiguous lane to lower2Slow; the queue then needs room for
// three requests per record.
//
//go:noescape
func lower2Loop(f *fastState)

// lower2RunAsm is lower2Run by lower2Loop.
func (h *Hierarchy) lower2RunAsm(recs []missRec, k int) int {
	f := h.fs
	l2 := h.path[0][1]
	base := uintptr(unsafe.Pointer(&f.recs[0]))
	f.aRecs, f.aK, f.aEnd = base, k, base+uintptr(len(recs))*missRecSize
	f.aMem = uintptr(unsafe.Pointer(&f.mem[0]))
	f.aQlim = f.aMem + (memBatch-3)*memReqSize
	f.aLat2 = l2.latPS
	f.aSets = uintptr(unsafe.Pointer(&l2.tags[0]))
	f.aSig = uintptr(unsafe.Pointer(&l2.sig[0]))
	f.aMask = l2.setMask
	f.clock = l2.clock
	lower2Loop(f)
	l2.clock = f.clock
	return f.aK
}

// first4Loop is firstRun4's loop from the state set up by firstRun4Asm;
// it leaves f.bEv at the first event it did not replay.
//
//go:noescape
func first4Loop(f *fastState)

// firstRun4Asm is firstRun4 by first4Loop.
func (h *Hierarchy) firstRun4Asm(events []trace.Event, i int) (int, bool) {
	f := h.fs
	thread := events[i].Thread
	c := int(h.coreOf[thread])
	l := h.top[c]
	ev := uintptr(unsafe.Pointer(&events[0]))
	// An assembly function cannot be preempted: a bounded run keeps the
	// pause it can cause a garbage collection short (about a millisecond).
	end := min(len(events), i+maxAsmRun)
	f.bEv, f.bEnd = ev+uintptr(i)*eventSize, ev+uintptr(end)*eventSize
	f.bThread = uint64(thread)
	f.bSets = uintptr(unsafe.Pointer(&l.tags[0]))
	f.bSig = uintptr(unsafe.Pointer(&l.sig[0]))
	f.bMask = l.setMask
	f.bLastTag = uintptr(unsafe.Pointer(&l.tags[h.last[c]]))
	f.bClock, f.bPend, f.bLat, f.bCore = l.clock, f.pend[c], l.latPS, c
	f.bWrites, f.bSlow = 0, 0
	f.aRecs = uintptr(unsafe.Pointer(&f.recs[0]))
	first4Loop(f)
	end = int((f.bEv - ev) / eventSize)
	runtime.KeepAlive(events)
	h.last[c] = int((f.bLastTag - f.bSets) / 8)
	l.clock, f.pend[c] = f.bClock, f.bPend
	l.st.ReadAccesses += uint64(end-i) - f.bWrites
	l.st.WriteAccesses += f.bWrites
	return end, f.bSlow != 0
}

// maxAsmRun bounds the events one call of first4Loop replays.
const maxAsmRun = 1 << 16

// The layout of trace.Event that first4Loop reads.
const (
	eventSize   = 32
	eventThread = 28
	eventKind   = 30
)

var (
	_ [eventSize - unsafe.Sizeof(trace.Event{})]struct{}
	_ [unsafe.Sizeof(trace.Event{}) - eventSize]struct{}
	_ [eventThread - unsafe.Offsetof(trace.Event{}.Thread)]struct{}
	_ [unsafe.Offsetof(trace.Event{}.Thread) - eventThread]struct{}
	_ [eventKind - unsafe.Offsetof(trace.Event{}.Kind)]struct{}
	_ [unsafe.Offsetof(trace.Event{}.Kind) - eventKind]struct{}
	_ [unsafe.Offsetof(trace.Event{}.Size) - 8]struct{}
	_ [8 - unsafe.Offsetof(trace.Event{}.Size)]struct{}
)

// fused2Loop is fused2Run's loop, from the state it sets up; it leaves
// f.bEv at the first event it did not replay.
//
//go:noescape
func fused2Loop(f *fastState)

// fused2Run replays events from i on in one pass through both levels of
// a hierarchy lower2 serves whose first level has 4 ways, by fused2Loop,
// and returns the index of the first event it did not replay: one that
// is not fusedKind (runFast takes it). It gives what firstRun4,
// firstLines4 and lower2 give.
func (h *Hierarchy) fused2Run(events []trace.Event, i int) int {
	f := h.fs
	if f.n > 0 {
		h.lowerPass() // requests queued before these come first
	}
	l1, l2 := h.path[0][0], h.path[0][1]
	end := min(len(events), i+maxAsmRun) // see firstRun4Asm
	f.bSets = uintptr(unsafe.Pointer(&l1.tags[0]))
	f.bSig = uintptr(unsafe.Pointer(&l1.sig[0]))
	f.bMask, f.bClock, f.bLat, f.bWrites, f.fRefs, f.fStop = l1.setMask, l1.clock, l1.latPS, 0, 0, 0
	f.bLastTag = uintptr(unsafe.Pointer(&l1.tags[h.last[0]]))
	f.bLastKey = l1.tags[h.last[0]] &^ fDirty
	f.aMem = uintptr(unsafe.Pointer(&f.mem[0]))
	f.aQlim = f.aMem + (memBatch-3)*memReqSize
	f.aQlimEv = f.aMem + (memBatch-3*65)*memReqSize
	f.aSets = uintptr(unsafe.Pointer(&l2.tags[0]))
	f.aSig = uintptr(unsafe.Pointer(&l2.sig[0]))
	f.aMask, f.aLat2, f.clock = l2.setMask, l2.latPS, l2.clock
	// The first level's hits since its last miss were counted in f.pend;
	// the loop adds each reference's latency to f.at instead.
	f.now, f.at, f.nq = h.now[0]+f.pend[0]*l1.latPS, 0, 0
	f.pend[0] = 0
	f.cnt = [numCnt]uint64{}
	stop := h.replayAsm(events, i, end, fused2Loop)
	refs := uint64(stop-i) + f.fRefs // a reference per event, and per further line
	h.now[0] = f.now + f.at
	h.last[0] = int((f.bLastTag - f.bSets) / 8)
	misses := f.clock - l2.clock // a second-level reference per first-level miss
	// While fewer than a quarter of the references miss, the two passes
	// are faster: the second level's long dependency chains then stay out
	// of the way of the first level's hits, which the processor can run
	// ahead. With more misses, a single pass saves their records.
	f.twoPass = refs >= 64 && misses*4 < refs
	l1.clock, l2.clock = f.bClock, f.clock
	l1.st.ReadAccesses += refs - f.bWrites
	l1.st.WriteAccesses += f.bWrites
	addMissCounts(l1, l2, misses, &f.cnt)
	return stop
}

// replayAsm runs loop, a one-pass assembly loop over both levels, on
// events[i:end] until it stops at the end or at an event it does not
// replay (not fusedKind), making the queued memory requests whenever the
// loop returns, and returns the index of that event. The events may live
// on the caller's stack, which moves when a call grows or shrinks it
// (memPass calls the memory): their address is taken afresh for each
// call of the loop and turned back into an index before anything else is
// called.
func (h *Hierarchy) replayAsm(events []trace.Event, i, end int, loop func(*fastState)) int {
	f := h.fs
	for {
		base := uintptr(unsafe.Pointer(&events[0]))
		f.bEv, f.bEnd = base+uintptr(i)*eventSize, base+uintptr(end)*eventSize
		loop(f)
		i = int((f.bEv - base) / eventSize)
		h.memPass()
		if i == end || !fusedKind(&events[i]) {
			return i // else the queue was full
		}
	}
}
