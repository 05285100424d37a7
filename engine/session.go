package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgeprof/edgeprof/engine/gguf"
	"github.com/edgeprof/edgeprof/engine/quant"
	"github.com/edgeprof/edgeprof/trace"
)

// Options configure a Session.
type Options struct {
	// Threads is the number of worker threads (llama.cpp's -t). Matrix
	// rows and attention heads are split among them. Default 1.
	Threads int
	// Ctx is the KV-cache size in tokens. Default: the model's training
	// context.
	Ctx int
	// Batch is the most tokens one forward pass evaluates together
	// (llama.cpp's ubatch, default 512): a batch reads each weight once
	// for all its tokens. Decoding evaluates one token at a time.
	Batch int
	// Sink receives the forward pass's memory accesses (nil: nothing is
	// emitted, at no cost). See docs/engine-trace.md.
	Sink trace.Sink
	// TraceChunk is the largest run of one thread's consecutive weight
	// rows reported as a single event, in bytes (a row is never split).
	// 0 selects 4096, so threads' reads interleave at page granularity as
	// they do when the threads really run at once; a negative value
	// reports every row as its own event.
	TraceChunk int
	// KVF32 keeps the KV cache in float32 instead of llama.cpp's default
	// f16 (llama.cpp's --cache-type-k/v f32); queries and attention
	// probabilities are then not rounded to f16 either.
	KVF32 bool
	// FloatWeights computes every matrix product with the weights
	// dequantized to float32 and float32 activations (the "float path":
	// what llama.cpp computes on a file whose tensors were dequantized to
	// F32). The default quantizes activations as ggml does (the fast
	// path, llama.cpp's own numerics).
	FloatWeights bool
}

// maxTraceThreads bounds Options.Threads: trace events carry the thread in
// a byte.
const maxTraceThreads = 255

// DefaultBatch is llama.cpp's default ubatch size.
const DefaultBatch = 512

// ErrContextFull is returned when a session's KV cache has no room left.
var ErrContextFull = errors.New("engine: context full")

// Session is one sequence being evaluated: KV cache, position and scratch
// buffers. It is not safe for concurrent use; use one Session per
// goroutine.
type Session struct {
	m    *Model
	opt  Options
	pool *pool
	pos  int

	// Trace bookkeeping: the run-wide token counter and current phase.
	traceToken uint32
	phase      trace.Phase
	chunk      int

	// KV cache in f16 as llama.cpp keeps it (or float32 with KVF32),
	// laid out [layer][kv head][cell][head dim] so that one head's keys
	// (and values) for all cells are contiguous.
	kc, vc     []uint16
	kc32, vc32 []float32
	kvCells    int

	// Per-token activations of the current batch: x[i] belongs to the
	// batch's i-th token.
	x, xb, xb2 [][]float32
	q, k, v    [][]float32
	att        [][]float32
	hb, hb2    [][]float32
	logits     [][]float32
	cos, sin   [][]float32
	acts       []quant.Act
	actPtrs    []*quant.Act

	headScratch [][]float32 // per thread: attention scores
	rowScratch  [][]float32 // per thread: a dequantized row (FloatWeights)
	q16         [][]uint16  // per thread: f16 query
	p16         [][]uint16  // per thread: f16 probabilities

	mm          matTask
	events      []trace.Event // queued for the sink (see emit)
	siluScratch [64]float32
	// rowNext and rowEnd are emitRows' per-thread cursors.
	rowNext, rowEnd []int
	attn            attnTask

	// actAddr are the trace addresses of the activation buffers (see
	// activationSlot), packed page-aligned in the activation region as a
	// process's heap would hold them; slot s of batch token i is at
	// actAddr[s] + i·actStride[s].
	actAddr   [numActivationSlots]uint64
	actStride [numActivationSlots]uint64
}

// activationSlot names the engine's activation buffers in traces.
type activationSlot int

const (
	slotResidual activationSlot = iota // x: the residual stream
	slotNormed                         // xb: RMSNorm output
	slotQ
	slotK
	slotV
	slotAttn   // concatenated attention heads
	slotProj   // xb2: attention/FFN output before the residual add
	slotGate   // hb: gate, then silu(gate)·up
	slotUp     // hb2
	slotLogits // logits
	slotMatIn  // the matrix product's input, converted for the weight type
	numActivationSlots
)

func matrix(rows, cols int) [][]float32 {
	back := make([]float32, rows*cols)
	m := make([][]float32, rows)
	for i := range m {
		m[i] = back[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return m
}

// NewSession prepares a session on m.
func (m *Model) NewSession(opt Options) (*Session, error) {
	c := &m.Cfg
	if opt.Threads <= 0 {
		opt.Threads = 1
	}
	if opt.Threads > maxTraceThreads {
		return nil, fmt.Errorf("engine: %d threads (max %d)", opt.Threads, maxTraceThreads)
	}
	if opt.Ctx <= 0 {
		opt.Ctx = c.CtxTrain
	}
	if opt.Ctx <= 0 || opt.Ctx > 1<<20 {
		return nil, fmt.Errorf("engine: context size %d out of range (1..%d)", opt.Ctx, 1<<20)
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	opt.Batch = min(opt.Batch, opt.Ctx)
	chunk := opt.TraceChunk
	if chunk == 0 {
		chunk = 4096
	}
	s := &Session{m: m, opt: opt, chunk: chunk, pool: newPool(opt.Threads)}
	if opt.Sink != nil {
		s.events = make([]trace.Event, 0, eventQueue)
		s.rowNext = make([]int, opt.Threads)
		s.rowEnd = make([]int, opt.Threads)
	}
	s.kvCells = c.Layers * c.KVHeads * opt.Ctx * c.HeadDim
	if opt.KVF32 {
		s.kc32 = make([]float32, s.kvCells)
		s.vc32 = make([]float32, s.kvCells)
	} else {
		s.kc = make([]uint16, s.kvCells)
		s.vc = make([]uint16, s.kvCells)
	}
	// Buffers grow with the largest batch actually used, so a decoding
	// session pays for one token only.
	s.grow(1)
	for t := 0; t < opt.Threads; t++ {
		s.headScratch = append(s.headScratch, make([]float32, opt.Ctx))
		s.q16 = append(s.q16, make([]uint16, c.HeadDim))
		s.p16 = append(s.p16, make([]uint16, opt.Ctx))
		if opt.FloatWeights {
			s.rowScratch = append(s.rowScratch, make([]float32, max(c.Embd, c.QDim(), c.FF)))
		}
	}
	s.mm.s = s
	s.attn.s = s
	sizes := [numActivationSlots]int{
		slotResidual: c.Embd, slotNormed: max(c.Embd, c.QDim()), slotQ: c.QDim(), slotK: c.KVDim(), slotV: c.KVDim(),
		slotAttn: c.QDim(), slotProj: c.Embd, slotGate: c.FF, slotUp: c.FF, slotLogits: c.Vocab,
		slotMatIn: max(c.Embd, c.QDim(), c.FF),
	}
	addr := trace.RegionActivation
	for i, n := range sizes {
		s.actAddr[i] = addr
		s.actStride[i] = uint64(4 * n)
		addr += (uint64(4*n*opt.Batch) + 4095) &^ 4095
	}
	return s, nil
}

// grow sizes the per-token buffers for batches of n tokens.
func (s *Session) grow(n int) {
	if len(s.x) >= n {
		return
	}
	c := &s.m.Cfg
	s.x = matrix(n, c.Embd)
	s.xb = matrix(n, max(c.Embd, c.QDim()))
	s.xb2 = matrix(n, c.Embd)
	s.q = matrix(n, c.QDim())
	s.k = matrix(n, c.KVDim())
	s.v = matrix(n, c.KVDim())
	s.att = matrix(n, c.QDim())
	s.hb = matrix(n, c.FF)
	s.hb2 = matrix(n, c.FF)
	s.logits = matrix(n, c.Vocab)
	s.cos = matrix(n, c.Rot/2)
	s.sin = matrix(n, c.Rot/2)
	s.acts = make([]quant.Act, n)
	s.actPtrs = make([]*quant.Act, n)
	for i := range s.acts {
		s.actPtrs[i] = &s.acts[i]
	}
}

// Close stops the session's worker threads.
func (s *Session) Close() { s.pool.close() }

// Pos is the number of tokens in the KV cache.
func (s *Session) Pos() int { return s.pos }

// Reset empties the KV cache (the trace token counter keeps counting).
func (s *Session) Reset() { s.pos = 0 }

// SetPhase tags subsequent trace events as prompt or decode.
func (s *Session) SetPhase(p trace.Phase) { s.phase = p }

// Eval runs the model on one token at the next position and returns the
// logits of that position. The slice is reused by the next call.
func (s *Session) Eval(tok int32) ([]float32, error) {
	out, err := s.EvalBatch([]int32{tok}, 0)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// EvalNoLogits runs one token without computing logits (prompt tokens
// whose predictions nobody reads, as llama.cpp skips them).
func (s *Session) EvalNoLogits(tok int32) error {
	_, err := s.EvalBatch([]int32{tok}, 1)
	return err
}

// EvalBatch evaluates toks at the next len(toks) positions, in forward
// passes of at most Options.Batch tokens, and returns the logits of the
// positions i >= logitsFrom (out[i-logitsFrom]); logitsFrom = len(toks)
// computes none. A batch reads each weight once for all its tokens. A
// pass of two or more tokens computes what llama.cpp computes for such a
// batch (its batched kernels sum in other orders than the single-token
// ones, so results differ from token-by-token evaluation in the last
// bits); a pass of one token is exactly Eval. The returned slices are
// reused by the next call.
func (s *Session) EvalBatch(toks []int32, logitsFrom int) ([][]float32, error) {
	c := &s.m.Cfg
	for _, t := range toks {
		if t < 0 || int(t) >= c.Vocab {
			return nil, fmt.Errorf("engine: token id %d out of range [0, %d)", t, c.Vocab)
		}
	}
	if s.pos+len(toks) > s.opt.Ctx {
		return nil, fmt.Errorf("%w: %d tokens + %d new exceed %d", ErrContextFull, s.pos, len(toks), s.opt.Ctx)
	}
	logitsFrom = min(max(0, logitsFrom), len(toks))
	nLogits := len(toks) - logitsFrom
	var out [][]float32
	if nLogits > 0 && len(toks) > s.opt.Batch {
		// Logits of several passes must all survive: copy them out.
		out = matrix(nLogits, c.Vocab)
	}
	for start := 0; start < len(toks); start += s.opt.Batch {
		end := min(start+s.opt.Batch, len(toks))
		from := min(max(logitsFrom-start, 0), end-start)
		s.forward(toks[start:end], from)
		if from == end-start {
			continue
		}
		if len(toks) <= s.opt.Batch {
			out = s.logits[:end-start-from]
			continue
		}
		for j := 0; j < end-start-from; j++ {
			copy(out[start+from+j-logitsFrom], s.logits[j])
		}
	}
	return out, nil
}

// forward evaluates one batch; logits of tokens i >= from go to
// s.logits[i-from].
func (s *Session) forward(toks []int32, from int) {
	m := s.m
	c := &m.Cfg
	n := len(toks)
	s.grow(n)
	sink := s.opt.Sink
	batchToken := s.traceToken
	s.mm.outputs = n - from

	for i, tok := range toks {
		// Embedding lookup: ggml_get_rows dequantizes one row. The row
		// is whole blocks by construction, so this cannot fail.
		_ = quant.Dequantize(m.embd.Type, m.embd.Row(int(tok)), s.x[i])
		ropeTable(s.cos[i], s.sin[i], s.pos+i, c.RopeBase, c.RopeScale, c.AttnScale, c.Rot, m.ropeFreqs)
		if sink != nil {
			s.emit(trace.Event{Addr: m.embd.offset + uint64(tok)*uint64(m.embd.RowBytes), Size: uint32(m.embd.RowBytes),
				Tensor: m.embd.id, Layer: trace.NoLayer, Op: trace.OpEmbed, Token: batchToken + uint32(i)})
		}
	}

	for li := range m.layers {
		l := &m.layers[li]
		L := int16(li)
		s.norm(s.xb[:n], s.x[:n], c.Embd, l.attnNorm, l.attnNormID, L, trace.OpAttnNorm, batchToken)
		s.matMul(&l.q, s.xb[:n], c.Embd, s.q[:n], l.qb, L, trace.OpAttnQ, slotQ, batchToken)
		s.matMul(&l.k, s.xb[:n], c.Embd, s.k[:n], l.kb, L, trace.OpAttnK, slotK, batchToken)
		s.matMul(&l.v, s.xb[:n], c.Embd, s.v[:n], l.vb, L, trace.OpAttnV, slotV, batchToken)
		for i := 0; i < n; i++ {
			ropeNorm(s.q[i], c.Heads, c.HeadDim, s.cos[i], s.sin[i])
			ropeNorm(s.k[i], c.KVHeads, c.HeadDim, s.cos[i], s.sin[i])
			s.storeKV(li, s.pos+i, s.k[i], s.v[i])
		}
		s.attn.layer, s.attn.pos, s.attn.n = li, s.pos, n
		s.pool.run(&s.attn)
		if sink != nil {
			for i := 0; i < n; i++ {
				s.emitKV(li, s.pos+i, batchToken+uint32(i))
			}
		}
		s.matMul(&l.o, s.att[:n], c.QDim(), s.xb2[:n], l.ob, L, trace.OpAttnOut, slotProj, batchToken)
		for i := 0; i < n; i++ {
			addInto(s.x[i], s.xb2[i])
		}
		s.norm(s.xb[:n], s.x[:n], c.Embd, l.ffnNorm, l.ffnNID, L, trace.OpFFNNorm, batchToken)
		s.matMul(&l.gate, s.xb[:n], c.Embd, s.hb[:n], l.gateb, L, trace.OpFFNGate, slotGate, batchToken)
		s.matMul(&l.up, s.xb[:n], c.Embd, s.hb2[:n], l.upb, L, trace.OpFFNUp, slotUp, batchToken)
		for i := 0; i < n; i++ {
			siluMul(s.hb[i], s.hb[i], s.hb2[i], &s.siluScratch)
		}
		s.matMul(&l.down, s.hb[:n], c.FF, s.xb2[:n], l.downb, L, trace.OpFFNDown, slotProj, batchToken)
		for i := 0; i < n; i++ {
			addInto(s.x[i], s.xb2[i])
		}
	}
	if from < n {
		s.norm(s.xb[from:n], s.x[from:n], c.Embd, m.outNorm, m.outNormID, trace.NoLayer, trace.OpOutNorm, batchToken+uint32(from))
		s.matMul(&m.output, s.xb[from:n], c.Embd, s.logits[:n-from], nil, trace.NoLayer, trace.OpLMHead, slotLogits, batchToken+uint32(from))
	}
	s.pos += n
	s.traceToken += uint32(n)
	if sink != nil {
		s.flushEvents()
	}
}

func addInto(x, y []float32) {
	for i := range x {
		x[i] += y[i]
	}
}

// emit queues an event; flushEvents hands the queue to the sink. Queuing
// keeps the per-event cost to a store (the sink is called in bulk, through
// trace.BatchSink when it has it), and the queue is flushed before every
// forward pass returns, so a caller sees all of a token's events after
// Eval.
func (s *Session) emit(e trace.Event) {
	e.Phase = s.phase
	s.events = append(s.events, e)
	if len(s.events) == cap(s.events) {
		s.flushEvents()
	}
}

// eventQueue is the number of events queued before the sink is called
// (8 KiB of events: stays in L1 between the engine and the sink).
const eventQueue = 256

func (s *Session) flushEvents() {
	if len(s.events) == 0 {
		return
	}
	if b, ok := s.opt.Sink.(trace.BatchSink); ok {
		b.EmitBatch(s.events)
	} else {
		for i := range s.events {
			s.opt.Sink.Emit(s.events[i])
		}
	}
	s.events = s.events[:0]
}

// norm applies RMSNorm to each token's first width elements; the weight
// vector is read once per batch.
func (s *Session) norm(dst, x [][]float32, width int, w []float32, id uint16, layer int16, op trace.Op, tok uint32) {
	for i := range x {
		rmsNorm(dst[i][:width], x[i][:width], w, s.m.Cfg.RMSEps)
	}
	if s.opt.Sink != nil {
		t := &s.m.File.Tensors[id]
		s.emit(trace.Event{Addr: t.FileOffset, Size: uint32(t.Size), Tensor: id, Layer: layer, Op: op, Token: tok})
	}
}

// storeKV writes one position's rotated K and V into the cache, rounded
// to binary16 (ggml_cpy to the F16 cache, round to nearest even) unless
// the cache is float32.
func (s *Session) storeKV(layer, pos int, k, v []float32) {
	c := &s.m.Cfg
	hd := c.HeadDim
	for h := 0; h < c.KVHeads; h++ {
		base := s.kvIndex(layer, h, pos)
		if s.opt.KVF32 {
			copy(s.kc32[base:base+hd], k[h*hd:])
			copy(s.vc32[base:base+hd], v[h*hd:])
			continue
		}
		quant.F32ToF16Row(s.kc[base:base+hd], k[h*hd:(h+1)*hd])
		quant.F32ToF16Row(s.vc[base:base+hd], v[h*hd:(h+1)*hd])
	}
}

func (s *Session) kvIndex(layer, head, cell int) int {
	c := &s.m.Cfg
	return ((layer*c.KVHeads+head)*s.opt.Ctx + cell) * c.HeadDim
}

// matTask computes out[i] = W·in[i] for the batch over each thread's
// share of rows.
type matTask struct {
	s       *Session
	w       *weight
	in, out [][]float32
	// outputs is the number of tokens of the current forward pass whose
	// logits are requested. llama.cpp runs the last layer's FFN (after
	// the attention) only on those tokens, so with a single one it takes
	// the one-column (vec_dot) path there even in a batch.
	outputs int
}

func (t *matTask) do(thread int) {
	lo, hi := split(t.w.Rows, t.s.opt.Threads, thread)
	n := len(t.out)
	if !t.s.opt.FloatWeights {
		if n == 1 || t.outputs == 1 && t.lastFFN() {
			for i := 0; i < n; i++ {
				quant.MatVec(t.w.Matrix, t.s.actPtrs[i], t.out[i], lo, hi)
			}
		} else {
			quant.MatMul(t.w.Matrix, t.s.actPtrs[:n], t.out, lo, hi)
		}
		return
	}
	// The float path is llama.cpp on the file with every tensor
	// dequantized to F32: tinyBLAS where it applies to such a matrix,
	// ggml_vec_dot_f32 otherwise.
	tiny := n >= 2 && !(t.outputs == 1 && t.lastFFN()) && t.w.Cols%8 == 0 && t.w.Rows%4 == 0
	row := t.s.rowScratch[thread][:t.w.Cols]
	for r := lo; r < hi; r++ {
		// Cannot fail: the matrix was validated when the model loaded.
		_ = quant.Dequantize(t.w.Type, t.w.Row(r), row)
		for i := range t.out {
			if tiny {
				t.out[i][r] = quant.DotF32Tiny(row, t.in[i][:t.w.Cols])
			} else {
				t.out[i][r] = quant.DotF32(row, t.in[i][:t.w.Cols])
			}
		}
	}
}

// lastFFN reports whether the product is one of the last layer's FFN
// matrices.
func (t *matTask) lastFFN() bool {
	layers := t.s.m.layers
	if len(layers) == 0 {
		return false
	}
	l := &layers[len(layers)-1]
	return t.w == &l.gate || t.w == &l.up || t.w == &l.down
}

// matMul computes out[i] = W·in[i][:cols] (+ bias) for every token of the
// batch; the weights are read once for the whole batch.
func (s *Session) matMul(w *weight, in [][]float32, cols int, out [][]float32, bias []float32, layer int16, op trace.Op, outSlot activationSlot, tok uint32) {
	n := len(in)
	if !s.opt.FloatWeights {
		for i := 0; i < n; i++ {
			s.acts[i].Set(w.Type, in[i][:cols])
		}
	}
	if s.opt.Sink != nil {
		s.emitMatMul(w, n, layer, op, outSlot, tok)
	}
	s.mm.w, s.mm.in, s.mm.out = w, in, out
	s.pool.run(&s.mm)
	if bias != nil {
		for i := 0; i < n; i++ {
			addInto(out[i][:len(bias)], bias)
		}
	}
}

// emitMatMul reports the accesses of one matrix product over a batch of n
// tokens: each thread reads the converted input activations, then its
// contiguous share of weight rows once for the batch (consecutive rows
// merged up to the chunk size, the threads' chunks interleaved as their
// reads are when the threads run at once), then writes its share of each
// output.
func (s *Session) emitMatMul(w *weight, n int, layer int16, op trace.Op, outSlot activationSlot, tok uint32) {
	threads := s.opt.Threads
	inType := gguf.F32
	if !s.opt.FloatWeights {
		inType, _ = quant.VecDotType(w.Type)
	}
	inBytes := uint32(inType.RowSize(uint64(w.Cols)))
	for t := 0; t < threads; t++ {
		for i := 0; i < n; i++ {
			s.emit(trace.Event{Addr: s.actAddr[slotMatIn] + uint64(i)*s.actStride[slotMatIn], Size: inBytes, Token: tok + uint32(i),
				Tensor: trace.NoTensor, Layer: layer, Op: trace.OpActivation, Thread: uint8(t)})
		}
	}
	s.emitRows(w, layer, op, tok)
	for t := 0; t < threads; t++ {
		lo, hi := split(w.Rows, threads, t)
		if hi == lo {
			continue
		}
		for i := 0; i < n; i++ {
			s.emit(trace.Event{Addr: s.actAddr[outSlot] + uint64(i)*s.actStride[outSlot] + 4*uint64(lo), Size: uint32(4 * (hi - lo)),
				Token: tok + uint32(i), Tensor: trace.NoTensor, Layer: layer, Op: trace.OpActivation, Kind: trace.Write, Thread: uint8(t)})
		}
	}
}

// emitRows reports the weight-row reads of one matrix product.
func (s *Session) emitRows(w *weight, layer int16, op trace.Op, tok uint32) {
	threads := s.opt.Threads
	rowsPer := 1
	if s.chunk > 0 && s.chunk > w.RowBytes {
		rowsPer = s.chunk / w.RowBytes
	}
	e := trace.Event{Token: tok, Tensor: w.id, Layer: layer, Op: op}
	rowBytes := uint64(w.RowBytes)
	if op == trace.OpFFNDown {
		// In the native layout every row of ffn_down holds one element of
		// each neuron.
		e.NeuronLo, e.NeuronHi = 0, uint32(w.Cols)
	}
	neurons := op == trace.OpFFNGate || op == trace.OpFFNUp
	// next[t] is thread t's next unreported row; its share ends at
	// split's bound.
	next, end := s.rowNext, s.rowEnd
	for t := 0; t < threads; t++ {
		next[t], end[t] = split(w.Rows, threads, t)
	}
	for left := true; left; {
		left = false
		for t := 0; t < threads; t++ {
			a := next[t]
			if a >= end[t] {
				continue
			}
			b := min(a+rowsPer, end[t])
			next[t] = b
			left = left || b < end[t]
			e.Addr = w.offset + uint64(a)*rowBytes
			e.Size = uint32(uint64(b-a) * rowBytes)
			e.Thread = uint8(t)
			if neurons {
				e.NeuronLo, e.NeuronHi = uint32(a), uint32(b)
			}
			s.emit(e)
		}
	}
}

// emitKV reports one position's KV-cache write and its attention's reads
// of all cached keys and values up to it, per KV head, by the thread that
// owns the head.
func (s *Session) emitKV(layer, pos int, tok uint32) {
	c := &s.m.Cfg
	threads := s.opt.Threads
	elem := uint64(2)
	if s.opt.KVF32 {
		elem = 4
	}
	vBase := trace.RegionKV + uint64(s.kvCells)*elem
	slice := uint64(c.HeadDim) * elem
	L := int16(layer)
	for h := 0; h < c.KVHeads; h++ {
		t := uint8(kvHeadThread(h, c.KVHeads, threads))
		cell0 := uint64(s.kvIndex(layer, h, 0)) * elem
		cur := uint64(s.kvIndex(layer, h, pos)) * elem
		n := uint32(uint64(pos+1) * slice)
		for _, e := range [...]trace.Event{
			{Addr: trace.RegionKV + cur, Size: uint32(slice), Op: trace.OpKVWrite, Kind: trace.Write},
			{Addr: vBase + cur, Size: uint32(slice), Op: trace.OpKVWrite, Kind: trace.Write},
			{Addr: trace.RegionKV + cell0, Size: n, Op: trace.OpKVRead},
			{Addr: vBase + cell0, Size: n, Op: trace.OpKVRead},
		} {
			e.Token, e.Tensor, e.Layer, e.Thread = tok, trace.NoTensor, L, t
			s.emit(e)
		}
	}
}

// kvHeadThread is the thread that processes KV head h (and the query heads
// that share it).
func kvHeadThread(h, kvHeads, threads int) int {
	for t := 0; t < threads; t++ {
		if _, hi := split(kvHeads, threads, t); h < hi {
			return t
		}
	}
	return threads - 1
}

// attnTask runs grouped-query attention for the batch's n tokens (at
// positions pos..pos+n-1, each seeing the cells up to its own position)
// over each thread's share of KV heads.
//
// The numerics are those of llama.cpp's non-flash attention on its AVX2
// build: KQ per cell as ggml_vec_dot (F32 cache; F16 cache for a single
// token) or llamafile tinyBLAS (F16 cache, batches, head size a multiple
// of 8), softmax over the cells padded to whole 8-lane vectors (masked
// cells contribute exact zeros, so the padding to llama.cpp's n_kv
// changes nothing), and KQ·V per output element in vec_dot's 4×8 lanes
// (single token) or tinyBLAS's 8 lanes (batches, head size a multiple of
// 4), cell j in lane j%lanes. With the F16 cache the query and the
// probabilities are rounded to binary16 first, as ggml converts them to
// the cache's vec_dot type.
type attnTask struct {
	s      *Session
	layer  int
	pos, n int
	// acc holds each thread's P·V lanes (LanesVecDot·HeadDim floats),
	// made by the thread itself on first use (threads are at most 255).
	acc [256][]float32
}

func (t *attnTask) do(thread int) {
	s := t.s
	c := &s.m.Cfg
	lo, hi := split(c.KVHeads, s.opt.Threads, thread)
	group := c.Heads / c.KVHeads
	hd := c.HeadDim
	scale := float32(1) / float32(math.Sqrt(float64(float32(hd))))
	if t.acc[thread] == nil {
		t.acc[thread] = make([]float32, quant.LanesVecDot*hd)
	}
	batch := t.n >= 2
	tinyKQ := batch && hd%8 == 0
	lanes := quant.LanesVecDot
	if batch && hd%4 == 0 {
		lanes = quant.LanesTiny
	}
	acc := t.acc[thread][:lanes*hd]
	q16 := s.q16[thread]
	for i := 0; i < t.n; i++ {
		cells := t.pos + i + 1
		scores := s.headScratch[thread][:cells]
		for g := lo; g < hi; g++ {
			kbase := s.kvIndex(t.layer, g, 0)
			kend := kbase + cells*hd
			for h := g * group; h < (g+1)*group; h++ {
				qh := s.q[i][h*hd : (h+1)*hd]
				out := s.att[i][h*hd : (h+1)*hd]
				clear(acc)
				if s.opt.KVF32 {
					quant.ScoresF32(scores, qh, s.kc32[kbase:kend], scale)
					quant.SoftMax(scores)
					quant.AccumulateF32(acc, lanes, s.vc32[kbase:kend], scores, hd)
				} else {
					quant.F32ToF16Row(q16, qh)
					quant.ScoresF16(scores, q16, s.kc[kbase:kend], scale, tinyKQ)
					quant.SoftMax(scores)
					p16 := s.p16[thread][:cells]
					quant.F32ToF16Row(p16, scores)
					quant.F16ToF32Row(scores, p16)
					quant.AccumulateF16(acc, lanes, s.vc[kbase:kend], scores, hd)
				}
				quant.ReduceLanes(out, acc, lanes)
			}
		}
	}
}
