package sim

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/trace"
)

func mustParse(t *testing.T, y string, sets ...string) *SoC {
	t.Helper()
	s, err := Parse([]byte(y), "test.yaml", sets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// timedDRAM turns twoLevel into an SoC with the timing model.
const timedDRAM = "dram: {grade: lpddr4-3200, fabric_latency_ns: 10}\n"

const twoLevel = `name: two
cores: {count: 2, clock_mhz: 1000}
caches:
  - {name: L1D, size: 1KiB, ways: 2, line: 64, latency_cycles: 1}
  - {name: L2, size: 8KiB, ways: 4, line: 64, latency_cycles: 10, shared_by: 2}
ideal_memory: {latency_ns: 100}
`

func run(t *testing.T, ev []trace.Event, format trace.Format, opts Options, socs ...*SoC) []*Result {
	t.Helper()
	res, err := Run(context.Background(), Trace{Name: "t", Format: format, Source: Events(ev)}, socs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestWarmup: events of the first token warm the caches and are not
// counted (the .etr default); din traces count everything.
func TestWarmup(t *testing.T) {
	// Token 0 reads lines 0..3; token 1 reads them again (hits) and line 4
	// (a miss).
	var ev []trace.Event
	for tok := uint32(0); tok < 2; tok++ {
		for l := uint64(0); l < 4; l++ {
			ev = append(ev, trace.Event{Addr: l * 64, Size: 8, Token: tok})
		}
	}
	ev = append(ev, trace.Event{Addr: 4 * 64, Size: 8, Token: 1})
	soc := mustParse(t, twoLevel)
	r := run(t, ev, trace.FormatETR, Options{WarmupTokens: -1}, soc)[0]
	l1 := r.Levels[0]
	if r.Provenance.WarmupTokens != 1 || r.Events != 9 || r.CountedEvents != 5 || l1.Accesses != 5 || l1.Misses != 1 || r.Levels[1].Misses != 1 {
		t.Errorf(".etr default: warm-up %d, events %d/%d, L1D %d accesses %d misses, L2 %d misses; want 1, 9/5, 5, 1, 1",
			r.Provenance.WarmupTokens, r.Events, r.CountedEvents, l1.Accesses, l1.Misses, r.Levels[1].Misses)
	}
	// One miss after warm-up: 1 + 10 cycles at 1 GHz + 100 ns; four hits
	// of 1 cycle.
	if r.Time.TotalNS != 111+4 {
		t.Errorf("time after warm-up = %v ns, want 115", r.Time.TotalNS)
	}
	mem := r.Memory.(IdealMemoryReport)
	if mem.Reads != 1 || mem.ReadBytes != 64 {
		t.Errorf("memory after warm-up = %+v, want 1 read of 64 bytes", mem)
	}
	r = run(t, ev, trace.FormatDin, Options{WarmupTokens: -1}, soc)[0]
	if r.Provenance.WarmupTokens != 0 || r.Levels[0].Misses != 5 {
		t.Errorf("din default: warm-up %d, L1D misses %d; want 0, 5", r.Provenance.WarmupTokens, r.Levels[0].Misses)
	}
	r = run(t, ev, trace.FormatETR, Options{WarmupTokens: 5}, soc)[0]
	if r.CountedEvents != 0 || r.Levels[0].Accesses != 0 || len(r.Warnings) != 1 {
		t.Errorf("warm-up past the end: counted %d, accesses %d, warnings %q; want 0, 0, one warning", r.CountedEvents, r.Levels[0].Accesses, r.Warnings)
	}
	if mem := r.Memory.(IdealMemoryReport); mem.Reads != 0 || mem.ReadBytes != 0 {
		t.Errorf("warm-up past the end: memory %+v, want nothing counted", mem)
	}
}

// TestWarmupBatchedPrompt: a prompt evaluated as one batch interleaves
// its tokens' events (weights tagged with the first token, embeddings
// per token), so warm-up (1 token) lasts until the prompt's last event
// of token 0, not until the first event of token 1.
func TestWarmupBatchedPrompt(t *testing.T) {
	var ev []trace.Event
	line := func(tok uint32, l uint64) { ev = append(ev, trace.Event{Addr: l * 64, Size: 8, Token: tok}) }
	// Prompt of tokens 0..2 in one batch: per op, a weight line (token
	// 0) then one line per token; ops 0..2 use lines 0..11.
	for op := uint64(0); op < 3; op++ {
		line(0, op*4)
		for tok := uint32(0); tok < 3; tok++ {
			line(tok, op*4+1+uint64(tok))
		}
	}
	// The batch's last events: token 2's output (line 12), after the
	// last event of token 0.
	line(2, 12)
	// Decode token 3: lines 0..3 again (hits) and line 20 (a miss).
	for l := uint64(0); l < 4; l++ {
		line(3, l)
	}
	line(3, 20)
	soc := mustParse(t, twoLevel)
	for _, timed := range []bool{false, true} {
		opts := Options{WarmupTokens: 1}
		s := soc
		if timed {
			s = mustParse(t, twoLevel+timedDRAM)
		}
		r := run(t, ev, trace.FormatETR, opts, s)[0]
		l1 := r.Levels[0]
		// Token 0's last event is op 2's line 9. Counted: lines 10
		// and 11 (tokens 1 and 2 of op 2), 12 (all first reads:
		// misses) and token 3's five references (lines 0..3 still in
		// the 16-line L1D: one miss, line 20).
		if r.CountedEvents != 8 || l1.Accesses != 8 || l1.Misses != 4 {
			t.Errorf("timed %v: counted %d events, L1D %d accesses %d misses; want 8, 8, 4", timed, r.CountedEvents, l1.Accesses, l1.Misses)
		}
		if !timed {
			if mem := r.Memory.(IdealMemoryReport); mem.Reads != 4 {
				t.Errorf("memory reads after warm-up = %d, want 4", mem.Reads)
			}
		}
	}
}

// TestCoverage: next-line prefetching over a sequential walk removes all
// but the first miss of each 4 KiB page; the baseline run without
// prefetching misses every line.
func TestCoverage(t *testing.T) {
	var ev []trace.Event
	for l := uint64(0); l < 128; l++ { // two pages
		ev = append(ev, trace.Event{Addr: l * 64, Size: 8})
	}
	soc := mustParse(t, twoLevel, "caches.L1D.prefetcher=next-line")
	r := run(t, ev, trace.FormatDin, Options{}, soc)[0]
	p := r.Levels[0].Prefetch
	if r.Levels[0].Misses != 2 || p.BaselineMisses == nil || *p.BaselineMisses != 128 {
		t.Fatalf("L1D misses %d, baseline %v; want 2, 128", r.Levels[0].Misses, p.BaselineMisses)
	}
	if p.Coverage == nil || *p.Coverage != 126.0/128 {
		t.Errorf("coverage = %v, want %v", p.Coverage, 126.0/128)
	}
	// 126 issued (lines 1..63 and 65..127), all used: accuracy 1; each
	// is used one reference after its issue, before the 100 ns fill: all
	// late.
	if p.Issued != 126 || p.Hits != 126 || *p.Accuracy != 1 || *p.Lateness != 1 {
		t.Errorf("prefetch = %+v, want 126 issued, 126 hits, accuracy 1, lateness 1", p)
	}
	r = run(t, ev, trace.FormatDin, Options{NoCoverage: true}, soc)[0]
	if r.Levels[0].Prefetch.Coverage != nil {
		t.Errorf("coverage without a baseline run = %v, want null", *r.Levels[0].Prefetch.Coverage)
	}
}

// TestParallelSoCs: several SoCs on one trace give exactly what each
// gives alone, and repeated runs give byte-identical JSON.
func TestParallelSoCs(t *testing.T) {
	var ev []trace.Event
	x := uint64(3)
	for i := 0; i < 50000; i++ {
		x = x*6364136223846793005 + 1
		k := trace.Read
		if x>>63 == 1 {
			k = trace.Write
		}
		ev = append(ev, trace.Event{Addr: (x >> 30) % (1 << 20), Size: uint32(1 + (x>>10)%200), Kind: k, Thread: uint8(x >> 50 % 4), Token: uint32(i / 10000)})
	}
	var socs []*SoC
	for _, p := range Presets() {
		s, err := Load(p, []string{"caches.L1D.prefetcher=stride"})
		if err != nil {
			t.Fatal(err)
		}
		socs = append(socs, s)
	}
	opts := Options{Version: "test", BatchEvents: 4096}
	all := run(t, ev, trace.FormatETR, opts, socs...)
	for i, s := range socs {
		alone := run(t, ev, trace.FormatETR, opts, s)[0]
		a, _ := json.Marshal(all[i])
		b, _ := json.Marshal(alone)
		if string(a) != string(b) {
			t.Errorf("%s: result differs when run with other SoCs", s.Name)
		}
	}
	again := run(t, ev, trace.FormatETR, opts, socs...)
	a, _ := json.Marshal(all)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Error("two runs give different JSON")
	}
}

// TestJSONContract checks the keys of issue 4's contract and the
// provenance.
func TestJSONContract(t *testing.T) {
	soc := mustParse(t, twoLevel)
	r := run(t, []trace.Event{{Addr: 64, Size: 8}}, trace.FormatDin, Options{Version: "v-test"}, soc)[0]
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"soc", "levels", "provenance", "time", "memory"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result JSON lacks %q", k)
		}
	}
	lvl := m["levels"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "accesses", "hits", "misses", "read_misses", "write_misses", "evictions", "writebacks", "prefetch", "useless_bytes", "size_bytes"} {
		if _, ok := lvl[k]; !ok {
			t.Errorf("level JSON lacks %q", k)
		}
	}
	pf := lvl["prefetch"].(map[string]any)
	for _, k := range []string{"issued", "dropped", "hits", "late", "useless", "pollution_misses", "accuracy", "lateness", "coverage", "pollution"} {
		if _, ok := pf[k]; !ok {
			t.Errorf("prefetch JSON lacks %q", k)
		}
	}
	prov := m["provenance"].(map[string]any)
	for _, k := range []string{"edgeprof_version", "trace_sha256", "soc_yaml", "seeds", "warmup_tokens", "coverage"} {
		if _, ok := prov[k]; !ok {
			t.Errorf("provenance JSON lacks %q", k)
		}
	}
	// The resolved YAML in provenance loads back as the same SoC.
	back, err := Parse([]byte(r.Provenance.SoCYAML), "provenance.yaml", nil)
	if err != nil || back.Caches[1].Size != soc.Caches[1].Size {
		t.Errorf("provenance YAML does not load back: %v", err)
	}
	if !strings.Contains(string(b), `"time":{"total_ns":111}`) {
		t.Errorf("time of one cold miss: %s", b)
	}
}

// failingMemory fails on its third request.
type failingMemory struct {
	n   int
	err error
}

func (m *failingMemory) Access(_ uint64, _ uint32, _ trace.Kind, _ int, now uint64) uint64 {
	if m.n++; m.n == 3 && m.err == nil {
		m.err = errors.New("address outside the device")
	}
	return now + 1000
}
func (m *failingMemory) Err() error { return m.err }

// TestMemoryPlugin: Options.Memory replaces the ideal memory, and its
// error ends the run with a message naming trace, SoC and memory.
func TestMemoryPlugin(t *testing.T) {
	soc := mustParse(t, twoLevel)
	ev := []trace.Event{{Addr: 0, Size: 8}, {Addr: 4096, Size: 8}}
	mem := &failingMemory{}
	res, err := Run(context.Background(), Trace{Name: "t", Source: Events(ev)}, []*SoC{soc}, Options{Memory: func(*SoC) (cache.Memory, error) { return mem, nil }})
	if err != nil || mem.n != 2 || res[0].Memory != nil || res[0].Time.TotalNS != 2*(1+10+1) {
		t.Fatalf("two misses: err %v, memory requests %d, report %v, time %v; want nil, 2, nil, 24 ns", err, mem.n, res[0].Memory, res[0].Time.TotalNS)
	}
	_, err = Run(context.Background(), Trace{Name: "t", Source: Events(append(ev, trace.Event{Addr: 8192, Size: 8}))}, []*SoC{soc}, Options{Memory: func(*SoC) (cache.Memory, error) { return &failingMemory{}, nil }})
	if err == nil || err.Error() != "t on two: memory: address outside the device" {
		t.Errorf("failing memory: error %v", err)
	}
}

// TestTruncatedETR: a trace cut off before its first complete block is
// an error; one whose trailer is gone replays with a warning saying so.
func TestTruncatedETR(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.etr")
	w, err := trace.Create(p, trace.Header{EdgeprofVersion: "test", ModelName: "m"}, trace.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		w.Emit(trace.Event{Addr: uint64(i) * 64, Size: 8, Tensor: trace.NoTensor, Token: uint32(i / 100)})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := trace.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	header := int(r.Info().HeaderBytes)
	r.Close()
	soc := mustParse(t, twoLevel)
	for _, c := range []struct {
		name    string
		keep    int
		err     string // wanted error, or "" for a result
		warning string
	}{
		{"trailer cut", len(full) - 5, "", "no trailer"},
		{"first block cut", header + 10, "no complete event", ""},
	} {
		q := filepath.Join(dir, c.name+".etr")
		if err := os.WriteFile(q, full[:c.keep], 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := RunFiles(context.Background(), []string{q}, []*SoC{soc}, Options{WarmupTokens: -1})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r := res[0]
		if r.Events != 1000 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], c.warning) {
			t.Errorf("%s: %d events, warnings %q; want 1000 and one warning containing %q", c.name, r.Events, r.Warnings, c.warning)
		}
	}
}
