package sim

import (
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/memory/flash"
	"github.com/edgeprof/edgeprof/memory/pagecache"
	"github.com/edgeprof/edgeprof/trace"
)

// DRAMReport is the `dram` object: the DRAM model's counters over the
// whole run (docs/timing-model.md 1.3 defines each), its grade, and the
// bytes that page-cache fills wrote.
type DRAMReport struct {
	Grade             string  `json:"grade"`
	Channels          int     `json:"channels"`
	PeakBandwidthGBps float64 `json:"peak_bandwidth_gbps"`
	// DMAWriteBytes are the writes of pages read from flash into the page
	// cache (part of writes and bytes).
	DMAWriteBytes uint64 `json:"dma_write_bytes"`
	dram.Stats
}

// FlashReport is the `flash` object over the whole run.
type FlashReport struct {
	Device string `json:"device"`
	flash.Stats
}

// PageCacheReport is the `page_cache` object over the whole run.
type PageCacheReport struct {
	BudgetBytes int64  `json:"budget_bytes"`
	Policy      string `json:"policy"`
	Readahead   string `json:"readahead"`
	Access      string `json:"access"`
	// Preload says whether the whole file was read in at the start.
	Preload bool `json:"preload"`
	pagecache.Stats
}

// EnergyReport is the `energy` object: energy of the whole run by
// level (cache levels by name, "dram", "flash") and of the cores'
// arithmetic; TotalPJ sums them.
type EnergyReport struct {
	TotalPJ    float64            `json:"total_pj"`
	PerLevelPJ map[string]float64 `json:"per_level_pj"`
	ComputePJ  float64            `json:"compute_pj"`
}

// TokenResult is one token's share of the run: the operations tagged
// with it (a batched prompt's matrix products are tagged with the batch's
// first token).
type TokenResult struct {
	Token        uint32  `json:"token"`
	Phase        string  `json:"phase"`
	TimeNS       float64 `json:"time_ns"`
	ComputeNS    float64 `json:"compute_ns"`
	FlashStallNS float64 `json:"flash_stall_ns"`
	FLOPs        float64 `json:"flops"`
	// Bytes is the traffic per level: line lookups times the line size
	// for each cache level, reads and writes for "dram", reads for
	// "flash".
	Bytes    map[string]uint64 `json:"bytes"`
	EnergyPJ float64           `json:"energy_pj"`
	// EnergyPerLevelPJ splits EnergyPJ: each cache level, "dram",
	// "flash"; ComputePJ is the rest.
	EnergyPerLevelPJ map[string]float64 `json:"energy_per_level_pj"`
	ComputePJ        float64            `json:"compute_pj"`
}

// OpResult sums one operation of one layer over the tokens of a phase.
type OpResult struct {
	Phase string `json:"phase"`
	// Layer is the transformer block, -1 outside the blocks.
	Layer int    `json:"layer"`
	Op    string `json:"op"`
	// Count is the number of times it ran.
	Count            int                `json:"count"`
	TimeNS           float64            `json:"time_ns"`
	ComputeNS        float64            `json:"compute_ns"`
	FlashStallNS     float64            `json:"flash_stall_ns"`
	FLOPs            float64            `json:"flops"`
	Bytes            map[string]uint64  `json:"bytes"`
	EnergyPJ         float64            `json:"energy_pj"`
	EnergyPerLevelPJ map[string]float64 `json:"energy_per_level_pj"`
	ComputePJ        float64            `json:"compute_pj"`
}

// runTimed replays one batch of events with the timing model.
func (w *worker) runTimed(ev []trace.Event) {
	t := w.tm
	w.events += uint64(len(ev))
	if t.err != nil {
		return
	}
	start := 0
	for i := range ev {
		e := &ev[i]
		// Warm-up ends after the last event of a warm-up token (see
		// worker.run).
		if w.warmup > 0 && w.counting != (e.Token >= w.warmup) {
			t.runHier(ev[start:i])
			start = i
			if w.counting {
				w.counting = false
			} else {
				w.startCounting()
			}
		}
		if w.counting {
			w.counted++
		}
		if t.boundary(e) {
			t.runHier(ev[start:i])
			start = i
			t.endChunk(true)
		}
		t.account(e)
		if t.spansLines(e) > maxEventLines {
			// One event may name gigabytes (the trace format allows 4
			// GiB): its line requests go to the DRAM in chunks too.
			t.runHier(ev[start:i])
			t.runSplit(e)
			start = i + 1
		} else if t.pending >= chunkEvents {
			t.runHier(ev[start : i+1])
			start = i + 1
			if len(t.rec.reqs) >= maxChunkReqs {
				t.endChunk(false)
			}
		}
		if t.err != nil {
			return
		}
	}
	t.runHier(ev[start:])
}

// finish ends the last segment and lets the DRAM finish everything in
// flight, so the counters and energy cover the whole run.
func (t *timing) finish() {
	if t.err != nil {
		return
	}
	if t.seg.open {
		t.endChunk(true)
	}
	end := max(t.clock, t.waitAll(math.MaxUint64))
	for len(t.futures.a) > 0 {
		t.advance(t.futures.a[0].at)
	}
	end = max(end, t.d.Drain())
	t.d.Advance(end)
	if t.dtrace != nil {
		if err := t.dtrace.Flush(); err != nil && t.err == nil {
			t.err = fmt.Errorf("DRAM trace: %w", err)
		}
	}
	t.horizon = max(t.horizon, end)
}

// report fills the timing outputs of r.
func (t *timing) report(r *Result) {
	soc := t.soc
	names := make([]string, len(soc.Caches))
	for i, c := range soc.Caches {
		names[i] = c.Name
	}
	ns := func(ps int64) float64 { return float64(ps) / 1000 }
	bytes := func(a *opTotals) map[string]uint64 {
		m := map[string]uint64{"dram": a.dramReadBytes + a.dramWriteBytes}
		for i, n := range names {
			m[n] = a.lines[i] * uint64(t.line)
		}
		if t.fl != nil {
			m["flash"] = a.flashBytes
		}
		return m
	}
	energy := func(a *opTotals) map[string]float64 {
		m := map[string]float64{"dram": a.dramPJ}
		for i, n := range names {
			m[n] = a.levelPJ[i]
		}
		if t.fl != nil {
			m["flash"] = a.flashPJ
		}
		return m
	}
	tt := &TokenTimes{TTFTNS: ns(t.ttftPS), PerTokenNS: []float64{}}
	var decode float64
	for _, k := range t.tokens {
		r.Tokens = append(r.Tokens, TokenResult{
			Token: k.token, Phase: k.phase.String(), TimeNS: ns(k.timePS), ComputeNS: ns(k.computePS),
			FlashStallNS: ns(k.stallPS), FLOPs: k.flops, Bytes: bytes(&k.opTotals), EnergyPJ: k.energyPJ,
			EnergyPerLevelPJ: energy(&k.opTotals), ComputePJ: k.computePJ,
		})
		if k.phase == trace.Decode {
			tt.PerTokenNS = append(tt.PerTokenNS, ns(k.timePS))
			decode += ns(k.timePS)
			tt.DecodeTokens++
		} else {
			tt.PromptTokens++
		}
	}
	if tt.DecodeTokens > 0 {
		tt.MeanTokenNS = decode / float64(tt.DecodeTokens)
		tt.TokensPerS = 1e9 / tt.MeanTokenNS
	}
	r.Time = TimeResult{TotalNS: ns(t.clock), TokenTimes: tt}
	for _, k := range t.opOrder {
		o := t.ops[k]
		r.Ops = append(r.Ops, OpResult{
			Phase: k.phase.String(), Layer: int(k.layer), Op: k.op, Count: t.opCount[k],
			TimeNS: ns(o.timePS), ComputeNS: ns(o.computePS), FlashStallNS: ns(o.stallPS),
			FLOPs: o.flops, Bytes: bytes(o), EnergyPJ: o.energyPJ,
			EnergyPerLevelPJ: energy(o), ComputePJ: o.computePJ,
		})
	}
	ds := t.d.Stats()
	c := t.d.Config()
	grade := c.Grade
	if grade == "" {
		grade = c.Standard
	}
	r.DRAM = &DRAMReport{Grade: grade, Channels: c.Org.Channels, PeakBandwidthGBps: t.d.PeakBandwidth(), DMAWriteBytes: t.dmaBytes, Stats: ds}
	e := &EnergyReport{PerLevelPJ: map[string]float64{"dram": ds.EnergyPJ}}
	e.ComputePJ = float64(t.totalFlops * soc.Cores.EnergyPJPerFLOP) // rounded products: no FMA on arm64
	for i, n := range names {
		e.PerLevelPJ[n] = float64(float64(t.totalLevel[i]) * soc.Caches[i].EnergyPJPerAccess)
	}
	if t.fl != nil {
		fs := t.fl.Stats()
		r.Flash = &FlashReport{Device: soc.Flash.Device, Stats: fs}
		e.PerLevelPJ["flash"] = fs.EnergyPJ
		ps := t.pc.Stats()
		ps.StallNS -= t.preloadStallNS
		r.PageCache = &PageCacheReport{BudgetBytes: int64(soc.WeightsBudget), Policy: soc.PageCache.Policy, Readahead: soc.PageCache.Readahead, Access: soc.PageCache.Access, Preload: soc.PageCache.Preload && t.fileBytes <= int64(soc.WeightsBudget), Stats: ps}
	}
	e.TotalPJ = e.ComputePJ
	for _, k := range sortedKeys(e.PerLevelPJ) {
		e.TotalPJ += e.PerLevelPJ[k]
	}
	r.Energy = e
	r.Warnings = append(r.Warnings, t.warnings...)
}
