package sim_test

import (
	"context"
	"fmt"

	"github.com/edgeprof/edgeprof/sim"
	"github.com/edgeprof/edgeprof/trace"
)

func ExampleRun() {
	soc, err := sim.Load("rpi5", []string{"caches.L1D.prefetcher=next-line"})
	if err != nil {
		panic(err)
	}
	// One core streams through 64 KiB, 8 bytes at a time.
	var ev []trace.Event
	for a := uint64(0); a < 64<<10; a += 8 {
		ev = append(ev, trace.Event{Addr: a, Size: 8})
	}
	res, err := sim.Run(context.Background(), sim.Trace{Name: "stream", Format: trace.FormatDin, Source: sim.Events(ev)}, []*sim.SoC{soc}, sim.Options{})
	if err != nil {
		panic(err)
	}
	l1 := res[0].Levels[0]
	fmt.Printf("L1D: %d accesses, %d misses (%d without prefetching), accuracy %.2f\n",
		l1.Accesses, l1.Misses, *l1.Prefetch.BaselineMisses, *l1.Prefetch.Accuracy)
	// Output:
	// L1D: 8192 accesses, 16 misses (1024 without prefetching), accuracy 1.00
}
