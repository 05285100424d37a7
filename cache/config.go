package cache

import (
	"fmt"
	"math/bits"
	"strings"
)

// FieldError is a configuration error in one field. Field uses the
// snake_case names of the SoC YAML (size, ways, latency_cycles, ...), so a
// loader can point at the key in the user's file.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// WritePolicy says what a level does with a store that hits it.
type WritePolicy uint8

const (
	// WriteBack marks the line dirty; the data goes down when the line is
	// evicted.
	WriteBack WritePolicy = iota
	// WriteThrough passes every store on to the next level at once; lines
	// of this level stay clean.
	WriteThrough
)

var writePolicyNames = [...]string{"write-back", "write-through"}

func (w WritePolicy) String() string {
	if int(w) < len(writePolicyNames) {
		return writePolicyNames[w]
	}
	return fmt.Sprintf("WritePolicy(%d)", uint8(w))
}

// ParseWritePolicy is the inverse of WritePolicy.String.
func ParseWritePolicy(s string) (WritePolicy, error) {
	for i, n := range writePolicyNames {
		if n == s {
			return WritePolicy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown write policy %q (known: %s)", s, strings.Join(writePolicyNames[:], ", "))
}

// Inclusion is the relation of a level to the levels above it (nearer the
// core).
type Inclusion uint8

const (
	// NonInclusive levels are filled by the misses that pass through them
	// and evict without telling the levels above.
	NonInclusive Inclusion = iota
	// Inclusive levels hold every line held above them: evicting a line
	// back-invalidates it in the levels above.
	Inclusive
	// Exclusive levels are victim caches: filled only by lines evicted
	// from the level above, and a hit moves the line up and out.
	Exclusive
)

var inclusionNames = [...]string{"non-inclusive", "inclusive", "exclusive"}

func (i Inclusion) String() string {
	if int(i) < len(inclusionNames) {
		return inclusionNames[i]
	}
	return fmt.Sprintf("Inclusion(%d)", uint8(i))
}

// ParseInclusion is the inverse of Inclusion.String.
func ParseInclusion(s string) (Inclusion, error) {
	for i, n := range inclusionNames {
		if n == s {
			return Inclusion(i), nil
		}
	}
	return 0, fmt.Errorf("unknown inclusion %q (known: %s)", s, strings.Join(inclusionNames[:], ", "))
}

// Config describes one set-associative cache level.
type Config struct {
	// Name labels the level in results ("L1D", "L2").
	Name string
	// SizeBytes is the capacity of one instance in bytes.
	SizeBytes int
	// Ways is the associativity; SizeBytes/LineBytes/Ways sets must be a
	// power of two.
	Ways int
	// LineBytes is the line size in bytes, a power of two >= 16.
	LineBytes int
	// LatencyCycles is the hit latency in core cycles.
	LatencyCycles int
	// Replacement names a policy from the registry (Policies()).
	Replacement string
	// Write is the policy for stores that hit.
	Write WritePolicy
	// WriteAllocate makes a store that misses fetch and fill the line;
	// without it the store goes on to the next level and nothing is
	// filled.
	WriteAllocate bool
	// Inclusion relates this level to the ones above it; the first level
	// must be NonInclusive.
	Inclusion Inclusion
	// SharedBy is the number of cores sharing one instance (1 = private
	// per core). Hierarchies only.
	SharedBy int
	// Prefetcher configures this level's prefetcher; the zero value means
	// none.
	Prefetcher PrefetcherConfig
	// WriteStreaming makes a write-allocate level stop allocating the
	// store misses of a core that is writing a run of full lines
	// (stream.go); the zero value means never. Levels with it take the
	// general path.
	WriteStreaming WriteStreaming
	// Seed feeds randomized replacement policies.
	Seed uint64
}

// maxCacheBytes bounds a level so that a bad config cannot ask for an
// unbounded allocation (tags cost 8 bytes per line).
const maxCacheBytes = 1 << 34

// Validate checks the configuration without allocating.
func (c Config) Validate() error {
	if c.Name == "" {
		return fieldErr("name", "empty, want a level name such as L1D")
	}
	if c.LineBytes < 16 || c.LineBytes > 1<<16 || bits.OnesCount(uint(c.LineBytes)) != 1 {
		return fieldErr("line", "%d, want a power of two between 16 and 65536 bytes", c.LineBytes)
	}
	if c.Ways < 1 || c.Ways > 1024 {
		return fieldErr("ways", "%d, want 1..1024", c.Ways)
	}
	if c.SizeBytes <= 0 || c.SizeBytes > maxCacheBytes {
		return fieldErr("size", "%d bytes, want 1 B .. 16 GiB", c.SizeBytes)
	}
	if c.SizeBytes%(c.LineBytes*c.Ways) != 0 {
		return fieldErr("size", "%d bytes is not a multiple of line*ways = %d", c.SizeBytes, c.LineBytes*c.Ways)
	}
	if sets := c.SizeBytes / (c.LineBytes * c.Ways); bits.OnesCount(uint(sets)) != 1 {
		return fieldErr("size", "%d bytes gives %d sets (size/(line*ways)), want a power of two", c.SizeBytes, sets)
	}
	if c.LatencyCycles < 0 || c.LatencyCycles > 1<<20 {
		return fieldErr("latency_cycles", "%d, want 0..1048576", c.LatencyCycles)
	}
	f, ok := policies[c.Replacement]
	if !ok {
		return fieldErr("replacement", "unknown policy %q (known: %s)", c.Replacement, strings.Join(Policies(), ", "))
	}
	// A one-set instance checks the policy's own constraints on ways
	// (plru wants a power of two) at the cost of a few bytes.
	if _, err := f(1, c.Ways, 0); err != nil {
		return fieldErr("replacement", "%v", err)
	}
	if c.Write > WriteThrough {
		return fieldErr("write", "%v, want write-back or write-through", c.Write)
	}
	if c.Inclusion > Exclusive {
		return fieldErr("inclusion", "%v, want non-inclusive, inclusive or exclusive", c.Inclusion)
	}
	if c.SharedBy < 0 || c.SharedBy > 1024 {
		return fieldErr("shared_by", "%d, want 1..1024 cores", c.SharedBy)
	}
	if _, err := ResolvePrefetcher(c.Prefetcher); err != nil {
		return err
	}
	return c.WriteStreaming.validate()
}

// Sets returns the number of sets of a valid configuration.
func (c Config) Sets() int { return c.SizeBytes / (c.LineBytes * c.Ways) }
