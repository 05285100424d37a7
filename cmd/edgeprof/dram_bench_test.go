package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/sim"
)

// BenchmarkDRAMOnLLMTraffic measures the DRAM model on the traffic it
// exists for, on one core (Submit one request at a time, then Drain):
// every DRAM request of 5 prompt and 4 generated tokens of a synthetic
// stories15M-shape Q8_0 model run through rpi5's caches (edgeprof sim
// --dram-trace; 1.41 M requests, about 70 % reads, mostly weights
// streaming through), replayed open-loop on rpi5's LPDDR4X-4267.
func BenchmarkDRAMOnLLMTraffic(b *testing.B) {
	dir := b.TempDir()
	model, etr, dtr := filepath.Join(dir, "s15.gguf"), filepath.Join(dir, "s15.etr"), filepath.Join(dir, "s15.dram")
	for _, args := range [][]string{
		{"model", "synth", "--shape", "stories15M", "--type", "q8_0", "-o", model},
		{"trace", "record", "--model", model, "--prompt", "Once upon a time", "-n", "4", "-t", "2", "-o", etr},
		{"sim", "--soc", "rpi5", "--dram-trace", dtr, etr},
	} {
		if out, err := runEdgeprof(b, args...); err != nil {
			b.Fatalf("edgeprof %v: %v\n%s", args, err, out)
		}
	}
	soc, err := sim.Load("rpi5", nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := soc.DRAM.Config
	d, err := dram.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(dtr)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tr := dram.NewTraceReader(f, dtr, d.ClockPS(), 64)
	var rs []dram.Request
	buf := make([]dram.Request, 1<<16)
	for {
		n, err := tr.Read(buf)
		rs = append(rs, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s dram.Stats
	for range b.N {
		d, _ := dram.New(cfg)
		for _, q := range rs {
			if _, err := d.Submit(q); err != nil {
				b.Fatal(err)
			}
		}
		d.Drain()
		s = d.Stats()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(rs))*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(s.RowHits)/float64(s.Reads+s.Writes), "row_hit_ratio")
}
