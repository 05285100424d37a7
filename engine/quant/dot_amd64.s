#include "textflag.h"

// AVX2 + FMA + F16C kernels for the float and 32-element block types.
// Each computes the float operations of its portable twin in
// dot_generic.go (ggml's AVX2 order) with the same instructions ggml
// uses, so the results are the same bits. Integer sums are exact.

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32

DATA nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib<>(SB), RODATA|NOPTR, $32

DATA b08<>+0(SB)/8, $0x0808080808080808
DATA b08<>+8(SB)/8, $0x0808080808080808
DATA b08<>+16(SB)/8, $0x0808080808080808
DATA b08<>+24(SB)/8, $0x0808080808080808
GLOBL b08<>(SB), RODATA|NOPTR, $32

DATA b10<>+0(SB)/8, $0x1010101010101010
DATA b10<>+8(SB)/8, $0x1010101010101010
DATA b10<>+16(SB)/8, $0x1010101010101010
DATA b10<>+24(SB)/8, $0x1010101010101010
GLOBL b10<>(SB), RODATA|NOPTR, $32

DATA bf0<>+0(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA bf0<>+8(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA bf0<>+16(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA bf0<>+24(SB)/8, $0xf0f0f0f0f0f0f0f0
GLOBL bf0<>(SB), RODATA|NOPTR, $32

// Q5 high bits (ggml's bytes_from_bits_32): broadcast qh, give byte j of
// the block a copy of qh's byte j/8, OR in every bit but j%8, compare
// with all-ones.
DATA bitshuf<>+0(SB)/8, $0x0000000000000000
DATA bitshuf<>+8(SB)/8, $0x0101010101010101
DATA bitshuf<>+16(SB)/8, $0x0202020202020202
DATA bitshuf<>+24(SB)/8, $0x0303030303030303
GLOBL bitshuf<>(SB), RODATA|NOPTR, $32

DATA bitmask<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitmask<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitmask<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitmask<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL bitmask<>(SB), RODATA|NOPTR, $32

// HSUM8 leaves hsum8 of Y's lanes in X's lane 0 (X is Y's low half; XT
// scratch): halves added, then 4 → 2 → 1 (ggml's hsum_float_8).
#define HSUM8(Y, X, XT) \
	VEXTRACTF128 $1, Y, XT \
	VADDPS XT, X, X \
	VMOVHLPS X, X, XT \
	VADDPS XT, X, X \
	VMOVSHDUP X, XT \
	VADDSS XT, X, X

// REDUCE32 is GGML_F32x8_REDUCE of Y0..Y3 into X0's lane 0.
#define REDUCE32 \
	VADDPS Y2, Y0, Y0 \
	VADDPS Y3, Y1, Y1 \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VHADDPS X0, X0, X0 \
	VHADDPS X0, X0, X0

// func dotF32VecAVX2(x *byte, y *float32, n int) float32
// ggml_vec_dot_f32: 4×8 FMA lanes, REDUCE32, tail fused one by one.
TEXT ·dotF32VecAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   f32vred

f32vloop:
	VMOVUPS     0(SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	DECQ        BX
	JNZ         f32vloop

f32vred:
	REDUCE32
	ANDQ $31, CX
	JZ   f32vdone

f32vtail:
	VMOVSS      0(SI), X1
	VFMADD231SS 0(DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         f32vtail

f32vdone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16VecAVX2(x *byte, y *float32, n int) float32
// ggml_vec_dot_f16 with binary16 weights against the widened binary16
// activation: exact products in 4×8 lanes, REDUCE32 to float64, the tail
// products added in float64.
TEXT ·dotF16VecAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   f16vred

f16vloop:
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, DI
	DECQ        BX
	JNZ         f16vloop

f16vred:
	REDUCE32
	VCVTSS2SD X0, X0, X0
	ANDQ      $31, CX
	JZ        f16vdone

f16vtail:
	MOVWLZX   0(SI), AX
	VMOVD     AX, X1
	VCVTPH2PS X1, X1
	VMULSS    0(DI), X1, X1
	VCVTSS2SD X1, X1, X1
	VADDSD    X1, X0, X0
	ADDQ      $2, SI
	ADDQ      $4, DI
	DECQ      CX
	JNZ       f16vtail

f16vdone:
	VCVTSD2SS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16F16VecAVX2(x, y *uint16, n int) float32
// DotF16: dotF16VecAVX2 with both operands binary16.
TEXT ·dotF16F16VecAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   hhred

hhloop:
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VCVTPH2PS   0(DI), Y8
	VCVTPH2PS   16(DI), Y9
	VCVTPH2PS   32(DI), Y10
	VCVTPH2PS   48(DI), Y11
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        BX
	JNZ         hhloop

hhred:
	REDUCE32
	VCVTSS2SD X0, X0, X0
	ANDQ      $31, CX
	JZ        hhdone

hhtail:
	MOVWLZX   0(SI), AX
	VMOVD     AX, X1
	VCVTPH2PS X1, X1
	MOVWLZX   0(DI), AX
	VMOVD     AX, X2
	VCVTPH2PS X2, X2
	VMULSS    X2, X1, X1
	VCVTSS2SD X1, X1, X1
	VADDSD    X1, X0, X0
	ADDQ      $2, SI
	ADDQ      $2, DI
	DECQ      CX
	JNZ       hhtail

hhdone:
	VCVTSD2SS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// BF16LOAD widens 8 bfloat16 values at mem into Y.
#define BF16LOAD(mem, Y) \
	VPMOVZXWD mem, Y \
	VPSLLD    $16, Y, Y

// func dotBF16VecAVX2(x *byte, y *float32, n int) float32
// ggml_vec_dot_bf16 (AVX2): 4×8 lanes of contracted multiply-adds,
// (c1+c3)+(c2+c4), HSUM8 to float64, the tail in float64.
TEXT ·dotBF16VecAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   bfvred

bfvloop:
	BF16LOAD(0(SI), Y4)
	BF16LOAD(16(SI), Y5)
	BF16LOAD(32(SI), Y6)
	BF16LOAD(48(SI), Y7)
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, DI
	DECQ        BX
	JNZ         bfvloop

bfvred:
	VADDPS    Y2, Y0, Y0
	VADDPS    Y3, Y1, Y1
	VADDPS    Y1, Y0, Y0
	HSUM8(Y0, X0, X1)
	VCVTSS2SD X0, X0, X0
	ANDQ      $31, CX
	JZ        bfvdone

bfvtail:
	MOVWLZX   0(SI), AX
	SHLL      $16, AX
	VMOVD     AX, X1
	VMULSS    0(DI), X1, X1
	VCVTSS2SD X1, X1, X1
	VADDSD    X1, X0, X0
	ADDQ      $2, SI
	ADDQ      $4, DI
	DECQ      CX
	JNZ       bfvtail

bfvdone:
	VCVTSD2SS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// TINY4 finishes the four tinyBLAS accumulators Y0..Y3 into out (DX).
#define TINY4 \
	HSUM8(Y0, X0, X4) \
	HSUM8(Y1, X1, X4) \
	HSUM8(Y2, X2, X4) \
	HSUM8(Y3, X3, X4) \
	VMOVSS X0, 0(DX) \
	VMOVSS X1, 4(DX) \
	VMOVSS X2, 8(DX) \
	VMOVSS X3, 12(DX)

// func tinyF32x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)
// tinyBLAS order for one F32 row against four activations: one 8-lane
// FMA accumulator each, hsum8. n is a multiple of 8.
TEXT ·tinyF32x4AVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ y0+8(FP), R8
	MOVQ y1+16(FP), R9
	MOVQ y2+24(FP), R10
	MOVQ y3+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   BX, BX
	SHRQ   $3, CX
	JZ     t32done

t32loop:
	VMOVUPS     0(SI)(BX*1), Y4
	VFMADD231PS 0(R8)(BX*1), Y4, Y0
	VFMADD231PS 0(R9)(BX*1), Y4, Y1
	VFMADD231PS 0(R10)(BX*1), Y4, Y2
	VFMADD231PS 0(R11)(BX*1), Y4, Y3
	ADDQ        $32, BX
	DECQ        CX
	JNZ         t32loop

t32done:
	TINY4
	VZEROUPPER
	RET

// func tinyF16x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)
TEXT ·tinyF16x4AVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ y0+8(FP), R8
	MOVQ y1+16(FP), R9
	MOVQ y2+24(FP), R10
	MOVQ y3+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   BX, BX
	SHRQ   $3, CX
	JZ     t16done

t16loop:
	VCVTPH2PS   0(SI), Y4
	VFMADD231PS 0(R8)(BX*1), Y4, Y0
	VFMADD231PS 0(R9)(BX*1), Y4, Y1
	VFMADD231PS 0(R10)(BX*1), Y4, Y2
	VFMADD231PS 0(R11)(BX*1), Y4, Y3
	ADDQ        $16, SI
	ADDQ        $32, BX
	DECQ        CX
	JNZ         t16loop

t16done:
	TINY4
	VZEROUPPER
	RET

// func tinyBF16x4AVX2(x *byte, y0, y1, y2, y3 *float32, n int, out *[4]float32)
TEXT ·tinyBF16x4AVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ y0+8(FP), R8
	MOVQ y1+16(FP), R9
	MOVQ y2+24(FP), R10
	MOVQ y3+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   BX, BX
	SHRQ   $3, CX
	JZ     tbfdone

tbfloop:
	BF16LOAD(0(SI), Y4)
	VFMADD231PS 0(R8)(BX*1), Y4, Y0
	VFMADD231PS 0(R9)(BX*1), Y4, Y1
	VFMADD231PS 0(R10)(BX*1), Y4, Y2
	VFMADD231PS 0(R11)(BX*1), Y4, Y3
	ADDQ        $16, SI
	ADDQ        $32, BX
	DECQ        CX
	JNZ         tbfloop

tbfdone:
	TINY4
	VZEROUPPER
	RET

// SIGNDOT leaves in W the 8 int32 lane sums of the signed byte products
// w·y (4 consecutive bytes per lane; Y clobbered), ggml's
// mul_sum_i8_pairs: |w| ≤ 128, |y| ≤ 128, so no pair sum saturates.
#define SIGNDOT(W, Y) \
	VPSIGNB    W, Y, Y \
	VPSIGNB    W, W, W \
	VPMADDUBSW Y, W, W \
	VPMADDWD   Y15, W, W

// UDOT: the same for unsigned quants U (0..31) times signed bytes at mem.
#define UDOT(U, mem) \
	VPMADDUBSW mem, U, U \
	VPMADDWD   Y15, U, U

// DXY broadcasts float32(f16 at SI) · (float32 at DX) into Y6: the block
// scale product dx·dy (exact).
#define DXY \
	MOVWLZX      0(SI), AX \
	VMOVD        AX, X6 \
	VCVTPH2PS    X6, X6 \
	VMULSS       0(DX), X6, X6 \
	VBROADCASTSS X6, Y6

// NIBBLES unpacks the 16 bytes at mem into Y: low nibbles in bytes 0-15,
// high nibbles in bytes 16-31 (ggml's bytes_from_nibbles_32). X, XT
// scratch halves.
#define NIBBLES(mem, X, Y, XT) \
	VMOVDQU     mem, X \
	VPSRLW      $4, X, XT \
	VINSERTI128 $1, XT, Y, Y \
	VPAND       Y13, Y, Y

// FIFTH sets in Y the bytes_from_bits_32 mask of the qh word at mem:
// 0xFF where the block's bit j is set.
#define FIFTH(mem, Y) \
	VPBROADCASTD mem, Y \
	VPSHUFB      Y12, Y, Y \
	VPOR         Y11, Y, Y \
	VPCMPEQB     Y10, Y, Y

// func dotQ8_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32
TEXT ·dotQ8_0VecAVX2(SB), NOSPLIT, $0-36
	MOVQ    x+0(FP), SI
	MOVQ    yq+8(FP), DI
	MOVQ    yd+16(FP), DX
	MOVQ    nb+24(FP), CX
	VMOVDQU ones16<>(SB), Y15
	VXORPS  Y0, Y0, Y0
	TESTQ   CX, CX
	JZ      q80done

q80loop:
	VMOVDQU     2(SI), Y4
	VMOVDQU     0(DI), Y5
	SIGNDOT(Y4, Y5)
	VCVTDQ2PS   Y4, Y4
	DXY
	VFMADD231PS Y6, Y4, Y0
	ADDQ        $34, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q80loop

q80done:
	HSUM8(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotQ4_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32
TEXT ·dotQ4_0VecAVX2(SB), NOSPLIT, $0-36
	MOVQ    x+0(FP), SI
	MOVQ    yq+8(FP), DI
	MOVQ    yd+16(FP), DX
	MOVQ    nb+24(FP), CX
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VMOVDQU b08<>(SB), Y14
	VXORPS  Y0, Y0, Y0
	TESTQ   CX, CX
	JZ      q40done

q40loop:
	NIBBLES(2(SI), X4, Y4, X5)
	VPSUBB      Y14, Y4, Y4
	VMOVDQU     0(DI), Y5
	SIGNDOT(Y4, Y5)
	VCVTDQ2PS   Y4, Y4
	DXY
	VFMADD231PS Y6, Y4, Y0
	ADDQ        $18, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q40loop

q40done:
	HSUM8(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotQ5_0VecAVX2(x *byte, yq *int8, yd *float32, nb int) float32
// The quants are nibble | 0xF0 where the fifth bit is clear: the signed
// byte nibble − 16 (ggml's andnot with 0xF0).
TEXT ·dotQ5_0VecAVX2(SB), NOSPLIT, $0-36
	MOVQ     x+0(FP), SI
	MOVQ     yq+8(FP), DI
	MOVQ     yd+16(FP), DX
	MOVQ     nb+24(FP), CX
	VMOVDQU  ones16<>(SB), Y15
	VMOVDQU  nib<>(SB), Y13
	VMOVDQU  bitshuf<>(SB), Y12
	VMOVDQU  bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU  bf0<>(SB), Y9
	VXORPS   Y0, Y0, Y0
	TESTQ    CX, CX
	JZ       q50done

q50loop:
	NIBBLES(6(SI), X4, Y4, X5)
	FIFTH(2(SI), Y7)
	VPANDN      Y9, Y7, Y7
	VPOR        Y7, Y4, Y4
	VMOVDQU     0(DI), Y5
	SIGNDOT(Y4, Y5)
	VCVTDQ2PS   Y4, Y4
	DXY
	VFMADD231PS Y6, Y4, Y0
	ADDQ        $22, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q50loop

q50done:
	HSUM8(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// MINS adds float32(m)·s (exact) into X8: m the binary16 at off(SI), s
// the float32 at R10.
#define MINS(off) \
	MOVWLZX   off(SI), AX \
	VMOVD     AX, X7 \
	VCVTPH2PS X7, X7 \
	VMULSS    0(R10), X7, X7 \
	VADDSS    X7, X8, X8

// func dotQ4_1VecAVX2(x *byte, yq *int8, yd *float32, ys *float32, nb int) float32
TEXT ·dotQ4_1VecAVX2(SB), NOSPLIT, $0-44
	MOVQ    x+0(FP), SI
	MOVQ    yq+8(FP), DI
	MOVQ    yd+16(FP), DX
	MOVQ    ys+24(FP), R10
	MOVQ    nb+32(FP), CX
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VXORPS  Y0, Y0, Y0
	VXORPS  X8, X8, X8
	TESTQ   CX, CX
	JZ      q41done

q41loop:
	MINS(2)
	NIBBLES(4(SI), X4, Y4, X5)
	UDOT(Y4, 0(DI))
	VCVTDQ2PS   Y4, Y4
	DXY
	VFMADD231PS Y6, Y4, Y0
	ADDQ        $20, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	ADDQ        $4, R10
	DECQ        CX
	JNZ         q41loop

q41done:
	HSUM8(Y0, X0, X1)
	VADDSS X8, X0, X0
	VZEROUPPER
	MOVSS  X0, ret+40(FP)
	RET

// func dotQ5_1VecAVX2(x *byte, yq *int8, yd *float32, ys *float32, nb int) float32
TEXT ·dotQ5_1VecAVX2(SB), NOSPLIT, $0-44
	MOVQ     x+0(FP), SI
	MOVQ     yq+8(FP), DI
	MOVQ     yd+16(FP), DX
	MOVQ     ys+24(FP), R10
	MOVQ     nb+32(FP), CX
	VMOVDQU  ones16<>(SB), Y15
	VMOVDQU  nib<>(SB), Y13
	VMOVDQU  bitshuf<>(SB), Y12
	VMOVDQU  bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU  b10<>(SB), Y9
	VXORPS   Y0, Y0, Y0
	VXORPS   X8, X8, X8
	TESTQ    CX, CX
	JZ       q51done

q51loop:
	MINS(2)
	NIBBLES(8(SI), X4, Y4, X5)
	FIFTH(4(SI), Y7)
	VPAND       Y9, Y7, Y7
	VPOR        Y7, Y4, Y4
	UDOT(Y4, 0(DI))
	VCVTDQ2PS   Y4, Y4
	DXY
	VFMADD231PS Y6, Y4, Y0
	ADDQ        $24, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	ADDQ        $4, R10
	DECQ        CX
	JNZ         q51loop

q51done:
	HSUM8(Y0, X0, X1)
	VADDSS X8, X0, X0
	VZEROUPPER
	MOVSS  X0, ret+40(FP)
	RET

// func dotQ4_0RepackAVX2(x *byte, yq *int8, yd *float32, ysum *int32, nb int) float32
// The repacked Q4_0 order for one row: each block's exact sum
// Σ(q−8)·y = Σq·y − 8·Σy, then acc = fma(float32(Σ), dx·dy, acc) block
// after block. Four blocks' sums and scales are formed at once; the fused
// chain then takes them in order.
TEXT ·dotQ4_0RepackAVX2(SB), NOSPLIT, $0-44
	MOVQ    x+0(FP), SI
	MOVQ    yq+8(FP), DI
	MOVQ    yd+16(FP), DX
	MOVQ    ysum+24(FP), R10
	MOVQ    nb+32(FP), CX
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VXORPS  X0, X0, X0
	CMPQ    CX, $4
	JB      q4r1tail

q4r1loop:
	NIBBLES(2(SI), X4, Y4, X9)
	UDOT(Y4, 0(DI))
	NIBBLES(20(SI), X5, Y5, X9)
	UDOT(Y5, 32(DI))
	NIBBLES(38(SI), X6, Y6, X9)
	UDOT(Y6, 64(DI))
	NIBBLES(56(SI), X7, Y7, X9)
	UDOT(Y7, 96(DI))
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4
	VMOVDQU      0(R10), X5
	VPSLLD       $3, X5, X5
	VPSUBD       X5, X4, X4
	VCVTDQ2PS    X4, X4
	MOVWLZX      0(SI), AX
	MOVWLZX      18(SI), BX
	SHLQ         $16, BX
	ORQ          BX, AX
	MOVWLZX      36(SI), BX
	SHLQ         $32, BX
	ORQ          BX, AX
	MOVWLZX      54(SI), BX
	SHLQ         $48, BX
	ORQ          BX, AX
	VMOVQ        AX, X5
	VCVTPH2PS    X5, X5
	VMULPS       0(DX), X5, X5
	VFMADD231SS  X5, X4, X0
	VPERMILPS    $0x39, X4, X4
	VPERMILPS    $0x39, X5, X5
	VFMADD231SS  X5, X4, X0
	VPERMILPS    $0x39, X4, X4
	VPERMILPS    $0x39, X5, X5
	VFMADD231SS  X5, X4, X0
	VPERMILPS    $0x39, X4, X4
	VPERMILPS    $0x39, X5, X5
	VFMADD231SS  X5, X4, X0
	ADDQ         $72, SI
	ADDQ         $128, DI
	ADDQ         $16, DX
	ADDQ         $16, R10
	SUBQ         $4, CX
	CMPQ         CX, $4
	JAE          q4r1loop

q4r1tail:
	TESTQ        CX, CX
	JZ           q4r1done

q4r1one:
	NIBBLES(2(SI), X4, Y4, X9)
	UDOT(Y4, 0(DI))
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4
	VPSHUFD      $0x4e, X4, X5
	VPADDD       X5, X4, X4
	VPSHUFD      $0xb1, X4, X5
	VPADDD       X5, X4, X4
	VMOVD        0(R10), X5
	VPSLLD       $3, X5, X5
	VPSUBD       X5, X4, X4
	VCVTDQ2PS    X4, X4
	MOVWLZX      0(SI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6
	VMULSS       0(DX), X6, X6
	VFMADD231SS  X6, X4, X0
	ADDQ         $18, SI
	ADDQ         $32, DI
	ADDQ         $4, DX
	ADDQ         $4, R10
	DECQ         CX
	JNZ          q4r1one

q4r1done:
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET

// REPROW builds row r's (at mem) 8 int32 lane sums of q·y (unsigned
// nibbles q) into DST (Y5 = the activation block; X4/Y4, X7 scratch).
#define REPROW(mem, DST) \
	NIBBLES(mem, X4, Y4, X7) \
	VPMADDUBSW Y5, Y4, Y4 \
	VPMADDWD   Y15, Y4, DST

// func dotQ4_0Repack4AVX2(x *byte, stride int, yq *int8, yd *float32, ysum *int32, nb int, out *[4]float32)
// dotQ4_0RepackAVX2 for the four rows at x + k·stride at once (ggml's
// gemv keeps the rows' accumulators in one vector the same way): lane k
// of X0 is row k's accumulator. The exact block sums are Σq·y − 8·Σy.
TEXT ·dotQ4_0Repack4AVX2(SB), NOSPLIT, $0-56
	MOVQ    x+0(FP), SI
	MOVQ    stride+8(FP), R9
	MOVQ    yq+16(FP), DI
	MOVQ    yd+24(FP), DX
	MOVQ    ysum+32(FP), R10
	MOVQ    nb+40(FP), CX
	MOVQ    out+48(FP), R8
	LEAQ    (R9)(R9*2), R13
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VMOVDQU b08<>(SB), Y14
	VXORPS  X0, X0, X0
	TESTQ   CX, CX
	JZ      q4r4done

q4r4loop:
	VMOVDQU 0(DI), Y5
	REPROW(2(SI), Y8)
	REPROW(2(SI)(R9*1), Y9)
	REPROW(2(SI)(R9*2), Y10)
	REPROW(2(SI)(R13*1), Y11)
	VPHADDD      Y9, Y8, Y8
	VPHADDD      Y11, Y10, Y10
	VPHADDD      Y10, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X8
	VPBROADCASTD 0(R10), X9
	VPSLLD       $3, X9, X9
	VPSUBD       X9, X8, X8
	VCVTDQ2PS    X8, X8
	MOVWLZX      0(SI), AX
	VMOVD        AX, X9
	VPINSRW      $1, 0(SI)(R9*1), X9, X9
	VPINSRW      $2, 0(SI)(R9*2), X9, X9
	VPINSRW      $3, 0(SI)(R13*1), X9, X9
	VCVTPH2PS    X9, X9
	VBROADCASTSS 0(DX), X10
	VMULPS       X10, X9, X9
	VFMADD231PS  X9, X8, X0
	ADDQ         $18, SI
	ADDQ         $32, DI
	ADDQ         $4, DX
	ADDQ         $4, R10
	DECQ         CX
	JNZ          q4r4loop

q4r4done:
	VMOVUPS X0, 0(R8)
	VZEROUPPER
	RET

// Two-row variants of the 32-element block kernels: rows x and x+stride
// against one activation, two independent accumulators (Y0, Y1), so the
// fused multiply-add chains of the two rows overlap. R9 = stride.

// DXYM broadcasts float32(f16 at mem) · (float32 at DX) into Y6.
#define DXYM(mem) \
	MOVWLZX      mem, AX \
	VMOVD        AX, X6 \
	VCVTPH2PS    X6, X6 \
	VMULSS       0(DX), X6, X6 \
	VBROADCASTSS X6, Y6

// SDOT: W = signed weights; Y5 = activation (kept); the lane sums as
// float32 in W.
#define SDOT(W) \
	VPSIGNB    W, Y5, Y7 \
	VPSIGNB    W, W, W \
	VPMADDUBSW Y7, W, W \
	VPMADDWD   Y15, W, W \
	VCVTDQ2PS  W, W

// UDOTF: W = unsigned weights against Y5, lane sums as float32 in W.
#define UDOTF(W) \
	VPMADDUBSW Y5, W, W \
	VPMADDWD   Y15, W, W \
	VCVTDQ2PS  W, W

#define FINISH2 \
	HSUM8(Y0, X0, X2) \
	HSUM8(Y1, X1, X2) \
	VMOVSS X0, 0(R8) \
	VMOVSS X1, 4(R8)

// func dotQ8_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)
TEXT ·dotQ8_0Vec2AVX2(SB), NOSPLIT, $0-48
	MOVQ    x+0(FP), SI
	MOVQ    stride+8(FP), R9
	MOVQ    yq+16(FP), DI
	MOVQ    yd+24(FP), DX
	MOVQ    nb+32(FP), CX
	MOVQ    out+40(FP), R8
	VMOVDQU ones16<>(SB), Y15
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	TESTQ   CX, CX
	JZ      q802done

q802loop:
	VMOVDQU     0(DI), Y5
	VMOVDQU     2(SI), Y3
	SDOT(Y3)
	DXYM(0(SI))
	VFMADD231PS Y6, Y3, Y0
	VMOVDQU     2(SI)(R9*1), Y4
	SDOT(Y4)
	DXYM(0(SI)(R9*1))
	VFMADD231PS Y6, Y4, Y1
	ADDQ        $34, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q802loop

q802done:
	FINISH2
	VZEROUPPER
	RET

// func dotQ4_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)
TEXT ·dotQ4_0Vec2AVX2(SB), NOSPLIT, $0-48
	MOVQ    x+0(FP), SI
	MOVQ    stride+8(FP), R9
	MOVQ    yq+16(FP), DI
	MOVQ    yd+24(FP), DX
	MOVQ    nb+32(FP), CX
	MOVQ    out+40(FP), R8
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VMOVDQU b08<>(SB), Y14
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	TESTQ   CX, CX
	JZ      q402done

q402loop:
	VMOVDQU     0(DI), Y5
	NIBBLES(2(SI), X3, Y3, X8)
	VPSUBB      Y14, Y3, Y3
	SDOT(Y3)
	DXYM(0(SI))
	VFMADD231PS Y6, Y3, Y0
	NIBBLES(2(SI)(R9*1), X4, Y4, X8)
	VPSUBB      Y14, Y4, Y4
	SDOT(Y4)
	DXYM(0(SI)(R9*1))
	VFMADD231PS Y6, Y4, Y1
	ADDQ        $18, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q402loop

q402done:
	FINISH2
	VZEROUPPER
	RET

// func dotQ5_0Vec2AVX2(x *byte, stride int, yq *int8, yd *float32, nb int, out *[2]float32)
TEXT ·dotQ5_0Vec2AVX2(SB), NOSPLIT, $0-48
	MOVQ     x+0(FP), SI
	MOVQ     stride+8(FP), R9
	MOVQ     yq+16(FP), DI
	MOVQ     yd+24(FP), DX
	MOVQ     nb+32(FP), CX
	MOVQ     out+40(FP), R8
	VMOVDQU  ones16<>(SB), Y15
	VMOVDQU  nib<>(SB), Y13
	VMOVDQU  bitshuf<>(SB), Y12
	VMOVDQU  bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU  bf0<>(SB), Y9
	VXORPS   Y0, Y0, Y0
	VXORPS   Y1, Y1, Y1
	TESTQ    CX, CX
	JZ       q502done

q502loop:
	VMOVDQU     0(DI), Y5
	NIBBLES(6(SI), X3, Y3, X8)
	FIFTH(2(SI), Y8)
	VPANDN      Y9, Y8, Y8
	VPOR        Y8, Y3, Y3
	SDOT(Y3)
	DXYM(0(SI))
	VFMADD231PS Y6, Y3, Y0
	NIBBLES(6(SI)(R9*1), X4, Y4, X8)
	FIFTH(2(SI)(R9*1), Y8)
	VPANDN      Y9, Y8, Y8
	VPOR        Y8, Y4, Y4
	SDOT(Y4)
	DXYM(0(SI)(R9*1))
	VFMADD231PS Y6, Y4, Y1
	ADDQ        $22, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         q502loop

q502done:
	FINISH2
	VZEROUPPER
	RET

// DM2 handles the scales of both rows of a Q4_1/Q5_1 block: the halves
// d, m of row 0 (at SI) and row 1 (at SI+R9) times [dy, sy, dy, sy]
// (activation d at DX, s at R10); lanes 1 and 3 (m·s, exact) are added
// into X12 (the rows' min sums), d·dy of row 0 is broadcast into Y6, of
// row 1 into Y8.
#define DM2 \
	VMOVD        0(SI), X6 \
	VPINSRD      $1, 0(SI)(R9*1), X6, X6 \
	VCVTPH2PS    X6, X6 \
	VMOVSS       0(DX), X7 \
	VINSERTPS    $0x10, 0(R10), X7, X7 \
	VMOVLHPS     X7, X7, X7 \
	VMULPS       X7, X6, X6 \
	VADDPS       X6, X12, X12 \
	VMOVHLPS     X6, X6, X8 \
	VBROADCASTSS X8, Y8 \
	VBROADCASTSS X6, Y6

#define FINISH2MIN \
	HSUM8(Y0, X0, X2) \
	HSUM8(Y1, X1, X2) \
	VMOVSHDUP X12, X12 \
	VADDSS X12, X0, X0 \
	VMOVHLPS X12, X12, X12 \
	VADDSS X12, X1, X1 \
	VMOVSS X0, 0(R8) \
	VMOVSS X1, 4(R8)

// func dotQ4_1Vec2AVX2(x *byte, stride int, yq *int8, yd, ys *float32, nb int, out *[2]float32)
TEXT ·dotQ4_1Vec2AVX2(SB), NOSPLIT, $0-56
	MOVQ    x+0(FP), SI
	MOVQ    stride+8(FP), R9
	MOVQ    yq+16(FP), DI
	MOVQ    yd+24(FP), DX
	MOVQ    ys+32(FP), R10
	MOVQ    nb+40(FP), CX
	MOVQ    out+48(FP), R8
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  X12, X12, X12
	TESTQ   CX, CX
	JZ      q412done

q412loop:
	DM2
	VMOVDQU     0(DI), Y5
	NIBBLES(4(SI), X3, Y3, X9)
	UDOTF(Y3)
	VFMADD231PS Y6, Y3, Y0
	NIBBLES(4(SI)(R9*1), X4, Y4, X9)
	UDOTF(Y4)
	VFMADD231PS Y8, Y4, Y1
	ADDQ        $20, SI
	ADDQ        $32, DI
	ADDQ        $4, DX
	ADDQ        $4, R10
	DECQ        CX
	JNZ         q412loop

q412done:
	FINISH2MIN
	VZEROUPPER
	RET

// func dotQ5_1Vec2AVX2(x *byte, stride int, yq *int8, yd, ys *float32, nb int, out *[2]float32)
TEXT ·dotQ5_1Vec2AVX2(SB), NOSPLIT, $0-56
	MOVQ     x+0(FP), SI
	MOVQ     stride+8(FP), R9
	MOVQ     yq+16(FP), DI
	MOVQ     yd+24(FP), DX
	MOVQ     ys+32(FP), R10
	MOVQ     nb+40(FP), CX
	MOVQ     out+48(FP), R8
	VMOVDQU  ones16<>(SB), Y15
	VMOVDQU  nib<>(SB), Y13
	VMOVDQU  bitshuf<>(SB), Y14
	VMOVDQU  bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU  b10<>(SB), Y9
	VXORPS   Y0, Y0, Y0
	VXORPS   Y1, Y1, Y1
	VXORPS   X12, X12, X12
	TESTQ    CX, CX
	JZ       q512done

q512loop:
	DM2
	VMOVDQU      0(DI), Y5
	NIBBLES(8(SI), X3, Y3, X2)
	VPBROADCASTD 4(SI), Y4
	VPSHUFB      Y14, Y4, Y4
	VPOR         Y11, Y4, Y4
	VPCMPEQB     Y10, Y4, Y4
	VPAND        Y9, Y4, Y4
	VPOR         Y4, Y3, Y3
	UDOTF(Y3)
	VFMADD231PS  Y6, Y3, Y0
	NIBBLES(8(SI)(R9*1), X4, Y4, X2)
	VPBROADCASTD 4(SI)(R9*1), Y7
	VPSHUFB      Y14, Y7, Y7
	VPOR         Y11, Y7, Y7
	VPCMPEQB     Y10, Y7, Y7
	VPAND        Y9, Y7, Y7
	VPOR         Y7, Y4, Y4
	UDOTF(Y4)
	VFMADD231PS  Y8, Y4, Y1
	ADDQ         $24, SI
	ADDQ         $32, DI
	ADDQ         $4, DX
	ADDQ         $4, R10
	DECQ         CX
	JNZ          q512loop

q512done:
	FINISH2MIN
	VZEROUPPER
	RET
