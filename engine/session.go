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
	// Sink receives one event per weight read (nil: discard, at no cost).
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

	x, xb, xb2  []float32
	q, k, v     []float32
	att         []float32
	hb, hb2     []float32
	logits      []float32
	cos, sin    []float32
	act         quant.Act
	headScratch [][]float32 // per thread: attention scores
	rowScratch  [][]float32 // per thread: a dequantized row (FloatWeights)
	q16         [][]uint16  // per thread: f16 query
	p16         [][]uint16  // per thread: f16 probabilities

	mv   matVecTask
	attn attnTask

	// actAddr are the trace addresses of the activation buffers (see
	// activationSlot), packed page-aligned in the activation region as a
	// process's heap would hold them.
	actAddr [numActivationSlots]uint64
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

// NewSession prepares a session on m.
func (m *Model) NewSession(opt Options) (*Session, error) {
	c := &m.Cfg
	if opt.Threads <= 0 {
		opt.Threads = 1
	}
	if opt.Threads > 255 {
		return nil, fmt.Errorf("engine: %d threads (max 255)", opt.Threads)
	}
	if opt.Ctx <= 0 {
		opt.Ctx = c.CtxTrain
	}
	if opt.Ctx <= 0 || opt.Ctx > 1<<20 {
		return nil, fmt.Errorf("engine: context size %d out of range (1..%d)", opt.Ctx, 1<<20)
	}
	chunk := opt.TraceChunk
	if chunk == 0 {
		chunk = 4096
	}
	s := &Session{m: m, opt: opt, chunk: chunk, pool: newPool(opt.Threads)}
	s.kvCells = c.Layers * c.KVHeads * opt.Ctx * c.HeadDim
	if opt.KVF32 {
		s.kc32 = make([]float32, s.kvCells)
		s.vc32 = make([]float32, s.kvCells)
	} else {
		s.kc = make([]uint16, s.kvCells)
		s.vc = make([]uint16, s.kvCells)
	}
	s.x = make([]float32, c.Embd)
	s.xb = make([]float32, max(c.Embd, c.QDim()))
	s.xb2 = make([]float32, c.Embd)
	s.q = make([]float32, c.QDim())
	s.k = make([]float32, c.KVDim())
	s.v = make([]float32, c.KVDim())
	s.att = make([]float32, c.QDim())
	s.hb = make([]float32, c.FF)
	s.hb2 = make([]float32, c.FF)
	s.logits = make([]float32, c.Vocab)
	s.cos = make([]float32, c.Rot/2)
	s.sin = make([]float32, c.Rot/2)
	for t := 0; t < opt.Threads; t++ {
		s.headScratch = append(s.headScratch, make([]float32, opt.Ctx))
		s.q16 = append(s.q16, make([]uint16, c.HeadDim))
		s.p16 = append(s.p16, make([]uint16, opt.Ctx))
		if opt.FloatWeights {
			s.rowScratch = append(s.rowScratch, make([]float32, max(c.Embd, c.QDim(), c.FF)))
		}
	}
	s.mv.s = s
	s.attn.s = s
	sizes := [numActivationSlots]int{
		slotResidual: c.Embd, slotNormed: max(c.Embd, c.QDim()), slotQ: c.QDim(), slotK: c.KVDim(), slotV: c.KVDim(),
		slotAttn: c.QDim(), slotProj: c.Embd, slotGate: c.FF, slotUp: c.FF, slotLogits: c.Vocab,
		slotMatIn: max(c.Embd, c.QDim(), c.FF),
	}
	addr := trace.RegionActivation
	for i, n := range sizes {
		s.actAddr[i] = addr
		addr += (uint64(4*n) + 4095) &^ 4095
	}
	return s, nil
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
	if err := s.forward(tok, true); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// EvalNoLogits runs one token without computing logits (prompt tokens
// whose predictions nobody reads, as llama.cpp skips them).
func (s *Session) EvalNoLogits(tok int32) error { return s.forward(tok, false) }

func (s *Session) forward(tok int32, wantLogits bool) error {
	m := s.m
	c := &m.Cfg
	if tok < 0 || int(tok) >= c.Vocab {
		return fmt.Errorf("engine: token id %d out of range [0, %d)", tok, c.Vocab)
	}
	if s.pos >= s.opt.Ctx {
		return fmt.Errorf("%w: %d tokens", ErrContextFull, s.opt.Ctx)
	}
	sink := s.opt.Sink
	pos := s.pos

	// Embedding lookup (ggml_get_rows dequantizes one row).
	erow := m.embd.Row(int(tok))
	if err := quant.Dequantize(m.embd.Type, erow, s.x); err != nil {
		return err
	}
	if sink != nil {
		s.emit(trace.Event{Addr: m.embd.offset + uint64(tok)*uint64(m.embd.RowBytes), Size: uint32(m.embd.RowBytes),
			Tensor: m.embd.id, Layer: trace.NoLayer, Op: trace.OpEmbed})
	}
	ropeTable(s.cos, s.sin, pos, c.RopeBase, c.RopeScale, c.AttnScale, c.Rot, m.ropeFreqs)

	for li := range m.layers {
		l := &m.layers[li]
		L := int16(li)
		s.norm(s.xb[:c.Embd], s.x, l.attnNorm, l.attnNormID, L, trace.OpAttnNorm)
		s.matVec(&l.q, s.xb[:c.Embd], s.q, l.qb, L, trace.OpAttnQ, slotQ)
		s.matVec(&l.k, s.xb[:c.Embd], s.k, l.kb, L, trace.OpAttnK, slotK)
		s.matVec(&l.v, s.xb[:c.Embd], s.v, l.vb, L, trace.OpAttnV, slotV)
		ropeNorm(s.q, c.Heads, c.HeadDim, s.cos, s.sin)
		ropeNorm(s.k, c.KVHeads, c.HeadDim, s.cos, s.sin)
		s.storeKV(li, pos)
		s.attn.layer = li
		s.attn.pos = pos
		s.pool.run(&s.attn)
		if sink != nil {
			s.emitKV(li, pos)
		}
		s.matVec(&l.o, s.att, s.xb2, l.ob, L, trace.OpAttnOut, slotProj)
		for i := range s.x {
			s.x[i] += s.xb2[i]
		}
		s.norm(s.xb[:c.Embd], s.x, l.ffnNorm, l.ffnNID, L, trace.OpFFNNorm)
		s.matVec(&l.gate, s.xb[:c.Embd], s.hb, l.gateb, L, trace.OpFFNGate, slotGate)
		s.matVec(&l.up, s.xb[:c.Embd], s.hb2, l.upb, L, trace.OpFFNUp, slotUp)
		siluMul(s.hb, s.hb, s.hb2)
		s.matVec(&l.down, s.hb, s.xb2, l.downb, L, trace.OpFFNDown, slotProj)
		for i := range s.x {
			s.x[i] += s.xb2[i]
		}
	}
	if wantLogits {
		s.norm(s.xb[:c.Embd], s.x, m.outNorm, m.outNormID, trace.NoLayer, trace.OpOutNorm)
		s.matVec(&m.output, s.xb[:c.Embd], s.logits, nil, trace.NoLayer, trace.OpLMHead, slotLogits)
	}
	s.pos++
	s.traceToken++
	return nil
}

func (s *Session) emit(e trace.Event) {
	e.Token = s.traceToken
	e.Phase = s.phase
	s.opt.Sink.Emit(e)
}

func (s *Session) norm(dst, x, w []float32, id uint16, layer int16, op trace.Op) {
	rmsNorm(dst, x, w, s.m.Cfg.RMSEps)
	if s.opt.Sink != nil {
		t := &s.m.File.Tensors[id]
		s.emit(trace.Event{Addr: t.FileOffset, Size: uint32(t.Size), Tensor: id, Layer: layer, Op: op})
	}
}

// storeKV writes the rotated K and V of this position into the f16 cache.
func (s *Session) storeKV(layer, pos int) {
	c := &s.m.Cfg
	for h := 0; h < c.KVHeads; h++ {
		base := s.kvIndex(layer, h, pos)
		if s.opt.KVF32 {
			copy(s.kc32[base:base+c.HeadDim], s.k[h*c.HeadDim:])
			copy(s.vc32[base:base+c.HeadDim], s.v[h*c.HeadDim:])
			continue
		}
		for d := 0; d < c.HeadDim; d++ {
			s.kc[base+d] = quant.F32ToF16(s.k[h*c.HeadDim+d])
			s.vc[base+d] = quant.F32ToF16(s.v[h*c.HeadDim+d])
		}
	}
}

func (s *Session) kvIndex(layer, head, cell int) int {
	c := &s.m.Cfg
	return ((layer*c.KVHeads+head)*s.opt.Ctx + cell) * c.HeadDim
}

// matVecTask computes out = W·x (+ bias) over each thread's share of rows.
type matVecTask struct {
	s      *Session
	w      *weight
	x, out []float32
}

func (t *matVecTask) do(thread int) {
	lo, hi := split(t.w.Rows, t.s.opt.Threads, thread)
	if !t.s.opt.FloatWeights {
		quant.MatVec(t.w.Matrix, &t.s.act, t.out, lo, hi)
		return
	}
	row := t.s.rowScratch[thread][:t.w.Cols]
	for r := lo; r < hi; r++ {
		// Cannot fail: the matrix was validated when the model loaded.
		_ = quant.Dequantize(t.w.Type, t.w.Row(r), row)
		t.out[r] = dotF32(row, t.x)
	}
}

func (s *Session) matVec(w *weight, x, out, bias []float32, layer int16, op trace.Op, outSlot activationSlot) {
	if !s.opt.FloatWeights {
		s.act.Set(w.Type, x)
	}
	if s.opt.Sink != nil {
		s.emitMatVec(w, layer, op, outSlot)
	}
	s.mv.w, s.mv.x, s.mv.out = w, x, out
	s.pool.run(&s.mv)
	for i, b := range bias {
		out[i] += b
	}
}

// emitMatVec reports the accesses of one matrix-vector product: each
// thread reads the converted input activation, then its contiguous share
// of weight rows (consecutive rows merged up to the chunk size, the
// threads' chunks interleaved as their reads are when the threads run at
// once), then writes its share of the output.
func (s *Session) emitMatVec(w *weight, layer int16, op trace.Op, outSlot activationSlot) {
	threads := s.opt.Threads
	inType := gguf.F32
	if !s.opt.FloatWeights {
		inType, _ = quant.VecDotType(w.Type)
	}
	inBytes := uint32(inType.RowSize(uint64(w.Cols)))
	for t := 0; t < threads; t++ {
		s.emit(trace.Event{Addr: s.actAddr[slotMatIn], Size: inBytes, Tensor: trace.NoTensor, Layer: layer,
			Op: trace.OpActivation, Thread: uint8(t)})
	}
	s.emitRows(w, layer, op)
	for t := 0; t < threads; t++ {
		lo, hi := split(w.Rows, threads, t)
		if hi > lo {
			s.emit(trace.Event{Addr: s.actAddr[outSlot] + 4*uint64(lo), Size: uint32(4 * (hi - lo)), Tensor: trace.NoTensor,
				Layer: layer, Op: trace.OpActivation, Kind: trace.Write, Thread: uint8(t)})
		}
	}
}

// emitRows reports the weight-row reads of one matrix product.
func (s *Session) emitRows(w *weight, layer int16, op trace.Op) {
	threads := s.opt.Threads
	rowsPer := 1
	if s.chunk > 0 && s.chunk > w.RowBytes {
		rowsPer = s.chunk / w.RowBytes
	}
	ffnRowsAreNeurons := op == trace.OpFFNGate || op == trace.OpFFNUp
	for step := 0; ; step++ {
		any := false
		for t := 0; t < threads; t++ {
			lo, hi := split(w.Rows, threads, t)
			a := lo + step*rowsPer
			if a >= hi {
				continue
			}
			b := min(a+rowsPer, hi)
			any = true
			e := trace.Event{
				Addr: w.offset + uint64(a)*uint64(w.RowBytes), Size: uint32((b - a) * w.RowBytes),
				Tensor: w.id, Layer: layer, Op: op, Thread: uint8(t),
			}
			switch {
			case ffnRowsAreNeurons:
				e.NeuronLo, e.NeuronHi = uint32(a), uint32(b)
			case op == trace.OpFFNDown:
				// In the native layout every row of ffn_down holds one
				// element of each neuron.
				e.NeuronLo, e.NeuronHi = 0, uint32(w.Cols)
			}
			s.emit(e)
		}
		if !any {
			return
		}
	}
}

// emitKV reports this position's KV-cache write and the attention's reads
// of all cached keys and values, per KV head, by the thread that owns it.
func (s *Session) emitKV(layer, pos int) {
	c := &s.m.Cfg
	threads := s.opt.Threads
	elem := uint64(2)
	if s.opt.KVF32 {
		elem = 4
	}
	vBase := trace.RegionKV + uint64(s.kvCells)*elem
	slice := uint64(c.HeadDim) * elem
	for h := 0; h < c.KVHeads; h++ {
		t := uint8(kvHeadThread(h, c.KVHeads, threads))
		cell0 := uint64(s.kvIndex(layer, h, 0)) * elem
		cur := uint64(s.kvIndex(layer, h, pos)) * elem
		L := int16(layer)
		s.emit(trace.Event{Addr: trace.RegionKV + cur, Size: uint32(slice), Tensor: trace.NoTensor, Layer: L, Op: trace.OpKVWrite, Kind: trace.Write, Thread: t})
		s.emit(trace.Event{Addr: vBase + cur, Size: uint32(slice), Tensor: trace.NoTensor, Layer: L, Op: trace.OpKVWrite, Kind: trace.Write, Thread: t})
		n := uint32(uint64(pos+1) * slice)
		s.emit(trace.Event{Addr: trace.RegionKV + cell0, Size: n, Tensor: trace.NoTensor, Layer: L, Op: trace.OpKVRead, Thread: t})
		s.emit(trace.Event{Addr: vBase + cell0, Size: n, Tensor: trace.NoTensor, Layer: L, Op: trace.OpKVRead, Thread: t})
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

// attnTask runs grouped-query attention for one position over each
// thread's share of KV heads.
type attnTask struct {
	s     *Session
	layer int
	pos   int
}

func (t *attnTask) do(thread int) {
	s := t.s
	c := &s.m.Cfg
	lo, hi := split(c.KVHeads, s.opt.Threads, thread)
	group := c.Heads / c.KVHeads
	hd := c.HeadDim
	n := t.pos + 1
	scale := float32(1) / float32(math.Sqrt(float64(float32(hd))))
	scores := s.headScratch[thread][:n]
	q16 := s.q16[thread]
	p16 := s.p16[thread][:n]
	for g := lo; g < hi; g++ {
		kbase := s.kvIndex(t.layer, g, 0)
		for h := g * group; h < (g+1)*group; h++ {
			qh := s.q[h*hd : (h+1)*hd]
			out := s.att[h*hd : (h+1)*hd]
			clear(out)
			if s.opt.KVF32 {
				for j := 0; j < n; j++ {
					scores[j] = dotF32(qh, s.kc32[kbase+j*hd:kbase+(j+1)*hd]) * scale
				}
				softmaxInPlace(scores)
				for j, pj := range scores {
					vr := s.vc32[kbase+j*hd : kbase+(j+1)*hd]
					for d := range out {
						out[d] += float32(vr[d] * pj)
					}
				}
				continue
			}
			for d, v := range qh {
				q16[d] = quant.F32ToF16(v)
			}
			for j := 0; j < n; j++ {
				kr := s.kc[kbase+j*hd : kbase+(j+1)*hd]
				scores[j] = quant.DotF16(q16, kr) * scale
			}
			softmaxInPlace(scores)
			for j, p := range scores {
				p16[j] = quant.F32ToF16(p)
			}
			for j := 0; j < n; j++ {
				pj := quant.F16ToF32(p16[j])
				vr := s.vc[kbase+j*hd : kbase+(j+1)*hd]
				for d := range out {
					out[d] += float32(quant.F16ToF32(vr[d]) * pj)
				}
			}
		}
	}
}
