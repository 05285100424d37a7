package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/trace"
)

// Options control a simulation run.
type Options struct {
	// WarmupTokens: events up to the last one of a token below it are
	// simulated but not counted in the cache counters. Negative selects
	// the format's default: 1 for .etr (the first token, or the prompt
	// batch holding it, warms the caches), 0 for din (no tokens).
	WarmupTokens int
	// NoCoverage skips the baseline run without prefetchers that the
	// coverage metric needs (it roughly doubles the work of SoCs that
	// prefetch).
	NoCoverage bool
	// Memory builds what lies below the last cache level for one run of
	// soc; nil means the SoC's ideal fixed-latency memory. Each call must
	// return a fresh instance (runs execute in parallel). If the memory
	// also implements Reporter, its report becomes Result.Memory.
	Memory func(soc *SoC) (cache.Memory, error)
	// Version is the edgeprof version recorded in provenance.
	Version string
	// Overrides are the --set arguments the SoCs were loaded with, for
	// provenance.
	Overrides []string
	// BatchEvents is the number of events read per batch (default 65536).
	BatchEvents int
	// Straddle says how events spanning several lines are counted
	// (default: one reference per line).
	Straddle cache.StraddleMode
	// Din controls reading din traces (RunFiles).
	Din trace.DinOptions
	// NoTiming skips the timing model on SoCs with a dram section: they
	// then end in their ideal memory, as SoCs without one do.
	NoTiming bool
	// DRAMTrace, if set, receives every request the timing model submits
	// to the DRAM, in DRAMsim3's trace format (hexadecimal physical
	// address, READ or WRITE, arrival in DRAM clock cycles, rounded
	// down), warm-up tokens included: the DRAM traffic of the run, for
	// `edgeprof dram` or DRAMsim3. Every request is one last-level cache
	// line (the format has no size). Run then takes exactly one SoC, with
	// a dram section.
	DRAMTrace io.Writer
}

// Reporter is implemented by memories that report their own counters.
// ResetStats is called when warm-up ends; Report after the last event.
type Reporter interface {
	ResetStats()
	Report() any
}

// Failer is implemented by memories that can fail (an address outside a
// device, a bad state): cache.Memory.Access has no error result, so the
// memory keeps its first error and Run returns it after the replay.
type Failer interface {
	Err() error
}

// Trace is one opened trace to replay.
type Trace struct {
	// Name labels results (usually the file path).
	Name   string
	Format trace.Format
	// SHA256 is the hex SHA-256 of the trace file ("" if unknown).
	SHA256 string
	Source trace.Source
}

const defaultBatch = 1 << 16

// batch is a block of events shared read-only by all workers; the last
// worker to finish with it returns it to the pool.
type batch struct {
	ev      []trace.Event
	pending atomic.Int32
}

// worker replays the batches on one hierarchy.
type worker struct {
	soc      *SoC
	h        *cache.Hierarchy
	mem      cache.Memory
	warmup   uint32
	counting bool
	events   uint64
	counted  uint64
	base     []cache.LevelStats
	baseTLB  cache.TLBStats
	baseTime uint64
	// tm is the timing model (SoCs with a dram section).
	tm *timing
}

func newWorker(soc *SoC, mem cache.Memory, warmup int, straddle cache.StraddleMode) (*worker, error) {
	return newWorkerTimed(soc, mem, nil, warmup, straddle)
}

func newWorkerTimed(soc *SoC, mem cache.Memory, tm *timing, warmup int, straddle cache.StraddleMode) (*worker, error) {
	hc, err := soc.HierarchyConfig(mem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", soc.Name, err)
	}
	hc.Straddle = straddle
	h, err := cache.NewHierarchy(hc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", soc.Name, err)
	}
	w := &worker{soc: soc, h: h, mem: mem, warmup: uint32(warmup), counting: warmup == 0, tm: tm}
	if tm != nil {
		tm.attach(h)
	}
	return w, nil
}

func (w *worker) run(ev []trace.Event) {
	if w.tm != nil {
		w.runTimed(ev)
		return
	}
	w.events += uint64(len(ev))
	if w.warmup == 0 {
		w.counted += uint64(len(ev))
		w.h.Run(ev)
		return
	}
	// Warm-up lasts until the last event of a token below w.warmup: a
	// prompt evaluated as one batch interleaves its tokens' events (the
	// weights are read once, tagged with the batch's first token, the
	// embedding and attention per token), so the first event of a later
	// token does not end it. Counting restarts after every run of
	// warm-up events; the last start is the one that holds.
	for len(ev) > 0 {
		i := 0
		if !w.counting {
			for i < len(ev) && ev[i].Token < w.warmup {
				i++
			}
			w.h.Run(ev[:i])
			if ev = ev[i:]; len(ev) == 0 {
				return
			}
			w.startCounting()
		}
		for i = 0; i < len(ev) && ev[i].Token >= w.warmup; i++ {
		}
		w.counted += uint64(i)
		w.h.Run(ev[:i])
		if ev = ev[i:]; len(ev) > 0 {
			w.counting = false // a warm-up token's event: warm-up goes on
		}
	}
}

// startCounting snapshots the counters at the (latest) end of warm-up;
// results subtract the snapshot.
func (w *worker) startCounting() {
	w.counting = true
	w.counted = 0
	w.base = w.h.Stats()
	w.baseTLB, _ = w.h.TLBStats()
	w.baseTime = w.h.Time()
	if r, ok := w.mem.(Reporter); ok {
		r.ResetStats()
	}
}

// stats returns the counters after warm-up.
func (w *worker) stats() []cache.LevelStats {
	s := w.h.Stats()
	if w.base != nil {
		for i := range s {
			s[i].Sub(&w.base[i].Stats)
		}
	} else if !w.counting {
		for i := range s {
			s[i].Stats = cache.Stats{}
		}
	}
	return s
}

// Run replays tr on every SoC in parallel: one goroutine reads the trace
// in batches, one per SoC simulates it (plus one per prefetching SoC for
// the coverage baseline), so the trace is decoded once. Memory is bounded
// by a few batches whatever the trace's length. Results come in the order
// of socs.
func Run(ctx context.Context, tr Trace, socs []*SoC, opts Options) ([]*Result, error) {
	warmup := opts.WarmupTokens
	if warmup < 0 {
		warmup = 0
		if tr.Format == trace.FormatETR {
			warmup = 1
		}
	}
	if opts.DRAMTrace != nil && (len(socs) != 1 || !socs[0].Timed() || opts.NoTiming || opts.Memory != nil) {
		return nil, errors.New("a DRAM trace needs one SoC with a dram section and the timing model")
	}
	var main, shadow []*worker
	hdr := tr.Source.Header()
	for _, soc := range socs {
		var mem cache.Memory = &idealMemory{latencyPS: uint64(soc.IdealMemory.LatencyNS) * 1000}
		var tm *timing
		switch {
		case opts.Memory != nil:
			m, err := opts.Memory(soc)
			if err != nil {
				return nil, fmt.Errorf("%s: memory: %w", soc.Name, err)
			}
			mem = m
		case soc.Timed() && !opts.NoTiming:
			t, rec, err := newTiming(soc, hdr, opts.DRAMTrace)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", soc.Name, err)
			}
			mem, tm = rec, t
		}
		w, err := newWorkerTimed(soc, mem, tm, warmup, opts.Straddle)
		if err != nil {
			return nil, err
		}
		main = append(main, w)
		var sw *worker
		if soc.HasPrefetcher() && !opts.NoCoverage {
			// The baseline's misses do not depend on timing, so an ideal
			// memory serves it whatever the real run uses.
			sw, err = newWorker(soc.withoutPrefetchers(), &idealMemory{}, warmup, opts.Straddle)
			if err != nil {
				return nil, err
			}
		}
		shadow = append(shadow, sw)
	}
	var all []*worker
	for i := range main {
		all = append(all, main[i])
		if shadow[i] != nil {
			all = append(all, shadow[i])
		}
	}
	warnings, err := replay(ctx, tr.Source, all, opts.BatchEvents)
	if err != nil {
		if strings.Contains(err.Error(), tr.Name) {
			return nil, err // the reader's message names the file already
		}
		return nil, fmt.Errorf("%s: %w", tr.Name, err)
	}
	// A trace whose footer or trailer is gone was read by scanning its
	// blocks: say so, as `trace stat` does, even if every block was whole.
	if wr, ok := tr.Source.(interface{ Warning() error }); ok && wr.Warning() != nil {
		warnings = append([]string{wr.Warning().Error()}, warnings...)
	}
	if len(all) > 0 && all[0].events == 0 && len(warnings) > 0 {
		// Cut off before its first complete block: nothing to report.
		return nil, fmt.Errorf("no complete event: %s", warnings[len(warnings)-1])
	}
	for _, w := range main {
		if w.tm != nil {
			w.tm.finish()
			if w.tm.err != nil {
				return nil, fmt.Errorf("%s on %s: timing: %w", tr.Name, w.soc.Name, w.tm.err)
			}
		}
		if f, ok := w.mem.(Failer); ok && f.Err() != nil {
			return nil, fmt.Errorf("%s on %s: memory: %w", tr.Name, w.soc.Name, f.Err())
		}
	}
	out := make([]*Result, len(socs))
	for i, soc := range socs {
		out[i] = result(tr, hdr, soc, main[i], shadow[i], warmup, warnings, opts)
	}
	return out, nil
}

// replay feeds src to the workers and returns non-fatal warnings (a
// truncated .etr still yields its good prefix).
func replay(ctx context.Context, src trace.Source, ws []*worker, size int) ([]string, error) {
	if size <= 0 {
		size = defaultBatch
	}
	const inFlight = 4
	pool := make(chan *batch, inFlight)
	for i := 0; i < inFlight; i++ {
		pool <- &batch{ev: make([]trace.Event, size)}
	}
	chans := make([]chan *batch, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		chans[i] = make(chan *batch, inFlight)
		wg.Add(1)
		go func(w *worker, in <-chan *batch) {
			defer wg.Done()
			for b := range in {
				// After an interrupt the batches read ahead are dropped
				// (the run fails with ctx's error below).
				if ctx.Err() == nil {
					w.run(b.ev)
				}
				if b.pending.Add(-1) == 0 {
					b.ev = b.ev[:cap(b.ev)]
					pool <- b
				}
			}
		}(w, chans[i])
	}
	var warnings []string
	var rerr error
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			rerr = err
			break
		}
		b := <-pool
		n := 0
		for n < len(b.ev) {
			k, err := src.Next(b.ev[n:])
			n += k
			if err == io.EOF {
				done = true
				break
			}
			if errors.Is(err, trace.ErrTruncated) {
				warnings = append(warnings, err.Error())
				done = true
				break
			}
			if err != nil {
				rerr, done = err, true
				break
			}
		}
		if n == 0 || rerr != nil {
			pool <- b
			continue
		}
		b.ev = b.ev[:n]
		b.pending.Store(int32(len(ws)))
		for _, c := range chans {
			c <- b
		}
	}
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	if rerr == nil {
		rerr = ctx.Err()
	}
	return warnings, rerr
}

func result(tr Trace, hdr *trace.Header, soc *SoC, w, sw *worker, warmup int, warnings []string, opts Options) *Result {
	y, _ := soc.YAML()
	cov := "not measured: no level prefetches"
	switch {
	case soc.HasPrefetcher() && sw != nil:
		cov = "baseline = a second run of the same trace with every prefetcher off"
	case soc.HasPrefetcher():
		cov = "not measured (disabled)"
	}
	r := &Result{
		SoC: soc.Name, Trace: tr.Name, Events: w.events, CountedEvents: w.counted,
		Warnings: warnings,
		Provenance: Provenance{
			EdgeprofVersion: opts.Version, TraceFormat: string(tr.Format), TraceSHA256: tr.SHA256,
			SoCYAML: string(y), Overrides: opts.Overrides, Seeds: soc.Seeds(), WarmupTokens: warmup,
			Coverage: cov, Straddle: opts.Straddle.String(),
		},
	}
	if hdr != nil {
		r.Provenance.ModelName, r.Provenance.ModelSHA256 = hdr.ModelName, hdr.ModelSHA256
	}
	if !w.counting && warmup > 0 && w.events > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("every event belongs to the %d warm-up token(s); nothing was counted (use --warmup-tokens 0)", warmup))
	}
	stats := w.stats()
	var base []cache.LevelStats
	if sw != nil {
		base = sw.stats()
	}
	for i, s := range stats {
		var b *uint64
		if base != nil {
			m := base[i].Misses()
			b = &m
		}
		r.Levels = append(r.Levels, levelResult(soc.Caches[i], s, b))
	}
	if ts, ok := w.h.TLBStats(); ok {
		if w.counting {
			ts.Accesses -= w.baseTLB.Accesses
			ts.Misses -= w.baseTLB.Misses
		} else {
			ts = cache.TLBStats{}
		}
		tr := &TLBResult{Accesses: ts.Accesses, Misses: ts.Misses}
		if ts.Accesses > 0 {
			v := float64(ts.Misses) / float64(ts.Accesses)
			tr.MissRate = &v
		}
		r.DTLB = tr
	}
	if rep, ok := w.mem.(Reporter); ok {
		if !w.counting && warmup > 0 {
			rep.ResetStats() // nothing was counted, below the caches either
		}
		r.Memory = rep.Report()
	}
	if w.tm != nil {
		w.tm.report(r)
	} else if w.counting {
		r.Time.TotalNS = float64(w.h.Time()-w.baseTime) / 1000
	}
	return r
}

// RunFiles replays every trace file (.etr or .din) on every SoC; up to
// GOMAXPROCS traces run at once, each read once. Results are trace-major:
// all SoCs of the first trace, then the second's.
func RunFiles(ctx context.Context, paths []string, socs []*SoC, opts Options) ([]*Result, error) {
	type out struct {
		res []*Result
		err error
	}
	outs := make([]out, len(paths))
	var wg sync.WaitGroup
	// Each trace in flight holds its batches and hierarchies; bound them.
	slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, p := range paths {
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			outs[i].res, outs[i].err = runFile(ctx, p, socs, opts)
		}(i, p)
	}
	wg.Wait()
	var res []*Result
	for _, o := range outs {
		if o.err != nil {
			return nil, o.err
		}
		res = append(res, o.res...)
	}
	return res, nil
}

func runFile(ctx context.Context, path string, socs []*SoC, opts Options) ([]*Result, error) {
	format, err := trace.FormatOf(path)
	if err != nil {
		return nil, err
	}
	src, err := trace.OpenFile(path, opts.Din)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sum := make(chan string, 1)
	go func() { sum <- fileSHA256(path) }()
	res, err := Run(ctx, Trace{Name: path, Format: format, Source: src}, socs, opts)
	h := <-sum
	for _, r := range res {
		r.Provenance.TraceSHA256 = h
	}
	return res, err
}

// fileSHA256 hashes a trace file for provenance, "" if it cannot be read.
func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IdealMemoryReport is the JSON of the ideal memory.
type IdealMemoryReport struct {
	Model     string `json:"model"`
	LatencyNS int    `json:"latency_ns"`
	MemoryStats
}

func (m *idealMemory) ResetStats() { m.st = MemoryStats{} }
func (m *idealMemory) Report() any {
	return IdealMemoryReport{Model: "ideal", LatencyNS: int(m.latencyPS / 1000), MemoryStats: m.st}
}
