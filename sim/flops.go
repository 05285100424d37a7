package sim

import (
	"strconv"

	"github.com/edgeprof/edgeprof/trace"
)

// ggmlBlock is the storage unit of a ggml tensor type: elements per block
// and bytes per block (../shared/facts/gguf-and-quants.md). It is all the
// compute model needs to turn weight bytes into elements; sim does not
// import the engine.
type ggmlBlock struct{ elems, bytes int }

var ggmlBlocks = map[string]ggmlBlock{
	"F32": {1, 4}, "F16": {1, 2}, "BF16": {1, 2}, "F64": {1, 8},
	"I8": {1, 1}, "I16": {1, 2}, "I32": {1, 4},
	"Q4_0": {32, 18}, "Q4_1": {32, 20}, "Q5_0": {32, 22}, "Q5_1": {32, 24},
	"Q8_0": {32, 34}, "Q8_1": {32, 36},
	"Q2_K": {256, 84}, "Q3_K": {256, 110}, "Q4_K": {256, 144}, "Q5_K": {256, 176},
	"Q6_K": {256, 210}, "Q8_K": {256, 292},
}

// flopModel counts the floating-point operations an engine trace's
// events imply, from the header's tensor table and hyper-parameters
// (docs/timing-model.md 4.2):
//
//   - a matrix-product weight event (attn_q/k/v/out, ffn_gate/up/down,
//     lm_head, predictor): 2 FLOPs per weight element per token that
//     shares the read; a batched prompt reads each row once for the
//     batch, and the batch size is the number of activation-read events
//     the thread made for the product before its rows;
//   - a norm weight vector: 4 FLOPs per element (square, sum, scale,
//     multiply) once per read;
//   - a kv_read event: 2 FLOPs per K (or V) element per query head of
//     the KV head's group (QK^T and the weighted sum of V);
//   - embedding rows, KV writes, activation traffic and foreign (din)
//     events: none (element-wise work is ignored).
type flopModel struct {
	// perByte[t] is FLOPs per byte of tensor t read by a matrix product
	// for one token (2 x elements per byte); 0 when unknown.
	perByte []float64
	// kvPerByte is FLOPs per byte of a kv_read event.
	kvPerByte float64
	unknown   []string // tensor types missing from ggmlBlocks
}

func newFlopModel(h *trace.Header) *flopModel {
	m := &flopModel{}
	if h == nil {
		return m
	}
	seen := map[string]bool{}
	for _, t := range h.Tensors {
		b, ok := ggmlBlocks[t.Type]
		if !ok {
			if !seen[t.Type] {
				seen[t.Type] = true
				m.unknown = append(m.unknown, t.Type)
			}
			m.perByte = append(m.perByte, 0)
			continue
		}
		m.perByte = append(m.perByte, 2*float64(b.elems)/float64(b.bytes))
	}
	atoi := func(k string) int {
		v, err := strconv.Atoi(h.Settings[k])
		if err != nil {
			return 0
		}
		return v
	}
	elem := 2.0 // f16 KV cache, llama.cpp's default
	if h.Settings["kv_type"] == "f32" {
		elem = 4
	}
	group := 1
	if hd, kv := atoi("n_head"), atoi("n_head_kv"); hd > 0 && kv > 0 {
		group = hd / kv
	}
	m.kvPerByte = 2 * float64(group) / elem
	return m
}

// isMatMul reports whether op multiplies its weights by activations.
func isMatMul(op trace.Op) bool {
	switch op {
	case trace.OpAttnQ, trace.OpAttnK, trace.OpAttnV, trace.OpAttnOut,
		trace.OpFFNGate, trace.OpFFNUp, trace.OpFFNDown, trace.OpLMHead, trace.OpPredictor:
		return true
	}
	return false
}

// flops returns the FLOPs of one event; batch is the number of tokens
// sharing a matrix product's weight read.
//
// Each product is rounded (float64()) because the caller adds it to
// running sums: arm64 would otherwise fuse the last multiply and the add
// into one FMA and the totals would differ from amd64's in the last bit.
func (m *flopModel) flops(e *trace.Event, batch int) float64 {
	switch {
	case e.Kind != trace.Read:
		return 0
	case e.Op == trace.OpKVRead:
		return float64(m.kvPerByte * float64(e.Size))
	case e.Tensor == trace.NoTensor || int(e.Tensor) >= len(m.perByte):
		return 0
	case isMatMul(e.Op):
		return float64(m.perByte[e.Tensor] * float64(e.Size) * float64(max(1, batch)))
	case e.Op == trace.OpAttnNorm || e.Op == trace.OpFFNNorm || e.Op == trace.OpOutNorm:
		return float64(2 * m.perByte[e.Tensor] * float64(e.Size))
	}
	return 0
}
