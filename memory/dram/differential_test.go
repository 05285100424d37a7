package dram

import (
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
// streams: New must never panic, and the cached scheduler must agree with
// the plain search.
func FuzzScheduler(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{255, 0, 255, 0, 7, 7, 7, 7, 1, 2, 3})
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
		run := func(plain bool) []int64 {
			uncached = plain
			defer func() { uncached = false }()
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
		a, b := run(false), run(true)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("request %d done at %d with caches, %d without (config %+v)", i, a[i], b[i], cfg)
			}
		}
	})
}
