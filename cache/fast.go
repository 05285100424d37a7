package cache

import "github.com/edgeprof/edgeprof/trace"

// The fast path: a specialized replay loop for the hierarchy users run
// most and Cachegrind models, in which every level is inline lru,
// non-inclusive, write-back and write-allocate, nothing prefetches, there
// is no TLB and events count one reference per line. It works on the same
// tags and stamps as the general path and gives the same counters, times
// and memory requests in the same order (TestFastPathDifferential); it
// only drops the work such a hierarchy never needs: policy calls,
// prefetch and pollution records, first-use checks, inclusion and
// exclusion handling, per-line dispatch on the level's kind.
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
	key  uint64 // line | fValid, with fDirty for a store
	old  uint64 // the first level's tag word the fill replaced (valid, dirty flags and line)
	pend uint64 // first-level hits of the core between its previous miss and this one
	core int
}

// fastState is the replay state of the fast path.
type fastState struct {
	recs [missBatch]missRec
	n    int
	// pend counts, per core, the first-level hits not yet added to the
	// core's time.
	pend []uint64
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
	for i := 0; i < len(events); {
		if f.n == len(f.recs) {
			h.lowerPass()
		}
		if h.top[h.coreOf[events[i].Thread]].ways != 4 || h.lineShift != 6 {
			i = h.firstPass(events, i, len(events))
			continue
		}
		i = h.firstRun4(events, i)
		if i < len(events) && f.n < len(f.recs) {
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
// that is not such a reference of the thread of events[i] or that misses
// when the queue is full, and returns its index.
func (h *Hierarchy) firstRun4(events []trace.Event, i int) int {
	f := h.fs
	thread := events[i].Thread
	c := int(h.coreOf[thread])
	l := h.top[c]
	tags := l.tags
	mask, clock := l.setMask, l.clock
	last, pend := h.last[c], f.pend[c]
	// The core's last line is the line in tags[last]: it stays in the
	// level until the core's next miss in its set. Comparing keys rather
	// than loading tags[last] keeps the next reference's test independent
	// of this one's lookup, so the processor can overlap them.
	lastKey := tags[last] &^ fDirty
	i0 := i
	var writes uint64
loop:
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
			base := int(key&mask) * 8
			s := (*[8]uint64)(tags[base : base+8])
			var w int
			switch key {
			case s[0] &^ fDirty:
			case s[1] &^ fDirty:
				w = 1
			case s[2] &^ fDirty:
				w = 2
			case s[3] &^ fDirty:
				w = 3
			default:
				if f.n == len(f.recs) {
					break loop
				}
				w = int(min2(min2(s[4], s[5]), min2(s[6], s[7])) & 3)
				f.recs[f.n] = missRec{key: key | dirty, old: s[w], pend: pend, core: c}
				f.n++
				s[w] = key | dirty
				clock++
				s[4+w] = clock<<8 | uint64(w)
				pend = 0
				writes += wr
				lastKey, last = key, base+w
				continue
			}
			lastKey, last = key, base+w
			clock++
			s[4+w&3] = clock<<8 | uint64(w)
		}
		tags[last] |= dirty
		writes += wr
		pend++
	}
	h.last[c], f.pend[c], l.clock = last, pend, clock
	l.st.ReadAccesses += uint64(i-i0) - writes
	l.st.WriteAccesses += writes
	return i
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
				w := l.findFast(base, key)
				if w < 0 {
					if f.n == len(f.recs) {
						h.lowerPass() // an event of more lines than the queue holds
					}
					w = l.victimFast(base + ways)
					f.recs[f.n] = missRec{key: key | dirty, old: tags[base+w], pend: pend, core: c}
					f.n++
					pend = 0
					tags[base+w] = key | dirty
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
	if h.n == 2 && h.cfg.Cores == 1 {
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
		now := h.now[c] + (r.pend+1)*l1.latPS
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
			if w := l.findFast(base, key); w >= 0 {
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
			l.tags[idx] = key
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

// lower2 is lowerPass for one core and two levels, the configuration of
// most runs and of Cachegrind: the second level's lookup, victim choice
// and fill are inline, and the counters are kept in registers.
func (h *Hierarchy) lower2(recs []missRec) {
	l1, l2 := h.path[0][0], h.path[0][1]
	tags := l2.tags
	mask, stride, ways := l2.setMask, l2.stride, l2.ways
	lat1, lat2 := l1.latPS, l2.latPS
	shift := h.lineShift & 63
	now := h.now[0]
	var writes, evictions, miss2, wmiss2 uint64
	for k := range recs {
		r := &recs[k]
		key := r.key &^ fDirty
		wr := r.key >> 62 & 1 // 1 for a store
		writes += wr
		evictions += r.old >> 63
		now += (r.pend+1)*lat1 + lat2
		base := int(key&mask) * stride
		var w int
		if ways == 8 {
			if w = find4(tags, base, key); w < 0 {
				if w = find4(tags, base+4, key); w >= 0 {
					w += 4
				}
			}
		} else {
			w = l2.findFast(base, key)
		}
		if w >= 0 {
			l2.clock++
			tags[base+ways+w] = l2.clock<<8 | uint64(w)
		} else {
			wmiss2 += wr
			miss2++
			if d := h.mem.Access((key&lineMask)<<shift, h.lineBytes, trace.Read, 0, now); d > now {
				now = d
			}
			if ways == 8 {
				s := (*[8]uint64)(tags[base+8 : base+16])
				w = int(min2(min2(min2(s[0], s[1]), min2(s[2], s[3])), min2(min2(s[4], s[5]), min2(s[6], s[7]))) & 7)
			} else {
				w = l2.victimFast(base + ways)
			}
			idx := base + w
			tag := tags[idx]
			l2.st.Evictions += tag >> 63 // the valid bit
			if tag&fDirty != 0 {
				l2.st.Writebacks++
				h.memAccess(Line(tag&lineMask), trace.Write, 0, now)
			}
			tags[idx] = key
			l2.clock++
			tags[idx+ways] = l2.clock<<8 | uint64(w)
		}
		if r.old&fDirty != 0 {
			// writeData(1, ...): the write-back hits the second level or
			// goes on to memory.
			l1.st.Writebacks++
			v := r.old &^ fDirty
			vb := int(v&mask) * stride
			if w := l2.findFast(vb, v); w >= 0 {
				tags[vb+w] |= fDirty
			} else {
				h.memAccess(Line(v&lineMask), trace.Write, 0, now+lat2)
			}
		}
	}
	h.now[0] = now
	n := uint64(len(recs))
	l1.st.WriteMisses += writes
	l1.st.ReadMisses += n - writes
	l1.st.Fills += n
	l1.st.Evictions += evictions
	l2.st.WriteAccesses += writes
	l2.st.ReadAccesses += n - writes
	l2.st.WriteMisses += wmiss2
	l2.st.ReadMisses += miss2 - wmiss2
	l2.st.Fills += miss2
}

// findFast returns the way of the inline-lru set whose tags start at base
// that holds key (line | fValid; the dirty flag is ignored), or -1. The
// common associativities are unrolled: about 4 instructions a way, against
// 9 for the loop.
func (l *Level) findFast(base int, key uint64) int {
	tags := l.tags
	switch l.ways {
	case 4:
		return find4(tags, base, key)
	case 8:
		if w := find4(tags, base, key); w >= 0 {
			return w
		}
		if w := find4(tags, base+4, key); w >= 0 {
			return w + 4
		}
		return -1
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
