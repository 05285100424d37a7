package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/edgeprof/edgeprof/internal/goldentest"
	"github.com/edgeprof/edgeprof/internal/sharedtest"
	"github.com/edgeprof/edgeprof/sim"
)

var updateArchGolden = flag.Bool("update-arch-golden", false, "rewrite testdata/arch_golden.txt")

// TestResultsSameOnEveryArchitecture records a stories260K trace (2
// threads) and replays it with the timing model on every preset; the
// trace and each preset's JSON result (less provenance and file names)
// must hash to testdata/arch_golden.txt. The digests come from amd64;
// .ci/run runs this test under qemu-aarch64 as well, where Go may fuse
// a floating-point multiply and add into one FMA: a digest that differs
// there is a result that depends on the machine it was computed on.
// After an intended change of the engine's trace or of the models,
// regenerate on amd64 with -update-arch-golden.
func TestResultsSameOnEveryArchitecture(t *testing.T) {
	model := sharedtest.Model(t, "stories260K.gguf")
	p := filepath.Join(t.TempDir(), "s.etr")
	if _, err := runEdgeprof(t, "trace", "record", "--model", model, "--prompt", "Once upon a time",
		"-n", "8", "-t", "2", "-o", p); err != nil {
		t.Fatal(err)
	}
	events, err := runEdgeprof(t, "trace", "cat", "--json", p)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{"trace " + digestOf([]byte(events))}
	for _, name := range sim.Presets() {
		out, err := runEdgeprof(t, "sim", "--soc", name, "--json", p)
		if err != nil {
			t.Fatalf("sim --soc %s: %v", name, err)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("sim --soc %s: %v", name, err)
		}
		delete(res, "provenance")
		delete(res, "trace")
		b, err := json.Marshal(res) // map keys sorted: a stable encoding
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+digestOf(b))
	}

	goldentest.Check(t, filepath.Join("testdata", "arch_golden.txt"), got, *updateArchGolden)
}

func digestOf(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b))[:16] }
