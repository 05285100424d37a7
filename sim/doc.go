// Package sim builds a simulated SoC memory system from a YAML description
// (embedded presets or user files), drives it with a trace, and reports
// per-level statistics, timing and energy.
//
// It uses cache, memory and trace; it knows nothing about transformers.
package sim
