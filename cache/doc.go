// Package cache simulates one set-associative cache level: geometry,
// replacement policies, write and inclusion policies, prefetchers, an
// optional data TLB and per-level counters including prefetch accuracy,
// lateness, coverage and pollution.
//
// Replacement policies and prefetchers plug in by name through small
// interfaces and registries; adding one touches no other. The package
// consumes trace events but knows nothing about transformers or DRAM.
package cache
