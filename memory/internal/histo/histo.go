// Package histo is a fixed-size log-linear histogram for latencies: its
// memory does not grow with the number of samples, and quantiles come
// back within about 3 % of the true value (32 sub-buckets per power of
// two, the HdrHistogram layout).
package histo

import "math/bits"

const (
	subBits = 5
	sub     = 1 << subBits
	// Values below sub are exact; each further power of two gets sub
	// buckets, up to 2^63.
	numBuckets = (64 - subBits + 1) * sub
)

// Hist counts non-negative int64 samples. The zero value is ready to use.
type Hist struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64
	max    int64
}

func index(v int64) int {
	u := uint64(v)
	if u < sub {
		return int(u)
	}
	e := bits.Len64(u) - subBits // >= 1
	return e*sub + int(u>>(e-1)) - sub
}

// upper returns the largest value that falls into bucket i.
func upper(i int) int64 {
	if i < sub {
		return int64(i)
	}
	e := i/sub - 0
	m := uint64(i%sub + sub)
	lo := m << (e - 1)
	return int64(lo + (uint64(1) << (e - 1)) - 1)
}

// Add records one sample; negative samples count as 0.
func (h *Hist) Add(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[index(v)]++
	h.n++
	h.sum += uint64(v)
	if v > h.max {
		h.max = v
	}
}

// Count returns the number of samples.
func (h *Hist) Count() uint64 { return h.n }

// Mean returns the exact mean of the samples (0 when empty).
func (h *Hist) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n)
}

// Max returns the largest sample.
func (h *Hist) Max() int64 { return h.max }

// Quantile returns the value below which a fraction q of the samples lie,
// as the upper edge of the bucket holding that rank (never above Max).
func (h *Hist) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(float64(q*float64(h.n)) + 0.5) // rounded product: no FMA on arm64
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i]
		if seen >= rank {
			return min(upper(i), h.max)
		}
	}
	return h.max
}

// Merge adds the samples of o.
func (h *Hist) Merge(o *Hist) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}
