package synth

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// BenchmarkWrite generates the synth-kq model (7.4 MB as F32) into
// io.Discard: generation throughput, without disk or hashing.
func BenchmarkWrite(b *testing.B) {
	for _, typ := range []gguf.Type{gguf.F32, gguf.F16, gguf.Q8_0, gguf.Q4_0} {
		b.Run(typ.String(), func(b *testing.B) {
			g := mustNew(b, "synth-kq", typ)
			b.ReportAllocs()
			b.SetBytes(g.Size())
			for b.Loop() {
				if _, err := g.Write(context.Background(), io.Discard, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(g.Params())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
		})
	}
}

// TestStreamingMemory writes the first 128 MB of a llama-2-7b F32 file (27
// GB in all) and checks that the heap stays small: memory must not grow
// with the model.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 128 MB; skipped with -short")
	}
	g := mustNew(t, "llama-2-7b", gguf.F32)
	if g.Size() < 26e9 {
		t.Fatalf("llama-2-7b F32 size %d, want about 27 GB", g.Size())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	var calls int
	_, err := g.Write(ctx, io.Discard, func(done, total int64) {
		if calls++; calls%64 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if done > 128<<20 {
			cancel()
		}
	})
	if err != context.Canceled {
		t.Fatalf("Write: %v, want context.Canceled", err)
	}
	if peak == 0 || peak > 32<<20 {
		t.Errorf("peak heap while streaming = %d bytes, want under 32 MiB", peak)
	}
	t.Logf("peak heap %.1f MiB", float64(peak)/(1<<20))
}
