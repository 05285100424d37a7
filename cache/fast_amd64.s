#include "go_asm.h"
#include "textflag.h"

// The loops of lower2Run and firstRun4 (fast_amd64.go), register for
// register: Go's register allocator spills and reloads much of their
// state on every iteration, which doubles their instruction counts. Each
// does exactly what its Go version (lower2RunGo, firstRun4Go) does, and
// the differential tests run both.

#define CNT(i) (fastState_cnt+8*i)(DI)

// func lower2Loop(f *fastState)
//
// Registers: DI f, R8 the next miss record, BX the next queue slot, R11
// the signatures, R15 the latency so far; AX CX DX SI R9 R10 R12 R13
// scratch.
TEXT ·lower2Loop(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), DI
	MOVQ fastState_aK(DI), R8
	SHLQ $5, R8
	ADDQ fastState_aRecs(DI), R8
	MOVQ fastState_nq(DI), BX
	SHLQ $4, BX
	ADDQ fastState_aMem(DI), BX
	MOVQ fastState_aSig(DI), R11
	MOVQ fastState_at(DI), R15

loop:
	CMPQ R8, fastState_aEnd(DI)
	JCC  out
	CMPQ BX, fastState_aQlim(DI)
	JHI  out
	MOVQ 0(R8), SI
	BTRQ $62, SI            // SI: key (line | fValid)
	MOVQ SI, DX
	ANDQ fastState_aMask(DI), DX
	SHLQ $3, DX             // DX: set * 8, the signature's offset
	MOVQ DX, R12
	SHLQ $4, R12
	ADDQ fastState_aSets(DI), R12 // R12: the set's tags, then stamps

	// The lane of key (lane8) and the ways whose lanes match.
	MOVQ  $0x9e3779b97f4a7c15, R13
	IMULQ SI, R13
	SHRQ  $57, R13
	ORQ   $0x80, R13        // R13: lane
	MOVQ  $0x0101010101010101, R9
	IMULQ R13, R9
	XORQ  (R11)(DX*1), R9
	MOVQ  $0xfefefefefefefeff, R10
	ADDQ  R9, R10
	NOTQ  R9
	ANDQ  R10, R9
	MOVQ  $0x8080808080808080, R10
	ANDQ  R10, R9           // R9: a high bit per matching lane
	TZCNTQ R9, CX           // (BSF without BMI1: undefined if none matches; any way misses then)
	ANDQ  $0x38, CX         // CX: 8 * the first matching way
	MOVQ  (R12)(CX*1), R10
	BTRQ  $62, R10
	XORL  AX, AX
	CMPQ  R10, SI
	SETEQ AL                // AX: 1 for a hit
	LEAQ  -1(R9), R10
	TESTQ R9, R10
	JNE   twolanes

found:
	NEGQ AX                 // AX: all ones for a hit
	MOVQ 8(R8), R9
	SHRQ $63, R9
	ADDQ R9, CNT(const_cntEvictions1)
	MOVQ 0(R8), R9
	SHRQ $62, R9
	ANDQ $1, R9
	ADDQ R9, CNT(const_cntWrites)

	// The way with the oldest stamp, by pairs (R9 is renamed each time,
	// so the pairs' minima overlap).
	MOVQ    64(R12), R10
	CMPQ    R10, 72(R12)
	CMOVQHI 72(R12), R10
	MOVQ    80(R12), R9
	CMPQ    R9, 88(R12)
	CMOVQHI 88(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	MOVQ    96(R12), R9
	CMPQ    R9, 104(R12)
	CMOVQHI 104(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	MOVQ    112(R12), R9
	CMPQ    R9, 120(R12)
	CMOVQHI 120(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	ANDQ    $7, R10
	SHLQ    $3, R10

	// The way's tag word: both candidates are loaded and one selected,
	// which keeps a load off the path from the outcome.
	MOVQ    (R12)(R10*1), R9
	TESTQ   AX, AX
	CMOVQNE (R12)(CX*1), R9

	// CX: 8 * (the hit way, or the victim).
	XORQ R10, CX
	ANDQ AX, CX
	XORQ R10, CX
	MOVQ R9, R10            // R10: the way's tag word

	// Its new tag word: the same for a hit, key for a miss.
	MOVQ R10, R9
	XORQ SI, R9
	ANDQ AX, R9
	XORQ SI, R9
	MOVQ R9, (R12)(CX*1)

	// Its lane (unchanged by a hit).
	MOVQ (R11)(DX*1), R9
	RORQ CX, R9
	MOVB R13, R9
	ROLQ CX, R9
	MOVQ R9, (R11)(DX*1)

	// Its stamp.
	INCQ fastState_clock(DI)
	MOVQ fastState_clock(DI), R9
	SHLQ $8, R9
	MOVQ CX, R13
	SHRQ $3, R13
	ORQ  R13, R9
	MOVQ R9, 64(R12)(CX*1)

	// Counters; AX: 1 for a miss.
	INCQ AX
	ADDQ AX, CNT(const_cntMisses2)
	MOVQ 0(R8), R9
	SHRQ $62, R9
	ANDQ AX, R9
	ADDQ R9, CNT(const_cntWriteMisses2)
	MOVQ R10, R9
	SHRQ $63, R9
	ANDQ AX, R9
	ADDQ R9, CNT(const_cntEvictions2)
	MOVQ R10, R9
	SHRQ $62, R9
	ANDQ AX, R9             // R9: 1 for a dirty victim
	ADDQ R9, CNT(const_cntWritebacks2)

	// The fetch and the victim's write-back, kept for a miss and a dirty
	// victim.
	ADDQ 16(R8), R15
	MOVQ SI, 0(BX)
	MOVQ R15, 8(BX)
	SHLQ $4, AX
	ADDQ AX, BX
	BTSQ $62, R10           // memWrite
	MOVQ R10, 0(BX)
	MOVQ R15, 8(BX)
	SHLQ $4, R9
	ADDQ R9, BX

	// A dirty first-level victim is written back into the second level
	// if that holds it (after the fill), else to memory.
	MOVQ 8(R8), SI
	BTRQ $62, SI            // SI: the victim's key
	JCS  victim

nextrec:
	ADDQ $const_missRecSize, R8
	JMP  loop

victim:
	INCQ  CNT(const_cntWritebacks1)
	MOVQ  SI, DX
	ANDQ  fastState_aMask(DI), DX
	SHLQ  $3, DX
	MOVQ  DX, R12
	SHLQ  $4, R12
	ADDQ  fastState_aSets(DI), R12
	MOVQ  $0x9e3779b97f4a7c15, R13
	IMULQ SI, R13
	SHRQ  $57, R13
	ORQ   $0x80, R13
	MOVQ  $0x0101010101010101, R9
	IMULQ R13, R9
	XORQ  (R11)(DX*1), R9
	MOVQ  $0xfefefefefefefeff, R10
	ADDQ  R9, R10
	NOTQ  R9
	ANDQ  R10, R9
	MOVQ  $0x8080808080808080, R10
	ANDQ  R10, R9           // R9: a high bit per matching lane

vsearch:
	TESTQ  R9, R9
	JEQ    vmiss
	TZCNTQ R9, CX
	ANDQ   $0x38, CX
	MOVQ   (R12)(CX*1), R10
	BTRQ   $62, R10
	CMPQ   R10, SI
	JEQ    vhit
	LEAQ   -1(R9), R10
	ANDQ   R10, R9          // the next matching lane
	JMP    vsearch

vhit:
	BTSQ $62, (R12)(CX*1)   // fDirty
	JMP  nextrec

vmiss:
	BTSQ $62, SI            // memWrite
	MOVQ SI, 0(BX)
	MOVQ R15, AX
	ADDQ fastState_aLat2(DI), AX
	MOVQ AX, 8(BX)
	ADDQ $const_memReqSize, BX
	JMP  nextrec

twolanes:
	// Two or more lanes match: unless the first way holds key, the
	// search goes on in lower2Slow.
	TESTQ AX, AX
	JNE   found

out:
	SUBQ fastState_aRecs(DI), R8
	SHRQ $5, R8
	MOVQ R8, fastState_aK(DI)
	SUBQ fastState_aMem(DI), BX
	SHRQ $4, BX
	MOVQ BX, fastState_nq(DI)
	MOVQ R15, fastState_at(DI)
	RET

// func first4Loop(f *fastState)
//
// Registers: DI f, R8 the next event, R11 the signatures, R13 the tag
// word of the core's last line, R15 its key; AX BX CX DX SI R9 R10 R12
// scratch. The rest of the loop's state lives in f.
TEXT ·first4Loop(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), DI
	MOVQ fastState_bEv(DI), R8
	MOVQ fastState_bSig(DI), R11
	MOVQ fastState_bLastTag(DI), R13
	MOVQ (R13), R15
	BTRQ $62, R15

next:
	CMPQ    R8, fastState_bEnd(DI)
	JCC     done
	MOVBQZX const_eventThread(R8), AX
	CMPQ    AX, fastState_bThread(DI)
	JNE     done
	MOVBQZX const_eventKind(R8), CX
	CMPQ    CX, $1
	JHI     done                // a hint
	MOVQ    0(R8), SI
	MOVLQZX 8(R8), AX
	MOVQ    SI, DX
	ANDQ    $63, DX
	ADDQ    AX, DX
	CMPQ    DX, $64
	JHI     done                // more than one line
	ADDQ    CX, fastState_bWrites(DI)
	SHLQ    $62, CX             // CX: fDirty for a store
	SHRQ    $6, SI
	BTSQ    $63, SI             // SI: key
	CMPQ    SI, R15
	JEQ     same

	MOVQ SI, DX
	ANDQ fastState_bMask(DI), DX
	SHLQ $3, DX                 // DX: set * 8, the signature's offset
	MOVQ DX, R10
	SHLQ $3, R10
	ADDQ fastState_bSets(DI), R10 // R10: the set's tags, then stamps

	// The lane of key (lane16) and the ways whose lanes match.
	MOVQ  $0x9e3779b97f4a7c15, R9
	IMULQ SI, R9
	SHRQ  $49, R9
	ORQ   $0x8000, R9           // R9: lane
	MOVQ  $0x0001000100010001, AX
	IMULQ R9, AX
	XORQ  (R11)(DX*1), AX
	MOVQ  $0xfffefffefffeffff, R12
	ADDQ  AX, R12
	NOTQ  AX
	ANDQ  R12, AX
	MOVQ  $0x8000800080008000, R12
	ANDQ  R12, AX               // AX: a high bit per matching lane
	TZCNTQ AX, R12              // (BSF without BMI1: undefined if none matches; any way misses then)
	SHRQ  $1, R12
	ANDQ  $0x18, R12            // R12: 8 * the first matching way
	MOVQ  (R10)(R12*1), BX
	BTRQ  $62, BX
	CMPQ  BX, SI
	JNE   miss

	// A hit: the way's stamp.
	INCQ fastState_bClock(DI)
	MOVQ fastState_bClock(DI), BX
	SHLQ $8, BX
	MOVQ R12, AX
	SHRQ $3, AX
	ORQ  AX, BX
	MOVQ BX, 32(R10)(R12*1)
	LEAQ (R10)(R12*1), R13
	MOVQ SI, R15

same:
	ORQ  CX, (R13)
	INCQ fastState_bPend(DI)
	ADDQ $const_eventSize, R8
	JMP  next

miss:
	LEAQ  -1(AX), BX
	TESTQ AX, BX
	JNE   slow                  // another way's lane matches too
	MOVQ  fastState_n(DI), BX
	CMPQ  BX, $const_missBatch
	JCC   full

	// The way with the oldest stamp, by pairs.
	MOVQ    32(R10), R12
	CMPQ    R12, 40(R10)
	CMOVQHI 40(R10), R12
	MOVQ    48(R10), AX
	CMPQ    AX, 56(R10)
	CMOVQHI 56(R10), AX
	CMPQ    R12, AX
	CMOVQHI AX, R12
	ANDQ    $3, R12
	SHLQ    $3, R12             // R12: 8 * the victim's way

	// The miss record.
	SHLQ $5, BX
	ADDQ fastState_aRecs(DI), BX
	MOVQ (R10)(R12*1), AX
	MOVQ AX, 8(BX)
	MOVQ SI, AX
	ORQ  CX, AX
	MOVQ AX, 0(BX)
	MOVQ AX, (R10)(R12*1)
	MOVQ fastState_bPend(DI), AX
	INCQ AX
	IMULQ fastState_bLat(DI), AX
	ADDQ fastState_below(DI), AX
	MOVQ AX, 16(BX)
	MOVQ fastState_bCore(DI), AX
	MOVQ AX, 24(BX)
	MOVQ $0, fastState_bPend(DI)
	INCQ fastState_n(DI)

	// The way's lane.
	MOVQ R12, CX
	SHLQ $1, CX
	MOVQ (R11)(DX*1), AX
	RORQ CX, AX
	MOVW R9, AX
	ROLQ CX, AX
	MOVQ AX, (R11)(DX*1)

	// Its stamp.
	INCQ fastState_bClock(DI)
	MOVQ fastState_bClock(DI), BX
	SHLQ $8, BX
	MOVQ R12, AX
	SHRQ $3, AX
	ORQ  AX, BX
	MOVQ BX, 32(R10)(R12*1)
	LEAQ (R10)(R12*1), R13
	MOVQ SI, R15
	ADDQ $const_eventSize, R8
	JMP  next

slow:
	MOVQ $1, fastState_bSlow(DI)

full:
	SHRQ $62, CX
	SUBQ CX, fastState_bWrites(DI)

done:
	MOVQ R8, fastState_bEv(DI)
	MOVQ R13, fastState_bLastTag(DI)
	RET

// func fused2Loop(f *fastState)
//
// firstRun4 and lower2Run in one loop, for one core over a 4-way first
// level and an 8-way second level of 64-byte lines: a first-level miss
// goes on to the second level at once, without a miss record. Time
// accumulates in f.at by the first level's latency per reference and
// the second level's per miss, which adds up to what the two passes add.
// It stops at the end, at an event that is a hint or spans lines, or at
// a miss when the queue has no room for three requests.
//
// Registers: DI f, R8 the next event, R11 the latency so far, R13 the
// tag word of the core's last line, BX the next queue slot; AX CX DX SI
// R9 R10 R12 R15 scratch.
TEXT ·fused2Loop(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), DI
	MOVQ fastState_bEv(DI), R8
	MOVQ fastState_bLastTag(DI), R13
	MOVQ fastState_nq(DI), BX
	SHLQ $4, BX
	ADDQ fastState_aMem(DI), BX
	MOVQ fastState_at(DI), R11

fnext:
	CMPQ    R8, fastState_bEnd(DI)
	JCC     fdone
	MOVBQZX const_eventKind(R8), CX
	CMPQ    CX, $1
	JHI     fdone               // a hint
	MOVQ    0(R8), SI
	MOVLQZX 8(R8), AX
	MOVQ    SI, DX
	ANDQ    $63, DX
	ADDQ    AX, DX
	CMPQ    DX, $64
	JHI     fmulti              // more than one line
	SHRQ    $6, SI
	BTSQ    $63, SI             // SI: key

fline:
	// A reference to line SI by the event at R8 (CX: its kind).
	SHLQ    $62, CX             // CX: fDirty for a store
	CMPQ    SI, fastState_bLastKey(DI)
	JEQ     fsame

	MOVQ SI, DX
	ANDQ fastState_bMask(DI), DX
	SHLQ $3, DX
	MOVQ DX, R10
	SHLQ $3, R10
	ADDQ fastState_bSets(DI), R10 // R10: the first level's set
	ADDQ fastState_bSig(DI), DX   // DX: its signature

	MOVQ   $0x9e3779b97f4a7c15, R9
	IMULQ  SI, R9
	SHRQ   $49, R9
	ORQ    $0x8000, R9          // R9: lane16
	MOVQ   $0x0001000100010001, AX
	IMULQ  R9, AX
	XORQ   (DX), AX
	MOVQ   $0xfffefffefffeffff, R12
	ADDQ   AX, R12
	NOTQ   AX
	ANDQ   R12, AX
	MOVQ   $0x8000800080008000, R12
	ANDQ   R12, AX              // AX: a high bit per matching lane
	TZCNTQ AX, R12
	SHRQ   $1, R12
	ANDQ   $0x18, R12           // R12: 8 * the first matching way
	MOVQ   (R10)(R12*1), R15
	BTRQ   $62, R15
	CMPQ   R15, SI
	JNE    fmiss1

fhit1:
	INCQ fastState_bClock(DI)
	MOVQ fastState_bClock(DI), R15
	SHLQ $8, R15
	MOVQ R12, AX
	SHRQ $3, AX
	ORQ  AX, R15
	MOVQ R15, 32(R10)(R12*1)
	LEAQ (R10)(R12*1), R13
	MOVQ SI, fastState_bLastKey(DI)

fsame:
	ORQ  CX, (R13)
	SHRQ $62, CX
	ADDQ CX, fastState_bWrites(DI)
	ADDQ fastState_bLat(DI), R11

fend:
	// The event's next line, if it spans lines (f.fStop, its last line,
	// is 0 otherwise) and the line just done (the last one referenced)
	// is not its last.
	MOVQ    fastState_fStop(DI), SI
	TESTQ   SI, SI
	JEQ     fevent
	CMPQ    SI, fastState_bLastKey(DI)
	JEQ     flast
	MOVQ    fastState_bLastKey(DI), SI
	INCQ    SI
	MOVBQZX const_eventKind(R8), CX
	JMP     fline

flast:
	MOVQ $0, fastState_fStop(DI)

fevent:
	ADDQ $const_eventSize, R8
	JMP  fnext

fmulti:
	// An event of up to 4 KiB (65 lines), if the queue has room for
	// three requests per line; else runFast or the next call takes it.
	CMPQ AX, $4096
	JHI  fdone
	CMPQ BX, fastState_aQlimEv(DI)
	JHI  fdone
	LEAQ -1(SI)(AX*1), DX       // the last byte
	CMPQ DX, SI
	JCC  fnowrap
	MOVQ $-1, DX                // past the top of the address space

fnowrap:
	SHRQ $6, DX
	BTSQ $63, DX
	MOVQ DX, fastState_fStop(DI)
	SHRQ $6, SI
	BTSQ $63, SI
	SUBQ SI, DX
	ADDQ DX, fastState_fRefs(DI) // the lines after the first
	JMP  fline

fmiss1:
	LEAQ  -1(AX), R15
	ANDQ  R15, AX               // the other matching lanes
	JNE   fsearch1
	CMPQ  BX, fastState_aQlim(DI)
	JHI   fdone                 // no room for three requests

	// The first level's victim: the way with the oldest stamp.
	MOVQ    32(R10), R12
	CMPQ    R12, 40(R10)
	CMOVQHI 40(R10), R12
	MOVQ    48(R10), AX
	CMPQ    AX, 56(R10)
	CMOVQHI 56(R10), AX
	CMPQ    R12, AX
	CMOVQHI AX, R12
	ANDQ    $3, R12
	SHLQ    $3, R12             // R12: 8 * the victim's way

	MOVQ (R10)(R12*1), AX
	MOVQ AX, fastState_fOld(DI) // the victim's tag word
	SHRQ $63, AX
	ADDQ AX, CNT(const_cntEvictions1)
	MOVQ SI, AX
	ORQ  CX, AX
	MOVQ AX, (R10)(R12*1)
	MOVQ R12, AX
	SHLQ $1, AX
	XCHGQ AX, CX                // CX: the lane's shift; AX: fDirty or 0
	MOVQ (DX), R15
	RORQ CX, R15
	MOVW R9, R15
	ROLQ CX, R15
	MOVQ R15, (DX)
	INCQ fastState_bClock(DI)
	MOVQ fastState_bClock(DI), R15
	SHLQ $8, R15
	MOVQ R12, CX
	SHRQ $3, CX
	ORQ  CX, R15
	MOVQ R15, 32(R10)(R12*1)
	LEAQ (R10)(R12*1), R13
	MOVQ SI, fastState_bLastKey(DI)
	SHRQ $62, AX                // AX: 1 for a store
	ADDQ AX, fastState_bWrites(DI)
	ADDQ AX, CNT(const_cntWrites)
	MOVQ AX, fastState_fWr(DI)
	ADDQ fastState_bLat(DI), R11
	ADDQ fastState_aLat2(DI), R11

	// The second level, as in lower2Loop (R15: lane8).
	MOVQ SI, DX
	ANDQ fastState_aMask(DI), DX
	SHLQ $3, DX
	MOVQ DX, R12
	SHLQ $4, R12
	ADDQ fastState_aSets(DI), R12 // R12: the second level's set
	ADDQ fastState_aSig(DI), DX   // DX: its signature
	MOVQ   $0x9e3779b97f4a7c15, R15
	IMULQ  SI, R15
	SHRQ   $57, R15
	ORQ    $0x80, R15
	MOVQ   $0x0101010101010101, R9
	IMULQ  R15, R9
	XORQ   (DX), R9
	MOVQ   $0xfefefefefefefeff, R10
	ADDQ   R9, R10
	NOTQ   R9
	ANDQ   R10, R9
	MOVQ   $0x8080808080808080, R10
	ANDQ   R10, R9              // R9: a high bit per matching lane
	TZCNTQ R9, CX
	ANDQ   $0x38, CX            // CX: 8 * the first matching way
	MOVQ   (R12)(CX*1), R10
	BTRQ   $62, R10
	XORL   AX, AX
	CMPQ   R10, SI
	SETEQ  AL                   // AX: 1 for a hit
	LEAQ   -1(R9), R10
	ANDQ   R10, R9              // the other matching lanes
	JNE    fsearch2

ffound2:
	NEGQ AX                     // AX: all ones for a hit
	MOVQ    64(R12), R10
	CMPQ    R10, 72(R12)
	CMOVQHI 72(R12), R10
	MOVQ    80(R12), R9
	CMPQ    R9, 88(R12)
	CMOVQHI 88(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	MOVQ    96(R12), R9
	CMPQ    R9, 104(R12)
	CMOVQHI 104(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	MOVQ    112(R12), R9
	CMPQ    R9, 120(R12)
	CMOVQHI 120(R12), R9
	CMPQ    R10, R9
	CMOVQHI R9, R10
	ANDQ    $7, R10
	SHLQ    $3, R10
	MOVQ    (R12)(R10*1), R9
	TESTQ   AX, AX
	CMOVQNE (R12)(CX*1), R9
	XORQ    R10, CX
	ANDQ    AX, CX
	XORQ    R10, CX             // CX: 8 * (the hit way, or the victim)
	MOVQ    R9, R10             // R10: the way's tag word
	XORQ    SI, R9
	ANDQ    AX, R9
	XORQ    SI, R9
	MOVQ    R9, (R12)(CX*1)
	MOVQ    (DX), R9
	RORQ    CX, R9
	MOVB    R15, R9
	ROLQ    CX, R9
	MOVQ    R9, (DX)
	INCQ    fastState_clock(DI)
	MOVQ    fastState_clock(DI), R9
	SHLQ    $8, R9
	MOVQ    CX, R15
	SHRQ    $3, R15
	ORQ     R15, R9
	MOVQ    R9, 64(R12)(CX*1)

	INCQ AX                     // AX: 1 for a miss
	ADDQ AX, CNT(const_cntMisses2)
	MOVQ fastState_fWr(DI), R9
	ANDQ AX, R9
	ADDQ R9, CNT(const_cntWriteMisses2)
	MOVQ R10, R9
	SHRQ $63, R9
	ANDQ AX, R9
	ADDQ R9, CNT(const_cntEvictions2)
	MOVQ R10, R9
	SHRQ $62, R9
	ANDQ AX, R9                 // R9: 1 for a dirty victim
	ADDQ R9, CNT(const_cntWritebacks2)
	MOVQ SI, 0(BX)
	MOVQ R11, 8(BX)
	SHLQ $4, AX
	ADDQ AX, BX
	BTSQ $62, R10               // memWrite
	MOVQ R10, 0(BX)
	MOVQ R11, 8(BX)
	SHLQ $4, R9
	ADDQ R9, BX

	// A dirty first-level victim is written back into the second level
	// if that holds it (after the fill), else to memory.
	MOVQ fastState_fOld(DI), SI
	BTRQ $62, SI                // SI: the victim's key
	JCS  fvictim

fnext2:
	JMP fend

fvictim:
	INCQ  CNT(const_cntWritebacks1)
	MOVQ  SI, DX
	ANDQ  fastState_aMask(DI), DX
	SHLQ  $3, DX
	MOVQ  DX, R12
	SHLQ  $4, R12
	ADDQ  fastState_aSets(DI), R12
	ADDQ  fastState_aSig(DI), DX
	MOVQ  $0x9e3779b97f4a7c15, R15
	IMULQ SI, R15
	SHRQ  $57, R15
	ORQ   $0x80, R15
	MOVQ  $0x0101010101010101, R9
	IMULQ R15, R9
	XORQ  (DX), R9
	MOVQ  $0xfefefefefefefeff, R10
	ADDQ  R9, R10
	NOTQ  R9
	ANDQ  R10, R9
	MOVQ  $0x8080808080808080, R10
	ANDQ  R10, R9

fvsearch:
	TESTQ  R9, R9
	JEQ    fvmiss
	TZCNTQ R9, CX
	ANDQ   $0x38, CX
	MOVQ   (R12)(CX*1), R10
	BTRQ   $62, R10
	CMPQ   R10, SI
	JEQ    fvhit
	LEAQ   -1(R9), R10
	ANDQ   R10, R9
	JMP    fvsearch

fvhit:
	BTSQ $62, (R12)(CX*1)       // fDirty
	JMP  fnext2

fvmiss:
	BTSQ $62, SI                // memWrite
	MOVQ SI, 0(BX)
	MOVQ R11, AX
	ADDQ fastState_aLat2(DI), AX
	MOVQ AX, 8(BX)
	ADDQ $const_memReqSize, BX
	JMP  fnext2

fsearch1:
	// Another first-level way's lane matches: look at each (AX holds
	// their bits).
	TZCNTQ AX, R12
	SHRQ   $1, R12
	ANDQ   $0x18, R12
	MOVQ   (R10)(R12*1), R15
	BTRQ   $62, R15
	CMPQ   R15, SI
	JEQ    fhit1
	LEAQ   -1(AX), R15
	ANDQ   R15, AX
	JNE    fsearch1
	JMP    fmiss1              // none holds key (AX is 0 now)

fsearch2:
	// Another second-level way's lane matches: unless the first holds
	// key, look at each (R9 holds their bits).
	TESTQ  AX, AX
	JNE    ffound2
	TZCNTQ R9, CX
	ANDQ   $0x38, CX
	MOVQ   (R12)(CX*1), R10
	BTRQ   $62, R10
	CMPQ   R10, SI
	JEQ    fhit2
	LEAQ   -1(R9), R10
	ANDQ   R10, R9
	JNE    fsearch2
	JMP    ffound2             // a miss (AX is 0)

fhit2:
	MOVL $1, AX
	JMP  ffound2

fdone:
	MOVQ R8, fastState_bEv(DI)
	MOVQ R13, fastState_bLastTag(DI)
	SUBQ fastState_aMem(DI), BX
	SHRQ $4, BX
	MOVQ BX, fastState_nq(DI)
	MOVQ R11, fastState_at(DI)
	RET
