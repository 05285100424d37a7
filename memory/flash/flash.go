// Package flash models the storage that holds model weights on an edge
// device (microSD, eMMC, UFS, NVMe): page reads inside the NAND (tR),
// internal parallelism over channels, dies and planes, the NAND bus and
// the host link, a bounded command queue and a controller command rate.
//
// Reads are served first-come first-served, so a read's completion is
// known when it is issued: Read returns it directly. Several Reads issued
// at the same time overlap up to the queue depth, as a queue-depth-N
// benchmark does.
package flash

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Config describes one flash device. Device names a registered preset
// (see Devices); fields left at zero take the preset's values.
type Config struct {
	// Device is a registered preset name such as "ufs-3.1".
	Device string `yaml:"device,omitempty" json:"device,omitempty"`
	// PageBytes is the NAND page, the unit of one array read (tR).
	PageBytes int `yaml:"page_bytes,omitempty" json:"page_bytes"`
	// ReadLatency is tR, the array read time of one page, in ps (plus
	// the controller's fixed firmware time, which a host cannot tell
	// apart from it).
	ReadLatency int64 `yaml:"read_latency_ps,omitempty" json:"read_latency_ps"`
	// Internal parallelism: pages stripe over Channels x DiesPerChannel
	// x PlanesPerDie units, each reading one page at a time.
	Channels       int `yaml:"channels,omitempty" json:"channels"`
	DiesPerChannel int `yaml:"dies_per_channel,omitempty" json:"dies_per_channel"`
	PlanesPerDie   int `yaml:"planes_per_die,omitempty" json:"planes_per_die"`
	// ChannelMBps is the NAND bus rate of one channel (MB/s = 1e6 B/s).
	ChannelMBps float64 `yaml:"channel_mbps,omitempty" json:"channel_mbps"`
	// LinkMBps is the sustained host-link rate: the sequential read cap.
	LinkMBps float64 `yaml:"link_mbps,omitempty" json:"link_mbps"`
	// MaxIOPS caps commands per second (controller and protocol).
	MaxIOPS float64 `yaml:"max_iops,omitempty" json:"max_iops"`
	// QueueDepth is the number of commands in flight (1 for SD).
	QueueDepth int `yaml:"queue_depth,omitempty" json:"queue_depth"`
	// Energy: per byte read (device active power over throughput) and
	// per command.
	EnergyPJPerByte float64 `yaml:"energy_pj_per_byte,omitempty" json:"energy_pj_per_byte"`
	EnergyPJPerOp   float64 `yaml:"energy_pj_per_op,omitempty" json:"energy_pj_per_op"`
	// Source cites the preset's numbers (informational).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
}

// ErrInvalidConfig wraps every configuration error.
var ErrInvalidConfig = errors.New("flash: invalid config")

// ErrBadRead reports a read the model cannot serve.
var ErrBadRead = errors.New("flash: bad read")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// Resolve fills zero fields from the named preset.
func (c Config) Resolve() (Config, error) {
	if c.Device == "" {
		return c, nil
	}
	d, err := Lookup(c.Device)
	if err != nil {
		return c, err
	}
	fi := func(dst *int, v int) {
		if *dst == 0 {
			*dst = v
		}
	}
	ff := func(dst *float64, v float64) {
		if *dst == 0 {
			*dst = v
		}
	}
	fi(&c.PageBytes, d.PageBytes)
	if c.ReadLatency == 0 {
		c.ReadLatency = d.ReadLatency
	}
	fi(&c.Channels, d.Channels)
	fi(&c.DiesPerChannel, d.DiesPerChannel)
	fi(&c.PlanesPerDie, d.PlanesPerDie)
	ff(&c.ChannelMBps, d.ChannelMBps)
	ff(&c.LinkMBps, d.LinkMBps)
	ff(&c.MaxIOPS, d.MaxIOPS)
	fi(&c.QueueDepth, d.QueueDepth)
	ff(&c.EnergyPJPerByte, d.EnergyPJPerByte)
	ff(&c.EnergyPJPerOp, d.EnergyPJPerOp)
	if c.Source == "" {
		c.Source = d.Source
	}
	return c, nil
}

// Validate checks a resolved config.
func (c Config) Validate() error {
	switch {
	case c.PageBytes < 512 || c.PageBytes > 1<<20 || c.PageBytes&(c.PageBytes-1) != 0:
		return invalid("page_bytes = %d, want a power of two in 512..1048576", c.PageBytes)
	case c.ReadLatency <= 0 || c.ReadLatency > 1e12:
		return invalid("read_latency_ps = %d, want 1..1e12", c.ReadLatency)
	case c.Channels < 1 || c.Channels > 64 || c.DiesPerChannel < 1 || c.DiesPerChannel > 64 || c.PlanesPerDie < 1 || c.PlanesPerDie > 16:
		return invalid("channels %d, dies_per_channel %d, planes_per_die %d, want 1..64, 1..64, 1..16", c.Channels, c.DiesPerChannel, c.PlanesPerDie)
	case !(c.ChannelMBps > 0 && c.ChannelMBps < 1e6):
		return invalid("channel_mbps = %g, want > 0", c.ChannelMBps)
	case !(c.LinkMBps > 0 && c.LinkMBps < 1e6):
		return invalid("link_mbps = %g, want > 0", c.LinkMBps)
	case !(c.MaxIOPS > 0 && c.MaxIOPS < 1e9):
		return invalid("max_iops = %g, want > 0", c.MaxIOPS)
	case c.QueueDepth < 1 || c.QueueDepth > 65536:
		return invalid("queue_depth = %d, want 1..65536", c.QueueDepth)
	case c.EnergyPJPerByte < 0 || c.EnergyPJPerOp < 0 || math.IsNaN(c.EnergyPJPerByte) || math.IsNaN(c.EnergyPJPerOp):
		return invalid("energy_pj_per_byte %g / energy_pj_per_op %g, want >= 0", c.EnergyPJPerByte, c.EnergyPJPerOp)
	}
	return nil
}

// Flash is the device model. Not safe for concurrent use.
type Flash struct {
	cfg Config

	// Per-resource times at which each becomes free (ps).
	unitFree []int64 // one per plane
	chanFree []int64 // NAND bus per channel
	linkFree int64
	ctrlFree int64
	inflight completions // completion times of commands in flight

	psPerByteChan float64
	psPerByteLink float64
	psPerCmd      int64
	unitBits      uint

	st      Stats
	first   int64
	started bool
	// busy accumulates the union of [start, done] of commands.
	busyEnd int64
}

// Stats are the device counters.
type Stats struct {
	Reads uint64 `json:"reads" yaml:"reads"`
	Bytes uint64 `json:"bytes" yaml:"bytes"`
	// PageReads counts NAND array reads (tR).
	PageReads uint64 `json:"page_reads" yaml:"page_reads"`
	// BusyNS is the time at least one command was in flight.
	BusyNS float64 `json:"busy_ns" yaml:"busy_ns"`
	// IOPS and BandwidthGBps are averages over the busy time.
	IOPS          float64 `json:"iops" yaml:"iops"`
	BandwidthGBps float64 `json:"bandwidth_gbps" yaml:"bandwidth_gbps"`
	EnergyPJ      float64 `json:"energy_pj" yaml:"energy_pj"`
	busyPS        int64
}

// New builds a device from cfg (resolving its preset).
func New(cfg Config) (*Flash, error) {
	c, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	f := &Flash{cfg: c}
	f.unitFree = make([]int64, c.Channels*c.DiesPerChannel*c.PlanesPerDie)
	f.unitBits = uint(bits.Len(uint(len(f.unitFree) - 1)))
	f.chanFree = make([]int64, c.Channels)
	f.psPerByteChan = 1e6 / c.ChannelMBps
	f.psPerByteLink = 1e6 / c.LinkMBps
	f.psPerCmd = int64(math.Round(1e12 / c.MaxIOPS))
	f.inflight = make(completions, 0, c.QueueDepth)
	return f, nil
}

// Config returns the resolved configuration.
func (f *Flash) Config() Config { return f.cfg }

// Read issues a read of size bytes at byte offset off at time at (ps)
// and returns the time its last byte reaches the host. Reads are served
// in call order; calls should come in non-decreasing time. The command
// starts when a queue slot is free and the controller can take it; each
// page it covers is read by its plane (pages stripe over the planes of
// all dies and channels, see fold) in tR, moved over its channel's
// NAND bus and then over the host link (store and forward), so one page
// read on an idle device takes exactly tR + bytes/ChannelMBps +
// bytes/LinkMBps.
func (f *Flash) Read(at int64, off uint64, size int) (int64, error) {
	if size <= 0 || size > 1<<30 {
		return 0, fmt.Errorf("%w: size %d, want 1..1 GiB", ErrBadRead, size)
	}
	c := &f.cfg
	if !f.started {
		f.started, f.first = true, at
	}
	// Retire completed commands; a full queue delays the start to the
	// first completion.
	start := at
	for len(f.inflight) > 0 && f.inflight[0] <= start {
		f.inflight.pop()
	}
	if len(f.inflight) == c.QueueDepth {
		start = max(start, f.inflight.pop())
	}
	start = max(start, f.ctrlFree)
	f.ctrlFree = start + f.psPerCmd
	page := uint64(c.PageBytes)
	units := uint64(len(f.unitFree))
	done := start
	end := off + uint64(size)
	for p := off / page; p*page < end; p++ {
		lo, hi := max(off, p*page), min(end, (p+1)*page)
		n := float64(hi - lo)
		u := fold(p, f.unitBits) % units
		ch := u % uint64(c.Channels)
		r := max(start, f.unitFree[u]) + c.ReadLatency
		f.unitFree[u] = r
		x := max(r, f.chanFree[ch]) + int64(math.Round(n*f.psPerByteChan))
		f.chanFree[ch] = x
		l := max(x, f.linkFree) + int64(math.Round(n*f.psPerByteLink))
		f.linkFree = l
		done = max(done, l)
		f.st.PageReads++
	}
	f.inflight.push(done)
	f.st.Reads++
	f.st.Bytes += uint64(size)
	f.st.EnergyPJ += c.EnergyPJPerOp + float64(c.EnergyPJPerByte*float64(size)) // rounded: no FMA on arm64
	// Busy time: union of command intervals (starts are non-decreasing).
	if start >= f.busyEnd {
		f.st.busyPS += done - start
		f.busyEnd = done
	} else if done > f.busyEnd {
		f.st.busyPS += done - f.busyEnd
		f.busyEnd = done
	}
	return done, nil
}

// Stats returns the counters.
func (f *Flash) Stats() Stats {
	s := f.st
	s.BusyNS = float64(s.busyPS) / 1000
	if s.busyPS > 0 {
		s.IOPS = float64(s.Reads) / (float64(s.busyPS) / 1e12)
		s.BandwidthGBps = float64(s.Bytes) / float64(s.busyPS) * 1000
	}
	return s
}

// fold XOR-folds the page number's higher bits into its low bits:
// consecutive pages still go round-robin over the units, but large
// power-of-two strides no longer land on one die (an FTL spreads such
// pages too).
func fold(p uint64, b uint) uint64 {
	if b == 0 {
		return p
	}
	return p ^ p>>b ^ p>>(2*b) ^ p>>(3*b)
}

// completions is a binary min-heap of completion times (no boxing, so
// no allocation per read).
type completions []int64

func (h *completions) push(v int64) {
	*h = append(*h, v)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *completions) pop() int64 {
	a := *h
	v := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a[l] < a[m] {
			m = l
		}
		if r := l + 1; r < n && a[r] < a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return v
}
