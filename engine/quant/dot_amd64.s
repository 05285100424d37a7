#include "textflag.h"

// AVX2 + F16C kernels. Each reproduces the float order of its portable
// twin in dot_generic.go exactly: no FMA, products rounded, lanes as
// documented there. Integer block sums are exact.

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

DATA b10<>+0(SB)/8, $0x1010101010101010
DATA b10<>+8(SB)/8, $0x1010101010101010
DATA b10<>+16(SB)/8, $0x1010101010101010
DATA b10<>+24(SB)/8, $0x1010101010101010
GLOBL b10<>(SB), RODATA|NOPTR, $32

// Q5_0 high bits: broadcast qh, give byte j of the block a copy of qh's
// byte j/8, OR in every bit but j%8, compare with all-ones.
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

// REDUCE32 folds Y0..Y3 (32 lanes) into X0[0] like reduce32.
#define REDUCE32 \
	VADDPS Y1, Y0, Y0 \
	VADDPS Y3, Y2, Y2 \
	VADDPS Y2, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VMOVHLPS X0, X0, X1 \
	VADDPS X1, X0, X0 \
	VMOVSHDUP X0, X1 \
	VADDSS X1, X0, X0

// STORE32 writes Y0..Y3 to the lanes array at DX.
#define STORE32 \
	VMOVUPS Y0, 0(DX) \
	VMOVUPS Y1, 32(DX) \
	VMOVUPS Y2, 64(DX) \
	VMOVUPS Y3, 96(DX)

// func dotF32AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32
// Sums the first n&^7 products; with lanes != nil it stores the 32 lanes
// instead of reducing them (the caller adds the tail).
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ lanes+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   f32tail

f32loop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VMULPS  0(DI), Y4, Y4
	VMULPS  32(DI), Y5, Y5
	VMULPS  64(DI), Y6, Y6
	VMULPS  96(DI), Y7, Y7
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    BX
	JNZ     f32loop

f32tail:
	ANDQ $31, CX
	CMPQ CX, $8
	JB   f32done
	VMOVUPS 0(SI), Y4
	VMULPS  0(DI), Y4, Y4
	VADDPS  Y4, Y0, Y0
	CMPQ CX, $16
	JB   f32done
	VMOVUPS 32(SI), Y5
	VMULPS  32(DI), Y5, Y5
	VADDPS  Y5, Y1, Y1
	CMPQ CX, $24
	JB   f32done
	VMOVUPS 64(SI), Y6
	VMULPS  64(DI), Y6, Y6
	VADDPS  Y6, Y2, Y2

f32done:
	TESTQ DX, DX
	JZ    f32reduce
	STORE32
	VZEROUPPER
	MOVL $0, ret+32(FP)
	RET

f32reduce:
	REDUCE32
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotF16AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32
// Binary16 weights (widened exactly by VCVTPH2PS) times float32 values.
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ lanes+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   f16tail

f16loop:
	VCVTPH2PS 0(SI), Y4
	VCVTPH2PS 16(SI), Y5
	VCVTPH2PS 32(SI), Y6
	VCVTPH2PS 48(SI), Y7
	VMULPS    0(DI), Y4, Y4
	VMULPS    32(DI), Y5, Y5
	VMULPS    64(DI), Y6, Y6
	VMULPS    96(DI), Y7, Y7
	VADDPS    Y4, Y0, Y0
	VADDPS    Y5, Y1, Y1
	VADDPS    Y6, Y2, Y2
	VADDPS    Y7, Y3, Y3
	ADDQ      $64, SI
	ADDQ      $128, DI
	DECQ      BX
	JNZ       f16loop

f16tail:
	ANDQ $31, CX
	CMPQ CX, $8
	JB   f16done
	VCVTPH2PS 0(SI), Y4
	VMULPS    0(DI), Y4, Y4
	VADDPS    Y4, Y0, Y0
	CMPQ CX, $16
	JB   f16done
	VCVTPH2PS 16(SI), Y5
	VMULPS    32(DI), Y5, Y5
	VADDPS    Y5, Y1, Y1
	CMPQ CX, $24
	JB   f16done
	VCVTPH2PS 32(SI), Y6
	VMULPS    64(DI), Y6, Y6
	VADDPS    Y6, Y2, Y2

f16done:
	TESTQ DX, DX
	JZ    f16reduce
	STORE32
	VZEROUPPER
	MOVL $0, ret+32(FP)
	RET

f16reduce:
	REDUCE32
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotBF16AVX2(x *byte, y *float32, n int, lanes *[32]float32) float32
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ lanes+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   bf16tail

bf16loop:
	VPMOVZXWD 0(SI), Y4
	VPMOVZXWD 16(SI), Y5
	VPMOVZXWD 32(SI), Y6
	VPMOVZXWD 48(SI), Y7
	VPSLLD    $16, Y4, Y4
	VPSLLD    $16, Y5, Y5
	VPSLLD    $16, Y6, Y6
	VPSLLD    $16, Y7, Y7
	VMULPS    0(DI), Y4, Y4
	VMULPS    32(DI), Y5, Y5
	VMULPS    64(DI), Y6, Y6
	VMULPS    96(DI), Y7, Y7
	VADDPS    Y4, Y0, Y0
	VADDPS    Y5, Y1, Y1
	VADDPS    Y6, Y2, Y2
	VADDPS    Y7, Y3, Y3
	ADDQ      $64, SI
	ADDQ      $128, DI
	DECQ      BX
	JNZ       bf16loop

bf16tail:
	ANDQ $31, CX
	CMPQ CX, $8
	JB   bf16done
	VPMOVZXWD 0(SI), Y4
	VPSLLD    $16, Y4, Y4
	VMULPS    0(DI), Y4, Y4
	VADDPS    Y4, Y0, Y0
	CMPQ CX, $16
	JB   bf16done
	VPMOVZXWD 16(SI), Y5
	VPSLLD    $16, Y5, Y5
	VMULPS    32(DI), Y5, Y5
	VADDPS    Y5, Y1, Y1
	CMPQ CX, $24
	JB   bf16done
	VPMOVZXWD 32(SI), Y6
	VPSLLD    $16, Y6, Y6
	VMULPS    64(DI), Y6, Y6
	VADDPS    Y6, Y2, Y2

bf16done:
	TESTQ DX, DX
	JZ    bf16reduce
	STORE32
	VZEROUPPER
	MOVL $0, ret+32(FP)
	RET

bf16reduce:
	REDUCE32
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotF16F16AVX2(x, y *uint16, n int, lanes *[32]float32) float32
TEXT ·dotF16F16AVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ lanes+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $5, BX
	JZ   hhtail

hhloop:
	VCVTPH2PS 0(SI), Y4
	VCVTPH2PS 16(SI), Y5
	VCVTPH2PS 32(SI), Y6
	VCVTPH2PS 48(SI), Y7
	VCVTPH2PS 0(DI), Y8
	VCVTPH2PS 16(DI), Y9
	VCVTPH2PS 32(DI), Y10
	VCVTPH2PS 48(DI), Y11
	VMULPS    Y8, Y4, Y4
	VMULPS    Y9, Y5, Y5
	VMULPS    Y10, Y6, Y6
	VMULPS    Y11, Y7, Y7
	VADDPS    Y4, Y0, Y0
	VADDPS    Y5, Y1, Y1
	VADDPS    Y6, Y2, Y2
	VADDPS    Y7, Y3, Y3
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      BX
	JNZ       hhloop

hhtail:
	ANDQ $31, CX
	CMPQ CX, $8
	JB   hhdone
	VCVTPH2PS 0(SI), Y4
	VCVTPH2PS 0(DI), Y8
	VMULPS    Y8, Y4, Y4
	VADDPS    Y4, Y0, Y0
	CMPQ CX, $16
	JB   hhdone
	VCVTPH2PS 16(SI), Y5
	VCVTPH2PS 16(DI), Y9
	VMULPS    Y9, Y5, Y5
	VADDPS    Y5, Y1, Y1
	CMPQ CX, $24
	JB   hhdone
	VCVTPH2PS 32(SI), Y6
	VCVTPH2PS 32(DI), Y10
	VMULPS    Y10, Y6, Y6
	VADDPS    Y6, Y2, Y2

hhdone:
	TESTQ DX, DX
	JZ    hhreduce
	STORE32
	VZEROUPPER
	MOVL $0, ret+32(FP)
	RET

hhreduce:
	REDUCE32
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// SIGNDOT leaves in dst the 8 int32 partial sums of the signed byte
// products w·y (w in W, y in Y; both clobbered). |w| ≤ 128, |y| ≤ 127, so
// the int16 pair sums of VPMADDUBSW cannot saturate.
#define SIGNDOT(W, Y, dst) \
	VPSIGNB W, Y, Y \
	VPSIGNB W, W, W \
	VPMADDUBSW Y, W, W \
	VPMADDWD Y15, W, dst

// BLOCKSUMS turns the per-block int32 vectors Y0..Y3 into X0 =
// [Σ0, Σ1, Σ2, Σ3] (int32).
#define BLOCKSUMS \
	VPHADDD Y1, Y0, Y0 \
	VPHADDD Y3, Y2, Y2 \
	VPHADDD Y2, Y0, Y0 \
	VEXTRACTI128 $1, Y0, X1 \
	VPADDD X1, X0, X0

// UDOT leaves in dst the 8 int32 partial sums of unsigned quants U
// (0..31) times the signed activation bytes at mem.
#define UDOT(U, mem, dst) \
	VPMADDUBSW mem, U, U \
	VPMADDWD Y15, U, dst

// OFFSET subtracts (1<<shift)·Σy of the four blocks (int32 at R9) from
// the block sums in X0: the unsigned quants carry a +8 (Q4_0) or +16
// (Q5_0) offset.
#define OFFSET(shift) \
	VMOVDQU 0(R9), X1 \
	VPSLLD $shift, X1, X1 \
	VPSUBD X1, X0, X0

// SCALES4 loads the binary16 d of four blocks (stride S bytes from SI)
// into X1 as float32 and multiplies by the four activation scales at DX:
// X1 = float32(dx·dy) per block.
#define SCALES4(o1, o2, o3) \
	MOVWQZX 0(SI), AX \
	MOVWQZX o1(SI), BX \
	SHLQ $16, BX \
	ORQ BX, AX \
	MOVWQZX o2(SI), BX \
	SHLQ $32, BX \
	ORQ BX, AX \
	MOVWQZX o3(SI), BX \
	SHLQ $48, BX \
	ORQ BX, AX \
	MOVQ AX, X1 \
	VCVTPH2PS X1, X1 \
	VMULPS 0(DX), X1, X1

// func dotQ8_0AVX2(x *byte, yq *int8, yd *float32, groups int, lanes *[4]float32)
// Adds groups×4 blocks into lanes (block b → lane b%4).
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ groups+24(FP), CX
	MOVQ lanes+32(FP), R8
	VMOVUPS (R8), X14
	VMOVDQU ones16<>(SB), Y15
	TESTQ CX, CX
	JZ    q80done

q80loop:
	VMOVDQU 2(SI), Y4
	VMOVDQU 0(DI), Y5
	SIGNDOT(Y4, Y5, Y0)
	VMOVDQU 36(SI), Y6
	VMOVDQU 32(DI), Y7
	SIGNDOT(Y6, Y7, Y1)
	VMOVDQU 70(SI), Y8
	VMOVDQU 64(DI), Y9
	SIGNDOT(Y8, Y9, Y2)
	VMOVDQU 104(SI), Y10
	VMOVDQU 96(DI), Y11
	SIGNDOT(Y10, Y11, Y3)
	BLOCKSUMS
	VCVTDQ2PS X0, X0
	SCALES4(34, 68, 102)
	VMULPS X1, X0, X0
	VADDPS X0, X14, X14
	ADDQ $136, SI
	ADDQ $128, DI
	ADDQ $16, DX
	DECQ CX
	JNZ  q80loop

q80done:
	VMOVUPS X14, (R8)
	VZEROUPPER
	RET

// func dotQ4_0AVX2(x *byte, yq *int8, yd *float32, ysum *int32, groups int, lanes *[4]float32)
// Σ(q−8)·y is computed as Σq·y − 8·Σy with the activation's block sums.
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ ysum+24(FP), R9
	MOVQ groups+32(FP), CX
	MOVQ lanes+40(FP), R8
	VMOVUPS (R8), X14
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	TESTQ CX, CX
	JZ    q40done

q40loop:
	VMOVDQU 2(SI), X4
	VPSRLW $4, X4, X5
	VINSERTI128 $1, X5, Y4, Y4
	VPAND Y13, Y4, Y4
	UDOT(Y4, 0(DI), Y0)
	VMOVDQU 20(SI), X6
	VPSRLW $4, X6, X7
	VINSERTI128 $1, X7, Y6, Y6
	VPAND Y13, Y6, Y6
	UDOT(Y6, 32(DI), Y1)
	VMOVDQU 38(SI), X8
	VPSRLW $4, X8, X9
	VINSERTI128 $1, X9, Y8, Y8
	VPAND Y13, Y8, Y8
	UDOT(Y8, 64(DI), Y2)
	VMOVDQU 56(SI), X10
	VPSRLW $4, X10, X11
	VINSERTI128 $1, X11, Y10, Y10
	VPAND Y13, Y10, Y10
	UDOT(Y10, 96(DI), Y3)
	BLOCKSUMS
	OFFSET(3)
	VCVTDQ2PS X0, X0
	SCALES4(18, 36, 54)
	VMULPS X1, X0, X0
	VADDPS X0, X14, X14
	ADDQ $72, SI
	ADDQ $128, DI
	ADDQ $16, DX
	ADDQ $16, R9
	DECQ CX
	JNZ  q40loop

q40done:
	VMOVUPS X14, (R8)
	VZEROUPPER
	RET

// Q5BLOCK builds block k's unsigned 5-bit quants q | hb<<4 in YW from
// the nibbles at qs(SI) and the bits of qh(SI). Uses XT/YT.
#define Q5BLOCK(qh, qs, XW, YW, XT, YT) \
	VMOVDQU qs(SI), XW \
	VPSRLW $4, XW, XT \
	VINSERTI128 $1, XT, YW, YW \
	VPAND Y13, YW, YW \
	VPBROADCASTD qh(SI), YT \
	VPSHUFB Y12, YT, YT \
	VPOR Y11, YT, YT \
	VPCMPEQB Y10, YT, YT \
	VPAND Y9, YT, YT \
	VPOR YT, YW, YW

// func dotQ5_0AVX2(x *byte, yq *int8, yd *float32, ysum *int32, groups int, lanes *[4]float32)
TEXT ·dotQ5_0AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ ysum+24(FP), R9
	MOVQ groups+32(FP), CX
	MOVQ lanes+40(FP), R8
	VMOVUPS (R8), X14
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VMOVDQU bitshuf<>(SB), Y12
	VMOVDQU bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU b10<>(SB), Y9
	TESTQ CX, CX
	JZ    q50done

q50loop:
	Q5BLOCK(2, 6, X4, Y4, X5, Y5)
	UDOT(Y4, 0(DI), Y0)
	Q5BLOCK(24, 28, X6, Y6, X7, Y7)
	UDOT(Y6, 32(DI), Y1)
	Q5BLOCK(46, 50, X4, Y4, X5, Y5)
	UDOT(Y4, 64(DI), Y2)
	Q5BLOCK(68, 72, X6, Y6, X7, Y7)
	UDOT(Y6, 96(DI), Y3)
	BLOCKSUMS
	OFFSET(4)
	VCVTDQ2PS X0, X0
	SCALES4(22, 44, 66)
	VMULPS X1, X0, X0
	VADDPS X0, X14, X14
	ADDQ $88, SI
	ADDQ $128, DI
	ADDQ $16, DX
	ADDQ $16, R9
	DECQ CX
	JNZ  q50loop

q50done:
	VMOVUPS X14, (R8)
	VZEROUPPER
	RET

// HALF4 gathers the binary16 values at o0..o3(SI) into X as four float32.
#define HALF4(o0, o1, o2, o3, X) \
	MOVWQZX o0(SI), AX \
	MOVWQZX o1(SI), BX \
	SHLQ $16, BX \
	ORQ BX, AX \
	MOVWQZX o2(SI), BX \
	SHLQ $32, BX \
	ORQ BX, AX \
	MOVWQZX o3(SI), BX \
	SHLQ $48, BX \
	ORQ BX, AX \
	MOVQ AX, X \
	VCVTPH2PS X, X

// MINTERM finishes a group of four Q4_1/Q5_1 blocks: X0 holds the exact
// block sums Σq·y (int32). Per block c = float32(float32(Σ)·float32(dx·dy))
// + float32(m·s), added to the lanes in X14. Block stride S; m at 2(SI).
#define MINTERM(s1, s2, s3, m0, m1, m2, m3) \
	VCVTDQ2PS X0, X0 \
	SCALES4(s1, s2, s3) \
	VMULPS X1, X0, X0 \
	HALF4(m0, m1, m2, m3, X2) \
	VMULPS 0(R10), X2, X2 \
	VADDPS X2, X0, X0 \
	VADDPS X0, X14, X14

// func dotQ4_1AVX2(x *byte, yq *int8, yd *float32, ys *float32, groups int, lanes *[4]float32)
TEXT ·dotQ4_1AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ ys+24(FP), R10
	MOVQ groups+32(FP), CX
	MOVQ lanes+40(FP), R8
	VMOVUPS (R8), X14
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	TESTQ CX, CX
	JZ    q41done

q41loop:
	VMOVDQU 4(SI), X4
	VPSRLW $4, X4, X5
	VINSERTI128 $1, X5, Y4, Y4
	VPAND Y13, Y4, Y4
	UDOT(Y4, 0(DI), Y0)
	VMOVDQU 24(SI), X6
	VPSRLW $4, X6, X7
	VINSERTI128 $1, X7, Y6, Y6
	VPAND Y13, Y6, Y6
	UDOT(Y6, 32(DI), Y1)
	VMOVDQU 44(SI), X8
	VPSRLW $4, X8, X9
	VINSERTI128 $1, X9, Y8, Y8
	VPAND Y13, Y8, Y8
	UDOT(Y8, 64(DI), Y2)
	VMOVDQU 64(SI), X10
	VPSRLW $4, X10, X11
	VINSERTI128 $1, X11, Y10, Y10
	VPAND Y13, Y10, Y10
	UDOT(Y10, 96(DI), Y3)
	BLOCKSUMS
	MINTERM(20, 40, 60, 2, 22, 42, 62)
	ADDQ $80, SI
	ADDQ $128, DI
	ADDQ $16, DX
	ADDQ $16, R10
	DECQ CX
	JNZ  q41loop

q41done:
	VMOVUPS X14, (R8)
	VZEROUPPER
	RET

// func dotQ5_1AVX2(x *byte, yq *int8, yd *float32, ys *float32, groups int, lanes *[4]float32)
TEXT ·dotQ5_1AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ yq+8(FP), DI
	MOVQ yd+16(FP), DX
	MOVQ ys+24(FP), R10
	MOVQ groups+32(FP), CX
	MOVQ lanes+40(FP), R8
	VMOVUPS (R8), X14
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y13
	VMOVDQU bitshuf<>(SB), Y12
	VMOVDQU bitmask<>(SB), Y11
	VPCMPEQB Y10, Y10, Y10
	VMOVDQU b10<>(SB), Y9
	TESTQ CX, CX
	JZ    q51done

q51loop:
	Q5BLOCK(4, 8, X4, Y4, X5, Y5)
	UDOT(Y4, 0(DI), Y0)
	Q5BLOCK(28, 32, X6, Y6, X7, Y7)
	UDOT(Y6, 32(DI), Y1)
	Q5BLOCK(52, 56, X4, Y4, X5, Y5)
	UDOT(Y4, 64(DI), Y2)
	Q5BLOCK(76, 80, X6, Y6, X7, Y7)
	UDOT(Y6, 96(DI), Y3)
	BLOCKSUMS
	MINTERM(24, 48, 72, 2, 26, 50, 74)
	ADDQ $96, SI
	ADDQ $128, DI
	ADDQ $16, DX
	ADDQ $16, R10
	DECQ CX
	JNZ  q51loop

q51done:
	VMOVUPS X14, (R8)
	VZEROUPPER
	RET
