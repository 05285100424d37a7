package dram

import (
	"math/rand/v2"
	"testing"
)

// benchRequests is the length of the request slices the benchmarks
// replay (cycling when b.N is larger): generated before the timer starts,
// so that the figure is the model's speed, as the cache simulator's
// benchmarks replay an in-memory slice, and not partly the generator's.
const benchRequests = 1 << 20

// requests generates n requests by gen.
func requests(n int, gen func(i int) (uint64, bool)) []Request {
	rs := make([]Request, n)
	for i := range rs {
		a, w := gen(i)
		rs[i] = Request{Addr: a, Size: 64, Write: w}
	}
	return rs
}

// replay submits b.N requests of rs to d and drains it, reporting
// requests per second.
func replay(b *testing.B, d *DRAM, rs []Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := d.Submit(rs[i&(len(rs)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	d.Drain()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// benchDRAM measures simulated requests per second for a preset-like
// LPDDR4X-4267 system of two x16 channels (a 32-bit SoC interface).
func benchDRAM(b *testing.B, gen func(i int) (uint64, bool)) {
	d, err := New(Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}})
	if err != nil {
		b.Fatal(err)
	}
	replay(b, d, requests(benchRequests, gen))
	b.ReportMetric(d.Stats().BandwidthGBps, "sim_GB/s")
}

// replayAll submits b.N requests of rs through SubmitAll, in slices of
// rs, and drains, reporting requests per second: replay's work, with
// the channels simulated at once.
func replayAll(b *testing.B, d *DRAM, rs []Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for left := b.N; left > 0; left -= len(rs) {
		if err := d.SubmitAll(rs[:min(left, len(rs))]); err != nil {
			b.Fatal(err)
		}
	}
	d.Drain()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// benchReplay is benchDRAM through SubmitAll: the same requests and
// results (sim_GB/s equal), the two channels simulated at once.
func benchReplay(b *testing.B, gen func(i int) (uint64, bool)) {
	d, err := New(Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}})
	if err != nil {
		b.Fatal(err)
	}
	replayAll(b, d, requests(benchRequests, gen))
	b.ReportMetric(d.Stats().BandwidthGBps, "sim_GB/s")
}

func BenchmarkDRAMReplayStream(b *testing.B) {
	benchReplay(b, func(i int) (uint64, bool) { return uint64(i) * 64, false })
}

func BenchmarkDRAMReplayRandom(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	benchReplay(b, func(int) (uint64, bool) { return r.Uint64() & (1<<32 - 1), r.Uint64()%4 == 0 })
}

func BenchmarkDRAMStream(b *testing.B) {
	benchDRAM(b, func(i int) (uint64, bool) { return uint64(i) * 64, false })
}

func BenchmarkDRAMRandom(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	benchDRAM(b, func(int) (uint64, bool) { return r.Uint64() & (1<<32 - 1), r.Uint64()%4 == 0 })
}

func BenchmarkDRAMsim3Random(b *testing.B) {
	replay(b, dramsim3LPDDR4(b, 2), requests(benchRequests, dramsim3Random(1)))
}
