package dram

import (
	"encoding/json"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// DRAMsim3 reference (facts/soc.md, measured on this build machine):
// configs/LPDDR4_8Gb_x16_2400.ini driven by DRAMsim3's own stream and
// random CPUs for 2 M cycles.
//
//	pattern  bandwidth   row hits  energy (IDD core, no I/O)
//	stream   18.2 GB/s   98.8 %    23.5 pJ/bit
//	random   17.4 GB/s    0.0 %    40.3 pJ/bit
//
// (energy in DRAMsim3's unit, mA x V x clock cycles, per 64 B
// transaction: see TestDRAMsim3LPDDR4SameParameters).
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

// TestDRAMsim3LPDDR4Reference runs DRAMsim3's organization with our
// JEDEC LPDDR4-2400 timings and currents (a user's configuration);
// TestDRAMsim3LPDDR4SameParameters takes DRAMsim3's own timings and
// currents and compares the energy too.
func TestDRAMsim3LPDDR4Reference(t *testing.T) {
	const n = 300_000
	for _, c := range []struct {
		name     string
		gen      func(int) (uint64, bool)
		bw, hits float64 // DRAMsim3
	}{
		{"stream", dramsim3Stream(1), 18.2, 0.988},
		{"random", dramsim3Random(1), 17.4, 0.0},
	} {
		d := dramsim3LPDDR4(t, 2)
		s := saturate(t, d, n, c.gen, 64)
		busBits := float64(s.BusBytes) * 8
		t.Logf("%s: %.2f GB/s (DRAMsim3 %.1f), row hits %.1f %% (DRAMsim3 %.1f %%), "+
			"core energy %.1f pJ per bus bit, with I/O %.1f",
			c.name, s.BusBandwidthGBps, c.bw, 100*s.RowHitRate(), 100*c.hits,
			s.Energy.CorePJ/busBits, s.Energy.TotalPJ/busBits)
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

// loadConfig reads a DRAM config from a YAML file as an SoC file's dram:
// section is read (unknown keys are errors).
func loadConfig(t testing.TB, path string) Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c Config
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestDRAMsim3LPDDR4SameParameters runs DRAMsim3's LPDDR4 file with all
// of its own parameters (timings and IDD currents too, not only the
// organization; testdata/dramsim3-lpddr4-2400.yaml) and compares the
// energy in DRAMsim3's terms. DRAMsim3 multiplies mA x V by clock
// cycles, not nanoseconds (configuration.cc: "if we convert cycles to
// ns then it's exactly pJ"), so its figures are ours divided by tCK in
// ns; and the pJ/bit of facts/soc.md divide by 64 B per transaction
// while each transaction moves a 128 B burst (BL16 on 64 bits): our
// energy per burst over 512 bits. Per burst rather than per request,
// as we merge a write into a waiting write of the same burst and
// DRAMsim3 merges only equal addresses.
func TestDRAMsim3LPDDR4SameParameters(t *testing.T) {
	cfg := loadConfig(t, "testdata/dramsim3-lpddr4-2400.yaml")
	const n = 300_000
	for _, c := range []struct {
		name     string
		gen      func(int) (uint64, bool)
		bw, hits float64 // DRAMsim3
		units    float64 // DRAMsim3's energy per 64 B transaction / 512
	}{
		{"stream", dramsim3Stream(1), 18.2, 0.988, 23.5},
		{"random", dramsim3Random(1), 17.4, 0.0, 40.3},
	} {
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := saturate(t, d, n, c.gen, 64)
		burstBytes := d.Config().Org.BusWidth / 8 * d.Config().Org.BurstLength
		bursts := float64(s.BusBytes) / float64(burstBytes)
		tCKns := float64(d.Config().Timing.CmdCAS) / 1000
		units := s.Energy.CorePJ / tCKns / (bursts * 512)
		t.Logf("%s: %.2f GB/s (DRAMsim3 %.1f), row hits %.1f %% (DRAMsim3 %.1f %%), energy %.2f (DRAMsim3 %.1f): "+
			"act %.2f, read %.2f, write %.2f, refresh %.2f, background %.2f",
			c.name, s.BusBandwidthGBps, c.bw, 100*s.RowHitRate(), 100*c.hits, units, c.units,
			s.Energy.ActivatePJ/tCKns/(bursts*512), s.Energy.ReadPJ/tCKns/(bursts*512), s.Energy.WritePJ/tCKns/(bursts*512),
			s.Energy.RefreshPJ/tCKns/(bursts*512), s.Energy.BackgroundPJ/tCKns/(bursts*512))
		if units < c.units*0.95 || units > c.units*1.05 {
			t.Errorf("%s energy = %.2f mA*V*tCK per 512 bits, want DRAMsim3's %.1f within 5 %%", c.name, units, c.units)
		}
		if s.BusBandwidthGBps < c.bw*0.9 || s.BusBandwidthGBps > c.bw*1.1 {
			t.Errorf("%s bandwidth = %.2f GB/s, want DRAMsim3's %.1f within 10 %%", c.name, s.BusBandwidthGBps, c.bw)
		}
		if hr := s.RowHitRate(); hr < c.hits-0.05 || hr > c.hits+0.05 {
			t.Errorf("%s row-hit rate = %.3f, want DRAMsim3's %.3f within 5 points", c.name, hr, c.hits)
		}
	}
}

// TestWriteBufferServesOnlyItsBytes: on DRAMsim3's organization a burst
// (and a request block) is 128 B. A read of the 64 B a waiting write
// holds is served from the write buffer and a write of the same bytes
// merges into it; the other half of the block is not in the buffer and
// goes to the DRAM, as in DRAMsim3 (which matches equal addresses).
func TestWriteBufferServesOnlyItsBytes(t *testing.T) {
	for _, c := range []struct {
		name               string
		second             Request
		forwarded, merged  uint64
		reads, writeBursts uint64
	}{
		{"read of the written bytes", Request{Addr: 0x1000, Size: 64}, 1, 0, 1, 1},
		{"read of the other half", Request{Addr: 0x1040, Size: 64}, 0, 0, 1, 1},
		{"read inside the written bytes", Request{Addr: 0x1010, Size: 16}, 1, 0, 1, 1},
		{"write of the same bytes", Request{Addr: 0x1000, Size: 64, Write: true}, 0, 1, 0, 1},
		{"write of the other half", Request{Addr: 0x1040, Size: 64, Write: true}, 0, 0, 0, 2},
	} {
		d := dramsim3LPDDR4(t, 2)
		if _, err := d.Submit(Request{Addr: 0x1000, Size: 64, Write: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Submit(c.second); err != nil {
			t.Fatal(err)
		}
		d.Drain()
		s := d.Stats()
		if s.Forwarded != c.forwarded || s.Merged != c.merged || s.BusBytes != (c.reads-c.forwarded+c.writeBursts)*128 {
			t.Errorf("%s: forwarded %d, merged %d, bus bytes %d; want %d, %d, %d",
				c.name, s.Forwarded, s.Merged, s.BusBytes, c.forwarded, c.merged, (c.reads-c.forwarded+c.writeBursts)*128)
		}
	}
}

// dramsim3Ref is one trace's results in testdata/dramsim3/reference.json.
type dramsim3Ref struct {
	CEnd         float64 `json:"C_end"`
	ReadRowHits  uint64  `json:"read_row_hits"`
	WriteRowHits uint64  `json:"write_row_hits"`
	Act          uint64  `json:"act"`
	AvgReadLat   float64 `json:"avg_read_lat"`
	P99          float64 `json:"rd_p99"`
	TotalEnergy  float64 `json:"total_energy"`
}

// TestDRAMsim3Traces replays gen.py's nine traces (testdata/dramsim3) on
// DRAMsim3's configurations (LPDDR4-2400, and DDR4-3200 where bank groups
// bind) and compares with DRAMsim3's own results: the time to finish, row
// hits and total energy, and for the paced traces the read latency
// (saturating traces count latency differently: ours from the request's
// arrival, DRAMsim3's from its entry into the controller).
func TestDRAMsim3Traces(t *testing.T) {
	t.Run("lpddr4-2400", func(t *testing.T) {
		checkDRAMsim3Traces(t, "testdata/dramsim3/reference.json", "testdata/dramsim3-lpddr4-2400.yaml", nil, nil)
	})
	// On DDR4 the saturating traces depend on the controllers' queue
	// structures, which differ (docs/timing-model.md 1.6: DRAMsim3 schedules
	// from 8-entry per-bank command queues fed by a 16-entry transaction
	// queue, we from one queue of 272): a sequential stream that DRAMsim3
	// serves one bank at a time at tCCD_L, ours interleaves across bank
	// groups at tCCD_S. Those are logged and tabled in the docs, not
	// checked; the traces whose command order the queues cannot change
	// (one bank; one request at a time) are checked as on LPDDR4.
	structural := "depends on the controller's queue structure (docs/timing-model.md 1.6)"
	t.Run("ddr4-3200", func(t *testing.T) {
		checkDRAMsim3Traces(t, "testdata/dramsim3/ddr4-reference.json", "testdata/dramsim3-ddr4-3200.yaml", map[string]string{
			"seq-read": structural, "seq-write": structural, "rand-read": structural, "rand-rw": structural,
			"stride-4k": structural, "copy": structural,
		}, map[string]string{
			"seq-read-paced": "average latency from arrival +12 %: DRAMsim3 counts from entry into its 24 entries for the stream, which fill during a refresh (checked from queue entry with that depth in TestDRAMsim3QueueLatency)",
		})
	})
}

// readDRAMsim3Refs reads DRAMsim3's figures for the nine traces
// (testdata/dramsim3/*reference.json, written by gen.py).
func readDRAMsim3Refs(t *testing.T, path string) map[string]dramsim3Ref {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Traces map[string]dramsim3Ref `json:"traces"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Traces
}

// checkDRAMsim3Traces compares the nine traces on one configuration;
// traces in differs are compared in the log only, with the reason, and
// for those in latencyDiffers only the paced read latency is.
func checkDRAMsim3Traces(t *testing.T, refPath, cfgPath string, differs, latencyDiffers map[string]string) {
	refs := readDRAMsim3Refs(t, refPath)
	const n, line, gib4 = 200_000, 64, 4 << 30
	type req struct {
		addr  uint64
		write bool
		cycle int64
	}
	// gen.py's traces, built the same way (randrange(2^27) lines of
	// 64 B: Python's generator, pyRandom).
	random := func(seed uint32) func(int) uint64 {
		r := newPyRandom(seed)
		addrs := make([]uint64, n)
		for i := range addrs {
			addrs[i] = uint64(r.randrange(8<<30/line)) * line
		}
		return func(i int) uint64 { return addrs[i] }
	}
	gen := map[string]func(i int) req{
		"seq-read":       func(i int) req { return req{addr: uint64(i) * line} },
		"seq-write":      func(i int) req { return req{addr: uint64(i) * line, write: true} },
		"stride-4k":      func(i int) req { return req{addr: uint64(i) * 4096} },
		"stride-1m":      func(i int) req { return req{addr: uint64(i) << 20 % (8 << 30)} },
		"copy":           func(i int) req { return req{addr: uint64(i/2)*line + uint64(i%2)*gib4, write: i%2 == 1} },
		"seq-read-paced": func(i int) req { return req{addr: uint64(i) * line, cycle: 12 * int64(i)} },
	}
	r1, r2, r3 := random(1), random(2), random(3)
	gen["rand-read"] = func(i int) req { return req{addr: r1(i)} }
	gen["rand-rw"] = func(i int) req { return req{addr: r2(i), write: i%3 == 2} }
	gen["rand-read-paced"] = func(i int) req { return req{addr: r3(i), cycle: 40 * int64(i)} }
	cfg := loadConfig(t, cfgPath)
	for _, name := range []string{"seq-read", "seq-write", "rand-read", "rand-rw", "stride-4k", "stride-1m", "copy", "rand-read-paced", "seq-read-paced"} {
		want, ok := refs[name]
		if !ok {
			t.Fatalf("%s: not in %s", name, refPath)
		}
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tck := d.Config().Timing.CmdCAS // ps
		for i := range n {
			r := gen[name](i)
			if _, err := d.Submit(Request{At: r.cycle * tck, Addr: r.addr, Size: line, Write: r.write}); err != nil {
				t.Fatal(err)
			}
		}
		d.Drain()
		s := d.Stats()
		tckNS := float64(tck) / 1000
		end := s.LastDoneNS / tckNS
		energy := s.Energy.CorePJ / tckNS
		hits := float64(s.RowHits) / n
		wantHits := float64(want.ReadRowHits+want.WriteRowHits) / n
		t.Logf("%s: %.0f cycles (DRAMsim3 %.0f), row hits %.2f %% (%.2f %%), ACT %d (%d), energy %.4g (%.4g), read latency %.1f / p99 %.0f cycles (%.1f / %.0f), from queue entry %.1f / %.0f",
			name, end, want.CEnd, 100*hits, 100*wantHits, s.Activates, want.Act, energy, want.TotalEnergy,
			s.AvgLatencyNS/tckNS, s.P99LatencyNS/tckNS, want.AvgReadLat, want.P99, s.AvgQueueLatencyNS/tckNS, s.P99QueueLatencyNS/tckNS)
		if why, ok := differs[name]; ok {
			t.Logf("%s: %+.1f %% cycles, %+.1f %% energy against DRAMsim3, not checked: %s",
				name, 100*(end/want.CEnd-1), 100*(energy/want.TotalEnergy-1), why)
			continue
		}
		if math.Abs(end/want.CEnd-1) > 0.03 {
			t.Errorf("%s: finishes after %.0f cycles, want DRAMsim3's %.0f within 3 %%", name, end, want.CEnd)
		}
		if math.Abs(energy/want.TotalEnergy-1) > 0.02 {
			t.Errorf("%s: energy %.4g, want DRAMsim3's %.4g within 2 %%", name, energy, want.TotalEnergy)
		}
		if math.Abs(hits-wantHits) > 0.025 {
			t.Errorf("%s: row-hit rate %.4f, want DRAMsim3's %.4f within 2.5 points", name, hits, wantHits)
		}
		if why, ok := latencyDiffers[name]; ok {
			t.Logf("%s: read latency not checked: %s", name, why)
		} else if strings.HasSuffix(name, "-paced") {
			if lat := s.AvgLatencyNS / tckNS; math.Abs(lat/want.AvgReadLat-1) > 0.05 {
				t.Errorf("%s: average read latency %.1f cycles, want DRAMsim3's %.1f within 5 %%", name, lat, want.AvgReadLat)
			}
		}
	}
}

// pyRandom is Python's random.Random (MT19937 seeded by init_by_array)
// for an integer seed below 2^32, enough to rebuild gen.py's random
// traces: randrange(n) draws getrandbits(n.bit_length()) until the
// value is below n.
type pyRandom struct {
	mt [624]uint32
	i  int
}

func newPyRandom(seed uint32) *pyRandom {
	r := &pyRandom{}
	mt := &r.mt
	mt[0] = 19650218
	for i := 1; i < 624; i++ {
		mt[i] = 1812433253*(mt[i-1]^mt[i-1]>>30) + uint32(i)
	}
	// init_by_array with the one-word key [seed].
	i, j := 1, 0
	for k := 624; k > 0; k-- {
		mt[i] = (mt[i] ^ (mt[i-1]^mt[i-1]>>30)*1664525) + seed + uint32(j)
		i++
		j = 0
		if i >= 624 {
			mt[0], i = mt[623], 1
		}
	}
	for k := 623; k > 0; k-- {
		mt[i] = (mt[i] ^ (mt[i-1]^mt[i-1]>>30)*1566083941) - uint32(i)
		i++
		if i >= 624 {
			mt[0], i = mt[623], 1
		}
	}
	mt[0] = 0x80000000
	r.i = 624
	return r
}

func (r *pyRandom) uint32() uint32 {
	mt := &r.mt
	if r.i >= 624 {
		for k := range 624 {
			y := mt[k]&0x80000000 | mt[(k+1)%624]&0x7fffffff
			v := mt[(k+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			mt[k] = v
		}
		r.i = 0
	}
	y := mt[r.i]
	r.i++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	return y ^ y>>18
}

// randrange returns a value in [0, n), n below 2^32.
func (r *pyRandom) randrange(n uint32) uint32 {
	k := bits.Len32(n)
	for {
		if v := r.uint32() >> (32 - k); v < n {
			return v
		}
	}
}

// TestDRAMsim3DDR4SameParameters compares with DRAMsim3 on a standard
// whose bank groups bind: configs/DDR4_8Gb_x8_3200.ini (two ranks of
// 4 bank groups x 4 banks, BL8 on 64 bits, tCCD_L 8 vs tCCD_S 4 clocks,
// tRRD_L, tWTR_L), all of its parameters transcribed in
// testdata/dramsim3-ddr4-3200.yaml. DRAMsim3 (the build of
// testdata/dramsim3/README.md, 2026-11-28) with its own CPUs for 2 M
// cycles, `dramsim3main DDR4_8Gb_x8_3200.ini -c 2000000 [-s stream]`:
//
//	pattern  bytes/clock  row hits  energy (mA x V x tCK per 64 B / 512)
//	stream   10.29        99.05 %   22.22
//	random   11.68         0.01 %   33.81
//
// (its GB/s, 16.33 and 18.53, divide by its rounded tCK of 0.63 ns; we
// compare per clock). DRAMsim3 queues a request in a 16-entry
// transaction queue, then in its bank's 8-entry command queue; the
// scheduler sees only the command queues. Random traffic fills every
// bank's queue, so our single queue gets the whole depth, 16 + 8 x 32
// banks = 272 (the file). A stream sits in one bank for 128 lines, and
// DRAMsim3's three streams (a, b read, c written) have 16 + 3 x 8 = 40
// requests to choose from; with 272 our stream is 10.5 % faster (more
// row hits to pick in other bank groups while one waits out tCCD_L), so
// the stream case runs with 40. The per-command energies (ACT, RD, WR)
// are DRAMsim3's to three digits; refresh and background follow time.
func TestDRAMsim3DDR4SameParameters(t *testing.T) {
	const n = 300_000
	for _, c := range []struct {
		name     string
		gen      func(int) (uint64, bool)
		queue    int
		perClock float64 // DRAMsim3's bytes per clock
		hits     float64
		energy   float64 // mA x V x tCK per 64 B transaction / 512
	}{
		{"stream", dramsim3Stream(1), 40, 10.287, 0.9905, 22.22},
		{"random", dramsim3Random(1), 272, 11.676, 0.0001, 33.81},
	} {
		cfg := loadConfig(t, "testdata/dramsim3-ddr4-3200.yaml")
		cfg.Controller.ReadQueue = c.queue
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := saturate(t, d, n, c.gen, 64)
		tCKns := float64(d.Config().Timing.CmdCAS) / 1000
		perClock := s.BusBandwidthGBps * tCKns
		k := tCKns * float64(s.BusBytes) / 64 * 512
		units := s.Energy.CorePJ / k
		t.Logf("%s (queue %d): %.2f bytes/clock (DRAMsim3 %.2f, %+.1f %%), row hits %.2f %% (%.2f %%), energy %.2f (%.2f): "+
			"act %.2f, read %.2f, write %.2f, refresh %.2f, background %.2f",
			c.name, c.queue, perClock, c.perClock, 100*(perClock/c.perClock-1), 100*s.RowHitRate(), 100*c.hits, units, c.energy,
			s.Energy.ActivatePJ/k, s.Energy.ReadPJ/k, s.Energy.WritePJ/k, s.Energy.RefreshPJ/k, s.Energy.BackgroundPJ/k)
		if perClock < c.perClock*0.9 || perClock > c.perClock*1.1 {
			t.Errorf("%s bandwidth = %.2f bytes/clock, want DRAMsim3's %.2f within 10 %%", c.name, perClock, c.perClock)
		}
		if hr := s.RowHitRate(); hr < c.hits-0.05 || hr > c.hits+0.05 {
			t.Errorf("%s row-hit rate = %.4f, want DRAMsim3's %.4f within 5 points", c.name, hr, c.hits)
		}
		if units < c.energy*0.95 || units > c.energy*1.05 {
			t.Errorf("%s energy = %.2f, want DRAMsim3's %.2f within 5 %%", c.name, units, c.energy)
		}
		// Per command the IDD model is DRAMsim3's (configuration.cc,
		// eight x8 dies at 1.2 V): an ACT VDD x (IDD0 tRC - IDD3N tRAS -
		// IDD2N tRP) x 8 = 6720, a RD VDD x (IDD4R - IDD3N) x BL/2 x 8 =
		// 4454.4, a WR VDD x (IDD4W - IDD3N) x BL/2 x 8 = 3763.2 (mA x V x
		// tCK; every request here is one burst).
		for _, e := range []struct {
			what     string
			pj       float64
			n        uint64
			dramsim3 float64
		}{
			{"ACT", s.Energy.ActivatePJ, s.Activates, 6720},
			{"RD", s.Energy.ReadPJ, s.Reads - s.Forwarded, 4454.4},
			{"WR", s.Energy.WritePJ, s.Writes - s.Merged, 3763.2},
		} {
			if got := e.pj / tCKns / float64(e.n); math.Abs(got/e.dramsim3-1) > 1e-9 {
				t.Errorf("%s: energy per %s = %.4f mA*V*tCK, want DRAMsim3's %.1f", c.name, e.what, got, e.dramsim3)
			}
		}
	}
}

// TestDRAMsim3QueueLatency checks read latency from queue entry against
// DRAMsim3 where nothing but the queue's depth decides it. DRAMsim3
// holds a request in its transaction queue and then in its bank's
// command queue (LPDDR4: 32 + 8; DDR4: 16 + 8), so a stream confined to
// one bank has that many places; past them requests wait in DRAMsim3's
// trace CPU, not counted. stride-1m puts every request into one bank:
// no scheduler can reorder, and by Little's law the latency is the
// requests in flight over the throughput. seq-read-paced on DDR4 (one
// line per 12 cycles) backs up only while the stream's rank refreshes
// (560 cycles): DRAMsim3's 24 places fill, ours (272) do not, which is
// its average 12 % below ours from arrival. With a read queue of
// DRAMsim3's depth ours must give its latency. (With the configs'
// deeper queues, which stand for all of DRAMsim3's per-bank queues,
// stride-1m's is 3.96 and 11.2 times that, for 160 / 40 and 272 / 24.)
func TestDRAMsim3QueueLatency(t *testing.T) {
	for _, c := range []struct {
		cfg, ref, trace string
		depth           int
		at              func(i int) (addr uint64, cycle int64)
		avgTol          float64
	}{
		{"testdata/dramsim3-lpddr4-2400.yaml", "testdata/dramsim3/reference.json", "stride-1m", 40,
			func(i int) (uint64, int64) { return uint64(i) << 20 % (8 << 30), 0 }, 0.01},
		{"testdata/dramsim3-ddr4-3200.yaml", "testdata/dramsim3/ddr4-reference.json", "stride-1m", 24,
			func(i int) (uint64, int64) { return uint64(i) << 20 % (8 << 30), 0 }, 0.01},
		{"testdata/dramsim3-ddr4-3200.yaml", "testdata/dramsim3/ddr4-reference.json", "seq-read-paced", 24,
			func(i int) (uint64, int64) { return uint64(i) * 64, 12 * int64(i) }, 0.05},
	} {
		want := readDRAMsim3Refs(t, c.ref)[c.trace]
		cfg := loadConfig(t, c.cfg)
		cfg.Controller.ReadQueue = c.depth
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tck := d.ClockPS()
		rs := make([]Request, 200_000)
		for i := range rs {
			addr, cycle := c.at(i)
			rs[i] = Request{At: cycle * tck, Addr: addr, Size: 64}
		}
		if err := d.Replay(rs, nil); err != nil {
			t.Fatal(err)
		}
		s := d.Stats()
		tckNS := float64(tck) / 1000
		avg, p99, end := s.AvgQueueLatencyNS/tckNS, s.P99QueueLatencyNS/tckNS, s.LastDoneNS/tckNS
		t.Logf("%s, %s, read queue %d: read latency from queue entry %.1f cycles (DRAMsim3 %.1f), p99 %.0f (%.0f), end %.0f (%.0f)",
			c.cfg, c.trace, c.depth, avg, want.AvgReadLat, p99, want.P99, end, want.CEnd)
		if math.Abs(avg/want.AvgReadLat-1) > c.avgTol || math.Abs(p99/want.P99-1) > 0.05 || math.Abs(end/want.CEnd-1) > 0.01 {
			t.Errorf("%s, %s: latency %.1f (p99 %.0f), end %.0f cycles; want DRAMsim3's %.1f within %.0f %% (%.0f within 5 %%), %.0f within 1 %%",
				c.cfg, c.trace, avg, p99, end, want.AvgReadLat, 100*c.avgTol, want.P99, want.CEnd)
		}
	}
}
