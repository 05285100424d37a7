// Package quant owns ggml's tensor element types as the engine computes
// with them: binary16/bfloat16 conversions, dequantization of every
// supported block type, the reference weight quantizers llama.cpp writes
// model files with, activation quantization the way ggml's x86 AVX2 build
// does it, and the dot-product kernels behind matrix-vector and
// matrix-matrix products.
//
// It does not parse files (engine/gguf does) and knows nothing about the
// model; it works on rows of bytes viewed in place.
//
// # Numerics
//
// Dequantization is bit-exact with llama.cpp c392e5094
// (ggml-quants.c dequantize_row_*). A weight row is dotted with the
// activation converted to the weight type's vec_dot_type exactly as ggml
// converts it (F16 weights: activations rounded to binary16; Q4_0, Q5_0,
// Q8_0: Q8_0 blocks with id = 127/amax and round-half-even; Q4_1, Q5_1:
// Q8_1; K-quants: Q8_K). Every integer sum is exact; the float operations
// are those of llama.cpp's x86 AVX2 build (gcc, FMA contraction) in its
// order, so the engine's logits equal llama.cpp's bit for bit. Portable
// Go (fused multiply-adds as FMA32, exact everywhere) and the amd64
// assembly compute the same bits, so results are the same on amd64 and
// arm64. The orders, per path (see MatVec, MatMul, Path):
//
//   - vec_dot, F32: 4×8 lanes of fused multiply-adds (element i in lane
//     i%32) over whole 32-element steps, GGML_F32x8_REDUCE ((A0+A2) +
//     (A1+A3), halves, two horizontal adds), the rest fused one by one
//     into the float32 sum. F16: the same lanes (exact products), the
//     rest added in float64. BF16: the same lanes, (c1+c3)+(c2+c4) then
//     hsum8, the rest in float64.
//   - vec_dot, Q4_0, Q5_0, Q8_0, Q4_1, Q5_1: lane k of a block is the
//     exact sum of its products 4k..4k+3; acc_k = fma(dx·dy, lane_k,
//     acc_k) over the blocks, then hsum8 (halves, then 4 → 2 → 1); Q4_1
//     and Q5_1 add Σ m·s, summed block by block in float32.
//   - vec_dot, K-quants: the same 8 lanes over the 32-element chunks of a
//     super-block, scaled by the group scales in integers, fused with
//     float32(dy·d) into 8 float lanes; the mins go through a fused
//     8-lane (Q2_K), 4-lane (Q4_K) or scalar (Q5_K) accumulator
//     (dot_generic.go has the details).
//   - tinyBLAS (float weights, batches, n%8 == 0 and rows%4 == 0): one
//     8-lane fused accumulator (element i in lane i%8), hsum8. For Q8_0,
//     Q4_0 and Q5_0 llamafile's tinyBLAS_Q0 computes what vec_dot does.
//   - repacked Q4_0 (row count a multiple of 8, every batch size): one
//     float32 accumulator per row, acc = fma(Σ_block, dx·dy, acc).
//
// The attention kernels (attn.go) follow ggml's non-flash attention the
// same way: KQ per cache cell in vec_dot or tinyBLAS order, softmax with
// ggml_v_expf (Expf) on whole 8-lane vectors and a float64 sum of their
// hsum8, KQ·V per output element in vec_dot's 4×8 or tinyBLAS's 8 lanes
// over the cells.
//
// # Kernels
//
// On amd64 with AVX2, FMA and F16C (checked at startup with x/sys/cpu)
// every dot and attention kernel runs Go assembly that issues the
// instructions ggml issues (VPMADDUBSW/VPMADDWD lane sums, VFMADD231PS
// accumulators, VCVTPH2PS/VCVTPS2PH, the same horizontal sums); arm64 and
// amd64 without them run the portable Go kernels in dot_generic.go and
// attn.go, whose fused multiply-adds are FMA32 (math.FMA plus a
// round-to-odd fix-up, exact). The differential tests, a fuzz target and
// the golden digests (golden_test.go, also run under qemu-aarch64) check
// that both compute the same bits.
//
// A single accumulator chain of fused multiply-adds per row bounds a
// one-row kernel at one block per FMA latency, so MatVec runs the
// repacked Q4_0 path four rows and the 32-element block types two rows at
// a time, taking the rows of a group from equal parts of the row range so
// that each part is one sequential stream for the hardware prefetcher.
// Results do not depend on the grouping. MatMul's tinyBLAS path runs four
// activations per weight row the same way.
package quant
