package sample

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// reference reads testdata/llamacpp/ref_output.txt (see its README): each
// line is "name args: values".
func reference(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("testdata/llamacpp/ref_output.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		head, vals, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("ref_output.txt: no ':' in %q", sc.Text())
		}
		ref[head] = strings.Fields(vals)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ref
}

func atou(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

func TestMT19937(t *testing.T) {
	// The C++ standard's required check: the 10000th output of a
	// default-seeded (5489) std::mt19937 is 4123659995.
	if got, want := strings.Join(reference(t)["mt19937 5489"], " "), "first=3499211612 10000th=4123659995"; got != want {
		t.Errorf("reference mt19937(5489) = %s, want %s", got, want)
	}
	var m mt19937
	m.seed(5489)
	if got := m.next(); got != 3499211612 {
		t.Errorf("mt19937(5489) output 1 = %d, want 3499211612", got)
	}
	for range 9998 {
		m.next()
	}
	if got := m.next(); got != 4123659995 {
		t.Errorf("mt19937(5489) output 10000 = %d, want 4123659995", got)
	}

	ref := reference(t)
	for _, seed := range []uint32{0, 1, 42, 0xFFFFFFFF} {
		want := ref["mt19937 "+strconv.FormatUint(uint64(seed), 10)]
		if len(want) != 5 {
			t.Fatalf("reference for seed %d: %v", seed, want)
		}
		m.seed(seed)
		for i, w := range want {
			if got := m.next(); got != atou(t, w) {
				t.Errorf("mt19937(%d) output %d = %d, want %s", seed, i+1, got, w)
			}
		}
	}
}

func TestCanonical(t *testing.T) {
	want := reference(t)["canonical 42"]
	if len(want) != 8 {
		t.Fatalf("reference: %v", want)
	}
	var m mt19937
	m.seed(42)
	for i, w := range want {
		x, err := strconv.ParseFloat(w, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.canonical(); got != x {
			t.Errorf("generate_canonical #%d = %x, want %s", i, got, w)
		}
	}
	// Both draws at their maximum round up to 1, which is pulled below 1.
	if got := (&fixedRNG{^uint32(0)}).canonical(); got != math.Nextafter(1, 0) {
		t.Errorf("canonical(max, max) = %v, want nextafter(1, 0)", got)
	}
}

// fixedRNG feeds canonical's arithmetic a constant draw.
type fixedRNG struct{ v uint32 }

func (f *fixedRNG) canonical() float64 {
	lo, hi := float64(f.v), float64(f.v)
	r := (lo + hi*(1<<32)) / (1 << 64)
	if r >= 1 {
		r = math.Nextafter(1, 0)
	}
	return r
}

func TestDiscrete(t *testing.T) {
	ref := reference(t)
	want := ref["discrete 1234 0.1,0.2,0.3,0.4"]
	s := New(Params{Seed: 1234})
	c := []cand{{id: 0, p: 0.1}, {id: 1, p: 0.2}, {id: 2, p: 0.3}, {id: 3, p: 0.4}}
	for i, w := range want {
		if got := s.discrete(c); strconv.Itoa(got) != w {
			t.Errorf("discrete draw %d = %d, want %s", i, got, w)
		}
	}

	// One weight: index 0 and no draw, so the generator's first output is
	// still next.
	single := ref["discrete-single 77"]
	s = New(Params{Seed: 77})
	if got := s.discrete([]cand{{id: 5, p: 1}}); got != 0 || "index="+strconv.Itoa(got) != single[0] {
		t.Errorf("discrete(one weight) = %d, want reference %s", got, single[0])
	}
	if got := s.rng.next(); "next="+strconv.FormatUint(uint64(got), 10) != single[1] {
		t.Errorf("after a one-weight draw next() = %d, want reference %s", got, single[1])
	}
}

// genLogit is ref.cpp's gen_logit: distinct logits in [-8, 8).
func genLogit(n, step, i uint32) float32 {
	x := (i*2654435761 + step*40503 + 12345) & (n - 1)
	x ^= x >> 3
	x = (x * 0x9E3779B1) & (n - 1)
	return float32(int32(x)-int32(n/2)) / float32(n/16)
}

// TestChainMatchesLlamaCpp replays the C++ reference chains: every token of
// every case must match.
func TestChainMatchesLlamaCpp(t *testing.T) {
	ref := reference(t)
	cases := 0
	for head, want := range ref {
		if !strings.HasPrefix(head, "chain ") {
			continue
		}
		cases++
		var n, steps uint32
		var p Params
		for _, kv := range strings.Fields(head)[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "n":
				n = atou(t, v)
			case "steps":
				steps = atou(t, v)
			case "seed":
				p.Seed = atou(t, v)
			case "top_k":
				k, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				p.TopK = k
			case "top_p", "temp":
				x, err := strconv.ParseFloat(v, 32)
				if err != nil {
					t.Fatal(err)
				}
				if k == "top_p" {
					p.TopP = float32(x)
				} else {
					p.Temp = float32(x)
				}
			}
		}
		if len(want) != int(steps) {
			t.Fatalf("%s: %d ids for %d steps", head, len(want), steps)
		}
		s := New(p)
		logits := make([]float32, n)
		for step := range steps {
			for i := range n {
				logits[i] = genLogit(n, step, i)
			}
			if got := s.Sample(logits); strconv.Itoa(int(got)) != want[step] {
				t.Errorf("%s: step %d sampled %d, llama.cpp reference %s", head, step, got, want[step])
			}
		}
	}
	if cases != 9 {
		t.Errorf("found %d reference chains, want 9", cases)
	}
}

func TestGreedy(t *testing.T) {
	for _, c := range []struct {
		logits []float32
		want   int32
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 1, 5, 5}, 0},                          // ties: lowest id
		{[]float32{-1, float32(math.Inf(1)), 2}, 1},         //
		{[]float32{float32(math.Inf(-1)), -1e30, -1e30}, 1}, //
		{[]float32{float32(math.NaN()), 1, 2}, 0},           // llama.cpp's greedy: NaN never loses a ">"
		{[]float32{0, float32(math.NaN()), -1, 0.5}, 3},     //
		{[]float32{7}, 0},                                   //
	} {
		for _, temp := range []float32{0, -1} {
			if got := New(Params{Temp: temp, TopK: 1, Seed: 3}).Sample(c.logits); got != c.want {
				t.Errorf("Sample(%v) at temp %v = %d, want %d", c.logits, temp, got, c.want)
			}
		}
	}
	if got := New(Params{}).Sample(nil); got != -1 {
		t.Errorf("Sample(nil) = %d, want -1", got)
	}
}

// TestCandidates checks each stage against hand-computed probabilities.
func TestCandidates(t *testing.T) {
	e := math.Exp
	logits := []float32{1, 3, 2, 0, -5}
	for _, c := range []struct {
		name  string
		p     Params
		ids   []int32
		probs []float64
	}{
		// top-k 3 keeps 3, 2, 1 (ids 1, 2, 0); softmax of 0, -1, -2.
		{"topk", Params{Temp: 1, TopK: 3, TopP: 1}, []int32{1, 2, 0},
			[]float64{1 / (1 + e(-1) + e(-2)), e(-1) / (1 + e(-1) + e(-2)), e(-2) / (1 + e(-1) + e(-2))}},
		// Temperature 2 halves the gaps.
		{"temp", Params{Temp: 2, TopK: 3, TopP: 1}, []int32{1, 2, 0},
			[]float64{1 / (1 + e(-0.5) + e(-1)), e(-0.5) / (1 + e(-0.5) + e(-1)), e(-1) / (1 + e(-0.5) + e(-1))}},
		// top-p 0.7 on the untempered top 3: 0.665 < 0.7 <= 0.665+0.245,
		// so two survive and are renormalized.
		{"topp", Params{Temp: 1, TopK: 3, TopP: 0.7}, []int32{1, 2},
			[]float64{1 / (1 + e(-1)), e(-1) / (1 + e(-1))}},
		// top-p is applied before temperature: at temp 10 the same two.
		{"topp before temp", Params{Temp: 10, TopK: 3, TopP: 0.7}, []int32{1, 2},
			[]float64{1 / (1 + e(-0.1)), e(-0.1) / (1 + e(-0.1))}},
		// top-p 0 keeps one; top-k 0 keeps all five.
		{"topp 0", Params{Temp: 1, TopK: 0, TopP: 0}, []int32{1}, []float64{1}},
		{"all", Params{Temp: 1, TopK: 0, TopP: 1}, []int32{1, 2, 0, 3, 4}, nil},
		{"k > n", Params{Temp: 1, TopK: 99, TopP: 1.5}, []int32{1, 2, 0, 3, 4}, nil},
	} {
		got := New(c.p).candidates(logits)
		if !slices.Equal(ids(got), c.ids) {
			t.Errorf("%s: candidates = %v, want %v", c.name, ids(got), c.ids)
			continue
		}
		for i, want := range c.probs {
			if d := math.Abs(float64(got[i].p) - want); d > 1e-6 {
				t.Errorf("%s: p(%d) = %v, want %v", c.name, got[i].id, got[i].p, want)
			}
		}
	}
}

// TestTopKSelection checks the heap selection against a full sort.
func TestTopKSelection(t *testing.T) {
	var m mt19937
	m.seed(7)
	for _, n := range []int{1, 2, 5, 40, 41, 1000} {
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(m.next()%64) - 32 // many ties
		}
		logits[0] = float32(math.NaN())
		for _, k := range []int{1, 2, 3, 40, n - 1, n} {
			if k < 1 || k > n {
				continue
			}
			c := make([]cand, n)
			for i, l := range logits {
				c[i] = cand{id: int32(i), logit: l}
			}
			full := slices.Clone(c)
			slices.SortFunc(full, descending)
			if got, want := ids(topK(c, k)), ids(full[:k]); !slices.Equal(got, want) {
				t.Errorf("topK(n=%d, k=%d) = %v, want %v", n, k, got, want)
			}
		}
	}
}

func ids(c []cand) []int32 {
	out := make([]int32, len(c))
	for i, x := range c {
		out[i] = x.id
	}
	return out
}

func TestDistribution(t *testing.T) {
	// Frequencies follow the softmax: p = 1/(1+e^-1+e^-2) ≈ 0.665 for id 1
	// over 20000 draws (fixed seed, so the counts are fixed too).
	s := New(Params{Temp: 1, TopK: 3, TopP: 1, Seed: 11})
	logits := []float32{1, 3, 2, 0, -5}
	counts := map[int32]int{}
	const n = 20000
	for range n {
		counts[s.Sample(logits)]++
	}
	z := 1 + math.Exp(-1) + math.Exp(-2)
	for id, p := range map[int32]float64{1: 1 / z, 2: math.Exp(-1) / z, 0: math.Exp(-2) / z, 3: 0, 4: 0} {
		sd := math.Sqrt(n * p * (1 - p))
		if d := math.Abs(float64(counts[id]) - n*p); d > 4*sd+0.5 {
			t.Errorf("id %d drawn %d times in %d, want %.0f ± %.0f", id, counts[id], n, n*p, 4*sd)
		}
	}
}

func TestResetAndDeterminism(t *testing.T) {
	logits := make([]float32, 512)
	for i := range logits {
		logits[i] = genLogit(512, 3, uint32(i))
	}
	p := Params{Temp: 1.3, TopK: 100, TopP: 0.9, Seed: 1}
	a, b := New(p), New(p)
	var first []int32
	for range 50 {
		x, y := a.Sample(logits), b.Sample(logits)
		if x != y {
			t.Fatalf("two samplers with seed 1 disagree: %d vs %d", x, y)
		}
		first = append(first, x)
	}
	a.Reset()
	for i := range 50 {
		if got := a.Sample(logits); got != first[i] {
			t.Fatalf("after Reset draw %d = %d, want %d", i, got, first[i])
		}
	}
	if got := a.Params(); got != p {
		t.Errorf("Params() = %+v, want %+v", got, p)
	}
}

func TestOddLogits(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, logits := range [][]float32{
		{nan, nan, nan},
		{inf, inf, 1},
		{-inf, -inf, -inf},
		{nan, 1, inf, -inf},
		{1e38, -1e38, 3e38},
	} {
		for _, p := range []Params{{Temp: 1, TopK: 0, TopP: 1}, {Temp: 0.5, TopK: 2, TopP: 0.9}, {Temp: 1e-30, TopP: 0.1}} {
			if got := New(p).Sample(logits); got < 0 || int(got) >= len(logits) {
				t.Errorf("Sample(%v, %+v) = %d, out of range", logits, p, got)
			}
		}
	}
	// A single candidate is chosen without drawing: the generator is
	// untouched.
	s := New(Params{Temp: 1, TopK: 1, Seed: 5})
	for range 3 {
		if got := s.Sample([]float32{0, 2, 1}); got != 1 {
			t.Errorf("Sample with top-k 1 = %d, want 1", got)
		}
	}
	var fresh mt19937
	fresh.seed(5)
	if got, want := s.rng.next(), fresh.next(); got != want {
		t.Errorf("top-k 1 consumed random numbers: next() = %d, want %d", got, want)
	}
}

func TestNoAllocations(t *testing.T) {
	logits := make([]float32, 32000)
	for i := range logits {
		logits[i] = genLogit(32768, 1, uint32(i))
	}
	for _, p := range []Params{{Temp: 0.8, TopK: 40, TopP: 0.95}, {Temp: 1, TopK: 0, TopP: 0.9}, {}} {
		s := New(p)
		s.Sample(logits)
		if n := testing.AllocsPerRun(20, func() { s.Sample(logits) }); n != 0 {
			t.Errorf("Sample with %+v allocates %v times per call", p, n)
		}
	}
}

func TestLowerBound(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		cum  []float64
		u    float64
		want int
	}{
		{[]float64{0.25, 0.5, 1}, 0, 0},
		{[]float64{0.25, 0.5, 1}, 0.25, 0},
		{[]float64{0.25, 0.5, 1}, 0.2500001, 1},
		{[]float64{0.25, 0.5, 1}, 0.75, 2},
		{[]float64{0.25, 0.25, 0.25, 1}, 0.25, 0}, // zero-probability candidates are skipped
		{[]float64{0, 0, 0.5, 1}, 0, 0},
		// NaN compares false, so it counts as "not less": libstdc++ probes
		// index 1 first here and goes left.
		{[]float64{nan, nan, nan, 1}, 0.5, 0},
		{[]float64{0.1, 0.2, nan, nan, 1}, 0.5, 2},
	} {
		if got := lowerBound(c.cum, c.u); got != c.want {
			t.Errorf("lowerBound(%v, %v) = %d, want %d", c.cum, c.u, got, c.want)
		}
	}
}

func TestLowerBoundMatchesLibstdcxx(t *testing.T) {
	ref := reference(t)
	nan := math.NaN()
	cums := [][]float64{{nan, nan, nan, 1}, {0.1, 0.2, nan, nan, 1}, {0.25, 0.25, 0.25, 1}}
	for i, cum := range cums {
		want := ref["lower_bound "+strconv.Itoa(i)]
		for j, u := range []float64{0, 0.1, 0.25, 0.5, 0.99} {
			if got := lowerBound(cum, u); j >= len(want) || strconv.Itoa(got) != want[j] {
				t.Errorf("lowerBound(%v, %v) = %d, libstdc++ %v", cum, u, got, want)
			}
		}
	}
}
