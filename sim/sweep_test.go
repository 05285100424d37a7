package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlan: jobs come trace-major, then SoC, then the cross product with
// the first axis outermost; shards take every N-th job.
func TestPlan(t *testing.T) {
	a, err := ParseSweep("dram=lpddr4-3200, lpddr5-6400")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseSweep("weights_budget=1GiB,2GiB,3GiB")
	jobs, err := Plan([]string{"x.etr", "y.etr"}, []string{"rpi4", "rpi5"}, []SweepAxis{a, b})
	if err != nil || len(jobs) != 2*2*2*3 {
		t.Fatalf("Plan: %d jobs (%v), want 24", len(jobs), err)
	}
	j := jobs[7] // x.etr, rpi4, second dram, second budget
	if j.Index != 7 || j.Trace != "x.etr" || j.SoC != "rpi5" || j.Point[0].Value != "lpddr4-3200" || j.Point[1].Value != "2GiB" {
		t.Errorf("jobs[7] = %+v", j)
	}
	sh, err := ParseShard("2/5")
	if err != nil {
		t.Fatal(err)
	}
	got := sh.Select(jobs)
	if len(got) != 5 || got[0].Index != 2 || got[4].Index != 22 {
		t.Errorf("shard 2/5 = %d jobs from %d", len(got), got[0].Index)
	}
	for _, bad := range []string{"dram", "dram=", "=a,b", "k=a,,b", "k=a,a"} {
		if _, err := ParseSweep(bad); err == nil || !strings.HasPrefix(err.Error(), "sim: --sweep ") {
			t.Errorf("ParseSweep(%q) error = %v", bad, err)
		}
	}
	if _, err := ParseShard("0/1000000000"); err == nil || !strings.Contains(err.Error(), "1000000000 shards, want at most 1048576") {
		t.Errorf("ParseShard(0/1000000000) error = %v, want the shard limit", err)
	}
	for _, bad := range []string{"3", "3/3", "-1/2", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) succeeded", bad)
		}
	}
	many := SweepAxis{Key: "k"}
	for i := 0; i < 1100; i++ {
		many.Values = append(many.Values, strings.Repeat("v", i+1))
	}
	if _, err := Plan([]string{"t"}, []string{"s"}, []SweepAxis{many, many}); err == nil {
		t.Error("Plan of 1.2 M runs succeeded, want the size limit")
	}
}

// TestSetShorthands: --set dram=GRADE keeps the channel count, the
// fabric latency and the controller's policy and drops the old
// standard's settings; --set flash=DEVICE replaces the device with its
// preset values.
func TestSetShorthands(t *testing.T) {
	s, err := Load("rpi4", []string{"dram=lpddr5-6400", "flash=ufs-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	if s.DRAM.Grade != "lpddr5-6400" || s.DRAM.Standard != "lpddr5" || s.DRAM.Org.Channels != 2 || s.DRAM.Org.BankGroups != 4 || s.DRAM.FabricLatencyNS != 48 {
		t.Errorf("dram=lpddr5-6400 on rpi4: %+v", s.DRAM.Config)
	}
	// The preset's write batching (gem5's policy), not the library's
	// defaults.
	if k := s.DRAM.Controller; k.WriteQueue != 64 || k.WriteHigh != 55 || k.WriteLow != 54 || k.IdleWriteMin != 33 || k.MinWritesPerSwitch != 16 {
		t.Errorf("dram=lpddr5-6400 on rpi4: controller %+v, want rpi4's write queue 64, 55/54, idle 33, 16 per switch", k)
	}
	if s.Flash.Device != "ufs-4.0" || s.Flash.LinkMBps != 4200 {
		t.Errorf("flash=ufs-4.0: device %s, link %v MB/s; want ufs-4.0 at 4200", s.Flash.Device, s.Flash.LinkMBps)
	}
	// The shown YAML of a preset takes the shorthand too.
	y, _ := s.YAML()
	if _, err := Parse(y, "shown.yaml", []string{"dram=ddr4-3200"}); err != nil {
		t.Errorf("dram=ddr4-3200 on a shown SoC: %v", err)
	}
	// Per-bank refresh (LPDDR only) does not follow the switch to DDR4.
	if d, err := Load("rpi5", []string{"dram.controller.refresh=per-bank", "dram=ddr4-3200"}); err != nil || d.DRAM.Controller.Refresh != "all-bank" || d.DRAM.Controller.WriteQueue != 64 {
		t.Errorf("per-bank refresh, then dram=ddr4-3200: %v; want DDR4's all-bank refresh and rpi5's 64-entry write queue", err)
	}
	for _, c := range []struct{ set, want string }{
		{"dram=lpddr9-1", `rpi4: --set dram=lpddr9-1: dram: unknown standard "lpddr9"`},
		{"flash=floppy", `rpi4: --set flash=floppy: flash: invalid config: unknown device "floppy"`},
		{"dram=", "want a name"},
	} {
		if _, err := Load("rpi4", []string{c.set}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: error %v, want one containing %q", c.set, err, c.want)
		}
	}
}

// TestRunJobsInPasses: a sweep with more points than maxRunsPerPass reads
// the trace once per group of points, with results equal to one pass.
func TestRunJobsInPasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.din")
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "%d %x 64\n", i%2, (i*7919%4096)*64)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	axis, err := ParseSweep("cores.mshrs=1,2,3,4,5")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Plan([]string{path}, []string{"rpi4"}, []SweepAxis{axis})
	if err != nil {
		t.Fatal(err)
	}
	run := func() string {
		socs, err := LoadJobSoCs(jobs, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunJobs(context.Background(), jobs, socs, Options{NoCoverage: true})
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(res)
		return string(js)
	}
	one := run()
	defer func(n int) { maxRunsPerPass = n }(maxRunsPerPass)
	maxRunsPerPass = 2
	if three := run(); three != one {
		t.Errorf("results in passes of 2 differ from one pass:\n%.300s\n%.300s", three, one)
	}
	if !strings.Contains(one, `"per_token_ns"`) {
		t.Errorf("no timing in the results: %.200s", one)
	}
}

// TestSetReplacesSourceNotes: a value changed by --set (or --sweep) no
// longer cites the preset's evidence; one set to the preset's own value
// keeps it.
func TestSetReplacesSourceNotes(t *testing.T) {
	s, err := Load("rpi5", []string{"cores.clock_mhz=3000", "weights_budget=2GiB", "dram=lpddr5-6400",
		"dram.org.channels=4", "flash.link_mbps=50", "cores.count=4"})
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := Load("rpi5", nil)
	for _, c := range []struct{ got, want string }{
		{s.Cores.Source["clock_mhz"], "given by --set cores.clock_mhz=3000 [est]"},
		{s.PageCache.Source["weights_budget"], "given by --set weights_budget=2GiB [est]"},
		{s.DRAM.Source["grade"], "given by --set dram=lpddr5-6400 [est]"},
		{s.DRAM.Source["channels"], orig.DRAM.Source["channels"] + "; dram.org.channels given by --set dram.org.channels=4 [est]"},
		{s.Flash.Source, orig.Flash.Source + "; flash.link_mbps given by --set flash.link_mbps=50 [est]"},
		{s.Cores.Source["count"], orig.Cores.Source["count"]}, // set to the preset's own 4
	} {
		if c.got != c.want {
			t.Errorf("source note %q, want %q", c.got, c.want)
		}
	}
	// A note set by hand stays the user's.
	own, err := Load("rpi5", []string{"cores.source.clock_mhz=overclocked board [measured]"})
	if err != nil || own.Cores.Source["clock_mhz"] != "overclocked board [measured]" {
		t.Errorf("a source note set by hand: %q, %v", own.Cores.Source["clock_mhz"], err)
	}
	same, _ := Load("rpi5", []string{"dram=lpddr4x-4267"})
	if same.DRAM.Source["grade"] != orig.DRAM.Source["grade"] {
		t.Errorf("dram= the preset's own grade changed the note to %q", same.DRAM.Source["grade"])
	}
}
