package dram

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestStandards runs every registered standard at every speed bin
// through the same checks: defaults resolve and validate, idle-bank
// latencies follow the documented formulas, streaming stays below the
// bus peak but close to it, and energy is accounted.
func TestStandards(t *testing.T) {
	for _, g := range Grades() {
		t.Run(g, func(t *testing.T) {
			std, rate, err := ParseGrade(g)
			if err != nil {
				t.Fatal(err)
			}
			if src, _ := SourceOf(std); src == "" {
				t.Errorf("%s has no source", std)
			}
			d, err := New(Config{Grade: g, Controller: Controller{Refresh: "none"}})
			if err != nil {
				t.Fatalf("New(%s): %v", g, err)
			}
			if c := d.Config(); c.Standard != std || c.DataRate != rate {
				t.Errorf("resolved %s/%d, want %s/%d", c.Standard, c.DataRate, std, rate)
			}
			tm := d.tm
			size := d.BurstBytes()
			t0 := int64(1_000_000)
			miss := access(t, d, t0, 0, size, false) - t0
			// Next column and next row of the same bank.
			col := uint64(1) << (d.m.blockBits + d.m.shift[fCo])
			row := uint64(1) << (d.m.blockBits + d.m.shift[fRo])
			hit := access(t, d, 2*t0, col, size, false) - 2*t0
			conflict := access(t, d, 3*t0, row, size, false) - 3*t0
			for _, c := range []struct {
				name      string
				got, want int64
			}{
				{"hit", hit, tm.RL + tm.burst},
				{"miss", miss, tm.RCD + tm.RL + tm.burst},
				{"conflict", conflict, tm.RP + tm.RCD + tm.RL + tm.burst},
			} {
				if c.got != c.want {
					t.Errorf("%s latency = %d ps, want %d", c.name, c.got, c.want)
				}
			}
			d, _ = New(Config{Grade: g})
			s := saturate(t, d, 20000, func(i int) (uint64, bool) { return uint64(i) * 64, false }, 64)
			peak := d.PeakBandwidth()
			if s.BusBandwidthGBps > peak*1.0001 || s.BusBandwidthGBps < 0.85*peak {
				t.Errorf("streaming %.2f GB/s, want at most the peak %.2f and within 15 %% of it", s.BusBandwidthGBps, peak)
			}
			if e := s.Energy; e.ReadPJ <= 0 || e.ActivatePJ <= 0 || e.BackgroundPJ <= 0 || e.RefreshPJ <= 0 || e.IOPJ <= 0 {
				t.Errorf("energy terms %+v, want all > 0", e)
			}
			if s.Reads != 20000 || s.Bytes != 20000*64 {
				t.Errorf("reads/bytes = %d/%d, want 20000/%d", s.Reads, s.Bytes, 20000*64)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Standard: "ddr9"}, "unknown standard"},
		{Config{}, "no grade or standard, want grade (e.g. lpddr4x-4267) or standard (ddr4, lpddr4,"},
		{Config{Grade: "lpddr4-9999"}, "no 9999 MT/s speed bin"},
		{Config{Grade: "lpddr4"}, "want <standard>-<MT/s>"},
		{Config{Standard: "lpddr5", DataRate: 100}, "data_rate_mts 100 outside"},
		{Config{Grade: "lpddr4-2400", Org: Organization{Rows: 1000}}, "org.rows = 1000"},
		{Config{Grade: "lpddr4-2400", Controller: Controller{PagePolicy: "half"}}, "controller.page_policy"},
		{Config{Grade: "lpddr4-2400", Controller: Controller{Mapping: "RoBaCoXx"}}, "unknown field \"Xx\""},
		{Config{Grade: "lpddr4-2400", Org: Organization{Ranks: 2}, Controller: Controller{Mapping: "RoBaBgCoCh"}}, "field Ra missing"},
		{Config{Grade: "ddr4-3200", Controller: Controller{Refresh: "per-bank"}}, "has no per-bank refresh"},
		{Config{Grade: "lpddr4-2400", Timing: Timing{RC: 1000}}, "trc_ps"},
		{Config{Grade: "lpddr4-2400", Controller: Controller{WriteHigh: 8, WriteLow: 8}}, "write_high"},
		{Config{Grade: "lpddr4-2400", Controller: Controller{IdleWriteMin: 33}}, "idle_write_min 33"},
		{Config{Grade: "lpddr4-2400", Controller: Controller{MinWritesPerSwitch: -1}}, "min_writes_per_switch -1"},
		{Config{Grade: "lpddr4-2400", Power: Power{Rails: []Rail{{Name: "x", Volts: -1}}}}, "volts"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) error = %v, want one containing %q", c.cfg, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q spans lines, want one line", err)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, ErrUnknownStandard) {
			t.Errorf("error %v wraps neither ErrInvalidConfig nor ErrUnknownStandard", err)
		}
	}
}

func TestMappingFields(t *testing.T) {
	d, err := New(Config{Grade: "lpddr4x-4267", Org: Organization{Channels: 2, Ranks: 2},
		Controller: Controller{Mapping: "RoRaBaCoCh", Refresh: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	// 64 B blocks: bit 6 channel, bits 7-11 column (32 blocks per 2 KB
	// row), 12-14 bank, 15 rank, 16+ row.
	for _, c := range []struct {
		addr                uint64
		ch, rank, bank, row int
	}{
		{0, 0, 0, 0, 0},
		{1 << 6, 1, 0, 0, 0},
		{1 << 7, 0, 0, 0, 0},
		{1 << 12, 0, 0, 1, 0},
		{1 << 15, 0, 1, 8, 0},
		{1 << 16, 0, 0, 0, 1},
		{3<<16 | 5<<12 | 1<<6, 1, 0, 5, 3},
	} {
		l := d.m.decode(c.addr)
		if rank := l.bank / 8; l.ch != c.ch || rank != c.rank || l.bank != c.bank || int(l.row) != c.row {
			t.Errorf("decode(%#x) = ch%d rank%d bank%d row%d, want ch%d rank%d bank%d row%d",
				c.addr, l.ch, rank, l.bank, l.row, c.ch, c.rank, c.bank, c.row)
		}
	}
	// Bank XOR folds the row's low bits into the bank.
	d2, _ := New(Config{Grade: "lpddr4-2400", Controller: Controller{Mapping: "RoBaCo", BankXOR: true}})
	if l := d2.m.decode(3<<14 | 1<<11); l.bank != 1^3 || l.row != 3 {
		t.Errorf("bank XOR decode = bank %d row %d, want bank %d row 3", l.bank, l.row, 1^3)
	}
}

func TestPerBankRefresh(t *testing.T) {
	d, err := New(Config{Grade: "lpddr5-6400", Controller: Controller{Refresh: "per-bank"}})
	if err != nil {
		t.Fatal(err)
	}
	s := saturate(t, d, 100000, func(i int) (uint64, bool) { return uint64(i) * 64, false }, 64)
	span := (s.LastDoneNS - s.FirstArrivalNS) * 1000
	want := span / float64(d.tm.refiPB)
	if s.Refreshes != 0 || float64(s.PerBankRefreshes) < want-2 || float64(s.PerBankRefreshes) > want+2 {
		t.Errorf("refreshes all-bank %d, per-bank %d over %.0f ns, want 0 and %.0f (one per tREFI/banks)",
			s.Refreshes, s.PerBankRefreshes, span/1000, want)
	}
}

func TestEnergyHandComputed(t *testing.T) {
	// One read miss on an idle LPDDR4-2400 x16 channel (one die) at t=0,
	// then nothing until 10 us.
	d := lp4(t, nil)
	access(t, d, 0, 0, 32, false)
	d.Advance(10_000_000)
	s := d.Stats()
	tm := d.Config().Timing
	ns := func(ps int64) float64 { return float64(ps) / 1000 }
	// ACT+PRE per rail: V * (IDD0*tRC - IDD3N*tRAS - IDD2N*(tRC-tRAS)).
	act := 1.8*(3.5*ns(tm.RC)-2.25*ns(tm.RAS)-2.0*ns(tm.RC-tm.RAS)) +
		1.1*(45*ns(tm.RC)-30*ns(tm.RAS)-27*ns(tm.RC-tm.RAS))
	// One BL16 burst at 2400 of IDD4R rated at 3200 MT/s.
	rd := (1.8*(2.25-2.25) + 1.1*(275-30)) * ns(8*833) * 2400 / 3200
	io := 3.22 * 16 * 16
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"activate", s.Energy.ActivatePJ, act},
		{"read", s.Energy.ReadPJ, rd},
		{"io", s.Energy.IOPJ, io},
	} {
		if d := c.got - c.want; d > 1e-6*c.want || d < -1e-6*c.want {
			t.Errorf("%s energy = %.4f pJ, want %.4f", c.name, c.got, c.want)
		}
	}
	// The bank stays open after the access (open page): IDD3N from the
	// ACT to the end, IDD2N before.
	bg := (1.8*2.0+1.1*27)*0 + (1.8*2.25+1.1*30)*(ns(10_000_000))/1
	if got := s.Energy.BackgroundPJ; fmt.Sprintf("%.3f", got) != fmt.Sprintf("%.3f", bg) {
		t.Errorf("background = %.3f pJ, want %.3f (one rank active from t=0 to 10 us)", got, bg)
	}
}
