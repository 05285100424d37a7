package trace

import "math/rand/v2"

// Record-style streams: one small access per event, as din traces from
// Valgrind lackey, Pin or Dinero users carry them (op other, no tensor,
// layer -1, token 0; only address, size and kind change).

// dinEventAt is an event as DinReader produces it.
func dinEventAt(k Kind, addr uint64, size uint32) Event {
	return Event{Addr: addr, Size: size, Tensor: NoTensor, Layer: NoLayer, Op: OpOther, Kind: k}
}

// simRecords is the sim package's end-to-end benchmark trace (sim
// records()): 8-byte reads, 3 in 4 a sequential walk over 4 MiB, every
// 4th a random read in a 16 KiB buffer of the activation region; the
// fields sim leaves zero stay zero, as there.
func simRecords(n int) []Event {
	ev := make([]Event, n)
	x := uint64(7)
	for i := range ev {
		x = x*6364136223846793005 + 1442695040888963407
		if i%4 == 3 {
			ev[i] = Event{Addr: RegionActivation + (x>>40)%(16<<10)&^7, Size: 8, Tensor: NoTensor}
		} else {
			ev[i] = Event{Addr: uint64(i*8) % (4 << 20), Size: 8, Tensor: NoTensor}
		}
	}
	return ev
}

// lackeyRecords imitates the data references of a small program as
// Valgrind lackey reports them, converted to din: a loop that reads two
// arrays (8- and 4-byte elements), gathers through an index into a
// 1 MiB table, updates a counter on the stack and stores into a third
// array; every 16 iterations it calls a function that pushes, spills
// and reloads registers and scans a string byte by byte.
func lackeyRecords(rng *rand.Rand, n int) []Event {
	const (
		a, b, c = 0x4a0000, 0x8c0000, 0xd00000
		table   = 0x7f3a40000000
		str     = 0x4c2100
		sp      = 0x1ffefffd40
	)
	ev := make([]Event, 0, n+64)
	for i := uint64(0); len(ev) < n; i++ {
		ev = append(ev,
			dinEventAt(Read, a+8*i, 8),
			dinEventAt(Read, b+4*i, 4),
			dinEventAt(Read, table+uint64(rng.IntN(1<<17))*8, 8),
			dinEventAt(Read, sp+16, 4),
			dinEventAt(Write, sp+16, 4),
			dinEventAt(Write, c+8*i, 8),
		)
		if i%16 == 15 {
			ev = append(ev, dinEventAt(Write, sp-8, 8), dinEventAt(Write, sp-16, 8), dinEventAt(Write, sp-24, 8))
			for j := range uint64(4 + rng.IntN(12)) {
				ev = append(ev, dinEventAt(Read, str+j, 1))
			}
			ev = append(ev, dinEventAt(Read, sp-24, 8), dinEventAt(Read, sp-16, 8), dinEventAt(Read, sp-8, 8))
		}
	}
	return ev[:n]
}
