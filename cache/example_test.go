package cache_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/cache"
	"github.com/edgeprof/edgeprof/trace"
)

// flat is a memory that answers after 100 ns.
type flat struct{}

func (flat) Access(_ uint64, _ uint32, _ trace.Kind, _ int, now uint64) uint64 {
	return now + 100_000
}

func ExampleNewHierarchy() {
	h, err := cache.NewHierarchy(cache.HierarchyConfig{
		Cores: 1, CyclePS: 417, // 2.4 GHz
		Memory: flat{},
		Levels: []cache.Config{
			{Name: "L1D", SizeBytes: 64 << 10, Ways: 4, LineBytes: 64, LatencyCycles: 4, Replacement: "lru", WriteAllocate: true},
			{Name: "L2", SizeBytes: 512 << 10, Ways: 8, LineBytes: 64, LatencyCycles: 9, Replacement: "lru", WriteAllocate: true},
		},
	})
	if err != nil {
		panic(err)
	}
	// A 4 KiB row read twice: 64 line references each time.
	row := trace.Event{Addr: 0x10000, Size: 4096}
	h.Run([]trace.Event{row, row})
	for _, s := range h.Stats() {
		fmt.Printf("%s: %d accesses, %d misses\n", s.Name, s.Accesses(), s.Misses())
	}
	// Output:
	// L1D: 128 accesses, 64 misses
	// L2: 64 accesses, 64 misses
}
