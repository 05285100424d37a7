package dram

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Config describes one DRAM subsystem: a standard at a data rate, its
// organization, timing, power and the memory controller in front of it.
// Organization, Timing and Power fields left at zero take the standard's
// defaults at the chosen data rate (see Resolve); every default is cited
// in the standard's file and in docs/timing-model.md.
type Config struct {
	// Standard names a registered standard: lpddr4, lpddr4x, lpddr5,
	// lpddr5x, ddr4 (see Standards).
	Standard string `yaml:"standard,omitempty" json:"standard,omitempty"`
	// Grade is a convenience name "<standard>-<MT/s>" such as
	// "lpddr4x-4267"; it sets Standard and DataRate (which must then be
	// empty or agree).
	Grade string `yaml:"grade,omitempty" json:"grade,omitempty"`
	// DataRate is the transfer rate per data pin in MT/s.
	DataRate int `yaml:"data_rate_mts,omitempty" json:"data_rate_mts,omitempty"`

	Org        Organization `yaml:"org,omitempty" json:"org"`
	Timing     Timing       `yaml:"timing,omitempty" json:"timing"`
	Power      Power        `yaml:"power,omitempty" json:"power"`
	Controller Controller   `yaml:"controller,omitempty" json:"controller"`
}

// Organization is the geometry of the DRAM behind one controller.
// Counts are per channel (ranks) or per rank (bank groups, banks).
type Organization struct {
	// Channels is the number of independent channels, each with its own
	// controller queue, command bus and data bus.
	Channels int `yaml:"channels,omitempty" json:"channels"`
	// Ranks per channel.
	Ranks int `yaml:"ranks,omitempty" json:"ranks"`
	// BankGroups per rank (1 for standards without bank groups).
	BankGroups int `yaml:"bank_groups,omitempty" json:"bank_groups"`
	// BanksPerGroup is the number of banks in each bank group.
	BanksPerGroup int `yaml:"banks_per_group,omitempty" json:"banks_per_group"`
	// Rows per bank.
	Rows int `yaml:"rows,omitempty" json:"rows"`
	// Columns per row, each DeviceWidth bits wide.
	Columns int `yaml:"columns,omitempty" json:"columns"`
	// DeviceWidth is the data width of one DRAM die in bits (x16 = 16).
	DeviceWidth int `yaml:"device_width,omitempty" json:"device_width"`
	// BusWidth is the data bus width of one channel in bits; BusWidth /
	// DeviceWidth dies work in lockstep in each rank.
	BusWidth int `yaml:"bus_width,omitempty" json:"bus_width"`
	// BurstLength is the number of transfers per column command (BL).
	BurstLength int `yaml:"burst_length,omitempty" json:"burst_length"`
}

// Timing holds the timing constraints, all in picoseconds. Zero means
// "the standard's default at this data rate". The names follow JEDEC.
type Timing struct {
	RCD   int64 `yaml:"trcd_ps,omitempty" json:"trcd_ps"`     // ACT to RD/WR, same bank
	RL    int64 `yaml:"trl_ps,omitempty" json:"trl_ps"`       // read latency (CL/RL): RD to first data
	WL    int64 `yaml:"twl_ps,omitempty" json:"twl_ps"`       // write latency: WR to first data
	RP    int64 `yaml:"trp_ps,omitempty" json:"trp_ps"`       // PRE to ACT, same bank (tRPpb)
	RPab  int64 `yaml:"trpab_ps,omitempty" json:"trpab_ps"`   // all-bank precharge before refresh
	RAS   int64 `yaml:"tras_ps,omitempty" json:"tras_ps"`     // ACT to PRE, same bank
	RC    int64 `yaml:"trc_ps,omitempty" json:"trc_ps"`       // ACT to ACT, same bank (default tRAS+tRP)
	RRDS  int64 `yaml:"trrd_s_ps,omitempty" json:"trrd_s_ps"` // ACT to ACT, other bank group
	RRDL  int64 `yaml:"trrd_l_ps,omitempty" json:"trrd_l_ps"` // ACT to ACT, same bank group
	FAW   int64 `yaml:"tfaw_ps,omitempty" json:"tfaw_ps"`     // window holding at most four ACTs per rank
	WR    int64 `yaml:"twr_ps,omitempty" json:"twr_ps"`       // end of write data to PRE
	WTRS  int64 `yaml:"twtr_s_ps,omitempty" json:"twtr_s_ps"` // end of write data to RD, other bank group
	WTRL  int64 `yaml:"twtr_l_ps,omitempty" json:"twtr_l_ps"` // end of write data to RD, same bank group
	RTP   int64 `yaml:"trtp_ps,omitempty" json:"trtp_ps"`     // RD to PRE
	CCDS  int64 `yaml:"tccd_s_ps,omitempty" json:"tccd_s_ps"` // column to column, other bank group
	CCDL  int64 `yaml:"tccd_l_ps,omitempty" json:"tccd_l_ps"` // column to column, same bank group
	RFC   int64 `yaml:"trfc_ps,omitempty" json:"trfc_ps"`     // all-bank refresh cycle time (tRFCab)
	RFCpb int64 `yaml:"trfcpb_ps,omitempty" json:"trfcpb_ps"` // per-bank refresh cycle time
	REFI  int64 `yaml:"trefi_ps,omitempty" json:"trefi_ps"`   // average all-bank refresh interval
	// RTRS is the data-bus gap when consecutive bursts come from
	// different ranks.
	RTRS int64 `yaml:"trtrs_ps,omitempty" json:"trtrs_ps"`
	// Turnaround is the extra data-bus gap from read data to write data
	// (DQS read postamble, tDQSCK and write preamble); a WR may issue at
	// RD + RL + burst + Turnaround - WL.
	Turnaround int64 `yaml:"turnaround_ps,omitempty" json:"turnaround_ps"`
	// Command-bus occupancy per command: LPDDR4 sends ACT and RD/WR as
	// two 2-cycle commands each over its 6-bit command/address bus.
	CmdACT int64 `yaml:"cmd_act_ps,omitempty" json:"cmd_act_ps"`
	CmdCAS int64 `yaml:"cmd_cas_ps,omitempty" json:"cmd_cas_ps"`
	CmdPRE int64 `yaml:"cmd_pre_ps,omitempty" json:"cmd_pre_ps"`
	// XP is the power-down exit time, charged to the first command after
	// a power-down (Controller.PowerDownAfter).
	XP int64 `yaml:"txp_ps,omitempty" json:"txp_ps"`
}

// Rail holds IDD currents (mA, per die) of one supply rail, as JEDEC
// and vendor datasheets list them.
type Rail struct {
	Name  string  `yaml:"name" json:"name"`
	Volts float64 `yaml:"volts" json:"volts"`
	IDD0  float64 `yaml:"idd0_ma,omitempty" json:"idd0_ma"`   // one bank ACT-PRE loop at tRC
	IDD2N float64 `yaml:"idd2n_ma,omitempty" json:"idd2n_ma"` // precharge standby
	IDD2P float64 `yaml:"idd2p_ma,omitempty" json:"idd2p_ma"` // precharge power-down
	IDD3N float64 `yaml:"idd3n_ma,omitempty" json:"idd3n_ma"` // active standby
	IDD3P float64 `yaml:"idd3p_ma,omitempty" json:"idd3p_ma"` // active power-down
	IDD4R float64 `yaml:"idd4r_ma,omitempty" json:"idd4r_ma"` // burst read
	IDD4W float64 `yaml:"idd4w_ma,omitempty" json:"idd4w_ma"` // burst write
	IDD5  float64 `yaml:"idd5_ma,omitempty" json:"idd5_ma"`   // all-bank refresh burst (a per-bank refresh costs 1/banks of it)
}

// Power parameterizes the energy model: IDD currents per rail for the
// DRAM core (the Micron TN-41-01 / DRAMsim3 method) plus a separate I/O
// term for driving the data bus, which IDD values do not contain.
type Power struct {
	Rails []Rail `yaml:"rails,omitempty" json:"rails"`
	// RatedMTs is the data rate the IDD4R/IDD4W currents were measured
	// at; burst currents above IDD3N scale linearly with the data rate
	// (TN-41-01), so a burst costs the same energy per bit at any rate.
	RatedMTs int `yaml:"rated_mts,omitempty" json:"rated_mts"`
	// IOPJPerBit is the energy to move one bit across the data bus
	// (driver, termination and receiver), reported apart from the core
	// energy. Negative means "none" (0 means "standard default").
	IOPJPerBit float64 `yaml:"io_pj_per_bit,omitempty" json:"io_pj_per_bit"`
}

// Controller is the memory controller of each channel.
type Controller struct {
	// PagePolicy is "open" (rows stay open until a conflict or refresh)
	// or "closed" (a row is precharged as soon as no queued request
	// targets it).
	PagePolicy string `yaml:"page_policy,omitempty" json:"page_policy"`
	// Mapping orders the address fields from most to least significant:
	// Ch, Ra, Bg, Ba, Ro, Co (e.g. "RoRaBaCoBgCh" (the default), "ChRaBaRoCo"). A field
	// whose count is 1 may be left out.
	Mapping string `yaml:"mapping,omitempty" json:"mapping"`
	// BankXOR XORs the bank and bank-group bits with the low row bits
	// (permutation-based interleaving, Zhang et al., MICRO 2000) so rows
	// that conflict in one bank spread over banks.
	BankXOR bool `yaml:"bank_xor,omitempty" json:"bank_xor"`
	// ReadQueue and WriteQueue bound the requests waiting per channel.
	ReadQueue  int `yaml:"read_queue,omitempty" json:"read_queue"`
	WriteQueue int `yaml:"write_queue,omitempty" json:"write_queue"`
	// Writes are buffered and drained in batches: draining starts when
	// WriteHigh writes wait (or IdleWriteMin while no read waits); it
	// goes on while no read waits, and once one does it stops after
	// MinWritesPerSwitch writes if it started idle or at most WriteLow
	// writes are left.
	WriteHigh int `yaml:"write_high,omitempty" json:"write_high"`
	WriteLow  int `yaml:"write_low,omitempty" json:"write_low"`
	// IdleWriteMin is how many writes must wait before the controller
	// drains them while no read waits (default 1: any; gem5's MemCtrl
	// waits for more than its low threshold, half its buffer).
	IdleWriteMin int `yaml:"idle_write_min,omitempty" json:"idle_write_min"`
	// MinWritesPerSwitch is how many writes a drain serves before a
	// waiting read ends it, unless the buffer empties first (gem5's
	// min_writes_per_switch, 16 there; default 0: a read ends an idle
	// drain at once, a watermark drain at WriteLow). Batches amortize
	// the bus turnarounds; reads arriving meanwhile wait.
	MinWritesPerSwitch int `yaml:"min_writes_per_switch,omitempty" json:"min_writes_per_switch"`
	// Refresh is "all-bank", "per-bank" (LPDDR only) or "none".
	Refresh string `yaml:"refresh,omitempty" json:"refresh"`
	// TransactionBytes is the request granularity the address mapping
	// keeps together in one row (the last-level cache line, 64 B).
	TransactionBytes int `yaml:"transaction_bytes,omitempty" json:"transaction_bytes"`
	// PowerDownAfter puts an idle rank into power-down (IDD2P/IDD3P)
	// after this many picoseconds without a command; 0 disables it.
	PowerDownAfter int64 `yaml:"power_down_after_ps,omitempty" json:"power_down_after_ps"`
}

// Errors callers can branch on.
var (
	ErrUnknownStandard = errors.New("dram: unknown standard")
	ErrInvalidConfig   = errors.New("dram: invalid config")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// Resolve returns a copy of c with Grade expanded and every zero field
// replaced by the standard's default at the data rate. It does not
// validate the result.
func (c Config) Resolve() (Config, error) {
	if c.Grade != "" {
		std, rate, err := ParseGrade(c.Grade)
		if err != nil {
			return c, err
		}
		if c.Standard != "" && c.Standard != std {
			return c, invalid("grade %q conflicts with standard %q", c.Grade, c.Standard)
		}
		if c.DataRate != 0 && c.DataRate != rate {
			return c, invalid("grade %q conflicts with data_rate_mts %d", c.Grade, c.DataRate)
		}
		c.Standard, c.DataRate = std, rate
	}
	if c.Standard == "" {
		return c, invalid("no grade or standard, want grade (e.g. lpddr4x-4267) or standard (%s)", strings.Join(Standards(), ", "))
	}
	std, err := Lookup(c.Standard)
	if err != nil {
		return c, err
	}
	bins := std.SpeedBins()
	if c.DataRate == 0 {
		c.DataRate = bins[len(bins)-1]
	}
	if c.DataRate < bins[0] || c.DataRate > bins[len(bins)-1] {
		return c, invalid("data_rate_mts %d outside %s range %d..%d", c.DataRate, std.Name(), bins[0], bins[len(bins)-1])
	}
	fillOrg(&c.Org, std.DefaultOrg())
	d := std.Defaults(c.DataRate, c.Org)
	fillTiming(&c.Timing, d.Timing)
	if c.Timing.RC == 0 {
		c.Timing.RC = c.Timing.RAS + c.Timing.RP
	}
	if len(c.Power.Rails) == 0 {
		c.Power.Rails = append([]Rail(nil), d.Power.Rails...)
	}
	if c.Power.RatedMTs == 0 {
		c.Power.RatedMTs = d.Power.RatedMTs
	}
	if c.Power.IOPJPerBit == 0 {
		c.Power.IOPJPerBit = d.Power.IOPJPerBit
	}
	fillController(&c.Controller, d.Controller)
	return c, nil
}

func fillInt(dst *int, def int) {
	if *dst == 0 {
		*dst = def
	}
}

func fill64(dst *int64, def int64) {
	if *dst == 0 {
		*dst = def
	}
}

func fillOrg(o *Organization, d Organization) {
	fillInt(&o.Channels, d.Channels)
	fillInt(&o.Ranks, d.Ranks)
	fillInt(&o.BankGroups, d.BankGroups)
	fillInt(&o.BanksPerGroup, d.BanksPerGroup)
	fillInt(&o.Rows, d.Rows)
	fillInt(&o.Columns, d.Columns)
	fillInt(&o.DeviceWidth, d.DeviceWidth)
	fillInt(&o.BusWidth, d.BusWidth)
	fillInt(&o.BurstLength, d.BurstLength)
}

func fillTiming(t *Timing, d Timing) {
	for _, p := range []struct {
		dst *int64
		def int64
	}{
		{&t.RCD, d.RCD}, {&t.RL, d.RL}, {&t.WL, d.WL}, {&t.RP, d.RP}, {&t.RPab, d.RPab},
		{&t.RAS, d.RAS}, {&t.RC, d.RC}, {&t.RRDS, d.RRDS}, {&t.RRDL, d.RRDL}, {&t.FAW, d.FAW},
		{&t.WR, d.WR}, {&t.WTRS, d.WTRS}, {&t.WTRL, d.WTRL}, {&t.RTP, d.RTP}, {&t.CCDS, d.CCDS},
		{&t.CCDL, d.CCDL}, {&t.RFC, d.RFC}, {&t.RFCpb, d.RFCpb}, {&t.REFI, d.REFI}, {&t.RTRS, d.RTRS},
		{&t.Turnaround, d.Turnaround}, {&t.CmdACT, d.CmdACT}, {&t.CmdCAS, d.CmdCAS}, {&t.CmdPRE, d.CmdPRE},
		{&t.XP, d.XP},
	} {
		fill64(p.dst, p.def)
	}
}

func fillController(c *Controller, d Controller) {
	if c.PagePolicy == "" {
		c.PagePolicy = d.PagePolicy
	}
	if c.Mapping == "" {
		c.Mapping = d.Mapping
	}
	fillInt(&c.ReadQueue, d.ReadQueue)
	fillInt(&c.WriteQueue, d.WriteQueue)
	fillInt(&c.WriteHigh, d.WriteHigh)
	fillInt(&c.WriteLow, d.WriteLow)
	fillInt(&c.IdleWriteMin, d.IdleWriteMin)
	if c.Refresh == "" {
		c.Refresh = d.Refresh
	}
	fillInt(&c.TransactionBytes, d.TransactionBytes)
}

func pow2(n int) bool { return n > 0 && n&(n-1) == 0 }

func log2(n int) uint { return uint(bits.TrailingZeros64(uint64(n))) }

// Validate checks a resolved config (see Resolve). Errors name the YAML
// field and what was expected.
func (c Config) Validate() error {
	std, err := Lookup(c.Standard)
	if err != nil {
		return err
	}
	bins := std.SpeedBins()
	if c.DataRate < bins[0] || c.DataRate > bins[len(bins)-1] {
		return invalid("data_rate_mts %d outside %s range %d..%d", c.DataRate, c.Standard, bins[0], bins[len(bins)-1])
	}
	o := c.Org
	for _, f := range []struct {
		name string
		v    int
		max  int
	}{
		{"org.channels", o.Channels, 64}, {"org.ranks", o.Ranks, 16}, {"org.bank_groups", o.BankGroups, 16},
		{"org.banks_per_group", o.BanksPerGroup, 64}, {"org.rows", o.Rows, 1 << 24}, {"org.columns", o.Columns, 1 << 16},
		{"org.device_width", o.DeviceWidth, 128}, {"org.bus_width", o.BusWidth, 1024}, {"org.burst_length", o.BurstLength, 64},
	} {
		if !pow2(f.v) || f.v > f.max {
			return invalid("%s = %d, want a power of two in 1..%d", f.name, f.v, f.max)
		}
	}
	if o.BankGroups*o.BanksPerGroup > 64 {
		return invalid("org.bank_groups * org.banks_per_group = %d, want at most 64 banks per rank", o.BankGroups*o.BanksPerGroup)
	}
	if o.BusWidth < o.DeviceWidth {
		return invalid("org.bus_width %d < org.device_width %d", o.BusWidth, o.DeviceWidth)
	}
	atom := o.BusWidth / 8 * o.BurstLength
	rowBytes := o.Columns * o.DeviceWidth / 8 * (o.BusWidth / o.DeviceWidth)
	if atom > rowBytes {
		return invalid("one burst (%d B) is larger than a row (%d B)", atom, rowBytes)
	}
	t := c.Timing
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"trcd_ps", t.RCD}, {"trl_ps", t.RL}, {"twl_ps", t.WL}, {"trp_ps", t.RP}, {"trpab_ps", t.RPab},
		{"tras_ps", t.RAS}, {"trc_ps", t.RC}, {"trfc_ps", t.RFC}, {"trefi_ps", t.REFI},
	} {
		if f.v <= 0 {
			return invalid("timing.%s = %d, want > 0", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"trcd_ps", t.RCD}, {"trl_ps", t.RL}, {"twl_ps", t.WL}, {"trp_ps", t.RP}, {"trpab_ps", t.RPab},
		{"tras_ps", t.RAS}, {"trc_ps", t.RC}, {"trfc_ps", t.RFC}, {"trefi_ps", t.REFI},
		{"trrd_s_ps", t.RRDS}, {"trrd_l_ps", t.RRDL}, {"tfaw_ps", t.FAW}, {"twr_ps", t.WR}, {"twtr_s_ps", t.WTRS},
		{"twtr_l_ps", t.WTRL}, {"trtp_ps", t.RTP}, {"tccd_s_ps", t.CCDS}, {"tccd_l_ps", t.CCDL}, {"trfcpb_ps", t.RFCpb},
		{"trtrs_ps", t.RTRS}, {"turnaround_ps", t.Turnaround}, {"cmd_act_ps", t.CmdACT}, {"cmd_cas_ps", t.CmdCAS},
		{"cmd_pre_ps", t.CmdPRE}, {"txp_ps", t.XP},
	} {
		// One second bounds every constraint and keeps sums far from
		// int64 overflow.
		if f.v > 1e12 {
			return invalid("timing.%s = %d ps, want at most 1e12 (1 s)", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"trrd_s_ps", t.RRDS}, {"trrd_l_ps", t.RRDL}, {"tfaw_ps", t.FAW}, {"twr_ps", t.WR}, {"twtr_s_ps", t.WTRS},
		{"twtr_l_ps", t.WTRL}, {"trtp_ps", t.RTP}, {"tccd_s_ps", t.CCDS}, {"tccd_l_ps", t.CCDL}, {"trfcpb_ps", t.RFCpb},
		{"trtrs_ps", t.RTRS}, {"turnaround_ps", t.Turnaround}, {"cmd_act_ps", t.CmdACT}, {"cmd_cas_ps", t.CmdCAS},
		{"cmd_pre_ps", t.CmdPRE}, {"txp_ps", t.XP},
	} {
		if f.v < 0 {
			return invalid("timing.%s = %d, want >= 0", f.name, f.v)
		}
	}
	if t.RC < t.RAS {
		return invalid("timing.trc_ps %d < tras_ps %d", t.RC, t.RAS)
	}
	if t.REFI <= t.RFC {
		return invalid("timing.trefi_ps %d must exceed trfc_ps %d", t.REFI, t.RFC)
	}
	if len(c.Power.Rails) == 0 || len(c.Power.Rails) > 8 {
		return invalid("power.rails has %d entries, want 1..8", len(c.Power.Rails))
	}
	for i, r := range c.Power.Rails {
		if r.Volts <= 0 || r.Volts > 5 {
			return invalid("power.rails[%d].volts = %g, want 0 < V <= 5", i, r.Volts)
		}
		for _, v := range []float64{r.IDD0, r.IDD2N, r.IDD2P, r.IDD3N, r.IDD3P, r.IDD4R, r.IDD4W, r.IDD5} {
			if v < 0 || v > 10000 {
				return invalid("power.rails[%d] (%s) has a current %g mA outside 0..10000", i, r.Name, v)
			}
		}
	}
	if c.Power.RatedMTs <= 0 {
		return invalid("power.rated_mts = %d, want > 0", c.Power.RatedMTs)
	}
	if c.Power.IOPJPerBit > 1000 {
		return invalid("power.io_pj_per_bit = %g, want <= 1000", c.Power.IOPJPerBit)
	}
	k := c.Controller
	if k.PagePolicy != "open" && k.PagePolicy != "closed" {
		return invalid("controller.page_policy = %q, want open or closed", k.PagePolicy)
	}
	if _, err := parseMapping(k.Mapping, o); err != nil {
		return err
	}
	if k.ReadQueue < 1 || k.ReadQueue > 4096 || k.WriteQueue < 1 || k.WriteQueue > 4096 {
		return invalid("controller.read_queue %d / write_queue %d, want 1..4096", k.ReadQueue, k.WriteQueue)
	}
	if k.WriteHigh < 1 || k.WriteHigh > k.WriteQueue || k.WriteLow < 0 || k.WriteLow >= k.WriteHigh {
		return invalid("controller.write_high %d / write_low %d, want 0 <= write_low < write_high <= write_queue (%d)", k.WriteHigh, k.WriteLow, k.WriteQueue)
	}
	if k.IdleWriteMin < 1 || k.IdleWriteMin > k.WriteQueue {
		return invalid("controller.idle_write_min %d, want 1..write_queue (%d)", k.IdleWriteMin, k.WriteQueue)
	}
	if k.MinWritesPerSwitch < 0 || k.MinWritesPerSwitch > k.WriteQueue {
		return invalid("controller.min_writes_per_switch %d, want 0..write_queue (%d)", k.MinWritesPerSwitch, k.WriteQueue)
	}
	switch k.Refresh {
	case "all-bank", "none":
	case "per-bank":
		if !std.PerBankRefresh() {
			return invalid("controller.refresh = per-bank, but %s has no per-bank refresh", c.Standard)
		}
		if t.RFCpb <= 0 {
			return invalid("timing.trfcpb_ps must be > 0 for per-bank refresh")
		}
	default:
		return invalid("controller.refresh = %q, want all-bank, per-bank or none", k.Refresh)
	}
	if !pow2(k.TransactionBytes) || k.TransactionBytes > rowBytes {
		return invalid("controller.transaction_bytes = %d, want a power of two up to the row size %d", k.TransactionBytes, rowBytes)
	}
	if k.PowerDownAfter < 0 || k.PowerDownAfter > 1e12 {
		return invalid("controller.power_down_after_ps = %d, want 0..1e12", k.PowerDownAfter)
	}
	return nil
}

// ParseGrade splits a grade name such as "lpddr5x-9600" into its
// standard and data rate, checking the standard is registered and lists
// that speed bin.
func ParseGrade(g string) (string, int, error) {
	i := strings.LastIndexByte(g, '-')
	if i <= 0 {
		return "", 0, invalid("grade %q, want <standard>-<MT/s> such as lpddr4x-4267 (known: %s)", g, strings.Join(Grades(), ", "))
	}
	name := strings.ToLower(g[:i])
	std, err := Lookup(name)
	if err != nil {
		return "", 0, err
	}
	var rate int
	if _, err := fmt.Sscanf(g[i+1:], "%d", &rate); err != nil || fmt.Sprint(rate) != g[i+1:] {
		return "", 0, invalid("grade %q: %q is not a data rate in MT/s", g, g[i+1:])
	}
	for _, b := range std.SpeedBins() {
		if b == rate {
			return name, rate, nil
		}
	}
	return "", 0, invalid("grade %q: %s has no %d MT/s speed bin (known: %s); set standard and data_rate_mts for other rates", g, name, rate, strings.Join(Grades(), ", "))
}
