#include "textflag.h"

// AVX2 + FMA K-quant kernels against Q8_K activations, in ggml's AVX2
// order (see dot_generic.go): each super-block's 8 exact integer lane sums
// are fused with float32(dy·d) into an 8-lane float accumulator (Y15),
// the mins into the type's own accumulator; hsum8 at the end.

// shufw<>+32w broadcasts int16 word w of each 128-bit lane.
DATA shufw<>+0(SB)/8, $0x0100010001000100
DATA shufw<>+8(SB)/8, $0x0100010001000100
DATA shufw<>+16(SB)/8, $0x0100010001000100
DATA shufw<>+24(SB)/8, $0x0100010001000100
DATA shufw<>+32(SB)/8, $0x0302030203020302
DATA shufw<>+40(SB)/8, $0x0302030203020302
DATA shufw<>+48(SB)/8, $0x0302030203020302
DATA shufw<>+56(SB)/8, $0x0302030203020302
DATA shufw<>+64(SB)/8, $0x0504050405040504
DATA shufw<>+72(SB)/8, $0x0504050405040504
DATA shufw<>+80(SB)/8, $0x0504050405040504
DATA shufw<>+88(SB)/8, $0x0504050405040504
DATA shufw<>+96(SB)/8, $0x0706070607060706
DATA shufw<>+104(SB)/8, $0x0706070607060706
DATA shufw<>+112(SB)/8, $0x0706070607060706
DATA shufw<>+120(SB)/8, $0x0706070607060706
DATA shufw<>+128(SB)/8, $0x0908090809080908
DATA shufw<>+136(SB)/8, $0x0908090809080908
DATA shufw<>+144(SB)/8, $0x0908090809080908
DATA shufw<>+152(SB)/8, $0x0908090809080908
DATA shufw<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufw<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufw<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufw<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufw<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufw<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufw<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufw<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufw<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufw<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufw<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufw<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL shufw<>(SB), RODATA|NOPTR, $256

// shuf6<>+32k: low lane word 2k, high lane word 2k+1 (Q6_K groups).
DATA shuf6<>+0(SB)/8, $0x0100010001000100
DATA shuf6<>+8(SB)/8, $0x0100010001000100
DATA shuf6<>+16(SB)/8, $0x0302030203020302
DATA shuf6<>+24(SB)/8, $0x0302030203020302
DATA shuf6<>+32(SB)/8, $0x0504050405040504
DATA shuf6<>+40(SB)/8, $0x0504050405040504
DATA shuf6<>+48(SB)/8, $0x0706070607060706
DATA shuf6<>+56(SB)/8, $0x0706070607060706
DATA shuf6<>+64(SB)/8, $0x0908090809080908
DATA shuf6<>+72(SB)/8, $0x0908090809080908
DATA shuf6<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shuf6<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shuf6<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shuf6<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shuf6<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shuf6<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL shuf6<>(SB), RODATA|NOPTR, $128

DATA m30<>+0(SB)/8, $0x3030303030303030
DATA m30<>+8(SB)/8, $0x3030303030303030
DATA m30<>+16(SB)/8, $0x3030303030303030
DATA m30<>+24(SB)/8, $0x3030303030303030
GLOBL m30<>(SB), RODATA|NOPTR, $32

DATA m10<>+0(SB)/8, $0x1010101010101010
DATA m10<>+8(SB)/8, $0x1010101010101010
DATA m10<>+16(SB)/8, $0x1010101010101010
DATA m10<>+24(SB)/8, $0x1010101010101010
GLOBL m10<>(SB), RODATA|NOPTR, $32

DATA k0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k0f<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k0f<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL k0f<>(SB), RODATA|NOPTR, $32

// HSUMD leaves the sum of the 8 int32 lanes of Y in X's lane 0 (X is Y's
// low half); T is scratch.
#define HSUMD(Y, X, XT) \
	VEXTRACTI128 $1, Y, XT \
	VPADDD XT, X, X \
	VPSHUFD $0x4e, X, XT \
	VPADDD XT, X, X \
	VPSHUFD $0xb1, X, XT \
	VPADDD XT, X, X

// KSCALES unpacks the 12 scale bytes at 4(SI) of a Q4_K/Q5_K super-block
// (ggml's kmask trick): Y12 = the 8 scales as int16 in both lanes, X11 =
// ggml's prod: lane l = mn[2l]·q8s[2l] + mn[2l+1]·q8s[2l+1], q8s[k] =
// bsums[2k]+bsums[2k+1] (bsums at R8).
#define KSCALES \
	MOVL 4(SI), AX \
	MOVL 8(SI), BX \
	MOVL 12(SI), R9 \
	MOVL R9, R10 \
	SHRL $4, R10 \
	ANDL $0x0f0f0f0f, R10 \
	MOVL BX, R11 \
	SHRL $6, R11 \
	ANDL $0x03030303, R11 \
	SHLL $4, R11 \
	ORL R11, R10 \
	ANDL $0x3f3f3f3f, BX \
	ANDL $0x0f0f0f0f, R9 \
	MOVL AX, R11 \
	SHRL $6, R11 \
	ANDL $0x03030303, R11 \
	SHLL $4, R11 \
	ORL R11, R9 \
	ANDL $0x3f3f3f3f, AX \
	SHLQ $32, R9 \
	ORQ R9, AX \
	SHLQ $32, R10 \
	ORQ R10, BX \
	MOVQ AX, X12 \
	VPMOVZXBW X12, X12 \
	VINSERTI128 $1, X12, Y12, Y12 \
	MOVQ BX, X11 \
	VPMOVZXBW X11, X11 \
	VMOVDQU 0(R8), X1 \
	VMOVDQU 16(R8), X2 \
	VPHADDW X2, X1, X1 \
	VPMADDWD X1, X11, X11

// KD sets X1 = dy (float32 at DX), Y2 = float32(dy·f16 at d(SI))
// broadcast and, for dm >= 0, X3 = float32(dy·f16 at dm(SI)) (the min
// scale without ggml's minus sign, which the callers fold into a negated
// fused multiply-add).
#define KD(d) \
	VMOVSS       0(DX), X1 \
	MOVWLZX      d(SI), AX \
	VMOVD        AX, X2 \
	VCVTPH2PS    X2, X2 \
	VMULSS       X1, X2, X2 \
	VBROADCASTSS X2, Y2

#define KDMIN(dm) \
	MOVWLZX   dm(SI), AX \
	VMOVD     AX, X3 \
	VCVTPH2PS X3, X3 \
	VMULSS    X1, X3, X3

// KACC fuses the integer lanes Y13 into the accumulator: Y15 += Y2·Y13.
#define KACC \
	VCVTDQ2PS   Y13, Y13 \
	VFMADD231PS Y2, Y13, Y15

// HSUM8 leaves hsum8 of Y's lanes in X's lane 0 (XT scratch).
#define HSUM8(Y, X, XT) \
	VEXTRACTF128 $1, Y, XT \
	VADDPS XT, X, X \
	VMOVHLPS X, X, XT \
	VADDPS XT, X, X \
	VMOVSHDUP X, XT \
	VADDSS XT, X, X

// Q4KPAIR: sub-blocks 2k (low nibbles) and 2k+1 (high nibbles) of the 32
// quant bytes at qs(SI) against y at ylo(DI), yhi(DI); scales are words
// 2k and 2k+1 of Y12 (shufw offsets slo, shi). Adds into Y13.
#define Q4KPAIR(qs, ylo, yhi, slo, shi) \
	VMOVDQU qs(SI), Y0 \
	VPSRLW $4, Y0, Y1 \
	VPAND Y14, Y0, Y0 \
	VPAND Y14, Y1, Y1 \
	VPMADDUBSW ylo(DI), Y0, Y0 \
	VPMADDUBSW yhi(DI), Y1, Y1 \
	VPSHUFB shufw<>+slo(SB), Y12, Y2 \
	VPSHUFB shufw<>+shi(SB), Y12, Y3 \
	VPMADDWD Y2, Y0, Y0 \
	VPMADDWD Y3, Y1, Y1 \
	VPADDD Y0, Y13, Y13 \
	VPADDD Y1, Y13, Y13

// func dotQ4_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
TEXT ·dotQ4_KAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ bsums+24(FP), R8
	MOVQ nsb+32(FP), CX
	VXORPS Y15, Y15, Y15
	VXORPS X10, X10, X10
	VMOVDQU k0f<>(SB), Y14
	TESTQ CX, CX
	JZ    q4kdone

q4kloop:
	KSCALES
	// The 4-lane mins accumulator: X10 = fma(-dmin, prod, X10).
	VMOVSS 0(DX), X1
	KDMIN(2)
	VBROADCASTSS X3, X3
	VCVTDQ2PS X11, X11
	VFNMADD231PS X3, X11, X10
	VPXOR Y13, Y13, Y13
	Q4KPAIR(16, 0, 32, 0, 32)
	Q4KPAIR(48, 64, 96, 64, 96)
	Q4KPAIR(80, 128, 160, 128, 160)
	Q4KPAIR(112, 192, 224, 192, 224)
	KD(0)
	KACC
	ADDQ $144, SI
	ADDQ $256, DI
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  q4kloop

q4kdone:
	HSUM8(Y15, X15, X0)
	VMOVHLPS X10, X10, X1
	VADDPS X1, X10, X10
	VMOVSHDUP X10, X1
	VADDSS X1, X10, X10
	VADDSS X10, X15, X15
	VZEROUPPER
	MOVSS X15, ret+40(FP)
	RET

// Q5KPAIR is Q4KPAIR plus the fifth bits: on entry Y2 and Y3 hold the qh
// bytes shifted so that bits 2k and 2k+1 sit at bit 4 (masked with
// Y9 = 0x10; word shifts only leak bits into positions the mask drops).
#define Q5KPAIR(qs, ylo, yhi, slo, shi) \
	VMOVDQU qs(SI), Y0 \
	VPSRLW $4, Y0, Y1 \
	VPAND Y14, Y0, Y0 \
	VPAND Y14, Y1, Y1 \
	VPAND Y9, Y2, Y2 \
	VPOR Y2, Y0, Y0 \
	VPAND Y9, Y3, Y3 \
	VPOR Y3, Y1, Y1 \
	VPMADDUBSW ylo(DI), Y0, Y0 \
	VPMADDUBSW yhi(DI), Y1, Y1 \
	VPSHUFB shufw<>+slo(SB), Y12, Y2 \
	VPSHUFB shufw<>+shi(SB), Y12, Y3 \
	VPMADDWD Y2, Y0, Y0 \
	VPMADDWD Y3, Y1, Y1 \
	VPADDD Y0, Y13, Y13 \
	VPADDD Y1, Y13, Y13

// func dotQ5_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
TEXT ·dotQ5_KAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ bsums+24(FP), R8
	MOVQ nsb+32(FP), CX
	VXORPS Y15, Y15, Y15
	VXORPS X8, X8, X8
	VMOVDQU k0f<>(SB), Y14
	VMOVDQU m10<>(SB), Y9
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	KSCALES
	VMOVSS 0(DX), X1
	KDMIN(2)
	// The scalar mins sum: X8 = fma(-dmin, Σ prod, X8).
	VPSHUFD $0x4e, X11, X4
	VPADDD X4, X11, X11
	VPSHUFD $0xb1, X11, X4
	VPADDD X4, X11, X11
	VCVTDQ2PS X11, X11
	VFNMADD231SS X3, X11, X8
	VPXOR Y13, Y13, Y13
	VMOVDQU 16(SI), Y10
	VPSLLW $4, Y10, Y2
	VPSLLW $3, Y10, Y3
	Q5KPAIR(48, 0, 32, 0, 32)
	VPSLLW $2, Y10, Y2
	VPSLLW $1, Y10, Y3
	Q5KPAIR(80, 64, 96, 64, 96)
	VMOVDQA Y10, Y2
	VPSRLW $1, Y10, Y3
	Q5KPAIR(112, 128, 160, 128, 160)
	VPSRLW $2, Y10, Y2
	VPSRLW $3, Y10, Y3
	Q5KPAIR(144, 192, 224, 192, 224)
	KD(0)
	KACC
	ADDQ $176, SI
	ADDQ $256, DI
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  q5kloop

q5kdone:
	HSUM8(Y15, X15, X0)
	VADDSS X8, X15, X15
	VZEROUPPER
	MOVSS X15, ret+40(FP)
	RET

// Q6KHALF: one 128-element half of a Q6_K super-block: ql at ql0(SI) and
// ql1(SI), qh at qh(SI), 8 int8 scales at sc(SI), y at y0..y3(DI). Builds
// the unsigned 6-bit quants q1..q4 (Y14 = 0x0F, Y10 = 0x30 masks), dots
// them with y minus 32·y (Y9 = 32: ggml's maddubs(q, y) − maddubs(32, y),
// the signed quants' exact pair sums), scales each 16-group and adds into
// Y12.
#define Q6KHALF(ql0, ql1, qh, sc, y0, y1, y2, y3) \
	VMOVDQU qh(SI), Y0 \
	VMOVDQU ql0(SI), Y1 \
	VMOVDQU ql1(SI), Y2 \
	VPAND Y14, Y1, Y3 \
	VPSLLW $4, Y0, Y4 \
	VPAND Y10, Y4, Y4 \
	VPOR Y4, Y3, Y3 \
	VPAND Y14, Y2, Y4 \
	VPSLLW $2, Y0, Y5 \
	VPAND Y10, Y5, Y5 \
	VPOR Y5, Y4, Y4 \
	VPSRLW $4, Y1, Y5 \
	VPAND Y14, Y5, Y5 \
	VPAND Y10, Y0, Y6 \
	VPOR Y6, Y5, Y5 \
	VPSRLW $4, Y2, Y6 \
	VPAND Y14, Y6, Y6 \
	VPSRLW $2, Y0, Y7 \
	VPAND Y10, Y7, Y7 \
	VPOR Y7, Y6, Y6 \
	VPMADDUBSW y0(DI), Y3, Y3 \
	VPMADDUBSW y0(DI), Y9, Y8 \
	VPSUBW Y8, Y3, Y3 \
	VPMADDUBSW y1(DI), Y4, Y4 \
	VPMADDUBSW y1(DI), Y9, Y8 \
	VPSUBW Y8, Y4, Y4 \
	VPMADDUBSW y2(DI), Y5, Y5 \
	VPMADDUBSW y2(DI), Y9, Y8 \
	VPSUBW Y8, Y5, Y5 \
	VPMADDUBSW y3(DI), Y6, Y6 \
	VPMADDUBSW y3(DI), Y9, Y8 \
	VPSUBW Y8, Y6, Y6 \
	VPMOVSXBW sc(SI), X7 \
	VINSERTI128 $1, X7, Y7, Y7 \
	VPSHUFB shuf6<>+0(SB), Y7, Y8 \
	VPMADDWD Y8, Y3, Y3 \
	VPSHUFB shuf6<>+32(SB), Y7, Y8 \
	VPMADDWD Y8, Y4, Y4 \
	VPSHUFB shuf6<>+64(SB), Y7, Y8 \
	VPMADDWD Y8, Y5, Y5 \
	VPSHUFB shuf6<>+96(SB), Y7, Y8 \
	VPMADDWD Y8, Y6, Y6 \
	VPADDD Y3, Y12, Y12 \
	VPADDD Y4, Y12, Y12 \
	VPADDD Y5, Y12, Y12 \
	VPADDD Y6, Y12, Y12

// func dotQ6_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
TEXT ·dotQ6_KAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ bsums+24(FP), R8
	MOVQ nsb+32(FP), CX
	VXORPS Y15, Y15, Y15
	VMOVDQU k0f<>(SB), Y14
	VMOVDQU m30<>(SB), Y10
	VMOVDQU m20<>(SB), Y9
	TESTQ CX, CX
	JZ    q6kdone

q6kloop:
	VPXOR Y12, Y12, Y12
	Q6KHALF(0, 32, 128, 192, 0, 32, 64, 96)
	Q6KHALF(64, 96, 160, 200, 128, 160, 192, 224)
	KD(208)
	VCVTDQ2PS Y12, Y12
	VFMADD231PS Y2, Y12, Y15
	ADDQ $210, SI
	ADDQ $256, DI
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  q6kloop

q6kdone:
	HSUM8(Y15, X15, X0)
	VZEROUPPER
	MOVSS X15, ret+40(FP)
	RET

DATA m20<>+0(SB)/8, $0x2020202020202020
DATA m20<>+8(SB)/8, $0x2020202020202020
DATA m20<>+16(SB)/8, $0x2020202020202020
DATA m20<>+24(SB)/8, $0x2020202020202020
GLOBL m20<>(SB), RODATA|NOPTR, $32

DATA m03<>+0(SB)/8, $0x0303030303030303
DATA m03<>+8(SB)/8, $0x0303030303030303
DATA m03<>+16(SB)/8, $0x0303030303030303
DATA m03<>+24(SB)/8, $0x0303030303030303
GLOBL m03<>(SB), RODATA|NOPTR, $32

DATA m04<>+0(SB)/8, $0x0404040404040404
DATA m04<>+8(SB)/8, $0x0404040404040404
DATA m04<>+16(SB)/8, $0x0404040404040404
DATA m04<>+24(SB)/8, $0x0404040404040404
GLOBL m04<>(SB), RODATA|NOPTR, $32

DATA w32<>+0(SB)/8, $0x0020002000200020
DATA w32<>+8(SB)/8, $0x0020002000200020
DATA w32<>+16(SB)/8, $0x0020002000200020
DATA w32<>+24(SB)/8, $0x0020002000200020
GLOBL w32<>(SB), RODATA|NOPTR, $32

// K2QUARTER: the 32 elements of shift j in the current half: U holds the
// unsigned quants, dotted with y at y(DI), each 16-group scaled by words
// 2j/2j+1 of Y8 (shuf6 offset sh), added into Y13.
#define K2QUARTER(U, y, sh) \
	VPMADDUBSW y(DI), U, U \
	VPSHUFB shuf6<>+sh(SB), Y8, Y7 \
	VPMADDWD Y7, U, U \
	VPADDD U, Y13, Y13

// Q2HALF: half n of a Q2_K super-block: quants at qs(SI), y at y0..y3(DI);
// Y8 must hold this half's 8 scales (as int16) in both lanes.
#define Q2HALF(qs, y0, y1, y2, y3) \
	VMOVDQU qs(SI), Y0 \
	VPAND Y14, Y0, Y1 \
	K2QUARTER(Y1, y0, 0) \
	VPSRLW $2, Y0, Y1 \
	VPAND Y14, Y1, Y1 \
	K2QUARTER(Y1, y1, 32) \
	VPSRLW $4, Y0, Y1 \
	VPAND Y14, Y1, Y1 \
	K2QUARTER(Y1, y2, 64) \
	VPSRLW $6, Y0, Y1 \
	VPAND Y14, Y1, Y1 \
	K2QUARTER(Y1, y3, 96)

// func dotQ2_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
TEXT ·dotQ2_KAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ bsums+24(FP), R8
	MOVQ nsb+32(FP), CX
	VXORPS Y15, Y15, Y15
	VMOVDQU m03<>(SB), Y14
	VMOVDQU k0f<>(SB), Y10
	TESTQ CX, CX
	JZ    q2kdone

q2kloop:
	// Y9 = the 16 scales (low nibbles) as int16; the mins go first into
	// the accumulator: Y15 = fma(-dmin, prod, Y15), prod lane l =
	// mn[2l]·bsums[2l] + mn[2l+1]·bsums[2l+1].
	KD(80)
	KDMIN(82)
	VBROADCASTSS X3, Y3
	VMOVDQU 0(SI), X0
	VPAND X10, X0, X4
	VPMOVZXBW X4, Y9
	VPSRLW $4, X0, X4
	VPAND X10, X4, X4
	VPMOVZXBW X4, Y4
	VPMADDWD 0(R8), Y4, Y4
	VCVTDQ2PS Y4, Y4
	VFNMADD231PS Y3, Y4, Y15
	VPXOR Y13, Y13, Y13
	VPERMQ $0x44, Y9, Y8
	Q2HALF(16, 0, 32, 64, 96)
	VPERMQ $0xee, Y9, Y8
	Q2HALF(48, 128, 160, 192, 224)
	KACC
	ADDQ $84, SI
	ADDQ $256, DI
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  q2kloop

q2kdone:
	HSUM8(Y15, X15, X0)
	VZEROUPPER
	MOVSS X15, ret+40(FP)
	RET

// Q3QUARTER: shift j of half n (hmask bit b = 4n+j, brought to bit 2 in
// Y2 before the call): u = ((q >> 2j) & 3) | hb<<2, 0..7, dotted with y
// minus 4·y (Y12 = 4: ggml's maddubs(q3l, y) − maddubs(q3h, y), the
// signed quants u − 4), scaled per 16-group, added into Y13.
#define Q3QUARTER(U, y, sh) \
	VPAND Y12, Y2, Y2 \
	VPAND Y14, U, U \
	VPOR Y2, U, U \
	VPMADDUBSW y(DI), U, U \
	VPMADDUBSW y(DI), Y12, Y5 \
	VPSUBW Y5, U, U \
	VPSHUFB shuf6<>+sh(SB), Y8, Y7 \
	VPMADDWD Y7, U, U \
	VPADDD U, Y13, Y13

// func dotQ3_KAVX2(x *byte, yq *int8, yd *float32, bsums *int16, nsb int) float32
TEXT ·dotQ3_KAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ bsums+24(FP), R8
	MOVQ nsb+32(FP), CX
	VXORPS Y15, Y15, Y15
	VMOVDQU m03<>(SB), Y14
	VMOVDQU m04<>(SB), Y12
	VMOVDQU w32<>(SB), Y10
	TESTQ CX, CX
	JZ    q3kdone

q3kloop:
	// Unpack the 16 6-bit scales (ggml's kmask trick), minus 32, into
	// Y9 as int16.
	MOVL 96(SI), AX
	MOVL 100(SI), BX
	MOVL 104(SI), R9
	MOVL AX, R10
	SHRL $4, R10
	ANDL $0x0f0f0f0f, R10
	MOVL R9, R11
	SHRL $4, R11
	ANDL $0x03030303, R11
	SHLL $4, R11
	ORL  R11, R10
	MOVL BX, R12
	SHRL $4, R12
	ANDL $0x0f0f0f0f, R12
	MOVL R9, R11
	SHRL $6, R11
	ANDL $0x03030303, R11
	SHLL $4, R11
	ORL  R11, R12
	ANDL $0x0f0f0f0f, AX
	MOVL R9, R11
	ANDL $0x03030303, R11
	SHLL $4, R11
	ORL  R11, AX
	ANDL $0x0f0f0f0f, BX
	MOVL R9, R11
	SHRL $2, R11
	ANDL $0x03030303, R11
	SHLL $4, R11
	ORL  R11, BX
	SHLQ $32, BX
	ORQ  BX, AX
	SHLQ $32, R12
	ORQ  R12, R10
	MOVQ AX, X9
	MOVQ R10, X1
	VPUNPCKLQDQ X1, X9, X9
	VPMOVZXBW X9, Y9
	VPSUBW Y10, Y9, Y9
	VPXOR Y13, Y13, Y13
	VMOVDQU 0(SI), Y6
	VPERMQ $0x44, Y9, Y8
	VMOVDQU 32(SI), Y0
	VPSLLW $2, Y6, Y2
	VMOVDQA Y0, Y1
	Q3QUARTER(Y1, 0, 0)
	VPSLLW $1, Y6, Y2
	VPSRLW $2, Y0, Y1
	Q3QUARTER(Y1, 32, 32)
	VMOVDQA Y6, Y2
	VPSRLW $4, Y0, Y1
	Q3QUARTER(Y1, 64, 64)
	VPSRLW $1, Y6, Y2
	VPSRLW $6, Y0, Y1
	Q3QUARTER(Y1, 96, 96)
	VPERMQ $0xee, Y9, Y8
	VMOVDQU 64(SI), Y0
	VPSRLW $2, Y6, Y2
	VMOVDQA Y0, Y1
	Q3QUARTER(Y1, 128, 0)
	VPSRLW $3, Y6, Y2
	VPSRLW $2, Y0, Y1
	Q3QUARTER(Y1, 160, 32)
	VPSRLW $4, Y6, Y2
	VPSRLW $4, Y0, Y1
	Q3QUARTER(Y1, 192, 64)
	VPSRLW $5, Y6, Y2
	VPSRLW $6, Y0, Y1
	Q3QUARTER(Y1, 224, 96)
	KD(108)
	KACC
	ADDQ $110, SI
	ADDQ $256, DI
	ADDQ $4, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  q3kloop

q3kdone:
	HSUM8(Y15, X15, X0)
	VZEROUPPER
	MOVSS X15, ret+40(FP)
	RET
