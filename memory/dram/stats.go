package dram

import "github.com/edgeprof/edgeprof/memory/internal/histo"

// Stats is a snapshot of the counters of all channels. Row-buffer
// outcomes classify each request by the first command issued for it: a
// column command (row hit), an ACT to a closed bank (miss) or a PRE of
// another open row (conflict). A request whose row another request
// opened first counts as a hit, as in DRAMsim3.
type Stats struct {
	Reads        uint64 `json:"reads" yaml:"reads"`
	Writes       uint64 `json:"writes" yaml:"writes"`
	RowHits      uint64 `json:"row_hits" yaml:"row_hits"`
	RowMisses    uint64 `json:"row_misses" yaml:"row_misses"`
	RowConflicts uint64 `json:"row_conflicts" yaml:"row_conflicts"`
	// Bytes requested (reads + writes); BusBytes moved on the data bus in
	// whole bursts (more when requests are smaller than a burst).
	Bytes    uint64 `json:"bytes" yaml:"bytes"`
	BusBytes uint64 `json:"bus_bytes" yaml:"bus_bytes"`
	// Reads served from the write buffer and writes merged into a queued
	// write; they use no DRAM command.
	Forwarded uint64 `json:"forwarded" yaml:"forwarded"`
	Merged    uint64 `json:"merged" yaml:"merged"`

	Activates        uint64 `json:"activates" yaml:"activates"`
	Precharges       uint64 `json:"precharges" yaml:"precharges"`
	Refreshes        uint64 `json:"refreshes" yaml:"refreshes"`
	PerBankRefreshes uint64 `json:"per_bank_refreshes" yaml:"per_bank_refreshes"`
	// QueueFullStalls counts scheduling steps a submit waited for a free
	// queue entry; LateArrivals counts requests submitted out of order.
	QueueFullStalls uint64 `json:"queue_full_stalls" yaml:"queue_full_stalls"`
	LateArrivals    uint64 `json:"late_arrivals" yaml:"late_arrivals"`

	// FirstArrivalNS to LastDoneNS is the busy span BandwidthGBps is
	// measured over; EndNS is the time energy is accounted up to.
	FirstArrivalNS float64 `json:"first_arrival_ns" yaml:"first_arrival_ns"`
	LastDoneNS     float64 `json:"last_done_ns" yaml:"last_done_ns"`
	EndNS          float64 `json:"end_ns" yaml:"end_ns"`
	BandwidthGBps  float64 `json:"bandwidth_gbps" yaml:"bandwidth_gbps"`
	// BusBandwidthGBps counts whole bursts (DRAMsim3's definition).
	BusBandwidthGBps float64 `json:"bus_bandwidth_gbps" yaml:"bus_bandwidth_gbps"`
	// Read latency from arrival (Request.At) to the last data beat,
	// including queueing; writes are posted and not included.
	AvgLatencyNS float64 `json:"avg_latency_ns" yaml:"avg_latency_ns"`
	P99LatencyNS float64 `json:"p99_latency_ns" yaml:"p99_latency_ns"`
	MaxLatencyNS float64 `json:"max_latency_ns" yaml:"max_latency_ns"`
	// Read latency from the request's entry into the controller's queue,
	// which is later than its arrival while the queue is full (DRAMsim3's
	// definition: its trace CPU holds a request until the queue takes
	// it). Equal to the above while queues never fill.
	AvgQueueLatencyNS float64 `json:"avg_queue_latency_ns" yaml:"avg_queue_latency_ns"`
	P99QueueLatencyNS float64 `json:"p99_queue_latency_ns" yaml:"p99_queue_latency_ns"`

	EnergyPJ float64 `json:"energy_pj" yaml:"energy_pj"` // Energy.TotalPJ
	Energy   Energy  `json:"energy" yaml:"energy"`
}

// RowHitRate returns hits / (hits + misses + conflicts).
func (s Stats) RowHitRate() float64 {
	n := s.RowHits + s.RowMisses + s.RowConflicts
	if n == 0 {
		return 0
	}
	return float64(s.RowHits) / float64(n)
}

// PJPerBit returns energy per requested bit: total (with I/O) and core.
func (s Stats) PJPerBit() (total, core float64) {
	if s.Bytes == 0 {
		return 0, 0
	}
	b := float64(s.Bytes) * 8
	return s.Energy.TotalPJ / b, s.Energy.CorePJ / b
}

// EndTime returns the time energy is accounted up to: the latest of the
// last completion, the last arrival and the last Advance.
func (d *DRAM) EndTime() int64 { return max(d.lastDone(), d.lastAt, d.horizon) }

// Stats returns the counters and the energy up to EndTime. It does not
// change the simulation.
func (d *DRAM) Stats() Stats {
	var st counters
	var hist, qhist histo.Hist
	for _, c := range d.chans {
		st.add(&c.st)
		hist.Merge(&c.hist)
		qhist.Merge(&c.qhist)
	}
	end := d.EndTime()
	// Every burst moves one atom: counted at Stats time, not per command.
	busBytes := (st.readBursts + st.writeBursts) * uint64(d.tm.atom)
	s := Stats{
		Reads: st.reads, Writes: st.writes,
		RowHits: st.outcomes[classHit], RowMisses: st.outcomes[classMiss], RowConflicts: st.outcomes[classConflict],
		Bytes: st.bytes, BusBytes: busBytes,
		Forwarded: st.forwarded, Merged: st.merged,
		Activates: st.acts, Precharges: st.pres, Refreshes: st.refs, PerBankRefreshes: st.refsPB,
		QueueFullStalls: st.queueFullStalls, LateArrivals: d.lateArrivals,
		FirstArrivalNS: float64(d.firstAt) / 1000, LastDoneNS: float64(st.lastDone) / 1000,
		EndNS: float64(end) / 1000,
	}
	if span := st.lastDone - d.firstAt; span > 0 {
		s.BandwidthGBps = float64(st.bytes) / float64(span) * 1000
		s.BusBandwidthGBps = float64(busBytes) / float64(span) * 1000
	}
	s.AvgLatencyNS = hist.Mean() / 1000
	s.P99LatencyNS = float64(hist.Quantile(0.99)) / 1000
	s.MaxLatencyNS = float64(hist.Max()) / 1000
	s.AvgQueueLatencyNS = qhist.Mean() / 1000
	s.P99QueueLatencyNS = float64(qhist.Quantile(0.99)) / 1000
	e := &s.Energy
	for _, c := range d.chans {
		e.ActivatePJ += c.energy.act
		e.ReadPJ += c.energy.rd
		e.WritePJ += c.energy.wr
		e.RefreshPJ += c.energy.ref
		e.IOPJ += c.energy.io
		e.BackgroundPJ += c.background(end)
	}
	e.CorePJ = e.ActivatePJ + e.ReadPJ + e.WritePJ + e.RefreshPJ + e.BackgroundPJ
	e.TotalPJ = e.CorePJ + e.IOPJ
	s.EnergyPJ = e.TotalPJ
	return s
}

// background returns the standby and power-down energy of the channel's
// ranks over [0, end].
func (c *channel) background(end int64) float64 {
	e := &c.p.e
	var pj float64
	for i := range c.ranks {
		r := &c.ranks[i]
		active := r.activeTime
		if r.open > 0 && end > r.activeStart {
			active += end - r.activeStart
		}
		active = min(active, end)
		pdOpen, pdClosed := r.pdOpen, r.pdClosed
		if pd := c.p.pdAfter; pd > 0 {
			if gap := end - r.lastCmd - pd - c.p.XP; gap > 0 {
				if r.open > 0 {
					pdOpen += gap
				} else {
					pdClosed += gap
				}
			}
		}
		// float64() around each product keeps arm64 from fusing it into
		// the sum (Go may emit FMA there): energies are equal bit for bit
		// on every architecture.
		pj += float64(e.bgOpen*float64(active)) + float64(e.bgClosed*float64(end-active)) +
			float64(e.pdOpenDelta*float64(pdOpen)) + float64(e.pdClosedDelta*float64(pdClosed))
	}
	return pj
}
