package sim

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/memory/flash"
)

// SoC describes the simulated memory system of one system-on-chip: its
// cores, caches and what lies below them. It is plain data, decoded from
// YAML by Parse (strictly: unknown keys are errors) and written back by
// YAML; a decoded SoC has every default filled in, so what it prints is
// exactly what is simulated.
//
// Package memory (DRAM, flash, page cache) adds its sections next to
// these; until then a SoC ends in IdealMemory.
type SoC struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Seed feeds every randomized part (random replacement); each level
	// instance derives its own seed from it.
	Seed  uint64 `yaml:"seed" json:"seed"`
	Cores Cores  `yaml:"cores" json:"cores"`
	// DTLB gives every core a data TLB when present.
	DTLB *TLB `yaml:"dtlb,omitempty" json:"dtlb,omitempty"`
	// Caches lists the cache levels from the core outwards.
	Caches      []Cache     `yaml:"caches" json:"caches"`
	IdealMemory IdealMemory `yaml:"ideal_memory" json:"ideal_memory"`
	// DRAM, when present, replaces the ideal memory below the caches and
	// turns on the timing model (docs/timing-model.md section 4). YAML
	// may give a grade alone ("dram: lpddr5-6400"), as --set dram= does.
	DRAM *DRAM `yaml:"dram,omitempty" json:"dram,omitempty"`
	// Flash holds the model file; pages of it that are not resident in
	// the page cache are read from here. YAML may give a device alone
	// ("flash: ufs-4.0").
	Flash *flash.Config `yaml:"flash,omitempty" json:"flash,omitempty"`
	// WeightsBudget is the DRAM the OS leaves for the model file's pages
	// (the page cache); 0 means the whole model is resident from the
	// start and flash is never read.
	WeightsBudget Size       `yaml:"weights_budget,omitempty" json:"weights_budget,omitempty"`
	PageCache     *PageCache `yaml:"page_cache,omitempty" json:"page_cache,omitempty"`
}

// Sources cites where the numbers of a section come from: a map from a
// key of the section (size, ways, latency_cycles, ...) to the reference,
// ending in a confidence tag as in ../shared/facts/soc.md: [doc] vendor
// datasheet, TRM or the vendor's own sources, [paper], [2nd] secondary
// source, [est] our estimate or derivation, [measured].
type Sources map[string]string

// note records text as the source of key unless the file gave one.
func (s *Sources) note(key, text string) {
	if _, ok := (*s)[key]; ok {
		return
	}
	if *s == nil {
		*s = Sources{}
	}
	(*s)[key] = text
}

// Confidence tags a source may end with.
var confidenceTags = []string{"[doc]", "[paper]", "[2nd]", "[est]", "[measured]"}

// Cores describes the CPU cores that issue the trace's accesses.
type Cores struct {
	// Count is the number of cores; trace thread t runs on core
	// t mod Count.
	Count int `yaml:"count" json:"count"`
	// ClockMHz is the core clock; cache latencies are in its cycles.
	ClockMHz int `yaml:"clock_mhz" json:"clock_mhz"`
	// SIMDBits is the width of one SIMD register (128 for NEON, 256 for
	// AVX2) and FMAUnits the SIMD fused multiply-adds a core starts per
	// cycle: peak FP32 FLOP/cycle = FMAUnits x SIMDBits/32 x 2.
	SIMDBits int `yaml:"simd_bits" json:"simd_bits"`
	FMAUnits int `yaml:"fma_units" json:"fma_units"`
	// MSHRs bounds the demand line fills one core has outstanding (miss
	// status holding registers / line-fill buffers): its memory-level
	// parallelism.
	MSHRs int `yaml:"mshrs" json:"mshrs"`
	// EnergyPJPerFLOP is the core energy of one floating-point operation.
	EnergyPJPerFLOP float64 `yaml:"energy_pj_per_flop" json:"energy_pj_per_flop"`
	Source          Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// Cache is one cache level as written in YAML.
type Cache struct {
	Name string `yaml:"name" json:"name"`
	// Size is the capacity of one instance.
	Size Size `yaml:"size" json:"size"`
	Ways int  `yaml:"ways" json:"ways"`
	// Line is the line size; all levels share one.
	Line Size `yaml:"line" json:"line"`
	// LatencyCycles is the hit latency in core cycles.
	LatencyCycles int `yaml:"latency_cycles" json:"latency_cycles"`
	// Replacement is a policy name (default lru).
	Replacement string `yaml:"replacement" json:"replacement"`
	// Write is write-back (default) or write-through.
	Write string `yaml:"write" json:"write"`
	// WriteAllocate (default true) fills the line on a store miss.
	WriteAllocate *bool `yaml:"write_allocate" json:"write_allocate"`
	// Inclusion relates the level to those above it: non-inclusive
	// (default), inclusive or exclusive.
	Inclusion string `yaml:"inclusion" json:"inclusion"`
	// SharedBy is the number of cores sharing one instance (default 1:
	// private).
	SharedBy   int        `yaml:"shared_by" json:"shared_by"`
	Prefetcher Prefetcher `yaml:"prefetcher" json:"prefetcher"`
	// WriteStreaming, when present, makes the level stop allocating the
	// store misses of a core writing a run of at least after_lines
	// sequential full lines (the Cortex-A cores' write-streaming mode,
	// docs/timing-model.md 4.8); absent or after_lines 0: never.
	WriteStreaming *cache.WriteStreaming `yaml:"write_streaming,omitempty" json:"write_streaming,omitempty"`
	// BandwidthBytesPerCycle is what one instance delivers per core
	// cycle (timing model; default 32).
	BandwidthBytesPerCycle int `yaml:"bandwidth_bytes_per_cycle" json:"bandwidth_bytes_per_cycle"`
	// EnergyPJPerAccess is the energy of one line lookup or fill (timing
	// model; default scaled from Horowitz, ISSCC 2014, by size).
	EnergyPJPerAccess float64 `yaml:"energy_pj_per_access" json:"energy_pj_per_access"`
	Source            Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// Prefetcher selects a level's prefetcher. In YAML it is a name
// ("next-line") or a mapping ({name: stride, degree: 2, distance: 4}).
type Prefetcher struct {
	Name     string `yaml:"name" json:"name"`
	Degree   int    `yaml:"degree,omitempty" json:"degree,omitempty"`
	Distance int    `yaml:"distance,omitempty" json:"distance,omitempty"`
	Table    int    `yaml:"table,omitempty" json:"table,omitempty"`
}

// UnmarshalYAML accepts the short form (a bare name).
func (p *Prefetcher) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*p = Prefetcher{Name: n.Value}
		return nil
	}
	type plain Prefetcher
	return n.Decode((*plain)(p))
}

// MarshalYAML writes the short form when only the name is set.
func (p Prefetcher) MarshalYAML() (any, error) {
	if p.Degree == 0 && p.Distance == 0 && p.Table == 0 {
		return p.Name, nil
	}
	type plain Prefetcher
	return plain(p), nil
}

// TLB describes the per-core data TLB.
type TLB struct {
	Entries int `yaml:"entries" json:"entries"`
	// Ways equal to Entries is fully associative.
	Ways int `yaml:"ways" json:"ways"`
	// Page is 4KiB, 16KiB, 64KiB or 2MiB.
	Page        Size    `yaml:"page" json:"page"`
	Replacement string  `yaml:"replacement" json:"replacement"`
	Source      Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// IdealMemory is the fixed-latency memory below the last cache level of a
// SoC description without a DRAM model.
type IdealMemory struct {
	LatencyNS int     `yaml:"latency_ns" json:"latency_ns"`
	Source    Sources `yaml:"source,omitempty" json:"source,omitempty"`
}

// Defaults for keys a SoC file may leave out.
const (
	defaultClockMHz  = 1000
	defaultLatencyNS = 100
)

// resolve fills in defaults and checks everything the cache package does
// not: field names in errors are YAML paths. given reports whether the
// document has a key: a default replaces only a key left out, never an
// explicit value (an explicit 0 where 0 means nothing is an error).
func (s *SoC) resolve(given func(path string) bool) error {
	if given == nil {
		given = func(string) bool { return false }
	}
	if s.Name == "" {
		return &pathError{path: "name", msg: "empty, want the SoC's name"}
	}
	if s.Cores.Count == 0 && !given("cores.count") {
		s.Cores.Count = 1
	}
	if s.Cores.ClockMHz == 0 && !given("cores.clock_mhz") {
		s.Cores.ClockMHz = defaultClockMHz
	}
	if s.Cores.Count < 1 || s.Cores.Count > 256 {
		return &pathError{path: "cores.count", msg: fmt.Sprintf("%d, want 1..256", s.Cores.Count)}
	}
	if s.Cores.ClockMHz < 1 || s.Cores.ClockMHz > 100_000 {
		return &pathError{path: "cores.clock_mhz", msg: fmt.Sprintf("%d, want 1..100000", s.Cores.ClockMHz)}
	}
	if s.IdealMemory.LatencyNS == 0 && !given("ideal_memory.latency_ns") {
		s.IdealMemory.LatencyNS = defaultLatencyNS
	}
	if s.IdealMemory.LatencyNS < 0 || s.IdealMemory.LatencyNS > 1e9 {
		return &pathError{path: "ideal_memory.latency_ns", msg: fmt.Sprintf("%d, want 0..1e9 ns", s.IdealMemory.LatencyNS)}
	}
	if len(s.Caches) == 0 {
		return &pathError{path: "caches", msg: "empty, want at least one cache level"}
	}
	for i := range s.Caches {
		c := &s.Caches[i]
		at := fmt.Sprintf("caches[%d].", i)
		for _, k := range []struct{ key, want string }{
			{"size", "the capacity of one instance, e.g. 32KiB"},
			{"ways", "the associativity, e.g. 8"},
			{"line", "the line size in bytes, e.g. 64"},
		} {
			if !given(at + k.key) {
				return &pathError{path: at + k.key, msg: "missing, want " + k.want}
			}
		}
		// Checked here as well as by the cache model, because the
		// energy per access is derived from the line before that runs.
		if l := int64(c.Line); l < 16 || l > 65536 || l&(l-1) != 0 {
			return &pathError{path: at + "line", msg: fmt.Sprintf("%d, want a power of two between 16 and 65536 bytes", l)}
		}
		if c.Replacement == "" {
			c.Replacement = "lru"
		}
		if c.Write == "" {
			c.Write = cache.WriteBack.String()
		}
		if c.WriteAllocate == nil {
			t := true
			c.WriteAllocate = &t
		}
		if c.Inclusion == "" {
			c.Inclusion = cache.NonInclusive.String()
		}
		if c.SharedBy == 0 && !given(at+"shared_by") {
			c.SharedBy = 1
		}
		if c.SharedBy < 1 || c.SharedBy > 1024 {
			return &pathError{path: at + "shared_by", msg: fmt.Sprintf("%d, want 1..1024 cores", c.SharedBy)}
		}
		pc, err := cache.ResolvePrefetcher(cache.PrefetcherConfig(c.Prefetcher))
		if err != nil {
			return levelPathError(i, err)
		}
		// ResolvePrefetcher reads 0 as "the default"; a 0 written out is
		// a mistake (0 lines ahead, a 0-entry table), not that request.
		for _, p := range []struct {
			key           string
			set, resolved int
		}{{"degree", c.Prefetcher.Degree, pc.Degree}, {"distance", c.Prefetcher.Distance, pc.Distance}, {"table", c.Prefetcher.Table, pc.Table}} {
			if p.set != 0 || !given(at+"prefetcher."+p.key) {
				continue
			}
			msg := fmt.Sprintf("0, want > 0 (leave the key out for the default, %d)", p.resolved)
			if p.resolved == 0 {
				msg = fmt.Sprintf("0, but prefetcher %s takes no %s", pc.Name, p.key)
			}
			return &pathError{path: at + "prefetcher." + p.key, msg: msg}
		}
		c.Prefetcher = Prefetcher(pc)
	}
	if s.DTLB != nil {
		for _, k := range []struct{ key, want string }{
			{"entries", "the number of entries, e.g. 48"},
			{"ways", "the associativity (entries for fully associative)"},
			{"page", "the page size: 4KiB, 16KiB, 64KiB or 2MiB"},
		} {
			if !given("dtlb." + k.key) {
				return &pathError{path: "dtlb." + k.key, msg: "missing, want " + k.want}
			}
		}
	}
	if s.DTLB != nil && s.DTLB.Replacement == "" {
		s.DTLB.Replacement = "lru"
	}
	if err := s.resolveTiming(given); err != nil {
		return err
	}
	for path, src := range s.sources() {
		for k, v := range src {
			if !hasConfidence(v) {
				return &pathError{path: path + "source." + k, msg: fmt.Sprintf("%q does not end in a confidence tag (%s)", v, strings.Join(confidenceTags, ", "))}
			}
		}
	}
	_, err := s.hierarchyConfig(&idealMemory{})
	return err
}

func hasConfidence(s string) bool {
	for _, t := range confidenceTags {
		if strings.HasSuffix(strings.TrimSpace(s), t) {
			return true
		}
	}
	return false
}

// sources returns every section's sources keyed by the section's path
// prefix ("", "cores.", "caches[0]." ...).
func (s *SoC) sources() map[string]Sources {
	m := map[string]Sources{"cores.": s.Cores.Source, "ideal_memory.": s.IdealMemory.Source}
	if s.DTLB != nil {
		m["dtlb."] = s.DTLB.Source
	}
	for i, c := range s.Caches {
		m[fmt.Sprintf("caches[%d].", i)] = c.Source
	}
	if s.DRAM != nil {
		m["dram."] = s.DRAM.Source
	}
	if s.PageCache != nil {
		m["page_cache."] = s.PageCache.Source
	}
	return m
}

// CyclePS returns the core clock period in picoseconds, rounded.
func (s *SoC) CyclePS() uint64 {
	return uint64((1_000_000 + s.Cores.ClockMHz/2) / s.Cores.ClockMHz)
}

// CacheConfigs returns the cache levels as cache.Configs.
func (s *SoC) CacheConfigs() ([]cache.Config, error) {
	out := make([]cache.Config, len(s.Caches))
	for i, c := range s.Caches {
		w, err := cache.ParseWritePolicy(c.Write)
		if err != nil {
			return nil, levelPathError(i, &cache.FieldError{Field: "write", Msg: err.Error()})
		}
		in, err := cache.ParseInclusion(c.Inclusion)
		if err != nil {
			return nil, levelPathError(i, &cache.FieldError{Field: "inclusion", Msg: err.Error()})
		}
		wa := c.WriteAllocate == nil || *c.WriteAllocate
		out[i] = cache.Config{
			Name: c.Name, SizeBytes: int(c.Size), Ways: c.Ways, LineBytes: int(c.Line),
			LatencyCycles: c.LatencyCycles, Replacement: c.Replacement, Write: w,
			WriteAllocate: wa, Inclusion: in, SharedBy: c.SharedBy,
			Prefetcher: cache.PrefetcherConfig(c.Prefetcher),
			Seed:       cache.DeriveSeed(s.Seed, uint64(i)),
		}
		if c.WriteStreaming != nil {
			out[i].WriteStreaming = *c.WriteStreaming
		}
	}
	return out, nil
}

// HierarchyConfig returns the configuration of the cache hierarchy over
// mem.
func (s *SoC) HierarchyConfig(mem cache.Memory) (cache.HierarchyConfig, error) {
	return s.hierarchyConfig(mem)
}

func (s *SoC) hierarchyConfig(mem cache.Memory) (cache.HierarchyConfig, error) {
	levels, err := s.CacheConfigs()
	if err != nil {
		return cache.HierarchyConfig{}, err
	}
	hc := cache.HierarchyConfig{Cores: s.Cores.Count, CyclePS: s.CyclePS(), Levels: levels, Memory: mem}
	if t := s.DTLB; t != nil {
		hc.TLB = &cache.TLBConfig{Entries: t.Entries, Ways: t.Ways, PageBytes: int(t.Page), Replacement: t.Replacement, Seed: cache.DeriveSeed(s.Seed, 1000)}
	}
	if err := hc.Validate(); err != nil {
		return hc, levelPathError(-1, err)
	}
	return hc, nil
}

// Seeds returns the seed of every randomized part, by name, for
// provenance.
func (s *SoC) Seeds() map[string]uint64 {
	m := map[string]uint64{"soc": s.Seed}
	for i, c := range s.Caches {
		m[c.Name] = cache.DeriveSeed(s.Seed, uint64(i))
	}
	if s.DTLB != nil {
		m["dtlb"] = cache.DeriveSeed(s.Seed, 1000)
	}
	return m
}

// YAML writes the SoC in the form Parse reads.
func (s *SoC) YAML() ([]byte, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	enc.Close()
	return []byte(b.String()), nil
}

// HasPrefetcher reports whether any level prefetches.
func (s *SoC) HasPrefetcher() bool {
	for _, c := range s.Caches {
		if c.Prefetcher.Name != "" && c.Prefetcher.Name != "none" {
			return true
		}
	}
	return false
}

// withoutPrefetchers returns a copy of s with every prefetcher off: the
// baseline of the coverage metric.
func (s *SoC) withoutPrefetchers() *SoC {
	c := *s
	c.Caches = append([]Cache(nil), s.Caches...)
	for i := range c.Caches {
		c.Caches[i].Prefetcher = Prefetcher{Name: "none"}
	}
	return &c
}

// pathError is a problem at a YAML path ("caches[1].ways").
type pathError struct {
	path string
	msg  string
}

func (e *pathError) Error() string { return e.path + ": " + e.msg }

// levelPathError turns a cache package error into a pathError: a
// LevelError's level index and the FieldError's field give the path.
// level is used when err carries no level.
func levelPathError(level int, err error) error {
	path := ""
	if le, ok := err.(*cache.LevelError); ok {
		level, err = le.Level, le.Err
	}
	for {
		if fe, ok := err.(*cache.FieldError); ok {
			field := fe.Field
			switch {
			case strings.HasPrefix(field, "dtlb."):
				path = field
			case field == "cores":
				path = "cores.count"
			case field == "clock":
				path = "cores.clock_mhz"
			case field == "caches":
				path = "caches"
			case level >= 0:
				path = fmt.Sprintf("caches[%d].%s", level, field)
			default:
				path = field
			}
			return &pathError{path: path, msg: fe.Msg}
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	if level >= 0 {
		return &pathError{path: fmt.Sprintf("caches[%d]", level), msg: err.Error()}
	}
	return err
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
