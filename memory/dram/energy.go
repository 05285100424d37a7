package dram

// Energy model (Micron TN-41-01 "Calculating Memory System Power", as
// DRAMsim3's configuration.cc applies it), per die and rail, times the
// dies of a rank:
//
//	ACT+PRE pair  V * (IDD0*tRC - (IDD3N*tRAS + IDD2N*(tRC-tRAS)))
//	read burst    V * (IDD4R - IDD3N) * tBurst * rate/rated
//	write burst   V * (IDD4W - IDD3N) * tBurst * rate/rated
//	REFab         V * (IDD5 - IDD3N) * tRFC; a REFpb costs 1/banks of it
//	background    V * IDD3N while any bank of the rank is open, IDD2N
//	              otherwise; IDD3P/IDD2P during power-down
//
// mA x ns x V = pJ. The burst terms are scaled to the data rate so a bit
// costs the same at any rate (burst current grows with frequency). The
// I/O term (data-bus drivers and termination) is separate: IDD values
// do not contain it, and it dominates real DRAM energy (Li, Reddy and
// Jacob, MEMSYS 2018).

type energyParams struct {
	act, rd, wr, ref, refPB, io float64 // pJ per command or burst
	// pJ per picosecond of one rank in each state.
	bgOpen, bgClosed, pdOpenDelta, pdClosedDelta float64
}

type energyAcc struct {
	act, rd, wr, ref, io float64
}

func newEnergyParams(c Config, p *params) energyParams {
	ns := func(ps int64) float64 { return float64(ps) / 1000 }
	var e energyParams
	dev := p.devices
	scale := float64(c.DataRate) / float64(c.Power.RatedMTs)
	for _, r := range c.Power.Rails {
		v := r.Volts * dev
		// Every product is rounded (float64()) before it is added, so
		// that arm64, where Go may fuse a*b+c into one FMA, computes the
		// same bits as amd64.
		standby := float64(r.IDD3N*ns(p.RAS)) + float64(r.IDD2N*ns(p.RC-p.RAS))
		e.act += float64(v * max(0, float64(r.IDD0*ns(p.RC))-standby))
		e.rd += float64(v * max(0, r.IDD4R-r.IDD3N) * ns(p.burst) * scale)
		e.wr += float64(v * max(0, r.IDD4W-r.IDD3N) * ns(p.burst) * scale)
		e.ref += float64(v * max(0, r.IDD5-r.IDD3N) * ns(p.RFC))
		e.bgOpen += float64(v * r.IDD3N / 1000)
		e.bgClosed += float64(v * r.IDD2N / 1000)
		if r.IDD3P > 0 {
			e.pdOpenDelta += float64(v * (r.IDD3P - r.IDD3N) / 1000)
		}
		if r.IDD2P > 0 {
			e.pdClosedDelta += float64(v * (r.IDD2P - r.IDD2N) / 1000)
		}
	}
	e.refPB = e.ref / float64(p.banksPerRnk)
	if c.Power.IOPJPerBit > 0 {
		e.io = c.Power.IOPJPerBit * float64(c.Org.BusWidth*c.Org.BurstLength)
	}
	return e
}

// Energy is the DRAM energy in picojoules.
type Energy struct {
	ActivatePJ   float64 `json:"activate_pj" yaml:"activate_pj"`
	ReadPJ       float64 `json:"read_pj" yaml:"read_pj"`
	WritePJ      float64 `json:"write_pj" yaml:"write_pj"`
	RefreshPJ    float64 `json:"refresh_pj" yaml:"refresh_pj"`
	BackgroundPJ float64 `json:"background_pj" yaml:"background_pj"`
	// CorePJ sums the IDD-derived terms above: what DRAMsim3 and
	// DRAMPower report (no I/O).
	CorePJ float64 `json:"core_pj" yaml:"core_pj"`
	// IOPJ is the data-bus I/O energy (Power.IOPJPerBit per bit moved).
	IOPJ float64 `json:"io_pj" yaml:"io_pj"`
	// TotalPJ = CorePJ + IOPJ.
	TotalPJ float64 `json:"total_pj" yaml:"total_pj"`
}
