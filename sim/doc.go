// Package sim builds a simulated SoC memory system from a YAML
// description (embedded presets or user files, loaded strictly: unknown
// keys are errors with their line), drives it with traces, and reports
// per-level counters with provenance.
//
// A SoC file has cores, caches (nearest the core first), an optional
// per-core dtlb, and ideal_memory: the fixed-latency memory below the last
// cache. Every number of a preset cites its source with a confidence tag.
//
// What lies below the last cache level is a cache.Memory. Run builds one
// per SoC and run through Options.Memory (nil: the SoC's ideal memory); a
// memory that also implements Reporter puts its own counters into
// Result.Memory and is told when warm-up ends, and one that implements
// Failer can end the run with an error. Package memory (DRAM,
// flash, page cache) plugs in there: the SoC YAML gains its sections
// (cores fields, dram, flash, weights_budget) as new fields of SoC, and a
// small adapter from those sections to a cache.Memory becomes the default
// Options.Memory. The coverage baseline (every prefetcher off) always runs
// on an ideal memory, since miss counts do not depend on timing.
//
// Run reads a trace once and replays it on several SoCs in parallel
// goroutines, sharing read-only batches, so memory does not grow with the
// trace.
//
// It uses cache, memory and trace; it knows nothing about transformers.
package sim
