package engine

import (
	"sync/atomic"
	"testing"
	"time"
)

// countTask records which threads ran each task; slow threads sleep long
// enough that the others exhaust their spin and park.
type countTask struct {
	ran   []atomic.Int32
	sleep map[int]time.Duration
}

func (c *countTask) do(t int) {
	if d := c.sleep[t]; d > 0 {
		time.Sleep(d)
	}
	c.ran[t].Add(1)
}

// TestPoolRunsEveryShareOnce drives the pool through its three waiting
// modes: spinning on both sides, workers parked between tasks, and the
// caller parked while a slow worker finishes. Every task must run every
// thread's share exactly once before run returns.
func TestPoolRunsEveryShareOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		p := newPool(threads)
		for i := 0; i < 200; i++ {
			c := &countTask{ran: make([]atomic.Int32, threads)}
			switch i % 4 {
			case 1: // the last worker is slow: the caller parks
				c.sleep = map[int]time.Duration{threads - 1: 2 * time.Millisecond}
			case 2: // the caller is slow: workers wait for the next task
				c.sleep = map[int]time.Duration{0: time.Millisecond}
			case 3: // idle between tasks: workers park
				time.Sleep(time.Millisecond)
			}
			p.run(c)
			for th := range c.ran {
				if got := c.ran[th].Load(); got != 1 {
					t.Fatalf("threads %d, task %d: thread %d ran its share %d times, want 1", threads, i, th, got)
				}
			}
		}
		p.close()
		p.close() // idempotent
	}
}
