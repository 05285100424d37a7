// Package synth writes random-weight LLaMA models of real shapes as GGUF
// files, for scale experiments and benchmarks on models too large to ship.
//
// Values follow the "synth-gguf-v1" definition of facts/shapes.md, so the
// files are bit-identical to the ones llama.cpp was measured on: each
// tensor's values come from SHAKE-128("synth-gguf-v1 seed=S tensor=NAME"),
// two bytes per element read as a little-endian uint16 u, mapped to
// mean + std·Φ⁻¹((u+0.5)/65536) in float64 (Wichura's AS241, as Python's
// statistics.NormalDist evaluates it) and rounded once to the storage
// type. Matrices are N(0, 0.02), norm weights N(1, 0.1). Tensor order,
// metadata keys and their order are those of the definition; the
// vocabulary is stories260K's 512 SentencePiece tokens (embedded,
// MIT-licensed tokenizer data) extended with <extra_ID> tokens.
//
// Types: F32 and F16 reproduce the reference files. Q8_0 and Q4_0 quantize
// every matrix (token_embd and output included) from the F32 values with
// llama.cpp's reference quantizers (engine/quant); norms stay F32, and
// general.quantization_version 2 is added as llama-quantize does. Each
// quantized tensor is byte-identical to llama-quantize's (checked against
// ../shared/models/synth/synth-kq-Q8_0.gguf and -Q4_0.gguf), but the
// policy is simpler than its presets (for Q4_0 it keeps output.weight in
// Q6_K) and its files order tensors and keys differently, so quantized
// files as a whole are not byte-identical to llama-quantize's. A matrix
// whose rows are not whole 32-element blocks falls back to F16, as
// llama.cpp's converter does.
//
// Generation streams: memory is a few rows whatever the model size, so a
// 27 GB llama-2-7b F32 file is written in a few MB. The package never
// touches the terminal; callers get progress through a callback.
package synth
