package synth

import (
	"crypto/sha3"
	"math"
	"strconv"
	"sync"
)

// Version names the value definition this package implements
// (facts/shapes.md, "synth-gguf-v1"). Changing any value changes it.
const Version = "synth-gguf-v1"

// Distribution parameters of the two tensor kinds.
const (
	matrixMean, matrixStd = 0.0, 0.02
	normMean, normStd     = 1.0, 0.1
)

// invNormal is Φ⁻¹(p), Wichura's AS241 (PPND16) exactly as Python's
// statistics.NormalDist.inv_cdf evaluates it, in float64. Every product
// and sum is wrapped in float64() so the compiler cannot fuse a*b+c into
// one FMA on arm64 (the Go spec allows fusion only without an explicit
// conversion), which would change last bits and so the f32 table.
func invNormal(p float64) float64 {
	q := float64(p - 0.5)
	if math.Abs(q) <= 0.425 {
		r := float64(0.180625 - float64(q*q))
		num := horner(r, 2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
			4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
			1.3314166789178437745e+2, 3.3871328727963666080e+0)
		num = float64(num * q)
		den := horner(r, 5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
			2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
			4.2313330701600911252e+1, 1.0)
		return float64(num / den)
	}
	r := p
	if q > 0 {
		r = float64(1.0 - p)
	}
	r = math.Sqrt(-math.Log(r))
	var num, den float64
	if r <= 5.0 {
		r = float64(r - 1.6)
		num = horner(r, 7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
			1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
			4.63033784615654529590e+0, 1.42343711074968357734e+0)
		den = horner(r, 1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
			1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
			2.05319162663775882187e+0, 1.0)
	} else {
		r = float64(r - 5.0)
		num = horner(r, 2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
			2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
			5.46378491116411436990e+0, 6.65790464350110377720e+0)
		den = horner(r, 2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
			7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
			5.99832206555887937690e-1, 1.0)
	}
	x := float64(num / den)
	if q < 0 {
		x = -x
	}
	return x
}

// horner evaluates ((c0·r + c1)·r + c2)… left to right, rounding every
// product and sum separately, as CPython does.
func horner(r float64, c ...float64) float64 {
	acc := c[0]
	for _, k := range c[1:] {
		acc = float64(float64(acc*r) + k)
	}
	return acc
}

// value is mean + std·Φ⁻¹((u+0.5)/65536) in float64, the quantity that is
// rounded once to the storage type. The order matches NormalDist's
// mu + (x * sigma).
func value(u uint16, mean, std float64) float64 {
	p := (float64(u) + 0.5) / 65536
	return float64(mean + float64(invNormal(p)*std))
}

// tables holds the 65536 possible values of each kind, in u order.
type tables struct {
	matrixF32 [65536]float32
	matrixF16 [65536]uint16
	normF32   [65536]float32
}

var (
	tablesOnce sync.Once
	tbl        *tables
)

func getTables() *tables {
	tablesOnce.Do(func() {
		t := new(tables)
		for u := range 65536 {
			m := value(uint16(u), matrixMean, matrixStd)
			t.matrixF32[u] = float32(m)
			t.matrixF16[u] = f64ToF16(m)
			t.normF32[u] = float32(value(uint16(u), normMean, normStd))
		}
		tbl = t
	})
	return tbl
}

// f64ToF16 rounds x to the nearest binary16, ties to even, in one step
// (rounding through float32 first could round twice). Values are small
// and finite here, but overflow and NaN are handled for completeness.
func f64ToF16(x float64) uint16 {
	sign := uint16(math.Float64bits(x)>>48) & 0x8000
	a := math.Abs(x)
	switch {
	case math.IsNaN(x):
		return 0x7e00
	case a >= 65520: // halfway between 65504 (max) and 2^16 rounds to even: inf
		return sign | 0x7c00
	case a < 0x1p-14: // subnormal: units of 2^-24; 1024 units is the smallest normal
		return sign | uint16(math.RoundToEven(a*0x1p24))
	}
	_, e := math.Frexp(a) // a = frac·2^e, frac in [0.5, 1)
	e--                   // a = m·2^e, m in [1, 2)
	m := math.RoundToEven(math.Ldexp(a, 10-e))
	if m == 2048 {
		m = 1024
		e++
	}
	if e+15 >= 31 {
		return sign | 0x7c00
	}
	return sign | uint16(e+15)<<10 | uint16(m-1024)
}

// stream returns the SHAKE-128 byte stream of one tensor.
func stream(seed uint64, tensor string) *sha3.SHAKE {
	h := sha3.NewSHAKE128()
	h.Write([]byte(Version + " seed=" + strconv.FormatUint(seed, 10) + " tensor=" + tensor))
	return h
}
