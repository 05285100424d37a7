package cache

import (
	"fmt"
	"testing"
)

// step is one operation on a single set: fill a way, hit a way, or ask for
// the victim (and check it).
type step struct {
	op   byte // 'f' fill, 'h' hit, 'v' victim
	way  int
	want int // for 'v'
}

func fill(w int) step { return step{op: 'f', way: w} }
func hit(w int) step  { return step{op: 'h', way: w} }
func victim(w int) step {
	return step{op: 'v', want: w}
}

func runSteps(t *testing.T, p Policy, set int, steps []step) {
	t.Helper()
	for i, s := range steps {
		switch s.op {
		case 'f':
			p.OnFill(set, s.way, false)
		case 'h':
			p.OnHit(set, s.way)
		case 'v':
			if got := p.Victim(set); got != s.want {
				t.Fatalf("step %d: Victim(%d) = %d, want %d", i, set, got, s.want)
			}
		}
	}
}

// TestPolicyVictims checks hand-computed victim sequences for every
// deterministic policy on one 4-way set (the derivations are in the
// comments).
func TestPolicyVictims(t *testing.T) {
	tests := []struct {
		policy string
		steps  []step
	}{
		// LRU stamps A1 B2 C3 D4; hit A -> 5: victim B (way 1). Fill E
		// into 1 -> 6, hit C -> 7: stamps 5 6 7 4, victim D (way 3).
		{"lru", []step{fill(0), fill(1), fill(2), fill(3), hit(0), victim(1), fill(1), hit(2), victim(3), fill(3), victim(0)}},
		// FIFO ignores hits: victim is the oldest fill.
		{"fifo", []step{fill(0), fill(1), fill(2), fill(3), hit(0), victim(0), fill(0), hit(1), victim(1), fill(1), victim(2)}},
		// Tree PLRU, nodes 1 (root), 2 (ways 0-1), 3 (ways 2-3). After
		// filling 0,1,2,3 every bit is 0: victim 0. Hit 0 sets bits 1,2:
		// root points right, node 3 is 0: victim 2. Fill 2 sets node 3 and
		// clears the root: node 2 points right: victim 1.
		{"plru", []step{fill(0), fill(1), fill(2), fill(3), victim(0), hit(0), victim(2), fill(2), victim(1), fill(1), victim(3)}},
		// SRRIP inserts at 2. Full set of 2s: age to 3s, victim 0. Fill 0
		// (2), hit 1 (0): RRPVs 2 0 3 3: victim 2; fill 2: 2 0 2 3: victim
		// 3; fill 3: 2 0 2 2: age to 3 1 3 3: victim 0.
		{"srrip", []step{fill(0), fill(1), fill(2), fill(3), victim(0), fill(0), hit(1), victim(2), fill(2), victim(3), fill(3), victim(0)}},
		// BRRIP inserts at 3 (the 32nd fill at 2): after four fills and a
		// hit on 0, way 1 is the first distant line.
		{"brrip", []step{fill(0), fill(1), fill(2), fill(3), hit(0), victim(1), hit(1), victim(2), hit(2), hit(3), victim(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			p, err := NewPolicy(tc.policy, 4, 4, 1)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, p, 2, tc.steps)
		})
	}
}

// TestBRRIPPeriod: one fill in 32 is inserted at the long interval.
func TestBRRIPPeriod(t *testing.T) {
	p, _ := NewPolicy("brrip", 1, 4, 0)
	r := p.(*rrip)
	var long int
	for i := 0; i < 64; i++ {
		p.OnFill(0, i%4, false)
		if r.rrpv[i%4] == rrpvLong {
			long++
		}
	}
	if long != 2 {
		t.Errorf("long insertions in 64 BRRIP fills = %d, want 2", long)
	}
}

// TestDRRIPDueling: with 16 sets there are two leaders per policy (sets
// 0, 8 for SRRIP; 4, 12 for BRRIP). Demand misses in SRRIP leaders push
// PSEL up until followers insert like BRRIP (distant); misses in BRRIP
// leaders push it back down.
func TestDRRIPDueling(t *testing.T) {
	p, err := NewPolicy("drrip", 16, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := p.(*drrip)
	roles := map[int]duel{0: srripLeader, 8: srripLeader, 4: brripLeader, 12: brripLeader, 1: follower, 15: follower}
	for set, want := range roles {
		if got := d.role(set); got != want {
			t.Errorf("role(%d) = %d, want %d", set, got, want)
		}
	}
	follow := func() uint8 { p.OnFill(1, 0, false); return d.rrpv[1*4+0] }
	if got := follow(); got != rrpvLong {
		t.Fatalf("follower insertion at PSEL %d = %d, want %d (SRRIP)", d.psel, got, rrpvLong)
	}
	p.OnFill(0, 0, true) // prefetch fills do not vote
	if d.psel != pselInit {
		t.Fatalf("PSEL after a prefetch fill = %d, want %d", d.psel, pselInit)
	}
	p.OnFill(0, 0, false)
	if d.psel != pselInit+1 {
		t.Fatalf("PSEL after an SRRIP-leader miss = %d, want %d", d.psel, pselInit+1)
	}
	d.fills = 0
	if got := follow(); got != rrpvMax {
		t.Errorf("follower insertion at PSEL %d = %d, want %d (BRRIP)", d.psel, got, rrpvMax)
	}
	p.OnFill(4, 0, false)
	p.OnFill(12, 0, false)
	if d.psel != pselInit-1 {
		t.Errorf("PSEL after two BRRIP-leader misses = %d, want %d", d.psel, pselInit-1)
	}
	for i := 0; i < 2000; i++ {
		p.OnFill(0, 0, false)
	}
	if d.psel != pselMax {
		t.Errorf("PSEL saturates at %d, want %d", d.psel, pselMax)
	}
}

// TestRandomPolicy: the victim stream is a function of the seed, covers
// every way, and differs between seeds.
func TestRandomPolicy(t *testing.T) {
	seq := func(seed uint64) []int {
		p, _ := NewPolicy("random", 1, 8, seed)
		var s []int
		for i := 0; i < 800; i++ {
			s = append(s, p.Victim(0))
		}
		return s
	}
	a, b, c := seq(7), seq(7), seq(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("random victims with one seed differ between runs")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("random victims with seeds 7 and 8 are identical")
	}
	var counts [8]int
	for _, w := range a {
		counts[w]++
	}
	for w, n := range counts {
		if n < 60 || n > 140 { // 100 expected; 4 sigma is about 37
			t.Errorf("way %d chosen %d times in 800, want about 100", w, n)
		}
	}
}

// TestPolicyConformance runs every registered policy through the
// contract: victims in range for many geometries, no panic, and
// deterministic for a seed.
func TestPolicyConformance(t *testing.T) {
	for _, name := range Policies() {
		t.Run(name, func(t *testing.T) {
			for _, g := range []struct{ sets, ways int }{{1, 1}, {1, 2}, {4, 4}, {64, 8}, {16, 16}, {2, 12}, {1, 48}} {
				p, err := NewPolicy(name, g.sets, g.ways, 3)
				if err != nil {
					if name == "plru" && g.ways&(g.ways-1) != 0 {
						continue // documented: plru needs power-of-two ways
					}
					t.Fatalf("NewPolicy(%s, %d, %d) error %v", name, g.sets, g.ways, err)
				}
				q, _ := NewPolicy(name, g.sets, g.ways, 3)
				x := uint64(1)
				for i := 0; i < 5000; i++ {
					x = x*6364136223846793005 + 1
					set := int(x>>40) % g.sets
					way := int(x>>20) % g.ways
					switch x >> 62 {
					case 0:
						p.OnHit(set, way)
						q.OnHit(set, way)
					case 1:
						p.OnFill(set, way, x&1 == 0)
						q.OnFill(set, way, x&1 == 0)
					default:
						v, w := p.Victim(set), q.Victim(set)
						if v < 0 || v >= g.ways {
							t.Fatalf("%dx%d: Victim = %d, want 0..%d", g.sets, g.ways, v, g.ways-1)
						}
						if v != w {
							t.Fatalf("%dx%d: two policies with one seed chose %d and %d", g.sets, g.ways, v, w)
						}
					}
				}
			}
		})
	}
	if _, err := NewPolicy("nope", 1, 1, 0); err == nil {
		t.Error("NewPolicy(nope) succeeded, want an error listing known policies")
	}
}
