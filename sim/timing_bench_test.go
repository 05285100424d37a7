package sim

import (
	"context"
	"testing"

	"github.com/edgeprof/edgeprof/trace"
)

// benchTimed replays ev on a preset with the timing model and reports
// events/s, line requests below the last level per second (DRAM
// requests, write-backs and page-cache fills included) and simulated
// tokens per second of wall time.
func benchTimed(b *testing.B, preset string, ev []trace.Event, hdr trace.Header, sets ...string) {
	soc, err := Load(preset, sets)
	if err != nil {
		b.Fatal(err)
	}
	tokens := map[uint32]bool{}
	for _, e := range ev {
		tokens[e.Token] = true
	}
	b.ReportAllocs()
	b.ResetTimer()
	var reqs uint64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), Trace{Name: "bench", Format: trace.FormatETR, Source: &sliceSource{ev: ev, hdr: hdr}}, []*SoC{soc}, Options{NoCoverage: true})
		if err != nil {
			b.Fatal(err)
		}
		reqs += res[0].DRAM.Reads + res[0].DRAM.Writes
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(ev))*float64(b.N)/s, "events/s")
	b.ReportMetric(float64(reqs)/s, "dram_requests/s")
	b.ReportMetric(float64(len(tokens))*float64(b.N)/s, "tokens/s")
}

// BenchmarkTimedEngineLike: the engine-shaped decode trace of
// bench_test.go (about 6 MiB of weights per token, four threads) on the
// rpi4 preset with the whole timing model: hierarchy, MSHR scheduler,
// DRAM, all weights resident.
func BenchmarkTimedEngineLike(b *testing.B) {
	benchTimed(b, "rpi4", engineLike(4), trace.Header{})
}

// BenchmarkTimedFlash: the same trace with its weights behind a page
// cache far smaller than them, so every token faults its weights in from
// flash (page-cache and flash model, DMA writes).
func BenchmarkTimedFlash(b *testing.B) {
	ev := engineLike(4)
	var size uint64
	for _, e := range ev {
		if trace.RegionOf(e.Addr) == trace.RegionModelFile {
			size = max(size, e.End())
		}
	}
	benchTimed(b, "rpi4", ev, trace.Header{ModelSize: size}, "weights_budget=1MiB", "flash=ufs-4.0", "page_cache.preload=false")
}

// BenchmarkTimedStream: STREAM copy, one line per event, one core.
func BenchmarkTimedStream(b *testing.B) {
	benchTimed(b, "rpi4", copyPattern(1<<16, 1, 160_000_000), trace.Header{})
}
