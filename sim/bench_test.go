package sim

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprof/edgeprof/trace"
)

// engineLike returns events shaped like an engine's decode trace: per
// token and layer, ffn_gate/ffn_up rows of 1088 bytes (a Q8_0 row of
// 1024 weights), ffn_down rows, attention rows, a KV-cache write and
// reads, and activation reads: about 6 MiB of weights per token, far
// more than the caches, so most line references miss every level.
func engineLike(tokens int) []trace.Event {
	const row, rows, layers = 1088, 1024, 2
	var ev []trace.Event
	for tok := 0; tok < tokens; tok++ {
		addr := uint64(0)
		for l := 0; l < layers; l++ {
			for _, op := range []trace.Op{trace.OpAttnQ, trace.OpFFNGate, trace.OpFFNUp} {
				for r := 0; r < rows; r++ {
					ev = append(ev, trace.Event{Addr: addr, Size: row, Token: uint32(tok), Op: op, Layer: int16(l), Thread: uint8(r % 4), Phase: trace.Decode})
					addr += row
					if r%64 == 0 {
						ev = append(ev, trace.Event{Addr: trace.RegionActivation + uint64(r/64)*4096, Size: 4096, Token: uint32(tok), Op: trace.OpActivation, Layer: int16(l), Phase: trace.Decode})
					}
				}
			}
			ev = append(ev, trace.Event{Addr: trace.RegionKV + uint64(l)<<20 + uint64(tok)*256, Size: 256, Token: uint32(tok), Op: trace.OpKVWrite, Kind: trace.Write, Layer: int16(l), Phase: trace.Decode})
			for t := 0; t <= tok; t++ {
				ev = append(ev, trace.Event{Addr: trace.RegionKV + uint64(l)<<20 + uint64(t)*256, Size: 256, Token: uint32(tok), Op: trace.OpKVRead, Layer: int16(l), Phase: trace.Decode})
			}
		}
	}
	return ev
}

// records returns one 8-byte reference per event (Dinero's unit): a
// sequential walk over 4 MiB, 3 in 4 references of which hit the line of
// the previous one, mixed with random reads in a 16 KiB buffer.
func records(n int) []trace.Event {
	ev := make([]trace.Event, n)
	x := uint64(7)
	for i := range ev {
		x = x*6364136223846793005 + 1442695040888963407
		if i%4 == 3 {
			ev[i] = trace.Event{Addr: trace.RegionActivation + (x>>40)%(16<<10)&^7, Size: 8}
		} else {
			ev[i] = trace.Event{Addr: uint64(i*8) % (4 << 20), Size: 8}
		}
	}
	return ev
}

func writeETR(b *testing.B, ev []trace.Event) string {
	p := filepath.Join(b.TempDir(), "bench.etr")
	w, err := trace.Create(p, trace.Header{EdgeprofVersion: "bench", ModelName: "bench"}, trace.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ev {
		e.Tensor = trace.NoTensor
		w.Emit(e)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRun replays a trace on an L1+L2 LRU SoC (the example) and
// reports simulated line references (L1 accesses) per second of wall
// time and of CPU time (the build machine is shared; CPU time is what
// other processes disturb least).
func benchRun(b *testing.B, open func() Trace) {
	soc, err := Parse([]byte(`name: l1l2
caches:
  - {name: L1D, size: 64KiB, ways: 4, line: 64, replacement: lru}
  - {name: L2, size: 512KiB, ways: 8, line: 64, replacement: lru}
`), "bench.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var lines uint64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		tr := open()
		c0 := cpuTime()
		res, err := Run(context.Background(), tr, []*SoC{soc}, Options{WarmupTokens: 0})
		cpu += cpuTime() - c0
		tr.Source.Close()
		if err != nil {
			b.Fatal(err)
		}
		lines += res[0].Levels[0].Accesses
		if i == 0 {
			b.ReportMetric(*res[0].Levels[0].MissRate, "L1-miss-rate")
			b.ReportMetric(*res[0].Levels[1].MissRate, "L2-miss-rate")
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds()/1e6, "Mlines/s")
	if cpu > 0 {
		b.ReportMetric(float64(lines)/cpu.Seconds()/1e6, "Mlines/cpu-s")
	}
}

func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		name string
		ev   []trace.Event
	}{{"records", records(4 << 20)}, {"engine", engineLike(3)}} {
		b.Run(tc.name+"/memory", func(b *testing.B) {
			benchRun(b, func() Trace { return Trace{Name: "mem", Format: trace.FormatETR, Source: Events(tc.ev)} })
		})
		p := writeETR(b, tc.ev)
		b.Run(tc.name+"/etr", func(b *testing.B) {
			benchRun(b, func() Trace {
				src, err := trace.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				return Trace{Name: p, Format: trace.FormatETR, Source: src}
			})
		})
		// The decoding alone, as replay reads the trace (batches of
		// defaultBatch events), in the same unit: with memory, it splits
		// the time of etr into decoding and simulation.
		b.Run(tc.name+"/etr-decode", func(b *testing.B) {
			benchDecode(b, p)
		})
	}
}

// benchDecode reads the .etr file at p b.N times without simulating and
// reports the line references it holds per second.
func benchDecode(b *testing.B, p string) {
	b.ReportAllocs()
	buf := make([]trace.Event, defaultBatch)
	var lines uint64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		src, err := trace.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		for {
			n, err := src.Next(buf)
			for _, e := range buf[:n] {
				if e.Kind != trace.Prefetch {
					lines += (e.Addr+uint64(max(e.Size, 1))-1)/64 - e.Addr/64 + 1
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		cpu += cpuTime() - c0
		src.Close()
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds()/1e6, "Mlines/s")
	if cpu > 0 {
		b.ReportMetric(float64(lines)/cpu.Seconds()/1e6, "Mlines/cpu-s")
	}
}

// TestMemoryIndependentOfLength: replaying 4x more events allocates
// about the same: batches are reused, results do not grow with the
// trace.
func TestMemoryIndependentOfLength(t *testing.T) {
	soc := mustParse(t, twoLevel)
	alloc := func(n int) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Run(context.Background(), Trace{Name: "gen", Format: trace.FormatDin, Source: &genSource{n: n}}, []*SoC{soc}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(1<<18), alloc(1<<20)
	if large > small+small/4 {
		t.Errorf("allocated %d bytes for 2^18 events, %d for 2^20; want about the same", small, large)
	}
}

// genSource produces n events without holding them.
type genSource struct {
	n, i int
	hdr  trace.Header
}

func (g *genSource) Next(buf []trace.Event) (int, error) {
	k := 0
	for ; k < len(buf) && g.i < g.n; k, g.i = k+1, g.i+1 {
		buf[k] = trace.Event{Addr: uint64(g.i*40) % (1 << 22), Size: 8}
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}
func (g *genSource) Header() *trace.Header { return &g.hdr }
func (g *genSource) Close() error          { return nil }
