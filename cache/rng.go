package cache

// splitmix64 mixes a seed into well-spread 64-bit values; it seeds the
// other generators and derives per-instance seeds, so that seed 0 and
// seed 1 give unrelated streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// DeriveSeed returns a seed for one part (level, instance) of a run from
// the run's seed, so that parts draw independent streams and a run is
// reproducible from one number.
func DeriveSeed(seed uint64, parts ...uint64) uint64 {
	s := splitmix64(seed)
	for _, p := range parts {
		s = splitmix64(s ^ splitmix64(p+1))
	}
	return s
}

// xorshift is xorshift64* (Vigna 2016): small, fast, and good enough to
// pick victims; its state must never be zero.
type xorshift struct{ s uint64 }

func newXorshift(seed uint64) xorshift {
	s := splitmix64(seed)
	if s == 0 {
		s = 0x9e3779b97f4a7c15
	}
	return xorshift{s}
}

func (r *xorshift) next() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 0x2545f4914f6cdd1d
}

// below returns a value in [0, n) by Lemire's multiply-shift; the bias is
// below 2^-32 for the way counts used here.
func (r *xorshift) below(n int) int {
	return int((r.next() >> 32) * uint64(n) >> 32)
}
