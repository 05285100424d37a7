package trace

// An engine-like event stream for tests and benchmarks: what a dense
// LLaMA decoder reading a Q8_0 GGUF file emits, row by row, with rows split
// across threads as llama.cpp does with -t N, KV-cache slices per head and
// activation buffer accesses between matrices. Shapes from
// ../shared/facts/shapes.md.

import "fmt"

type modelShape struct {
	name                                             string
	nEmbd, nFF, nLayer, nHead, nHeadKV, nVocab, nCtx int
	headDim                                          int
}

var stories15MShape = modelShape{name: "stories15M-shape", nEmbd: 288, nFF: 768, nLayer: 6, nHead: 6, nHeadKV: 6, nVocab: 32000, nCtx: 256, headDim: 48}

// A small shape so tests that walk every byte offset stay fast.
var tinyShape = modelShape{name: "tiny", nEmbd: 64, nFF: 96, nLayer: 2, nHead: 2, nHeadKV: 1, nVocab: 48, nCtx: 32, headDim: 32}

// q8RowBytes is the size of a Q8_0 row of n elements: 32-element blocks of
// 34 bytes (f16 scale + 32 int8).
func q8RowBytes(n int) uint64 { return uint64(n/32) * 34 }

type tensorRef struct {
	id        uint16
	off, size uint64
	rowBytes  uint64
	rows      int
}

type engineModel struct {
	// interleave emits the threads' rows round-robin (t0 r0, t1 r0', t0
	// r1, ...) instead of one thread's slice after the other: the worst
	// order for run-length coding.
	interleave bool
	s          modelShape
	h          Header
	tensors    map[string]tensorRef
}

// newEngineModel lays out the tensors of a Q8_0 file of shape s in the
// order and alignment (32) of shapes.md; the data section starts after a
// metadata block of plausible size.
func newEngineModel(s modelShape) *engineModel {
	m := &engineModel{s: s, tensors: map[string]tensorRef{}}
	off := uint64(0x0b4e60)
	add := func(name string, dims []uint64, q8 bool) {
		off = (off + 31) &^ 31
		var size, rb uint64
		rows := 1
		if q8 {
			rb = q8RowBytes(int(dims[0]))
			rows = int(dims[1])
			size = rb * dims[1]
		} else {
			size = dims[0] * 4
			rb = size
		}
		typ := "F32"
		if q8 {
			typ = "Q8_0"
		}
		m.tensors[name] = tensorRef{id: uint16(len(m.h.Tensors)), off: off, size: size, rowBytes: rb, rows: rows}
		m.h.Tensors = append(m.h.Tensors, TensorSym{Name: name, Type: typ, Dims: dims, Offset: off, Size: size})
		off += size
	}
	e, f, v, kv := uint64(s.nEmbd), uint64(s.nFF), uint64(s.nVocab), uint64(s.headDim*s.nHeadKV)
	add("token_embd.weight", []uint64{e, v}, true)
	add("output_norm.weight", []uint64{e}, false)
	add("output.weight", []uint64{e, v}, true)
	for l := range s.nLayer {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_q.weight", []uint64{e, e}, true)
		add(p+"attn_k.weight", []uint64{e, kv}, true)
		add(p+"attn_v.weight", []uint64{e, kv}, true)
		add(p+"attn_output.weight", []uint64{e, e}, true)
		add(p+"attn_norm.weight", []uint64{e}, false)
		add(p+"ffn_gate.weight", []uint64{e, f}, true)
		add(p+"ffn_down.weight", []uint64{f, e}, true)
		add(p+"ffn_up.weight", []uint64{e, f}, true)
		add(p+"ffn_norm.weight", []uint64{e}, false)
	}
	m.h.EdgeprofVersion = "test"
	m.h.ModelName = s.name + "-Q8_0"
	m.h.ModelSHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
	m.h.ModelSize = off
	m.h.Settings = map[string]string{"sparsity": "dense", "layout": "native", "threads": "2"}
	return m
}

// ffnBytes is the total size of the FFN tensors of one layer.
func (m *engineModel) ffnBytes(l int) uint64 {
	p := fmt.Sprintf("blk.%d.", l)
	return m.tensors[p+"ffn_gate.weight"].size + m.tensors[p+"ffn_up.weight"].size + m.tensors[p+"ffn_down.weight"].size
}

// Activation buffers, at fixed offsets in the activation region.
const (
	actX      = RegionActivation
	actXB     = RegionActivation + 0x1000
	actQ8     = RegionActivation + 0x2000
	actQ      = RegionActivation + 0x3000
	actHB     = RegionActivation + 0x4000
	actLogits = RegionActivation + 0x10000
)

// run emits the events of prompt+decode single-token steps on threads
// threads.
func (m *engineModel) run(prompt, decode, threads int, emit func(Event)) {
	s := m.s
	kvRow := uint64(s.headDim*s.nHeadKV) * 2 // F16 cache
	for tok := 0; tok < prompt+decode; tok++ {
		ph := Prompt
		if tok >= prompt {
			ph = Decode
		}
		base := Event{Token: uint32(tok), Phase: ph, Layer: NoLayer, Tensor: NoTensor}
		act := func(op Op, k Kind, addr uint64, size uint64, layer int16, th uint8) {
			e := base
			e.Op, e.Kind, e.Addr, e.Size, e.Layer, e.Thread = op, k, addr, uint32(size), layer, th
			emit(e)
		}
		whole := func(name string, op Op, layer int16) {
			t := m.tensors[name]
			e := base
			e.Op, e.Kind, e.Addr, e.Size, e.Layer, e.Tensor = op, Read, t.off, uint32(t.size), layer, t.id
			emit(e)
		}
		matvec := func(name string, op Op, layer int16, out uint64, neurons func(r int) (uint32, uint32)) {
			t := m.tensors[name]
			rowEvent := func(th, r int) {
				e := base
				e.Op, e.Kind, e.Layer, e.Tensor, e.Thread = op, Read, layer, t.id, uint8(th)
				e.Addr, e.Size = t.off+uint64(r)*t.rowBytes, uint32(t.rowBytes)
				if neurons != nil {
					e.NeuronLo, e.NeuronHi = neurons(r)
				}
				emit(e)
			}
			span := func(th int) (int, int) { return th * t.rows / threads, (th + 1) * t.rows / threads }
			for th := range threads {
				act(OpActivation, Read, actQ8, q8RowBytes(int(t.rowBytes/34*32)), layer, uint8(th))
			}
			if m.interleave {
				for i := 0; i < (t.rows+threads-1)/threads; i++ {
					for th := range threads {
						if lo, hi := span(th); lo+i < hi {
							rowEvent(th, lo+i)
						}
					}
				}
			} else {
				for th := range threads {
					lo, hi := span(th)
					for r := lo; r < hi; r++ {
						rowEvent(th, r)
					}
				}
			}
			for th := range threads {
				lo, hi := span(th)
				act(OpActivation, Write, out+uint64(lo)*4, uint64(hi-lo)*4, layer, uint8(th))
			}
		}
		id := (tok*7919 + 3) % s.nVocab
		te := m.tensors["token_embd.weight"]
		e := base
		e.Op, e.Kind, e.Tensor, e.Addr, e.Size = OpEmbed, Read, te.id, te.off+uint64(id)*te.rowBytes, uint32(te.rowBytes)
		emit(e)
		act(OpActivation, Write, actX, uint64(s.nEmbd)*4, NoLayer, 0)
		for l := range s.nLayer {
			L := int16(l)
			p := fmt.Sprintf("blk.%d.", l)
			act(OpActivation, Read, actX, uint64(s.nEmbd)*4, L, 0)
			whole(p+"attn_norm.weight", OpAttnNorm, L)
			act(OpActivation, Write, actQ8, q8RowBytes(s.nEmbd), L, 0)
			matvec(p+"attn_q.weight", OpAttnQ, L, actQ, nil)
			matvec(p+"attn_k.weight", OpAttnK, L, actXB, nil)
			matvec(p+"attn_v.weight", OpAttnV, L, actXB+0x800, nil)
			kBase := RegionKV + uint64(2*l)*uint64(s.nCtx)*kvRow
			vBase := kBase + uint64(s.nCtx)*kvRow
			for _, b := range []uint64{kBase, vBase} {
				e := base
				e.Op, e.Kind, e.Layer, e.Addr, e.Size = OpKVWrite, Write, L, b+uint64(tok)*kvRow, uint32(kvRow)
				emit(e)
			}
			for h := range s.nHead {
				th := uint8(h % threads)
				kvh := uint64(h / (s.nHead / s.nHeadKV))
				for _, b := range []uint64{kBase, vBase} {
					for c := 0; c <= tok; c++ {
						e := base
						e.Op, e.Kind, e.Layer, e.Thread = OpKVRead, Read, L, th
						e.Addr, e.Size = b+uint64(c)*kvRow+kvh*uint64(s.headDim)*2, uint32(s.headDim*2)
						emit(e)
					}
				}
			}
			act(OpActivation, Write, actXB, uint64(s.nEmbd)*4, L, 0)
			matvec(p+"attn_output.weight", OpAttnOut, L, actX, nil)
			whole(p+"ffn_norm.weight", OpFFNNorm, L)
			act(OpActivation, Write, actQ8, q8RowBytes(s.nEmbd), L, 0)
			row := func(r int) (uint32, uint32) { return uint32(r), uint32(r + 1) }
			matvec(p+"ffn_gate.weight", OpFFNGate, L, actHB, row)
			matvec(p+"ffn_up.weight", OpFFNUp, L, actHB+0x1000, row)
			act(OpActivation, Write, actQ8, q8RowBytes(s.nFF), L, 0)
			all := func(int) (uint32, uint32) { return 0, uint32(s.nFF) }
			matvec(p+"ffn_down.weight", OpFFNDown, L, actX, all)
		}
		whole("output_norm.weight", OpOutNorm, NoLayer)
		matvec("output.weight", OpLMHead, NoLayer, actLogits, nil)
	}
}

// events collects run's events.
func (m *engineModel) events(prompt, decode, threads int) []Event {
	var c Capture
	m.run(prompt, decode, threads, c.Emit)
	return c.Events
}

// engineRun emits what engine.Session emits for a prompt of prompt tokens
// evaluated in one batch and decode single-token steps on threads
// threads, following engine/session.go (forward, emitMatMul, emitRows,
// emitKV) and docs/engine-trace.md: per matrix product each thread reads
// the converted input of every token of the batch, the threads' weight
// rows are merged into chunks of up to chunk bytes and interleaved
// round-robin, then each thread writes its output slice per token; per
// layer, token and KV head two 2-byte-element writes at the new cell and
// two reads over cells 0..pos by the thread owning the head; norms once
// per batch; logits only for a batch's last token.
func (m *engineModel) engineRun(prompt, decode, threads, chunk int, emit func(Event)) {
	s := m.s
	const (
		slotResidual = iota
		slotNormed
		slotQ
		slotK
		slotV
		slotAttn
		slotProj
		slotGate
		slotUp
		slotLogits
		slotMatIn
		numSlots
	)
	kvDim := s.nHeadKV * s.headDim
	sizes := [numSlots]int{s.nEmbd, s.nEmbd, s.nEmbd, kvDim, kvDim, s.nEmbd, s.nEmbd, s.nFF, s.nFF, s.nVocab, max(s.nEmbd, s.nFF)}
	var actAddr, actStride [numSlots]uint64
	addr := RegionActivation
	batch := max(prompt, 1)
	for i, n := range sizes {
		actAddr[i] = addr
		actStride[i] = uint64(4 * n)
		addr += (uint64(4*n*batch) + 4095) &^ 4095
	}
	split := func(n, t int) (int, int) { return n * t / threads, n * (t + 1) / threads }
	kvThread := func(h int) int {
		for t := range threads {
			if _, hi := split(s.nHeadKV, t); h < hi {
				return t
			}
		}
		return threads - 1
	}
	const elem = 2
	kvCells := uint64(s.nLayer * s.nHeadKV * s.nCtx * s.headDim)
	kvAddr := func(l, h, c int) uint64 { return uint64(((l*s.nHeadKV+h)*s.nCtx+c)*s.headDim) * elem }

	var phase Phase
	matMul := func(name string, n int, layer int16, op Op, out int, tok uint32) {
		t := m.tensors[name]
		inBytes := uint32(q8RowBytes(int(t.rowBytes / 34 * 32)))
		for th := range threads {
			for i := range n {
				emit(Event{Addr: actAddr[slotMatIn] + uint64(i)*actStride[slotMatIn], Size: inBytes, Token: tok + uint32(i),
					Tensor: NoTensor, Layer: layer, Op: OpActivation, Thread: uint8(th), Phase: phase})
			}
		}
		rowsPer := max(1, chunk/int(t.rowBytes))
		for step := 0; ; step++ {
			any := false
			for th := range threads {
				lo, hi := split(t.rows, th)
				a := lo + step*rowsPer
				if a >= hi {
					continue
				}
				b := min(a+rowsPer, hi)
				any = true
				e := Event{Addr: t.off + uint64(a)*t.rowBytes, Size: uint32(uint64(b-a) * t.rowBytes), Token: tok,
					Tensor: t.id, Layer: layer, Op: op, Thread: uint8(th), Phase: phase}
				switch op {
				case OpFFNGate, OpFFNUp:
					e.NeuronLo, e.NeuronHi = uint32(a), uint32(b)
				case OpFFNDown:
					e.NeuronLo, e.NeuronHi = 0, uint32(t.rowBytes/34*32)
				}
				emit(e)
			}
			if !any {
				break
			}
		}
		for th := range threads {
			lo, hi := split(t.rows, th)
			if hi == lo {
				continue
			}
			for i := range n {
				emit(Event{Addr: actAddr[out] + uint64(i)*actStride[out] + 4*uint64(lo), Size: uint32(4 * (hi - lo)),
					Token: tok + uint32(i), Tensor: NoTensor, Layer: layer, Op: OpActivation, Kind: Write, Thread: uint8(th), Phase: phase})
			}
		}
	}
	norm := func(name string, layer int16, op Op, tok uint32) {
		t := m.tensors[name]
		emit(Event{Addr: t.off, Size: uint32(t.size), Tensor: t.id, Layer: layer, Op: op, Token: tok, Phase: phase})
	}
	pos := 0
	forward := func(n int, tok uint32) {
		te := m.tensors["token_embd.weight"]
		for i := range n {
			// A token id no arithmetic predicts, as in real text.
			id := int((uint32(int(tok)+i)*2654435761)>>7) % s.nVocab
			emit(Event{Addr: te.off + uint64(id)*te.rowBytes, Size: uint32(te.rowBytes), Tensor: te.id,
				Layer: NoLayer, Op: OpEmbed, Token: tok + uint32(i), Phase: phase})
		}
		for l := range s.nLayer {
			L := int16(l)
			p := fmt.Sprintf("blk.%d.", l)
			norm(p+"attn_norm.weight", L, OpAttnNorm, tok)
			matMul(p+"attn_q.weight", n, L, OpAttnQ, slotQ, tok)
			matMul(p+"attn_k.weight", n, L, OpAttnK, slotK, tok)
			matMul(p+"attn_v.weight", n, L, OpAttnV, slotV, tok)
			for i := range n {
				slice := uint64(s.headDim) * elem
				for h := range s.nHeadKV {
					th := uint8(kvThread(h))
					cur, cell0 := kvAddr(l, h, pos+i), kvAddr(l, h, 0)
					size := uint32(uint64(pos+i+1) * slice)
					for _, e := range [...]Event{
						{Addr: RegionKV + cur, Size: uint32(slice), Op: OpKVWrite, Kind: Write},
						{Addr: RegionKV + kvCells*elem + cur, Size: uint32(slice), Op: OpKVWrite, Kind: Write},
						{Addr: RegionKV + cell0, Size: size, Op: OpKVRead},
						{Addr: RegionKV + kvCells*elem + cell0, Size: size, Op: OpKVRead},
					} {
						e.Token, e.Tensor, e.Layer, e.Thread, e.Phase = tok+uint32(i), NoTensor, L, th, phase
						emit(e)
					}
				}
			}
			matMul(p+"attn_output.weight", n, L, OpAttnOut, slotProj, tok)
			norm(p+"ffn_norm.weight", L, OpFFNNorm, tok)
			matMul(p+"ffn_gate.weight", n, L, OpFFNGate, slotGate, tok)
			matMul(p+"ffn_up.weight", n, L, OpFFNUp, slotUp, tok)
			matMul(p+"ffn_down.weight", n, L, OpFFNDown, slotProj, tok)
		}
		last := tok + uint32(n-1)
		norm("output_norm.weight", NoLayer, OpOutNorm, last)
		matMul("output.weight", 1, NoLayer, OpLMHead, slotLogits, last)
		pos += n
	}
	if prompt > 0 {
		forward(prompt, 0)
	}
	phase = Decode
	for i := range decode {
		forward(1, uint32(prompt+i))
	}
}

// engineEvents collects engineRun's events with the engine's default
// 4 KiB chunks.
func (m *engineModel) engineEvents(prompt, decode, threads int) []Event {
	var c Capture
	m.engineRun(prompt, decode, threads, 4096, c.Emit)
	return c.Events
}
