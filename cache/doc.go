// Package cache simulates set-associative cache hierarchies: levels with
// their geometry, replacement policy, write policy (write-back or
// write-through, write-allocate or not) and inclusion (inclusive with
// back-invalidation, exclusive victim caches, non-inclusive), private per
// core or shared by groups of cores, an optional per-core data TLB, and
// prefetchers with the metrics of docs/metrics.md (accuracy, lateness,
// pollution; coverage from a baseline run).
//
// A Hierarchy is built from a HierarchyConfig and fed trace events with
// Run; an event spanning k lines is k references. Below the last level
// lies a Memory: the seam where package memory (DRAM, flash, page cache)
// plugs in. Its single method uses only built-in types and trace.Kind, so
// an implementation needs nothing from this package:
//
//	Access(addr uint64, size uint32, kind trace.Kind, core int, now uint64) (done uint64)
//
// Times are integer picoseconds. Each core keeps its own clock, advanced
// by the service time of its demand references (a blocking core); a
// timing model above can instead run events in slices and read Time and
// Stats between them.
//
// Replacement policies (Policy: Victim, OnHit, OnFill, as ChampSim's
// hooks) and prefetchers (Prefetcher: append-style OnAccess) plug in by
// name through registries; adding one touches no other file. lru is kept
// inline in the tag array for speed; the other policies go through the
// interface.
//
// A write-allocate level may also stream stores (WriteStreaming,
// stream.go): as the Cortex-A cores do, a core writing a run of
// sequential full lines stops allocating its store misses there once the
// run reaches the level's threshold, and the lines go on to the next
// level or memory without a read-for-ownership fill (counted in
// Stats.StreamingStores).
//
// Hierarchies whose levels are all lru, non-inclusive, write-back and
// write-allocate without write streaming, with a private first level, no
// prefetcher and no TLB
// (the hierarchy Cachegrind models, and the usual one for miss-rate
// studies) replay on a fast path (fast.go) chosen at construction: the
// first level runs alone in a tight loop and queues its misses, which a
// second loop serves through the levels below and memory in order. Its
// results are those of the general path, counter for counter and memory
// request for request (TestFastPathDifferential); every other hierarchy,
// including any using a policy registered from outside, takes the general
// path. On amd64 the fast path's loops for 4-way first and 8-way second
// levels of 64-byte lines are in assembly (fast_amd64.s), with the Go
// loops elsewhere; TestFastLoopsDifferential checks both. With AVX2, a
// one-core hierarchy of two levels of 4, 8, 12 or 16 ways keeps its sets
// in recency order while the fast path replays it and runs vector loops
// over them (mru.go, mru_amd64.s); TestMRUGeometries checks every pair
// of way counts against the general path.
//
// The package knows nothing about transformers, YAML or DRAM.
package cache
