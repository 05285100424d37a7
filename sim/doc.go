// Package sim builds a simulated SoC memory system from a YAML
// description (embedded presets or user files, loaded strictly: unknown
// keys are errors with their line), drives it with traces, and reports
// per-level counters, time and energy with provenance.
//
// A SoC file has cores, caches (nearest the core first), an optional
// per-core dtlb, ideal_memory, and for the timing model dram, flash,
// weights_budget and page_cache. Every number of a preset cites its source
// with a confidence tag. Presets: rpi4, rpi5, orin-nano, rk3588, sd8gen3
// and host (this build machine, filled in by hand).
//
// What lies below the last cache level is a cache.Memory. Without a dram
// section (or with Options.NoTiming) it is the SoC's ideal fixed-latency
// memory and time is the hierarchy's blocking-core clock; Options.Memory
// plugs in any other (a Reporter puts its counters into Result.Memory, a
// Failer can end the run). With a dram section the timing model of
// docs/timing-model.md section 4 runs (timing.go): the trace is cut into
// operations at the engine's barriers; the hierarchy runs each one and
// records the lines that leave the last level; each core then issues its
// requests to the memory/dram model in global time order, paced over its
// compute (FLOPs from the trace header's tensor table, flops.go) and cache
// bandwidth, with at most cores.mshrs fills in flight; model-file pages go
// through memory/pagecache over memory/flash (a fault stalls the core, its
// flash read is DMA-written into DRAM); prefetches overlap the op that
// issued them and the next op waits for them. Results then carry dram,
// flash, page_cache, energy, per-token and per-op objects and time to
// first token and time per token. The coverage baseline (every prefetcher
// off) always runs on an ideal memory, since miss counts do not depend on
// timing.
//
// Run reads a trace once and replays it on several SoCs in parallel
// goroutines, sharing read-only batches, so memory does not grow with the
// trace. Plan, Shard, RunJobs and Merge run sweeps (the cross product of
// overridden values) whole or in deterministic shards whose partial
// results merge into exactly what one run gives.
//
// It uses cache, memory and trace; it knows nothing about transformers
// beyond the hyper-parameters and tensor types a trace header names.
package sim
