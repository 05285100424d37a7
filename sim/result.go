package sim

import "github.com/edgeprof/edgeprof/cache"

// Result is the outcome of one SoC replaying one trace. Its JSON form is
// the contract of `edgeprof sim --json`: demand counts in accesses, hits
// and misses; keys carry their unit where there is one (_bytes, _ns).
type Result struct {
	SoC   string `json:"soc"`
	Trace string `json:"trace"`
	// Events counts the events read; CountedEvents those after warm-up.
	Events        uint64        `json:"events"`
	CountedEvents uint64        `json:"counted_events"`
	Levels        []LevelResult `json:"levels"`
	// The timing model's outputs (SoCs with a dram section) cover every
	// token, warm-up included: DRAM, flash and page cache over the whole
	// run, energy per level, and per-token and per-op breakdowns.
	DRAM      *DRAMReport      `json:"dram,omitempty"`
	Flash     *FlashReport     `json:"flash,omitempty"`
	PageCache *PageCacheReport `json:"page_cache,omitempty"`
	Energy    *EnergyReport    `json:"energy,omitempty"`
	DTLB      *TLBResult       `json:"dtlb,omitempty"`
	// Memory reports what lies below the last cache level.
	Memory any           `json:"memory"`
	Time   TimeResult    `json:"time"`
	Tokens []TokenResult `json:"tokens,omitempty"`
	Ops    []OpResult    `json:"ops,omitempty"`
	// Sweep holds the --sweep values this result was run with, in the
	// order of the sweep flags.
	Sweep    []SweepValue `json:"sweep,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// Provenance says exactly what produced the numbers.
	Provenance Provenance `json:"provenance"`
}

// LevelResult is one cache level, summed over its instances.
type LevelResult struct {
	Name          string   `json:"name"`
	Instances     int      `json:"instances"`
	SizeBytes     int64    `json:"size_bytes"`
	Accesses      uint64   `json:"accesses"`
	Hits          uint64   `json:"hits"`
	Misses        uint64   `json:"misses"`
	MissRate      *float64 `json:"miss_rate"`
	ReadAccesses  uint64   `json:"read_accesses"`
	WriteAccesses uint64   `json:"write_accesses"`
	ReadMisses    uint64   `json:"read_misses"`
	WriteMisses   uint64   `json:"write_misses"`
	Fills         uint64   `json:"fills"`
	Evictions     uint64   `json:"evictions"`
	Writebacks    uint64   `json:"writebacks"`
	WriteThroughs uint64   `json:"write_throughs"`
	Invalidations uint64   `json:"invalidations"`
	// StreamingStores: store misses not allocated because the core was
	// in write-streaming mode (docs/metrics.md).
	StreamingStores uint64 `json:"streaming_stores"`
	// UselessBytes: bytes filled into the level and evicted untouched.
	UselessBytes          uint64         `json:"useless_bytes"`
	PrefetchRequests      uint64         `json:"prefetch_requests"`
	PrefetchRequestMisses uint64         `json:"prefetch_request_misses"`
	Prefetch              PrefetchResult `json:"prefetch"`
}

// PrefetchResult is one level's prefetcher; docs/metrics.md defines every
// field. Ratios are null when undefined (zero denominator, or no
// baseline run for coverage).
type PrefetchResult struct {
	Prefetcher      string   `json:"prefetcher"`
	Issued          uint64   `json:"issued"`
	Dropped         uint64   `json:"dropped"`
	Hits            uint64   `json:"hits"`
	Late            uint64   `json:"late"`
	Useless         uint64   `json:"useless"`
	PollutionMisses uint64   `json:"pollution_misses"`
	BaselineMisses  *uint64  `json:"baseline_misses"`
	Accuracy        *float64 `json:"accuracy"`
	Lateness        *float64 `json:"lateness"`
	Coverage        *float64 `json:"coverage"`
	Pollution       *float64 `json:"pollution"`
}

// TLBResult is the data TLBs summed over cores.
type TLBResult struct {
	Accesses uint64   `json:"accesses"`
	Misses   uint64   `json:"misses"`
	MissRate *float64 `json:"miss_rate"`
}

// TimeResult is simulated time. Without the timing model each core
// advances by the service time of its demand references (a blocking
// in-order core) and the total is the latest core's time after warm-up.
// With it (TokenTimes present) the total is the whole run's time,
// warm-up included.
type TimeResult struct {
	TotalNS float64 `json:"total_ns"`
	*TokenTimes
}

// TokenTimes are the timing model's per-token times.
type TokenTimes struct {
	// TTFTNS is the time to first token: from the start to the end of the
	// last prompt-phase operation (the whole run for din traces, which
	// have no phases).
	TTFTNS float64 `json:"ttft_ns"`
	// PerTokenNS is each decode token's time, in order.
	PerTokenNS   []float64 `json:"per_token_ns"`
	PromptTokens int       `json:"prompt_tokens"`
	DecodeTokens int       `json:"decode_tokens"`
	// MeanTokenNS averages PerTokenNS (0 without decode tokens);
	// TokensPerS is its inverse.
	MeanTokenNS float64 `json:"mean_token_ns"`
	TokensPerS  float64 `json:"tokens_per_s"`
}

// SweepValue is one swept key and the value a run used.
type SweepValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Provenance records everything needed to reproduce a result.
type Provenance struct {
	EdgeprofVersion string `json:"edgeprof_version"`
	TraceFormat     string `json:"trace_format"`
	TraceSHA256     string `json:"trace_sha256"`
	ModelName       string `json:"model_name,omitempty"`
	ModelSHA256     string `json:"model_sha256,omitempty"`
	// SoCYAML is the full resolved SoC description, overrides applied:
	// `edgeprof sim --soc` accepts it back as a file.
	SoCYAML      string            `json:"soc_yaml"`
	Overrides    []string          `json:"overrides,omitempty"`
	Seeds        map[string]uint64 `json:"seeds"`
	WarmupTokens int               `json:"warmup_tokens"`
	// Coverage says how the coverage baseline was obtained.
	Coverage string `json:"coverage"`
	// Straddle is how events spanning several lines were counted.
	Straddle string `json:"straddle"`
}

func ratio(r cache.Ratio) *float64 {
	if !r.OK {
		return nil
	}
	v := r.Value
	return &v
}

func levelResult(cfg Cache, s cache.LevelStats, baseline *uint64) LevelResult {
	lr := LevelResult{
		Name: s.Name, Instances: s.Instances, SizeBytes: int64(cfg.Size),
		Accesses: s.Accesses(), Hits: s.Hits(), Misses: s.Misses(),
		ReadAccesses: s.ReadAccesses, WriteAccesses: s.WriteAccesses,
		ReadMisses: s.ReadMisses, WriteMisses: s.WriteMisses,
		Fills: s.Fills, Evictions: s.Evictions, Writebacks: s.Writebacks,
		WriteThroughs: s.WriteThroughs, Invalidations: s.Invalidations,
		StreamingStores:       s.StreamingStores,
		UselessBytes:          s.UntouchedEvictions * uint64(cfg.Line),
		PrefetchRequests:      s.PrefetchRequests,
		PrefetchRequestMisses: s.PrefetchRequestMisses,
	}
	if a := s.Accesses(); a > 0 {
		v := float64(s.Misses()) / float64(a)
		lr.MissRate = &v
	}
	p := s.Prefetch
	lr.Prefetch = PrefetchResult{
		Prefetcher: cfg.Prefetcher.Name, Issued: p.Issued, Dropped: p.Dropped,
		Hits: p.Useful, Late: p.Late, Useless: p.Useless, PollutionMisses: p.PollutionMisses,
		Accuracy: ratio(p.Accuracy()), Lateness: ratio(p.Lateness()), Pollution: ratio(s.Pollution()),
	}
	if p.Issued == 0 && s.PrefetchRequests == 0 {
		// No prefetch filled this level: pollution is undefined, like
		// accuracy and lateness, not 0.
		lr.Prefetch.Pollution = nil
	}
	if baseline != nil {
		lr.Prefetch.BaselineMisses = baseline
		lr.Prefetch.Coverage = ratio(cache.Coverage(s.Misses(), *baseline))
	}
	return lr
}
