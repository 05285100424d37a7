package engine

import (
	"math"

	"github.com/edgeprof/edgeprof/engine/quant"
)

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

// expf stands in for libm's expf on the scalar tail of ggml's loops.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// simdLanes is the vector width (in float32 lanes) whose chunks ggml's
// AVX2 kernels process with vExpf; the n%simdLanes tail uses expf.
const simdLanes = 8

// siluMul computes h[i] = silu(g[i]) * u[i] with ggml's silu
// x/(1+exp(0-x)) followed by a separate multiply (h may be g). e is
// scratch space owned by the caller (on the stack it would escape through
// quant's kernel dispatch and cost an allocation per call).
func siluMul(h, g, u []float32, e *[64]float32) {
	n := len(g)
	vec := n - n%simdLanes
	for lo := 0; lo < n; lo += len(e) {
		m := min(len(e), n-lo)
		for i := range e[:m] {
			e[i] = 0 - g[lo+i]
		}
		if v := min(m, vec-lo); v > 0 {
			quant.ExpfRow(e[:v], e[:v])
		}
		for i := max(0, vec-lo); i < m; i++ {
			e[i] = expf(e[i])
		}
		for i, ei := range e[:m] {
			x := g[lo+i]
			h[lo+i] = float32(x/(1+ei)) * u[lo+i]
		}
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
			v[2*i] = quant.FMA32(x0, c, -float32(x1*s))
			v[2*i+1] = quant.FMA32(x1, c, float32(x0*s))
		}
	}
}
