package engine

import (
	"fmt"
	"math"
	"sync"
)

// PerplexityOptions configure Perplexity.
type PerplexityOptions struct {
	// Ctx is the window size n_ctx (llama-perplexity's -c; its default
	// is 512).
	Ctx int
	// Chunks caps the number of windows (0: all, like --chunks -1).
	Chunks int
	// Threads evaluates that many windows at once, one session each.
	Threads int
	// Batch is the forward-pass batch size (default DefaultBatch); it
	// changes speed, not results.
	Batch int
	// Progress, if set, is called after each window in order with the
	// running perplexity (what llama-perplexity prints as [k]x.xxxx).
	Progress func(done, total int, running float64)
}

// PerplexityResult is what llama-perplexity prints as its final estimate.
type PerplexityResult struct {
	PPL          float64 `json:"ppl"`
	Stderr       float64 `json:"ppl_stderr"`
	Chunks       int     `json:"chunks"`
	Ctx          int     `json:"ctx"`
	TokensScored int     `json:"tokens_scored"`
	// Running holds the running perplexity after each chunk.
	Running []float64 `json:"running_ppl"`
}

type chunkNLL struct {
	nll, nll2 float64
	count     int
}

// Perplexity computes perplexity over text exactly as llama.cpp's
// llama-perplexity does by default: one trailing newline dropped, the whole
// text tokenized with BOS, cut into n_ctx windows (leftover tokens
// ignored), each window's first token replaced by BOS and evaluated from an
// empty cache, and the second half of each window scored (positions
// n_ctx/2 .. n_ctx-2 predicting the next token). The ± estimate is
// PPL·sqrt((mean(v²) − mean(v)²)/(count − 1)) over per-token NLL v.
func Perplexity(m *Model, text []byte, opt PerplexityOptions) (*PerplexityResult, error) {
	if n := len(text); n > 0 && text[n-1] == '\n' {
		text = text[:n-1]
	}
	toks := m.Tok.Encode(string(text), true, false)
	return PerplexityTokens(m, toks, opt)
}

// PerplexityTokens is Perplexity over an already tokenized text.
func PerplexityTokens(m *Model, toks []int32, opt PerplexityOptions) (*PerplexityResult, error) {
	nctx := opt.Ctx
	if nctx <= 0 {
		nctx = 512
	}
	if nctx < 4 {
		return nil, fmt.Errorf("perplexity: context %d too small (need at least 4)", nctx)
	}
	if len(toks) < 2*nctx {
		return nil, fmt.Errorf("perplexity: need at least %d tokens (2·ctx) but the text has %d; use a smaller --ctx", 2*nctx, len(toks))
	}
	nChunk := len(toks) / nctx
	if opt.Chunks > 0 && opt.Chunks < nChunk {
		nChunk = opt.Chunks
	}
	threads := max(1, opt.Threads)
	threads = min(threads, nChunk)

	results := make([]chunkNLL, nChunk)
	errs := make([]error, nChunk)
	done := make([]bool, nChunk)
	var mu sync.Mutex
	next := 0
	reported := 0
	var acc chunkNLL
	res := &PerplexityResult{Ctx: nctx, Chunks: nChunk}

	report := func() {
		// Called with mu held: publish every finished chunk in order.
		for reported < nChunk && done[reported] {
			r := results[reported]
			acc.nll += r.nll
			acc.nll2 += r.nll2
			acc.count += r.count
			reported++
			running := math.Exp(acc.nll / float64(acc.count))
			res.Running = append(res.Running, running)
			if opt.Progress != nil {
				opt.Progress(reported, nChunk, running)
			}
		}
	}

	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := m.NewSession(Options{Threads: 1, Ctx: nctx, Batch: opt.Batch})
			if err != nil {
				mu.Lock()
				errs[0] = err
				mu.Unlock()
				return
			}
			defer s.Close()
			input := make([]int32, nctx)
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= nChunk {
					return
				}
				r, err := scoreChunk(m, s, toks[c*nctx:(c+1)*nctx], toks[c*nctx+1:(c+1)*nctx], input)
				mu.Lock()
				results[c], errs[c], done[c] = r, err, true
				report()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	nll := acc.nll / float64(acc.count)
	nll2 := acc.nll2 / float64(acc.count)
	res.PPL = math.Exp(nll)
	res.TokensScored = acc.count
	if v := nll2 - nll*nll; v > 0 {
		res.Stderr = math.Sqrt(v/float64(acc.count-1)) * res.PPL
	}
	return res, nil
}

// scoreChunk evaluates one window and returns the NLL sums of its scored
// half. targets[i] is the token that follows window position i.
func scoreChunk(m *Model, s *Session, window, targets []int32, input []int32) (chunkNLL, error) {
	s.Reset()
	n := len(window)
	first := n / 2
	var r chunkNLL
	// The last position's logits predict nothing inside the window, so it
	// is not evaluated.
	input = append(input[:0], window[:n-1]...)
	if m.Tok.AddBOS() {
		input[0] = m.Tok.BOS()
	}
	logits, err := s.EvalBatch(input, first)
	if err != nil {
		return r, err
	}
	for i := first; i < n-1; i++ {
		v := -logSoftmaxAt(logits[i-first], targets[i])
		r.nll += v
		r.nll2 += v * v
		r.count++
	}
	return r, nil
}

// logSoftmaxAt is log p(tok) the way perplexity.cpp's log_softmax computes
// it: float max, float exponentials summed in double.
func logSoftmaxAt(logits []float32, tok int32) float64 {
	mx := logits[0]
	for _, v := range logits[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += float64(expf(v - mx))
	}
	return float64(logits[tok]-mx) - math.Log(sum)
}
