package pagecache

// linux follows the Linux kernel's file LRU (mm/swap.c, mm/vmscan.c,
// mm/workingset.c; before multi-gen LRU):
//
//   - New pages enter the head of the inactive list; a demand-faulted
//     page starts referenced (the faulting read marks it accessed),
//     readahead pages do not.
//   - folio_mark_accessed: an unreferenced page becomes referenced; a
//     referenced page on the inactive list is activated (moved to the
//     head of the active list, reference cleared).
//   - Reclaim takes the inactive tail. Before it, while the inactive
//     list is low (inactive * ratio < active, ratio = int_sqrt(10 *
//     GiB) of the cache, 1 below 1 GiB), pages move from the active tail
//     to the inactive head (aging, "deactivation").
//   - Workingset detection: an evicted page leaves a shadow entry with
//     the nonresident age (a counter of evictions and activations). If
//     it faults back with refault distance <= the active list size it
//     is activated at once.
//
// Pages read through a memory mapping (Map) are seen differently: the
// CPU sets the page table's accessed bit and the kernel is not told.
// Reclaim samples that bit (folio_check_references): at the inactive
// tail a page accessed since the last look is marked referenced and
// rotated to the inactive head for another trip ("all mapped folios
// start out with page table references from the instantiating fault,
// so we need to look twice"), or activated if it was already marked;
// a page not accessed since is reclaimed whatever its mark. Deactivation
// clears the accessed bit (shrink_active_list calls folio_referenced)
// and keeps the mark, so a deactivated page used again is reactivated
// at its next look.
//
// Simplifications: one LRU (no memory cgroups or NUMA nodes); no
// executable-page protection; shrink_active_list deactivates pages one
// at a time instead of in SWAP_CLUSTER_MAX batches; pages are never
// locked or under writeback.
type linuxPolicy struct {
	links
	inactive, active list
	isActive, ref    []bool
	// young is the page table's accessed bit of a mapped page.
	young  []bool
	mapped bool
	page   []uint64
	shadow []uint64 // per file page: nonresident age at eviction + 1, 0 = none
	age    uint64
	ratio  int
	// Refaults counts pages activated by refault distance.
	refaults uint64
}

func init() { Register("linux", func() Policy { return &linuxPolicy{} }) }

func (p *linuxPolicy) Init(capacity, pageBytes int) {
	p.links.init(capacity)
	p.inactive, p.active = newList(), newList()
	p.isActive = make([]bool, capacity)
	p.ref = make([]bool, capacity)
	p.young = make([]bool, capacity)
	p.page = make([]uint64, capacity)
	gb := uint64(capacity) * uint64(pageBytes) >> 30
	p.ratio = 1
	if gb > 0 {
		p.ratio = isqrt(10 * gb)
	}
}

func isqrt(x uint64) int {
	r := uint64(0)
	for (r+1)*(r+1) <= x {
		r++
	}
	return int(r)
}

// Map switches to page-table references (Touched) for every page.
func (p *linuxPolicy) Map() { p.mapped = true }

// Touched sets the accessed bit of mapped frame f.
func (p *linuxPolicy) Touched(f int32) { p.young[f] = true }

func (p *linuxPolicy) Inserted(f int32, page uint64, demand bool) {
	p.page[f] = page
	// The faulting access maps its page with the accessed bit set; a
	// read() marks its page accessed. Readahead pages get neither.
	p.young[f] = p.mapped && demand
	if page < uint64(len(p.shadow)) {
		if s := p.shadow[page]; s != 0 {
			p.shadow[page] = 0
			if dist := p.age - (s - 1); dist <= uint64(p.active.n) {
				p.isActive[f], p.ref[f] = true, false
				p.pushFront(&p.active, f)
				p.age++
				p.refaults++
				return
			}
		}
	}
	p.isActive[f], p.ref[f] = false, demand && !p.mapped
	p.pushFront(&p.inactive, f)
}

func (p *linuxPolicy) Accessed(f int32) {
	switch {
	case !p.ref[f]:
		p.ref[f] = true
	case !p.isActive[f]:
		p.remove(&p.inactive, f)
		p.isActive[f], p.ref[f] = true, false
		p.pushFront(&p.active, f)
		p.age++
	}
}

func (p *linuxPolicy) Victim() int32 {
	for {
		for p.inactive.n == 0 || p.inactive.n*p.ratio < p.active.n {
			f := p.active.tail
			p.remove(&p.active, f)
			p.isActive[f], p.young[f] = false, false
			p.pushFront(&p.inactive, f)
		}
		f := p.inactive.tail
		if !p.young[f] {
			p.remove(&p.inactive, f)
			return p.evict(f)
		}
		// Mapped and accessed since the last look: another trip, or
		// activation if it had one already. Each look clears the bit,
		// so the loop ends within two passes over the frames.
		p.remove(&p.inactive, f)
		p.young[f] = false
		if p.ref[f] {
			p.isActive[f] = true
			p.pushFront(&p.active, f)
		} else {
			p.ref[f] = true
			p.pushFront(&p.inactive, f)
		}
	}
}

func (p *linuxPolicy) evict(f int32) int32 {
	p.ref[f] = false
	pg := p.page[f]
	if pg >= uint64(len(p.shadow)) {
		n := max(2*len(p.shadow), int(pg)+1, 1024)
		s := make([]uint64, n)
		copy(s, p.shadow)
		p.shadow = s
	}
	p.shadow[pg] = p.age + 1
	p.age++
	return f
}
