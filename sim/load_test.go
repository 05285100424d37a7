package sim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

// TestBadConfigs: every file in testdata/soc/bad is rejected with exactly
// the one-line error its first line announces ("# want: ...").
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "soc", "bad", "*.yaml"))
	if err != nil || len(files) < 30 {
		t.Fatalf("bad configs: %d files (%v), want at least 30", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(b, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("%s does not start with '# want: <error>'", f)
			}
			_, err = Parse(b, filepath.Base(f), nil)
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if err.Error() != want {
				t.Errorf("Parse error =\n  %s\nwant\n  %s", err, want)
			}
		})
	}
}

// TestPresets: every preset loads, cites a source with a confidence tag
// for every number, builds a hierarchy, and survives the YAML round trip
// unchanged (what `soc show` prints loads back as the same SoC).
func TestPresets(t *testing.T) {
	want := []string{"host", "orin-nano", "rk3588", "rpi4", "rpi5", "sd8gen3"}
	if got := Presets(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Presets() = %v, want %v", got, want)
	}
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name {
				t.Errorf("preset %s is named %q", name, s.Name)
			}
			need := func(src Sources, section string, keys ...string) {
				for _, k := range keys {
					if v, ok := src[k]; !ok || !hasConfidence(v) {
						t.Errorf("%s.source.%s = %q, want a citation ending in a confidence tag", section, k, v)
					}
				}
			}
			need(s.Cores.Source, "cores", "count", "clock_mhz", "simd_bits", "fma_units", "mshrs", "energy_pj_per_flop")
			need(s.IdealMemory.Source, "ideal_memory", "latency_ns")
			// The timing model's sections (issue 5): every preset is complete.
			if s.DRAM == nil || s.Flash == nil || s.WeightsBudget == 0 || s.PageCache == nil {
				t.Fatalf("preset %s lacks dram, flash, weights_budget or page_cache", name)
			}
			need(s.DRAM.Source, "dram", "grade", "channels", "fabric_latency_ns")
			need(s.PageCache.Source, "page_cache", "weights_budget", "policy", "readahead", "readahead_kb", "access", "fault_around_kb", "prefault_old", "preload")
			if !hasConfidence(s.Flash.Source) {
				t.Errorf("flash.source = %q, want a citation ending in a confidence tag", s.Flash.Source)
			}
			if s.DTLB != nil {
				need(s.DTLB.Source, "dtlb", "entries", "ways", "page")
			}
			for i, c := range s.Caches {
				keys := []string{"size", "ways", "line", "latency_cycles", "replacement"}
				if i > 0 {
					keys = append(keys, "inclusion")
				}
				if c.SharedBy > 1 {
					keys = append(keys, "shared_by")
				}
				need(c.Source, "caches["+c.Name+"]", keys...)
			}
			if _, err := s.HierarchyConfig(&idealMemory{}); err != nil {
				t.Fatal(err)
			}
			y, err := s.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(y, name+"-shown.yaml", nil)
			if err != nil {
				t.Fatalf("Parse(YAML()) error %v\n%s", err, y)
			}
			if !reflect.DeepEqual(s, back) {
				t.Errorf("round trip changed the SoC:\n%+v\n%+v", s, back)
			}
			y2, _ := back.YAML()
			if !bytes.Equal(y, y2) {
				t.Errorf("YAML not stable across a round trip:\n%s\n---\n%s", y, y2)
			}
		})
	}
	if _, err := Load("rpi9", nil); err == nil || !strings.Contains(err.Error(), "rpi4, rpi5") {
		t.Errorf("Load(rpi9) error = %v, want one listing the presets", err)
	}
}

// TestGoodConfigs: the files in testdata/soc/good load, defaults are
// filled in, and explicit values are kept.
func TestGoodConfigs(t *testing.T) {
	s, err := Load(filepath.Join("..", "testdata", "soc", "good", "issue-example.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cores.Count != 1 || s.Cores.ClockMHz != 1000 || s.IdealMemory.LatencyNS != 100 || s.Caches[1].Write != "write-back" || !*s.Caches[1].WriteAllocate || s.Caches[1].SharedBy != 1 || s.Caches[0].Prefetcher.Name != "none" {
		t.Errorf("defaults not filled in: %+v", s)
	}
	s, err = Load(filepath.Join("..", "testdata", "soc", "good", "everything.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l1 := s.Caches[0]
	if l1.Prefetcher != (Prefetcher{Name: "stride", Degree: 4, Distance: 2, Table: 32}) || l1.Write != "write-through" || *l1.WriteAllocate || s.DTLB.Page != 16<<10 || s.Seed != 42 {
		t.Errorf("explicit values lost: %+v", s)
	}
	if got := s.Caches[1].Prefetcher; got != (Prefetcher{Name: "next-line", Degree: 1}) {
		t.Errorf("next-line prefetcher resolved to %+v, want degree 1 filled in", got)
	}
	if ws := s.Caches[1].WriteStreaming; ws == nil || ws.AfterLines != 16 || s.Caches[0].WriteStreaming != nil {
		t.Errorf("write_streaming = %+v (L2), %+v (L1D), want {16} and absent", ws, s.Caches[0].WriteStreaming)
	}
	hc, err := s.CacheConfigs()
	if err != nil || hc[1].WriteStreaming.AfterLines != 16 || hc[0].WriteStreaming.AfterLines != 0 {
		t.Errorf("CacheConfigs write streaming = %+v, %+v (%v), want 16 on L2 only", hc[1].WriteStreaming, hc[0].WriteStreaming, err)
	}
}

// TestSet: --set overrides on presets and files.
func TestSet(t *testing.T) {
	s, err := Load("rpi5", []string{"caches.L2.size=1MiB", "caches.0.ways=8", "cores.count=2", "caches.L1D.prefetcher=stride", "caches.L1D.prefetcher.degree=4", "dtlb.page=16KiB", "seed=9", "caches.L1D.write_streaming.after_lines=8"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Caches[1].Size != 1<<20 || s.Caches[0].Ways != 8 || s.Cores.Count != 2 || s.Caches[0].Prefetcher.Name != "stride" || s.Caches[0].Prefetcher.Degree != 4 || s.DTLB.Page != 16<<10 || s.Seed != 9 || s.Caches[0].WriteStreaming.AfterLines != 8 {
		t.Errorf("overrides not applied: %+v", s)
	}
	s, err = Load(filepath.Join("..", "testdata", "soc", "good", "issue-example.yaml"), []string{"ideal_memory.latency_ns=80", "cores.clock_mhz=2400"})
	if err != nil {
		t.Fatal(err)
	}
	if s.IdealMemory.LatencyNS != 80 || s.CyclePS() != 417 {
		t.Errorf("new sections: latency %d ns, cycle %d ps; want 80, 417", s.IdealMemory.LatencyNS, s.CyclePS())
	}
	bad := []struct{ set, want string }{
		{"caches.L2.sise=1MiB", `rpi5: --set caches.L2.sise=1MiB: caches[L2].sise: unknown key "sise"`},
		{"caches.L9.size=1MiB", `rpi5: --set caches.L9.size=1MiB: caches has no entry named "L9"`},
		{"caches.L2.size=big", `rpi5: --set caches.L2.size=big: caches[L2].size: size "big"`},
		{"caches.L2.ways=7", `rpi5:51: caches[L2].size: 524288 bytes is not a multiple of line*ways = 448 (after --set caches.L2.ways=7)`},
		{"caches.L2.size", `rpi5: --set caches.L2.size: want path=value`},
		{"cores..count=1", `rpi5: --set cores..count=1: empty path segment`},
		{"name.first=x", `rpi5: --set name.first=x: name: want a scalar, got a mapping`},
	}
	for _, b := range bad {
		_, err := Load("rpi5", []string{b.set})
		if err == nil || !strings.HasPrefix(err.Error(), b.want) {
			t.Errorf("Load(rpi5, --set %s) error = %v, want prefix %q", b.set, err, b.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Size
		ok   bool
	}{
		{"64", 64, true}, {"64KiB", 64 << 10, true}, {"2MiB", 2 << 20, true}, {"1GiB", 1 << 30, true},
		{"512B", 512, true}, {" 3 MiB ", 3 << 20, true}, {"64KB", 0, false}, {"-1", 0, false},
		{"1.5MiB", 0, false}, {"", 0, false}, {"99999999999GiB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		s    Size
		want string
	}{{64, "64"}, {1024, "1KiB"}, {3 << 20, "3MiB"}, {1536, "1536"}, {4 << 30, "4GiB"}} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tc.s), got, tc.want)
		}
	}
}

// FuzzParse: no input makes the loader panic or accept a SoC that cannot
// be built, and every accepted SoC round-trips.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "soc", "*", "*.yaml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	for _, name := range Presets() {
		b, _ := PresetYAML(name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b, "fuzz.yaml", nil)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if _, err := s.HierarchyConfig(&idealMemory{}); err != nil {
			t.Fatalf("accepted SoC does not build: %v", err)
		}
		if s.Timed() {
			if _, _, err := newTiming(s, &trace.Header{ModelSize: 1 << 20}, nil); err != nil {
				t.Fatalf("accepted SoC does not build its timing model: %v", err)
			}
		}
		y, err := s.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(y, "again.yaml", nil)
		if err != nil {
			t.Fatalf("accepted SoC does not round-trip: %v\n%s", err, y)
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("round trip changed the SoC:\n%s", y)
		}
	})
}

// TestShorthandSections: "dram: GRADE" and "flash: DEVICE" in a file mean
// what --set dram=GRADE and --set flash=DEVICE mean on the same file
// without those sections.
func TestShorthandSections(t *testing.T) {
	const base = "name: t\ncaches:\n  - {name: L1D, size: 32KiB, ways: 4, line: 64}\n"
	for _, c := range []struct{ yaml, set string }{
		{"dram: lpddr5-6400\n", "dram=lpddr5-6400"},
		{"dram: ddr4-3200\nflash: ufs-4.0\n", "flash=ufs-4.0"},
	} {
		short, err := Parse([]byte(base+c.yaml), "short.yaml", nil)
		if err != nil {
			t.Fatalf("Parse(%q) error %v", c.yaml, err)
		}
		sets := []string{"dram=lpddr5-6400"}
		if c.set != sets[0] {
			sets = []string{"dram=ddr4-3200", c.set}
		}
		long, err := Parse([]byte(base), "long.yaml", sets)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(short, long) {
			t.Errorf("Parse(%q) = %+v, want the same as --set %v: %+v", c.yaml, short, sets, long)
		}
	}
	s, err := Parse([]byte(base+"dram: lpddr5-6400\n"), "d.yaml", []string{"dram.fabric_latency_ns=55"})
	if err != nil || s.DRAM.Grade != "lpddr5-6400" || s.DRAM.FabricLatencyNS != 55 {
		t.Errorf("--set dram.fabric_latency_ns=55 on dram: lpddr5-6400 = %+v, %v; want grade kept, 55 ns", s.DRAM, err)
	}
}

// TestExplicitValues: a default fills in a key left out, never an
// explicit value; an explicit 0 that is in range stays 0.
func TestExplicitValues(t *testing.T) {
	const base = "name: t\ncaches:\n  - {name: L1D, size: 32KiB, ways: 4, line: 64%s}\n%s"
	for _, c := range []struct {
		level, top string
		got        func(*SoC) float64
		want       float64
	}{
		{"", "", func(s *SoC) float64 { return float64(s.IdealMemory.LatencyNS) }, defaultLatencyNS},
		{"", "ideal_memory: {latency_ns: 0}\n", func(s *SoC) float64 { return float64(s.IdealMemory.LatencyNS) }, 0},
		{"", "", func(s *SoC) float64 { return s.Cores.EnergyPJPerFLOP }, defaultPJPerFLOP},
		{"", "cores: {energy_pj_per_flop: 0}\n", func(s *SoC) float64 { return s.Cores.EnergyPJPerFLOP }, 0},
		{"", "", func(s *SoC) float64 { return s.Caches[0].EnergyPJPerAccess }, sramPJPerLine(32<<10, 64)},
		{", energy_pj_per_access: 0", "", func(s *SoC) float64 { return s.Caches[0].EnergyPJPerAccess }, 0},
		{"", "", func(s *SoC) float64 { return float64(s.Cores.Count) }, 1},
		{", prefetcher: stride", "", func(s *SoC) float64 { return float64(s.Caches[0].Prefetcher.Degree) }, 2},
	} {
		doc := fmt.Sprintf(base, c.level, c.top)
		s, err := Parse([]byte(doc), "x.yaml", nil)
		if err != nil {
			t.Errorf("Parse(%q) error %v", doc, err)
			continue
		}
		if got := c.got(s); got != c.want {
			t.Errorf("Parse(%q): value = %g, want %g", doc, got, c.want)
		}
	}
}

// TestLoadErrors: a missing SoC, and overrides from --set and --sweep,
// are named as the user wrote them.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	known := strings.Join(Presets(), ", ")
	for _, c := range []struct {
		name  string
		sets  []string
		point []SweepValue
		want  string
	}{
		{"rpi6", nil, nil, `SoC "rpi6" is neither a file nor a preset (known presets: ` + known + ")"},
		{filepath.Join(dir, "my.yaml"), nil, nil, filepath.Join(dir, "my.yaml") + ": no such file; want a SoC YAML file or a preset (" + known + ")"},
		{"soc.yml", nil, nil, "soc.yml: no such file; want a SoC YAML file or a preset (" + known + ")"},
		{dir, nil, nil, dir + ": not a regular file; want a SoC YAML file or a preset (" + known + ")"},
		{"rpi5", []string{"cores.count=0"}, nil, "rpi5: --set cores.count=0: cores.count: 0, want 1..256"},
		{"rpi5", nil, []SweepValue{{"cores.count", "0"}}, "rpi5: --sweep cores.count=0: cores.count: 0, want 1..256"},
		{"rpi5", []string{"cores.mshrs=4"}, []SweepValue{{"dram", "lpddr9-1"}}, `rpi5: --sweep dram=lpddr9-1: dram: unknown standard "lpddr9" (known: ddr4, lpddr4, lpddr4x, lpddr5, lpddr5x)`},
		{"rpi5", nil, []SweepValue{{"caches.L9.size", "1MiB"}}, `rpi5: --sweep caches.L9.size=1MiB: caches has no entry named "L9"`},
		{"rpi5", nil, []SweepValue{{"caches.L1D.prefetcher.degree", "0"}}, `rpi5: --sweep caches.L1D.prefetcher.degree=0: caches[L1D].prefetcher.degree: 0, but prefetcher none takes no degree`},
		{"rpi5", []string{"caches.L1D.prefetcher=stride"}, []SweepValue{{"caches.L1D.prefetcher.degree", "0"}}, `rpi5: --sweep caches.L1D.prefetcher.degree=0: caches[L1D].prefetcher.degree: 0, want > 0 (leave the key out for the default, 2)`},
		{"rpi5", []string{"caches.L1D.ways=4.9"}, nil, `rpi5: --set caches.L1D.ways=4.9: caches[L1D].ways: want an integer, got "4.9"`},
		{"rpi5", []string{"weights_budget=1"}, nil, "rpi5: --set weights_budget=1: weights_budget: 1 bytes, want at least one page (4096)"},
		{"rpi5", []string{"caches.L1D.line=1GiB"}, nil, "rpi5: --set caches.L1D.line=1GiB: caches[L1D].line: 1073741824, want a power of two between 16 and 65536 bytes"},
		{"rpi5", []string{"dram.org.channels=0"}, nil, "rpi5: --set dram.org.channels=0: dram.org.channels: 0, want 1 or more (leave the key out for the standard's default)"},
		{"rpi5", []string{"seed=-2.0"}, nil, `rpi5: --set seed=-2.0: seed: want a non-negative integer, got "-2.0"`},
		{"rpi5", []string{"seed=-1"}, nil, `rpi5: --set seed=-1: seed: want a non-negative integer, got "-1"`},
		{"rpi5", nil, []SweepValue{{"caches.L2.ways", "7"}}, `rpi5:51: caches[L2].size: 524288 bytes is not a multiple of line*ways = 448 (after --sweep caches.L2.ways=7)`},
	} {
		_, err := LoadPoint(c.name, c.sets, c.point)
		if err == nil || err.Error() != c.want {
			t.Errorf("LoadPoint(%s, %v, %v) error = %v, want %s", c.name, c.sets, c.point, err, c.want)
		}
	}
	s, err := LoadPoint("rpi5", []string{"cores.count=2"}, []SweepValue{{"cores.count", "3"}, {"dram", "lpddr5-6400"}})
	if err != nil || s.Cores.Count != 3 || s.DRAM.Grade != "lpddr5-6400" {
		t.Errorf("LoadPoint(rpi5, count 2, sweep count 3) = %+v, %v; want the sweep's 3 cores and lpddr5-6400", s.Cores, err)
	}
}

// TestGivenYAML: the given form of every preset loads to the same SoC as
// the preset, and a value edited in it re-derives what depends on it (a
// cache's energy per access from its size), as --set does.
func TestGivenYAML(t *testing.T) {
	for _, p := range Presets() {
		b, err := GivenYAML(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := Load(p, nil)
		g, err := Parse(b, p, nil)
		if err != nil {
			t.Fatalf("%s: the given form does not load: %v", p, err)
		}
		ya, _ := a.YAML()
		yg, _ := g.YAML()
		if string(ya) != string(yg) {
			t.Errorf("%s: the given form loads to another SoC", p)
		}
	}
	b, err := GivenYAML("rpi5", []string{"caches.L2.size=4MiB"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(b, "edited", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Load("rpi5", []string{"caches.L2.size=4MiB"})
	orig, _ := Load("rpi5", nil)
	if e := g.Caches[1].EnergyPJPerAccess; e != s.Caches[1].EnergyPJPerAccess || e == orig.Caches[1].EnergyPJPerAccess {
		t.Errorf("L2 energy per access: given form with 4 MiB %v, --set %v, preset %v; want the --set value", e, s.Caches[1].EnergyPJPerAccess, orig.Caches[1].EnergyPJPerAccess)
	}
	if _, err := GivenYAML("rpi5", []string{"caches.L2.ways=7"}); err == nil {
		t.Error("GivenYAML of an invalid SoC succeeded")
	}
}
