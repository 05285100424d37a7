#include "go_asm.h"
#include "textflag.h"

// mru2Loop: fused2Loop (fast_amd64.s) over sets kept in recency order
// (mru.go), with AVX2. A set's tag words (line | fValid, fDirty for a
// modified line) are in one or two 256-bit vectors: a lookup compares
// every way with the key at once (the dirty flag masked off), and moving
// the word at position p to the front shifts positions 0..p-1 back by
// one: a lane permutation blended in by the mask of lanes 1..p, then the
// word inserted in lane 0. A miss is the move with p = ways-1 of the new
// word: the word falling off the end is the LRU victim.

#define CNT(i) (fastState_cnt+8*i)(DI)

// MRU4 moves R9 to the front of the 4-way set at S, shifting positions
// 0..AX-1 back (AX is clobbered; DX, Y2-Y5 scratch).
#define MRU4(S) \
	VMOVDQU (S), Y2; \
	VPERMQ  $0x90, Y2, Y3; \
	SHLQ    $5, AX; \
	LEAQ    mruMask4<>(SB), DX; \
	VMOVDQU (DX)(AX*1), Y4; \
	VPBLENDVB Y4, Y3, Y2, Y2; \
	VMOVQ   R9, X5; \
	VPBLENDD $0x03, Y5, Y2, Y2; \
	VMOVDQU Y2, (S)

// MRU8 does the same for the 8-way set at S (Y2-Y7 scratch).
#define MRU8(S) \
	VMOVDQU (S), Y2; \
	VMOVDQU 32(S), Y3; \
	VPERMQ  $0x90, Y2, Y4; \
	VPERMQ  $0xff, Y2, Y5; \
	VPERMQ  $0x90, Y3, Y6; \
	VPBLENDD $0x03, Y5, Y6, Y6; \
	SHLQ    $6, AX; \
	LEAQ    mruMask8<>(SB), DX; \
	VMOVDQU (DX)(AX*1), Y7; \
	VPBLENDVB Y7, Y4, Y2, Y2; \
	VMOVDQU 32(DX)(AX*1), Y7; \
	VPBLENDVB Y7, Y6, Y3, Y3; \
	VMOVQ   R9, X5; \
	VPBLENDD $0x03, Y5, Y2, Y2; \
	VMOVDQU Y2, (S); \
	VMOVDQU Y3, 32(S)

// FIND8 sets AX to a bit per way of the 8-way set at S that holds the
// key broadcast in Y1 (DX, Y2, Y3 scratch).
#define FIND8(S) \
	VPAND     (S), Y0, Y2; \
	VPCMPEQQ  Y1, Y2, Y2; \
	VMOVMSKPD Y2, AX; \
	VPAND     32(S), Y0, Y3; \
	VPCMPEQQ  Y1, Y3, Y3; \
	VMOVMSKPD Y3, DX; \
	SHLL      $4, DX; \
	ORL       DX, AX

// func mru2Loop(f *fastState)
//
// Registers: DI f, R8 the next event, R11 the latency so far, R13 the
// first-level set of the last line (its word is at the front), BX the
// next queue slot, SI the key, CX fDirty for a store, R10 and R12 the
// first- and second-level sets, R15 the first-level victim; AX DX R9
// scratch. Y0: ^fDirty in every lane; Y1: the key in every lane.
TEXT ·mru2Loop(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), DI
	MOVQ fastState_bEv(DI), R8
	MOVQ fastState_bLastTag(DI), R13
	MOVQ fastState_nq(DI), BX
	SHLQ $4, BX
	ADDQ fastState_aMem(DI), BX
	MOVQ fastState_at(DI), R11
	MOVQ $0xbfffffffffffffff, AX
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y0

mnext:
	CMPQ    R8, fastState_bEnd(DI)
	JCC     mdone
	MOVBQZX const_eventKind(R8), CX
	CMPQ    CX, $1
	JHI     mdone               // a hint
	MOVQ    0(R8), SI
	MOVLQZX 8(R8), AX
	MOVQ    SI, DX
	ANDQ    $63, DX
	ADDQ    AX, DX
	CMPQ    DX, $64
	JHI     mmulti              // more than one line
	SHRQ    $6, SI
	BTSQ    $63, SI             // SI: key

mline:
	// A reference to line SI by the event at R8 (CX: its kind).
	SHLQ    $62, CX             // CX: fDirty for a store
	CMPQ    SI, fastState_bLastKey(DI)
	JEQ     msame

	MOVQ SI, R10
	ANDQ fastState_bMask(DI), R10
	SHLQ $6, R10
	ADDQ fastState_bSets(DI), R10 // R10: the first level's set
	VMOVQ        SI, X1
	VPBROADCASTQ X1, Y1
	VPAND        (R10), Y0, Y2
	VPCMPEQQ     Y1, Y2, Y2
	VMOVMSKPD    Y2, AX
	TESTL        AX, AX
	JEQ          mmiss1

	// A hit at position AX: the word (with the store's flag) to the
	// front, also from position 0 (a branch on the position would be
	// mispredicted where a set's lines take turns).
	TZCNTL AX, AX
	MOVQ   (R10)(AX*8), R9
	ORQ    CX, R9
	MRU4(R10)

mhit1:
	MOVQ R10, R13
	MOVQ SI, fastState_bLastKey(DI)

msame:
	ORQ  CX, (R13)
	SHRQ $62, CX
	ADDQ CX, fastState_bWrites(DI)
	ADDQ fastState_bLat(DI), R11

mend:
	// The event's next line, if it spans lines (f.fStop, its last line,
	// is 0 otherwise) and the line just done is not its last.
	MOVQ    fastState_fStop(DI), SI
	TESTQ   SI, SI
	JEQ     mevent
	CMPQ    SI, fastState_bLastKey(DI)
	JEQ     mlast
	MOVQ    fastState_bLastKey(DI), SI
	INCQ    SI
	MOVBQZX const_eventKind(R8), CX
	JMP     mline

mlast:
	MOVQ $0, fastState_fStop(DI)

mevent:
	ADDQ $const_eventSize, R8
	JMP  mnext

mmulti:
	// An event of up to 4 KiB (65 lines), if the queue has room for
	// three requests per line; else the caller takes it.
	CMPQ AX, $4096
	JHI  mdone
	CMPQ BX, fastState_aQlimEv(DI)
	JHI  mdone
	LEAQ -1(SI)(AX*1), DX       // the last byte
	CMPQ DX, SI
	JCC  mnowrap
	MOVQ $-1, DX                // past the top of the address space

mnowrap:
	SHRQ $6, DX
	BTSQ $63, DX
	MOVQ DX, fastState_fStop(DI)
	SHRQ $6, SI
	BTSQ $63, SI
	SUBQ SI, DX
	ADDQ DX, fastState_fRefs(DI) // the lines after the first
	JMP  mline

mmiss1:
	CMPQ BX, fastState_aQlim(DI)
	JHI  mdone                  // no room for three requests
	// The new word to the front, the victim (the last word) out: all
	// positions shift, no mask needed.
	VMOVDQU (R10), Y2
	MOVQ    24(R10), R15        // R15: the victim
	MOVQ    SI, R9
	ORQ     CX, R9
	VPERMQ  $0x90, Y2, Y2
	VMOVQ   R9, X5
	VPBLENDD $0x03, Y5, Y2, Y2
	VMOVDQU Y2, (R10)
	MOVQ R15, AX
	SHRQ $63, AX
	ADDQ AX, CNT(const_cntEvictions1)
	INCQ fastState_fMisses(DI)
	MOVQ R10, R13
	MOVQ SI, fastState_bLastKey(DI)
	SHRQ $62, CX                // CX: 1 for a store
	ADDQ CX, fastState_bWrites(DI)
	ADDQ CX, CNT(const_cntWrites)
	ADDQ fastState_bLat(DI), R11
	ADDQ fastState_aLat2(DI), R11

	// The second level.
	MOVQ SI, R12
	ANDQ fastState_aMask(DI), R12
	SHLQ $7, R12
	ADDQ fastState_aSets(DI), R12 // R12: the second level's set
	FIND8(R12)
	// A hit or a miss, without a branch (which of the two is data the
	// host cannot predict): the position is the hit's or 7, the victim's
	// (bit 7 set below the hits' bits), the word the hit's or the key,
	// and the miss's counters and requests are added times 0 or 1.
	XORL    DX, DX
	TESTL   AX, AX
	SETEQ   DX                  // DX: 1 for a miss
	ORL     $0x80, AX
	TZCNTL  AX, AX              // AX: the position
	MOVQ    (R12)(AX*8), R9     // the hit's word, or the victim
	TESTL   DX, DX
	CMOVQNE SI, R9              // a miss fills the key (clean)
	MOVQ    56(R12), R10        // R10: the last word, the victim of a miss
	ADDQ    DX, CNT(const_cntMisses2)
	ANDQ    DX, CX
	ADDQ    CX, CNT(const_cntWriteMisses2)
	MOVQ    R10, CX
	SHRQ    $63, CX
	ANDQ    DX, CX
	ADDQ    CX, CNT(const_cntEvictions2)
	MOVQ    SI, 0(BX)           // the fetch, kept for a miss
	MOVQ    R11, 8(BX)
	MOVQ    DX, CX
	SHLQ    $4, CX
	ADDQ    CX, BX
	MOVQ    R10, CX
	SHRQ    $62, CX
	ANDQ    DX, CX              // CX: 1 for a dirty victim of a miss
	ADDQ    CX, CNT(const_cntWritebacks2)
	MOVQ    R10, 0(BX)          // its write-back (fDirty is memWrite)
	MOVQ    R11, 8(BX)
	SHLQ    $4, CX
	ADDQ    CX, BX
	MRU8(R12)

mvictim:
	// A dirty first-level victim is written back into the second level
	// if that holds it (after the fill), else to memory.
	BTRQ $62, R15               // R15: the victim's key
	JCC  mend
	INCQ CNT(const_cntWritebacks1)
	MOVQ R15, R12
	ANDQ fastState_aMask(DI), R12
	SHLQ $7, R12
	ADDQ fastState_aSets(DI), R12
	VMOVQ        R15, X1
	VPBROADCASTQ X1, Y1
	FIND8(R12)
	TESTL  AX, AX
	JEQ    mvmiss
	TZCNTL AX, AX
	BTSQ   $62, (R12)(AX*8)     // fDirty
	JMP    mend

mvmiss:
	BTSQ $62, R15               // memWrite
	MOVQ R15, 0(BX)
	MOVQ R11, AX
	ADDQ fastState_aLat2(DI), AX
	MOVQ AX, 8(BX)
	ADDQ $const_memReqSize, BX
	JMP  mend

mdone:
	MOVQ R8, fastState_bEv(DI)
	MOVQ R13, fastState_bLastTag(DI)
	SUBQ fastState_aMem(DI), BX
	SHRQ $4, BX
	MOVQ BX, fastState_nq(DI)
	MOVQ R11, fastState_at(DI)
	VZEROUPPER
	RET

DATA mruMask4<>+0(SB)/8, $0
DATA mruMask4<>+8(SB)/8, $0
DATA mruMask4<>+16(SB)/8, $0
DATA mruMask4<>+24(SB)/8, $0
DATA mruMask4<>+32(SB)/8, $0
DATA mruMask4<>+40(SB)/8, $0xffffffffffffffff
DATA mruMask4<>+48(SB)/8, $0
DATA mruMask4<>+56(SB)/8, $0
DATA mruMask4<>+64(SB)/8, $0
DATA mruMask4<>+72(SB)/8, $0xffffffffffffffff
DATA mruMask4<>+80(SB)/8, $0xffffffffffffffff
DATA mruMask4<>+88(SB)/8, $0
DATA mruMask4<>+96(SB)/8, $0
DATA mruMask4<>+104(SB)/8, $0xffffffffffffffff
DATA mruMask4<>+112(SB)/8, $0xffffffffffffffff
DATA mruMask4<>+120(SB)/8, $0xffffffffffffffff
GLOBL mruMask4<>(SB), RODATA|NOPTR, $128
DATA mruMask8<>+0(SB)/8, $0
DATA mruMask8<>+8(SB)/8, $0
DATA mruMask8<>+16(SB)/8, $0
DATA mruMask8<>+24(SB)/8, $0
DATA mruMask8<>+32(SB)/8, $0
DATA mruMask8<>+40(SB)/8, $0
DATA mruMask8<>+48(SB)/8, $0
DATA mruMask8<>+56(SB)/8, $0
DATA mruMask8<>+64(SB)/8, $0
DATA mruMask8<>+72(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+80(SB)/8, $0
DATA mruMask8<>+88(SB)/8, $0
DATA mruMask8<>+96(SB)/8, $0
DATA mruMask8<>+104(SB)/8, $0
DATA mruMask8<>+112(SB)/8, $0
DATA mruMask8<>+120(SB)/8, $0
DATA mruMask8<>+128(SB)/8, $0
DATA mruMask8<>+136(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+144(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+152(SB)/8, $0
DATA mruMask8<>+160(SB)/8, $0
DATA mruMask8<>+168(SB)/8, $0
DATA mruMask8<>+176(SB)/8, $0
DATA mruMask8<>+184(SB)/8, $0
DATA mruMask8<>+192(SB)/8, $0
DATA mruMask8<>+200(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+208(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+216(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+224(SB)/8, $0
DATA mruMask8<>+232(SB)/8, $0
DATA mruMask8<>+240(SB)/8, $0
DATA mruMask8<>+248(SB)/8, $0
DATA mruMask8<>+256(SB)/8, $0
DATA mruMask8<>+264(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+272(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+280(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+288(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+296(SB)/8, $0
DATA mruMask8<>+304(SB)/8, $0
DATA mruMask8<>+312(SB)/8, $0
DATA mruMask8<>+320(SB)/8, $0
DATA mruMask8<>+328(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+336(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+344(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+352(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+360(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+368(SB)/8, $0
DATA mruMask8<>+376(SB)/8, $0
DATA mruMask8<>+384(SB)/8, $0
DATA mruMask8<>+392(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+400(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+408(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+416(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+424(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+432(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+440(SB)/8, $0
DATA mruMask8<>+448(SB)/8, $0
DATA mruMask8<>+456(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+464(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+472(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+480(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+488(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+496(SB)/8, $0xffffffffffffffff
DATA mruMask8<>+504(SB)/8, $0xffffffffffffffff
GLOBL mruMask8<>(SB), RODATA|NOPTR, $512
