package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/sim"
	"github.com/edgeprof/edgeprof/trace"
)

// edgeprof dram must report exactly what the library gives for the same
// requests submitted one by one: the reader, the chunking and the
// concurrent channels change nothing.
func TestDRAMCommandMatchesLibrary(t *testing.T) {
	const cfgPath = "../../memory/dram/testdata/dramsim3-lpddr4-2400.yaml"
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := dram.ParseConfig(b, cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := dram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tck := ref.ClockPS()
	// A paced sequential stream with random reads and writes mixed in,
	// longer than one chunk of the command.
	r := rand.New(rand.NewPCG(5, 6))
	var sb strings.Builder
	sb.WriteString("# test trace\n")
	n := dramReplayChunk + 5000
	for i := range n {
		addr, op := uint64(i)*64, "READ"
		if r.IntN(4) == 0 {
			addr = r.Uint64() & (8<<30 - 64)
		}
		if r.IntN(5) == 0 {
			op = "WRITE"
		}
		cycle := int64(i) * 9
		fmt.Fprintf(&sb, "0x%x %s %d\n", addr, op, cycle)
		if _, err := ref.Submit(dram.Request{At: cycle * tck, Addr: addr, Size: 64, Write: op == "WRITE"}); err != nil {
			t.Fatal(err)
		}
	}
	ref.Drain()
	path := filepath.Join(t.TempDir(), "mix.trace")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCmd(t, newDRAMCmd(), "--dram", cfgPath, "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var got dramJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// Through JSON both, so that the comparison is of what is printed.
	var want dram.Stats
	wb, _ := json.Marshal(ref.Stats())
	if err := json.Unmarshal(wb, &want); err != nil {
		t.Fatal(err)
	}
	if got.Requests != uint64(n) || got.ClockPS != tck || !reflect.DeepEqual(got.DRAM, want) {
		t.Errorf("edgeprof dram: %d requests, clock %d ps, stats\n%+v\nwant %d, %d ps,\n%+v", got.Requests, got.ClockPS, got.DRAM, n, tck, want)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d requests simulated", n)) {
		t.Errorf("stderr %q: no speed line", stderr)
	}

	// The table names the trace and the row-hit rate.
	out, _, err = runCmd(t, newDRAMCmd(), "--dram", cfgPath, path)
	if err != nil {
		t.Fatal(err)
	}
	if hits := fmt.Sprintf("%.2f", 100*want.RowHitRate()); !strings.Contains(out, path) || !strings.Contains(out, hits) {
		t.Errorf("table lacks the trace or its row-hit rate %s:\n%s", hits, out)
	}
}

// A single read of an idle channel costs what the model's Access gives:
// with --soc and --set, the SoC's DRAM section with the override.
func TestDRAMCommandSoCAndSet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.trace")
	if err := os.WriteFile(path, []byte("0x1000 READ 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, newDRAMCmd(), "--soc", "rpi5", "--set", "dram=lpddr5-6400", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var got dramJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Config.Grade != "lpddr5-6400" {
		t.Errorf("grade %q, want lpddr5-6400 from --set", got.Config.Grade)
	}
	d, err := dram.New(got.Config)
	if err != nil {
		t.Fatal(err)
	}
	done, err := d.Access(0, 0x1000, 64, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(done) / 1000; got.DRAM.AvgLatencyNS != want || got.DRAM.Reads != 1 || got.DRAM.RowMisses != 1 {
		t.Errorf("one read: %+v, want latency %g ns, 1 read, 1 row miss", got.DRAM, want)
	}
}

func TestDRAMCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.trace")
	if err := os.WriteFile(bad, []byte("0x40 READ 0\n0x80 FETCH 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.trace")
	if err := os.WriteFile(good, []byte("0x40 READ 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "d.yaml")
	if err := os.WriteFile(badYAML, []byte("grade: lpddr4x-4267\norg: {chanels: 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dram", "lpddr4x-4267", bad}, bad + `:2: operation "FETCH": want READ or WRITE`},
		{[]string{good}, "no DRAM given"},
		{[]string{"--dram", "lpddr4x-4267", "--set", "dram=lpddr5-6400", good}, "--set applies to --soc"},
		{[]string{"--dram", "lpddr4x-4267", "--dram", "lpddr9-100", good}, `dram: lpddr9-100: unknown standard "lpddr9"`},
		{[]string{"--dram", badYAML, good}, badYAML + ":2: org.chanels: unknown key, want one of bank_groups,"},
		{[]string{"--dram", "lpddr4x-4267", "--request-bytes", "65", good}, "--request-bytes 65: want 1..64"},
		{[]string{"--dram", "lpddr4x-4267", filepath.Join(dir, "missing.trace")}, "missing.trace"},
	} {
		_, _, err := runCmd(t, newDRAMCmd(), c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line containing %q", c.args, err, c.want)
		}
	}
}

// Several DRAMs: every trace on every DRAM, in flag order, --dram first.
func TestDRAMCommandSeveralDRAMs(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, src := range []string{"0x0 READ 0\n0x40 READ 0\n", "0x1000000 WRITE 5\n"} {
		p := filepath.Join(dir, fmt.Sprintf("t%d.trace", i))
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	args := append([]string{"--soc", "rpi4", "--dram", "lpddr5-6400", "--dram", "ddr4-3200", "--json"}, paths...)
	out, _, err := runCmd(t, newDRAMCmd(), args...)
	if err != nil {
		t.Fatal(err)
	}
	var got []dramJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range got {
		order = append(order, r.DRAMName+" "+filepath.Base(r.Trace)+" "+r.Config.Grade+fmt.Sprintf(" %d/%d", r.DRAM.Reads, r.DRAM.Writes))
	}
	want := []string{
		"lpddr5-6400 t0.trace lpddr5-6400 2/0", "lpddr5-6400 t1.trace lpddr5-6400 0/1",
		"ddr4-3200 t0.trace ddr4-3200 2/0", "ddr4-3200 t1.trace ddr4-3200 0/1",
		"rpi4 t0.trace lpddr4-3200 2/0", "rpi4 t1.trace lpddr4-3200 0/1",
	}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("rows %q, want %q", order, want)
	}
}

// sim --dram-trace writes every DRAM request of the run; edgeprof dram
// replays it open-loop on the same DRAM with the same outcome: the same
// reads and writes, and the same row-buffer outcomes but for the
// arrivals' rounding to whole DRAM clocks.
func TestSimDRAMTraceReplays(t *testing.T) {
	dir := t.TempDir()
	etr := filepath.Join(dir, "t.etr")
	w, err := trace.Create(etr, trace.Header{EdgeprofVersion: "test", ModelName: "m", ModelSHA256: strings.Repeat("ab", 32)}, trace.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 3 tokens each reading 4 MiB of weights (more than rpi5's caches)
	// and writing 64 KiB.
	for tok := uint32(0); tok < 3; tok++ {
		for i := uint64(0); i < 1<<16; i++ {
			w.Emit(trace.Event{Token: tok, Addr: i * 64, Size: 64, Op: trace.OpFFNUp, Tensor: trace.NoTensor})
			if i%64 == 0 {
				w.Emit(trace.Event{Token: tok, Addr: trace.RegionActivation + i, Size: 64, Op: trace.OpFFNUp, Tensor: trace.NoTensor, Kind: trace.Write})
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dt := filepath.Join(dir, "t.dram")
	out, err := runEdgeprof(t, "sim", "--soc", "rpi5", "--dram-trace", dt, "--json", etr)
	if err != nil {
		t.Fatal(err)
	}
	var res sim.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dt)
	if err != nil {
		t.Fatal(err)
	}
	lines := uint64(strings.Count(string(b), "\n"))
	if want := res.DRAM.Reads + res.DRAM.Writes; lines != want || lines < 1<<16 {
		t.Fatalf("DRAM trace has %d requests, the run's DRAM %d reads + writes", lines, want)
	}
	out, _, err = runCmd(t, newDRAMCmd(), "--soc", "rpi5", "--json", dt)
	if err != nil {
		t.Fatal(err)
	}
	var rep dramJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	g, s := rep.DRAM, res.DRAM.Stats
	if g.Reads != s.Reads || g.Writes != s.Writes || math.Abs(float64(g.RowHits)/float64(s.RowHits)-1) > 0.005 {
		t.Errorf("replayed: %d reads, %d writes, %d row hits; the run: %d, %d, %d", g.Reads, g.Writes, g.RowHits, s.Reads, s.Writes, s.RowHits)
	}
	t.Logf("%d DRAM requests; row hits %d replayed, %d in the run; read latency %.1f vs %.1f ns", lines, g.RowHits, s.RowHits, g.AvgLatencyNS, s.AvgLatencyNS)

	// One run only; a refused run leaves no file.
	bad := filepath.Join(dir, "bad.dram")
	if _, err := runEdgeprof(t, "sim", "--soc", "rpi5", "--soc", "rpi4", "--dram-trace", bad, etr); err == nil || !strings.Contains(err.Error(), "--dram-trace records one run") {
		t.Errorf("two SoCs: error %v", err)
	}
	if _, err := runEdgeprof(t, "sim", "--soc", "rpi5", "--no-timing", "--dram-trace", bad, etr); err == nil || !strings.Contains(err.Error(), "needs the timing model") {
		t.Errorf("--no-timing: error %v", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("%s exists after refused runs", bad)
	}
}
