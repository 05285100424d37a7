package cache

//go:generate go run mru_gen.go

// Recency order. The loops of mru_amd64.s (mruLoopNM, written by
// mru_gen.go) serve the hierarchies the issue and Cachegrind use — one
// core, two LRU levels of 4, 8, 12 or 16 ways, 64-byte lines — with each
// set's tag words kept in recency order, most recent first, instead of
// beside their stamps: LRU is then
// the order itself (Cachegrind keeps its sets so), the victim is the last
// word, a reference moves its word to the front, and with AVX2 a lookup
// compares all ways at once and a move is a few vector shuffles. Every
// other path reads stamps and signatures, so the levels switch between
// the two forms: enterMRU sorts each set's words by stamp, leaveMRU
// gives the words stamps in their order (and the ways the signatures of
// their lines). A line's way changes when it moves, which no result
// depends on; the recency order, the contents and the dirty flags are
// what both forms share (TestMRUGeometries and TestFastLoopsDifferential
// compare them).

// mruOK reports whether mru2Run serves the hierarchy: one core, two
// levels of 64-byte lines with 4, 8, 12 or 16 ways each (fastOK holds).
func (h *Hierarchy) mruOK() bool {
	vecs := func(l *Level) bool { return l.ways%4 == 0 && l.ways <= 16 }
	return h.n == 2 && h.cfg.Cores == 1 && h.lineShift == 6 && vecs(h.path[0][0]) && vecs(h.path[0][1])
}

// enterMRU puts the sets of the first two levels of core 0 into recency
// order.
func (h *Hierarchy) enterMRU() {
	if h.mru {
		return
	}
	for _, l := range h.path[0][:2] {
		w := l.ways
		var order [16]int
		var words [16]uint64
		for set := 0; set < l.sets; set++ {
			b := set * l.stride
			tags, stamps := l.tags[b:b+w], l.tags[b+w:b+2*w]
			// Insertion sort of the ways, newest stamp first.
			for i := range w {
				j := i
				for j > 0 && stamps[order[j-1]] < stamps[i] {
					order[j] = order[j-1]
					j--
				}
				order[j] = i
			}
			for i := range w {
				words[i] = tags[order[i]]
			}
			copy(tags, words[:w])
		}
	}
	h.mru = true
}

// leaveMRU gives the words of the sets in recency order stamps in that
// order (newer than any stamp before) and rebuilds the signatures.
func (h *Hierarchy) leaveMRU() {
	if !h.mru {
		return
	}
	for _, l := range h.path[0][:2] {
		w := uint64(l.ways)
		base := l.clock
		for set := 0; set < l.sets; set++ {
			b := set * l.stride
			for p := range l.ways {
				// An empty way keeps the stamp of a way never filled
				// (its index): older than any line.
				stamp := uint64(p)
				if l.tags[b+p]&fValid != 0 {
					stamp |= (base + w - uint64(p)) << 8
				}
				l.tags[b+l.ways+p] = stamp
				if l.sig != nil {
					l.setSig(set, p, l.tags[b+p])
				}
			}
		}
		l.clock = base + w
	}
	h.mru = false
}
