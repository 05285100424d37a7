package dram

// DDR4 (JEDEC JESD79-4): x16 dies with 2 bank groups x 4 banks, BL8, a
// 64-bit channel of four dies, 2 KB rows per die.
//
// Timing: JESD79-4 speed-bin minima in ns (tAA = tRCD = tRP = 13.75 ns,
// tRAS 32 ns, tRRD_S/L 5.3/6.4 ns and tFAW 30 ns for 2 KB pages, tWR 15
// ns, tWTR_S/L 2.5/7.5 ns, tRTP 7.5 ns, tCCD_L max(5 nCK, 5 ns), tRFC1
// 350 ns for 8 Gb, tREFI 7.8 us) and the CWL table; at 3200 MT/s these
// are exactly DRAMsim3's configs/DDR4_8Gb_x16_3200.ini (CL22 CWL16 tRCD22
// tRP22 tRAS52 tRRD_S9 tRRD_L11 tFAW48 tWR24 tRTP12 tCCD_L8 tRFC560
// tREFI12480). RD->WR needs CL + BL/2 + 2 - CWL clocks (Ramulator DDR4).
//
// Power: the IDD values of that DRAMsim3 file (VDD 1.2 V: IDD0 95,
// IDD2N 37, IDD2P 25, IDD3N 56, IDD3P 47, IDD4R 302, IDD4W 278, IDD5AB
// 280 mA). The VPP rail (IPP0 4 mA at 2.5 V) is left out. I/O [est]: the
// LPDDR4 per-pin read current at VDDQ 1.2 V (3.5 pJ/bit), without POD
// termination power.
const ddr4Source = "JEDEC JESD79-4 speed-bin minima; equal to DRAMsim3 configs/DDR4_8Gb_x16_3200.ini at 3200 MT/s (timings and IDD, VPP omitted); " +
	"turnaround as Ramulator DDR4 (CL+BL/2+2-CWL); I/O [est] 3.5 pJ/bit (LPDDR4 VDDQ read current at 1.2 V, no termination)"

type ddr4 struct{}

func init() { Register(ddr4{}) }

func (ddr4) Name() string           { return "ddr4" }
func (ddr4) SpeedBins() []int       { return []int{1600, 1866, 2133, 2400, 2666, 2933, 3200} }
func (ddr4) TransfersPerClock() int { return 2 }
func (ddr4) PerBankRefresh() bool   { return false }

func (ddr4) DefaultOrg() Organization {
	return Organization{
		Channels: 1, Ranks: 1, BankGroups: 2, BanksPerGroup: 4,
		Rows: 65536, Columns: 1024, DeviceWidth: 16, BusWidth: 64, BurstLength: 8,
	}
}

func ddr4CWL(rate int) int {
	switch {
	case rate <= 1600:
		return 9
	case rate <= 1866:
		return 10
	case rate <= 2133:
		return 11
	case rate <= 2400:
		return 12
	case rate <= 2666:
		return 14
	default:
		return 16
	}
}

func ddr4RFC(gbit float64) float64 {
	switch {
	case gbit <= 2:
		return 160
	case gbit <= 4:
		return 260
	case gbit <= 8:
		return 350
	default:
		return 550
	}
}

func (ddr4) Defaults(rate int, org Organization) Defaults {
	tck := clockPS(rate, 2)
	t := Timing{
		RCD:  ck(tck, 13.75, 0),
		RL:   ck(tck, 13.75, 0),
		WL:   int64(ddr4CWL(rate)) * tck,
		RP:   ck(tck, 13.75, 0),
		RPab: ck(tck, 13.75, 0),
		RAS:  ck(tck, 32, 0),
		RRDS: ck(tck, 5.3, 4),
		RRDL: ck(tck, 6.4, 4),
		FAW:  ck(tck, 30, 0),
		WR:   ck(tck, 15, 0),
		WTRS: ck(tck, 2.5, 2),
		WTRL: ck(tck, 7.5, 4),
		RTP:  ck(tck, 7.5, 4),
		CCDS: 4 * tck,
		CCDL: ck(tck, 5, 5),
		RFC:  ck(tck, ddr4RFC(dieGbit(org)), 0),
		REFI: ck(tck, 7800, 0),
		RTRS: tck,
		// RD->WR = CL + BL/2 + 2 - CWL clocks.
		Turnaround: 2 * tck,
		CmdACT:     tck,
		CmdCAS:     tck,
		CmdPRE:     tck,
		XP:         ck(tck, 6, 4),
	}
	t.RC = t.RAS + t.RP
	return Defaults{
		Timing: t,
		Power: Power{
			Rails: []Rail{
				{Name: "vdd", Volts: 1.2, IDD0: 95, IDD2N: 37, IDD2P: 25, IDD3N: 56, IDD3P: 47, IDD4R: 302, IDD4W: 278, IDD5: 280},
			},
			RatedMTs:   3200,
			IOPJPerBit: 3.22 * 1.2 / 1.1,
		},
		Controller: defaultController("all-bank"),
		Source:     ddr4Source,
	}
}
