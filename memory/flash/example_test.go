package flash_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/memory/flash"
)

// A 4 KiB read at queue depth 1 on a Raspberry Pi 5's NVMe link, then 32
// such reads issued together.
func ExampleFlash_Read() {
	f, _ := flash.New(flash.Config{Device: "nvme-pcie2x1"})
	done, _ := f.Read(0, 0, 4096)
	fmt.Printf("QD1: %.1f us\n", float64(done)/1e6)
	for i := range 32 {
		f.Read(done, uint64(i+1)<<20, 4096)
	}
	s := f.Stats()
	fmt.Printf("%d reads, %.0f IOPS while busy\n", s.Reads, s.IOPS)
	// Output:
	// QD1: 74.2 us
	// 33 reads, 71983 IOPS while busy
}
