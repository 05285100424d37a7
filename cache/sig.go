package cache

import "math/bits"

// Set signatures. Which way of a set holds a line is data the host's
// branch predictor cannot guess: a search comparing the ways one by one
// mispredicts on most hits to a set of more than one line, and a
// misprediction (about 15 cycles) costs more than the rest of a
// reference. For inline-lru levels of 4 or 8 ways, sig keeps one word per
// set holding a lane per way (16 or 8 bits): a hash of the way's line with
// the lane's top bit set, or 0 for an empty way. sigFind compares a line's
// lane with all lanes at once (the SWAR zero-byte test) and names the way
// without a branch; the tag word then confirms it, since different lines
// can share a lane value (1 in 2^15 or 2^7 per pair of ways).
//
// Only hierarchies on the fast path keep signatures (NewHierarchy
// allocates them), and every write of a line into the tags of such a
// level goes through setLine, which keeps the signature in step
// (checkInvariants verifies).

// sigMul spreads line numbers over the lane bits (Fibonacci hashing).
const sigMul = 0x9e3779b97f4a7c15

// Lane constants for 4 ways (16-bit lanes) and 8 ways (8-bit lanes).
const (
	ones16 = 0x0001_0001_0001_0001
	high16 = 0x8000_8000_8000_8000
	ones8  = 0x0101_0101_0101_0101
	high8  = 0x8080_8080_8080_8080
)

// lane16 and lane8 are the lane values of key (line | fValid).
func lane16(key uint64) uint64 { return key*sigMul>>49 | 0x8000 }
func lane8(key uint64) uint64  { return key*sigMul>>57 | 0x80 }

// sigWays reports whether a level keeps signatures.
func sigWays(inlineLRU bool, ways int) bool { return inlineLRU && (ways == 4 || ways == 8) }

// setLine writes tag word t into way of set (index idx) and updates the
// set's signature if the level keeps one. It is small enough for Go to
// inline, so the general path pays one test for signatures it never
// reads.
func (l *Level) setLine(set, way, idx int, t uint64) {
	l.tags[idx] = t
	if l.sig != nil {
		l.setSig(set, way, t)
	}
}

// setSig sets the lane of way in the signature of set for tag word t.
func (l *Level) setSig(set, way int, t uint64) {
	var lane uint64
	key := t&^flagBits | fValid
	if l.ways == 4 {
		if t&fValid != 0 {
			lane = lane16(key)
		}
		sh := uint(way) * 16 & 63
		l.sig[set] = l.sig[set]&^(0xffff<<sh) | lane<<sh
		return
	}
	if t&fValid != 0 {
		lane = lane8(key)
	}
	sh := uint(way) * 8 & 63
	l.sig[set] = l.sig[set]&^(0xff<<sh) | lane<<sh
}

// sigFind4 returns the way of a 4-way set with signature sig whose lane
// matches key's, or -1 if none does: then the line is surely absent. A
// match must be confirmed against the tag word.
func sigFind4(sig, key uint64) int {
	x := sig ^ lane16(key)*ones16
	t := (x - ones16) &^ x & high16
	if t == 0 {
		return -1
	}
	return bits.TrailingZeros64(t) >> 4
}

// sigFind8 is sigFind4 for 8 ways.
func sigFind8(sig, key uint64) int {
	x := sig ^ lane8(key)*ones8
	t := (x - ones8) &^ x & high8
	if t == 0 {
		return -1
	}
	return bits.TrailingZeros64(t) >> 3
}
