package dram

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The config is meant to sit inside an SoC YAML file; its keys are
// snake_case with units.
func TestYAMLKeys(t *testing.T) {
	src := `
grade: lpddr4x-4267
org: {channels: 2, rows: 131072}
timing: {trcd_ps: 20000}
power: {io_pj_per_bit: 2.5}
controller: {page_policy: closed, mapping: RoRaBaCoCh, refresh: per-bank, power_down_after_ps: 100000}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	d, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := d.Config()
	if r.Standard != "lpddr4x" || r.DataRate != 4267 || r.Org.Channels != 2 || r.Org.Rows != 131072 ||
		r.Timing.RCD != 20000 || r.Power.IOPJPerBit != 2.5 || r.Controller.PagePolicy != "closed" ||
		r.Controller.Refresh != "per-bank" || r.Controller.PowerDownAfter != 100000 {
		t.Errorf("decoded config %+v does not match the YAML", r)
	}
	// 16 Gb per channel: tRFCab 380 ns (JESD209-4).
	if got, want := r.Timing.RFC, int64(811*469); got != want {
		t.Errorf("tRFC for 16 Gb = %d ps, want %d", got, want)
	}
	out, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Timing != r.Timing || back.Org != r.Org || back.Controller != r.Controller {
		t.Errorf("YAML round trip changed the config:\n%s", out)
	}
}
