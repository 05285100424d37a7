package quant

// The active implementations of the kernels that have an assembly
// version. They start as the portable Go kernels; useSIMD (simd_amd64.go)
// installs the assembly where the CPU has AVX2, FMA and F16C.
var (
	matVec        = matVecGeneric
	matMulTile    = matMulTileGeneric
	dotF16F16     = dotF16F16Generic
	scoresF16     = scoresF16Generic
	scoresF32     = scoresF32Generic
	expSum        = expSumGeneric
	accumulateF16 = accumulateF16Generic
	accumulateF32 = accumulateF32Generic
	f32ToF16Row   = f32ToF16RowGeneric
	f16ToF32Row   = f16ToF32RowGeneric
	maxF32        = maxGeneric
	scaleF32      = scaleGeneric
	expfRow       = expfRowGeneric
)

// dispatch is a snapshot of every kernel table and function variable, so
// tests can run the portable kernels and switch back.
type dispatch struct {
	kernels, tinyKernels [len(kernels)]kernel
	repackQ4_0           kernel
	matVec               func(m Matrix, p Path, a *Act, out []float32, rowLo, rowHi int)
	matMulTile           func(m Matrix, p Path, acts []*Act, out [][]float32, r0, r1 int)
	dotF16F16            func(a, b []uint16) float32
	scoresF16            func(dst []float32, q, k []uint16, scale float32, tiny bool)
	scoresF32            func(dst []float32, q, k []float32, scale float32)
	expSum               func(w []float32, m float32) float64
	accumulateF16        func(acc []float32, lanes int, v []uint16, p []float32, hd int)
	accumulateF32        func(acc []float32, lanes int, v []float32, p []float32, hd int)
	f32ToF16Row          func(dst []uint16, src []float32)
	f16ToF32Row          func(dst []float32, src []uint16)
	maxF32               func(w []float32) float32
	scaleF32             func(w []float32, s float32)
	expfRow              func(dst, src []float32)
	simd                 bool
}

func current() dispatch {
	return dispatch{kernels, tinyKernels, repackQ4_0, matVec, matMulTile, dotF16F16, scoresF16, scoresF32, expSum,
		accumulateF16, accumulateF32, f32ToF16Row, f16ToF32Row, maxF32, scaleF32, expfRow, hasSIMD}
}

func (d dispatch) install() {
	kernels, tinyKernels, repackQ4_0 = d.kernels, d.tinyKernels, d.repackQ4_0
	matVec, matMulTile, dotF16F16 = d.matVec, d.matMulTile, d.dotF16F16
	scoresF16, scoresF32, expSum = d.scoresF16, d.scoresF32, d.expSum
	accumulateF16, accumulateF32 = d.accumulateF16, d.accumulateF32
	f32ToF16Row, f16ToF32Row = d.f32ToF16Row, d.f16ToF32Row
	maxF32, scaleF32, expfRow = d.maxF32, d.scaleF32, d.expfRow
	hasSIMD = d.simd
}

func portableDispatch() dispatch {
	return dispatch{generic, tinyGeneric, dotQ4_0RepackGeneric, matVecGeneric, matMulTileGeneric, dotF16F16Generic,
		scoresF16Generic, scoresF32Generic, expSumGeneric, accumulateF16Generic, accumulateF32Generic,
		f32ToF16RowGeneric, f16ToF32RowGeneric, maxGeneric, scaleGeneric, expfRowGeneric, false}
}

// SIMD names the kernel family in use, for reports.
func SIMD() string {
	if hasSIMD {
		return "amd64 AVX2"
	}
	return "portable Go"
}
