package cache

import (
	"fmt"
	"sort"
	"strings"
)

// Access is what a prefetcher sees of one reference to its level.
type Access struct {
	// Addr is the line-aligned byte address referenced.
	Addr Addr
	// Core is the core that made the reference.
	Core int
	// Write is true for a store.
	Write bool
	// Hit is true when the line was present in this level.
	Hit bool
	// PrefetchHit is true on the first demand hit to a line this level's
	// prefetcher brought in (feedback for prefetchers that throttle).
	PrefetchHit bool
	// Hint is true for a prefetch hint from the trace (trace.Prefetch
	// events); demand references have it false.
	Hint bool
}

// Prefetcher proposes lines to bring into its level. OnAccess is called
// after every demand reference to the level and for every trace hint;
// it appends the byte addresses it wants prefetched to dst and returns
// the extended slice. It must not allocate once dst has grown to its
// working size, and must not keep dst. The level drops proposals for
// lines already present (counted as dropped).
type Prefetcher interface {
	OnAccess(acc Access, dst []Addr) []Addr
}

// PrefetcherConfig selects and parameterizes a prefetcher. Each
// prefetcher uses only some parameters; setting one it does not use is an
// error, so a typo in a YAML file does not go unnoticed.
type PrefetcherConfig struct {
	// Name is a registered prefetcher ("none" or "" for no prefetcher).
	Name string
	// Degree is the number of lines proposed per trigger.
	Degree int
	// Distance is how many strides ahead of the current reference the
	// first proposal lies (stride).
	Distance int
	// Table is the number of stream-table entries (stride).
	Table int
}

// PrefetcherKind is a registered prefetcher: its parameters with their
// defaults, and its constructor.
type PrefetcherKind struct {
	// Params lists the PrefetcherConfig fields the prefetcher uses, by
	// their YAML names (degree, distance, table).
	Params []string
	// Defaults holds the value used for a parameter left at zero.
	Defaults PrefetcherConfig
	// Check validates a configuration with defaults applied.
	Check func(cfg PrefetcherConfig) error
	// New builds the prefetcher for a level with the given line size.
	New func(cfg PrefetcherConfig, lineBytes int) Prefetcher
}

var prefetchers = map[string]PrefetcherKind{}

// RegisterPrefetcher adds a prefetcher under name; it panics on a
// duplicate name (a programming error, meant for init functions).
func RegisterPrefetcher(name string, k PrefetcherKind) {
	if _, dup := prefetchers[name]; dup {
		panic("cache: prefetcher " + name + " registered twice")
	}
	prefetchers[name] = k
}

// Prefetchers returns the registered prefetcher names, sorted.
func Prefetchers() []string {
	names := make([]string, 0, len(prefetchers))
	for n := range prefetchers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks the configuration against the registry.
func (c PrefetcherConfig) Validate() error {
	_, err := ResolvePrefetcher(c)
	return err
}

// ResolvePrefetcher checks cfg against the registry and returns it with
// defaults filled in ("" becomes "none").
func ResolvePrefetcher(cfg PrefetcherConfig) (PrefetcherConfig, error) {
	if cfg.Name == "" {
		cfg.Name = "none"
	}
	k, ok := prefetchers[cfg.Name]
	if !ok {
		return cfg, fieldErr("prefetcher", "unknown prefetcher %q (known: %s)", cfg.Name, strings.Join(Prefetchers(), ", "))
	}
	uses := func(p string) bool {
		for _, q := range k.Params {
			if q == p {
				return true
			}
		}
		return false
	}
	for _, p := range []struct {
		name string
		v    *int
		def  int
	}{{"degree", &cfg.Degree, k.Defaults.Degree}, {"distance", &cfg.Distance, k.Defaults.Distance}, {"table", &cfg.Table, k.Defaults.Table}} {
		switch {
		case !uses(p.name) && *p.v != 0:
			return cfg, fieldErr("prefetcher."+p.name, "%d, but prefetcher %s takes no %s", *p.v, cfg.Name, p.name)
		case *p.v < 0:
			return cfg, fieldErr("prefetcher."+p.name, "%d, want > 0", *p.v)
		case *p.v == 0:
			*p.v = p.def
		}
	}
	if k.Check != nil {
		if err := k.Check(cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// NewPrefetcher builds the configured prefetcher; it returns nil for
// "none".
func NewPrefetcher(cfg PrefetcherConfig, lineBytes int) (Prefetcher, error) {
	cfg, err := ResolvePrefetcher(cfg)
	if err != nil {
		return nil, err
	}
	if lineBytes < 16 || lineBytes&(lineBytes-1) != 0 {
		return nil, fmt.Errorf("cache: prefetcher %s: line size %d, want a power of two >= 16", cfg.Name, lineBytes)
	}
	return prefetchers[cfg.Name].New(cfg, lineBytes), nil
}

// pageBytes is the boundary hardware prefetchers do not cross: they see
// physical addresses, and the next 4 KiB page is unrelated memory.
const pageBytes = 4096

// maxPrefetchDegree bounds the proposals per trigger so a config cannot
// make one access cost unbounded work.
const maxPrefetchDegree = 64
