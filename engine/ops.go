package engine

import "math"

// The element-wise operations below follow ggml's CPU kernels at
// llama.cpp c392e5094 (see ../shared/facts/gguf-and-quants.md §3.6, §4),
// including where values are rounded to float32: every float32(...)
// conversion marks a rounding ggml performs, and stops Go from fusing a
// multiply-add into an FMA on arm64 where ggml does not.

// rmsNorm writes y = x / sqrt(mean(x²) + eps) ⊙ w. ggml sums the
// float32-rounded squares in double and multiplies by the scale and the
// weight in two separate roundings.
func rmsNorm(y, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(float32(v * v))
	}
	mean := float32(sum / float64(len(x)))
	scale := float32(1) / float32(math.Sqrt(float64(mean+eps)))
	for i, v := range x {
		y[i] = float32(v*scale) * w[i]
	}
}

func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// vExpf is ggml_v_expf, the vectorized exp of the AVX2/NEON builds, one
// lane at a time.
func vExpf(x float32) float32 {
	const (
		r  = 0x1.8p23
		l2 = 0x1.715476p+0
		c1 = 0x1.62e4p-1
		c2 = 0x1.7f7d1cp-20
	)
	z := fma32(x, l2, r)
	n := z - r
	b := fma32(-n, c1, x)
	b = fma32(-n, c2, b)
	e := math.Float32bits(z) << 23
	k := math.Float32frombits(e + math.Float32bits(1))
	u := b * b
	j := fma32(
		fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)),
		u, float32(0x1.ffffecp-1*b))
	if !(float32(math.Abs(float64(n))) > 126) {
		return fma32(j, k, k)
	}
	var g uint32
	if n <= 0 {
		g = 0x82000000
	}
	s1 := math.Float32frombits(g + 0x7f000000)
	s2 := math.Float32frombits(e - g)
	if float32(math.Abs(float64(n))) > 192 {
		return s1 * s1
	}
	return fma32(s2, j, s2) * s1
}

// expf stands in for libm's expf on the scalar tail of ggml's loops.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// simdLanes is the vector width (in float32 lanes) whose chunks ggml's
// AVX2 kernels process with vExpf; the n%simdLanes tail uses expf.
const simdLanes = 8

// siluMul computes h[i] = silu(g[i]) * u[i] with ggml's silu
// x/(1+exp(0-x)) followed by a separate multiply.
func siluMul(h, g, u []float32) {
	n := len(g)
	vec := n - n%simdLanes
	for i := 0; i < n; i++ {
		x := g[i]
		var e float32
		if i < vec {
			e = vExpf(0 - x)
		} else {
			e = expf(0 - x)
		}
		h[i] = float32(x/(1+e)) * u[i]
	}
}

// softmaxInPlace turns scores w into probabilities like
// ggml_compute_forward_soft_max_f32: subtract the max, exponentiate, sum in
// double, scale by the float32-rounded reciprocal.
func softmaxInPlace(w []float32) {
	m := float32(math.Inf(-1))
	for _, v := range w {
		if v > m {
			m = v
		}
	}
	n := len(w)
	vec := n - n%simdLanes
	var sum float64
	for i := 0; i < n; i++ {
		var e float32
		if i < vec {
			e = vExpf(w[i] - m)
		} else {
			e = expf(w[i] - m)
		}
		w[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range w {
		w[i] *= inv
	}
}

// ropeTable fills cos/sin for position pos: ggml iterates theta by
// repeated float32 multiplication rather than recomputing powers, and the
// rounding of that iteration is part of the result.
func ropeTable(cos, sin []float32, pos int, base, freqScale, attnFactor float32, rot int, freqs []float32) {
	thetaScale := float32(math.Pow(float64(base), float64(float32(-2.0)/float32(rot))))
	theta := float32(pos)
	for i := range cos {
		a := theta
		if freqs != nil {
			a = theta / freqs[i]
		}
		a = freqScale * a
		cos[i] = float32(math.Cos(float64(a))) * attnFactor
		sin[i] = float32(math.Sin(float64(a))) * attnFactor
		theta = theta * thetaScale
	}
}

// ropeNorm rotates adjacent pairs of each head vector ("normal" rope mode)
// with the FMA contraction gcc applies in ggml's build:
// out0 = fma(x0, cos, -(x1·sin)), out1 = fma(x1, cos, x0·sin).
func ropeNorm(x []float32, heads, headDim int, cos, sin []float32) {
	for h := 0; h < heads; h++ {
		v := x[h*headDim : (h+1)*headDim]
		for i := range cos {
			x0, x1 := v[2*i], v[2*i+1]
			c, s := cos[i], sin[i]
			v[2*i] = fma32(x0, c, -float32(x1*s))
			v[2*i+1] = fma32(x1, c, float32(x0*s))
		}
	}
}

// dotF32 is a plain float32 dot product with eight partial sums, the
// shape of an AVX2 loop; it serves the reference paths (FloatWeights,
// float32 KV cache), not the fast kernels in package quant.
func dotF32(a, b []float32) float32 {
	var acc [8]float32
	n := len(a) - len(a)%8
	for i := 0; i < n; i += 8 {
		for l := 0; l < 8; l++ {
			acc[l] = float32(acc[l] + float32(a[i+l]*b[i+l]))
		}
	}
	sum := ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
	for i := n; i < len(a); i++ {
		sum = float32(sum + float32(a[i]*b[i]))
	}
	return sum
}
