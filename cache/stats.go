package cache

// Stats are the counters of one cache level (summed over its instances
// when a hierarchy reports them). Demand references are the core's loads
// and stores (and stores passed on by a no-write-allocate level above);
// requests made on behalf of a prefetcher are counted apart.
type Stats struct {
	ReadAccesses  uint64 // demand loads, one per line
	WriteAccesses uint64 // demand stores (incl. read-for-ownership), one per line
	ReadMisses    uint64
	WriteMisses   uint64
	// Fills counts lines placed in the level, for any reason.
	Fills uint64
	// Evictions counts valid lines replaced to make room for a fill.
	Evictions uint64
	// Writebacks counts dirty lines this level sent down when they left.
	Writebacks uint64
	// WriteThroughs counts stores this level passed down at once
	// (write-through levels).
	WriteThroughs uint64
	// Invalidations counts lines removed by an inclusive level below
	// (back-invalidation).
	Invalidations uint64
	// StreamingStores counts store misses this write-allocate level did
	// not allocate because their core was in write-streaming mode: the
	// store went on to the next level (or memory) without a fill.
	StreamingStores uint64
	// UntouchedEvictions counts lines that left (evicted or invalidated)
	// without a demand reference after their fill: prefetched lines never
	// used, victim and write-back fills never read again.
	UntouchedEvictions uint64
	// PrefetchRequests counts requests from prefetchers of the levels
	// above; PrefetchRequestMisses those that missed here.
	PrefetchRequests      uint64
	PrefetchRequestMisses uint64
	// Prefetch counts this level's own prefetcher.
	Prefetch PrefetchStats
}

// PrefetchStats are the counters of one level's prefetcher. The derived
// metrics are defined in docs/metrics.md.
type PrefetchStats struct {
	// Issued counts prefetches sent below (the line was not present).
	Issued uint64
	// Dropped counts proposals for lines already present (or in flight)
	// in the level, and proposals outside the address space.
	Dropped uint64
	// Useful counts prefetched lines that saw a demand hit before leaving
	// the level ("prefetch hits"; each line counts once).
	Useful uint64
	// Late counts useful prefetches whose demand arrived before the fill
	// completed.
	Late uint64
	// Useless counts prefetched lines that left the level unused.
	Useless uint64
	// PollutionMisses counts demand misses to lines that a prefetch fill
	// had evicted from this level (exact per-set record, see
	// docs/metrics.md).
	PollutionMisses uint64
}

// Accesses returns the demand references.
func (s *Stats) Accesses() uint64 { return s.ReadAccesses + s.WriteAccesses }

// Misses returns the demand misses.
func (s *Stats) Misses() uint64 { return s.ReadMisses + s.WriteMisses }

// Hits returns the demand hits.
func (s *Stats) Hits() uint64 { return s.Accesses() - s.Misses() }

// Add adds o to s.
func (s *Stats) Add(o *Stats) {
	s.ReadAccesses += o.ReadAccesses
	s.WriteAccesses += o.WriteAccesses
	s.ReadMisses += o.ReadMisses
	s.WriteMisses += o.WriteMisses
	s.Fills += o.Fills
	s.Evictions += o.Evictions
	s.Writebacks += o.Writebacks
	s.WriteThroughs += o.WriteThroughs
	s.Invalidations += o.Invalidations
	s.StreamingStores += o.StreamingStores
	s.UntouchedEvictions += o.UntouchedEvictions
	s.PrefetchRequests += o.PrefetchRequests
	s.PrefetchRequestMisses += o.PrefetchRequestMisses
	s.Prefetch.Issued += o.Prefetch.Issued
	s.Prefetch.Dropped += o.Prefetch.Dropped
	s.Prefetch.Useful += o.Prefetch.Useful
	s.Prefetch.Late += o.Prefetch.Late
	s.Prefetch.Useless += o.Prefetch.Useless
	s.Prefetch.PollutionMisses += o.Prefetch.PollutionMisses
}

// Sub subtracts o from s; warm-up exclusion subtracts a snapshot taken
// when warm-up ended.
func (s *Stats) Sub(o *Stats) {
	s.ReadAccesses -= o.ReadAccesses
	s.WriteAccesses -= o.WriteAccesses
	s.ReadMisses -= o.ReadMisses
	s.WriteMisses -= o.WriteMisses
	s.Fills -= o.Fills
	s.Evictions -= o.Evictions
	s.Writebacks -= o.Writebacks
	s.WriteThroughs -= o.WriteThroughs
	s.Invalidations -= o.Invalidations
	s.StreamingStores -= o.StreamingStores
	s.UntouchedEvictions -= o.UntouchedEvictions
	s.PrefetchRequests -= o.PrefetchRequests
	s.PrefetchRequestMisses -= o.PrefetchRequestMisses
	s.Prefetch.Issued -= o.Prefetch.Issued
	s.Prefetch.Dropped -= o.Prefetch.Dropped
	s.Prefetch.Useful -= o.Prefetch.Useful
	s.Prefetch.Late -= o.Prefetch.Late
	s.Prefetch.Useless -= o.Prefetch.Useless
	s.Prefetch.PollutionMisses -= o.Prefetch.PollutionMisses
}

// Ratio is a derived metric that may be undefined (zero denominator).
type Ratio struct {
	Value float64
	OK    bool
}

func ratio(num, den uint64) Ratio {
	if den == 0 {
		return Ratio{}
	}
	return Ratio{float64(num) / float64(den), true}
}

// Accuracy is useful / issued (Srinath et al., HPCA 2007).
func (p *PrefetchStats) Accuracy() Ratio { return ratio(p.Useful, p.Issued) }

// Lateness is late / useful (Srinath et al., HPCA 2007).
func (p *PrefetchStats) Lateness() Ratio { return ratio(p.Late, p.Useful) }

// Pollution is prefetch-caused demand misses / all demand misses
// (Srinath et al., HPCA 2007).
func (s *Stats) Pollution() Ratio { return ratio(s.Prefetch.PollutionMisses, s.Misses()) }

// Coverage is the fraction of the demand misses of a run without
// prefetching that prefetching removed (Srinivasan, Davidson, Tyson, IEEE
// TC 2004): (baseline - misses) / baseline. It is negative when
// prefetching adds misses. baseline comes from a shadow run of the same
// trace with every prefetcher off.
func Coverage(misses, baseline uint64) Ratio {
	if baseline == 0 {
		return Ratio{}
	}
	return Ratio{(float64(baseline) - float64(misses)) / float64(baseline), true}
}
