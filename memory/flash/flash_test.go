package flash

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func device(t testing.TB, name string) *Flash {
	t.Helper()
	f, err := New(Config{Device: name})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	return f
}

// TestDevices is the conformance test over every registered preset.
func TestDevices(t *testing.T) {
	for _, name := range Devices() {
		t.Run(name, func(t *testing.T) {
			c := device(t, name).Config()
			if c.Source == "" {
				t.Errorf("%s has no source", name)
			}
			ps := func(n int, mbps float64) int64 { return int64(math.Round(float64(n) * 1e6 / mbps)) }

			// One page at queue depth 1 on an idle device: tR + transfer.
			f := device(t, name)
			at := int64(5_000_000)
			done, err := f.Read(at, 3*uint64(c.PageBytes), c.PageBytes)
			if err != nil {
				t.Fatal(err)
			}
			want := c.ReadLatency + ps(c.PageBytes, c.ChannelMBps) + ps(c.PageBytes, c.LinkMBps)
			if got := done - at; got != want {
				t.Errorf("one page read = %d ps, want tR + page/channel + page/link = %d ps", got, want)
			}

			// Large sequential reads saturate at the link rate.
			f = device(t, name)
			for i := range 256 {
				if _, err := f.Read(0, uint64(i)<<20, 1<<20); err != nil {
					t.Fatal(err)
				}
			}
			s := f.Stats()
			if bw := s.BandwidthGBps * 1000; bw > c.LinkMBps*1.0001 || bw < c.LinkMBps*0.95 {
				t.Errorf("sequential 1 MiB reads: %.1f MB/s, want the link cap %.0f MB/s", bw, c.LinkMBps)
			}

			// Random 4 KiB reads at full queue depth reach the IOPS cap,
			// unless queue depth, tR or the link bounds them first.
			f = device(t, name)
			r := rand.New(rand.NewPCG(1, 2))
			const n = 20000
			for range n {
				if _, err := f.Read(0, r.Uint64N(1<<24)*4096, 4096); err != nil {
					t.Fatal(err)
				}
			}
			s = f.Stats()
			lat1 := float64(c.ReadLatency+ps(4096, c.ChannelMBps)+ps(4096, c.LinkMBps)) / 1e12
			units := float64(c.Channels * c.DiesPerChannel * c.PlanesPerDie)
			bound := min(c.MaxIOPS, float64(c.QueueDepth)/lat1, units/(float64(c.ReadLatency)/1e12), c.LinkMBps*1e6/4096)
			t.Logf("%s: page read %.1f us, seq %.0f MB/s, 4K random %.0f IOPS (bound %.0f, cap %.0f)",
				name, float64(want)/1e6, c.LinkMBps, s.IOPS, bound, c.MaxIOPS)
			if s.IOPS > c.MaxIOPS*1.001 || s.IOPS < bound*0.95 {
				t.Errorf("random 4 KiB: %.0f IOPS, want %.0f (min of cap, QD/latency, units/tR, link)", s.IOPS, bound)
			}
			if s.Reads != n || s.Bytes != n*4096 {
				t.Errorf("reads/bytes = %d/%d, want %d/%d", s.Reads, s.Bytes, n, n*4096)
			}
			if want := float64(n) * (c.EnergyPJPerOp + 4096*c.EnergyPJPerByte); math.Abs(s.EnergyPJ-want) > 1e-6*want {
				t.Errorf("energy = %g pJ, want %g", s.EnergyPJ, want)
			}
		})
	}
}

func TestQueueDepthOneSerializes(t *testing.T) {
	f := device(t, "microsd-a2")
	a, _ := f.Read(0, 0, 4096)
	b, _ := f.Read(0, 1<<30, 4096)
	if b != 2*a {
		t.Errorf("second QD1 read done at %d, want twice the first (%d)", b, 2*a)
	}
	if s := f.Stats(); s.BusyNS != float64(b)/1000 {
		t.Errorf("BusyNS = %v, want %v", s.BusyNS, float64(b)/1000)
	}
}

func TestBadConfigAndReads(t *testing.T) {
	if _, err := New(Config{Device: "floppy"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(floppy) error = %v, want ErrInvalidConfig", err)
	}
	if _, err := New(Config{Device: "ufs-3.1", QueueDepth: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(queue_depth -1) error = %v, want ErrInvalidConfig", err)
	}
	f := device(t, "ufs-3.1")
	if _, err := f.Read(0, 0, 0); !errors.Is(err, ErrBadRead) {
		t.Errorf("Read(size 0) error = %v, want ErrBadRead", err)
	}
}

func BenchmarkRandomRead(b *testing.B) {
	f := device(b, "nvme-pcie3x4")
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.Read(int64(i)*1000, r.Uint64N(1<<24)*4096, 4096)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
