package trace

import (
	"errors"
	"io"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// Line and page sizes the statistics count in.
const (
	LineBytes = 64
	PageBytes = 4096
	lineShift = 6
	pageShift = 12
)

// StatsOptions tune a Stats.
type StatsOptions struct {
	// NoReuse skips the reuse-distance histogram, the costly part
	// (O(log n) per 64-byte line accessed, memory per unique line).
	NoReuse bool
}

// Count is a number of events and the bytes they access.
type Count struct {
	Events uint64
	Bytes  uint64
}

func (c *Count) add(e *Event) {
	c.Events++
	c.Bytes += uint64(e.Size)
}

// LayerStats totals one transformer block.
type LayerStats struct {
	Layer    int
	Count           // all events of the layer
	FFNBytes uint64 // bytes of ffn_gate, ffn_up and ffn_down events
}

// TokenStats totals one token.
type TokenStats struct {
	Token uint32
	// Phase is the phase of the token's first event.
	Phase Phase
	Count
	FFNBytes uint64
}

// TensorStats totals the accesses to one tensor of the symbol table.
type TensorStats struct {
	Tensor uint16
	Count
}

// ReuseHistogram is the LRU stack-distance histogram of 64-byte line
// accesses. An event covering k lines is k accesses, in address order.
// The reuse distance of an access is the number of distinct other lines
// accessed since the previous access to the same line (0: the line was
// the last one accessed); first accesses are Cold. In a fully
// associative LRU cache of C lines an access hits exactly when its
// distance is < C, so the histogram gives the miss count of every such
// cache at once.
type ReuseHistogram struct {
	Accesses uint64
	Cold     uint64
	// Buckets[0] counts distance 0; Buckets[i], i >= 1, distances in
	// [2^(i-1), 2^i). Trailing empty buckets are omitted.
	Buckets []uint64
}

// BucketRange returns the smallest and largest distance of bucket i.
func BucketRange(i int) (lo, hi uint64) {
	if i == 0 {
		return 0, 0
	}
	return 1 << (i - 1), 1<<i - 1
}

// Misses returns the misses of a fully associative LRU cache of lines
// lines (a power of two): cold accesses plus those at distance >= lines.
func (h *ReuseHistogram) Misses(lines uint64) uint64 {
	m := h.Cold
	for i, n := range h.Buckets {
		if lo, _ := BucketRange(i); lo >= lines {
			m += n
		}
	}
	return m
}

// Summary is what Stats computed.
type Summary struct {
	Count
	// Tokens is the number of distinct token indices.
	Tokens      uint64
	UniqueLines uint64 // distinct 64-byte lines touched
	UniquePages uint64 // distinct 4 KiB pages touched
	ByOp        [NumOps]Count
	ByKind      [numKinds]Count
	ByRegion    [RegionInvalid + 1]Count
	// ByLayer has one entry per layer from 0 to the largest seen.
	ByLayer []LayerStats
	// NoLayer totals events outside the transformer blocks.
	NoLayer Count
	// ByToken is sorted by token.
	ByToken []TokenStats
	// ByTensor lists the tensors touched, by id; NoTensor events are not
	// in it.
	ByTensor []TensorStats
	// Reuse is nil with StatsOptions.NoReuse.
	Reuse *ReuseHistogram
}

// Stats accumulates a Summary over an event stream; it is a Sink. Memory
// grows with distinct lines, pages, tokens, layers and tensors, not with
// the number of events.
type Stats struct {
	s        Summary
	layers   []LayerStats
	tokens   map[uint32]int // token -> index in s.ByToken
	lastTok  int
	tensors  []Count
	lines    unitSet
	pages    unitSet
	reuse    *reuseTracker
	anyEvent bool
}

// NewStats returns an empty accumulator.
func NewStats(opts StatsOptions) *Stats {
	st := &Stats{
		tokens:  map[uint32]int{},
		lastTok: -1,
		lines:   unitSet{shift: lineShift},
		pages:   unitSet{shift: pageShift},
	}
	if !opts.NoReuse {
		st.reuse = newReuseTracker()
	}
	return st
}

// Emit adds one event.
func (st *Stats) Emit(e Event) {
	s := &st.s
	s.add(&e)
	if e.Op < NumOps {
		s.ByOp[e.Op].add(&e)
	}
	if e.Kind < numKinds {
		s.ByKind[e.Kind].add(&e)
	}
	s.ByRegion[RegionOf(e.Addr)].add(&e)
	var ffn uint64
	if e.Op.IsFFN() {
		ffn = uint64(e.Size)
	}
	if e.Layer >= 0 {
		for int(e.Layer) >= len(st.layers) {
			st.layers = append(st.layers, LayerStats{Layer: len(st.layers)})
		}
		l := &st.layers[e.Layer]
		l.add(&e)
		l.FFNBytes += ffn
	} else {
		s.NoLayer.add(&e)
	}
	ti := st.lastTok
	if ti < 0 || s.ByToken[ti].Token != e.Token {
		var ok bool
		if ti, ok = st.tokens[e.Token]; !ok {
			ti = len(s.ByToken)
			st.tokens[e.Token] = ti
			s.ByToken = append(s.ByToken, TokenStats{Token: e.Token, Phase: e.Phase})
		}
		st.lastTok = ti
	}
	t := &s.ByToken[ti]
	t.add(&e)
	t.FFNBytes += ffn
	if e.Tensor != NoTensor {
		for int(e.Tensor) >= len(st.tensors) {
			st.tensors = append(st.tensors, Count{})
		}
		st.tensors[e.Tensor].add(&e)
	}
	if e.Size == 0 {
		return // an invalid event touches no line
	}
	last := e.Addr + uint64(e.Size) - 1
	if last < e.Addr { // the access wraps past 2^64: clamp
		last = math.MaxUint64
	}
	st.lines.addRange(e.Addr>>lineShift, last>>lineShift)
	st.pages.addRange(e.Addr>>pageShift, last>>pageShift)
	if st.reuse != nil {
		for l := e.Addr >> lineShift; ; l++ {
			st.reuse.access(l)
			if l == last>>lineShift {
				break
			}
		}
	}
}

// Summary returns the statistics so far. The result shares nothing with
// the accumulator.
func (st *Stats) Summary() *Summary {
	s := st.s
	s.Tokens = uint64(len(s.ByToken))
	s.UniqueLines = st.lines.count
	s.UniquePages = st.pages.count
	s.ByLayer = slices.Clone(st.layers)
	s.ByToken = slices.Clone(s.ByToken)
	sort.Slice(s.ByToken, func(i, j int) bool { return s.ByToken[i].Token < s.ByToken[j].Token })
	s.ByTensor = nil
	for id, c := range st.tensors {
		if c.Events > 0 {
			s.ByTensor = append(s.ByTensor, TensorStats{Tensor: uint16(id), Count: c})
		}
	}
	if st.reuse != nil {
		h := st.reuse.hist
		n := len(h.Buckets)
		for n > 0 && h.Buckets[n-1] == 0 {
			n--
		}
		h.Buckets = slices.Clone(h.Buckets[:n])
		s.Reuse = &h
	}
	return &s
}

// Collect reads src to the end into a Summary. For a trace cut off
// mid-write it returns the summary of the good prefix together with the
// error matching ErrTruncated, which callers may print as a warning.
func Collect(src Source, opts StatsOptions) (*Summary, error) {
	st := NewStats(opts)
	buf := make([]Event, 4096)
	for {
		n, err := src.Next(buf)
		for i := range buf[:n] {
			st.Emit(buf[i])
		}
		if err == io.EOF {
			return st.Summary(), nil
		}
		if errors.Is(err, ErrTruncated) {
			return st.Summary(), err
		}
		if err != nil {
			return nil, err
		}
	}
}

// unitSet is an exact set of line (or page) numbers: a bitmap of 4096
// units per chunk, chunks in a map, so memory follows the units touched
// (512 bytes per touched chunk) and ranges set a word at a time.
type unitSet struct {
	shift   uint
	chunks  map[uint64]*[64]uint64
	lastKey uint64
	last    *[64]uint64
	count   uint64
}

func (u *unitSet) chunk(key uint64) *[64]uint64 {
	if u.last != nil && u.lastKey == key {
		return u.last
	}
	if u.chunks == nil {
		u.chunks = map[uint64]*[64]uint64{}
	}
	c := u.chunks[key]
	if c == nil {
		c = new([64]uint64)
		u.chunks[key] = c
	}
	u.lastKey, u.last = key, c
	return c
}

// addRange adds units first..last inclusive.
func (u *unitSet) addRange(first, last uint64) {
	for {
		c := u.chunk(first >> 12)
		end := first | 4095 // last unit of this chunk
		if last < end {
			end = last
		}
		for w := first & 4095 >> 6; w <= end&4095>>6; w++ {
			lo, hi := uint64(0), uint64(63)
			if w == first&4095>>6 {
				lo = first & 63
			}
			if w == end&4095>>6 {
				hi = end & 63
			}
			mask := (^uint64(0) >> (63 - hi)) &^ (1<<lo - 1)
			u.count += uint64(bits.OnesCount64(mask &^ c[w]))
			c[w] |= mask
		}
		if end == last {
			return
		}
		first = end + 1
	}
}

// reuseTracker computes exact LRU stack distances. Each distinct line's
// latest access time holds a mark in a bitset over times; the distinct
// lines touched between two accesses to a line are the marks between its
// two times, counted with a Fenwick tree over the bitset's words plus a
// popcount inside the word. When the times run out the live marks (one
// per distinct line) are renumbered in order, so memory stays
// proportional to distinct lines (about 30 bytes each for lines in runs,
// at most about 120 for isolated ones).
type reuseTracker struct {
	times    lineTimes
	live     []uint64 // bit t: time t is some line's latest access
	tree     []int32  // 1-based Fenwick tree over popcount(live[w])
	lineAt   []uint64 // time -> line, valid where live
	now      uint32
	nLive    uint64
	prevLine uint64
	havePrev bool
	hist     ReuseHistogram
}

func newReuseTracker() *reuseTracker {
	r := &reuseTracker{hist: ReuseHistogram{Buckets: make([]uint64, 65)}}
	r.times.idx.init(1 << 10)
	r.resize(1 << 16)
	return r
}

func (r *reuseTracker) resize(n int) {
	r.live = make([]uint64, n/64)
	r.tree = make([]int32, n/64+1)
	r.lineAt = make([]uint64, n)
}

func (r *reuseTracker) treeAdd(w int, d int32) {
	for i := w + 1; i < len(r.tree); i += i & -i {
		r.tree[i] += d
	}
}

// before counts marks at times [0, t).
func (r *reuseTracker) before(t uint32) uint64 {
	w := int(t >> 6)
	var s int32
	for i := w; i > 0; i -= i & -i {
		s += r.tree[i]
	}
	n := uint64(s)
	if w < len(r.live) {
		n += uint64(bits.OnesCount64(r.live[w] & (1<<(t&63) - 1)))
	}
	return n
}

func (r *reuseTracker) access(line uint64) {
	r.hist.Accesses++
	if r.havePrev && line == r.prevLine {
		// Repeating the latest line leaves the LRU order as it is.
		r.hist.Buckets[0]++
		return
	}
	r.prevLine, r.havePrev = line, true
	if int(r.now) == len(r.lineAt) {
		r.compact()
	}
	v := r.times.cell(line)
	if *v != 0 {
		t0 := *v - 1
		// Every mark is older than now, so the marks after t0 are the
		// live ones not before t0+1.
		d := r.nLive - r.before(t0+1)
		r.hist.Buckets[bits.Len64(d)]++
		r.live[t0>>6] &^= 1 << (t0 & 63)
		r.treeAdd(int(t0>>6), -1)
	} else {
		r.hist.Cold++
		r.nLive++
	}
	t := r.now
	*v = t + 1
	r.live[t>>6] |= 1 << (t & 63)
	r.treeAdd(int(t>>6), 1)
	r.lineAt[t] = line
	r.now++
}

// compact renumbers the live marks 0..nLive-1 in time order.
func (r *reuseTracker) compact() {
	oldLive, oldLineAt := r.live, r.lineAt
	n := int(min(max(4*r.nLive, 1<<16), math.MaxUint32-63)+63) &^ 63
	r.resize(n)
	i := uint32(0)
	for w, word := range oldLive {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			line := oldLineAt[w*64+b]
			*r.times.cell(line) = i + 1
			r.lineAt[i] = line
			r.live[i>>6] |= 1 << (i & 63)
			i++
		}
	}
	for w := range r.live {
		r.tree[w+1] += int32(bits.OnesCount64(r.live[w]))
		if j := w + 1 + (w+1)&-(w+1); j < len(r.tree) {
			r.tree[j] += r.tree[w+1]
		}
	}
	r.now = i
}

// lineTimes maps a line to its latest access time plus one (0: never),
// in groups of 16 consecutive lines so that a run of lines costs one hash
// lookup per group and stays in one cache line.
type lineTimes struct {
	idx     lineTable // line>>4 -> index into slab
	slab    [][16]uint32
	lastKey uint64
	last    *[16]uint32
}

func (lt *lineTimes) cell(line uint64) *uint32 {
	key := line >> 4
	if lt.last == nil || key != lt.lastKey {
		v, found := lt.idx.slot(key)
		if !found {
			*v = uint32(len(lt.slab))
			lt.slab = append(lt.slab, [16]uint32{})
		}
		lt.last, lt.lastKey = &lt.slab[*v], key
	}
	return &lt.last[line&15]
}

// lineTable maps keys (line groups) to slab indices: open addressing
// with linear probing and Fibonacci hashing, at most half full. Keys are
// stored plus one so that 0 marks an empty slot (keys are < 2^54).
type lineTable struct {
	keys  []uint64
	vals  []uint32
	shift uint
	n     int
}

func (t *lineTable) init(size int) {
	t.keys = make([]uint64, size)
	t.vals = make([]uint32, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
}

// slot returns the value cell of key, inserting it if absent.
func (t *lineTable) slot(key uint64) (*uint32, bool) {
	k := key + 1
	mask := uint64(len(t.keys) - 1)
	for i := (k * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return &t.vals[i], true
		case 0:
			if 2*(t.n+1) > len(t.keys) {
				t.grow()
				return t.slot(key)
			}
			t.keys[i] = k
			t.n++
			return &t.vals[i], false
		}
	}
}

func (t *lineTable) grow() {
	keys, vals := t.keys, t.vals
	t.init(2 * len(keys))
	for i, k := range keys {
		if k != 0 {
			v, _ := t.slot(k - 1)
			*v = vals[i]
		}
	}
}
