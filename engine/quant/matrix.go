package quant

import (
	"fmt"

	"github.com/edgeprof/edgeprof/engine/gguf"
)

// Matrix is a 2-D weight tensor viewed in place (no copy): Rows rows of
// Cols elements, each row RowBytes bytes, row r at Data[r*RowBytes:].
type Matrix struct {
	Type     gguf.Type
	Data     []byte
	Rows     int
	Cols     int
	RowBytes int
}

// NewMatrix views data as rows rows of cols elements of type t. The type
// must have a dot product (VecDotType), cols must be a positive multiple
// of its block size and data must hold all rows (it may be longer).
func NewMatrix(t gguf.Type, data []byte, cols, rows int) (Matrix, error) {
	if _, ok := VecDotType(t); !ok {
		return Matrix{}, fmt.Errorf("%w: %s (no dot product)", ErrType, t)
	}
	if cols <= 0 || rows < 0 {
		return Matrix{}, fmt.Errorf("%w: %s matrix of %d×%d", ErrLength, t, rows, cols)
	}
	rb := int(t.RowSize(uint64(cols)))
	if rb == 0 {
		return Matrix{}, fmt.Errorf("%w: %d columns is not a multiple of the %s block size %d", ErrLength, cols, t, t.BlockSize())
	}
	if rows > 0 && len(data)/rows < rb {
		return Matrix{}, fmt.Errorf("%w: %d rows of %d %s elements need %d bytes, have %d", ErrLength, rows, cols, t, rows*rb, len(data))
	}
	return Matrix{Type: t, Data: data[: rows*rb : rows*rb], Rows: rows, Cols: cols, RowBytes: rb}, nil
}

// Row returns the bytes of row r.
func (m Matrix) Row(r int) []byte {
	return m.Data[r*m.RowBytes : (r+1)*m.RowBytes : (r+1)*m.RowBytes]
}

// kernel dots one row with an activation of matching length and type.
type kernel func(row []byte, a *Act) float32

// kernels holds the active kernel per weight type; generic holds the
// portable ones (the reference the assembly is tested against).
var kernels, generic [gguf.NumTypes]kernel

func init() {
	generic = [gguf.NumTypes]kernel{
		gguf.F32:  dotF32Generic,
		gguf.F16:  dotF16Generic,
		gguf.BF16: dotBF16Generic,
		gguf.Q4_0: blocksKernel(dotQ4_0Blocks),
		gguf.Q4_1: blocksKernel(dotQ4_1Blocks),
		gguf.Q5_0: blocksKernel(dotQ5_0Blocks),
		gguf.Q5_1: blocksKernel(dotQ5_1Blocks),
		gguf.Q8_0: blocksKernel(dotQ8_0Blocks),
		gguf.Q2_K: dotQ2_KGeneric,
		gguf.Q3_K: dotQ3_KGeneric,
		gguf.Q4_K: dotQ4_KGeneric,
		gguf.Q5_K: dotQ5_KGeneric,
		gguf.Q6_K: dotQ6_KGeneric,
	}
	kernels = generic
	useSIMD(&kernels)
}

// check panics unless a was Set for weights of type t and row holds a.Len
// elements of t: the assembly kernels trust both.
func check(t gguf.Type, row []byte, a *Act) {
	if vt, ok := VecDotType(t); !ok || vt != a.kind {
		panic(fmt.Sprintf("quant: %s row dotted with an activation set for %s", t, a.kind))
	}
	if need := int(t.RowSize(uint64(a.n))); len(row) < need {
		panic(fmt.Sprintf("quant: %s row of %d bytes, activation of %d elements needs %d", t, len(row), a.n, need))
	}
}

// DotRow returns the dot product of one row of type t with a. It panics if
// a was not Set for t or row is shorter than a.Len() elements.
func DotRow(t gguf.Type, row []byte, a *Act) float32 {
	check(t, row, a)
	return kernels[t](row, a)
}

// MatVec sets out[r] = dot(row r, a) for r in [rowLo, rowHi). Disjoint row
// ranges may run concurrently with the same a and out.
func MatVec(m Matrix, a *Act, out []float32, rowLo, rowHi int) {
	checkMat(m, a, rowLo, rowHi)
	_ = out[rowLo:rowHi]
	k := kernels[m.Type]
	for r := rowLo; r < rowHi; r++ {
		out[r] = k(m.Data[r*m.RowBytes:(r+1)*m.RowBytes], a)
	}
}

func checkMat(m Matrix, a *Act, rowLo, rowHi int) {
	if rowLo < 0 || rowHi > m.Rows || rowLo > rowHi {
		panic(fmt.Sprintf("quant: rows [%d,%d) of a %d-row matrix", rowLo, rowHi, m.Rows))
	}
	if a.n != m.Cols {
		panic(fmt.Sprintf("quant: %d-column matrix times a %d-element activation", m.Cols, a.n))
	}
	if m.Rows > 0 {
		check(m.Type, m.Row(0), a)
	}
}

// matMulTileBytes bounds the weight rows kept hot while every activation
// of the batch passes over them: about half of a 32-64 KiB L1d, so the
// tile and the current activation stay in L1.
const matMulTileBytes = 16 << 10

// MatMul sets out[j][r] = dot(row r, acts[j]) for r in [rowLo, rowHi) and
// every j: the batched form of MatVec (prompt processing, perplexity). It
// works through the rows in tiles that stay in cache while the whole
// batch passes over them, so each weight byte comes from memory once per
// call. Results equal MatVec's bit for bit.
func MatMul(m Matrix, acts []*Act, out [][]float32, rowLo, rowHi int) {
	if len(out) < len(acts) {
		panic(fmt.Sprintf("quant: MatMul with %d activations and %d outputs", len(acts), len(out)))
	}
	for j, a := range acts {
		checkMat(m, a, rowLo, rowHi)
		_ = out[j][rowLo:rowHi]
	}
	tile := max(1, matMulTileBytes/max(1, m.RowBytes))
	for r0 := rowLo; r0 < rowHi; r0 += tile {
		r1 := min(r0+tile, rowHi)
		matMulTile(m, acts, out, r0, r1)
	}
}

func matMulTileGeneric(m Matrix, acts []*Act, out [][]float32, r0, r1 int) {
	k := kernels[m.Type]
	for j, a := range acts {
		o := out[j]
		for r := r0; r < r1; r++ {
			o[r] = k(m.Data[r*m.RowBytes:(r+1)*m.RowBytes], a)
		}
	}
}

// DotF16 returns Σ a[i]·b[i] over binary16 vectors (attention: Q·K and P·V
// against the F16 KV cache, with Q and P rounded to binary16 first). The
// products are exact; they are summed in the 32-lane order of the float
// kernels. It panics if len(b) < len(a).
func DotF16(a, b []uint16) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("quant: DotF16 of %d and %d elements", len(a), len(b)))
	}
	return dotF16F16(a, b[:len(a)])
}
