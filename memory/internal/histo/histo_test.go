package histo

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestIndexUpperRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 123456789, 1 << 40, 1<<62 + 12345} {
		i := index(v)
		if up := upper(i); up < v {
			t.Errorf("upper(index(%d)) = %d, want >= %d", v, up, v)
		}
		if i > 0 && upper(i-1) >= v {
			t.Errorf("upper(index(%d)-1) = %d, want < %d", v, upper(i-1), v)
		}
	}
}

func TestQuantileWithinRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Hist
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 100000)
		h.Add(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if float64(got) < float64(want)*0.97 || float64(got) > float64(want)*1.04 {
			t.Errorf("Quantile(%v) = %d, want %d within 3 %%", q, got, want)
		}
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("Count() = %d, want %d", h.Count(), len(vals))
	}
}

func TestSmallValuesExact(t *testing.T) {
	var h Hist
	for v := int64(1); v <= 10; v++ {
		h.Add(v)
	}
	if got := h.Quantile(0.5); got != 5 {
		t.Errorf("Quantile(0.5) = %d, want 5", got)
	}
	if got := h.Mean(); got != 5.5 {
		t.Errorf("Mean() = %v, want 5.5", got)
	}
}
