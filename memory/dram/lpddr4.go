package dram

// LPDDR4 (JEDEC JESD209-4B) and, in lpddr4x.go, LPDDR4X (JESD209-4-1):
// one x16 channel per die, 8 banks, BL16 (32 B per burst), 2 KB rows.
//
// Timing: JESD209-4B core timing table, the same values DRAMSys ships as
// configs/memspec/JEDEC_*_LPDDR4-*.json and Ramulator encodes in
// src/LPDDR4.h. RL/WL follow JESD209-4 read/write latency set A (DBI
// off); like Ramulator we count RL and WL from the first cycle of the
// 4-cycle RD/WR command pair, hence the +3 clocks.
//
// Power: IDD currents per rail (VDD1 1.8 V, VDD2 1.1 V) of DRAMSys'
// JEDEC_8Gb_LPDDR4-3200_16bit memspec (mempowerspec idd*/idd*2). I/O:
// the same memspec's VDDQ read burst current idd4rq = 150 mA at 1.1 V
// over 16 pins at 3200 MT/s, i.e. 1.1 V x 0.150 A / 51.2 Gbit/s =
// 3.22 pJ/bit (the DRAM's output drivers; LPDDR4X lowers VDDQ to 0.6 V).
const lpddr4Source = "JEDEC JESD209-4B core timings (as in DRAMSys configs/memspec/JEDEC_*_LPDDR4-*.json and Ramulator src/LPDDR4.h); " +
	"RL/WL set A (DBI off) +3 clocks for the 4-cycle command; tRFCab/pb by per-channel density (JESD209-4 table); " +
	"IDD per rail and VDDQ read current (I/O 3.22 pJ/bit at VDDQ 1.1 V) from DRAMSys JEDEC_8Gb_LPDDR4-3200_16bit memspec"

type lpddr4 struct {
	name string
	bins []int
	// vddq scales the I/O energy: 1.1 V for LPDDR4, 0.6 V for LPDDR4X.
	vddq   float64
	source string
}

func init() {
	Register(lpddr4{name: "lpddr4", bins: []int{1600, 2133, 2400, 2667, 3200, 3733, 4267}, vddq: 1.1, source: lpddr4Source})
}

func (s lpddr4) Name() string           { return s.name }
func (s lpddr4) SpeedBins() []int       { return s.bins }
func (s lpddr4) TransfersPerClock() int { return 2 }
func (s lpddr4) PerBankRefresh() bool   { return true }

func (s lpddr4) DefaultOrg() Organization {
	return Organization{
		Channels: 1, Ranks: 1, BankGroups: 1, BanksPerGroup: 8,
		Rows: 65536, Columns: 1024, DeviceWidth: 16, BusWidth: 16, BurstLength: 16,
	}
}

// lpddr4Latency returns RL and WL (set A, DBI off) in clocks for a clock
// of mhz, per the JESD209-4 latency table.
func lpddr4Latency(mhz float64) (rl, wl int) {
	table := []struct {
		mhz    float64
		rl, wl int
	}{
		{266, 6, 4}, {533, 10, 6}, {800, 14, 8}, {1066, 20, 10},
		{1333, 24, 12}, {1600, 28, 14}, {1866, 32, 16}, {2134, 36, 18},
	}
	for _, e := range table {
		if mhz <= e.mhz {
			return e.rl, e.wl
		}
	}
	return 36, 18
}

// lpddr4RFC returns tRFCab and tRFCpb in ns for a channel of gbit.
func lpddr4RFC(gbit float64) (ab, pb float64) {
	switch {
	case gbit <= 2:
		return 130, 60
	case gbit <= 4:
		return 180, 90
	case gbit <= 8:
		return 280, 140
	default:
		return 380, 190
	}
}

func (s lpddr4) Defaults(rate int, org Organization) Defaults {
	tck := clockPS(rate, 2)
	rl, wl := lpddr4Latency(float64(rate) / 2)
	ab, pb := lpddr4RFC(dieGbit(org))
	t := Timing{
		RCD:  ck(tck, 18, 4),
		RL:   int64(rl+3) * tck,
		WL:   int64(wl+3) * tck,
		RP:   ck(tck, 18, 4),
		RPab: ck(tck, 21, 4),
		RAS:  ck(tck, 42, 3),
		RRDS: ck(tck, 10, 4),
		RRDL: ck(tck, 10, 4),
		FAW:  ck(tck, 40, 0),
		WR:   ck(tck, 18, 6),
		WTRS: ck(tck, 10, 8),
		WTRL: ck(tck, 10, 8),
		RTP:  ck(tck, 7.5, 8),
		// BL16 column commands every 8 clocks, in any bank.
		CCDS:  8 * tck,
		CCDL:  8 * tck,
		RFC:   ck(tck, ab, 0),
		RFCpb: ck(tck, pb, 0),
		REFI:  ck(tck, 3904, 0),
		RTRS:  tck,
		// RD->WR = RL + RU(tDQSCKmax/tCK) + BL/2 + RD(tRPST) - WL + tWPRE,
		// tDQSCKmax = 3.5 ns, tWPRE = 2 clocks.
		Turnaround: ck(tck, 3.5, 0) + 2*tck,
		CmdACT:     4 * tck,
		CmdCAS:     4 * tck,
		CmdPRE:     2 * tck,
		XP:         ck(tck, 7.5, 5),
	}
	t.RC = t.RAS + t.RP
	return Defaults{
		Timing: t,
		Power: Power{
			Rails: []Rail{
				{Name: "vdd1", Volts: 1.8, IDD0: 3.5, IDD2N: 2.0, IDD2P: 1.2, IDD3N: 2.25, IDD3P: 1.2, IDD4R: 2.25, IDD4W: 2.25, IDD5: 10},
				{Name: "vdd2", Volts: 1.1, IDD0: 45, IDD2N: 27, IDD2P: 3.0, IDD3N: 30, IDD3P: 9.0, IDD4R: 275, IDD4W: 210, IDD5: 90},
			},
			RatedMTs:   3200,
			IOPJPerBit: 3.22 * s.vddq / 1.1,
		},
		Controller: defaultController("all-bank"),
		Source:     s.source,
	}
}

// defaultController is the controller every standard starts from: open
// page; consecutive 64 B lines alternate channels, then bank groups
// (sequential data in one bank group would be held to tCCD_L, half the
// bus rate on DDR4 and LPDDR5), then walk a row; 32-entry queues as in
// DRAMsim3's configs (trans_queue_size = 32).
func defaultController(refresh string) Controller {
	return Controller{
		PagePolicy:       "open",
		Mapping:          "RoRaBaCoBgCh",
		ReadQueue:        32,
		WriteQueue:       32,
		WriteHigh:        24,
		WriteLow:         8,
		IdleWriteMin:     1,
		Refresh:          refresh,
		TransactionBytes: 64,
	}
}
