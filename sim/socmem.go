package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/edgeprof/edgeprof/memory/dram"
	"github.com/edgeprof/edgeprof/memory/flash"
	"github.com/edgeprof/edgeprof/memory/pagecache"
)

// DRAM is the SoC's DRAM section: a memory/dram configuration (standard
// or grade, organization, timing, power, controller; zero fields take the
// standard's defaults) plus what lies between the cores' caches and the
// memory controller.
type DRAM struct {
	dram.Config `yaml:",inline"`
	// FabricLatencyNS is the time a request spends outside the caches and
	// the DRAM's own timing: interconnect, memory controller pipeline and
	// PHY, both ways. Together with the cache lookups and the DRAM timing
	// it makes the unloaded load-to-use latency a pointer chase measures.
	FabricLatencyNS float64 `yaml:"fabric_latency_ns" json:"fabric_latency_ns"`
	Source          Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// PageCache configures the OS page cache that holds the model file's
// pages within WeightsBudget (memory/pagecache).
type PageCache struct {
	// Policy is lru or linux (the kernel's active/inactive lists).
	Policy string `yaml:"policy" json:"policy"`
	// Readahead is ondemand, mmap (read-around of mmap faults) or none.
	Readahead   string `yaml:"readahead" json:"readahead"`
	ReadaheadKB int    `yaml:"readahead_kb" json:"readahead_kb"`
	PageBytes   Size   `yaml:"page_bytes" json:"page_bytes"`
	// Access is mmap (loads through a mapping, which the kernel sees
	// only through page-table accessed bits) or read (read() calls).
	Access string `yaml:"access" json:"access"`
	// FaultAroundKB and PrefaultOld: how a fault on the mapping maps
	// its neighbours (memory/pagecache.Config).
	FaultAroundKB int  `yaml:"fault_around_kb" json:"fault_around_kb"`
	PrefaultOld   bool `yaml:"prefault_old" json:"prefault_old"`
	// Preload reads the whole model file into the page cache when the
	// run starts, without waiting for it, as llama.cpp's
	// posix_madvise(WILLNEED) on its mapping does; first touches then
	// wait only for pages still in flight. A file larger than the budget
	// is not preloaded (the kernel would only cycle it through the cache).
	Preload bool    `yaml:"preload" json:"preload"`
	Source  Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// Defaults of the timing fields.
const (
	defaultSIMDBits       = 128
	defaultFMAUnits       = 1
	defaultMSHRs          = 8
	defaultPJPerFLOP      = 2.3 // Horowitz ISSCC 2014, 45 nm: FP32 mult 3.7 + add 0.9 pJ per FMA pair
	defaultLevelBandwidth = 32  // bytes per cycle
)

// Timed reports whether the SoC has a DRAM section, which turns on the
// timing model.
func (s *SoC) Timed() bool { return s.DRAM != nil }

// PeakFLOPsPerCycle is one core's peak FP32 rate.
func (s *SoC) PeakFLOPsPerCycle() float64 {
	return float64(s.Cores.FMAUnits) * float64(s.Cores.SIMDBits) / 32 * 2
}

// sramPJPerLine estimates the energy of one access to a line of an SRAM
// array of size bytes: Horowitz (ISSCC 2014, 45 nm) gives 10, 20 and 100
// pJ per 64-bit read of 8 KB, 32 KB and 1 MB arrays, i.e. about
// 10 pJ x (size/8 KiB)^0.47; a line moves line/8 such words.
func sramPJPerLine(size, line int64) float64 {
	e64 := 10 * math.Pow(float64(size)/8192, 0.47)
	return math.Round(e64*float64(line)/8*10) / 10
}

// resolveTiming fills in the defaults of the timing fields left out
// (given reports the keys present, as for resolve) and checks the DRAM,
// flash and page-cache sections.
func (s *SoC) resolveTiming(given func(path string) bool) error {
	c := &s.Cores
	// A default filled in carries its source too, so that `soc show`
	// cites every number it prints.
	if c.SIMDBits == 0 && !given("cores.simd_bits") {
		c.SIMDBits = defaultSIMDBits
		c.Source.note("simd_bits", "default: 128-bit SIMD, as Arm Advanced SIMD (NEON) [est]")
	}
	if c.FMAUnits == 0 && !given("cores.fma_units") {
		c.FMAUnits = defaultFMAUnits
		c.Source.note("fma_units", "default: one FMA pipeline [est]")
	}
	if c.MSHRs == 0 && !given("cores.mshrs") {
		c.MSHRs = defaultMSHRs
		c.Source.note("mshrs", "default: 8 outstanding L1D line fills, a small in-order or mid-range core [est]")
	}
	// An explicit 0 pJ is a choice (leave compute energy out), in range.
	if c.EnergyPJPerFLOP == 0 && !given("cores.energy_pj_per_flop") {
		c.EnergyPJPerFLOP = defaultPJPerFLOP
		c.Source.note("energy_pj_per_flop", "default: Horowitz, ISSCC 2014, 45 nm: FP32 multiply 3.7 pJ + add 0.9 pJ, 2.3 pJ per FLOP of an FMA [paper]")
	}
	switch {
	case c.SIMDBits < 32 || c.SIMDBits > 4096 || c.SIMDBits%32 != 0:
		return &pathError{path: "cores.simd_bits", msg: fmt.Sprintf("%d, want a multiple of 32 in 32..4096", c.SIMDBits)}
	case c.FMAUnits < 1 || c.FMAUnits > 64:
		return &pathError{path: "cores.fma_units", msg: fmt.Sprintf("%d, want 1..64", c.FMAUnits)}
	case c.MSHRs < 1 || c.MSHRs > 1024:
		return &pathError{path: "cores.mshrs", msg: fmt.Sprintf("%d, want 1..1024", c.MSHRs)}
	case !(c.EnergyPJPerFLOP >= 0 && c.EnergyPJPerFLOP < 1e6):
		return &pathError{path: "cores.energy_pj_per_flop", msg: fmt.Sprintf("%g, want 0..1e6 pJ", c.EnergyPJPerFLOP)}
	}
	for i := range s.Caches {
		l := &s.Caches[i]
		at := fmt.Sprintf("caches[%d].", i)
		if l.BandwidthBytesPerCycle == 0 && !given(at+"bandwidth_bytes_per_cycle") {
			l.BandwidthBytesPerCycle = defaultLevelBandwidth
			l.Source.note("bandwidth_bytes_per_cycle", "default: 32 B per cycle, two 128-bit loads per cycle on the Arm cores (docs/timing-model.md 4.4) [est]")
		}
		if l.EnergyPJPerAccess == 0 && !given(at+"energy_pj_per_access") && l.Size > 0 && l.Line > 0 {
			l.EnergyPJPerAccess = sramPJPerLine(int64(l.Size), int64(l.Line))
			l.Source.note("energy_pj_per_access", "default: (line/8) x 10 pJ x (size/8 KiB)^0.47, fitted to Horowitz, ISSCC 2014 (45 nm): 10/20/100 pJ per 64-bit read of 8 KB/32 KB/1 MB SRAM (docs/timing-model.md 4.7) [est]")
		}
		if l.BandwidthBytesPerCycle < 1 || l.BandwidthBytesPerCycle > 1<<16 {
			return &pathError{path: fmt.Sprintf("caches[%d].bandwidth_bytes_per_cycle", i), msg: fmt.Sprintf("%d, want 1..65536", l.BandwidthBytesPerCycle)}
		}
		if !(l.EnergyPJPerAccess >= 0 && l.EnergyPJPerAccess < 1e9) {
			return &pathError{path: fmt.Sprintf("caches[%d].energy_pj_per_access", i), msg: fmt.Sprintf("%g, want 0..1e9 pJ", l.EnergyPJPerAccess)}
		}
	}
	if d := s.DRAM; d != nil {
		// The DRAM model reads 0 as "the standard's default"; a 0 written
		// out (--set dram.org.channels=0) is a mistake, not that request.
		o := d.Config.Org
		for _, f := range []struct {
			key string
			v   int
		}{{"channels", o.Channels}, {"ranks", o.Ranks}, {"bank_groups", o.BankGroups}, {"banks_per_group", o.BanksPerGroup},
			{"rows", o.Rows}, {"columns", o.Columns}, {"device_width", o.DeviceWidth}, {"bus_width", o.BusWidth}, {"burst_length", o.BurstLength}} {
			if f.v == 0 && given("dram.org."+f.key) {
				return &pathError{path: "dram.org." + f.key, msg: "0, want 1 or more (leave the key out for the standard's default)"}
			}
		}
		rc, err := d.Config.Resolve()
		if err == nil {
			err = rc.Validate()
		}
		if err != nil {
			return &pathError{path: "dram", msg: strings.TrimPrefix(err.Error(), "dram: ")}
		}
		d.Config = rc
		if src, err := dram.SourceOf(rc.Standard); err == nil {
			for _, k := range []string{"timing", "power"} {
				if !given("dram." + k) {
					d.Source.note(k, "defaults of "+rc.Grade+": "+src+" [2nd]")
				}
			}
		}
		if !(d.FabricLatencyNS >= 0 && d.FabricLatencyNS <= 100_000) {
			return &pathError{path: "dram.fabric_latency_ns", msg: fmt.Sprintf("%g, want 0..100000 ns", d.FabricLatencyNS)}
		}
	}
	if f := s.Flash; f != nil {
		if f.Device == "" && f.PageBytes == 0 {
			return &pathError{path: "flash.device", msg: "empty, want a device name (" + strings.Join(flash.Devices(), ", ") + ") or every field"}
		}
		rc, err := f.Resolve()
		if err == nil {
			err = rc.Validate()
		}
		if err != nil {
			return &pathError{path: "flash", msg: strings.TrimPrefix(err.Error(), "flash: ")}
		}
		*f = rc
	}
	if s.WeightsBudget > 0 {
		switch {
		case s.DRAM == nil:
			return &pathError{path: "weights_budget", msg: "needs a dram section (the budget is DRAM)"}
		case s.Flash == nil:
			return &pathError{path: "weights_budget", msg: "needs a flash section (where pages that do not fit are read from)"}
		}
		if s.PageCache == nil {
			s.PageCache = &PageCache{}
		}
	}
	if p := s.PageCache; p != nil {
		if p.Policy == "" {
			p.Policy = "linux"
		}
		if p.Readahead == "" {
			p.Readahead = "mmap"
		}
		if p.Access == "" {
			p.Access = "mmap"
		}
		if p.FaultAroundKB == 0 && !given("page_cache.fault_around_kb") {
			p.FaultAroundKB = 64
		}
		if p.ReadaheadKB == 0 && !given("page_cache.readahead_kb") {
			p.ReadaheadKB = 128
		}
		if p.PageBytes == 0 && !given("page_cache.page_bytes") {
			p.PageBytes = 4096
		}
		c := s.pageCacheConfig(0)
		if c.WeightsBudget == 0 { // no budget: the section is kept but unused
			c.WeightsBudget = int64(p.PageBytes)
		}
		if c.WeightsBudget < int64(p.PageBytes) {
			return &pathError{path: "weights_budget", msg: fmt.Sprintf("%d bytes, want at least one page (%d)", c.WeightsBudget, p.PageBytes)}
		}
		if err := c.Validate(); err != nil {
			return &pathError{path: "page_cache", msg: strings.TrimPrefix(err.Error(), "pagecache: ")}
		}
	}
	return nil
}

// pageCacheConfig is the page cache for a model file of fileBytes.
func (s *SoC) pageCacheConfig(fileBytes int64) pagecache.Config {
	p := s.PageCache
	return pagecache.Config{
		WeightsBudget: int64(s.WeightsBudget), PageBytes: int(p.PageBytes), Policy: p.Policy,
		Readahead: p.Readahead, ReadaheadKB: p.ReadaheadKB, Access: p.Access, FileBytes: fileBytes,
		FaultAroundKB: p.FaultAroundKB, PrefaultOld: p.PrefaultOld,
	}
}

// dramCapacity is the bytes the DRAM organization holds.
func dramCapacity(c dram.Config) uint64 {
	o := c.Org
	return uint64(o.Channels) * uint64(o.Ranks) * uint64(o.BankGroups) * uint64(o.BanksPerGroup) *
		uint64(o.Rows) * uint64(o.Columns) * uint64(o.BusWidth) / 8
}
