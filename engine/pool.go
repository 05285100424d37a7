package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// task is a unit of parallel work: do(t) runs thread t's share.
type task interface {
	do(thread int)
}

// pool runs a task on n threads: the caller's goroutine is thread 0 and
// n-1 persistent workers are the others, so a single-threaded session
// never synchronizes at all.
//
// A forward pass hands the workers one short task per matrix product
// (tens per token, each a few microseconds on small models), so waking a
// parked goroutine for each (a futex round trip, 5-50 µs) would cost more
// than the work. Workers therefore spin on a sequence number for a while
// after each task, as ggml's thread pool does, and park only when no task
// comes for spinRounds polls.
type pool struct {
	n       int
	task    task          // the current task; written only while no worker runs
	seq     atomic.Uint32 // bumped once per task
	pending atomic.Int32  // workers that have not finished the current task
	closed  atomic.Bool

	mu       sync.Mutex
	wake     *sync.Cond
	sleepers int // workers parked in wake.Wait (guarded by mu)
	// The caller parks too when its wait outlasts spinRounds polls, as
	// when a worker's OS thread was descheduled on a busy machine:
	// spinning then would only keep that thread off the CPU.
	finished      *sync.Cond
	callerParking atomic.Bool
}

// spinRounds is how many polls a worker makes before parking (with a
// yield every yieldEvery polls so a spinning worker never starves other
// goroutines): a few tens of microseconds.
const (
	spinRounds = 1 << 14
	yieldEvery = 64
)

func newPool(n int) *pool {
	p := &pool{n: n}
	p.wake = sync.NewCond(&p.mu)
	p.finished = sync.NewCond(&p.mu)
	for i := 1; i < n; i++ {
		go p.worker(i)
	}
	return p
}

func (p *pool) worker(thread int) {
	var seen uint32
	for {
		seen = p.next(seen)
		if p.closed.Load() {
			return
		}
		p.task.do(thread)
		if p.pending.Add(-1) == 0 && p.callerParking.Load() {
			p.mu.Lock()
			p.finished.Signal()
			p.mu.Unlock()
		}
	}
}

// next waits until a task newer than seen is posted (or the pool closes)
// and returns its sequence number.
func (p *pool) next(seen uint32) uint32 {
	for i := 1; i <= spinRounds; i++ {
		if s := p.seq.Load(); s != seen || p.closed.Load() {
			return s
		}
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
	}
	p.mu.Lock()
	p.sleepers++
	for p.seq.Load() == seen && !p.closed.Load() {
		p.wake.Wait()
	}
	p.sleepers--
	s := p.seq.Load()
	p.mu.Unlock()
	return s
}

// run executes t on all threads and returns when every share is done.
func (p *pool) run(t task) {
	if p.n == 1 {
		t.do(0)
		return
	}
	p.task = t
	p.pending.Store(int32(p.n - 1))
	p.mu.Lock()
	p.seq.Add(1)
	if p.sleepers > 0 {
		p.wake.Broadcast()
	}
	p.mu.Unlock()
	t.do(0)
	for i := 1; p.pending.Load() != 0; i++ {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		if i == spinRounds {
			// The last worker signals when it sees callerParking after
			// its decrement; one of the two always sees the other's
			// store (Go's atomics are sequentially consistent).
			p.callerParking.Store(true)
			p.mu.Lock()
			for p.pending.Load() != 0 {
				p.finished.Wait()
			}
			p.mu.Unlock()
			p.callerParking.Store(false)
			return
		}
	}
}

func (p *pool) close() {
	if p.closed.Swap(true) {
		return
	}
	p.mu.Lock()
	p.wake.Broadcast()
	p.mu.Unlock()
}

// split returns thread t's share [lo, hi) of n items divided among
// threads contiguous ranges, the way ggml divides matrix rows.
func split(n, threads, t int) (lo, hi int) {
	return n * t / threads, n * (t + 1) / threads
}
