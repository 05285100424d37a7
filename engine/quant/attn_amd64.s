#include "textflag.h"

// AVX2 + FMA + F16C attention kernels (see attn.go): the same operations
// as the portable versions, eight lanes at a time.

#define CONST8(name, v) \
	DATA name<>+0(SB)/4, v \
	DATA name<>+4(SB)/4, v \
	DATA name<>+8(SB)/4, v \
	DATA name<>+12(SB)/4, v \
	DATA name<>+16(SB)/4, v \
	DATA name<>+20(SB)/4, v \
	DATA name<>+24(SB)/4, v \
	DATA name<>+28(SB)/4, v \
	GLOBL name<>(SB), RODATA|NOPTR, $32

// ggml_v_expf's constants (AVX2 + FMA version).
CONST8(exR, $0x4b400000)    // 0x1.8p23
CONST8(exL2, $0x3fb8aa3b)   // 0x1.715476p+0
CONST8(exC1, $0x3f317200)   // 0x1.62e4p-1
CONST8(exC2, $0x35bfbe8e)   // 0x1.7f7d1cp-20
CONST8(exOne, $0x3f800000)  // 1.0f
CONST8(exAbs, $0x7fffffff)
CONST8(ex126, $0x42fc0000)  // 126
CONST8(ex192, $0x43400000)  // 192
CONST8(exP0, $0x3c072010)   // 0x1.0e4020p-7
CONST8(exP1, $0x3d2b9f17)   // 0x1.573e2ep-5
CONST8(exP2, $0x3e2aaf33)   // 0x1.555e66p-3
CONST8(exP3, $0x3efffedb)   // 0x1.fffdb6p-2
CONST8(exP4, $0x3f7ffff6)   // 0x1.ffffecp-1
CONST8(ex82, $0x82000000)
CONST8(ex7f, $0x7f000000)

// func expSumAVX2(w *float32, n8 int, m float32) float64
// Sets w[i] = Expf(w[i] - m) (ggml_v_expf, AVX2 + FMA) over n8 groups of
// 8 and returns the float64 sum of each group's hsum8.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-32
	MOVQ         w+0(FP), SI
	MOVQ         n8+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VXORPD       X13, X13, X13
	VMOVSD       X13, ret+24(FP)
	TESTQ        CX, CX
	JZ           esdone

esloop:
	VMOVUPS      0(SI), Y0
	VSUBPS       Y15, Y0, Y0
	// z = fma(x, log2e, r), n = z − r, b = x − n·c1 − n·c2 (fused)
	VMOVUPS      exR<>(SB), Y1
	VFMADD231PS  exL2<>(SB), Y0, Y1
	VSUBPS       exR<>(SB), Y1, Y2
	VMOVAPS      Y0, Y3
	VFNMADD231PS exC1<>(SB), Y2, Y3
	VFNMADD231PS exC2<>(SB), Y2, Y3
	// e = bits(z) << 23, k = bits(e + bits(1)), c = |n| > 126
	VPSLLD       $23, Y1, Y4
	VPADDD       exOne<>(SB), Y4, Y5
	VANDPS       exAbs<>(SB), Y2, Y6
	VCMPPS       $0x1e, ex126<>(SB), Y6, Y7
	// u = b², j = fma(fma(fma(p0, b, p1), u, fma(p2, b, p3)), u, p4·b)
	VMULPS       Y3, Y3, Y8
	VMOVUPS      exP1<>(SB), Y9
	VFMADD231PS  exP0<>(SB), Y3, Y9
	VMOVUPS      exP3<>(SB), Y10
	VFMADD231PS  exP2<>(SB), Y3, Y10
	VFMADD231PS  Y8, Y9, Y10
	VMULPS       exP4<>(SB), Y3, Y11
	VFMADD231PS  Y8, Y10, Y11
	// Y0 = fma(j, k, k)
	VMOVAPS      Y5, Y0
	VFMADD231PS  Y11, Y5, Y0
	VMOVMSKPS    Y7, AX
	TESTL        AX, AX
	JZ           esstore
	// Lanes with |n| > 126: fma(s2, j, s2)·s1, and s1·s1 where |n| > 192;
	// g = n <= 0 ? 0x82000000 : 0, s1 = bits(g + 0x7f000000),
	// s2 = bits(e − g).
	VXORPS       Y12, Y12, Y12
	VCMPPS       $0x12, Y12, Y2, Y12
	VANDPS       ex82<>(SB), Y12, Y12
	VPADDD       ex7f<>(SB), Y12, Y13
	VPSUBD       Y12, Y4, Y14
	VMOVAPS      Y14, Y12
	VFMADD231PS  Y11, Y14, Y12
	VMULPS       Y13, Y12, Y12
	VBLENDVPS    Y7, Y12, Y0, Y0
	VMULPS       Y13, Y13, Y13
	VCMPPS       $0x1e, ex192<>(SB), Y6, Y7
	VBLENDVPS    Y7, Y13, Y0, Y0

esstore:
	VMOVUPS      Y0, 0(SI)
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VCVTSS2SD    X0, X0, X0
	VADDSD       ret+24(FP), X0, X0
	VMOVSD       X0, ret+24(FP)
	ADDQ         $32, SI
	DECQ         CX
	JNZ          esloop

esdone:
	VZEROUPPER
	RET

// HSUM8 leaves hsum8 of Y's lanes in X's lane 0 (XT scratch).
#define HSUM8(Y, X, XT) \
	VEXTRACTF128 $1, Y, XT \
	VADDPS XT, X, X \
	VMOVHLPS X, X, XT \
	VADDPS XT, X, X \
	VMOVSHDUP X, XT \
	VADDSS XT, X, X

// func scoresF16TinyAVX2(dst *float32, q, k *uint16, hd, cells int, scale float32)
// dst[j] = hsum8 of the 8-lane fused dot of k_j and q, times scale; hd is
// a multiple of 8.
TEXT ·scoresF16TinyAVX2(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         q+8(FP), R8
	MOVQ         k+16(FP), SI
	MOVQ         hd+24(FP), R9
	MOVQ         cells+32(FP), CX
	VMOVSS       scale+40(FP), X15
	SHRQ         $3, R9
	TESTQ        CX, CX
	JZ           stdone

stcell:
	VXORPS       Y0, Y0, Y0
	MOVQ         R8, R10
	MOVQ         R9, BX

stdim:
	VCVTPH2PS    0(SI), Y1
	VCVTPH2PS    0(R10), Y2
	VFMADD231PS  Y2, Y1, Y0
	ADDQ         $16, SI
	ADDQ         $16, R10
	DECQ         BX
	JNZ          stdim
	HSUM8(Y0, X0, X1)
	VMULSS       X15, X0, X0
	VMOVSS       X0, 0(DI)
	ADDQ         $4, DI
	DECQ         CX
	JNZ          stcell

stdone:
	VZEROUPPER
	RET

// REDUCE32 is GGML_F32x8_REDUCE of Y0..Y3 into X0's lane 0.
#define REDUCE32 \
	VADDPS Y2, Y0, Y0 \
	VADDPS Y3, Y1, Y1 \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VHADDPS X0, X0, X0 \
	VHADDPS X0, X0, X0

// func scoresF16VecAVX2(dst *float32, q, k *uint16, hd, cells int, scale float32)
// ggml_vec_dot_f16 order for hd a multiple of 32 (no float64 tail).
TEXT ·scoresF16VecAVX2(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         q+8(FP), R8
	MOVQ         k+16(FP), SI
	MOVQ         hd+24(FP), R9
	MOVQ         cells+32(FP), CX
	VMOVSS       scale+40(FP), X15
	SHRQ         $5, R9
	TESTQ        CX, CX
	JZ           svdone

svcell:
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	MOVQ         R8, R10
	MOVQ         R9, BX

svdim:
	VCVTPH2PS    0(SI), Y4
	VCVTPH2PS    16(SI), Y5
	VCVTPH2PS    32(SI), Y6
	VCVTPH2PS    48(SI), Y7
	VCVTPH2PS    0(R10), Y8
	VCVTPH2PS    16(R10), Y9
	VCVTPH2PS    32(R10), Y10
	VCVTPH2PS    48(R10), Y11
	VFMADD231PS  Y8, Y4, Y0
	VFMADD231PS  Y9, Y5, Y1
	VFMADD231PS  Y10, Y6, Y2
	VFMADD231PS  Y11, Y7, Y3
	ADDQ         $64, SI
	ADDQ         $64, R10
	DECQ         BX
	JNZ          svdim
	REDUCE32
	VMULSS       X15, X0, X0
	VMOVSS       X0, 0(DI)
	ADDQ         $4, DI
	DECQ         CX
	JNZ          svcell

svdone:
	VZEROUPPER
	RET

// func scoresF32AVX2(dst *float32, q, k *float32, hd, cells int, scale float32)
// ggml_vec_dot_f32 per cell (any hd): 4×8 FMA lanes, REDUCE32, the tail
// fused one by one; times scale.
TEXT ·scoresF32AVX2(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         q+8(FP), R8
	MOVQ         k+16(FP), SI
	MOVQ         hd+24(FP), R9
	MOVQ         cells+32(FP), CX
	VMOVSS       scale+40(FP), X15
	MOVQ         R9, R11
	ANDQ         $31, R11
	SHRQ         $5, R9
	TESTQ        CX, CX
	JZ           sfdone

sfcell:
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	MOVQ         R8, R10
	MOVQ         R9, BX
	TESTQ        BX, BX
	JZ           sfred

sfdim:
	VMOVUPS      0(SI), Y4
	VMOVUPS      32(SI), Y5
	VMOVUPS      64(SI), Y6
	VMOVUPS      96(SI), Y7
	VFMADD231PS  0(R10), Y4, Y0
	VFMADD231PS  32(R10), Y5, Y1
	VFMADD231PS  64(R10), Y6, Y2
	VFMADD231PS  96(R10), Y7, Y3
	ADDQ         $128, SI
	ADDQ         $128, R10
	DECQ         BX
	JNZ          sfdim

sfred:
	REDUCE32
	MOVQ         R11, BX
	TESTQ        BX, BX
	JZ           sfstore

sftail:
	VMOVSS       0(SI), X1
	VFMADD231SS  0(R10), X1, X0
	ADDQ         $4, SI
	ADDQ         $4, R10
	DECQ         BX
	JNZ          sftail

sfstore:
	VMULSS       X15, X0, X0
	VMOVSS       X0, 0(DI)
	ADDQ         $4, DI
	DECQ         CX
	JNZ          sfcell

sfdone:
	VZEROUPPER
	RET

// func accumulateF16AVX2(acc *float32, lanes int, v *uint16, p *float32, hd, cells int)
// acc[(j%lanes)·hd + d] += v[j·hd + d]·p[j] (fused; the products are
// exact), hd a multiple of 8.
TEXT ·accumulateF16AVX2(SB), NOSPLIT, $0-48
	MOVQ         acc+0(FP), DI
	MOVQ         lanes+8(FP), R12
	MOVQ         v+16(FP), SI
	MOVQ         p+24(FP), R8
	MOVQ         hd+32(FP), R9
	MOVQ         cells+40(FP), CX
	MOVQ         R9, R13
	SHLQ         $2, R13       // lane stride in bytes
	SHRQ         $3, R9        // 8-element steps per row
	XORQ         R11, R11      // lane index
	MOVQ         DI, R10       // lane pointer
	TESTQ        CX, CX
	JZ           a16done

a16cell:
	VBROADCASTSS 0(R8), Y1
	MOVQ         R10, DX
	MOVQ         R9, BX

a16dim:
	VCVTPH2PS    0(SI), Y0
	VFMADD213PS  0(DX), Y1, Y0
	VMOVUPS      Y0, 0(DX)
	ADDQ         $16, SI
	ADDQ         $32, DX
	DECQ         BX
	JNZ          a16dim
	ADDQ         $4, R8
	INCQ         R11
	ADDQ         R13, R10
	CMPQ         R11, R12
	JNE          a16next
	XORQ         R11, R11
	MOVQ         DI, R10

a16next:
	DECQ         CX
	JNZ          a16cell

a16done:
	VZEROUPPER
	RET

// func accumulateF32AVX2(acc *float32, lanes int, v *float32, p *float32, hd, cells int)
TEXT ·accumulateF32AVX2(SB), NOSPLIT, $0-48
	MOVQ         acc+0(FP), DI
	MOVQ         lanes+8(FP), R12
	MOVQ         v+16(FP), SI
	MOVQ         p+24(FP), R8
	MOVQ         hd+32(FP), R9
	MOVQ         cells+40(FP), CX
	MOVQ         R9, R13
	SHLQ         $2, R13
	SHRQ         $3, R9
	XORQ         R11, R11
	MOVQ         DI, R10
	TESTQ        CX, CX
	JZ           a32done

a32cell:
	VBROADCASTSS 0(R8), Y1
	MOVQ         R10, DX
	MOVQ         R9, BX

a32dim:
	VMOVUPS      0(SI), Y0
	VFMADD213PS  0(DX), Y1, Y0
	VMOVUPS      Y0, 0(DX)
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         BX
	JNZ          a32dim
	ADDQ         $4, R8
	INCQ         R11
	ADDQ         R13, R10
	CMPQ         R11, R12
	JNE          a32next
	XORQ         R11, R11
	MOVQ         DI, R10

a32next:
	DECQ         CX
	JNZ          a32cell

a32done:
	VZEROUPPER
	RET

// func f32ToF16RowAVX2(dst *uint16, src *float32, n8 int)
TEXT ·f32ToF16RowAVX2(SB), NOSPLIT, $0-24
	MOVQ      dst+0(FP), DI
	MOVQ      src+8(FP), SI
	MOVQ      n8+16(FP), CX
	TESTQ     CX, CX
	JZ        c16done

c16loop:
	VMOVUPS   0(SI), Y0
	VCVTPS2PH $0, Y0, X1
	VMOVDQU   X1, 0(DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       c16loop

c16done:
	VZEROUPPER
	RET

// func f16ToF32RowAVX2(dst *float32, src *uint16, n8 int)
TEXT ·f16ToF32RowAVX2(SB), NOSPLIT, $0-24
	MOVQ      dst+0(FP), DI
	MOVQ      src+8(FP), SI
	MOVQ      n8+16(FP), CX
	TESTQ     CX, CX
	JZ        c32done

c32loop:
	VCVTPH2PS 0(SI), Y0
	VMOVUPS   Y0, 0(DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       c32loop

c32done:
	VZEROUPPER
	RET

// func maxAVX2(w *float32, n8 int) float32
// The largest of n8·8 values (none NaN).
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ         w+0(FP), SI
	MOVQ         n8+8(FP), CX
	VMOVUPS      0(SI), Y0

mxloop:
	VMAXPS       0(SI), Y0, Y0
	ADDQ         $32, SI
	DECQ         CX
	JNZ          mxloop
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VMAXSS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+16(FP)
	RET

// func scaleAVX2(w *float32, n8 int, s float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ         w+0(FP), SI
	MOVQ         n8+8(FP), CX
	VBROADCASTSS s+16(FP), Y1

scloop:
	VMULPS       0(SI), Y1, Y0
	VMOVUPS      Y0, 0(SI)
	ADDQ         $32, SI
	DECQ         CX
	JNZ          scloop
	VZEROUPPER
	RET

// func expfRowAVX2(dst, src *float32, n8 int)
// dst[i] = Expf(src[i]) over n8 groups of 8.
TEXT ·expfRowAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n8+16(FP), CX

erloop:
	VMOVUPS      0(SI), Y0
	VMOVUPS      exR<>(SB), Y1
	VFMADD231PS  exL2<>(SB), Y0, Y1
	VSUBPS       exR<>(SB), Y1, Y2
	VMOVAPS      Y0, Y3
	VFNMADD231PS exC1<>(SB), Y2, Y3
	VFNMADD231PS exC2<>(SB), Y2, Y3
	VPSLLD       $23, Y1, Y4
	VPADDD       exOne<>(SB), Y4, Y5
	VANDPS       exAbs<>(SB), Y2, Y6
	VCMPPS       $0x1e, ex126<>(SB), Y6, Y7
	VMULPS       Y3, Y3, Y8
	VMOVUPS      exP1<>(SB), Y9
	VFMADD231PS  exP0<>(SB), Y3, Y9
	VMOVUPS      exP3<>(SB), Y10
	VFMADD231PS  exP2<>(SB), Y3, Y10
	VFMADD231PS  Y8, Y9, Y10
	VMULPS       exP4<>(SB), Y3, Y11
	VFMADD231PS  Y8, Y10, Y11
	VMOVAPS      Y5, Y0
	VFMADD231PS  Y11, Y5, Y0
	VMOVMSKPS    Y7, AX
	TESTL        AX, AX
	JZ           erstore
	VXORPS       Y12, Y12, Y12
	VCMPPS       $0x12, Y12, Y2, Y12
	VANDPS       ex82<>(SB), Y12, Y12
	VPADDD       ex7f<>(SB), Y12, Y13
	VPSUBD       Y12, Y4, Y14
	VMOVAPS      Y14, Y12
	VFMADD231PS  Y11, Y14, Y12
	VMULPS       Y13, Y12, Y12
	VBLENDVPS    Y7, Y12, Y0, Y0
	VMULPS       Y13, Y13, Y13
	VCMPPS       $0x1e, ex192<>(SB), Y6, Y7
	VBLENDVPS    Y7, Y13, Y0, Y0

erstore:
	VMOVUPS      Y0, 0(DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          erloop
	VZEROUPPER
	RET
