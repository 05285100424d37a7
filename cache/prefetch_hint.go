package cache

func init() {
	RegisterPrefetcher("hint", PrefetcherKind{New: func(PrefetcherConfig, int) Prefetcher { return hint{} }})
}

// hint issues exactly the prefetches the trace asks for (trace.Prefetch
// events, e.g. from a sparsity predictor) and nothing on its own.
type hint struct{}

func (hint) OnAccess(acc Access, dst []Addr) []Addr {
	if acc.Hint {
		dst = append(dst, acc.Addr)
	}
	return dst
}
