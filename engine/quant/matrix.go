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

// kernels holds the active ggml_vec_dot kernel per weight type (the path
// of a single activation); tinyKernels the llamafile tinyBLAS ones for
// float weights in batches; repackQ4_0 the repacked Q4_0 gemv/gemm. The
// generic tables hold the portable kernels, the reference the assembly
// is tested against.
var (
	kernels, generic         [gguf.NumTypes]kernel
	tinyKernels, tinyGeneric [gguf.NumTypes]kernel
	repackQ4_0               kernel = dotQ4_0RepackGeneric
)

func init() {
	generic = [gguf.NumTypes]kernel{
		gguf.F32:  dotF32Generic,
		gguf.F16:  dotF16Generic,
		gguf.BF16: dotBF16Generic,
		gguf.Q4_0: dotQ4_0Generic,
		gguf.Q4_1: dotQ4_1Generic,
		gguf.Q5_0: dotQ5_0Generic,
		gguf.Q5_1: dotQ5_1Generic,
		gguf.Q8_0: dotQ8_0Generic,
		gguf.Q2_K: dotQ2_KGeneric,
		gguf.Q3_K: dotQ3_KGeneric,
		gguf.Q4_K: dotQ4_KGeneric,
		gguf.Q5_K: dotQ5_KGeneric,
		gguf.Q6_K: dotQ6_KGeneric,
	}
	tinyGeneric = [gguf.NumTypes]kernel{
		gguf.F32:  tinyF32Generic,
		gguf.F16:  tinyF16Generic,
		gguf.BF16: tinyBF16Generic,
	}
	kernels, tinyKernels = generic, tinyGeneric
	useSIMD()
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

// DotRow returns the dot product of one row of type t with a, the way
// ggml_vec_dot for t computes it. It panics if a was not Set for t or
// row is shorter than a.Len() elements.
func DotRow(t gguf.Type, row []byte, a *Act) float32 {
	check(t, row, a)
	return kernels[t](row, a)
}

// Path names the kernel family llama.cpp's CPU backend (c392e5094, x86
// AVX2 build) uses for a matrix product; see MatVec and MatMul.
type Path int

const (
	PathVecDot Path = iota // ggml_vec_dot_* per row and activation
	PathTiny               // llamafile tinyBLAS (float weights, batches)
	PathRepack             // repacked Q4_0 (q4_0_8x8 gemv/gemm)
)

// VecPath is the path of a product with a single activation (decoding):
// llamafile is never used for one column, but Q4_0 matrices whose row
// count is a multiple of 8 are repacked at load and always use the
// repacked kernels.
func (m Matrix) VecPath() Path {
	if m.Type == gguf.Q4_0 && m.Rows%8 == 0 {
		return PathRepack
	}
	return PathVecDot
}

// BatchPath is the path of a product with two or more activations:
// tinyBLAS for F32, F16 and BF16 weights when the row length is a
// multiple of 8 and the row count a multiple of 4 (tinyBLAS_Q0 for Q8_0,
// Q4_0 and Q5_0 computes what vec_dot does); otherwise as VecPath.
func (m Matrix) BatchPath() Path {
	switch m.Type {
	case gguf.F32, gguf.F16, gguf.BF16:
		if m.Cols%8 == 0 && m.Rows%4 == 0 {
			return PathTiny
		}
	}
	return m.VecPath()
}

func (m Matrix) kernel(p Path) kernel {
	switch p {
	case PathTiny:
		return tinyKernels[m.Type]
	case PathRepack:
		return repackQ4_0
	}
	return kernels[m.Type]
}

// MatVec sets out[r] = dot(row r, a) for r in [rowLo, rowHi) as
// llama.cpp computes a matrix-vector product (VecPath). Disjoint row
// ranges may run concurrently with the same a and out.
func MatVec(m Matrix, a *Act, out []float32, rowLo, rowHi int) {
	checkMat(m, a, rowLo, rowHi)
	_ = out[rowLo:rowHi]
	matVec(m, m.VecPath(), a, out, rowLo, rowHi)
}

func matVecGeneric(m Matrix, p Path, a *Act, out []float32, rowLo, rowHi int) {
	k := m.kernel(p)
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
// every j: the batched product (prompt processing, perplexity), computed
// the way llama.cpp computes a batch of len(acts) columns (BatchPath for
// two or more, MatVec's path for one). It works through the rows in tiles
// that stay in cache while the whole batch passes over them, so each
// weight byte comes from memory once per call.
func MatMul(m Matrix, acts []*Act, out [][]float32, rowLo, rowHi int) {
	if len(out) < len(acts) {
		panic(fmt.Sprintf("quant: MatMul with %d activations and %d outputs", len(acts), len(out)))
	}
	for j, a := range acts {
		checkMat(m, a, rowLo, rowHi)
		_ = out[j][rowLo:rowHi]
	}
	p := m.VecPath()
	if len(acts) >= 2 {
		p = m.BatchPath()
	}
	tile := max(1, matMulTileBytes/max(1, m.RowBytes))
	for r0 := rowLo; r0 < rowHi; r0 += tile {
		r1 := min(r0+tile, rowHi)
		matMulTile(m, p, acts, out, r0, r1)
	}
}

func matMulTileGeneric(m Matrix, p Path, acts []*Act, out [][]float32, r0, r1 int) {
	k := m.kernel(p)
	for j, a := range acts {
		o := out[j]
		for r := r0; r < r1; r++ {
			o[r] = k(m.Data[r*m.RowBytes:(r+1)*m.RowBytes], a)
		}
	}
}
