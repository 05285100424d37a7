package trace

import "fmt"

// Event is one memory access made by the inference engine: a contiguous
// byte range read (or written, or prefetched) for one operation of one
// token. It is a small value type with no pointers so that slices of events
// cost nothing to the garbage collector; names live once in the trace
// header's symbol table (Header.Tensors), referenced by Tensor.
//
// Granularity contract: the engine emits one event per weight row (or per
// block-aligned chunk a kernel reads at once, or per KV-cache slice), never
// one per element and never one per whole tensor, in the order the reads
// happen.
type Event struct {
	// Addr is a byte address. Weights live at their byte offset in the
	// model file; KV cache, activations and predictor weights live in the
	// regions documented at RegionKV and below.
	Addr uint64
	// Size is the number of bytes accessed (>= 1).
	Size uint32
	// Token is the index of the token being processed, counting prompt
	// tokens first (0-based, over the whole run).
	Token uint32
	// NeuronLo and NeuronHi give the FFN neuron range [NeuronLo, NeuronHi)
	// this access serves (a row of ffn_gate/ffn_up, a column range of
	// ffn_down). NeuronHi == NeuronLo (both 0) means "not an FFN neuron
	// access".
	NeuronLo uint32
	NeuronHi uint32
	// Tensor is the index into Header.Tensors, or NoTensor for accesses
	// that are not to a model tensor (KV cache, activation buffers).
	Tensor uint16
	// Layer is the transformer block index, or NoLayer for ops outside the
	// blocks (embed, out_norm, lm_head).
	Layer int16
	// Thread is the engine worker (core) that made the access. The engine
	// splits a matrix's rows across threads as llama.cpp does with -t N;
	// each thread's reads are its own, so a simulator can route them to
	// that core's private caches.
	Thread uint8
	Op     Op
	Kind   Kind
	Phase  Phase
}

// NoTensor marks an event that does not touch a model tensor.
const NoTensor = ^uint16(0)

// NoLayer marks an event outside the transformer blocks.
const NoLayer = int16(-1)

// End returns the address one past the last byte accessed.
func (e Event) End() uint64 { return e.Addr + uint64(e.Size) }

// HasNeurons reports whether the event carries an FFN neuron range.
func (e Event) HasNeurons() bool { return e.NeuronHi > e.NeuronLo }

func (e Event) String() string {
	s := fmt.Sprintf("tok=%d %s t%d L%d %s %s %#x+%d", e.Token, e.Phase, e.Thread, e.Layer, e.Op, e.Kind, e.Addr, e.Size)
	if e.HasNeurons() {
		s += fmt.Sprintf(" n[%d,%d)", e.NeuronLo, e.NeuronHi)
	}
	return s
}

// Address regions above the model file. The model file occupies
// [0, file size); file sizes are far below 1 TiB, so fixed region bases
// keep addresses stable across models and make every address say what it
// is. Each region is 1 TiB wide.
const (
	// RegionKV holds the KV cache: layer l's K then V for every cell,
	// laid out by the engine (see engine docs).
	RegionKV uint64 = 1 << 40
	// RegionActivation holds the engine's activation buffers (hidden
	// state, FFN intermediate, logits, quantized activations).
	RegionActivation uint64 = 2 << 40
	// RegionPredictor holds sparsity-predictor weights, which are not in
	// the model file; a predicted-sparse run must pay for reading them.
	RegionPredictor uint64 = 3 << 40
	// RegionEnd is the first address above all regions.
	RegionEnd uint64 = 4 << 40
)

// Region names the address region an address falls in.
type Region uint8

const (
	RegionModelFile Region = iota
	RegionKVCache
	RegionActivations
	RegionPredictorWeights
	RegionInvalid
)

// RegionOf returns the region of addr.
func RegionOf(addr uint64) Region {
	switch {
	case addr < RegionKV:
		return RegionModelFile
	case addr < RegionActivation:
		return RegionKVCache
	case addr < RegionPredictor:
		return RegionActivations
	case addr < RegionEnd:
		return RegionPredictorWeights
	}
	return RegionInvalid
}

func (r Region) String() string {
	switch r {
	case RegionModelFile:
		return "model"
	case RegionKVCache:
		return "kv"
	case RegionActivations:
		return "activation"
	case RegionPredictorWeights:
		return "predictor"
	}
	return fmt.Sprintf("Region(%d)", uint8(r))
}

// Kind says why the bytes were accessed.
type Kind uint8

const (
	Read Kind = iota
	Write
	Prefetch
	numKinds
)

var kindNames = [...]string{"read", "write", "prefetch"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is a defined kind.
func (k Kind) Valid() bool { return k < numKinds }

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("trace: unknown kind %q (want read, write or prefetch)", s)
}

// Phase separates prompt processing from decoding.
type Phase uint8

const (
	Prompt Phase = iota
	Decode
	numPhases
)

var phaseNames = [...]string{"prompt", "decode"}

func (p Phase) String() string {
	if p < numPhases {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Valid reports whether p is a defined phase.
func (p Phase) Valid() bool { return p < numPhases }

// ParsePhase is the inverse of Phase.String.
func ParsePhase(s string) (Phase, error) {
	for i, n := range phaseNames {
		if n == s {
			return Phase(i), nil
		}
	}
	return 0, fmt.Errorf("trace: unknown phase %q (want prompt or decode)", s)
}

// Op is the engine operation an access belongs to. The names are part of
// the JSON contract of `edgeprof trace stat` and must not change.
type Op uint8

const (
	OpEmbed Op = iota
	OpAttnNorm
	OpAttnQ
	OpAttnK
	OpAttnV
	OpAttnOut
	OpKVRead
	OpKVWrite
	OpFFNNorm
	OpFFNGate
	OpFFNUp
	OpFFNDown
	OpOutNorm
	OpLMHead
	OpPredictor
	OpActivation
	// OpOther covers accesses from foreign traces (din imports) that
	// carry no engine operation.
	OpOther
	NumOps
)

var opNames = [...]string{
	"embed", "attn_norm", "attn_q", "attn_k", "attn_v", "attn_out",
	"kv_read", "kv_write", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
	"out_norm", "lm_head", "predictor", "activation", "other",
}

func (o Op) String() string {
	if o < NumOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Valid reports whether o is a defined op.
func (o Op) Valid() bool { return o < NumOps }

// IsFFN reports whether the op reads FFN weights (the ones activation
// sparsity can skip).
func (o Op) IsFFN() bool { return o == OpFFNGate || o == OpFFNUp || o == OpFFNDown }

// ParseOp is the inverse of Op.String.
func ParseOp(s string) (Op, error) {
	for i, n := range opNames {
		if n == s {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("trace: unknown op %q", s)
}

// Sink receives events in the order the accesses happen. The engine calls
// Emit from one goroutine only (it emits on behalf of its worker threads,
// tagging each event with Event.Thread), so implementations need no
// locking. A nil Sink in engine options means "discard".
type Sink interface {
	Emit(Event)
}

// BatchSink is a Sink that can also take events in bulk. EmitBatch(evs)
// must have exactly the effect of calling Emit on each event in order; it
// must not keep evs, which the caller reuses. Producers that queue events
// (the engine does) hand them over through EmitBatch when the sink has it,
// saving a dynamic call per event.
type BatchSink interface {
	Sink
	EmitBatch(evs []Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e Event) { f(e) }

// Capture is a Sink that keeps every event in memory; tests use it.
type Capture struct {
	Events []Event
}

// Emit appends e.
func (c *Capture) Emit(e Event) { c.Events = append(c.Events, e) }

// EmitBatch appends evs.
func (c *Capture) EmitBatch(evs []Event) { c.Events = append(c.Events, evs...) }

// Discard is a Sink that drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Emit(Event)        {}
func (discard) EmitBatch([]Event) {}
