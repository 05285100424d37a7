package dram

import (
	"math/rand/v2"
	"testing"
)

// DRAMsim3 reference (facts/soc.md, measured on this build machine):
// configs/LPDDR4_8Gb_x16_2400.ini driven by DRAMsim3's own stream and
// random CPUs for 2 M cycles.
//
//	pattern  bandwidth   row hits  energy (IDD core, no I/O)
//	stream   18.2 GB/s   98.8 %    23.5 pJ/bit
//	random   17.4 GB/s    0.0 %    40.3 pJ/bit
//
// Organization as in that file: one 64-bit channel of four x16 dies,
// 2 bank groups x 4 banks, 64 K rows, 1 K columns, BL16 (128 B per
// burst), open page, address mapping rochrababgco, 32-entry queues,
// staggered all-bank refresh. DRAMsim3 derives the rank count from
// channel_size; its x16 DDR4 configs use 8192 MB, which with 4 GB per
// rank gives two ranks; we assume the same (with one rank, tFAW alone
// caps random traffic at 4 x 128 B / 40 ns = 12.8 GB/s, far below the
// 17.4 measured). DRAMsim3 issues one command per clock, so
// command-bus occupancy is one clock. Its controller holds up to 32
// transactions plus 8 commands per bank (16 banks): 160 requests, so
// both our queues get 160 entries, with our usual write watermarks at
// 3/4 and 1/4. Timings are JEDEC LPDDR4-2400 (our lpddr4 defaults).
func dramsim3LPDDR4(t testing.TB, ranks int) *DRAM {
	t.Helper()
	d, err := New(Config{
		Grade: "lpddr4-2400",
		Org: Organization{
			Channels: 1, Ranks: ranks, BankGroups: 2, BanksPerGroup: 4,
			Rows: 65536, Columns: 1024, DeviceWidth: 16, BusWidth: 64, BurstLength: 16,
		},
		Timing: Timing{CmdACT: 833, CmdCAS: 833, CmdPRE: 833},
		Controller: Controller{
			Mapping: "RoChRaBaBgCo", ReadQueue: 160, WriteQueue: 160,
			WriteHigh: 120, WriteLow: 40,
		},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// dramsim3Stream mimics DRAMsim3's StreamCPU: a[i] and b[i] read, c[i]
// written, i advancing by 64 B, three fresh random bases every 2 M
// elements.
func dramsim3Stream(seed uint64) func(int) (uint64, bool) {
	r := rand.New(rand.NewPCG(seed, 1))
	var base [3]uint64
	return func(i int) (uint64, bool) {
		elem, which := i/3, i%3
		if elem%(2<<20) == 0 && which == 0 {
			base = [3]uint64{r.Uint64(), r.Uint64(), r.Uint64()}
		}
		return base[which] + uint64(elem%(2<<20))*64, which == 2
	}
}

// dramsim3Random mimics RandomCPU: uniform 64-bit addresses, one write
// in three.
func dramsim3Random(seed uint64) func(int) (uint64, bool) {
	r := rand.New(rand.NewPCG(seed, 2))
	return func(int) (uint64, bool) { return r.Uint64(), r.Uint64()%3 == 0 }
}

func TestDRAMsim3LPDDR4Reference(t *testing.T) {
	const n = 300_000
	for _, c := range []struct {
		name     string
		gen      func(int) (uint64, bool)
		bw, hits float64 // DRAMsim3
		pjPerBit float64
	}{
		{"stream", dramsim3Stream(1), 18.2, 0.988, 23.5},
		{"random", dramsim3Random(1), 17.4, 0.0, 40.3},
	} {
		d := dramsim3LPDDR4(t, 2)
		s := saturate(t, d, n, c.gen, 64)
		total, core := s.PJPerBit()
		// DRAMsim3 counts every transaction as one 128 B burst.
		busBits := float64(s.BusBytes) * 8
		t.Logf("%s: %.2f GB/s (DRAMsim3 %.1f), row hits %.1f %% (DRAMsim3 %.1f %%), "+
			"core %.1f pJ/bit per bus bit (DRAMsim3 %.1f), with I/O %.1f pJ/bit; per requested bit core %.1f total %.1f",
			c.name, s.BusBandwidthGBps, c.bw, 100*s.RowHitRate(), 100*c.hits,
			s.Energy.CorePJ/busBits, c.pjPerBit, s.Energy.TotalPJ/busBits, core, total)
		if s.BusBandwidthGBps < c.bw*0.9 || s.BusBandwidthGBps > c.bw*1.1 {
			t.Errorf("%s bandwidth = %.2f GB/s, want DRAMsim3's %.1f within 10 %%", c.name, s.BusBandwidthGBps, c.bw)
		}
		if hr := s.RowHitRate(); hr < c.hits-0.05 || hr > c.hits+0.05 {
			t.Errorf("%s row-hit rate = %.3f, want DRAMsim3's %.3f within 5 points", c.name, hr, c.hits)
		}
	}
}

func TestOneRankRandomIsFAWBound(t *testing.T) {
	d := dramsim3LPDDR4(t, 1)
	s := saturate(t, d, 100_000, dramsim3Random(2), 64)
	limit := 4 * 128 / float64(d.Config().Timing.FAW) * 1000 // GB/s
	t.Logf("one rank, random: %.2f GB/s, tFAW limit %.2f GB/s", s.BusBandwidthGBps, limit)
	if s.BusBandwidthGBps > limit || s.BusBandwidthGBps < 0.8*limit {
		t.Errorf("one-rank random bandwidth = %.2f GB/s, want just under the tFAW limit %.2f", s.BusBandwidthGBps, limit)
	}
}
