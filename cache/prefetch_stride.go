package cache

func init() {
	RegisterPrefetcher("stride", PrefetcherKind{
		Params:   []string{"degree", "distance", "table"},
		Defaults: PrefetcherConfig{Degree: 2, Distance: 1, Table: 64},
		Check: func(c PrefetcherConfig) error {
			switch {
			case c.Degree > maxPrefetchDegree:
				return fieldErr("prefetcher.degree", "%d, want 1..%d", c.Degree, maxPrefetchDegree)
			case c.Distance > pageBytes/16:
				return fieldErr("prefetcher.distance", "%d, want 1..%d strides", c.Distance, pageBytes/16)
			case c.Table > 1<<16 || c.Table&(c.Table-1) != 0:
				return fieldErr("prefetcher.table", "%d, want a power of two up to 65536 entries", c.Table)
			}
			return nil
		},
		New: func(c PrefetcherConfig, line int) Prefetcher {
			shift := uint(0)
			for 1<<shift < line {
				shift++
			}
			return &stride{
				degree: c.Degree, distance: int64(c.Distance), lineShift: shift,
				mask: uint64(c.Table - 1), table: make([]streamEntry, c.Table),
			}
		},
	})
}

// stride detects a constant stride between successive references within
// each 4 KiB region and, once the same non-zero stride has been seen twice
// in a row, proposes Degree lines starting Distance strides ahead of the
// reference, staying inside the region. Regions map to a direct-mapped
// table of Table entries; a region that loses its entry starts over.
type stride struct {
	degree    int
	distance  int64
	lineShift uint
	mask      uint64
	table     []streamEntry
}

type streamEntry struct {
	region uint64 // region number + 1; 0 = empty
	last   int64  // line index within the region of the last reference
	stride int64  // in lines
	conf   uint8  // consecutive repeats of stride
}

func (p *stride) OnAccess(acc Access, dst []Addr) []Addr {
	if acc.Hint {
		return dst
	}
	a := uint64(acc.Addr)
	region := a / pageBytes
	off := int64(a%pageBytes) >> p.lineShift
	e := &p.table[region&p.mask]
	if e.region != region+1 {
		*e = streamEntry{region: region + 1, last: off}
		return dst
	}
	d := off - e.last
	if d == 0 {
		return dst
	}
	e.last = off
	if d != e.stride {
		e.stride, e.conf = d, 0
		return dst
	}
	if e.conf < 255 {
		e.conf++
	}
	lines := int64(pageBytes) >> p.lineShift
	base := region * pageBytes
	for i := 0; i < p.degree; i++ {
		n := off + d*(p.distance+int64(i))
		if n < 0 || n >= lines {
			break
		}
		dst = append(dst, Addr(base+uint64(n)<<p.lineShift))
	}
	return dst
}
