package dram

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Replay must give exactly what Submit for each request and Drain give:
// every completion time and every statistic, whether the channels run
// one after another or at once, and also when requests submitted one by
// one are still queued when it starts.
func TestReplayMatchesSubmit(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"lpddr4x 2ch", Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2}}},
		{"lpddr5 4ch per-bank closed", Config{Grade: "lpddr5-6400", Org: Organization{Channels: 4},
			Controller: Controller{Refresh: "per-bank", PagePolicy: "closed"}}},
		{"ddr4 2ch 2 ranks xor pd", Config{Grade: "ddr4-2400", Org: Organization{Channels: 2, Ranks: 2},
			Controller: Controller{BankXOR: true, PowerDownAfter: 50_000, ReadQueue: 8, WriteQueue: 8, WriteHigh: 6, WriteLow: 2}}},
		{"lpddr4 1ch", Config{Grade: "lpddr4-3200"}},
	} {
		r := rand.New(rand.NewPCG(11, 12))
		var at int64
		rs := make([]Request, 12000)
		for i := range rs {
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
			size := 64
			if r.IntN(8) == 0 {
				size = 32 // partial lines: write-buffer forwarding and merging
				addr &^= 31
			}
			arrival := at
			if r.IntN(40) == 0 {
				arrival -= 5000 // a late arrival
			}
			rs[i] = Request{At: arrival, Addr: addr, Size: size, Write: r.IntN(4) == 0}
		}
		const early = 300 // submitted one by one before the Replay

		// Reference: Submit each, Drain, read every ticket.
		ref, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int64, len(rs))
		tickets := make([]Ticket, len(rs))
		for i, q := range rs {
			if tickets[i], err = ref.Submit(q); err != nil {
				t.Fatal(err)
			}
		}
		ref.Drain()
		for i, tk := range tickets {
			if want[i], err = ref.Wait(tk); err != nil {
				t.Fatalf("%s: request %d: %v", c.name, i, err)
			}
		}

		for _, parallel := range []bool{false, true} {
			d, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int64, len(rs))
			var first [early]Ticket
			for i := range early {
				if first[i], err = d.Submit(rs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.replay(rs[early:], got[early:], true, parallel); err != nil {
				t.Fatal(err)
			}
			for i := range early {
				if got[i], err = d.Wait(first[i]); err != nil {
					t.Fatal(err)
				}
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s parallel=%v: request %d done at %d, Submit gives %d", c.name, parallel, i, got[i], want[i])
				}
			}
			if gs, ws := d.Stats(), ref.Stats(); !reflect.DeepEqual(gs, ws) {
				t.Errorf("%s parallel=%v: stats differ:\n%+v\n%+v", c.name, parallel, gs, ws)
			}
			if d.Decided() != ref.Decided() || d.Pending() != 0 {
				t.Errorf("%s parallel=%v: decided %d (Submit %d), pending %d", c.name, parallel, d.Decided(), ref.Decided(), d.Pending())
			}
		}

		// SubmitAll in pieces, then Drain: the same statistics.
		d, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(rs); i += 1000 {
			if err := d.SubmitAll(rs[i:min(i+1000, len(rs))]); err != nil {
				t.Fatal(err)
			}
		}
		d.Drain()
		if gs, ws := d.Stats(), ref.Stats(); !reflect.DeepEqual(gs, ws) {
			t.Errorf("%s SubmitAll in pieces: stats differ:\n%+v\n%+v", c.name, gs, ws)
		}
		if d.Decided() != ref.Decided() {
			t.Errorf("%s SubmitAll in pieces: decided %d, Submit %d", c.name, d.Decided(), ref.Decided())
		}
	}
}

func TestReplayRejectsBadInput(t *testing.T) {
	d, err := New(Config{Grade: "lpddr4x-4267"})
	if err != nil {
		t.Fatal(err)
	}
	rs := []Request{{Addr: 0, Size: 64}, {Addr: 64, Size: 0}}
	if err := d.Replay(rs, nil); !errors.Is(err, ErrBadRequest) {
		t.Errorf("size 0: got %v, want ErrBadRequest", err)
	}
	if err := d.Replay(rs[:1], make([]int64, 2)); err == nil {
		t.Error("2 completion slots for 1 request: no error")
	}
	if d.Pending() != 0 || d.Stats().Reads != 0 {
		t.Error("a rejected Replay changed the model")
	}
}

// Read latency from queue entry equals latency from arrival while the
// queue never fills, and is bounded by the queue's depth when it does:
// with 4 read-queue entries and every request a row hit of one bank, a
// request waits for at most the 4 ahead of it, one burst each.
func TestQueueLatency(t *testing.T) {
	cfg := Config{Grade: "lpddr4-3200", Controller: Controller{ReadQueue: 4}}
	for _, paced := range []bool{true, false} {
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2000 {
			var at int64
			if paced {
				at = int64(i) * 200_000
			}
			// One row of bank 0: 32 lines of 64 B, over and over.
			if _, err := d.Submit(Request{At: at, Addr: uint64(i%32) * 64, Size: 64}); err != nil {
				t.Fatal(err)
			}
		}
		d.Drain()
		s := d.Stats()
		if paced {
			if s.AvgQueueLatencyNS != s.AvgLatencyNS || s.P99QueueLatencyNS != s.P99LatencyNS || s.QueueFullStalls != 0 {
				t.Errorf("paced: queue latency %g/%g ns, from arrival %g/%g ns, %d stalls; want equal, 0 stalls",
					s.AvgQueueLatencyNS, s.P99QueueLatencyNS, s.AvgLatencyNS, s.P99LatencyNS, s.QueueFullStalls)
			}
			continue
		}
		p := d.tm
		// An idle row hit costs RL + two bursts (BL32 for 64 B on x16);
		// each of up to 4 requests ahead adds its data time.
		bound := float64(p.RL+p.RCD+p.RP+5*2*p.burst) / 1000
		t.Logf("saturated: queue latency %g ns (p99 %g, bound %g), from arrival %g ns", s.AvgQueueLatencyNS, s.P99QueueLatencyNS, bound, s.AvgLatencyNS)
		if s.AvgQueueLatencyNS >= s.AvgLatencyNS/10 || s.P99QueueLatencyNS > bound {
			t.Errorf("saturated: queue latency %g ns (p99 %g, bound %g), from arrival %g ns", s.AvgQueueLatencyNS, s.P99QueueLatencyNS, bound, s.AvgLatencyNS)
		}
	}
}
