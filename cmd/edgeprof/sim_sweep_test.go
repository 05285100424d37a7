package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/sim"
)

// writeDin writes a din trace of n sequential 8-byte reads, one per line.
func writeDin(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("0 " + strconv.FormatUint(uint64(i)*64, 16) + " 8\n")
	}
	p := filepath.Join(dir, "stream.din")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSimSweepShardMerge: a sweep prints one table with a column per
// swept key; the same sweep in shards, merged, prints exactly the same
// bytes (table, JSON and CSV), whatever the order of the parts.
func TestSimSweepShardMerge(t *testing.T) {
	dir := t.TempDir()
	din := writeDin(t, dir, 3000)
	args := []string{"sim", "--soc", "rpi4", "--soc", "rpi5", "--sweep", "dram=lpddr4-3200,lpddr5-6400", "--sweep", "cores.mshrs=2,6", din}
	single, err := runEdgeprof(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	// Level rows: 4 points x (2 levels of rpi4 + 3 of rpi5); summary
	// rows: 2 SoCs x 2 x 2.
	if n := strings.Count(single, "\n│ rpi"); n != 20+8 || !strings.Contains(single, "cores.mshrs") || !strings.Contains(single, "lpddr5-6400") {
		t.Fatalf("sweep tables have %d rows (want 20 level rows + 8 summary rows):\n%s", n, single)
	}
	for _, format := range [][]string{nil, {"--json"}, {"--csv"}} {
		want, err := runEdgeprof(t, append(append([]string{}, args...), format...)...)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for k := 2; k >= 0; k-- { // shards written out of order
			p := filepath.Join(dir, "part"+strconv.Itoa(k)+".json")
			if _, err := runEdgeprof(t, append(append([]string{}, args...), "--shard", strconv.Itoa(k)+"/3", "-o", p)...); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, p)
		}
		got, err := runEdgeprof(t, append(append([]string{"sim", "merge"}, parts...), format...)...)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("merge %v differs from a single run:\n%s\n---\n%s", format, got, want)
		}
	}
	// A sweep in JSON carries its point in each result.
	out, _ := runEdgeprof(t, append(append([]string{}, args...), "--json")...)
	var res []sim.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 8 {
		t.Fatalf("--json: %d results (%v)", len(res), err)
	}
	if p := res[1].Sweep; len(p) != 2 || p[0] != (sim.SweepValue{Key: "dram", Value: "lpddr4-3200"}) || p[1] != (sim.SweepValue{Key: "cores.mshrs", Value: "6"}) || res[4].SoC != "rpi5" {
		t.Errorf("result 1 sweep %v, result 4 on %s; want dram=lpddr4-3200 mshrs=6 and rpi5", p, res[4].SoC)
	}
	// More fill buffers stream faster.
	if res[1].Time.TotalNS >= res[0].Time.TotalNS {
		t.Errorf("mshrs 6: %v ns, mshrs 2: %v ns; want faster", res[1].Time.TotalNS, res[0].Time.TotalNS)
	}
}

// TestSimMergeErrors: parts of different sweeps, a missing or repeated
// shard are one-line errors.
func TestSimMergeErrors(t *testing.T) {
	dir := t.TempDir()
	din := writeDin(t, dir, 500)
	part := func(name, shard string, extra ...string) string {
		p := filepath.Join(dir, name)
		args := append([]string{"sim", "--soc", "rpi4", "--sweep", "cores.mshrs=2,4,6", din, "--shard", shard, "-o", p}, extra...)
		if _, err := runEdgeprof(t, args...); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a0, a1 := part("a0.json", "0/2"), part("a1.json", "1/2")
	b1 := part("b1.json", "1/2", "--set", "cores.count=2")
	garbage := filepath.Join(dir, "g.json")
	os.WriteFile(garbage, []byte("{not json"), 0o644)
	// A part whose spec was edited after it was written: its recorded
	// hash no longer matches.
	edited := filepath.Join(dir, "e1.json")
	if b, err := os.ReadFile(a1); err != nil {
		t.Fatal(err)
	} else {
		os.WriteFile(edited, bytes.Replace(b, []byte(`"rpi4"`), []byte(`"rpi5"`), 1), 0o644)
	}
	for _, c := range []struct {
		parts []string
		want  string
	}{
		{[]string{a0}, "shards 1 of 2 missing"},
		{[]string{a0, a0}, "twice"},
		{[]string{a0, b1}, "a different sweep"},
		{[]string{a0, edited}, "its spec does not hash to its spec_sha256"},
		{[]string{a0, garbage}, "not a partial result"},
		{[]string{a0, filepath.Join(dir, "none.json")}, "no such file"},
	} {
		_, err := runEdgeprof(t, append([]string{"sim", "merge"}, c.parts...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("merge %v: error %v, want one line containing %q", c.parts, err, c.want)
		}
	}
	if _, err := runEdgeprof(t, "sim", "merge", a1, a0); err != nil {
		t.Errorf("merge of both shards: %v", err)
	}
}

// TestSimShardEnv: Kubernetes Indexed Jobs and Slurm arrays select the
// shard through the environment.
func TestSimShardEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		env  map[string]string
		want string
		from string
		err  string
	}{
		{map[string]string{"JOB_COMPLETION_INDEX": "3", "EDGEPROF_SHARDS": "8"}, "3/8", "JOB_COMPLETION_INDEX", ""},
		{map[string]string{"JOB_COMPLETION_INDEX": "3"}, "", "", "EDGEPROF_SHARDS is not set"},
		{map[string]string{"JOB_COMPLETION_INDEX": "8", "EDGEPROF_SHARDS": "8"}, "", "", "want k/N"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "6"}, "5/6", "SLURM_ARRAY_TASK_ID", ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "6", "SLURM_ARRAY_TASK_MIN": "1"}, "5/6", "SLURM_ARRAY_TASK_ID", ""},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "6"}, "", "", "want an integer"},
		{map[string]string{}, "", "", ""},
	} {
		sh, from, ok, err := sim.ShardFromEnv(env(c.env))
		got := ""
		if ok {
			got = sh.String()
		}
		if got != c.want || from != c.from || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("ShardFromEnv(%v) = %q from %q, %v; want %q from %q, error containing %q", c.env, got, from, err, c.want, c.from, c.err)
		}
	}
	dir := t.TempDir()
	din := writeDin(t, dir, 300)
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
	out, err := runEdgeprof(t, "sim", "--soc", "rpi4", "--soc", "rpi5", "--soc", "orin-nano", din)
	var p sim.Partial
	if err != nil || json.Unmarshal([]byte(out), &p) != nil || p.Shard != 1 || p.Shards != 2 || len(p.Results) != 1 || p.Results[0].Index != 1 {
		t.Errorf("under a Slurm array: err %v, partial shard %d/%d with %d results", err, p.Shard, p.Shards, len(p.Results))
	}
	out, err = runEdgeprof(t, "sim", "--soc", "rpi4", din, "--shard", "off")
	if err != nil || !strings.Contains(out, "TTFT ms") {
		t.Errorf("--shard off under a Slurm array: err %v, output %q", err, out)
	}
}

// TestSimPlot: --plot writes a PNG of one swept parameter; without
// exactly one sweep it is an error.
func TestSimPlot(t *testing.T) {
	dir := t.TempDir()
	din := writeDin(t, dir, 500)
	png1 := filepath.Join(dir, "p.png")
	if _, err := runEdgeprof(t, "sim", "--soc", "rpi4", "--sweep", "cores.mshrs=1,2,4", din, "--plot", png1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png1)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("plot: %v", err)
	}
	if _, err := runEdgeprof(t, "sim", "--soc", "rpi4", din, "--plot", png1); err == nil || !strings.Contains(err.Error(), "exactly one --sweep") {
		t.Errorf("--plot without --sweep: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".p.png.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestSimModelFlash is the acceptance check on a real engine trace: a
// model larger than weights_budget reads flash on every token; with the
// preset's budget (larger than the model) it reads flash in the first
// token only.
func TestSimModelFlash(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a model and a trace")
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	etr := filepath.Join(dir, "m.etr")
	if _, err := runEdgeprof(t, "model", "synth", "--shape", "synth-kq", "-o", model); err != nil {
		t.Fatal(err)
	}
	if _, err := runEdgeprof(t, "trace", "record", "--model", model, "-n", "3", "-p", "Once", "-o", etr); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		budget string
		every  bool
	}{{"1MiB", true}, {"", false}} {
		args := []string{"sim", "--soc", "rpi4", etr, "--json"}
		if c.budget != "" {
			args = append(args, "--set", "weights_budget="+c.budget)
		}
		out, err := runEdgeprof(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		var r sim.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Flash == nil || r.Tokens[0].Bytes["flash"] == 0 || r.PageCache == nil {
			t.Fatalf("budget %q: no flash traffic in the first token: %+v", c.budget, r.Tokens[0])
		}
		for _, k := range r.Tokens[1:] {
			if got := k.Bytes["flash"] > 0; got != c.every && k.Phase == "decode" {
				t.Errorf("budget %q: token %d read %d flash bytes, want flash on every token = %v", c.budget, k.Token, k.Bytes["flash"], c.every)
			}
		}
		if c.every && r.PageCache.Evictions == 0 {
			t.Errorf("budget %q: no evictions", c.budget)
		}
	}
}
