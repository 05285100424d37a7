package pagecache_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/memory/flash"
	"github.com/edgeprof/edgeprof/memory/pagecache"
)

// Weights memory-mapped from UFS 3.1 storage with 1 MiB of DRAM for
// them. The first touch faults and reads an initial readahead window of
// 4 pages (tR 75 us + 16 KiB over the NAND bus and the link); touching
// the second page, which carries the readahead mark, waits for nothing
// and starts the next, 8-page window in the background.
func Example() {
	ufs, _ := flash.New(flash.Config{Device: "ufs-3.1"})
	pc, _ := pagecache.New(pagecache.Config{WeightsBudget: 1 << 20, Policy: "linux"}, ufs)
	t, _ := pc.Access(0, 0, 2048)
	fmt.Printf("first row ready after %.1f us\n", float64(t)/1e6)
	t2, _ := pc.Access(t, 4096, 2048)
	fmt.Printf("second page waits %d ps\n", t2-t)
	s := pc.Stats()
	fmt.Println(s.MajorFaults, s.ReadaheadPages, s.FlashBytes)
	// Output:
	// first row ready after 103.3 us
	// second page waits 0 ps
	// 1 11 49152
}
