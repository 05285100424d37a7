// Package profiles turns runs into profiles users already know how to
// read: pprof files (simulated costs and real CPU time with layer/op
// stacks), Linux perf counters of the real run (via perf-utils, hardware
// where the CPU exposes a PMU, software events always) and the host's cache
// topology from sysfs.
package profiles
