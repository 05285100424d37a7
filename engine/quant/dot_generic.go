package quant

import (
	"encoding/binary"
	"math"
)

// The portable kernels. Each defines the exact float order for its type;
// the assembly kernels reproduce it bit for bit (see doc.go). Every
// product that ggml rounds is wrapped in float32(...) so that Go cannot
// fuse it into the following add on arm64.

// reduce32 sums the 32 lanes of the float kernels in the order the AVX2
// code does: fold the four 8-lane vectors pairwise, then halve 8→4→2→1.
func reduce32(l *[32]float32) float32 {
	var v [8]float32
	for i := range v {
		v[i] = (l[i] + l[i+8]) + (l[i+16] + l[i+24])
	}
	s0, s1, s2, s3 := v[0]+v[4], v[1]+v[5], v[2]+v[6], v[3]+v[7]
	return (s0 + s2) + (s1 + s3)
}

// reduce4 sums the 4 lanes of the 32-element block kernels.
func reduce4(l *[4]float32) float32 { return (l[0] + l[2]) + (l[1] + l[3]) }

func f32At(b []byte, i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])) }

// dotF32Lanes accumulates x[i]·y[i] for i in [lo, len(y)) into lane i%32.
func dotF32Lanes(row []byte, y []float32, lo int, l *[32]float32) {
	row = row[:4*len(y)]
	for i := lo; i < len(y); i++ {
		l[i&31] += float32(f32At(row, i) * y[i])
	}
}

func dotF32Generic(row []byte, a *Act) float32 {
	var l [32]float32
	dotF32Lanes(row, a.f, 0, &l)
	return reduce32(&l)
}

// dotF16Lanes: binary16 weights times binary16-rounded activations; the
// products are exact in float32.
func dotF16Lanes(row []byte, y []float32, lo int, l *[32]float32) {
	row = row[:2*len(y)]
	for i := lo; i < len(y); i++ {
		l[i&31] += float32(f16Table[binary.LittleEndian.Uint16(row[2*i:])] * y[i])
	}
}

func dotF16Generic(row []byte, a *Act) float32 {
	var l [32]float32
	dotF16Lanes(row, a.f, 0, &l)
	return reduce32(&l)
}

func dotBF16Lanes(row []byte, y []float32, lo int, l *[32]float32) {
	row = row[:2*len(y)]
	for i := lo; i < len(y); i++ {
		l[i&31] += float32(BF16ToF32(binary.LittleEndian.Uint16(row[2*i:])) * y[i])
	}
}

func dotBF16Generic(row []byte, a *Act) float32 {
	var l [32]float32
	dotBF16Lanes(row, a.f, 0, &l)
	return reduce32(&l)
}

// dotF16F16Lanes is DotF16's portable kernel.
func dotF16F16Lanes(x, y []uint16, lo int, l *[32]float32) {
	y = y[:len(x)]
	for i := lo; i < len(x); i++ {
		l[i&31] += float32(f16Table[x[i]] * f16Table[y[i]])
	}
}

// Blocks of 32 against Q8_0 activations: block b adds
// float32(sumi) · float32(dx·dy) to lane b%4, sumi exact.

func dotQ8_0Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[34*b : 34*b+34]
		y := a.qs[32*b : 32*b+32]
		var s int32
		for j := 0; j < 32; j++ {
			s += int32(int8(x[2+j])) * int32(y[j])
		}
		l[b&3] += float32(float32(s) * float32(f16At(x)*a.d[b]))
	}
}

func dotQ4_0Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[18*b : 18*b+18]
		y := a.qs[32*b : 32*b+32]
		var s int32
		for j := 0; j < 16; j++ {
			q := x[2+j]
			s += (int32(q&0xf)-8)*int32(y[j]) + (int32(q>>4)-8)*int32(y[j+16])
		}
		l[b&3] += float32(float32(s) * float32(f16At(x)*a.d[b]))
	}
}

func dotQ5_0Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[22*b : 22*b+22]
		y := a.qs[32*b : 32*b+32]
		qh := le32(x[2:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[6+j]
			lo := int32(uint32(q&0xf)|(qh>>j&1)<<4) - 16
			hi := int32(uint32(q>>4)|(qh>>(j+16)&1)<<4) - 16
			s += lo*int32(y[j]) + hi*int32(y[j+16])
		}
		l[b&3] += float32(float32(s) * float32(f16At(x)*a.d[b]))
	}
}

// Blocks of 32 against Q8_1 activations: block b adds
// float32(float32(sumi)·float32(dx·dy)) + float32(mx·sy) to lane b%4.

func dotQ4_1Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[20*b : 20*b+20]
		y := a.qs[32*b : 32*b+32]
		var s int32
		for j := 0; j < 16; j++ {
			q := x[4+j]
			s += int32(q&0xf)*int32(y[j]) + int32(q>>4)*int32(y[j+16])
		}
		c := float32(float32(s)*float32(f16At(x)*a.d[b])) + float32(f16At(x[2:])*a.s[b])
		l[b&3] += c
	}
}

func dotQ5_1Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[24*b : 24*b+24]
		y := a.qs[32*b : 32*b+32]
		qh := le32(x[4:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[8+j]
			lo := int32(uint32(q&0xf) | (qh>>j&1)<<4)
			hi := int32(uint32(q>>4) | (qh>>(j+16)&1)<<4)
			s += lo*int32(y[j]) + hi*int32(y[j+16])
		}
		c := float32(float32(s)*float32(f16At(x)*a.d[b])) + float32(f16At(x[2:])*a.s[b])
		l[b&3] += c
	}
}

func blocksKernel(f func(row []byte, a *Act, b0, b1 int, l *[4]float32)) func(row []byte, a *Act) float32 {
	return func(row []byte, a *Act) float32 {
		var l [4]float32
		f(row, a, 0, a.n/32, &l)
		return reduce4(&l)
	}
}

// K-quants against Q8_K activations, one accumulator, super-blocks in
// order. With dy the Q8_K scale:
//   Q2_K       c = float32(dy·d)·float32(isum) − float32(dy·dmin)·float32(summs)
//   Q3_K, Q6_K c = float32(d·dy)·float32(isum)
//   Q4_K, Q5_K c = float32(d·dy)·float32(sumi) − float32(dmin·dy)·float32(summ)
// each product rounded to float32, isum/sumi/summ exact integers.

func dotQ2_KGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/256; b++ {
		x := row[84*b : 84*b+84]
		y := a.qs[256*b : 256*b+256]
		scales, qs := x[0:16], x[16:80]
		var isum int32
		is := 0
		for n := 0; n < 2; n++ {
			q := qs[32*n : 32*n+32]
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					var p int32
					for l := 0; l < 16; l++ {
						p += int32(q[16*half+l]>>shift&3) * int32(y[l])
					}
					y = y[16:]
					isum += int32(scales[is]&0xf) * p
					is++
				}
			}
		}
		var summs int32
		for g, s := range a.bsums[16*b : 16*b+16] {
			summs += int32(scales[g]>>4) * int32(s)
		}
		dy := a.d[b]
		dall, dmin := float32(dy*f16At(x[80:])), float32(dy*f16At(x[82:]))
		acc += float32(float32(dall*float32(isum)) - float32(dmin*float32(summs)))
	}
	return acc
}

func dotQ3_KGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/256; b++ {
		x := row[110*b : 110*b+110]
		y := a.qs[256*b : 256*b+256]
		hm, qs := x[0:32], x[32:96]
		sc := q3Scales(x[96:108])
		var isum int32
		is := 0
		m := byte(1)
		for n := 0; n < 2; n++ {
			q := qs[32*n : 32*n+32]
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					var p int32
					for l := 16 * half; l < 16*half+16; l++ {
						v := int32(q[l] >> shift & 3)
						if hm[l]&m == 0 {
							v -= 4
						}
						p += v * int32(y[0])
						y = y[1:]
					}
					isum += sc[is] * p
					is++
				}
				m <<= 1
			}
		}
		acc += float32(float32(f16At(x[108:])*a.d[b]) * float32(isum))
	}
	return acc
}

func dotQ4_KGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/256; b++ {
		x := row[144*b : 144*b+144]
		y := a.qs[256*b : 256*b+256]
		bs := a.bsums[16*b : 16*b+16]
		scales, qs := x[4:16], x[16:144]
		var sumi, summ int32
		for s := 0; s < 8; s++ {
			sc, mn := scaleMinK4(s, scales)
			q := qs[32*(s/2) : 32*(s/2)+32]
			shift := uint(4 * (s & 1))
			var p int32
			for l := 0; l < 32; l++ {
				p += int32(q[l]>>shift&0xf) * int32(y[32*s+l])
			}
			sumi += int32(sc) * p
			summ += int32(mn) * (int32(bs[2*s]) + int32(bs[2*s+1]))
		}
		dy := a.d[b]
		acc += float32(float32(float32(f16At(x)*dy)*float32(sumi)) - float32(float32(f16At(x[2:])*dy)*float32(summ)))
	}
	return acc
}

func dotQ5_KGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/256; b++ {
		x := row[176*b : 176*b+176]
		y := a.qs[256*b : 256*b+256]
		bs := a.bsums[16*b : 16*b+16]
		scales, qh, ql := x[4:16], x[16:48], x[48:176]
		var sumi, summ int32
		for s := 0; s < 8; s++ {
			sc, mn := scaleMinK4(s, scales)
			q := ql[32*(s/2) : 32*(s/2)+32]
			shift := uint(4 * (s & 1))
			var p int32
			for l := 0; l < 32; l++ {
				v := int32(q[l]>>shift&0xf) | int32(qh[l]>>s&1)<<4
				p += v * int32(y[32*s+l])
			}
			sumi += int32(sc) * p
			summ += int32(mn) * (int32(bs[2*s]) + int32(bs[2*s+1]))
		}
		dy := a.d[b]
		acc += float32(float32(float32(f16At(x)*dy)*float32(sumi)) - float32(float32(f16At(x[2:])*dy)*float32(summ)))
	}
	return acc
}

func dotQ6_KGeneric(row []byte, a *Act) float32 {
	var acc float32
	for b := 0; b < a.n/256; b++ {
		x := row[210*b : 210*b+210]
		y := a.qs[256*b : 256*b+256]
		sc := x[192:208]
		var isum int32
		for n := 0; n < 2; n++ {
			ql := x[64*n : 64*n+64]
			qh := x[128+32*n : 128+32*n+32]
			yn := y[128*n : 128*n+128]
			var g [8]int32 // group sums: g[2k + l/16] for quarter k
			for l := 0; l < 32; l++ {
				h := qh[l]
				q1 := int32(ql[l]&0xf|(h&3)<<4) - 32
				q2 := int32(ql[l+32]&0xf|(h>>2&3)<<4) - 32
				q3 := int32(ql[l]>>4|(h>>4&3)<<4) - 32
				q4 := int32(ql[l+32]>>4|(h>>6&3)<<4) - 32
				is := l / 16
				g[is] += q1 * int32(yn[l])
				g[2+is] += q2 * int32(yn[l+32])
				g[4+is] += q3 * int32(yn[l+64])
				g[6+is] += q4 * int32(yn[l+96])
			}
			for k, p := range g {
				isum += int32(int8(sc[8*n+k])) * p
			}
		}
		acc += float32(float32(f16At(x[208:])*a.d[b]) * float32(isum))
	}
	return acc
}
