package dram

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The scheduler's caches (per-bank candidates, per-step memo, lower
// bound) must not change any result: every completion time equals that
// of the plain search over all banks.
func TestCachesMatchPlainSearch(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"lpddr4x 2ch", Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}}},
		{"lpddr5 per-bank closed", Config{Grade: "lpddr5-6400", Controller: Controller{Refresh: "per-bank", PagePolicy: "closed"}}},
		{"ddr4 2 ranks xor pd", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 2},
			Controller: Controller{BankXOR: true, PowerDownAfter: 50_000, ReadQueue: 8, WriteQueue: 8, WriteHigh: 6, WriteLow: 2}}},
		{"lpddr4 gem5 writes", Config{Grade: "lpddr4-3200", Org: Organization{Channels: 2},
			Controller: Controller{WriteQueue: 64, WriteHigh: 55, WriteLow: 54, IdleWriteMin: 33, MinWritesPerSwitch: 16}}},
	} {
		run := func(plain bool) []int64 {
			uncached = plain
			defer func() { uncached = false }()
			d, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(7, 8))
			var tickets []Ticket
			var at int64
			var done []int64
			for i := range 20000 {
				// Bursts of sequential lines, random jumps, idle gaps.
				switch r.IntN(10) {
				case 0:
					at += int64(r.IntN(200_000))
				case 1, 2:
					at += int64(r.IntN(2000))
				}
				addr := uint64(i%64)*64 + uint64(r.IntN(4))<<20
				if r.IntN(3) == 0 {
					addr = r.Uint64() & (1<<31 - 1)
				}
				tk, err := d.Submit(Request{At: at, Addr: addr, Size: 64, Write: r.IntN(4) == 0})
				if err != nil {
					t.Fatal(err)
				}
				tickets = append(tickets, tk)
				if r.IntN(50) == 0 {
					for _, x := range tickets {
						v, err := d.Wait(x)
						if err != nil {
							t.Fatal(err)
						}
						done = append(done, v)
					}
					tickets = tickets[:0]
				}
			}
			for _, x := range tickets {
				v, _ := d.Wait(x)
				done = append(done, v)
			}
			s := d.Stats()
			return append(done, int64(s.LastDoneNS*1000), int64(s.Activates), int64(s.RowHits), int64(s.Refreshes+s.PerBankRefreshes))
		}
		a, b := run(false), run(true)
		if len(a) != len(b) {
			t.Fatalf("%s: %d vs %d results", c.name, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s: result %d = %d with caches, %d without", c.name, i, a[i], b[i])
				break
			}
		}
	}
}

// FuzzScheduler drives small configurations with arbitrary request
// streams: New must never panic, and the fast scheduler and the cached
// scan must agree with the plain search.
func FuzzScheduler(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{255, 0, 255, 0, 7, 7, 7, 7, 1, 2, 3})
	// Saturating bursts (no time between requests) to one bank and to
	// many, on every standard, both page policies and refresh modes.
	for i := range 24 {
		seed := []byte{byte(i * 7), byte(i), byte(i * 37), byte(i * 5)}
		for j := range 200 {
			seed = append(seed, byte(j*i)&0x70|byte(j%3)<<7, byte(j*53+i))
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 || len(data) > 4096 {
			return
		}
		grades := Grades()
		cfg := Config{
			Grade: grades[int(data[0])%len(grades)],
			Org:   Organization{Channels: 1 << (data[1] % 3), Ranks: 1 << (data[1] >> 2 % 2)},
			Controller: Controller{
				PagePolicy: []string{"open", "closed"}[data[2]%2],
				ReadQueue:  1 + int(data[2]>>1%16), WriteQueue: 2 + int(data[2]>>5%4),
				WriteHigh: 2, WriteLow: 1,
				BankXOR: data[3]%2 == 1,
				Refresh: []string{"all-bank", "none", "per-bank"}[int(data[3]>>1)%3],
			},
		}
		// The write-switch policy: idle drains from 1..write_queue
		// writes, 0..write_queue writes per switch.
		wq := cfg.Controller.WriteQueue
		cfg.Controller.IdleWriteMin = 1 + int(data[1]>>3)%wq
		cfg.Controller.MinWritesPerSwitch = int(data[3]>>3) % (wq + 1)
		run := func(scan, plain bool) []int64 {
			scanOnly, uncached = scan, plain
			defer func() { scanOnly, uncached = false, false }()
			d, err := New(cfg)
			if err != nil {
				return nil // per-bank refresh on ddr4: a clean error
			}
			var out []int64
			var at int64
			var ts []Ticket
			for i := 4; i+1 < len(data); i += 2 {
				at += int64(data[i]&0x0f) * 1000
				addr := uint64(data[i+1]) << (6 + uint(data[i]>>4))
				tk, err := d.Submit(Request{At: at, Addr: addr, Size: 1 + int(data[i+1])%d.BlockBytes(), Write: data[i]&0x80 != 0})
				if err != nil {
					t.Fatalf("Submit: %v", err)
				}
				ts = append(ts, tk)
			}
			for _, tk := range ts {
				v, err := d.Wait(tk)
				if err != nil {
					t.Fatalf("Wait: %v", err)
				}
				out = append(out, v)
			}
			return out
		}
		plain := run(false, true)
		for _, m := range schedModes[:2] {
			got := run(m.scanOnly, false)
			for i := range got {
				if got[i] != plain[i] {
					t.Fatalf("request %d done at %d with the %s scheduler, %d with the plain search (config %+v)", i, got[i], m.name, plain[i], cfg)
				}
			}
		}
	})
}

// schedModes are the scheduler implementations that must agree: the
// fast scheduler (sched.go), the cached scan (stepScan) and the plain
// search without caches.
var schedModes = []struct {
	name              string
	scanOnly, uncache bool
}{
	{"fast", false, false},
	{"scan", true, false},
	{"plain", false, true},
}

func withMode(scan, plain bool, f func()) {
	scanOnly, uncached = scan, plain
	defer func() { scanOnly, uncached = false, false }()
	f()
}

// TestFastSchedulerMatchesScan runs every golden configuration and
// workload, plus organizations at the fast scheduler's limits, with
// several seeds through all three schedulers: every completion time and
// every statistic (energy included) must be identical.
func TestFastSchedulerMatchesScan(t *testing.T) {
	configs := append([]struct {
		name string
		cfg  Config
	}{
		// 4 ranks x 4 bank groups x 4 banks: 64 banks in 49 classes, the
		// largest fast case.
		{"ddr4-4rank-4bg", Config{Grade: "ddr4-3200", Org: Organization{Ranks: 4, BankGroups: 4},
			Controller: Controller{ReadQueue: 48, WriteQueue: 48, WriteHigh: 36, WriteLow: 12}}},
		// 128 banks: stepScan only.
		{"ddr4-16rank", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 16}}},
		// Bank-group classes of their own (tCCD_L > tCCD_S), per-bank refresh, 2 ranks.
		{"lpddr5-2rank-perbank", Config{Grade: "lpddr5-6400", Org: Organization{Ranks: 2}, Controller: Controller{Refresh: "per-bank"}}},
		{"lpddr5x-closed-xor", Config{Grade: "lpddr5x-9600", Controller: Controller{PagePolicy: "closed", BankXOR: true, ReadQueue: 2, WriteQueue: 3, WriteHigh: 2, WriteLow: 1}}},
		{"ddr4-norefresh-rorabgbaco", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 2}, Controller: Controller{Refresh: "none", Mapping: "RoRaBgBaCoCh"}}},
		// gem5's write switching (idle drains above half the buffer, 16
		// writes per switch) and a small variant that ends drains often.
		{"lpddr4-gem5-writes", Config{Grade: "lpddr4-3200", Org: Organization{Channels: 2},
			Controller: Controller{WriteQueue: 64, WriteHigh: 55, WriteLow: 54, IdleWriteMin: 33, MinWritesPerSwitch: 16}}},
		{"ddr4-writes-min3", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 2},
			Controller: Controller{ReadQueue: 8, WriteQueue: 8, WriteHigh: 6, WriteLow: 2, IdleWriteMin: 3, MinWritesPerSwitch: 3}}},
	}, goldenConfigs...)
	workloads := append([]struct {
		name string
		run  func(d *DRAM, seed uint64, n int, h *digest)
	}{
		// Arrivals near 2^61 ps: the fast scheduler's sign-mask arithmetic
		// must not overflow.
		{"far", func(d *DRAM, seed uint64, n int, h *digest) {
			r := rand.New(rand.NewPCG(seed, 14))
			at := int64(1) << 61
			for range n {
				at += int64(r.IntN(4000))
				if _, err := d.Submit(Request{At: at, Addr: r.Uint64() & (1<<32 - 1), Size: 64, Write: r.IntN(3) == 0}); err != nil {
					panic(err)
				}
			}
			h.add(d.Drain())
		}},
	}, goldenWorkloads...)
	for _, c := range configs {
		for _, w := range workloads {
			for seed := uint64(11); seed <= 13; seed++ {
				var got [3]string
				for i, m := range schedModes {
					withMode(m.scanOnly, m.uncache, func() { got[i] = goldenDigest(t, c.cfg, w.run, seed, 3000) })
				}
				for i := 1; i < len(got); i++ {
					if got[i] != got[0] {
						t.Errorf("%s/%s/%d: %s scheduler %s, %s scheduler %s", c.name, w.name, seed,
							schedModes[0].name, got[0], schedModes[i].name, got[i])
					}
				}
			}
		}
	}
}

// TestFastSchedulerUsed checks which organizations get the fast
// scheduler, so the comparisons above exercise it.
func TestFastSchedulerUsed(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		fast bool
	}{
		{"lpddr4x", Config{Grade: "lpddr4x-4267"}, true},
		{"dramsim3", dramsim3Config(2), true},
		{"ddr4 64 banks", Config{Grade: "ddr4-3200", Org: Organization{Ranks: 4, BankGroups: 4}}, true},
		{"ddr4 128 banks", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 16}}, false},
		{"power-down", Config{Grade: "lpddr4-2400", Controller: Controller{PowerDownAfter: 1000}}, false},
	} {
		d, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.chans[0].fast; got != c.fast {
			t.Errorf("%s: fast scheduler = %v, want %v", c.name, got, c.fast)
		}
	}
}

// Past maxFastSeq requests the channels switch to stepScan mid-run; the
// results must not change.
func TestFastSchedulerSeqLimit(t *testing.T) {
	run := func(scan, plain bool) string {
		var out string
		withMode(scan, plain, func() {
			d, err := New(dramsim3Config(2))
			if err != nil {
				t.Fatal(err)
			}
			d.nextSeq = maxFastSeq - 500
			h := digest{}
			satRun(d, 2000, &h, func(int) (uint64, bool, int) { return uint64(d.nextSeq*0x9e3779b97f4a7c15) >> 20, d.nextSeq%3 == 0, 64 })
			if d.chans[0].fast {
				t.Errorf("fast scheduler still on after %d requests", d.nextSeq)
			}
			out = fmt.Sprintf("%x %+v", h.sum, d.Stats())
		})
		return out
	}
	if fast, plain := run(false, false), run(false, true); fast != plain {
		t.Errorf("across maxFastSeq: fast %s, plain %s", fast, plain)
	}
}
