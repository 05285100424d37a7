package cache

func init() {
	RegisterPrefetcher("none", PrefetcherKind{New: func(PrefetcherConfig, int) Prefetcher { return nil }})
}
