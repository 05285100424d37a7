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
// Q8_1; K-quants: Q8_K). Every block's integer dot product is exact; the
// float part follows one fixed order that every implementation (portable
// Go, amd64 AVX2 assembly) reproduces bit for bit, so results are the
// same on amd64 and arm64:
//
//   - F32, F16, BF16: element i is accumulated into lane i mod 32
//     (lane += float32(x*y), no fused multiply-add), then the 32 lanes are
//     reduced by reduce32.
//   - Q4_0, Q5_0, Q8_0, Q4_1, Q5_1 (32-element blocks): block b's
//     contribution goes to lane b mod 4; the lanes are reduced as
//     (l0+l2)+(l1+l3).
//   - K-quants: super-block contributions are added in order into one
//     accumulator.
//
// The exact per-block formulas are on the kernels (dot_generic.go).
// ggml's own accumulation order differs between its builds (AVX2, NEON,
// scalar), so results agree with llama.cpp to the last few bits, not
// bitwise.
//
// # Kernels
//
// On amd64 with AVX2 and F16C (checked at startup with x/sys/cpu) every
// dot type runs Go assembly: F32, F16, BF16 and DotF16 (32 float lanes),
// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (four blocks per step, exact block sums
// via VPMADDUBSW/VPMADDWD; rows whose block count is not a multiple of
// four finish in Go), Q2_K…Q6_K (one super-block per step). arm64 and
// amd64 without AVX2 run the portable Go kernels in dot_generic.go. Both compute the same float
// operations in the same order, without fused multiply-adds, so they
// return identical bits: the differential tests, a fuzz target and the
// golden digests (golden_test.go, also run under qemu-aarch64) check it.
//
// Decode multiplies a vector by every weight matrix, so MatVec streams
// each matrix once: on amd64 the kernels run at 4-14 bytes of weights per
// cycle, above what one core reads from DRAM. MatMul keeps a tile of rows
// in L1 while every activation of the batch passes over it.
package quant
