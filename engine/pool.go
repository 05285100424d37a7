package engine

import "sync"

// task is a unit of parallel work: do(t) runs thread t's share.
type task interface {
	do(thread int)
}

// pool runs a task on n threads: the caller's goroutine is thread 0 and
// n-1 persistent workers are the others, so a single-threaded session
// never touches a channel.
type pool struct {
	n     int
	start []chan task
	wg    sync.WaitGroup
}

func newPool(n int) *pool {
	p := &pool{n: n}
	for i := 1; i < n; i++ {
		ch := make(chan task)
		p.start = append(p.start, ch)
		go func(thread int, ch chan task) {
			for t := range ch {
				t.do(thread)
				p.wg.Done()
			}
		}(i, ch)
	}
	return p
}

// run executes t on all threads and returns when every share is done.
func (p *pool) run(t task) {
	if p.n == 1 {
		t.do(0)
		return
	}
	p.wg.Add(p.n - 1)
	for _, ch := range p.start {
		ch <- t
	}
	t.do(0)
	p.wg.Wait()
}

func (p *pool) close() {
	for _, ch := range p.start {
		close(ch)
	}
	p.start = nil
}

// split returns thread t's share [lo, hi) of n items divided among
// threads contiguous ranges, the way ggml divides matrix rows.
func split(n, threads, t int) (lo, hi int) {
	return n * t / threads, n * (t + 1) / threads
}
