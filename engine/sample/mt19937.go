package sample

import "math"

// mt19937 is the 32-bit Mersenne Twister with the parameters and seeding
// of C++'s std::mt19937, which llama.cpp's dist sampler draws from.
type mt19937 struct {
	state [624]uint32
	i     int
}

func (m *mt19937) seed(s uint32) {
	m.state[0] = s
	for i := 1; i < len(m.state); i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.i = len(m.state)
}

func (m *mt19937) next() uint32 {
	const n, mid = 624, 397
	if m.i >= n {
		for k := range n {
			y := m.state[k]&0x80000000 | m.state[(k+1)%n]&0x7fffffff
			v := m.state[(k+mid)%n] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			m.state[k] = v
		}
		m.i = 0
	}
	y := m.state[m.i]
	m.i++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// canonical is libstdc++'s std::generate_canonical<double, 53> on a 32-bit
// engine: two draws, the first as the low word, summed in double (one
// rounding), scaled by 2^-64 and kept below 1.
func (m *mt19937) canonical() float64 {
	lo := float64(m.next())
	hi := float64(m.next())
	r := (lo + hi*(1<<32)) / (1 << 64)
	if r >= 1 {
		r = math.Nextafter(1, 0)
	}
	return r
}
