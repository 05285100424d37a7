//go:build !amd64

package cache

import "github.com/edgeprof/edgeprof/trace"

// haveAsm: the fast path's loops have assembly versions (only on amd64).
const haveAsm = false

func (h *Hierarchy) lower2RunAsm(recs []missRec, k int) int { panic("cache: no assembly loops") }

func (h *Hierarchy) firstRun4Asm(events []trace.Event, i int) (int, bool) {
	panic("cache: no assembly loops")
}

func (h *Hierarchy) fused2Run(events []trace.Event, i int) int { panic("cache: no assembly loops") }

// haveAVX2: the recency-order loops need AVX2 (only on amd64).
var haveAVX2 = false

func (h *Hierarchy) mru2Run(events []trace.Event, i int) int { panic("cache: no assembly loops") }
