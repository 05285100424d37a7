package dram

// LPDDR5 (JEDEC JESD209-5) and, in lpddr5x.go, LPDDR5X (JESD209-5B):
// one x16 channel per die, 16 banks in bank-group mode (4 groups x 4
// banks, the mode used above 3200 MT/s), BL16 = 32 B per burst, 2 KB rows.
// The command clock CK runs at rate/8 (WCK = 4 x CK, data on both WCK
// edges).
//
// Timing: the LPDDR5-6400 preset of Ramulator 2 (src/dram/impl/LPDDR5.cpp,
// in 1.25 ns clocks: nRCD 15, nRPab 17, nRPpb 15, nRAS 34, nWR 28, nRTP 4,
// nCL 20, nCWL 11, nRRD 4, nWTRS 5, nWTRL 10, nFAW 16) kept constant in
// nanoseconds at other rates; tCCD_S = 2 CK (BL16) and tCCD_L = 4 CK in
// bank-group mode; tRFCab/tRFCpb by density from the same file's tables
// (8 Gb: 210/120 ns, 16 Gb: 280/140 ns), tREFI 3.906 us.
//
// Power [est]: no public LPDDR5 IDD table with per-rail currents was
// found. The core energy is the LPDDR4 model (DRAMSys JEDEC memspec
// currents, same per-bit burst energy) scaled by Samsung's announced
// savings: LPDDR5 "up to 30 percent" below LPDDR4X (8 Gb LPDDR5 launch,
// July 2018), LPDDR5X "approximately 20% less power than LPDDR5" (16 Gb
// LPDDR5X launch, November 2021): factors 0.7 and 0.56. The I/O term
// scales the LPDDR4 VDDQ read current to VDDQ 0.5 V (1.46 pJ/bit).
// Replace with a datasheet when one is at hand.
const lpddr5Source = "Ramulator 2 src/dram/impl/LPDDR5.cpp LPDDR5_6400 preset (timings held in ns across rates) and its tRFC tables; " +
	"JESD209-5 bank-group mode (tCCD_S 2 CK, tCCD_L 4 CK); power [est]: LPDDR4 IDD model (DRAMSys JEDEC memspec) x 0.7 " +
	"(Samsung: LPDDR5 up to 30 % below LPDDR4X), I/O at VDDQ 0.5 V = 1.46 pJ/bit"

type lpddr5 struct {
	name   string
	bins   []int
	source string
	// power scales the LPDDR4 core currents.
	power float64
}

func init() {
	Register(lpddr5{name: "lpddr5", bins: []int{3200, 4267, 5500, 6400}, source: lpddr5Source, power: 0.7})
}

func (s lpddr5) Name() string           { return s.name }
func (s lpddr5) SpeedBins() []int       { return s.bins }
func (s lpddr5) TransfersPerClock() int { return 8 }
func (s lpddr5) PerBankRefresh() bool   { return true }

func (s lpddr5) DefaultOrg() Organization {
	return Organization{
		Channels: 1, Ranks: 1, BankGroups: 4, BanksPerGroup: 4,
		Rows: 65536, Columns: 1024, DeviceWidth: 16, BusWidth: 16, BurstLength: 16,
	}
}

func lpddr5RFC(gbit float64) (ab, pb float64) {
	switch {
	case gbit <= 2:
		return 130, 60
	case gbit <= 4:
		return 180, 90
	case gbit <= 8:
		return 210, 120
	default:
		return 280, 140
	}
}

func (s lpddr5) Defaults(rate int, org Organization) Defaults {
	tck := clockPS(rate, 8)
	ab, pb := lpddr5RFC(dieGbit(org))
	t := Timing{
		RCD:        ck(tck, 18.75, 2),
		RL:         ck(tck, 25, 2),
		WL:         ck(tck, 13.75, 2),
		RP:         ck(tck, 18.75, 2),
		RPab:       ck(tck, 21.25, 2),
		RAS:        ck(tck, 42.5, 2),
		RRDS:       ck(tck, 5, 2),
		RRDL:       ck(tck, 5, 2),
		FAW:        ck(tck, 20, 0),
		WR:         ck(tck, 35, 3),
		WTRS:       ck(tck, 6.25, 2),
		WTRL:       ck(tck, 12.5, 4),
		RTP:        ck(tck, 5, 2),
		CCDS:       2 * tck,
		CCDL:       4 * tck,
		RFC:        ck(tck, ab, 0),
		RFCpb:      ck(tck, pb, 0),
		REFI:       ck(tck, 3906, 0),
		RTRS:       tck,
		Turnaround: 4 * tck, // [est] tWCK2DQO + read postamble + write preamble
		CmdACT:     2 * tck, // ACT-1 + ACT-2
		CmdCAS:     tck,
		CmdPRE:     tck,
		XP:         ck(tck, 7, 3),
	}
	t.RC = t.RAS + t.RP
	k := s.power
	return Defaults{
		Timing: t,
		Power: Power{
			Rails: []Rail{
				{Name: "vdd1", Volts: 1.8, IDD0: 3.5 * k, IDD2N: 2.0 * k, IDD2P: 1.2 * k, IDD3N: 2.25 * k, IDD3P: 1.2 * k, IDD4R: 2.25 * k, IDD4W: 2.25 * k, IDD5: 10 * k},
				{Name: "vdd2", Volts: 1.1, IDD0: 45 * k, IDD2N: 27 * k, IDD2P: 3.0 * k, IDD3N: 30 * k, IDD3P: 9.0 * k, IDD4R: 275 * k, IDD4W: 210 * k, IDD5: 90 * k},
			},
			RatedMTs:   3200,
			IOPJPerBit: 3.22 * 0.5 / 1.1,
		},
		Controller: defaultController("all-bank"),
		Source:     s.source,
	}
}
