package cache

func init() {
	RegisterPrefetcher("next-line", PrefetcherKind{
		Params:   []string{"degree"},
		Defaults: PrefetcherConfig{Degree: 1},
		Check: func(c PrefetcherConfig) error {
			if c.Degree > maxPrefetchDegree {
				return fieldErr("prefetcher.degree", "%d, want 1..%d", c.Degree, maxPrefetchDegree)
			}
			return nil
		},
		New: func(c PrefetcherConfig, line int) Prefetcher {
			return &nextLine{degree: uint64(c.Degree), line: uint64(line)}
		},
	})
}

// nextLine proposes the Degree lines after every demand reference, within
// the reference's 4 KiB page (Smith's one-block lookahead, extended to N
// blocks).
type nextLine struct {
	degree uint64
	line   uint64
}

func (p *nextLine) OnAccess(acc Access, dst []Addr) []Addr {
	if acc.Hint {
		return dst
	}
	a := uint64(acc.Addr)
	page := a / pageBytes
	for i := uint64(1); i <= p.degree; i++ {
		n := a + i*p.line
		if n/pageBytes != page || n < a {
			break
		}
		dst = append(dst, Addr(n))
	}
	return dst
}
