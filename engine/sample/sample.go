package sample

import (
	"cmp"
	"math"
	"slices"
)

// llama-cli's defaults for the samplers this package implements
// (common/common.h common_params_sampling).
const (
	DefaultTemp float32 = 0.8
	DefaultTopK         = 40
	DefaultTopP float32 = 0.95
)

// Params selects the sampler chain. The zero value is greedy.
//
// llama.cpp's common sampler chain is penalties → DRY → top-k → typical →
// top-p → min-p → XTC → temperature → dist. At llama-cli's defaults all of
// them except min-p (0.05) are no-ops, so llama-cli runs exactly this
// package's chain when given
//
//	--min-p 0 --top-k K --top-p P --temp T --seed S
//
// (or --samplers "top_k;top_p;temperature" with the same values); with
// --temp 0 both are greedy. Keep the repetition penalty at its default
// (1.0, off). llama.cpp's default seed is random; ours is always explicit.
type Params struct {
	// Temp divides the logits; <= 0 selects greedy decoding (argmax,
	// lowest id on ties), which draws no random numbers.
	Temp float32
	// TopK keeps the K highest logits; <= 0 keeps all of them.
	TopK int
	// TopP keeps the smallest prefix of the candidates (by descending
	// probability, before temperature) whose probabilities sum to at least
	// TopP; >= 1 keeps all of them. At least one candidate is kept.
	TopP float32
	// Seed seeds the std::mt19937 generator.
	Seed uint32
}

// cand is llama.cpp's llama_token_data.
type cand struct {
	id    int32
	logit float32
	p     float32
}

// Sampler draws tokens with one random generator across calls, like one
// llama.cpp sampler chain over a generation. It is not safe for concurrent
// use.
type Sampler struct {
	p     Params
	rng   mt19937
	cands []cand
	cum   []float64
}

// New returns a sampler with its generator seeded from p.Seed.
func New(p Params) *Sampler {
	s := &Sampler{p: p}
	s.rng.seed(p.Seed)
	return s
}

// Params returns the sampler's parameters.
func (s *Sampler) Params() Params { return s.p }

// Reset reseeds the generator with the original seed (llama.cpp's
// llama_sampler_reset on the dist sampler).
func (s *Sampler) Reset() { s.rng.seed(s.p.Seed) }

// Sample returns the id of the chosen logit, or -1 for no logits. After
// the first call with a vocabulary of a given size it allocates nothing.
//
// With the same logits and Params it picks what llama.cpp picks, except
// when float32 exp differs by one ulp from glibc's expf (which is not
// correctly rounded; about 3 in 10,000 inputs) and that moves a
// probability across the uniform draw or the top-p threshold, and when
// logits are exactly equal: llama.cpp's sort leaves ties in an
// implementation-defined order, ours puts the lower id first.
func (s *Sampler) Sample(logits []float32) int32 {
	if len(logits) == 0 {
		return -1
	}
	if s.p.Temp <= 0 {
		return greedy(logits)
	}
	c := s.candidates(logits)
	return c[s.discrete(c)].id
}

// candidates runs the chain up to the draw: top-k, top-p, temperature and
// the dist sampler's softmax. The result is sorted by descending logit.
func (s *Sampler) candidates(logits []float32) []cand {
	c := slices.Grow(s.cands[:0], len(logits))[:len(logits)]
	for i, l := range logits {
		c[i] = cand{id: int32(i), logit: l}
	}
	s.cands = c

	// top-k (llama_sampler_top_k_impl): at this llama.cpp commit k <= 0
	// still sorts all candidates, which leaves them sorted for later
	// stages. Sorting is by logit, descending.
	k := s.p.TopK
	if k <= 0 || k > len(c) {
		k = len(c)
	}
	c = topK(c, k)

	// top-p (llama_sampler_top_p_apply, min_keep 0 as common passes it).
	if s.p.TopP < 1 {
		softmax(c)
		var sum float32
		last := len(c)
		for i := range c {
			sum += c[i].p
			if sum >= s.p.TopP {
				last = i + 1
				break
			}
		}
		c = c[:last]
	}

	// temperature (llama_sampler_temp_impl with temp > 0).
	for i := range c {
		c[i].logit /= s.p.Temp
	}

	// dist: softmax of the sorted candidates; the draw is
	// std::discrete_distribution<int>(probs)(rng).
	softmax(c)
	return c
}

// greedy is llama.cpp's greedy sampler: the first maximum wins.
func greedy(logits []float32) int32 {
	best := 0
	for i, l := range logits[1:] {
		if l > logits[best] {
			best = i + 1
		}
	}
	return int32(best)
}

// descending orders candidates by logit, highest first, lower id first on
// ties; NaN sorts last so the order stays a strict weak ordering.
func descending(a, b cand) int {
	switch {
	case a.logit > b.logit:
		return -1
	case a.logit < b.logit:
		return 1
	}
	// Equal, or at least one NaN.
	if an, bn := a.logit != a.logit, b.logit != b.logit; an != bn {
		if an {
			return 1
		}
		return -1
	}
	return cmp.Compare(a.id, b.id)
}

// topK moves the k best candidates, sorted, to the front and returns them.
// For k < len(c) it keeps a min-heap of the best k seen: O(n log k).
func topK(c []cand, k int) []cand {
	if k >= len(c) {
		slices.SortFunc(c, descending)
		return c
	}
	h := c[:k]
	// Min-heap by "descending": the root is the worst of the kept.
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, x := range c[k:] {
		if descending(x, h[0]) < 0 {
			h[0] = x
			siftDown(h, 0)
		}
	}
	slices.SortFunc(h, descending)
	return h
}

func siftDown(h []cand, i int) {
	for {
		worst := i
		if l := 2*i + 1; l < len(h) && descending(h[l], h[worst]) > 0 {
			worst = l
		}
		if r := 2*i + 2; r < len(h) && descending(h[r], h[worst]) > 0 {
			worst = r
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// softmax is llama_sampler_softmax_impl on sorted candidates: float32
// exponentials of the logits minus the first (largest), summed in order.
func softmax(c []cand) {
	maxLogit := c[0].logit
	var sum float32
	for i := range c {
		p := expf(c[i].logit - maxLogit)
		c[i].p = p
		sum += p
	}
	for i := range c {
		c[i].p /= sum
	}
}

// expf rounds the float64 exponential to float32: correctly rounded except
// in rare double-rounding cases, where glibc's expf is within 0.502 ulp.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// discrete is libstdc++'s std::discrete_distribution<int> built from the
// candidates' probabilities and drawn once: weights widened to double and
// normalized by their double sum, partial sums with the last forced to 1,
// then the first partial sum not below generate_canonical(). With fewer
// than two weights it returns 0 without drawing.
func (s *Sampler) discrete(c []cand) int {
	if len(c) < 2 {
		return 0
	}
	var sum float64
	for _, x := range c {
		sum += float64(x.p)
	}
	cum := slices.Grow(s.cum[:0], len(c))[:len(c)]
	var acc float64
	for i, x := range c {
		acc += float64(x.p) / sum
		cum[i] = acc
	}
	cum[len(cum)-1] = 1
	s.cum = cum
	return lowerBound(cum, s.rng.canonical())
}

// lowerBound is libstdc++'s std::lower_bound: the first i with
// !(cum[i] < u), probing the same midpoints, so that even NaN weights
// (which break the ordering) give llama.cpp's index. The last entry is 1
// and u < 1, so the result is a valid index.
func lowerBound(cum []float64, u float64) int {
	first, n := 0, len(cum)
	for n > 0 {
		half := n >> 1
		if mid := first + half; cum[mid] < u {
			first = mid + 1
			n -= half + 1
		} else {
			n = half
		}
	}
	return min(first, len(cum)-1)
}
