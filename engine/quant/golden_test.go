package quant

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// goldenDigests are SHA-256 digests of every output bit of a fixed
// workload per type (activation blocks, dequantized weights, dot
// products), recorded on amd64 with the AVX2 kernels. The same digests on
// arm64 (portable kernels; run under qemu-user) prove the two agree bit
// for bit. Inputs derive from integers only, so no libm or FMA difference
// can creep into the workload itself.
var goldenDigests = map[gguf.Type]string{
	gguf.F32:  "26bdd0ec89996ef735ecc7bfd481b3117f09b9fa731670607dc80924f080277d",
	gguf.F16:  "54d01d760b11bec92fd294d71e135b44d2026268d7838075becd9266eb1bb637",
	gguf.BF16: "bc414364faf9a06688a6519988927f876514a54946f3ccbd0bb36d693c3c26e4",
	gguf.Q4_0: "aeae3eec54269666e9a98dad634b2d0f7e69863e00cf45d1753dabef8c6bdabd",
	gguf.Q4_1: "d55c7b0547d593128b1fd08cf05702da6a0ad5a0857e1a06d48ed8dde77c6e00",
	gguf.Q5_0: "f4f30b7d9d288ab448a763e12cce1708c941e2f3f721af0a6f71638cd73d7088",
	gguf.Q5_1: "b0d325083e82c880cc4960fcd5546d74cb84d4d4439bfd60014ba0a3f79488be",
	gguf.Q8_0: "5e163e4f51a5790009346e249c7b63a104a6eb8f959e33e08c25736a88e95c43",
	gguf.Q2_K: "9baa1e363dab579c97bc8d68e5f52001a144a35b4c02bbae3cccff1955c1b6e1",
	gguf.Q3_K: "c6c03ad980b86482930fc452b3e9027cdbd39d944d6a744a0f9b93f47b44e550",
	gguf.Q4_K: "425cf384bdf5adaec5f12e804c1160e26c3d3bea2fb561d96b321d5b2449a9ed",
	gguf.Q5_K: "422b9ebecc967eb6a994ec4101040eb6d1959da9adc7aafbb68a48a59069d298",
	gguf.Q6_K: "5d1e6f1bc71f93a48a78a4da6d50a9098245186363023a3171581e39084d43a2",
}

// intFloat draws a float32 from integer bits: a 24-bit signed mantissa
// times 2^e for e in [lo, lo+span).
func intFloat(rng *rand.Rand, lo, span int) float32 {
	m := int32(rng.Uint32()>>8) - 1<<23
	return float32(m) * float32(math.Ldexp(1, lo+rng.IntN(span)))
}

func goldenWorkload(t gguf.Type) []byte {
	rng := rand.New(rand.NewPCG(uint64(t), 2024))
	h := sha256.New()
	put := func(v float32) {
		if v != v {
			v = float32(math.NaN()) // x86 and arm64 make NaNs of different sign
		}
		binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	bs := int(t.BlockSize())
	for _, n := range []int{bs * 9, bs * 4, 1000 / bs * bs, bs * 13} {
		if n == 0 {
			continue
		}
		rows := 8
		var row []byte
		switch t {
		case gguf.F32, gguf.F16, gguf.BF16:
			x := make([]float32, n*rows)
			for i := range x {
				x[i] = intFloat(rng, -32, 8)
			}
			row = make([]byte, int(t.RowSize(uint64(n)))*rows)
			if err := QuantizeRow(t, x, row); err != nil {
				panic(err)
			}
		default:
			for k := 0; k < n*rows/bs; k++ {
				row = append(row, randomBlock(rng, t)...)
			}
		}
		m, err := NewMatrix(t, row, n, rows)
		if err != nil {
			panic(err)
		}
		deq := make([]float32, n*rows)
		if err := Dequantize(t, row, deq); err != nil {
			panic(err)
		}
		for _, v := range deq {
			put(v)
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = intFloat(rng, -30, 12)
		}
		var a Act
		a.Set(t, x)
		h.Write(a.AppendBlocks(nil))
		out := make([]float32, rows)
		MatVec(m, &a, out, 0, rows)
		for _, v := range out {
			put(v)
		}
		// The batched paths: three activations (tinyBLAS for float
		// weights of a multiple of 8 columns, repacked Q4_0).
		acts := []*Act{&a, new(Act), new(Act)}
		outs := [][]float32{make([]float32, rows), make([]float32, rows), make([]float32, rows)}
		for _, b := range acts[1:] {
			for i := range x {
				x[i] = intFloat(rng, -30, 12)
			}
			b.Set(t, x)
		}
		MatMul(m, acts, outs, 0, rows)
		for _, o := range outs {
			for _, v := range o {
				put(v)
			}
		}
	}
	return h.Sum(nil)
}

// goldenAttnDigest covers the attention kernels the same way.
const goldenAttnDigest = "e72b6a7890772dc2abe88191be26ae42e3b532b34bbd3b315aff4212a37e13e7"

func goldenAttnWorkload() []byte {
	rng := rand.New(rand.NewPCG(77, 2024))
	h := sha256.New()
	put := func(v float32) {
		if v != v {
			v = float32(math.NaN())
		}
		binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	for _, hd := range []int{8, 32, 64, 12, 7} {
		for _, cells := range []int{1, 5, 17, 40, 133} {
			q := make([]float32, hd)
			k := make([]float32, cells*hd)
			v := make([]float32, cells*hd)
			for i := range q {
				q[i] = intFloat(rng, -26, 6)
			}
			for i := range k {
				k[i], v[i] = intFloat(rng, -26, 6), intFloat(rng, -26, 6)
			}
			q16, k16, v16 := make([]uint16, hd), make([]uint16, len(k)), make([]uint16, len(v))
			F32ToF16Row(q16, q)
			F32ToF16Row(k16, k)
			F32ToF16Row(v16, v)
			for _, x := range k16 {
				binary.Write(h, binary.LittleEndian, x)
			}
			scores := make([]float32, cells)
			scale := float32(1) / float32(math.Sqrt(float64(hd)))
			for _, tiny := range []bool{false, true} {
				if tiny && hd%8 != 0 {
					continue
				}
				ScoresF16(scores, q16, k16, scale, tiny)
				for _, s := range scores {
					put(s)
				}
			}
			ScoresF32(scores, q, k, scale)
			for _, s := range scores {
				put(s)
			}
			SoftMax(scores)
			for _, s := range scores {
				put(s)
			}
			p16 := make([]uint16, cells)
			F32ToF16Row(p16, scores)
			p := make([]float32, cells)
			F16ToF32Row(p, p16)
			out := make([]float32, hd)
			for _, lanes := range []int{LanesVecDot, LanesTiny} {
				acc := make([]float32, lanes*hd)
				AccumulateF16(acc, lanes, v16, p, hd)
				ReduceLanes(out, acc, lanes)
				for _, o := range out {
					put(o)
				}
				clear(acc)
				AccumulateF32(acc, lanes, v, scores, hd)
				ReduceLanes(out, acc, lanes)
				for _, o := range out {
					put(o)
				}
			}
			put(DotF16(k16[:hd], q16))
			put(DotF32(k[:hd], q))
			if hd%8 == 0 {
				put(DotF16Tiny(k16[:hd], q16))
				put(DotF32Tiny(k[:hd], q))
			}
		}
	}
	for i := 0; i < 4000; i++ {
		x := intFloat(rng, -8, 16)
		if i%2 == 1 {
			x = -x
		}
		put(Expf(x))
		put(FMA32(intFloat(rng, -10, 20), intFloat(rng, -10, 20), intFloat(rng, -30, 40)))
	}
	return h.Sum(nil)
}

func TestGoldenAttnDigest(t *testing.T) {
	check := func(path string) {
		if got := hex.EncodeToString(goldenAttnWorkload()); got != goldenAttnDigest {
			t.Errorf("attention digest %s, want %s (%s)", got, goldenAttnDigest, path)
		}
	}
	check(SIMD())
	restore := usePortable()
	defer restore()
	check("portable Go")
}

func TestGoldenDigests(t *testing.T) {
	check := func(path string) {
		for _, typ := range dotTypes {
			got := hex.EncodeToString(goldenWorkload(typ))
			if want, ok := goldenDigests[typ]; !ok || got != want {
				t.Errorf("%s: digest %s, want %s (%s)", typ, got, want, path)
			}
		}
	}
	check(SIMD())
	// And the portable kernels on this machine too.
	restore := usePortable()
	defer restore()
	check("portable Go")
}

// usePortable switches to the portable kernels until the returned
// function is called.
func usePortable() (restore func()) {
	saved := current()
	portableDispatch().install()
	return saved.install
}
