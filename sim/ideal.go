package sim

import (
	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/trace"
)

var _ cache.FixedLatency = (*idealMemory)(nil)

// idealMemory serves every request after a fixed latency, with unlimited
// bandwidth: the floor below the caches until a DRAM model is configured.
type idealMemory struct {
	latencyPS uint64
	st        MemoryStats
}

// MemoryStats counts the requests that left the last cache level.
type MemoryStats struct {
	Reads      uint64 `json:"reads"`
	Prefetches uint64 `json:"prefetch_reads"`
	Writes     uint64 `json:"writes"`
	ReadBytes  uint64 `json:"read_bytes"`
	WriteBytes uint64 `json:"write_bytes"`
}

func (m *idealMemory) Access(_ uint64, size uint32, kind trace.Kind, _ int, now uint64) uint64 {
	switch kind {
	case trace.Write:
		m.st.Writes++
		m.st.WriteBytes += uint64(size)
		return now
	case trace.Prefetch:
		m.st.Prefetches++
	default:
		m.st.Reads++
	}
	m.st.ReadBytes += uint64(size)
	return now + m.latencyPS
}

// Latency and Book make idealMemory a cache.FixedLatency.
func (m *idealMemory) Latency() uint64 { return m.latencyPS }

func (m *idealMemory) Book(reads, writes uint64, lineBytes uint32) {
	m.st.Reads += reads
	m.st.Writes += writes
	m.st.ReadBytes += reads * uint64(lineBytes)
	m.st.WriteBytes += writes * uint64(lineBytes)
}
