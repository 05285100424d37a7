package pagecache

// lru evicts the least recently referenced page; every reference moves
// a page to the front. It is the textbook policy a cyclic scan slightly
// larger than the cache defeats completely.
type lru struct {
	links
	l list
}

func init() { Register("lru", func() Policy { return &lru{} }) }

func (p *lru) Init(capacity, _ int) {
	p.links.init(capacity)
	p.l = newList()
}

func (p *lru) Inserted(f int32, _ uint64, _ bool) { p.pushFront(&p.l, f) }

func (p *lru) Accessed(f int32) {
	if p.l.head != f {
		p.remove(&p.l, f)
		p.pushFront(&p.l, f)
	}
}

func (p *lru) Victim() int32 {
	f := p.l.tail
	p.remove(&p.l, f)
	return f
}
