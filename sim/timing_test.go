package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/memory/flash"
	"github.com/edgeprof/edgeprof/trace"
)

// tinyTimed is a one-core SoC whose numbers make hand computation easy:
// 1 GHz, 2 FLOP/cycle (one 32-bit FMA), one L1 of 2 cycles and 32 B/cycle,
// LPDDR4-3200 without refresh, 10 ns of fabric: a request reaches the
// controller 12 ns after the core issues it.
const tinyTimed = `name: tiny
cores: {count: 1, clock_mhz: 1000, simd_bits: 32, fma_units: 1, mshrs: 1}
caches:
  - {name: L1D, size: 4KiB, ways: 4, line: 64, latency_cycles: 2}
dram: {grade: lpddr4-3200, fabric_latency_ns: 10, controller: {refresh: none}}
`

// headerSource is an in-memory trace with a header (model size, tensors,
// hyper-parameters) for the compute model and the page cache.
func headerSource(ev []trace.Event, hdr trace.Header) trace.Source {
	return &sliceSource{ev: ev, hdr: hdr}
}

func runTimed(t *testing.T, soc *SoC, src trace.Source, format trace.Format) *Result {
	t.Helper()
	res, err := Run(context.Background(), Trace{Name: "t", Format: format, Source: src}, []*SoC{soc}, Options{WarmupTokens: 0})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// dramLatencies returns the idle row-miss and row-hit latencies of one
// 64 B read on the SoC's DRAM, in ns.
func dramLatencies(t *testing.T, soc *SoC) (miss, hit float64) {
	t.Helper()
	d, err := dram.New(soc.DRAM.Config)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := d.Access(0, 0, 64, false)
	b, _ := d.Access(1_000_000, 64, 64, false)
	return float64(a) / 1000, float64(b-1_000_000) / 1000
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestComputeBoundOp: a matrix product whose weight row is shared by a
// batch of 1000 tokens is compute-bound; its time is its FLOPs at the
// core's peak rate, exactly, and its two DRAM misses hide under it.
func TestComputeBoundOp(t *testing.T) {
	soc := mustParse(t, tinyTimed)
	hdr := trace.Header{Tensors: []trace.TensorSym{{Name: "w", Type: "F32", Dims: []uint64{16, 1}, Size: 64}}, ModelSize: 64}
	var ev []trace.Event
	for i := 0; i < 1000; i++ {
		ev = append(ev, trace.Event{Addr: trace.RegionActivation, Size: 64, Op: trace.OpActivation, Tensor: trace.NoTensor})
	}
	ev = append(ev, trace.Event{Addr: 0, Size: 64, Op: trace.OpFFNUp, Tensor: 0})
	r := runTimed(t, soc, headerSource(ev, hdr), trace.FormatETR)
	// 16 F32 elements x 2 FLOPs x 1000 tokens = 32000 FLOPs at 2 per ns.
	if r.Tokens[0].FLOPs != 32000 || r.Time.TotalNS != 16000 || r.Ops[0].ComputeNS != 16000 {
		t.Errorf("compute-bound op: FLOPs %v, time %v ns, compute %v ns; want 32000, 16000, 16000", r.Tokens[0].FLOPs, r.Time.TotalNS, r.Ops[0].ComputeNS)
	}
	if r.DRAM.Reads != 2 {
		t.Errorf("DRAM reads = %d, want 2 (the activation line and the weight line)", r.DRAM.Reads)
	}
}

// TestMemoryBoundOneMSHR: with one fill buffer, 32 sequential line reads
// in one DRAM row are served one after another: each costs the 12 ns to
// reach the controller plus the DRAM latency, a row miss for the first
// and row hits for the others.
func TestMemoryBoundOneMSHR(t *testing.T) {
	soc := mustParse(t, tinyTimed)
	miss, hit := dramLatencies(t, soc)
	var ev []trace.Event
	for i := 0; i < 32; i++ {
		ev = append(ev, trace.Event{Addr: uint64(i) * 64, Size: 64, Op: trace.OpOther})
	}
	r := runTimed(t, soc, Events(ev), trace.FormatDin)
	want := 32*12 + miss + 31*hit
	if !near(r.Time.TotalNS, want, 1) {
		t.Errorf("32 dependent misses: %v ns, want 32 x 12 + %v + 31 x %v = %v ns", r.Time.TotalNS, miss, hit, want)
	}
	if r.DRAM.RowHits != 31 || r.DRAM.RowMisses != 1 {
		t.Errorf("row hits/misses = %d/%d, want 31/1", r.DRAM.RowHits, r.DRAM.RowMisses)
	}
	// More fill buffers overlap the misses: time falls with each, and
	// with 8 the channel's data bus binds: 32 lines of two 5 ns bursts
	// (x16 LPDDR4-3200), plus at most one unloaded trip.
	prev := r.Time.TotalNS
	for _, m := range []string{"2", "4", "8"} {
		r := runTimed(t, mustParse(t, tinyTimed, "cores.mshrs="+m), Events(ev), trace.FormatDin)
		if r.Time.TotalNS >= prev {
			t.Errorf("mshrs=%s: %v ns, want less than %v", m, r.Time.TotalNS, prev)
		}
		prev = r.Time.TotalNS
	}
	if bus := 32.0 * 64 / 6.4; prev < bus || prev > bus+12+miss {
		t.Errorf("mshrs=8: %v ns, want between the bus time %v and %v", prev, bus, bus+12+miss)
	}
}

// TestRollUp: op times add up to token times; prompt operations make the
// time to first token, decode tokens are listed one by one; ops are
// reported per phase, layer and op.
func TestRollUp(t *testing.T) {
	soc := mustParse(t, tinyTimed)
	hdr := trace.Header{Tensors: []trace.TensorSym{{Name: "w", Type: "F32", Size: 1 << 20}}, ModelSize: 1 << 20}
	var ev []trace.Event
	for tok := uint32(0); tok < 3; tok++ {
		ph := trace.Prompt
		if tok > 0 {
			ph = trace.Decode
		}
		for l := int16(0); l < 2; l++ {
			for k, op := range []trace.Op{trace.OpAttnQ, trace.OpFFNUp} {
				// 4 KiB of weights per op (64 lines); the L1 holds 4 KiB,
				// so every op misses on all of them.
				base := uint64(l)*8192 + uint64(k)*4096
				ev = append(ev, trace.Event{Addr: base, Size: 4096, Op: op, Layer: l, Token: tok, Phase: ph, Tensor: 0})
			}
		}
	}
	r := runTimed(t, soc, headerSource(ev, hdr), trace.FormatETR)
	if len(r.Tokens) != 3 || len(r.Ops) != 2*2*2 {
		t.Fatalf("%d tokens, %d ops; want 3 and 8 (2 layers x 2 ops x 2 phases)", len(r.Tokens), len(r.Ops))
	}
	var sum, decode float64
	for _, k := range r.Tokens {
		sum += k.TimeNS
	}
	for _, o := range r.Ops {
		decode += o.TimeNS
		if o.Phase == "decode" && o.Count != 2 || o.Phase == "prompt" && o.Count != 1 {
			t.Errorf("op %s L%d %s ran %d times", o.Phase, o.Layer, o.Op, o.Count)
		}
	}
	if !near(sum, r.Time.TotalNS, 1e-6) || !near(decode, r.Time.TotalNS, 1e-6) {
		t.Errorf("token times sum to %v, op times to %v; want the total %v", sum, decode, r.Time.TotalNS)
	}
	if r.Time.TTFTNS != r.Tokens[0].TimeNS || r.Time.PromptTokens != 1 || r.Time.DecodeTokens != 2 ||
		len(r.Time.PerTokenNS) != 2 || r.Time.PerTokenNS[0] != r.Tokens[1].TimeNS || r.Time.PerTokenNS[1] != r.Tokens[2].TimeNS {
		t.Errorf("time = %+v, tokens %+v", *r.Time.TokenTimes, r.Tokens)
	}
	// Each op streams 64 lines through one fill buffer: at least 64 x
	// (12 ns + a row hit) each, and every op moved 4 KiB from DRAM.
	_, hit := dramLatencies(t, soc)
	for _, o := range r.Ops {
		if o.TimeNS < float64(o.Count)*64*(12+hit) || o.Bytes["dram"] != uint64(o.Count)*4096 || o.Bytes["L1D"] != uint64(o.Count)*4096 {
			t.Errorf("op %s L%d %s: %v ns, bytes %v", o.Phase, o.Layer, o.Op, o.TimeNS, o.Bytes)
		}
		want := float64(o.Count) * 1024 * 2 // 1024 F32 elements, 2 FLOPs each
		if o.FLOPs != want {
			t.Errorf("op %s L%d %s: %v FLOPs, want %v", o.Phase, o.Layer, o.Op, o.FLOPs, want)
		}
	}
	// Token energies add up to the run's, part by part.
	var tokPJ, tokDRAM, tokL1, tokCompute float64
	for _, k := range r.Tokens {
		tokPJ += k.EnergyPJ
		tokDRAM += k.EnergyPerLevelPJ["dram"]
		tokL1 += k.EnergyPerLevelPJ["L1D"]
		tokCompute += k.ComputePJ
	}
	rel := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }
	if e := r.Energy; !rel(tokPJ, e.TotalPJ) || !rel(tokDRAM, e.PerLevelPJ["dram"]) || !rel(tokL1, e.PerLevelPJ["L1D"]) || !rel(tokCompute, e.ComputePJ) {
		t.Errorf("tokens' energy %v (dram %v, L1D %v, compute %v), run %+v", tokPJ, tokDRAM, tokL1, tokCompute, *e)
	}
	if e := r.Energy; e == nil || e.TotalPJ <= e.PerLevelPJ["dram"] || e.PerLevelPJ["L1D"] != float64(3*4*64*2)*soc.Caches[0].EnergyPJPerAccess {
		t.Errorf("energy = %+v; want L1D = (lookups + fills) x %v pJ", e, soc.Caches[0].EnergyPJPerAccess)
	}
}

// TestFlashStall: a page absent from the page cache stalls the thread for
// exactly one flash read (readahead none: the 4 KiB page alone: tR, the
// NAND bus and the host link), and it is reported as the op's flash
// stall.
func TestFlashStall(t *testing.T) {
	soc := mustParse(t, tinyTimed+`flash: {device: ufs-3.1}
weights_budget: 64KiB
page_cache: {readahead: none, policy: lru}
`)
	hdr := trace.Header{Tensors: []trace.TensorSym{{Name: "w", Type: "F32", Size: 1 << 20}}, ModelSize: 1 << 20}
	ev := []trace.Event{{Addr: 0, Size: 64, Op: trace.OpFFNUp, Tensor: 0}}
	r := runTimed(t, soc, headerSource(ev, hdr), trace.FormatETR)
	f, err := flash.New(*soc.Flash)
	if err != nil {
		t.Fatal(err)
	}
	read, _ := f.Read(0, 0, 4096)
	miss, _ := dramLatencies(t, soc)
	if r.Ops[0].FlashStallNS != float64(read)/1000 {
		t.Errorf("flash stall = %v ns, want one 4 KiB read = %v ns", r.Ops[0].FlashStallNS, float64(read)/1000)
	}
	// After the read the page is written into DRAM and then read: the
	// time is the stall plus the line's trip, at least the unloaded one.
	if r.Time.TotalNS < float64(read)/1000+12+miss-1 || r.PageCache.MajorFaults != 1 || r.Flash.Bytes != 4096 || r.DRAM.DMAWriteBytes != 4096 {
		t.Errorf("time %v ns, faults %d, flash %d B, DMA %d B; want >= %v ns, 1, 4096, 4096", r.Time.TotalNS, r.PageCache.MajorFaults, r.Flash.Bytes, r.DRAM.DMAWriteBytes, float64(read)/1000+12+miss)
	}
}

// TestWeightsBudget: a model larger than the budget reads flash on every
// token; with a budget larger than the model, preloaded as llama.cpp
// does, nothing is read from flash after the first token.
func TestWeightsBudget(t *testing.T) {
	const model = 1 << 20
	hdr := trace.Header{Tensors: []trace.TensorSym{{Name: "w", Type: "F32", Size: model}}, ModelSize: model}
	var ev []trace.Event
	for tok := uint32(0); tok < 3; tok++ {
		for off := uint64(0); off < model; off += 4096 {
			ev = append(ev, trace.Event{Addr: off, Size: 4096, Op: trace.OpFFNUp, Tensor: 0, Token: tok, Phase: trace.Decode})
		}
	}
	for _, c := range []struct {
		budget  string
		refetch bool
	}{{"256KiB", true}, {"2MiB", false}} {
		soc := mustParse(t, tinyTimed+"flash: {device: ufs-4.0}\nweights_budget: "+c.budget+"\npage_cache: {preload: true}\n")
		r := runTimed(t, soc, headerSource(ev, hdr), trace.FormatETR)
		if r.Tokens[0].Bytes["flash"] < model {
			t.Errorf("budget %s: token 0 read %d flash bytes, want the whole model", c.budget, r.Tokens[0].Bytes["flash"])
		}
		for _, k := range r.Tokens[1:] {
			if got := k.Bytes["flash"]; (got >= model*3/4) != c.refetch || !c.refetch && got != 0 {
				t.Errorf("budget %s: token %d read %d flash bytes, want refetch=%v", c.budget, k.Token, got, c.refetch)
			}
		}
	}
}

// TestPrefetchOverlap: a prefetch issued during a long op fetches the next
// op's line in its shadow; without it the next op pays the miss.
func TestPrefetchOverlap(t *testing.T) {
	soc := mustParse(t, tinyTimed, "caches.L1D.prefetcher=hint")
	hdr := trace.Header{Tensors: []trace.TensorSym{{Name: "w", Type: "F32", Size: 1 << 16}}, ModelSize: 1 << 16}
	var long []trace.Event
	for i := 0; i < 100; i++ { // batch of 100 tokens: op 0 computes 100 x 64 FLOPs... ~3.2 us
		long = append(long, trace.Event{Addr: trace.RegionActivation, Size: 64, Op: trace.OpActivation, Tensor: trace.NoTensor})
	}
	long = append(long, trace.Event{Addr: 0, Size: 64, Op: trace.OpAttnQ, Tensor: 0})
	next := trace.Event{Addr: 8192, Size: 64, Op: trace.OpFFNUp, Tensor: 0}
	hint := trace.Event{Addr: 8192, Size: 64, Op: trace.OpAttnQ, Kind: trace.Prefetch, Tensor: 0}

	with := append(append(append([]trace.Event{}, long...), hint), next)
	without := append(append([]trace.Event{}, long...), next)
	rw := runTimed(t, soc, headerSource(with, hdr), trace.FormatETR)
	ro := runTimed(t, soc, headerSource(without, hdr), trace.FormatETR)
	miss, _ := dramLatencies(t, soc)
	opTime := func(r *Result, op string) float64 {
		for _, o := range r.Ops {
			if o.Op == op {
				return o.TimeNS
			}
		}
		return -1
	}
	if w, o := opTime(rw, "ffn_up"), opTime(ro, "ffn_up"); w >= 12+miss || o < 12+miss-1 {
		t.Errorf("ffn_up after a prefetch: %v ns, without: %v ns; want < and >= one miss (%v ns)", w, o, 12+miss)
	}
	if rw.Levels[0].Prefetch.Issued != 1 {
		t.Errorf("prefetches issued = %d, want 1", rw.Levels[0].Prefetch.Issued)
	}
}

// TestTimingDeterministic: the same run twice gives byte-identical JSON.
func TestTimingDeterministic(t *testing.T) {
	ev := copyPattern(4096, 2, 1<<24)
	var out [2][]byte
	for i := range out {
		soc, err := Load("rpi4", nil)
		if err != nil {
			t.Fatal(err)
		}
		r := runTimed(t, soc, Events(ev), trace.FormatDin)
		r.Provenance = Provenance{}
		out[i], _ = json.Marshal(r)
	}
	if string(out[0]) != string(out[1]) {
		t.Error("two runs differ")
	}
}

// TestHugeEventInPieces: an event naming more than maxEventLines lines
// runs in pieces with a chunk after each, so that a trace event of
// gigabytes does not buffer all its line requests; the pieces reference
// the same lines, and only the chunk ends can move the time.
func TestHugeEventInPieces(t *testing.T) {
	soc := mustParse(t, tinyTimed)
	ev := []trace.Event{
		{Addr: 100, Size: 64, Op: trace.OpOther},
		{Addr: 1<<30 + 32, Size: 8 << 20, Op: trace.OpOther}, // 131,073 lines
		{Addr: 200, Size: 64, Op: trace.OpOther},
	}
	whole := runTimed(t, soc, Events(ev), trace.FormatDin)
	defer func(n uint64) { maxEventLines = n }(maxEventLines)
	maxEventLines = 1000
	split := runTimed(t, soc, Events(ev), trace.FormatDin)
	if whole.DRAM.Reads != 131073+4 || split.DRAM.Reads != whole.DRAM.Reads || split.DRAM.RowHits != whole.DRAM.RowHits {
		t.Errorf("DRAM reads %d / %d, row hits %d / %d (whole / split); want 131077 reads (the small events straddle two lines each) and equal counts", whole.DRAM.Reads, split.DRAM.Reads, whole.DRAM.RowHits, split.DRAM.RowHits)
	}
	if w, s := whole.Levels[0], split.Levels[0]; w.Accesses != s.Accesses || w.Misses != s.Misses || w.Fills != s.Fills || w.Accesses != 131077 {
		t.Errorf("L1 accesses/misses/fills: whole %d/%d/%d, split %d/%d/%d; want equal, 131077 accesses", w.Accesses, w.Misses, w.Fills, s.Accesses, s.Misses, s.Fills)
	}
	if d := split.Time.TotalNS/whole.Time.TotalNS - 1; math.Abs(d) > 0.01 {
		t.Errorf("time %v ns split vs %v whole (%+.2f %%), want within 1 %%", split.Time.TotalNS, whole.Time.TotalNS, 100*d)
	}
	t.Logf("time %v ns whole, %v split", whole.Time.TotalNS, split.Time.TotalNS)
}

// cancelAtEOF cancels a context when its trace has been read to the end,
// as an interrupt arriving while the workers still replay the batches
// read ahead.
type cancelAtEOF struct {
	trace.Source
	cancel context.CancelFunc
}

func (s cancelAtEOF) Next(buf []trace.Event) (int, error) {
	n, err := s.Source.Next(buf)
	if err == io.EOF {
		s.cancel()
	}
	return n, err
}

// TestRunStopsOnCancelAfterReading: an interrupt after the last event was
// read (short traces fit in the batches read ahead) still fails the run
// rather than completing it.
func TestRunStopsOnCancelAfterReading(t *testing.T) {
	soc := mustParse(t, tinyTimed)
	ev := make([]trace.Event, 10000)
	for i := range ev {
		ev[i] = trace.Event{Addr: uint64(i) * 64, Size: 64, Op: trace.OpOther}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := cancelAtEOF{Events(ev), cancel}
	res, err := Run(ctx, Trace{Name: "t", Format: trace.FormatDin, Source: src}, []*SoC{soc}, Options{})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("Run after an interrupt: %d results, error %v; want none and context.Canceled", len(res), err)
	}
}
