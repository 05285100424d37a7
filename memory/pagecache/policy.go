package pagecache

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Policy decides which resident page to evict. Frames are the page
// cache's slots, numbered 0..capacity-1. The page cache calls Inserted
// when a frame receives a page, Accessed on every later reference to
// it (never twice in a row for the same page: consecutive references to
// one page count once, as filemap_read marks a folio accessed once per
// read), and Victim when it needs a free frame.
type Policy interface {
	// Init prepares the policy for capacity frames of pageBytes each.
	Init(capacity int, pageBytes int)
	// Inserted records that frame f now holds page. demand is true for
	// the page a fault is waiting for, false for readahead pages.
	Inserted(f int32, page uint64, demand bool)
	// Accessed records a reference to resident frame f.
	Accessed(f int32)
	// Victim removes a frame from the policy's lists and returns it.
	// It is called only when every frame is in use.
	Victim() int32
}

// Mapper is implemented by a policy that tells references through a
// memory mapping apart from read() calls. With Config.Access "mmap" the
// page cache calls Map once after Init and then Touched, not Accessed,
// on every reference to a resident page (repeats included: setting the
// page table's accessed bit again changes nothing). Policies without it
// get Accessed either way.
type Mapper interface {
	Map()
	Touched(f int32)
}

var (
	regMu    sync.RWMutex
	policies = map[string]func() Policy{}
)

// Register adds a policy constructor under name; a duplicate name
// panics (a programming error).
func Register(name string, mk func() Policy) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := policies[name]; dup {
		panic("pagecache: policy registered twice: " + name)
	}
	policies[name] = mk
}

// NewPolicy returns a new policy by name, or an error listing the
// known names.
func NewPolicy(name string) (Policy, error) {
	regMu.RLock()
	mk, ok := policies[strings.ToLower(name)]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: unknown policy %q (known: %s)", ErrInvalidConfig, name, strings.Join(Policies(), ", "))
	}
	return mk(), nil
}

// Policies returns the registered policy names, sorted.
func Policies() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	n := make([]string, 0, len(policies))
	for k := range policies {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// list is an intrusive doubly linked list over frames (head = most
// recently inserted).
type list struct {
	head, tail int32
	n          int
}

type links struct {
	prev, next []int32
}

func (l *links) init(n int) {
	l.prev = make([]int32, n)
	l.next = make([]int32, n)
}

func (l *links) pushFront(ls *list, f int32) {
	l.prev[f] = -1
	l.next[f] = ls.head
	if ls.head >= 0 {
		l.prev[ls.head] = f
	} else {
		ls.tail = f
	}
	ls.head = f
	ls.n++
}

func (l *links) remove(ls *list, f int32) {
	p, n := l.prev[f], l.next[f]
	if p >= 0 {
		l.next[p] = n
	} else {
		ls.head = n
	}
	if n >= 0 {
		l.prev[n] = p
	} else {
		ls.tail = p
	}
	ls.n--
}

func newList() list { return list{head: -1, tail: -1} }
