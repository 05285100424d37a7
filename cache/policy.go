package cache

import (
	"fmt"
	"sort"
	"strings"
)

// Policy chooses victims within the sets of one cache level. It keeps its
// own per-line state (stamps, RRPVs, tree bits) indexed by set and way, the
// way ChampSim's replacement modules do; the level owns tags and flags.
//
// The level fills invalid ways itself (lowest way first) and asks the
// policy only when a set is full. Write-backs and write-throughs arriving
// from above do not call the policy: they are not references by the core,
// and leaving them out keeps a non-inclusive hierarchy's demand misses
// independent of write-back traffic, as in Cachegrind.
type Policy interface {
	// Victim returns the way to evict from set; every way holds a valid
	// line. It must return a value in [0, ways).
	Victim(set int) int
	// OnHit records a reference that hit way (demand, or a prefetch
	// request from a level above).
	OnHit(set, way int)
	// OnFill records that a new line was placed in way; prefetch is true
	// when a prefetch brought it.
	OnFill(set, way int, prefetch bool)
}

// PolicyFactory builds a policy for a level of sets x ways. seed feeds
// randomized policies; deterministic ones ignore it. Factories must not
// panic: geometry has been validated (sets is a power of two, ways >= 1),
// but a policy with extra constraints (plru wants power-of-two ways)
// returns an error.
type PolicyFactory func(sets, ways int, seed uint64) (Policy, error)

var policies = map[string]PolicyFactory{}

// RegisterPolicy adds a replacement policy under name. It is meant for
// init functions and panics on a duplicate name, which is a programming
// error.
func RegisterPolicy(name string, f PolicyFactory) {
	if _, dup := policies[name]; dup {
		panic("cache: replacement policy " + name + " registered twice")
	}
	policies[name] = f
}

// Policies returns the registered policy names, sorted.
func Policies() []string {
	names := make([]string, 0, len(policies))
	for n := range policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewPolicy builds the named policy.
func NewPolicy(name string, sets, ways int, seed uint64) (Policy, error) {
	f, ok := policies[name]
	if !ok {
		return nil, fmt.Errorf("cache: unknown replacement policy %q (known: %s)", name, strings.Join(Policies(), ", "))
	}
	if sets < 1 || ways < 1 || sets*ways > 1<<31 {
		return nil, fmt.Errorf("cache: replacement policy %s: bad geometry %d sets x %d ways", name, sets, ways)
	}
	p, err := f(sets, ways, seed)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return p, nil
}
