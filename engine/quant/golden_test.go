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
	gguf.F32:  "1869fb27ff2504a206cfef3aec29c8372b4cce9997eced5b04c243da2d5d64c8",
	gguf.F16:  "3847262a78893f88959cc6ede9d6f61ade28d404a76a90e837f2db01a1091541",
	gguf.BF16: "f607c406e3f87bc5a50c6ea32aede20e61c049de243b796fc3906ee419e3efc1",
	gguf.Q4_0: "5e310d91b42849c2f51231edce6b2e6f5a23bc6760823006f46abe952c50d013",
	gguf.Q4_1: "2bd4cde754029323d7d9ecd8e7bed377278a0a024a8b75d944b61c1edf935388",
	gguf.Q5_0: "d8684d65dbc3b5ba76523b2643fbc7565194c3412b11b57a75e54f7538ce40a3",
	gguf.Q5_1: "b69a8cb08d1344ca38b1abe27f550efade49df10f8c218786f319d747525de5d",
	gguf.Q8_0: "79eb5070cfda5daf846dd470e217167a4245004a724eef5ea6ef6957616a71cb",
	gguf.Q2_K: "5c83c9fabe4d637c36544f480b8537063ce2d9ad9fe41f0c7d1fdda26e6f62e9",
	gguf.Q3_K: "78da2d381ee878117a8b195fedc4b0fa4acb367209d3003346cdb71fdeb97e40",
	gguf.Q4_K: "7d53c2ed6e08d7e558aee1d42550995d682d7048b59b2e5cf9b6f8dd7987d795",
	gguf.Q5_K: "fd7bcee59b83a7ceed0c5be18e005f611a2c6835be4239677161a2659acaaa4a",
	gguf.Q6_K: "886bcc91720f59094581304171dee9d357390413c3fd9575947f899f37f757ca",
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
	}
	if t == gguf.F16 {
		u, v := make([]uint16, 77), make([]uint16, 77)
		for i := range u {
			u[i], v[i] = F32ToF16(intFloat(rng, -30, 10)), F32ToF16(intFloat(rng, -30, 10))
		}
		put(DotF16(u, v))
		put(DotF16(u[:64], v[:64]))
	}
	return h.Sum(nil)
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
	saved, savedAVX2 := kernels, hasAVX2
	kernels, hasAVX2 = generic, false
	return func() { kernels, hasAVX2 = saved, savedAVX2 }
}
