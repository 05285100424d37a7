package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgeprof/edgeprof/sim"
	"github.com/edgeprof/edgeprof/trace"
)

// runEdgeprof runs the root command with args and returns stdout and the
// error.
func runEdgeprof(t testing.TB, args ...string) (string, error) {
	t.Helper()
	// Flags keep their values between Execute calls on one command tree;
	// start every run from the defaults.
	var reset func(c *cobra.Command)
	reset = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				sv.Replace(nil)
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
		for _, sub := range c.Commands() {
			reset(sub)
		}
	}
	reset(rootCmd)
	var out, errb bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errb)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

// TestSocShowRoundTrip: what `soc show` prints, saved to a file, shows
// the same again and loads as the same SoC.
func TestSocShowRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range sim.Presets() {
		y, err := runEdgeprof(t, "soc", "show", name, "--set", "caches.L1D.prefetcher=stride")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := runEdgeprof(t, "soc", "show", p)
		if err != nil {
			t.Fatalf("soc show %s (edited copy of %s): %v", p, name, err)
		}
		if again != y {
			t.Errorf("soc show of the shown %s differs:\n%s\n---\n%s", name, y, again)
		}
	}
	out, err := runEdgeprof(t, "soc", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []socListJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != len(sim.Presets()) {
		t.Fatalf("soc list --json = %d entries (%v), want %d", len(list), err, len(sim.Presets()))
	}
}

// TestSimCommand runs `sim` on an .etr and a din trace with two SoCs.
func TestSimCommand(t *testing.T) {
	dir := t.TempDir()
	etr := filepath.Join(dir, "t.etr")
	w, err := trace.Create(etr, trace.Header{EdgeprofVersion: "test", ModelName: "m", ModelSHA256: strings.Repeat("ab", 32)}, trace.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	din := filepath.Join(dir, "t.din")
	var text strings.Builder
	for tok := uint32(0); tok < 3; tok++ {
		for i := uint64(0); i < 1000; i++ {
			e := trace.Event{Token: tok, Addr: i * 64, Size: 64, Op: trace.OpFFNUp, Tensor: trace.NoTensor}
			w.Emit(e)
			if tok == 0 {
				text.WriteString("0 " + strconv.FormatUint(e.Addr, 16) + " 8\n")
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(din, []byte(text.String()), 0o644)

	out, err := runEdgeprof(t, "sim", "--soc", "rpi5", "--soc", "rpi4", "--set", "caches.L1D.prefetcher=next-line", etr, din, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res []sim.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 4 {
		t.Fatalf("sim --json: %d results (%v), want 4 (2 traces x 2 SoCs)", len(res), err)
	}
	if res[0].SoC != "rpi5" || res[1].SoC != "rpi4" || res[0].Trace != etr || res[2].Trace != din {
		t.Errorf("result order: %s/%s %s/%s, want rpi5, rpi4 on the .etr first", res[0].SoC, res[0].Trace, res[1].SoC, res[1].Trace)
	}
	// .etr: token 0 is warm-up; tokens 1 and 2 read 1000 lines each.
	if r := res[0]; r.Provenance.WarmupTokens != 1 || r.Levels[0].Accesses != 2000 || r.Provenance.ModelSHA256 != strings.Repeat("ab", 32) || r.Provenance.EdgeprofVersion != version || r.Levels[0].Prefetch.BaselineMisses == nil {
		t.Errorf(".etr result: warm-up %d, L1D accesses %d, model %q, version %q, baseline %v", r.Provenance.WarmupTokens, r.Levels[0].Accesses, r.Provenance.ModelSHA256, r.Provenance.EdgeprofVersion, r.Levels[0].Prefetch.BaselineMisses)
	}
	if r := res[2]; r.Provenance.WarmupTokens != 0 || r.Levels[0].Accesses != 1000 {
		t.Errorf("din result: warm-up %d, L1D accesses %d; want 0, 1000", r.Provenance.WarmupTokens, r.Levels[0].Accesses)
	}
	out, err = runEdgeprof(t, "sim", "--soc", "rpi5", din, "--csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "soc,trace,level,") || !strings.HasPrefix(lines[1], "rpi5,"+din+",L1D,4,1000,") {
		t.Errorf("sim --csv =\n%s", out)
	}
	for _, bad := range [][]string{
		{"sim", din},
		{"sim", "--soc", "nope", din},
		{"sim", "--soc", "rpi5", "--warmup-tokens", "2", din},
		{"sim", "--soc", "rpi5", "--straddle", "bytes", din},
		{"sim", "--soc", "rpi5", filepath.Join(dir, "missing.etr")},
	} {
		if _, err := runEdgeprof(t, bad...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("edgeprof %v: error %v, want a one-line error", bad, err)
		}
	}
}
