package quant

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// littleEndian: GGUF data is little-endian, so on such hosts an aligned
// F32 row can be read in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// f32View returns row's first n float32 values without copying when the
// host is little-endian and the row is 4-byte aligned (GGUF aligns tensor
// data to 32 bytes, so F32 rows always are).
func f32View(row []byte, n int) ([]float32, bool) {
	if n == 0 || !littleEndian || len(row) < 4*n || uintptr(unsafe.Pointer(&row[0]))%4 != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&row[0])), n), true
}

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

// laneAcc adds w[k]·y[k] into lane k%32 for a whole number of 32-element
// chunks (len(w) == len(y), a multiple of 32). It walks the chunk once
// per 8-lane group so the lanes live in registers; each lane still sums
// its elements in index order.
func laneAcc(l *[32]float32, w, y []float32) {
	y = y[:len(w)]
	for g := 0; g < 32; g += 8 {
		s0, s1, s2, s3, s4, s5, s6, s7 := l[g], l[g+1], l[g+2], l[g+3], l[g+4], l[g+5], l[g+6], l[g+7]
		for i := g; i+8 <= len(w); i += 32 {
			ww, yy := w[i:i+8:i+8], y[i:i+8:i+8]
			s0 += float32(ww[0] * yy[0])
			s1 += float32(ww[1] * yy[1])
			s2 += float32(ww[2] * yy[2])
			s3 += float32(ww[3] * yy[3])
			s4 += float32(ww[4] * yy[4])
			s5 += float32(ww[5] * yy[5])
			s6 += float32(ww[6] * yy[6])
			s7 += float32(ww[7] * yy[7])
		}
		l[g], l[g+1], l[g+2], l[g+3], l[g+4], l[g+5], l[g+6], l[g+7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
}

// floatDot is the portable float kernel: decode chunks of weights into a
// stack buffer, lane-accumulate whole 32-element chunks, then add the
// last n%32 elements one by one into their lanes.
func floatDot(decode func(dst []float32, row []byte, lo int), row []byte, y []float32) float32 {
	var l [32]float32
	var buf [256]float32
	n := len(y)
	i := 0
	for i < n&^31 {
		m := min(256, n&^31-i)
		decode(buf[:m], row, i)
		laneAcc(&l, buf[:m], y[i:i+m])
		i += m
	}
	if i < n {
		decode(buf[:n-i], row, i)
		for k, w := range buf[:n-i] {
			l[(i+k)&31] += float32(w * y[i+k])
		}
	}
	return reduce32(&l)
}

func decodeF32(dst []float32, row []byte, lo int) {
	src := row[4*lo : 4*(lo+len(dst))]
	for k := range dst {
		dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*k:]))
	}
}

func decodeF16(dst []float32, row []byte, lo int) {
	src := row[2*lo : 2*(lo+len(dst))]
	for k := range dst {
		dst[k] = f16Table[binary.LittleEndian.Uint16(src[2*k:])]
	}
}

func decodeBF16(dst []float32, row []byte, lo int) {
	src := row[2*lo : 2*(lo+len(dst))]
	for k := range dst {
		dst[k] = BF16ToF32(binary.LittleEndian.Uint16(src[2*k:]))
	}
}

// dotLanesTail adds elements [lo, len(y)) one by one into lane i%32: the
// tail after an assembly kernel that stored its lanes.
func dotLanesTail(decode func(dst []float32, row []byte, lo int), row []byte, y []float32, lo int, l *[32]float32) {
	var buf [32]float32
	for lo < len(y) {
		m := min(32, len(y)-lo)
		decode(buf[:m], row, lo)
		for k, w := range buf[:m] {
			l[(lo+k)&31] += float32(w * y[lo+k])
		}
		lo += m
	}
}

func dotF32Generic(row []byte, a *Act) float32 {
	if w, ok := f32View(row, len(a.f)); ok {
		var l [32]float32
		full := len(w) &^ 31
		laneAcc(&l, w[:full], a.f[:full])
		for i := full; i < len(w); i++ {
			l[i&31] += float32(w[i] * a.f[i])
		}
		return reduce32(&l)
	}
	return floatDot(decodeF32, row, a.f)
}
func dotF16Generic(row []byte, a *Act) float32  { return floatDot(decodeF16, row, a.f) }
func dotBF16Generic(row []byte, a *Act) float32 { return floatDot(decodeBF16, row, a.f) }

// dotF16F16Generic is DotF16's portable kernel.
func dotF16F16Generic(x, y []uint16) float32 {
	var l [32]float32
	var bx, by [256]float32
	n := len(x)
	y = y[:n]
	i := 0
	for i < n&^31 {
		m := min(256, n&^31-i)
		for k := 0; k < m; k++ {
			bx[k], by[k] = f16Table[x[i+k]], f16Table[y[i+k]]
		}
		laneAcc(&l, bx[:m], by[:m])
		i += m
	}
	dotF16F16Lanes(x, y, i, &l)
	return reduce32(&l)
}

// dotF16F16Lanes adds elements [lo, len(x)) one by one into lane i%32.
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
		x := row[34*b : 34*b+34 : 34*b+34]
		q := x[2:34:34]
		y := a.qs[32*b : 32*b+32 : 32*b+32]
		var s0, s1, s2, s3 int32
		for j := 0; j < 32; j += 4 {
			s0 += int32(int8(q[j])) * int32(y[j])
			s1 += int32(int8(q[j+1])) * int32(y[j+1])
			s2 += int32(int8(q[j+2])) * int32(y[j+2])
			s3 += int32(int8(q[j+3])) * int32(y[j+3])
		}
		s := s0 + s1 + s2 + s3
		l[b&3] += float32(float32(s) * float32(f16At(x)*a.d[b]))
	}
}

func dotQ4_0Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[18*b : 18*b+18 : 18*b+18]
		qs := x[2:18:18]
		y := a.qs[32*b : 32*b+32 : 32*b+32]
		ylo, yhi := y[:16:16], y[16:32:32]
		var s0, s1 int32
		for j, q := range qs {
			s0 += int32(q&0xf) * int32(ylo[j])
			s1 += int32(q>>4) * int32(yhi[j])
		}
		s := s0 + s1 - 8*a.ysum[b] // Σ(q−8)·y, exactly
		l[b&3] += float32(float32(s) * float32(f16At(x)*a.d[b]))
	}
}

func dotQ5_0Blocks(row []byte, a *Act, b0, b1 int, l *[4]float32) {
	for b := b0; b < b1; b++ {
		x := row[22*b : 22*b+22 : 22*b+22]
		qs := x[6:22:22]
		y := a.qs[32*b : 32*b+32 : 32*b+32]
		ylo, yhi := y[:16:16], y[16:32:32]
		qh := le32(x[2:])
		var s0, s1 int32
		for j, q := range qs {
			s0 += int32(uint32(q&0xf)|(qh>>j&1)<<4) * int32(ylo[j])
			s1 += int32(uint32(q>>4)|(qh>>(j+16)&1)<<4) * int32(yhi[j])
		}
		s := s0 + s1 - 16*a.ysum[b] // Σ(q−16)·y, exactly
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
		// The quants are (q2 | hb<<2) − 4: dot the unsigned part, then
		// take 4·Σ_g sc_g·bsums_g off.
		var isum int32
		is := 0
		bit := uint(0)
		for n := 0; n < 2; n++ {
			q := qs[32*n : 32*n+32 : 32*n+32]
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 32; half += 16 {
					qq, hh := q[half:half+16:half+16], hm[half:half+16:half+16]
					yy := y[:16:16]
					var p0, p1 int32
					for l := 0; l < 16; l += 2 {
						p0 += int32(qq[l]>>shift&3|(hh[l]>>bit&1)<<2) * int32(yy[l])
						p1 += int32(qq[l+1]>>shift&3|(hh[l+1]>>bit&1)<<2) * int32(yy[l+1])
					}
					y = y[16:]
					isum += sc[is] * (p0 + p1)
					is++
				}
				bit++
			}
		}
		for g, bs := range a.bsums[16*b : 16*b+16] {
			isum -= 4 * sc[g] * int32(bs)
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
		for k := 0; k < 4; k++ {
			q := qs[32*k : 32*k+32 : 32*k+32]
			ylo, yhi := y[64*k:64*k+32:64*k+32], y[64*k+32:64*k+64:64*k+64]
			var plo, phi int32
			for l, v := range q {
				plo += int32(v&0xf) * int32(ylo[l])
				phi += int32(v>>4) * int32(yhi[l])
			}
			sc0, mn0 := scaleMinK4(2*k, scales)
			sc1, mn1 := scaleMinK4(2*k+1, scales)
			sumi += int32(sc0)*plo + int32(sc1)*phi
			summ += int32(mn0)*(int32(bs[4*k])+int32(bs[4*k+1])) + int32(mn1)*(int32(bs[4*k+2])+int32(bs[4*k+3]))
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
		qh = qh[:32:32]
		for k := 0; k < 4; k++ {
			q := ql[32*k : 32*k+32 : 32*k+32]
			ylo, yhi := y[64*k:64*k+32:64*k+32], y[64*k+32:64*k+64:64*k+64]
			blo, bhi := uint(2*k), uint(2*k+1)
			var plo, phi int32
			for l, v := range q {
				plo += int32(v&0xf|(qh[l]>>blo&1)<<4) * int32(ylo[l])
				phi += int32(v>>4|(qh[l]>>bhi&1)<<4) * int32(yhi[l])
			}
			sc0, mn0 := scaleMinK4(2*k, scales)
			sc1, mn1 := scaleMinK4(2*k+1, scales)
			sumi += int32(sc0)*plo + int32(sc1)*phi
			summ += int32(mn0)*(int32(bs[4*k])+int32(bs[4*k+1])) + int32(mn1)*(int32(bs[4*k+2])+int32(bs[4*k+3]))
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
		// The quants are u − 32 with u = lo | hi<<4 in 0..63: dot u, then
		// take 32·Σ_g sc_g·bsums_g off.
		var isum int32
		for n := 0; n < 2; n++ {
			ql := x[64*n : 64*n+64 : 64*n+64]
			qh := x[128+32*n : 128+32*n+32 : 128+32*n+32]
			yn := y[128*n : 128*n+128 : 128*n+128]
			for half := 0; half < 32; half += 16 {
				var p1, p2, p3, p4 int32
				for l := half; l < half+16; l++ {
					h := qh[l]
					p1 += int32(ql[l]&0xf|(h&3)<<4) * int32(yn[l])
					p2 += int32(ql[l+32]&0xf|(h>>2&3)<<4) * int32(yn[l+32])
					p3 += int32(ql[l]>>4|(h>>4&3)<<4) * int32(yn[l+64])
					p4 += int32(ql[l+32]>>4|(h>>6&3)<<4) * int32(yn[l+96])
				}
				g := 8*n + half/16
				isum += int32(int8(sc[g]))*p1 + int32(int8(sc[g+2]))*p2 + int32(int8(sc[g+4]))*p3 + int32(int8(sc[g+6]))*p4
			}
		}
		for g, bs := range a.bsums[16*b : 16*b+16] {
			isum -= 32 * int32(int8(sc[g])) * int32(bs)
		}
		acc += float32(float32(f16At(x[208:])*a.d[b]) * float32(isum))
	}
	return acc
}
