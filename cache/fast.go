package cache

import (
	"math/bits"
	"unsafe"

	"github.com/edgeprof/edgeprof/trace"
)

// The fast path: a specialized replay loop for the hierarchy users run
// most and Cachegrind models, in which every level is inline lru,
// non-inclusive, write-back and write-allocate, nothing prefetches, there
// is no TLB, the first level is private and events count one reference
// per line. It works on the same tags and stamps as the general path
// (plus the set signatures of sig.go) and gives the same counters, times,
// contents and memory requests in the same order
// (TestFastPathDifferential); it only drops the work such a hierarchy
// never needs: policy calls, prefetch and pollution records, first-use
// checks, inclusion and exclusion handling, per-line dispatch on the
// level's kind. Its loops are specialized further for a 4-way first
// level of 64-byte lines (firstRun4, firstLines4) and a single core over
// an 8-way second level (lower2), the example and Cachegrind's
// usual geometry; other geometries take firstPass and lowerPass. On
// amd64 the loops of firstRun4 and lower2Run are in assembly
// (fast_amd64.s), as Go's register allocator spills and reloads much of
// their state on every iteration, and for one core over those two
// levels a single assembly loop (fused2Run) serves a first-level miss
// in the second level at once; the Go loops run elsewhere and in
// TestFastLoopsDifferential.
//
// With AVX2, mru2Run (mru.go) serves the one-core two-level hierarchies
// of 4 to 16 ways instead of fused2Run and the two passes.
//
// Any other hierarchy, including one using a policy registered outside
// this package, takes the general path.

// fastOK reports whether h can take the fast path.
func (h *Hierarchy) fastOK() bool {
	return h.lines && h.cfg.Straddle == StraddleLines && h.shared[0] == 1
}

// missBatch is the number of first-level misses the first pass queues
// before the lower pass serves them: enough to amortize the switch, few
// enough (16 KiB) to stay in the host's L1 cache.
const missBatch = 512

// missRec is a first-level miss waiting for the levels below.
type missRec struct {
	key uint64 // line | fValid, with fDirty for a store
	old uint64 // the first level's tag word the fill replaced (valid, dirty flags and line)
	// lat is the time the core spent in the first level since its
	// previous miss, this miss included ((hits+1) * latency), plus
	// fastState.below.
	lat  uint64
	core int
}

// fastState is the replay state of the fast path.
type fastState struct {
	recs [missBatch]missRec
	n    int
	// pend counts, per core, the first-level hits not yet added to the
	// core's time.
	pend []uint64
	// below is the second level's latency when lower2 serves the misses
	// (it then adds nothing for the second level itself), else 0.
	below uint64
	// The state of lower2 and memPass: the memory requests not yet made
	// (nq of them), the core's time when the lower pass began plus the
	// stalls memPass has added, the latency of the pass so far, and the
	// counters, kept in memory as adding to them is one instruction.
	mem   [memBatch]memReq
	nq    int
	now   uint64
	at    uint64
	clock uint64
	cnt   [numCnt]uint64
	// The assembly loops' arguments (fast_amd64.go): addresses as
	// integers, of arrays the hierarchy keeps alive.
	aRecs, aEnd, aMem, aQlim, aSets, aSig uintptr
	aK                                    int
	aMask, aLat2                          uint64
	bEv, bEnd, bSets, bSig, bLastTag      uintptr
	bThread, bMask, bClock, bPend, bLat   uint64
	bWrites, bSlow                        uint64
	bCore                                 int
	bLastKey, fOld, fWr, fStop, fRefs     uint64
	fMisses                               uint64 // the mru loops' first-level misses
	bLat2                                 uint64 // their first- plus second-level latency
	aQlimEv                               uintptr
	// twoPass: a hierarchy fused2Run could serve takes the two passes
	// instead, as first-level misses have been rare (fused2Run sets it).
	twoPass bool
}

// fusedKind reports whether fused2Run replays e: a read or write of up
// to 4 KiB (65 lines of 64 bytes).
func fusedKind(e *trace.Event) bool {
	return e.Kind <= trace.Write && (e.Size <= 4096 || e.Addr&63+uint64(e.Size) <= 64)
}

// useAsm selects the assembly versions of the fast path's loops where
// there are some; tests clear it to run the Go versions.
var useAsm = haveAsm

// The sizes the assembly loops step by.
const (
	missRecSize = 32
	memReqSize  = 16
)

// Compile-time checks of those sizes: a negative array length does not
// compile.
var (
	_ [missRecSize - unsafe.Sizeof(missRec{})]struct{}
	_ [unsafe.Sizeof(missRec{}) - missRecSize]struct{}
	_ [memReqSize - unsafe.Sizeof(memReq{})]struct{}
	_ [unsafe.Sizeof(memReq{}) - memReqSize]struct{}
)

// Counters of lower2, indices into fastState.cnt.
const (
	cntWrites      = iota // first-level misses by stores
	cntEvictions1         // valid first-level victims
	cntWritebacks1        // dirty first-level victims
	cntMisses2
	cntWriteMisses2
	cntEvictions2
	cntWritebacks2
	numCnt
)

// sets4 views the tags of an inline-lru level of 4 ways as one array per
// set, tags then stamps, so that a set costs one bounds check.
func sets4(l *Level) [][8]uint64 {
	return unsafe.Slice((*[8]uint64)(unsafe.Pointer(unsafe.SliceData(l.tags))), l.sets)
}

// b2u is 1 for true and 0 for false, without a branch.
func b2u(b bool) uint64 {
	var x uint64
	if b {
		x = 1
	}
	return x
}

// runFast replays events on the fast path, in two passes that give the
// same results as one: the first level's hits and misses depend neither
// on the levels below (nothing is inclusive, nothing prefetches) nor on
// time, so the first pass runs the first level alone and queues its
// misses, and lowerPass then serves them in order through the levels
// below and memory, advancing each core's time. Each pass is a loop small
// enough for Go to keep its state in registers; one pass doing both
// spills on every reference and runs at about half the speed.
func (h *Hierarchy) runFast(events []trace.Event) {
	f := h.fs
	if h.lower2OK() {
		f.below = h.path[0][1].latPS
	}
	fused := useAsm && h.lower2OK() && h.top[0].ways == 4
	mru := useAsm && haveAVX2 && h.mruOK()
	if h.mru && !mru {
		h.leaveMRU() // tests switch the assembly off
	}
	for i := 0; i < len(events); {
		if mru {
			switch e := &events[i]; {
			case fusedKind(e):
				if !h.mru {
					if f.n > 0 {
						h.lowerPass() // misses queued in stamp order come first
					}
					h.enterMRU()
				}
				i = h.mru2Run(events, i)
			case e.Kind > trace.Write:
				i++ // a hint, and no level prefetches
			default:
				// Larger than 4 KiB: the two passes, on stamps.
				h.leaveMRU()
				i = h.firstPass(events, i, i+1)
			}
			continue
		}
		if fused && !f.twoPass {
			// Runs of reads and writes of up to 4 KiB take fused2Run;
			// hints and larger events, the two passes.
			switch e := &events[i]; {
			case fusedKind(e):
				i = h.fused2Run(events, i)
			case e.Kind > trace.Write:
				i++
			case e.Size <= 4096:
				if f.n+65 > len(f.recs) {
					h.lowerPass()
				}
				h.firstLines4(e)
				i++
			default:
				i = h.firstPass(events, i, i+1)
			}
			continue
		}
		if f.n == len(f.recs) {
			h.lowerPass()
		}
		if h.top[h.coreOf[events[i].Thread]].ways != 4 || h.lineShift != 6 {
			i = h.firstPass(events, i, len(events))
			continue
		}
		var slow bool
		i0, n0 := i, f.n
		i, slow = h.firstRun4(events, i)
		if fused && i-i0 >= 64 && (f.n-n0)*4 >= i-i0 {
			f.twoPass = false // misses are common again: see fused2Run
		}
		if i == len(events) || f.n == len(f.recs) {
			continue
		}
		// Event i spans lines, or is a hint, or comes from another
		// thread (the next round takes it), or needs a search of its
		// set (slow).
		e := &events[i]
		switch {
		case slow:
			i = h.firstPass(events, i, i+1)
		case e.Kind > trace.Write:
			i++ // a hint, and no level prefetches
		case e.Addr&63+uint64(e.Size) <= 64:
			// One line: firstRun4 stopped at another thread; the next
			// round takes it.
		case e.Size <= 4096:
			if f.n+65 > len(f.recs) {
				h.lowerPass()
			}
			h.firstLines4(e)
			i++
		default:
			i = h.firstPass(events, i, i+1)
		}
	}
	h.lowerPass()
	for c, p := range f.pend {
		h.now[c] += p * h.top[c].latPS
		f.pend[c] = 0
	}
}

// firstRun4 is the first pass for the common case: a 4-way first level
// of 64-byte lines and events of one line. It stops at the first event
// that is not such a reference of the thread of events[i], or that misses
// when the queue is full, or whose lane matches two ways of which the
// first does not hold the line (slow: firstPass takes it), and returns
// its index.
//
// The loop has no calls: Go keeps values live across a call on the
// stack, and reloads them on every iteration.
func (h *Hierarchy) firstRun4(events []trace.Event, i int) (int, bool) {
	if useAsm {
		return h.firstRun4Asm(events, i)
	}
	f := h.fs
	thread := events[i].Thread
	c := int(h.coreOf[thread])
	l := h.top[c]
	sets := sets4(l)
	sig := l.sig[:len(sets)]
	mask := uint64(len(sets) - 1)
	lat, below := l.latPS, f.below
	clock := l.clock
	n, pend := uint(f.n), f.pend[c]
	recs := &f.recs
	// The core's last line is the line in *lastTag: it stays in the
	// level until the core's next miss in its set. Comparing keys rather
	// than loading the tag keeps the next reference's test independent
	// of this one's lookup, so the processor can overlap them.
	lastTag := &l.tags[h.last[c]]
	lastKey := *lastTag &^ fDirty
	i0 := i
	var writes uint64
	slow := false
	for ; i < len(events); i++ {
		e := &events[i]
		if e.Thread != thread || e.Kind > trace.Write || e.Addr&63+uint64(e.Size) > 64 {
			break
		}
		key := e.Addr>>6 | fValid
		// Kind is Read (0) or Write (1) here; loads and stores mix at
		// random, so no branch on it.
		wr := uint64(e.Kind)
		dirty := wr << 62 // fDirty for a store
		if key != lastKey {
			set := key & mask
			s := &sets[set]
			sg := sig[set]
			lane := lane16(key)
			x := sg ^ lane*ones16
			m := (x - ones16) &^ x & high16
			// The first way whose lane matches, or way 0 if none does
			// (then it cannot hold the line either).
			w := uint64(bits.TrailingZeros64(m)>>4) & 3
			if s[w]&^fDirty != key {
				if m&(m-1) != 0 {
					slow = true // another way's lane matches too
					break
				}
				if n >= uint(len(recs)) {
					break
				}
				v := min2(min2(s[4], s[5]), min2(s[6], s[7])) & 3
				recs[n] = missRec{key: key | dirty, old: s[v], lat: (pend+1)*lat + below, core: c}
				n++
				pend = 0
				s[v] = key | dirty
				sh := v * 16
				sig[set] = sg&^(0xffff<<sh) | lane<<sh
				clock++
				s[4+v] = clock<<8 | v
				writes += wr
				lastKey, lastTag = key, &s[v]
				continue
			}
			clock++
			s[4+w] = clock<<8 | w
			lastKey, lastTag = key, &s[w]
		}
		*lastTag |= dirty
		writes += wr
		pend++
	}
	f.n, f.pend[c], l.clock = int(n), pend, clock
	h.last[c] = int(uintptr(unsafe.Pointer(lastTag))-uintptr(unsafe.Pointer(&l.tags[0]))) / 8
	l.st.ReadAccesses += uint64(i-i0) - writes
	l.st.WriteAccesses += writes
	return i, slow
}

// firstLines4 replays one demand event of up to 4 KiB (65 lines) in a
// 4-way first level of 64-byte lines, as firstRun4 replays single lines;
// the queue must have room for all of them.
func (h *Hierarchy) firstLines4(e *trace.Event) {
	f := h.fs
	c := int(h.coreOf[e.Thread])
	l := h.top[c]
	tags, sig := l.tags, l.sig
	mask, clock := l.setMask, l.clock
	last, pend := h.last[c], f.pend[c]
	lastKey := tags[last] &^ fDirty
	ln := e.Addr >> 6
	stop := ln
	if e.Size > 1 {
		x := e.Addr + uint64(e.Size) - 1
		if x < e.Addr { // wraps past the top of the address space
			x = ^uint64(0)
		}
		stop = x >> 6
	}
	wr := uint64(e.Kind)
	dirty := wr << 62 // fDirty for a store
	if wr != 0 {
		l.st.WriteAccesses += stop - ln + 1
	} else {
		l.st.ReadAccesses += stop - ln + 1
	}
	for ; ; ln++ {
		key := ln | fValid
		if key != lastKey {
			set := key & mask
			base := int(set) * 8
			s := (*[8]uint64)(tags[base : base+8])
			sg := sig[set]
			w := sigFind4(sg, key)
			if w >= 0 && s[w&3]&^fDirty != key {
				w = find4(tags, base, key) // two lines share a lane
			}
			if w < 0 {
				w = int(min2(min2(s[4], s[5]), min2(s[6], s[7])) & 3)
				f.recs[f.n] = missRec{key: key | dirty, old: s[w], lat: (pend+1)*l.latPS + f.below, core: c}
				f.n++
				s[w] = key | dirty
				sh := uint(w) * 16
				sig[set] = sg&^(0xffff<<sh) | lane16(key)<<sh
				clock++
				s[4+w] = clock<<8 | uint64(w)
				pend = 0
				lastKey, last = key, base+w
				if ln == stop {
					break
				}
				continue
			}
			lastKey, last = key, base+w&3
			clock++
			s[4+w&3] = clock<<8 | uint64(w&3)
		}
		tags[last] |= dirty
		pend++
		if ln == stop {
			break
		}
	}
	h.last[c], f.pend[c], l.clock = last, pend, clock
}

// firstPass replays events from i on (before end) in the first level
// while they come from the thread of events[i], queueing the misses, and
// returns the index of the first event it did not replay. It takes any
// associativity, line size and event size.
func (h *Hierarchy) firstPass(events []trace.Event, i, end int) int {
	f := h.fs
	thread := events[i].Thread
	c := int(h.coreOf[thread])
	l := h.top[c]
	tags := l.tags
	mask, stride, ways, clock := l.setMask, l.stride, l.ways, l.clock
	shift := h.lineShift & 63
	last, pend := h.last[c], f.pend[c]
	var reads, writes uint64
	for ; i < end; i++ {
		e := &events[i]
		if e.Thread != thread {
			break
		}
		if e.Kind > trace.Write {
			continue // a hint, and no level prefetches
		}
		ln := e.Addr >> shift
		stop := ln
		if e.Size > 1 {
			x := e.Addr + uint64(e.Size) - 1
			if x < e.Addr { // wraps past the top of the address space
				x = ^uint64(0)
			}
			stop = x >> shift
		}
		var dirty uint64
		if e.Kind == trace.Write {
			dirty = fDirty
			writes += stop - ln + 1
		} else {
			reads += stop - ln + 1
		}
		for ; ; ln++ {
			key := ln | fValid
			if tags[last]&^fDirty != key {
				base := int(ln&mask) * stride
				w := l.findFast(int(ln&mask), base, key)
				if w < 0 {
					if f.n == len(f.recs) {
						h.lowerPass() // an event of more lines than the queue holds
					}
					w = l.victimFast(base + ways)
					f.recs[f.n] = missRec{key: key | dirty, old: tags[base+w], lat: (pend+1)*l.latPS + f.below, core: c}
					f.n++
					pend = 0
					l.setLine(int(ln&mask), w, base+w, key|dirty)
					clock++
					tags[base+ways+w] = clock<<8 | uint64(w)
					last = base + w
					if ln == stop {
						break
					}
					continue
				}
				last = base + w
				clock++
				tags[last+ways] = clock<<8 | uint64(w)
			}
			tags[last] |= dirty
			pend++
			if ln == stop {
				break
			}
		}
	}
	h.last[c], f.pend[c], l.clock = last, pend, clock
	l.st.ReadAccesses += reads
	l.st.WriteAccesses += writes
	return i
}

// lowerPass serves the queued first-level misses, in order, exactly as
// simpleMiss does: it looks the line up level by level below the first,
// fetches it from memory if no level has it, fills every level that
// missed, deepest first, and then writes the first level's dirty victim
// back.
func (h *Hierarchy) lowerPass() {
	f := h.fs
	recs := f.recs[:f.n]
	f.n = 0
	if h.lower2OK() {
		h.lower2(recs)
		return
	}
	for k := range recs {
		r := &recs[k]
		c := r.core
		path := h.path[c]
		n := len(path)
		l1 := path[0]
		key := r.key &^ fDirty
		write := r.key&fDirty != 0
		if write {
			l1.st.WriteMisses++
		} else {
			l1.st.ReadMisses++
		}
		l1.st.Fills++
		l1.st.Evictions += r.old >> 63 // the valid bit
		now := h.now[c] + r.lat        // below is 0 here
		i := 1
		for ; i < n; i++ {
			l := path[i]
			now += l.latPS
			if write {
				l.st.WriteAccesses++
			} else {
				l.st.ReadAccesses++
			}
			base := int(key&l.setMask) * l.stride
			if w := l.findFast(int(key&l.setMask), base, key); w >= 0 {
				l.clock++
				l.tags[base+l.ways+w] = l.clock<<8 | uint64(w)
				break
			}
			if write {
				l.st.WriteMisses++
			} else {
				l.st.ReadMisses++
			}
		}
		if i == n {
			if d := h.mem.Access((key&lineMask)<<(h.lineShift&63), h.lineBytes, trace.Read, c, now); d > now {
				now = d
			}
		}
		for i--; i > 0; i-- {
			l := path[i]
			base := int(key&l.setMask) * l.stride
			idx := base + l.victimFast(base+l.ways)
			tag := l.tags[idx]
			l.st.Evictions += tag >> 63
			if tag&fDirty != 0 {
				l.st.Writebacks++
				h.writeData(i+1, c, Line(tag&lineMask), now, false)
			}
			l.setLine(int(key&l.setMask), idx-base, idx, key)
			l.clock++
			l.tags[idx+l.ways] = l.clock<<8 | uint64(idx-base)
			l.st.Fills++
		}
		if r.old&fDirty != 0 {
			l1.st.Writebacks++
			h.writeData(1, c, Line(r.old&lineMask), now, false)
		}
		h.now[c] = now
	}
}

// memReq is a memory request of lower2, made later by memPass: a line
// (with memWrite for a write-back) and the latency the core had
// accumulated within the lower pass when it made the request.
type memReq struct {
	line uint64
	at   uint64
}

// memWrite marks a write-back in memReq.line (whose bits from 58 up
// memPass ignores: lines of 64 bytes have 58 bits).
const memWrite = 1 << 62

// memBatch bounds the memory requests lower2 queues before memPass makes
// them; a first-level miss adds at most three.
const memBatch = 1024

// lower2OK reports whether lower2 serves the first-level misses: one
// core and two levels, the second of 8 ways, 64-byte lines.
func (h *Hierarchy) lower2OK() bool {
	return h.n == 2 && h.cfg.Cores == 1 && h.lineShift == 6 && h.levels[1][0].ways == 8
}

// lower2 is lowerPass for one core and two levels, the second of 8 ways:
// the configuration of most runs and of Cachegrind. lower2Run serves the
// misses, lower2Slow the few it cannot, and memPass makes the memory
// requests they queue.
func (h *Hierarchy) lower2(recs []missRec) {
	f := h.fs
	f.now, f.at, f.nq = h.now[0], 0, 0
	f.cnt = [numCnt]uint64{}
	for k := 0; k < len(recs); {
		k = h.lower2Run(recs, k)
		switch {
		case k == len(recs):
		case f.nq > len(f.mem)-3:
			// lower2Slow may queue three.
			h.memPass()
		default:
			h.lower2Slow(&recs[k])
			k++
		}
	}
	h.memPass()
	h.now[0] = f.now + f.at
	addMissCounts(h.path[0][0], h.path[0][1], uint64(len(recs)), &f.cnt)
}

// addMissCounts books what the two-level loops counted for first-level
// misses: the first level's misses, fills, evictions and
// write-backs, and the second level's accesses and outcomes.
func addMissCounts(l1, l2 *Level, misses uint64, cnt *[numCnt]uint64) {
	l1.st.WriteMisses += cnt[cntWrites]
	l1.st.ReadMisses += misses - cnt[cntWrites]
	l1.st.Fills += misses
	l1.st.Evictions += cnt[cntEvictions1]
	l1.st.Writebacks += cnt[cntWritebacks1]
	l2.st.WriteAccesses += cnt[cntWrites]
	l2.st.ReadAccesses += misses - cnt[cntWrites]
	l2.st.WriteMisses += cnt[cntWriteMisses2]
	l2.st.ReadMisses += cnt[cntMisses2] - cnt[cntWriteMisses2]
	l2.st.Fills += cnt[cntMisses2]
	l2.st.Evictions += cnt[cntEvictions2]
	l2.st.Writebacks += cnt[cntWritebacks2]
}

// lower2Run serves recs from k on as simpleMiss would, queueing the
// memory requests, and returns the index of the first it did not serve:
// one whose first-level victim is dirty, or whose line has a lane
// matching two ways of which the first does not hold it, or the first
// when the queue has no room for two more requests (lower2Slow or
// memPass take over).
//
// It does the work of a second-level hit and of a miss at once and keeps
// the one that applies (selected by masks, no branch): the way is the
// matching way or the victim, the tag word the old one or the new line,
// and the queue slots are written either way but kept only for a miss.
// Whether a reference hits is data the host's branch predictor cannot
// guess; a mispredicted branch costs more than the victim search done
// for nothing. Whether the second level hits does not depend on time,
// so only memPass needs the fetches' completion times.
//
// The loop body is one basic block with exits, the running state
// (clock, latency, queue length, counters) lives in f, and the stamps
// are reduced in a chain: with more values live at once, Go spills and
// reloads a dozen of them on every iteration.
func (h *Hierarchy) lower2Run(recs []missRec, k int) int {
	if useAsm {
		return h.lower2RunAsm(recs, k)
	}
	f := h.fs
	l2 := h.path[0][1]
	// Slices of the levels' exact lengths (an array pointer larger than
	// the allocation would break the unsafe.Pointer rules that -race's
	// checkptr enforces); the bounds checks are predictable.
	sets := unsafe.Slice((*[16]uint64)(unsafe.Pointer(unsafe.SliceData(l2.tags))), l2.sets)
	sig := l2.sig[:l2.sets]
	mask := uint64(l2.sets - 1)
	f.clock = l2.clock
	for _, r := range recs[k:] {
		if f.nq > len(f.mem)-2 || r.old&fDirty != 0 {
			break
		}
		key := r.key &^ fDirty
		set := key & mask
		s := &sets[set]
		sg := sig[set]
		lane := lane8(key)
		x := sg ^ lane*ones8
		m := (x - ones8) &^ x & high8
		// The first way whose lane matches, or way 0 if none does (then
		// it cannot hold the line either).
		w := uint64(bits.TrailingZeros64(m)>>3) & 7
		old := s[w]
		if old&^fDirty != key && m&(m-1) != 0 {
			break // another way's lane matches too
		}
		hit := b2u(old&^fDirty == key)
		sel := -hit // all ones for a hit
		// The way with the oldest stamp (stamps are below 2^63).
		v := s[8]
		v = min(v, s[9])
		v = min(v, s[10])
		v = min(v, s[11])
		v = min(v, s[12])
		v = min(v, s[13])
		v = min(v, s[14])
		v = min(v, s[15])
		v = (v ^ (v^w)&sel) & 7
		old = s[v]
		miss := hit ^ 1
		f.at += r.lat
		wr := r.key >> 62 & 1 // 1 for a store
		f.cnt[cntWrites] += wr
		f.cnt[cntEvictions1] += r.old >> 63
		f.cnt[cntMisses2] += miss
		f.cnt[cntWriteMisses2] += miss & wr
		f.cnt[cntEvictions2] += old >> 63 & miss
		wb := old >> 62 & miss // a dirty second-level victim
		f.cnt[cntWritebacks2] += wb
		nq := uint(f.nq) & (memBatch - 1)
		f.mem[nq] = memReq{line: key &^ fValid, at: f.at}
		nq = (nq + uint(miss)) & (memBatch - 1)
		f.mem[nq] = memReq{line: old&lineMask | memWrite, at: f.at}
		f.nq = int(nq + uint(wb))
		s[v] = key ^ (key^old)&sel
		sh := v * 8
		sig[set] = sg&^(0xff<<sh) | lane<<sh
		f.clock++
		s[8+v] = f.clock<<8 | v
		k++
	}
	l2.clock = f.clock
	return k
}

// lower2Slow serves one miss as lower2Run does, searching the sets way by
// way.
func (h *Hierarchy) lower2Slow(r *missRec) {
	f := h.fs
	l2 := h.path[0][1]
	tags := l2.tags
	key := r.key &^ fDirty
	wr := r.key >> 62 & 1
	f.at += r.lat
	f.cnt[cntWrites] += wr
	f.cnt[cntEvictions1] += r.old >> 63
	set := int(key & l2.setMask)
	base := set * 16
	if w := l2.findFast(set, base, key); w >= 0 {
		l2.clock++
		tags[base+8+w] = l2.clock<<8 | uint64(w)
	} else {
		f.cnt[cntMisses2]++
		f.cnt[cntWriteMisses2] += wr
		f.push(key&^fValid, f.at)
		idx := base + l2.victimFast(base+8)
		t := tags[idx]
		f.cnt[cntEvictions2] += t >> 63
		if t&fDirty != 0 {
			f.cnt[cntWritebacks2]++
			f.push(t&lineMask|memWrite, f.at)
		}
		l2.setLine(set, idx-base, idx, key)
		l2.clock++
		tags[idx+8] = l2.clock<<8 | uint64(idx-base)
	}
	if r.old&fDirty != 0 {
		f.cnt[cntWritebacks1]++
		v := r.old&^flagBits | fValid
		vset := int(v & l2.setMask)
		vb := vset * 16
		if w := l2.findFast(vset, vb, v); w >= 0 {
			tags[vb+w] |= fDirty
		} else {
			f.push(v&lineMask|memWrite, f.at+l2.latPS)
		}
	}
}

// push queues a memory request for memPass.
func (f *fastState) push(line, at uint64) {
	f.mem[f.nq] = memReq{line: line, at: at}
	f.nq++
}

// memPass makes the queued memory requests of lower2 in order, for core
// 0 at f.now plus the latency accumulated when each was queued, and adds
// to f.now the time by which a fetch completes later than that. A
// FixedLatency memory gets the batch's counts in one call instead: each
// fetch then completes its latency after it was made, which adds that
// latency per fetch, and a write is accepted at once.
func (h *Hierarchy) memPass() {
	f, mem := h.fs, h.mem
	if fl, ok := mem.(FixedLatency); ok {
		var writes uint64
		for _, r := range f.mem[:f.nq] {
			writes += r.line >> 62 & 1 // memWrite
		}
		reads := uint64(f.nq) - writes
		fl.Book(reads, writes, 64)
		f.now += reads * fl.Latency()
		f.nq = 0
		return
	}
	now := f.now
	for _, r := range f.mem[:f.nq] {
		t := now + r.at
		if r.line&memWrite != 0 {
			mem.Access(r.line<<6, 64, trace.Write, 0, t)
		} else if d := mem.Access(r.line<<6, 64, trace.Read, 0, t); d > t {
			now += d - t
		}
	}
	f.now, f.nq = now, 0
}

// find8 is findFast for 8 ways.
func find8(tags []uint64, base int, key uint64) int {
	if w := find4(tags, base, key); w >= 0 {
		return w
	}
	if w := find4(tags, base+4, key); w >= 0 {
		return w + 4
	}
	return -1
}

// findFast returns the way of set (whose tags start at base) of an
// inline-lru level that holds key (line | fValid; the dirty flag is
// ignored), or -1: by signature for 4 and 8 ways, unrolled for 16 (about 4
// instructions a way, against 9 for the loop).
func (l *Level) findFast(set, base int, key uint64) int {
	tags := l.tags
	switch l.ways {
	case 4:
		if w := sigFind4(l.sig[set], key); w < 0 || tags[base+w]&^fDirty == key {
			return w
		}
		return find4(tags, base, key) // two lines share a lane
	case 8:
		if w := sigFind8(l.sig[set], key); w < 0 || tags[base+w]&^fDirty == key {
			return w
		}
		return find8(tags, base, key)
	case 16:
		for b := base; b < base+16; b += 4 {
			if w := find4(tags, b, key); w >= 0 {
				return b - base + w
			}
		}
		return -1
	}
	for w, t := range tags[base : base+l.ways] {
		if t&^fDirty == key {
			return w
		}
	}
	return -1
}

// victimFast returns the way with the smallest stamp of the inline-lru
// set whose stamps start at b.
func (l *Level) victimFast(b int) int {
	tags := l.tags
	var m uint64
	switch l.ways {
	case 4:
		m = minStamp4(tags, b)
	case 8:
		m = min(minStamp4(tags, b), minStamp4(tags, b+4))
	case 16:
		m = min(minStamp4(tags, b), minStamp4(tags, b+4), minStamp4(tags, b+8), minStamp4(tags, b+12))
	default:
		m = ^uint64(0)
		for _, s := range tags[b : b+l.ways] {
			m = min(m, s)
		}
	}
	return int(m & 0xff)
}

// find4 returns the way of the four from base that holds key, or -1.
func find4(tags []uint64, base int, key uint64) int {
	s := (*[4]uint64)(tags[base : base+4])
	switch key {
	case s[0] &^ fDirty:
		return 0
	case s[1] &^ fDirty:
		return 1
	case s[2] &^ fDirty:
		return 2
	case s[3] &^ fDirty:
		return 3
	}
	return -1
}

// min2 returns the smaller of two stamps without a branch (stamps are
// below 2^63, so the sign of their difference tells): the victim is data
// the branch predictor cannot guess, and Go turns min into a branch when
// the result indexes a load.
func min2(a, b uint64) uint64 {
	d := a - b
	return b + d&uint64(int64(d)>>63)
}

// minStamp4 returns the smallest of the four stamps from b.
func minStamp4(tags []uint64, b int) uint64 {
	s := (*[4]uint64)(tags[b : b+4])
	m := s[0]
	if s[1] < m {
		m = s[1]
	}
	if s[2] < m {
		m = s[2]
	}
	if s[3] < m {
		m = s[3]
	}
	return m
}
