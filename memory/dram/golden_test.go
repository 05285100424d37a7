package dram

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/edgeprof/edgeprof/internal/goldentest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden_digests.txt")

// goldenConfigs cover every standard, refresh mode, page policy, rank
// count, power-down, bank XOR and queue sizes from tiny to DRAMsim3's.
var goldenConfigs = []struct {
	name string
	cfg  Config
}{
	{"lpddr4x-2ch", Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}}},
	{"dramsim3-2rank", dramsim3Config(2)},
	{"dramsim3-1rank", dramsim3Config(1)},
	{"lpddr5-perbank-closed", Config{Grade: "lpddr5-6400", Controller: Controller{Refresh: "per-bank", PagePolicy: "closed"}}},
	{"ddr4-2rank-xor-pd", Config{Grade: "ddr4-2400", Org: Organization{Ranks: 2},
		Controller: Controller{BankXOR: true, PowerDownAfter: 50_000, ReadQueue: 8, WriteQueue: 8, WriteHigh: 6, WriteLow: 2}}},
	{"ddr4-3200-2ch-closed", Config{Grade: "ddr4-3200", Org: Organization{Channels: 2}, Controller: Controller{PagePolicy: "closed", Mapping: "RoBaRaCoBgCh"}}},
	{"lpddr4-norefresh-pd", Config{Grade: "lpddr4-2400", Controller: Controller{Refresh: "none", PowerDownAfter: 20_000}}},
	{"lpddr5x-2rank-perbank-pd", Config{Grade: "lpddr5x-8533", Org: Organization{Ranks: 2},
		Controller: Controller{Refresh: "per-bank", PowerDownAfter: 100_000, ReadQueue: 64, WriteQueue: 64, WriteHigh: 48, WriteLow: 16}}},
	{"lpddr4-2rank-perbank-q4", Config{Grade: "lpddr4-3200", Org: Organization{Ranks: 2},
		Controller: Controller{Refresh: "per-bank", ReadQueue: 4, WriteQueue: 4, WriteHigh: 3, WriteLow: 1}}},
}

// goldenWorkloads: saturating streams (every request at time 0), timed
// arrivals with idle gaps and waits, mixed sizes, Advance calls.
var goldenWorkloads = []struct {
	name string
	run  func(d *DRAM, seed uint64, n int, h *digest)
}{
	{"sat-random", func(d *DRAM, seed uint64, n int, h *digest) {
		r := rand.New(rand.NewPCG(seed, 11))
		satRun(d, n, h, func(int) (uint64, bool, int) { return r.Uint64() & (1<<34 - 1), r.IntN(4) == 0, 64 })
	}},
	{"sat-stream", func(d *DRAM, seed uint64, n int, h *digest) {
		g := dramsim3Stream(seed)
		satRun(d, n, h, func(i int) (uint64, bool, int) { a, w := g(i); return a, w, 64 })
	}},
	{"sat-mixed", func(d *DRAM, seed uint64, n int, h *digest) {
		r := rand.New(rand.NewPCG(seed, 12))
		var base uint64
		satRun(d, n, h, func(i int) (uint64, bool, int) {
			if r.IntN(16) == 0 {
				base = r.Uint64() & (1<<33 - 1)
			}
			a := base + uint64(i%32)*64
			if r.IntN(3) == 0 {
				a = r.Uint64() & (1<<30 - 1)
			}
			return a, r.IntN(3) == 0, 1 + r.IntN(d.BlockBytes())
		})
	}},
	{"timed", func(d *DRAM, seed uint64, n int, h *digest) {
		r := rand.New(rand.NewPCG(seed, 13))
		var at int64
		var ts []Ticket
		for i := range n {
			switch r.IntN(10) {
			case 0:
				at += int64(r.IntN(300_000))
			case 1, 2, 3:
				at += int64(r.IntN(3000))
			}
			addr := uint64(i%64)*64 + uint64(r.IntN(8))<<20
			if r.IntN(3) == 0 {
				addr = r.Uint64() & (1<<31 - 1)
			}
			tk, err := d.Submit(Request{At: at, Addr: addr, Size: 1 + r.IntN(d.BlockBytes()), Write: r.IntN(4) == 0})
			if err != nil {
				panic(err)
			}
			ts = append(ts, tk)
			switch r.IntN(60) {
			case 0:
				for _, x := range ts {
					v, err := d.Wait(x)
					if err != nil {
						panic(err)
					}
					h.add(v)
				}
				ts = ts[:0]
			case 1:
				d.Advance(at + int64(r.IntN(50_000)))
				at += int64(r.IntN(50_000))
			}
		}
		for _, x := range ts {
			v, err := d.Wait(x)
			if err != nil {
				panic(err)
			}
			h.add(v)
		}
	}},
}

// satRun submits n requests at time 0 and hashes every completion as
// soon as it is known, without simulating further than Submit does.
func satRun(d *DRAM, n int, h *digest, gen func(int) (uint64, bool, int)) {
	var pend []Ticket
	for i := range n {
		a, w, size := gen(i)
		tk, err := d.Submit(Request{Addr: a, Size: size, Write: w})
		if err != nil {
			panic(err)
		}
		pend = append(pend, tk)
		k := 0
		for _, x := range pend {
			if v, ok := d.Done(x); ok {
				h.add(int64(x))
				h.add(v)
			} else {
				pend[k] = x
				k++
			}
		}
		pend = pend[:k]
	}
	for _, x := range pend {
		v, err := d.Wait(x)
		if err != nil {
			panic(err)
		}
		h.add(v)
	}
}

type digest struct{ sum uint64 }

func (h *digest) add(v int64) {
	h.sum ^= uint64(v)
	h.sum *= 0x100000001b3
}

// goldenDigest runs one configuration and workload and returns a text
// digest of every completion time and the final statistics.
func goldenDigest(t testing.TB, cfg Config, work func(*DRAM, uint64, int, *digest), seed uint64, n int) string {
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h := digest{sum: 0xcbf29ce484222325}
	work(d, seed, n, &h)
	d.Drain()
	s := d.Stats()
	f := fnv.New64a()
	fmt.Fprintf(f, "%+v", s)
	return fmt.Sprintf("%016x %016x reads=%d writes=%d hits=%d acts=%d lastdone=%v",
		h.sum, f.Sum64(), s.Reads, s.Writes, s.RowHits, s.Activates, s.LastDoneNS)
}

// TestGoldenDigests pins every completion time and every statistic
// (energy included, bit for bit) of a set of runs. The digests were
// recorded with the plain full-search scheduler of commit 6ccd878;
// scheduler optimizations must reproduce them exactly. Regenerate with
// -update only for an intended change of the model.
func TestGoldenDigests(t *testing.T) {
	path := filepath.Join("testdata", "golden_digests.txt")
	var lines []string
	for _, c := range goldenConfigs {
		for _, w := range goldenWorkloads {
			for seed := uint64(1); seed <= 2; seed++ {
				key := fmt.Sprintf("%s/%s/%d", c.name, w.name, seed)
				lines = append(lines, key+" "+goldenDigest(t, c.cfg, w.run, seed, 15000))
			}
		}
	}
	goldentest.Check(t, path, lines, *updateGolden)
}

// dramsim3Config is the organization of dramsim3LPDDR4.
func dramsim3Config(ranks int) Config {
	return Config{
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
	}
}
