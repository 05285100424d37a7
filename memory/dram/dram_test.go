package dram

import (
	"errors"
	"math"
	"testing"
)

// lp4 is one LPDDR4-2400 x16 channel without refresh, so hand-computed
// latencies are not disturbed.
func lp4(t *testing.T, mod func(*Config)) *DRAM {
	t.Helper()
	cfg := Config{Grade: "lpddr4-2400", Controller: Controller{Refresh: "none"}}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func access(t *testing.T, d *DRAM, at int64, addr uint64, size int, write bool) int64 {
	t.Helper()
	done, err := d.Access(at, addr, size, write)
	if err != nil {
		t.Fatalf("Access(%d, %#x): %v", at, addr, err)
	}
	return done
}

// rowAddr returns the address of column block col of row in bank 0 of
// channel 0 under the default mapping RoRaBaCoBgCh (one channel, one
// rank, no bank groups): 64 B blocks, 32 blocks per 2 KB row, 8 banks.
func rowAddr(bank, row, col uint64) uint64 {
	return (row<<3|bank)<<11 | col<<6
}

func TestResolvedLPDDR4Timing(t *testing.T) {
	d := lp4(t, nil)
	tm := d.Config().Timing
	// tCK = 833 ps at 2400 MT/s (1200 MHz); JESD209-4: RL 24 + 3, WL 12 + 3
	// clocks; tRCD = tRPpb = ceil(18 ns / tCK) = 22 clocks.
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"RL", tm.RL, 27 * 833},
		{"WL", tm.WL, 15 * 833},
		{"RCD", tm.RCD, 22 * 833},
		{"RP", tm.RP, 22 * 833},
		{"RAS", tm.RAS, 51 * 833},
		{"FAW", tm.FAW, 49 * 833},
		{"RFC", tm.RFC, 337 * 833}, // 280 ns for an 8 Gb channel
		{"REFI", tm.REFI, 4687 * 833},
		{"burst", d.tm.burst, 8 * 833},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d ps, want %d ps", c.name, c.got, c.want)
		}
	}
}

func TestIdleBankLatencies(t *testing.T) {
	d := lp4(t, nil)
	tm := d.tm
	burst := tm.burst
	// Row miss on a closed bank: ACT, then RD after tRCD, data after RL.
	t0 := int64(1_000_000)
	got := access(t, d, t0, rowAddr(0, 5, 0), 32, false) - t0
	if want := tm.RCD + tm.RL + burst; got != want {
		t.Errorf("closed-bank miss latency = %d ps, want tRCD+RL+burst = %d ps", got, want)
	}
	// Row hit on the now open row.
	t1 := t0 + 1_000_000
	got = access(t, d, t1, rowAddr(0, 5, 1), 32, false) - t1
	if want := tm.RL + burst; got != want {
		t.Errorf("row-hit latency = %d ps, want RL+burst = %d ps", got, want)
	}
	// Conflict: another row of the same bank.
	t2 := t1 + 1_000_000
	got = access(t, d, t2, rowAddr(0, 6, 0), 32, false) - t2
	if want := tm.RP + tm.RCD + tm.RL + burst; got != want {
		t.Errorf("conflict latency = %d ps, want tRP+tRCD+RL+burst = %d ps", got, want)
	}
	// A 64 B line is one BL32 command: two bursts of data.
	t3 := t2 + 1_000_000
	got = access(t, d, t3, rowAddr(0, 6, 2), 64, false) - t3
	if want := tm.RL + 2*burst; got != want {
		t.Errorf("64 B row-hit latency = %d ps, want RL+2*burst = %d ps", got, want)
	}
	s := d.Stats()
	if s.RowHits != 2 || s.RowMisses != 1 || s.RowConflicts != 1 {
		t.Errorf("hits/misses/conflicts = %d/%d/%d, want 2/1/1", s.RowHits, s.RowMisses, s.RowConflicts)
	}
	if s.Activates != 2 || s.Precharges != 1 {
		t.Errorf("ACT/PRE = %d/%d, want 2/1", s.Activates, s.Precharges)
	}
	// In ns: 833 ps clock, RL 27, tRCD 22, tRP 22 clocks, burst 8 clocks.
	t.Logf("LPDDR4-2400: hit %.2f ns, miss %.2f ns, conflict %.2f ns",
		float64(tm.RL+burst)/1000, float64(tm.RCD+tm.RL+burst)/1000, float64(tm.RP+tm.RCD+tm.RL+burst)/1000)
}

func TestClosedPagePolicy(t *testing.T) {
	d := lp4(t, func(c *Config) { c.Controller.PagePolicy = "closed" })
	tm := d.tm
	t0 := int64(1_000_000)
	access(t, d, t0, rowAddr(0, 5, 0), 32, false)
	// The row was closed after the access: the next access to it is a
	// miss, not a hit.
	t1 := t0 + 1_000_000
	got := access(t, d, t1, rowAddr(0, 5, 1), 32, false) - t1
	if want := tm.RCD + tm.RL + tm.burst; got != want {
		t.Errorf("closed-page second access latency = %d, want %d", got, want)
	}
	if s := d.Stats(); s.RowHits != 0 || s.RowMisses != 2 || s.Precharges != 2 {
		t.Errorf("hits/misses/PRE = %d/%d/%d, want 0/2/2", s.RowHits, s.RowMisses, s.Precharges)
	}
}

func TestBusTurnaround(t *testing.T) {
	d := lp4(t, nil)
	tm := d.tm
	open := access(t, d, 0, rowAddr(0, 1, 0), 32, false)
	// Write then read on the open row: the RD waits for the write data
	// plus tWTR.
	tw := open + 100_000
	w, _ := d.Submit(Request{At: tw, Addr: rowAddr(0, 1, 1), Size: 32, Write: true})
	wdone, _ := d.Wait(w)
	if want := tw + tm.WL + tm.burst; wdone != want {
		t.Fatalf("write done = %d, want %d", wdone, want)
	}
	rdone := access(t, d, tw+1, rowAddr(0, 1, 2), 32, false)
	if want := wdone + tm.WTRL + tm.RL + tm.burst; rdone != want {
		t.Errorf("read after write done = %d, want WR data end + tWTR + RL + burst = %d", rdone, want)
	}
	// Read then write: the WR waits until read data, turnaround and WL fit.
	tr := rdone + 100_000
	r2, _ := d.Submit(Request{At: tr, Addr: rowAddr(0, 1, 3), Size: 32})
	r2done, _ := d.Wait(r2)
	w2done := access(t, d, tr+1, rowAddr(0, 1, 4), 32, true)
	wcas := max(tr+tm.CCDL, r2done+tm.Turnaround-tm.WL)
	if want := wcas + tm.WL + tm.burst; w2done != want {
		t.Errorf("write after read done = %d, want %d", w2done, want)
	}
}

// saturate submits n requests from gen as fast as the controller takes
// them and drains.
func saturate(t testing.TB, d *DRAM, n int, gen func(i int) (uint64, bool), size int) Stats {
	for i := range n {
		a, w := gen(i)
		if _, err := d.Submit(Request{At: 0, Addr: a, Size: size, Write: w}); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	d.Drain()
	return d.Stats()
}

func TestRefreshCostsRFCOverREFI(t *testing.T) {
	run := func(refresh string) Stats {
		d := lp4(t, func(c *Config) { c.Controller.Refresh = refresh })
		return saturate(t, d, 200_000, func(i int) (uint64, bool) { return uint64(i) * 64, false }, 64)
	}
	with, without := run("all-bank"), run("none")
	d := lp4(t, nil)
	tm := d.Config().Timing
	loss := 1 - with.BandwidthGBps/without.BandwidthGBps
	want := float64(tm.RFC) / float64(tm.REFI)
	t.Logf("streaming: %.3f GB/s without refresh, %.3f with; loss %.2f %%, tRFC/tREFI %.2f %%",
		without.BandwidthGBps, with.BandwidthGBps, 100*loss, 100*want)
	if loss < want-0.005 || loss > want+0.015 {
		t.Errorf("refresh bandwidth loss = %.4f, want tRFC/tREFI = %.4f (+1.5/-0.5 points)", loss, want)
	}
	if with.Refreshes == 0 {
		t.Errorf("Refreshes = 0, want > 0")
	}
	span := with.LastDoneNS - with.FirstArrivalNS
	if n, want := float64(with.Refreshes), span*1000/float64(tm.REFI); math.Abs(n-want) > 1.5 {
		t.Errorf("Refreshes = %v over %.0f ns, want %.1f (one per tREFI)", n, span, want)
	}
}

func TestFAWLimitsActivations(t *testing.T) {
	// Rows of eight banks in turn: every request needs an ACT. With tRRD
	// at one clock the four-activate window is the binding limit.
	mk := func(faw int64) Stats {
		d := lp4(t, func(c *Config) {
			c.Timing.RRDS, c.Timing.RRDL = 833, 833
			c.Timing.CmdACT, c.Timing.CmdCAS, c.Timing.CmdPRE = 833, 833, 833
			c.Timing.FAW = faw
		})
		return saturate(t, d, 20_000, func(i int) (uint64, bool) {
			return rowAddr(uint64(i%8), uint64(i/8), 0), false
		}, 32)
	}
	faw := int64(40_000)
	s := mk(faw)
	span := (s.LastDoneNS - s.FirstArrivalNS) * 1000
	rate := float64(s.Activates) / span // ACT per ps
	limit := 4 / float64(faw)           // at most four per window
	t.Logf("tFAW 40 ns: %.3f ACT/ns, limit %.3f", rate*1000, limit*1000)
	if rate > limit*1.001 || rate < limit*0.95 {
		t.Errorf("ACT rate = %.4g /ps, want just under 4/tFAW = %.4g /ps", rate, limit)
	}
	// With tFAW halved, eight banks at tRC = 60 ns allow 8/60 ACT/ns:
	// a third more than 4/40.
	fast := mk(20_000)
	if fast.BandwidthGBps <= s.BandwidthGBps*1.25 {
		t.Errorf("halving tFAW: bandwidth %.2f -> %.2f GB/s, want about 4/3 of it (tRC-bound)", s.BandwidthGBps, fast.BandwidthGBps)
	}
}

func TestSubmitRejectsBadSize(t *testing.T) {
	d := lp4(t, nil)
	for _, size := range []int{0, -1, 65} {
		if _, err := d.Submit(Request{Addr: 0, Size: size}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Submit(size %d) error = %v, want ErrBadRequest", size, err)
		}
	}
}

// The write-switch policy beyond the watermarks, by hand on one
// LPDDR4-2400 channel:
//   - idle_write_min 4: three writes wait while no read does (gem5 waits
//     for more than its low threshold); the fourth starts the drain;
//     Drain flushes whatever waits.
//   - min_writes_per_switch 6: a read arriving in an idle drain of 8
//     writes to one row waits for 6 of them, then the write-to-read
//     turnaround; with 0 it goes first.
func TestWriteSwitchPolicy(t *testing.T) {
	const ms = int64(1_000_000_000)
	d := lp4(t, func(c *Config) { c.Controller.IdleWriteMin = 4 })
	for col := range uint64(3) {
		if _, err := d.Submit(Request{At: 0, Addr: rowAddr(0, 1, col), Size: 64, Write: true}); err != nil {
			t.Fatal(err)
		}
	}
	d.Advance(ms)
	if n := d.Pending(); n != 3 {
		t.Fatalf("3 writes below idle_write_min 4: %d pending after 1 ms, want 3", n)
	}
	if _, err := d.Submit(Request{At: ms, Addr: rowAddr(0, 1, 3), Size: 64, Write: true}); err != nil {
		t.Fatal(err)
	}
	d.Advance(2 * ms)
	if n := d.Pending(); n != 0 {
		t.Fatalf("4 writes: %d pending after 1 ms more, want 0", n)
	}
	d = lp4(t, func(c *Config) { c.Controller.IdleWriteMin = 4 })
	for col := range uint64(3) {
		d.Submit(Request{At: 0, Addr: rowAddr(0, 1, col), Size: 64, Write: true})
	}
	if d.Drain(); d.Pending() != 0 || d.Stats().Writes != 3 {
		t.Fatalf("Drain left %d pending, %d writes done, want 0 and 3", d.Pending(), d.Stats().Writes)
	}

	readAfter := func(minSwitch int) (read int64, writes []int64) {
		d := lp4(t, func(c *Config) { c.Controller.MinWritesPerSwitch = minSwitch })
		var tk []Ticket
		for col := range uint64(8) {
			w, err := d.Submit(Request{At: 0, Addr: rowAddr(0, 1, col), Size: 64, Write: true})
			if err != nil {
				t.Fatal(err)
			}
			tk = append(tk, w)
		}
		r, err := d.Submit(Request{At: 1000, Addr: rowAddr(1, 1, 0), Size: 64})
		if err != nil {
			t.Fatal(err)
		}
		read, _ = d.Wait(r)
		for _, w := range tk {
			done, _ := d.Wait(w)
			writes = append(writes, done)
		}
		return read, writes
	}
	r0, w0 := readAfter(0)
	r6, w6 := readAfter(6)
	tm := lp4(t, nil).tm
	if r0 >= w0[5] {
		t.Errorf("min_writes_per_switch 0: read done at %d, after the 6th write (%d); want it first", r0, w0[5])
	}
	if r6 < w6[5]+tm.WTRL+tm.RL+tm.burst {
		t.Errorf("min_writes_per_switch 6: read done at %d, want at least the 6th write's end %d + tWTR + RL + burst", r6, w6[5])
	}
	t.Logf("read done: %d ps with min_writes_per_switch 0 (6th write %d), %d ps with 6 (6th write %d)", r0, w0[5], r6, w6[5])
}
