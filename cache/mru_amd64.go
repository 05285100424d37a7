package cache

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/edgeprof/edgeprof/trace"
)

// haveAVX2: the recency-order loops' vector instructions are available.
var haveAVX2 = cpu.X86.HasAVX2

// mru2Run is fused2Run over sets in recency order (mru.go) for levels of
// 4, 8, 12 or 16 ways: it replays events from i on through both levels
// and returns the index of the first event it did not replay, one that
// is not fusedKind. The levels must be in recency order and no
// first-level miss queued.
func (h *Hierarchy) mru2Run(events []trace.Event, i int) int {
	f := h.fs
	l1, l2 := h.path[0][0], h.path[0][1]
	end := min(len(events), i+maxAsmRun)
	f.bSets = uintptr(unsafe.Pointer(&l1.tags[0]))
	f.bMask, f.bLat, f.bWrites, f.fRefs, f.fStop, f.fMisses = l1.setMask, l1.latPS, 0, 0, 0, 0
	f.bLastTag = uintptr(unsafe.Pointer(&l1.tags[h.last[0]]))
	// The shortcut for a reference to the line of the one before needs
	// that line at the front of its set; 0 is no key, so the first
	// reference looks its line up.
	f.bLastKey = 0
	f.aMem = uintptr(unsafe.Pointer(&f.mem[0]))
	f.aQlim = f.aMem + (memBatch-3)*memReqSize
	f.aQlimEv = f.aMem + (memBatch-3*65)*memReqSize
	f.aSets = uintptr(unsafe.Pointer(&l2.tags[0]))
	f.aMask, f.aLat2, f.bLat2 = l2.setMask, l2.latPS, l1.latPS+l2.latPS
	f.now, f.at, f.nq = h.now[0]+f.pend[0]*l1.latPS, 0, 0
	f.pend[0] = 0
	f.cnt = [numCnt]uint64{}
	// The loop for these levels' vector counts (mru_gen.go).
	stop := h.replayAsm(events, i, end, mruLoops[l1.ways/4-1][l2.ways/4-1])
	refs := uint64(stop-i) + f.fRefs // a reference per event, and per further line
	h.now[0] = f.now + f.at
	h.last[0] = int((f.bLastTag - f.bSets) / 8)
	l1.st.ReadAccesses += refs - f.bWrites
	l1.st.WriteAccesses += f.bWrites
	addMissCounts(l1, l2, f.fMisses, &f.cnt)
	return stop
}
