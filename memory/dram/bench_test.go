package dram

import (
	"math/rand/v2"
	"testing"
)

// benchDRAM measures simulated requests per second for a preset-like
// LPDDR4X-4267 system of two x16 channels (a 32-bit SoC interface).
func benchDRAM(b *testing.B, gen func(i int) (uint64, bool)) {
	d, err := New(Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a, w := gen(i)
		if _, err := d.Submit(Request{Addr: a, Size: 64, Write: w}); err != nil {
			b.Fatal(err)
		}
	}
	d.Drain()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	s := d.Stats()
	b.ReportMetric(s.BandwidthGBps, "sim_GB/s")
}

func BenchmarkDRAMStream(b *testing.B) {
	benchDRAM(b, func(i int) (uint64, bool) { return uint64(i) * 64, false })
}

func BenchmarkDRAMRandom(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	benchDRAM(b, func(int) (uint64, bool) { return r.Uint64() & (1<<32 - 1), r.Uint64()%4 == 0 })
}

func BenchmarkDRAMsim3Random(b *testing.B) {
	d := dramsim3LPDDR4(b, 2)
	gen := dramsim3Random(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a, w := gen(i)
		d.Submit(Request{Addr: a, Size: 64, Write: w})
	}
	d.Drain()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
