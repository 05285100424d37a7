package cache

import "github.com/edgeprof/edgeprof/trace"

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
// usual geometry; other geometries take firstPass and lowerPass.
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
		if i == len(events) || f.n == len(f.recs) {
			continue
		}
		// Event i spans lines, or is a hint, or comes from another
		// thread (the next round takes it).
		e := &events[i]
		switch {
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
// that is not such a reference of the thread of events[i] or that misses
// when the queue is full, and returns its index.
func (h *Hierarchy) firstRun4(events []trace.Event, i int) int {
	f := h.fs
	thread := events[i].Thread
	c := int(h.coreOf[thread])
	l := h.top[c]
	tags, sig := l.tags, l.sig
	mask, clock := l.setMask, l.clock
	last, pend := h.last[c], f.pend[c]
	// The core's last line is the line in tags[last]: it stays in the
	// level until the core's next miss in its set. Comparing keys rather
	// than loading tags[last] keeps the next reference's test independent
	// of this one's lookup, so the processor can overlap them.
	lastKey := tags[last] &^ fDirty
	i0 := i
	var writes uint64
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
			base := int(set) * 8
			s := (*[8]uint64)(tags[base : base+8])
			sg := sig[set]
			w := sigFind4(sg, key)
			if w >= 0 && s[w&3]&^fDirty != key {
				w = find4(tags, base, key) // two lines share a lane
			}
			if w < 0 {
				if f.n == len(f.recs) {
					break
				}
				w = int(min2(min2(s[4], s[5]), min2(s[6], s[7])) & 3)
				f.recs[f.n] = missRec{key: key | dirty, old: s[w], pend: pend, core: c}
				f.n++
				s[w] = key | dirty
				sh := uint(w) * 16
				sig[set] = sg&^(0xffff<<sh) | lane16(key)<<sh
				clock++
				s[4+w] = clock<<8 | uint64(w)
				pend = 0
				writes += wr
				lastKey, last = key, base+w
				continue
			}
			lastKey, last = key, base+w&3
			clock++
			s[4+w&3] = clock<<8 | uint64(w&3)
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
				f.recs[f.n] = missRec{key: key | dirty, old: s[w], pend: pend, core: c}
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
					f.recs[f.n] = missRec{key: key | dirty, old: tags[base+w], pend: pend, core: c}
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
	if h.n == 2 && h.cfg.Cores == 1 && h.lineShift == 6 && h.levels[1][0].ways == 8 {
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

// lower2 is lowerPass for one core and two levels, the second of 8 ways:
// the configuration of most runs and of Cachegrind. The second level's
// lookup (by signature), victim choice and fill are inline, and the
// counters are kept in registers.
func (h *Hierarchy) lower2(recs []missRec) {
	l1, l2 := h.path[0][0], h.path[0][1]
	tags, sig := l2.tags, l2.sig
	mask, clock := l2.setMask, l2.clock
	lat1, lat2 := l1.latPS, l2.latPS
	now := h.now[0]
	// The counters live in an array, which Go keeps in memory: adding to
	// it is one instruction, while as separate variables they would be
	// spilled and reloaded around every use.
	var cnt [7]uint64
	const (
		writes = iota
		evictions
		writebacks1
		miss2
		wmiss2
		evictions2
		writebacks2
	)
	for k := range recs {
		r := &recs[k]
		key := r.key &^ fDirty
		wr := r.key >> 62 & 1 // 1 for a store
		cnt[writes] += wr
		cnt[evictions] += r.old >> 63
		now += (r.pend+1)*lat1 + lat2
		set := key & mask
		base := int(set) * 16
		s := (*[16]uint64)(tags[base : base+16])
		sg := sig[set]
		w := sigFind8(sg, key)
		if w >= 0 && s[w&7]&^fDirty != key {
			w = find8(tags, base, key) // two lines share a lane
		}
		if w >= 0 {
			clock++
			s[8+w&7] = clock<<8 | uint64(w&7)
		} else {
			cnt[wmiss2] += wr
			cnt[miss2]++
			if d := h.mem.Access(key<<6, 64, trace.Read, 0, now); d > now {
				now = d
			}
			// The way with the oldest stamp, and its tag, selected
			// together (conditional moves, no branch).
			t0, t1, t2, t3, t4, t5, t6, t7 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
			m1, m2, m3, m4, m5, m6, m7 := s[9], s[10], s[11], s[12], s[13], s[14], s[15]
			m, t := s[8], t0
			if m1 < m {
				m, t = m1, t1
			}
			if m2 < m {
				m, t = m2, t2
			}
			if m3 < m {
				m, t = m3, t3
			}
			if m4 < m {
				m, t = m4, t4
			}
			if m5 < m {
				m, t = m5, t5
			}
			if m6 < m {
				m, t = m6, t6
			}
			if m7 < m {
				m, t = m7, t7
			}
			w = int(m & 7)
			cnt[evictions2] += t >> 63 // the valid bit
			if t&fDirty != 0 {
				cnt[writebacks2]++
				h.memAccess(Line(t&lineMask), trace.Write, 0, now)
			}
			s[w] = key
			sh := uint(w) * 8
			sig[set] = sg&^(0xff<<sh) | lane8(key)<<sh
			clock++
			s[8+w] = clock<<8 | uint64(w)
		}
		if r.old&fDirty != 0 {
			// writeData(1, ...): the write-back hits the second level or
			// goes on to memory.
			cnt[writebacks1]++
			v := r.old&^flagBits | fValid
			vset := v & mask
			vb := int(vset) * 16
			w := sigFind8(sig[vset], v)
			if w >= 0 && tags[vb+w&7]&^fDirty != v {
				w = find8(tags, vb, v)
			}
			if w >= 0 {
				tags[vb+w&7] |= fDirty
			} else {
				h.memAccess(Line(v&lineMask), trace.Write, 0, now+lat2)
			}
		}
	}
	h.now[0] = now
	l2.clock = clock
	n := uint64(len(recs))
	l1.st.WriteMisses += cnt[writes]
	l1.st.ReadMisses += n - cnt[writes]
	l1.st.Fills += n
	l1.st.Evictions += cnt[evictions]
	l1.st.Writebacks += cnt[writebacks1]
	l2.st.WriteAccesses += cnt[writes]
	l2.st.ReadAccesses += n - cnt[writes]
	l2.st.WriteMisses += cnt[wmiss2]
	l2.st.ReadMisses += cnt[miss2] - cnt[wmiss2]
	l2.st.Fills += cnt[miss2]
	l2.st.Evictions += cnt[evictions2]
	l2.st.Writebacks += cnt[writebacks2]
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
