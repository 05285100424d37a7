package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/memory/flash"
	"github.com/edgeprof/edgeprof/memory/pagecache"
	"github.com/edgeprof/edgeprof/trace"
)

// The timing model (docs/timing-model.md section 4) replays a trace in
// segments: a segment is one operation of one token (a matrix product, a
// norm, the attention of a layer), ending in a barrier where every core
// waits for the slowest, as the engine's threads do. Within a segment the
// cache hierarchy runs first and records the line requests that leave the
// last level; then each core's requests are issued to the DRAM model in
// global time order, paced over the core's non-memory work (compute and
// cache bandwidth), with at most MSHRs demand fills in flight per core.
// Long segments are cut into chunks (no barrier) so memory stays bounded.

// lineRecorder is the cache.Memory of a timed run: it records the
// requests leaving the last cache level for the scheduler and answers the
// hierarchy with the unloaded latency (the hierarchy's own blocking-core
// clock is not used for timing; it only feeds the prefetch lateness
// counter, as with the ideal memory).
type lineRecorder struct {
	reqs       []lineReq
	unloadedPS uint64
	st         MemoryStats
	// posted is set while the hierarchy serves a run of store events.
	// Their reads do not hold an L1 fill buffer when the first level
	// did not allocate the store (write_allocate: false, or the core in
	// write-streaming mode): the line is fetched by a lower level on the
	// store's behalf. h answers which.
	posted bool
	h      *cache.Hierarchy
}

// lineReq is one request that left the last cache level. A posted read
// is a fetch no core waits for (see lineRecorder.posted).
type lineReq struct {
	addr   uint64
	core   int32
	kind   trace.Kind
	posted bool
	// at is the paced issue time of a request carried over from the
	// previous chunk (0: not carried).
	at int64
}

func (m *lineRecorder) Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) uint64 {
	posted := m.posted && kind == trace.Read && (m.h == nil || !m.h.StoreAllocates(core, 0))
	m.reqs = append(m.reqs, lineReq{addr: addr, core: int32(core), kind: kind, posted: posted})
	switch kind {
	case trace.Write:
		m.st.Writes++
		m.st.WriteBytes += uint64(size)
		return now
	case trace.Prefetch:
		m.st.Prefetches++
	default:
		m.st.Reads++
	}
	m.st.ReadBytes += uint64(size)
	return now + m.unloadedPS
}

// TimedMemoryReport is the `memory` object of a timed run: the requests
// that left the last cache level after warm-up.
type TimedMemoryReport struct {
	Model             string  `json:"model"`
	UnloadedLatencyNS float64 `json:"unloaded_latency_ns"`
	MemoryStats
}

func (m *lineRecorder) ResetStats() { m.st = MemoryStats{} }
func (m *lineRecorder) Report() any {
	return TimedMemoryReport{Model: "dram", UnloadedLatencyNS: float64(m.unloadedPS) / 1000, MemoryStats: m.st}
}

// dmaBacking reads from flash and remembers each read, so that the page
// it brings in can be written into DRAM (DMA) when the read completes.
type dmaBacking struct {
	f    *flash.Flash
	done []dmaRead
}

type dmaRead struct {
	at   int64
	off  uint64
	size int
}

func (b *dmaBacking) Read(at int64, off uint64, size int) (int64, error) {
	d, err := b.f.Read(at, off, size)
	if err == nil {
		b.done = append(b.done, dmaRead{at: d, off: off, size: size})
	}
	return d, err
}

// future is a DRAM submission known in advance: the DRAM writes of a
// page-cache fill (when its flash read completes) or a prefetch waiting
// for its page.
type future struct {
	at    int64
	addr  uint64 // physical
	lines int
	write bool
	seg   uint64
}

// futureHeap is a min-heap on at (ties in push order, for determinism).
type futureHeap struct {
	a   []future
	ord []uint64
	n   uint64
}

func (h *futureHeap) less(i, j int) bool {
	if h.a[i].at != h.a[j].at {
		return h.a[i].at < h.a[j].at
	}
	return h.ord[i] < h.ord[j]
}

func (h *futureHeap) swap(i, j int) {
	h.a[i], h.a[j] = h.a[j], h.a[i]
	h.ord[i], h.ord[j] = h.ord[j], h.ord[i]
}

func (h *futureHeap) push(f future) {
	h.a = append(h.a, f)
	h.ord = append(h.ord, h.n)
	h.n++
	for i := len(h.a) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *futureHeap) pop() future {
	f := h.a[0]
	n := len(h.a) - 1
	h.swap(0, n)
	h.a, h.ord = h.a[:n], h.ord[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.swap(i, m)
		i = m
	}
	return f
}

// inflight is a submitted DRAM read whose completion may not be known.
type inflight struct {
	tk   dram.Ticket
	seq  uint64 // submission number, to keep the ticket from expiring
	seg  uint64 // segment that issued it (prefetches)
	done int64  // -1 while unknown
}

// coreTiming is one core's state in the scheduler.
type coreTiming struct {
	t0        int64 // start of the core's current chunk
	work      int64 // non-memory time of the chunk: max(compute, cache levels)
	compute   int64
	stall     int64 // flash stalls in this chunk
	segStall  int64 // flash stalls in earlier chunks of the segment
	notBefore int64
	reqs      []int32 // indices of the chunk's requests, in order
	carried   int     // the first carried of them come from the previous chunk
	perReq    float64 // work / len(reqs)
	next      int
	// fills are the core's demand fills in flight (loads, and stores when
	// the first level allocates on a store miss); stores holds the fetches
	// a lower level makes for stores the first level does not allocate,
	// bounded by a store buffer assumed as deep as the fill buffers.
	fills, stores ring
	faulted       int32 // request whose page fault was served (-1: none)
	lastIssue     int64
	flops         float64
	events        int
}

// ring holds a core's reads in flight, at most len(a): a fill buffer
// frees when its own read completes, whatever the order. It caches the
// earliest known completion and how many completions are not known yet.
type ring struct {
	a        []inflight
	n        int
	unknown  int   // entries with done < 0
	minKnown int64 // earliest known completion, valid when stale is false
	stale    bool
	seen     pollState // state of the last scan
	// minAt is the entry first() would return, as freeAt's last scan
	// found it; valid while minOK (cleared whenever an entry's
	// completion may have been filled in elsewhere, or entries moved).
	minAt int
	minOK bool
}

// pollState is what can change the answers of timing.known: the DRAM
// deciding a request, and submissions (which may wait on old tickets and
// append or drop prefetches). While it stays the same, a scan of tickets
// in flight finds what the previous scan found, so the loops that step
// through a long stall (a page fault's flash read, at the DRAM's pace)
// skip it.
type pollState struct {
	decided, submits uint64
	pfLen, pfHead    int
}

func (t *timing) pollState() pollState {
	return pollState{t.d.Decided(), t.submits, len(t.pf), t.pfHead}
}

func (r *ring) full() bool         { return r.n == len(r.a) }
func (r *ring) at(k int) *inflight { return &r.a[k] }
func (r *ring) reset()             { r.n, r.unknown, r.stale, r.minOK = 0, 0, true, false }

// push adds a read; a full ring first frees the entry whose completion
// made room (the earliest).
func (r *ring) push(f inflight) {
	if r.full() {
		i := r.minAt
		if !r.minOK {
			i = r.first()
		}
		r.a[i] = r.a[r.n-1]
		r.n--
	}
	r.minOK = false
	r.a[r.n] = f
	r.n++
	r.unknown++
	r.stale = true
}

// first returns the entry with the earliest known completion.
func (r *ring) first() int {
	best := -1
	for i := 0; i < r.n; i++ {
		if d := r.a[i].done; d >= 0 && (best < 0 || d < r.a[best].done) {
			best = i
		}
	}
	return best
}

// pool returns the ring a read uses.
func (c *coreTiming) pool(r *lineReq) *ring {
	if r.posted {
		return &c.stores
	}
	return &c.fills
}

// pace is when the core reaches its next request: its misses are spread
// evenly over its non-memory work, after any flash stall, and in program
// order (not before the previous request went out).
func (c *coreTiming) pace(reqs []lineReq) int64 {
	if c.next < c.carried {
		return max(reqs[c.reqs[c.next]].at, c.notBefore, c.lastIssue)
	}
	return max(c.t0+c.stall+int64(c.perReq*float64(c.next-c.carried)), c.notBefore, c.lastIssue)
}

// segment is the operation in progress.
type segment struct {
	open  bool
	keyed bool // its op is known (more than activation reads seen)
	body  bool // something other than an activation read seen
	layer int16
	op    string
	token uint32
	phase trace.Phase
	id    uint64
	start int64
	batch []int // activation reads per thread: tokens sharing a weight read
	acc   opTotals
}

// opTotals accumulates what the report shows per token and per op.
type opTotals struct {
	timePS, computePS, stallPS int64
	flops                      float64
	lines                      []uint64 // per cache level: line lookups
	dramReadBytes              uint64
	dramWriteBytes             uint64
	flashBytes                 uint64
	energyPJ                   float64
	// Energy by part: each cache level, DRAM, flash, compute.
	levelPJ                    []float64
	dramPJ, flashPJ, computePJ float64
}

func (a *opTotals) add(b *opTotals) {
	a.timePS += b.timePS
	a.computePS += b.computePS
	a.stallPS += b.stallPS
	a.flops += b.flops
	for i, v := range b.lines {
		a.lines[i] += v
	}
	a.dramReadBytes += b.dramReadBytes
	a.dramWriteBytes += b.dramWriteBytes
	a.flashBytes += b.flashBytes
	a.energyPJ += b.energyPJ
	for i, v := range b.levelPJ {
		a.levelPJ[i] += v
	}
	a.dramPJ += b.dramPJ
	a.flashPJ += b.flashPJ
	a.computePJ += b.computePJ
}

func newOpTotals(levels int) opTotals {
	return opTotals{lines: make([]uint64, levels), levelPJ: make([]float64, levels)}
}

type opKey struct {
	phase trace.Phase
	layer int16
	op    string
}

type tokenTotals struct {
	token uint32
	phase trace.Phase
	opTotals
}

// Limits of one chunk: the hierarchy runs at most chunkEvents events
// between checks, and a chunk is scheduled once it holds maxChunkReqs
// requests.
const (
	chunkEvents  = 256
	maxChunkReqs = 1 << 15
	// sweepEvery submissions the tickets in flight are checked, so that
	// none expires (DRAM keeps about 16 K completions).
	sweepEvery = 1024
	ticketAge  = 12_000
)

// timing is the timing and energy model of one SoC replaying one trace.
type timing struct {
	soc  *SoC
	h    *cache.Hierarchy
	rec  *lineRecorder
	d    *dram.DRAM
	fl   *flash.Flash
	pc   *pagecache.PageCache
	dma  *dmaBacking
	fm   *flopModel
	line int64

	mshrs int
	// l1StoresFill: every store miss fills the first level, holding one
	// of the core's fill buffers like a load miss (write-allocate, no
	// write streaming).
	l1StoresFill bool
	offsetPS     int64 // issue to arrival at the controller: cache lookups + fabric
	stepPS       int64 // safe Advance step while every core waits (see newTiming)
	rlPS         int64 // an undecided read completes at least this long after the horizon
	flopsPerPS   float64
	levelLatPS   []int64
	levelBW      []float64 // bytes per ps per instance
	shared       []int
	span         uint64 // physical bytes per address region
	horizon      int64

	clock    int64 // start of the current segment
	cores    []coreTiming
	active   []int     // cores with requests left in the chunk
	carry    []lineReq // requests carried into the next chunk
	seg      segment
	pending  int // events accounted since the hierarchy last ran
	snap     [][]cache.Stats
	futures  futureHeap
	pf       []inflight // prefetch reads in flight, oldest first
	pfHead   int
	pfPrev   int64 // latest completion of dropped prefetches of the previous segment
	submits  uint64
	nextSeg  uint64
	chunkRd  uint64 // DRAM bytes of the chunk
	chunkWr  uint64
	lastDRAM dram.Stats
	lastFl   flash.Stats
	lastEPJ  float64 // compute + cache energy already attributed

	tokens   []tokenTotals
	tokenIdx map[uint32]int
	ops      map[opKey]*opTotals
	opCount  map[opKey]int
	opOrder  []opKey
	// Whole-run energy inputs: line lookups plus fills per level, FLOPs.
	totalLevel []uint64
	totalFlops float64
	ttftPS     int64
	// preloadStallNS is the page cache's stall counter after the preload.
	preloadStallNS float64
	fileBytes      int64
	dmaBytes       uint64
	warnings       []string
	err            error

	// dtrace receives the DRAM requests (Options.DRAMTrace), arrivals in
	// DRAM clocks of tckPS.
	dtrace *bufio.Writer
	tckPS  int64
	dline  []byte
}

func newTiming(soc *SoC, hdr *trace.Header, dramTrace io.Writer) (*timing, *lineRecorder, error) {
	d, err := dram.New(soc.DRAM.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("dram: %w", err)
	}
	t := &timing{
		soc: soc, d: d, fm: newFlopModel(hdr), line: int64(soc.Caches[0].Line),
		mshrs: soc.Cores.MSHRs, l1StoresFill: l1StoresFill(soc.Caches[0]),
		tokenIdx: map[uint32]int{}, ops: map[opKey]*opTotals{}, opCount: map[opKey]int{},
	}
	if dramTrace != nil {
		t.dtrace, t.tckPS = bufio.NewWriterSize(dramTrace, 1<<16), d.ClockPS()
	}
	cyc := int64(soc.CyclePS())
	var lookup int64
	for _, c := range soc.Caches {
		lat := int64(c.LatencyCycles) * cyc
		lookup += lat
		t.levelLatPS = append(t.levelLatPS, lat)
		t.levelBW = append(t.levelBW, float64(c.BandwidthBytesPerCycle)/float64(cyc))
		t.shared = append(t.shared, c.SharedBy)
	}
	t.offsetPS = lookup + int64(math.Round(soc.DRAM.FabricLatencyNS*1000))
	// A read the DRAM has not scheduled by the horizon H completes after
	// H + RL, and the core's next request reaches the controller offsetPS
	// after that: advancing by RL + offsetPS never lets a submission
	// arrive before the horizon.
	t.rlPS = d.Config().Timing.RL
	t.stepPS = max(1000, t.rlPS+t.offsetPS)
	t.flopsPerPS = soc.PeakFLOPsPerCycle() / float64(cyc)
	t.span = max(dramCapacity(d.Config())/4, 1)
	// Only a trace of a model file has file pages: din traces and traces
	// without a model size keep everything resident.
	var size int64
	if hdr != nil {
		size = int64(min(hdr.ModelSize, 1<<50))
	}
	if soc.WeightsBudget > 0 && soc.Flash != nil && size > 0 {
		fl, err := flash.New(*soc.Flash)
		if err != nil {
			return nil, nil, fmt.Errorf("flash: %w", err)
		}
		t.fl = fl
		t.fileBytes = size
		t.dma = &dmaBacking{f: fl}
		cfg := soc.pageCacheConfig(size)
		// Frames beyond the file are never used: do not allocate them.
		if pb := int64(cfg.PageBytes); cfg.WeightsBudget > size {
			cfg.WeightsBudget = max(pb, (size+pb-1)/pb*pb)
		}
		pc, err := pagecache.New(cfg, t.dma)
		if err != nil {
			return nil, nil, fmt.Errorf("page cache: %w", err)
		}
		t.pc = pc
		if soc.PageCache.Preload && size <= int64(soc.WeightsBudget) {
			// The reads start at time 0 and run in the background: the
			// page cache records when each page arrives, and a token that
			// touches a page earlier waits for it.
			if _, err := pc.Access(0, 0, int(size)); err != nil {
				return nil, nil, fmt.Errorf("page cache preload: %w", err)
			}
			t.collectDMA()
			// The preload's own waiting is not a stall of the engine.
			t.preloadStallNS = pc.Stats().StallNS
		}
	}
	if len(t.fm.unknown) > 0 {
		t.warnings = append(t.warnings, fmt.Sprintf("tensor types %v unknown to the compute model: their FLOPs are not counted", t.fm.unknown))
	}
	unloaded := t.offsetPS + t.unloadedDRAMPS()
	t.rec = &lineRecorder{unloadedPS: uint64(unloaded)}
	t.cores = make([]coreTiming, soc.Cores.Count)
	for i := range t.cores {
		t.cores[i].fills.a = make([]inflight, t.mshrs)
		t.cores[i].stores.a = make([]inflight, t.mshrs)
		t.cores[i].faulted = -1
	}
	return t, t.rec, nil
}

// unloadedDRAMPS is a row miss on an idle bank: tRCD + RL + the bursts of
// one line.
func (t *timing) unloadedDRAMPS() int64 {
	c := t.d.Config()
	tm := c.Timing
	bursts := max(1, t.line/int64(t.d.BurstBytes()))
	perChannelGBps := t.d.PeakBandwidth() / float64(c.Org.Channels)
	burstPS := int64(math.Round(float64(t.d.BurstBytes()) / perChannelGBps * 1000))
	return tm.RCD + tm.RL + bursts*burstPS
}

// attach connects the hierarchy built over the recorder.
func (t *timing) attach(h *cache.Hierarchy) {
	t.h = h
	t.rec.h = h
	t.snap = t.levelStats(nil)
	t.seg.acc = newOpTotals(h.Levels())
	t.totalLevel = make([]uint64, h.Levels())
}

func (t *timing) levelStats(dst [][]cache.Stats) [][]cache.Stats {
	if dst == nil {
		dst = make([][]cache.Stats, t.h.Levels())
		for i := range dst {
			dst[i] = make([]cache.Stats, t.h.Instances(i))
		}
	}
	for i := range dst {
		for j := range dst[i] {
			dst[i][j] = t.h.LevelStats(i, j)
		}
	}
	return dst
}

// opName names the segment an event's op belongs to: the attention's KV
// reads and writes form one.
func opName(op trace.Op) string {
	if op == trace.OpKVRead || op == trace.OpKVWrite {
		return "attention"
	}
	return op.String()
}

// boundary reports whether e starts a new segment: the inputs of the next
// operation (an activation read after the current one's body), or an
// access of another op, layer, token or phase. Prefetches and activation
// writes never start one: a prefetch belongs to the op that issues it.
func (t *timing) boundary(e *trace.Event) bool {
	s := &t.seg
	if !s.open {
		return false
	}
	if e.Kind == trace.Prefetch {
		return false
	}
	if e.Op == trace.OpActivation {
		return e.Kind == trace.Read && s.body
	}
	if !s.keyed {
		return false
	}
	return e.Layer != s.layer || opName(e.Op) != s.op || e.Token != s.token || e.Phase != s.phase
}

// account adds e to the current segment (opening one if needed).
func (t *timing) account(e *trace.Event) {
	s := &t.seg
	if !s.open {
		s.open, s.keyed, s.body = true, false, false
		s.id = t.nextSeg
		t.nextSeg++
		s.start = t.clock
		for i := range s.batch {
			s.batch[i] = 0
		}
		s.layer, s.op, s.token, s.phase = e.Layer, opName(e.Op), e.Token, e.Phase
	}
	th := int(e.Thread)
	if e.Op == trace.OpActivation && e.Kind == trace.Read {
		for len(s.batch) <= th {
			s.batch = append(s.batch, 0)
		}
		s.batch[th]++
	} else {
		s.body = true
		if !s.keyed && e.Op != trace.OpActivation && e.Kind != trace.Prefetch {
			s.keyed = true
			s.layer, s.op, s.token, s.phase = e.Layer, opName(e.Op), e.Token, e.Phase
		}
	}
	batch := 1
	if th < len(s.batch) {
		batch = s.batch[th]
	}
	f := t.fm.flops(e, batch)
	c := &t.cores[th%len(t.cores)]
	c.flops += f
	c.events++
	s.acc.flops += f
	t.pending++
}

// l1StoresFill reports whether the first level c allocates every store
// miss.
func l1StoresFill(c Cache) bool {
	return (c.WriteAllocate == nil || *c.WriteAllocate) && (c.WriteStreaming == nil || c.WriteStreaming.AfterLines == 0)
}

// runHier runs the hierarchy on events already accounted. When the first
// level may not allocate a store miss, runs of stores go through apart so
// that the fetches they cause can be marked posted.
func (t *timing) runHier(ev []trace.Event) {
	t.pending = 0
	if len(ev) == 0 {
		return
	}
	if t.l1StoresFill {
		t.h.Run(ev)
		return
	}
	for len(ev) > 0 {
		store := ev[0].Kind == trace.Write
		n := 1
		for n < len(ev) && (ev[n].Kind == trace.Write) == store {
			n++
		}
		t.rec.posted = store
		t.h.Run(ev[:n])
		ev = ev[n:]
	}
	t.rec.posted = false
}

// maxEventLines: an event spanning more lines runs through the
// hierarchy in pieces of this many lines, a chunk ending after each (the
// pieces reference the same lines; no trace the engine writes has events
// this large). Under --straddle cachegrind, which counts an event as one
// access, such an event counts one per piece. A variable for tests.
var maxEventLines uint64 = 1 << 20

// spansLines returns how many cache lines event e touches.
func (t *timing) spansLines(e *trace.Event) uint64 {
	if e.Size <= 1 {
		return 1
	}
	line := uint64(t.line)
	end := e.Addr + uint64(e.Size) - 1
	if end < e.Addr {
		end = ^uint64(0)
	}
	return end/line - e.Addr/line + 1
}

// runSplit runs event e (accounted already) through the hierarchy in
// pieces of maxEventLines lines, ending a chunk whenever the requests
// reach maxChunkReqs, so that memory stays bounded.
func (t *timing) runSplit(e *trace.Event) {
	line := uint64(t.line)
	endIncl := e.Addr + uint64(e.Size) - 1
	if endIncl < e.Addr { // wraps past the top, as the hierarchy clamps it
		endIncl = ^uint64(0)
	}
	one := []trace.Event{*e}
	addr := e.Addr
	for ln, lastLn := e.Addr/line, endIncl/line; ; ln += maxEventLines {
		pieceEnd := endIncl
		if lastLn-ln >= maxEventLines {
			pieceEnd = (ln+maxEventLines)*line - 1
		}
		one[0].Addr, one[0].Size = addr, uint32(pieceEnd-addr+1)
		t.runHier(one)
		if len(t.rec.reqs) >= maxChunkReqs {
			t.endChunk(false)
		}
		if pieceEnd == endIncl || t.err != nil {
			return
		}
		addr = pieceEnd + 1
	}
}

// endChunk schedules the requests of the chunk; at a barrier every core
// then waits for its fills and the previous op's prefetches, and the
// segment's time is booked.
func (t *timing) endChunk(barrier bool) {
	if t.err != nil {
		return
	}
	t.work()
	if barrier {
		if err := t.schedule(false); err != nil {
			t.err = err
			return
		}
		t.barrier()
		t.carry = t.carry[:0]
	} else {
		// Without a barrier the cores run on. Issuing stops when the first
		// core has issued its last request of the chunk; what the others
		// have left is carried into the next chunk, so that the first
		// core's next requests do not arrive before requests already
		// simulated. (If the carry grows past a chunk, the cores are far
		// out of balance and everything is issued.)
		if err := t.schedule(len(t.carry) < maxChunkReqs); err != nil {
			t.err = err
			return
		}
		limit := int64(0)
		for i := range t.cores {
			limit = max(limit, t.cores[i].lastIssue)
		}
		t.carry = t.carry[:0]
		for i := range t.cores {
			c := &t.cores[i]
			for ; c.next < len(c.reqs); c.next++ {
				r := t.rec.reqs[c.reqs[c.next]]
				r.at = max(1, c.pace(t.rec.reqs))
				t.carry = append(t.carry, r)
			}
			c.t0 = max(c.t0+c.stall+c.work, c.lastIssue, limit)
			c.notBefore = c.t0
			c.segStall += c.stall
		}
	}
	for i := range t.cores {
		c := &t.cores[i]
		c.reqs, c.next, c.stall, c.work, c.compute, c.flops, c.events, c.carried = c.reqs[:0], 0, 0, 0, 0, 0, 0, 0
		c.faulted = -1 // request indices restart with the next chunk
	}
	t.rec.reqs = append(t.rec.reqs[:0], t.carry...)
}

// work sets each core's non-memory time for the chunk: the larger of its
// compute time (FLOPs at the core's peak rate) and the time each cache
// level needs for the lines it serves (bandwidth, and for levels below
// the first, hit latency over the core's MSHRs). The chunk's cache
// traffic is also booked.
func (t *timing) work() {
	cur := t.levelStats(nil)
	n := len(t.cores)
	var lvlTime [][]int64 // [level][instance]
	for i := range cur {
		row := make([]int64, len(cur[i]))
		for j := range cur[i] {
			a, b := &cur[i][j], &t.snap[i][j]
			lines := (a.Accesses() + a.PrefetchRequests) - (b.Accesses() + b.PrefetchRequests)
			fills := a.Fills - b.Fills
			t.seg.acc.lines[i] += lines
			e := float64(float64(lines+fills) * t.soc.Caches[i].EnergyPJPerAccess) // rounded: no FMA on arm64
			t.seg.acc.energyPJ += e
			t.seg.acc.levelPJ[i] += e
			t.totalLevel[i] += lines + fills
			tm := float64(lines*uint64(t.line)) / t.levelBW[i]
			if i > 0 {
				active := 0
				for c := j * t.shared[i]; c < min(n, (j+1)*t.shared[i]); c++ {
					if t.cores[c].events > 0 {
						active++
					}
				}
				demand := a.Accesses() - b.Accesses()
				tm = max(tm, float64(demand)*float64(t.levelLatPS[i])/float64(t.mshrs*max(1, active)))
			}
			row[j] = int64(tm)
		}
		lvlTime = append(lvlTime, row)
	}
	t.snap = cur
	var maxCompute int64
	for ci := range t.cores {
		c := &t.cores[ci]
		if c.events == 0 {
			continue
		}
		c.compute = int64(c.flops / t.flopsPerPS)
		w := c.compute
		for i := range lvlTime {
			w = max(w, lvlTime[i][ci/t.shared[i]])
		}
		c.work = w
		maxCompute = max(maxCompute, c.compute)
	}
	t.seg.acc.computePS += maxCompute
	// Rounded before the sums (float64()), so arm64 cannot fuse them
	// into FMAs and results stay bit-identical across architectures.
	computePJ := float64(t.coreFlops() * t.soc.Cores.EnergyPJPerFLOP)
	t.seg.acc.energyPJ += computePJ
	t.seg.acc.computePJ += computePJ
	t.totalFlops += t.coreFlops()
	for i, r := range t.rec.reqs {
		c := &t.cores[r.core]
		c.reqs = append(c.reqs, int32(i))
		if r.at > 0 {
			c.carried++
		}
	}
}

func (t *timing) coreFlops() float64 {
	var f float64
	for i := range t.cores {
		f += t.cores[i].flops
	}
	return f
}

// phys places a trace address in DRAM: each address region (model file,
// KV cache, activations, predictor) gets a quarter of the DRAM, so
// regions do not alias onto the same rows.
func (t *timing) phys(addr uint64) uint64 {
	r := trace.RegionOf(addr)
	if r >= trace.RegionInvalid {
		return addr
	}
	return uint64(r)*t.span + (addr - uint64(r)*trace.RegionKV)
}

// schedule issues the chunk's requests in global time order: each core's
// next request at its paced time, a demand read no earlier than the
// completion of its oldest fill when all MSHRs are busy. A completion the
// DRAM has not decided yet is at least one read latency after the
// simulated horizon, so the DRAM is advanced in such steps until the
// earliest candidate is known to be first (no request is submitted out
// of time order).
func (t *timing) schedule(stopAtFirst bool) error {
	active := t.active[:0]
	for ci := range t.cores {
		c := &t.cores[ci]
		if len(c.reqs) > 0 {
			c.perReq = float64(c.work) / float64(max(1, len(c.reqs)-c.carried))
			active = append(active, ci)
		}
	}
	t.active = active
	for {
		best, bestT, unknown := -1, int64(math.MaxInt64), false
		for k := 0; k < len(active); k++ {
			ci := active[k]
			c := &t.cores[ci]
			if c.next >= len(c.reqs) {
				active[k] = active[len(active)-1]
				active = active[:len(active)-1]
				k--
				continue
			}
			tc := c.pace(t.rec.reqs)
			r := &t.rec.reqs[c.reqs[c.next]]
			if p := c.pool(r); r.kind == trace.Read && p.full() {
				d, ok := t.freeAt(p)
				if !ok {
					unknown = true
					continue
				}
				tc = max(tc, d)
			}
			if tc < bestT {
				best, bestT = ci, tc
			}
		}
		if best < 0 {
			if !unknown {
				return nil
			}
			t.advance(t.horizon + t.stepPS)
			continue
		}
		if unknown && t.horizon < bestT+t.offsetPS {
			t.advance(bestT + t.offsetPS)
			continue
		}
		if err := t.issue(best, bestT); err != nil {
			return err
		}
		if c := &t.cores[best]; stopAtFirst && c.next == len(c.reqs) && len(active) > 1 {
			return nil
		}
	}
}

// freeAt returns when the first of a full ring's reads completes, if the
// DRAM has decided it: the earliest known completion counts only if no
// undecided read can come before it (an undecided one completes at least
// RL after the horizon).
func (t *timing) freeAt(p *ring) (int64, bool) {
	if ps := t.pollState(); p.stale || p.unknown > 0 && p.seen != ps {
		p.seen = ps
		best, at, unknown := int64(math.MaxInt64), -1, 0
		for i := 0; i < p.n; i++ {
			f := &p.a[i]
			if t.known(f) {
				if f.done < best { // the first of equals, as first() picks
					best, at = f.done, i
				}
			} else {
				unknown++
			}
		}
		p.minKnown, p.unknown, p.stale = best, unknown, false
		p.minAt, p.minOK = at, at >= 0
	}
	if p.minKnown == math.MaxInt64 || p.unknown > 0 && p.minKnown > t.horizon+t.rlPS {
		return 0, false
	}
	return p.minKnown, true
}

// known fills in f.done if the DRAM has decided it.
func (t *timing) known(f *inflight) bool {
	if f.done >= 0 {
		return true
	}
	if d, ok := t.d.Done(f.tk); ok {
		f.done = d
		return true
	}
	return false
}

// advance moves the DRAM to x, first submitting the futures due by then.
func (t *timing) advance(x int64) {
	t.flushFutures(x)
	t.d.Advance(x)
	t.horizon = max(t.horizon, x)
}

func (t *timing) flushFutures(limit int64) {
	for len(t.futures.a) > 0 && t.futures.a[0].at <= limit {
		f := t.futures.pop()
		for i := 0; i < f.lines; i++ {
			tk, ok := t.submit(f.at, f.addr+uint64(i)*uint64(t.line), f.write)
			if ok && !f.write {
				t.pf = append(t.pf, inflight{tk: tk, seq: t.submits, seg: f.seg, done: -1})
			}
		}
	}
}

func (t *timing) submit(at int64, addr uint64, write bool) (dram.Ticket, bool) {
	tk, err := t.d.Submit(dram.Request{At: at, Addr: addr, Size: int(t.line), Write: write})
	if err != nil {
		if t.err == nil {
			t.err = fmt.Errorf("dram: %w", err)
		}
		return 0, false
	}
	t.submits++
	if write {
		t.chunkWr += uint64(t.line)
	} else {
		t.chunkRd += uint64(t.line)
	}
	if t.dtrace != nil {
		t.traceDRAM(at, addr, write)
	}
	if t.submits%sweepEvery == 0 {
		t.sweep()
	}
	return tk, true
}

// traceDRAM writes one request to the DRAM trace in DRAMsim3's format.
func (t *timing) traceDRAM(at int64, addr uint64, write bool) {
	b := append(t.dline[:0], "0x"...)
	b = strconv.AppendUint(b, addr, 16)
	if write {
		b = append(b, " WRITE "...)
	} else {
		b = append(b, " READ "...)
	}
	b = strconv.AppendInt(b, max(at, 0)/t.tckPS, 10)
	b = append(b, '\n')
	t.dline = b
	if _, err := t.dtrace.Write(b); err != nil && t.err == nil {
		t.err = fmt.Errorf("DRAM trace: %w", err)
	}
}

// sweep reads the completions of tickets in flight before the DRAM
// forgets them; one too old to wait longer is waited for.
func (t *timing) sweep() {
	check := func(f *inflight) {
		if t.known(f) || t.submits-f.seq < ticketAge {
			return
		}
		d, err := t.d.Wait(f.tk)
		if err != nil {
			if t.err == nil {
				t.err = fmt.Errorf("dram: %w", err)
			}
			d = t.horizon
		}
		f.done = d
	}
	for i := range t.cores {
		c := &t.cores[i]
		for k := 0; k < c.fills.n; k++ {
			check(c.fills.at(k))
		}
		for k := 0; k < c.stores.n; k++ {
			check(c.stores.at(k))
		}
		c.fills.minOK, c.stores.minOK = false, false
	}
	for i := t.pfHead; i < len(t.pf); i++ {
		check(&t.pf[i])
	}
	t.compactPF()
}

// compactPF drops the prefetches at the front whose completion is known
// and that no longer need a ticket: those of the previous segment leave
// their completion in pfPrev for the coming barrier; older ones were
// waited for by an earlier barrier.
func (t *timing) compactPF() {
	for t.pfHead < len(t.pf) && t.pf[t.pfHead].done >= 0 && t.pf[t.pfHead].seg < t.seg.id {
		if f := t.pf[t.pfHead]; f.seg+1 == t.seg.id {
			// The next barrier waits for this one.
			t.pfPrev = max(t.pfPrev, f.done)
		}
		t.pfHead++
	}
	if t.pfHead > 4096 && t.pfHead*2 > len(t.pf) {
		t.pf = append(t.pf[:0], t.pf[t.pfHead:]...)
		t.pfHead = 0
	}
}

// issue submits core ci's next request at time tc (or stalls the core on
// a page fault).
func (t *timing) issue(ci int, tc int64) error {
	c := &t.cores[ci]
	idx := c.reqs[c.next]
	r := t.rec.reqs[idx]
	if t.pc != nil && r.kind != trace.Write && trace.RegionOf(r.addr) == trace.RegionModelFile && c.faulted != idx {
		ready, err := t.pc.Access(tc, r.addr, int(t.line))
		if err != nil {
			if errors.Is(err, pagecache.ErrOutOfRange) {
				return fmt.Errorf("address %#x is beyond the model file (%w)", r.addr, err)
			}
			return err
		}
		t.collectDMA()
		if ready > tc {
			if r.kind == trace.Prefetch {
				// A prefetch does not stall the core: it reaches DRAM when
				// its page is in.
				t.futures.push(future{at: ready + t.offsetPS, addr: t.phys(r.addr), lines: 1, seg: t.seg.id})
				c.next++
				c.lastIssue = max(c.lastIssue, tc)
				return nil
			}
			// A major fault blocks the thread until the page is in.
			c.stall += ready - tc
			c.notBefore = ready
			c.faulted = idx
			return nil
		}
	}
	arrival := tc + t.offsetPS
	t.flushFutures(arrival)
	tk, ok := t.submit(arrival, t.phys(r.addr), r.kind == trace.Write)
	if !ok {
		return t.err
	}
	switch {
	case r.kind == trace.Read:
		c.pool(&r).push(inflight{tk: tk, seq: t.submits, done: -1})
	case r.kind == trace.Prefetch:
		t.pf = append(t.pf, inflight{tk: tk, seq: t.submits, seg: t.seg.id, done: -1})
	}
	c.next++
	c.lastIssue = max(c.lastIssue, tc)
	return nil
}

// collectDMA turns the flash reads of the last page-cache access into
// DRAM writes at their completion.
func (t *timing) collectDMA() {
	for _, r := range t.dma.done {
		first := r.off / uint64(t.line) * uint64(t.line)
		lines := int((r.off + uint64(r.size) + uint64(t.line) - 1 - first) / uint64(t.line))
		t.futures.push(future{at: r.at, addr: t.phys(first), lines: lines, write: true})
		t.dmaBytes += uint64(lines) * uint64(t.line)
	}
	t.dma.done = t.dma.done[:0]
}

// waitAll advances the DRAM until every fill in flight and every
// prefetch of an earlier segment is complete, and returns the latest
// completion.
func (t *timing) waitAll(prefetchBefore uint64) int64 {
	var latest int64
	var seen pollState
	for scanned := false; ; scanned = true {
		if ps := t.pollState(); scanned && ps == seen && t.err == nil {
			t.advance(t.horizon + t.stepPS) // the scan would find the same
			continue
		} else {
			seen = ps
		}
		done := true
		for i := range t.cores {
			c := &t.cores[i]
			for _, p := range []*ring{&c.fills, &c.stores} {
				p.minOK = false
				for k := 0; k < p.n; k++ {
					f := p.at(k)
					if t.known(f) {
						latest = max(latest, f.done)
					} else {
						done = false
					}
				}
			}
		}
		for i := t.pfHead; i < len(t.pf); i++ {
			f := &t.pf[i]
			if f.seg >= prefetchBefore {
				continue
			}
			if t.known(f) {
				latest = max(latest, f.done)
			} else {
				done = false
			}
		}
		if done || t.err != nil {
			return latest
		}
		t.advance(t.horizon + t.stepPS)
	}
}

// barrier ends the current segment: every core waits for its own work,
// its fills and the prefetches issued by earlier ops, then for the
// slowest core.
func (t *timing) barrier() {
	end := t.clock
	for i := range t.cores {
		c := &t.cores[i]
		end = max(end, c.t0+c.stall+c.work, c.lastIssue)
	}
	end = max(end, t.waitAll(t.seg.id), t.pfPrev)
	var stall int64
	for i := range t.cores {
		c := &t.cores[i]
		stall = max(stall, c.segStall+c.stall)
		c.fills.reset()
		c.stores.reset()
		c.t0, c.notBefore, c.lastIssue, c.faulted = end, end, end, -1
		c.segStall = 0
	}
	t.compactPF()
	t.pfPrev = 0
	t.advance(end)
	s := &t.seg
	s.acc.timePS = end - s.start
	s.acc.stallPS = stall
	s.acc.dramReadBytes, s.acc.dramWriteBytes = t.chunkRd, t.chunkWr
	t.chunkRd, t.chunkWr = 0, 0
	ds := t.d.Stats()
	s.acc.energyPJ += ds.EnergyPJ - t.lastDRAM.EnergyPJ
	s.acc.dramPJ = ds.EnergyPJ - t.lastDRAM.EnergyPJ
	t.lastDRAM = ds
	if t.fl != nil {
		fs := t.fl.Stats()
		s.acc.flashBytes = fs.Bytes - t.lastFl.Bytes
		s.acc.energyPJ += fs.EnergyPJ - t.lastFl.EnergyPJ
		s.acc.flashPJ = fs.EnergyPJ - t.lastFl.EnergyPJ
		t.lastFl = fs
	}
	t.book()
	t.clock = end
	s.open = false
	s.acc = newOpTotals(len(s.acc.lines))
}

// book adds the finished segment to its token and op.
func (t *timing) book() {
	s := &t.seg
	i, ok := t.tokenIdx[s.token]
	if !ok {
		i = len(t.tokens)
		t.tokenIdx[s.token] = i
		t.tokens = append(t.tokens, tokenTotals{token: s.token, phase: s.phase, opTotals: newOpTotals(len(s.acc.lines))})
	}
	t.tokens[i].add(&s.acc)
	k := opKey{phase: s.phase, layer: s.layer, op: s.op}
	o := t.ops[k]
	if o == nil {
		o = new(opTotals)
		*o = newOpTotals(len(s.acc.lines))
		t.ops[k] = o
		t.opOrder = append(t.opOrder, k)
	}
	o.add(&s.acc)
	t.opCount[k]++
	if s.phase == trace.Prompt {
		t.ttftPS = t.clock + s.acc.timePS
	}
}
