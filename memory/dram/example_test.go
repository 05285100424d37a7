package dram_test

import (
	"fmt"

	"github.com/edgeprof/edgeprof/memory/dram"
)

// A Raspberry Pi 5-like memory: LPDDR4X-4267 on a 32-bit interface (two
// x16 channels). One cache-line read on an idle system, then a row hit.
func ExampleDRAM_Access() {
	d, err := dram.New(dram.Config{Grade: "lpddr4x-4267", Org: dram.Organization{Channels: 2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	miss, _ := d.Access(0, 0x1000, 64, false)
	hit, _ := d.Access(miss, 0x1080, 64, false)
	fmt.Printf("miss %.1f ns, hit %.1f ns\n", float64(miss)/1000, float64(hit-miss)/1000)
	// Output: miss 44.1 ns, hit 25.8 ns
}

// Requests in flight at once: submit them, then wait for each ticket.
// Consecutive lines go to the four bank groups of an LPDDR5 channel, so
// the four row activations are spaced by tRRD (5 ns).
func ExampleDRAM_Submit() {
	d, _ := dram.New(dram.Config{Grade: "lpddr5-6400"})
	var tickets []dram.Ticket
	for i := range 4 {
		t, _ := d.Submit(dram.Request{At: 0, Addr: uint64(i) * 64, Size: 64})
		tickets = append(tickets, t)
	}
	for _, t := range tickets {
		done, _ := d.Wait(t)
		fmt.Printf("%.2f ns\n", float64(done)/1000)
	}
	s := d.Stats()
	fmt.Println(s.Reads, s.RowHits, s.RowMisses)
	// Output:
	// 48.75 ns
	// 53.75 ns
	// 58.75 ns
	// 63.75 ns
	// 4 0 4
}
