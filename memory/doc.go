// Package memory groups the models of what lies below the last cache
// level of an edge SoC. It has no code of its own; the models live in
// its sub-packages, each with a Config (units in field comments,
// Validate, snake_case YAML tags so SoC files can embed them) and a
// constructor that never panics:
//
//   - memory/dram: LPDDR4/4X/5/5X and DDR4 DRAM as an event-level
//     controller model (FR-FCFS over bounded queues, per-bank row
//     buffers, JEDEC timing constraints, refresh, power-down) with IDD
//     energy and a separate I/O term. Standards plug in by name.
//   - memory/flash: microSD, eMMC, UFS and NVMe devices by name: tR,
//     internal parallelism, NAND bus, host link, IOPS cap, queue depth,
//     energy per byte.
//   - memory/pagecache: the OS page cache for memory-mapped weights:
//     a DRAM budget, synchronous faults with Linux readahead, eviction
//     policies by name (lru, linux).
//
// Time is integer picoseconds everywhere; counters are uint64. The
// packages use no clock, randomness or goroutines of their own, so
// results are deterministic. They know nothing about caches, traces or
// transformers; sim wires them together (see docs/timing-model.md).
package memory
