package cache

// Unrolled set scans for the common associativities. The simulator is
// bound by the instructions it executes per reference (Cachegrind counts
// about 9 per way for the loop forms); the unrolled forms need about 4
// for a tag compare and 2 for a victim stamp, without loop overhead.

// find returns the way of the set starting at base whose tag word holds
// key (line | fValid, flags masked), or -1.
func (l *Level) find(base int, key uint64) int {
	switch l.ways {
	case 4:
		s := (*[4]uint64)(l.tags[base : base+4])
		switch key {
		case s[0] & keyMask:
			return 0
		case s[1] & keyMask:
			return 1
		case s[2] & keyMask:
			return 2
		case s[3] & keyMask:
			return 3
		}
		return -1
	case 8:
		s := (*[8]uint64)(l.tags[base : base+8])
		switch key {
		case s[0] & keyMask:
			return 0
		case s[1] & keyMask:
			return 1
		case s[2] & keyMask:
			return 2
		case s[3] & keyMask:
			return 3
		case s[4] & keyMask:
			return 4
		case s[5] & keyMask:
			return 5
		case s[6] & keyMask:
			return 6
		case s[7] & keyMask:
			return 7
		}
		return -1
	}
	for w, t := range l.tags[base : base+l.ways] {
		if t&keyMask == key {
			return w
		}
	}
	return -1
}

// lruVictim returns the way with the smallest stamp of an inline-LRU set
// whose stamps start at b.
func (l *Level) lruVictim(b int) int {
	switch l.ways {
	case 2:
		s := (*[2]uint64)(l.tags[b : b+2])
		return int(min(s[0], s[1]) & 0xff)
	case 4:
		s := (*[4]uint64)(l.tags[b : b+4])
		return int(min(s[0], s[1], s[2], s[3]) & 0xff)
	case 8:
		s := (*[8]uint64)(l.tags[b : b+8])
		return int(min(min(s[0], s[1], s[2], s[3]), min(s[4], s[5], s[6], s[7])) & 0xff)
	case 12:
		s := (*[12]uint64)(l.tags[b : b+12])
		return int(min(min(s[0], s[1], s[2], s[3]), min(s[4], s[5], s[6], s[7]), min(s[8], s[9], s[10], s[11])) & 0xff)
	case 16:
		s := (*[16]uint64)(l.tags[b : b+16])
		return int(min(min(s[0], s[1], s[2], s[3]), min(s[4], s[5], s[6], s[7]), min(s[8], s[9], s[10], s[11]), min(s[12], s[13], s[14], s[15])) & 0xff)
	}
	m := ^uint64(0)
	for _, s := range l.tags[b : b+l.ways] {
		m = min(m, s)
	}
	return int(m & 0xff)
}
