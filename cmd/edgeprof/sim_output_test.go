package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/sim"
)

// twoLevelSoC is a SoC with caches only (no dram section): an 8-way 32 KiB
// L1D over an 8-way L2 of 256 KiB, both LRU and non-inclusive.
const twoLevelSoC = `name: two
caches:
  - {name: L1D, size: 32KiB, ways: 8, line: 64, latency_cycles: 4}
  - {name: L2, size: 256KiB, ways: 8, line: 64, latency_cycles: 12}
`

// writeLoopDin writes a din trace that reads `lines` consecutive lines,
// twice over.
func writeLoopDin(t *testing.T, dir string, lines int) string {
	t.Helper()
	var b strings.Builder
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < lines; i++ {
			b.WriteString("0 " + strconv.FormatUint(uint64(i)*64, 16) + " 8\n")
		}
	}
	p := filepath.Join(dir, "loop.din")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tableRows returns the cells of the body rows of a rendered table.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "│") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "│"), "│") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	return rows
}

func readCSV(t *testing.T, out string) (head []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("CSV %q: %v", out, err)
	}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return recs[0], rows
}

// TestSimSweepShowsLevels: every sweep point shows its per-level
// results, in the table and in CSV, with or without the timing model.
// A 256 KiB working set read twice misses every time in the 32 KiB L1D
// (LRU, cyclic); in the L2 it misses every time at 128 KiB and only on
// the first pass (4096 lines) at 512 KiB.
func TestSimSweepShowsLevels(t *testing.T) {
	dir := t.TempDir()
	din := writeLoopDin(t, dir, 4096)
	soc := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(soc, []byte(twoLevelSoC), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []struct{ size, level, accesses, misses, rate string }{
		{"128KiB", "L1D", "8192", "8192", "1"},
		{"128KiB", "L2", "8192", "8192", "1"},
		{"512KiB", "L1D", "8192", "8192", "1"},
		{"512KiB", "L2", "8192", "4096", "0.5"},
	}
	for _, c := range []struct {
		name  string
		extra []string
		timed bool
	}{
		{"caches only", nil, false},
		{"no timing", []string{"--set", "dram=lpddr5-6400", "--no-timing"}, false},
		{"timed", []string{"--set", "dram=lpddr5-6400"}, true},
	} {
		args := append([]string{"sim", "--soc", soc, "--sweep", "caches.L2.size=128KiB,512KiB", din}, c.extra...)
		out, err := runEdgeprof(t, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		rows := tableRows(out)
		if len(rows) < len(want)+1 {
			t.Fatalf("%s: table has %d rows, want %d level rows:\n%s", c.name, len(rows)-1, len(want), out)
		}
		if h := strings.Join(rows[0][:8], ","); h != "SOC,TRACE,caches.L2.size,LEVEL,ACCESSES,MISSES,MISS %,WRITEBACKS" {
			t.Errorf("%s: level table header = %s", c.name, h)
		}
		for i, w := range want {
			r := rows[1+i]
			if got := strings.Join(r[2:6], ","); got != strings.Join([]string{w.size, w.level, w.accesses, w.misses}, ",") {
				t.Errorf("%s: table row %d = %v, want %s %s %s accesses %s misses", c.name, i, r, w.size, w.level, w.accesses, w.misses)
			}
		}
		if got := strings.Contains(out, "TTFT ms"); got != c.timed {
			t.Errorf("%s: summary table printed = %v, want %v", c.name, got, c.timed)
		}

		out, err = runEdgeprof(t, append(args, "--csv")...)
		if err != nil {
			t.Fatal(err)
		}
		head, recs := readCSV(t, out)
		if len(recs) != len(want) {
			t.Fatalf("%s: CSV has %d rows, want %d (one per point and level):\n%s", c.name, len(recs), len(want), out)
		}
		for i, w := range want {
			r := recs[i]
			if r["caches.L2.size"] != w.size || r["level"] != w.level || r["accesses"] != w.accesses || r["misses"] != w.misses || r["miss_rate"] != w.rate {
				t.Errorf("%s: CSV row %d = %v, want %+v", c.name, i, r, w)
			}
			if _, ok := r["token_ns"]; ok != c.timed {
				t.Errorf("%s: CSV has summary columns = %v, want %v (header %v)", c.name, ok, c.timed, head)
			}
			if c.timed && (r["ttft_ns"] == "" || r["energy_pj"] == "" || r["decode_dram_gbps"] == "") {
				t.Errorf("%s: CSV row %d has empty timing columns: %v", c.name, i, r)
			}
		}
	}
}

// TestSimOutputsAgreeWithJSON: the table and the CSV show exactly what
// the JSON has: no time per token for a din trace (no decode tokens);
// coverage of a level without its own prefetcher; ratios empty where
// the JSON has null, and every CSV number reads back as the JSON's
// float64, never in exponent form.
func TestSimOutputsAgreeWithJSON(t *testing.T) {
	dir := t.TempDir()
	din := writeLoopDin(t, dir, 6000)
	for _, c := range []struct {
		name string
		sets []string
	}{
		{"no prefetcher", nil},
		{"L1D and L2 prefetch", []string{"--set", "caches.L1D.prefetcher=next-line", "--set", "caches.L2.prefetcher=stride"}},
	} {
		args := append([]string{"sim", "--soc", "rpi5", din}, c.sets...)
		js, err := runEdgeprof(t, append(args, "--json")...)
		if err != nil {
			t.Fatal(err)
		}
		var r sim.Result
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		if r.Time.DecodeTokens != 0 || r.Time.MeanTokenNS != 0 {
			t.Fatalf("%s: din result has %d decode tokens, mean %v ns; the test expects none", c.name, r.Time.DecodeTokens, r.Time.MeanTokenNS)
		}
		table, err := runEdgeprof(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		rows := tableRows(table)
		pct := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return strconv.FormatFloat(100**v, 'f', 2, 64)
		}
		for i, l := range r.Levels {
			row := rows[1+i]
			if row[2] != l.Name {
				t.Fatalf("%s: table row %d is %v, want level %s", c.name, i, row, l.Name)
			}
			if got, want := row[10], pct(l.Prefetch.Coverage); got != want {
				t.Errorf("%s: %s coverage %% in the table = %s, JSON has %s", c.name, l.Name, got, want)
			}
			if got, want := row[9], pct(l.Prefetch.Accuracy); got != want {
				t.Errorf("%s: %s accuracy %% in the table = %s, JSON has %s", c.name, l.Name, got, want)
			}
		}
		summary := rows[len(r.Levels)+2] // after the level rows and the summary header
		if summary[3] != "-" || summary[4] != "-" {
			t.Errorf("%s: ms/token, tokens/s = %s, %s; want -, - (JSON mean_token_ns %v)", c.name, summary[3], summary[4], r.Time.MeanTokenNS)
		}

		out, err := runEdgeprof(t, append(args, "--csv")...)
		if err != nil {
			t.Fatal(err)
		}
		_, recs := readCSV(t, out)
		if len(recs) != len(r.Levels) {
			t.Fatalf("%s: CSV has %d rows, want %d", c.name, len(recs), len(r.Levels))
		}
		for i, l := range r.Levels {
			rec := recs[i]
			for _, k := range []string{"ttft_ns", "decode_dram_gbps", "energy_pj", "energy_pj_per_token", "miss_rate", "accuracy", "coverage"} {
				if strings.ContainsAny(rec[k], "eE") {
					t.Errorf("%s: %s %s = %q, want no exponent", c.name, l.Name, k, rec[k])
				}
			}
			if rec["token_ns"] != "" || rec["tokens_per_s"] != "" {
				t.Errorf("%s: token_ns, tokens_per_s = %q, %q; want empty as the JSON has no decode tokens", c.name, rec["token_ns"], rec["tokens_per_s"])
			}
			if got := rec["ttft_ns"]; got != strconv.FormatFloat(r.Time.TTFTNS, 'f', -1, 64) {
				t.Errorf("%s: ttft_ns = %s, JSON has %v", c.name, got, r.Time.TTFTNS)
			}
			same := func(key string, v *float64) {
				got := rec[key]
				if v == nil {
					if got != "" {
						t.Errorf("%s: %s %s = %q, JSON has null", c.name, l.Name, key, got)
					}
					return
				}
				if f, err := strconv.ParseFloat(got, 64); err != nil || f != *v {
					t.Errorf("%s: %s %s = %q, JSON has %v", c.name, l.Name, key, got, *v)
				}
			}
			same("miss_rate", l.MissRate)
			same("accuracy", l.Prefetch.Accuracy)
			same("lateness", l.Prefetch.Lateness)
			same("coverage", l.Prefetch.Coverage)
			// Pollution needs prefetch fills in the level to mean anything.
			if l.Prefetch.Issued == 0 && l.PrefetchRequests == 0 {
				if rec["pollution"] != "" {
					t.Errorf("%s: %s pollution = %q with no prefetch traffic, want empty", c.name, l.Name, rec["pollution"])
				}
			} else {
				same("pollution", l.Prefetch.Pollution)
			}
		}
		if c.sets != nil {
			l3 := r.Levels[2]
			if l3.Prefetch.Prefetcher != "none" || l3.Prefetch.Coverage == nil || recs[2]["coverage"] == "" {
				t.Errorf("%s: L3 (no prefetcher) coverage: JSON %v, CSV %q; want both present", c.name, l3.Prefetch.Coverage, recs[2]["coverage"])
			}
		}
	}
}

// TestSimMessages: user errors are one line, name what the user wrote
// once, and never a temporary file.
func TestSimMessages(t *testing.T) {
	dir := t.TempDir()
	badDin := filepath.Join(dir, "g.din")
	os.WriteFile(badDin, []byte("0 10\nzz 20\n"), 0o644)
	din := writeLoopDin(t, dir, 10)
	known := strings.Join(sim.Presets(), ", ")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--soc", "rpi5", badDin}, "din " + badDin + ":2: "},
		{[]string{"soc", "show", "rpi6"}, `SoC "rpi6" is neither a file nor a preset (known presets: ` + known + ")"},
		{[]string{"soc", "show", filepath.Join(dir, "my.yaml")}, filepath.Join(dir, "my.yaml") + ": no such file; want a SoC YAML file or a preset (" + known + ")"},
		{[]string{"soc", "show"}, "soc show: want one SoC, a preset (" + known + ") or a YAML file; got 0 arguments"},
		{[]string{"sim", "--soc", "rpi5", "--sweep", "dram=lpddr5-6400,lpddr9-1", din}, `rpi5: --sweep dram=lpddr9-1: dram: unknown standard "lpddr9"`},
		{[]string{"sim", "--soc", "rpi5", "--sweep", "cores.count=0,1", din}, "rpi5: --sweep cores.count=0: cores.count: 0, want 1..256"},
		{[]string{"sim", "--soc", "rpi5", "--warmup-tokens", "-5", din}, "sim: --warmup-tokens -5: want 0 or more tokens"},
		{[]string{"sim", "--soc", "rpi5", "--no-timing", "--ops", din}, "sim: --ops and --tokens break down the timing model's results; leave out --no-timing"},
		{[]string{"sim", "--soc", "rpi5", "--sweep", "cores.mshrs=2,4", din, "--shard", "0/2", "-o", filepath.Join(dir, "none", "p0.json")},
			"sim: --out: create " + filepath.Join(dir, "none", "p0.json") + ": no such file or directory"},
		{[]string{"sim", "--soc", "rpi5", "--sweep", "cores.mshrs=2,4", din, "--plot", filepath.Join(dir, "none", "p.png")},
			"sim: --plot: create " + filepath.Join(dir, "none", "p.png") + ": no such file or directory"},
		{[]string{"sim", "--soc", "rpi5", din, "--shard", "0/2", "-o", dir}, "sim: --out: " + dir + " is a folder, want a file name"},
	} {
		_, err := runEdgeprof(t, c.args...)
		if err == nil {
			t.Errorf("edgeprof %v succeeded, want error %q", c.args, c.want)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "\n") || strings.HasPrefix(msg, "sim: SoC") || strings.Contains(msg, ".tmp-") {
			t.Errorf("edgeprof %v: error = %q, want one line starting %q", c.args, msg, c.want)
		}
		if strings.Count(msg, badDin) > 1 {
			t.Errorf("edgeprof %v: error = %q names the file twice", c.args, msg)
		}
	}
}
