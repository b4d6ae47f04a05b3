#include "textflag.h"

// The SoftSpoken subset sums of ctrsum.go for k = 4 with AES-NI: the sixteen AES-CTR streams
// of one block are generated a counter block at a time, every AES round the CPU's AESENC /
// AESENCLAST instruction on the streams' round keys (expandKeyAESNI below), and summed in
// registers, so the expanded streams never reach memory. Eight streams at a time (two
// halves) keep the AES unit's pipeline full.

// SUMSARGS loads the arguments of sums16AESNI / sums16VAES: round keys AX, masks BX,
// counter CX, the columns at DI, R10, R11, R12 (stride bytes apart), u at DX, words left
// R8, the byte offset into the outputs R13.
#define SUMSARGS \
	MOVQ rk+0(FP), AX; \
	MOVQ mask+8(FP), BX; \
	MOVQ ctr+16(FP), CX; \
	MOVQ cols+24(FP), DI; \
	MOVQ stride+32(FP), SI; \
	MOVQ u+40(FP), DX; \
	MOVQ nw+48(FP), R8; \
	LEAQ (DI)(SI*1), R10; \
	LEAQ (R10)(SI*1), R11; \
	LEAQ (R11)(SI*1), R12; \
	XORQ R13, R13

// KEYSTEP(RCON, OFF) derives the next AES-128 round key in X1 from the previous one (X1)
// with AESKEYGENASSIST (FIPS 197 section 5.2: SubWord(RotWord(w)) xor Rcon, then the
// running XOR of the four words; the Intel AES-NI white paper's sequence), and stores it
// at OFF(DI). X2, X3 scratch.
#define KEYSTEP(RCON, OFF) \
	AESKEYGENASSIST $RCON, X1, X2; \
	PSHUFD $0xff, X2, X2; \
	MOVOU X1, X3; \
	PSLLO $4, X3; \
	PXOR X3, X1; \
	PSLLO $4, X3; \
	PXOR X3, X1; \
	PSLLO $4, X3; \
	PXOR X3, X1; \
	PXOR X2, X1; \
	MOVOU X1, OFF(DI)

// func expandKeyAESNI(key *[16]byte, rk *[176]byte)
TEXT ·expandKeyAESNI(SB), NOSPLIT, $0-16
	MOVQ key+0(FP), SI
	MOVQ rk+8(FP), DI
	MOVOU (SI), X1
	MOVOU X1, 0(DI)
	KEYSTEP(0x01, 16)
	KEYSTEP(0x02, 32)
	KEYSTEP(0x04, 48)
	KEYSTEP(0x08, 64)
	KEYSTEP(0x10, 80)
	KEYSTEP(0x20, 96)
	KEYSTEP(0x40, 112)
	KEYSTEP(0x80, 128)
	KEYSTEP(0x1b, 144)
	KEYSTEP(0x36, 160)
	RET

// START(H) loads the counter block X8 xored with round key 0 of streams 8H .. 8H+7 into
// X0..X7 (the round keys of stream x at 176x(AX)).
#define START(H) \
	MOVOU (176*(8*H+0))(AX), X0; PXOR X8, X0; \
	MOVOU (176*(8*H+1))(AX), X1; PXOR X8, X1; \
	MOVOU (176*(8*H+2))(AX), X2; PXOR X8, X2; \
	MOVOU (176*(8*H+3))(AX), X3; PXOR X8, X3; \
	MOVOU (176*(8*H+4))(AX), X4; PXOR X8, X4; \
	MOVOU (176*(8*H+5))(AX), X5; PXOR X8, X5; \
	MOVOU (176*(8*H+6))(AX), X6; PXOR X8, X6; \
	MOVOU (176*(8*H+7))(AX), X7; PXOR X8, X7

// ROUND(H, R) applies round R of streams 8H .. 8H+7 to X0..X7.
#define ROUND(H, R) \
	AESENC (176*(8*H+0)+16*R)(AX), X0; \
	AESENC (176*(8*H+1)+16*R)(AX), X1; \
	AESENC (176*(8*H+2)+16*R)(AX), X2; \
	AESENC (176*(8*H+3)+16*R)(AX), X3; \
	AESENC (176*(8*H+4)+16*R)(AX), X4; \
	AESENC (176*(8*H+5)+16*R)(AX), X5; \
	AESENC (176*(8*H+6)+16*R)(AX), X6; \
	AESENC (176*(8*H+7)+16*R)(AX), X7

// LAST(H) is the last round (no MixColumns) followed by the streams' masks (BX: 16 bytes
// per stream, all ones, or zero for the punctured stream of the sender).
#define LAST(H) \
	AESENCLAST (176*(8*H+0)+160)(AX), X0; PAND (16*(8*H+0))(BX), X0; \
	AESENCLAST (176*(8*H+1)+160)(AX), X1; PAND (16*(8*H+1))(BX), X1; \
	AESENCLAST (176*(8*H+2)+160)(AX), X2; PAND (16*(8*H+2))(BX), X2; \
	AESENCLAST (176*(8*H+3)+160)(AX), X3; PAND (16*(8*H+3))(BX), X3; \
	AESENCLAST (176*(8*H+4)+160)(AX), X4; PAND (16*(8*H+4))(BX), X4; \
	AESENCLAST (176*(8*H+5)+160)(AX), X5; PAND (16*(8*H+5))(BX), X5; \
	AESENCLAST (176*(8*H+6)+160)(AX), X6; PAND (16*(8*H+6))(BX), X6; \
	AESENCLAST (176*(8*H+7)+160)(AX), X7; PAND (16*(8*H+7))(BX), X7

#define ENCRYPT(H) \
	START(H); \
	ROUND(H, 1); ROUND(H, 2); ROUND(H, 3); ROUND(H, 4); ROUND(H, 5); \
	ROUND(H, 6); ROUND(H, 7); ROUND(H, 8); ROUND(H, 9); \
	LAST(H)

// BLOCK computes one counter block (CX) of all sixteen streams and their sums:
// X9 = T_0 (odd x), X10 = T_1 (bit 1 of x), X11 = T_2 (bit 2), X13 = T_3 (x >= 8), X12 = u.
#define BLOCK \
	MOVQ CX, R14; \
	BSWAPQ R14; \
	MOVQ R14, X8; \
	PSLLO $8, X8; \
	ENCRYPT(0); \
	MOVOU X1, X9; PXOR X3, X9; PXOR X5, X9; PXOR X7, X9; \
	MOVOU X2, X10; PXOR X3, X10; PXOR X6, X10; PXOR X7, X10; \
	MOVOU X4, X11; PXOR X5, X11; PXOR X6, X11; PXOR X7, X11; \
	MOVOU X0, X12; PXOR X2, X12; PXOR X4, X12; PXOR X6, X12; PXOR X9, X12; \
	ENCRYPT(1); \
	MOVOU X1, X14; PXOR X3, X14; PXOR X5, X14; PXOR X7, X14; PXOR X14, X9; \
	MOVOU X2, X13; PXOR X3, X13; PXOR X6, X13; PXOR X7, X13; PXOR X13, X10; \
	MOVOU X4, X13; PXOR X5, X13; PXOR X6, X13; PXOR X7, X13; PXOR X13, X11; \
	MOVOU X0, X13; PXOR X2, X13; PXOR X4, X13; PXOR X6, X13; PXOR X14, X13; \
	PXOR X13, X12; \
	INCQ CX

// STORE(MOV, T0, T1, T2, T3, U) stores the four columns' and u's words at offset R13 with
// MOV (16 bytes for a whole counter block, 8 for the tail).
#define STORE(MOV, T0, T1, T2, T3, U) \
	MOV T0, (DI)(R13*1); \
	MOV T1, (R10)(R13*1); \
	MOV T2, (R11)(R13*1); \
	MOV T3, (R12)(R13*1); \
	MOV U, (DX)(R13*1)

// func sums16AESNI(rk *[16][176]byte, mask *[16][16]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int)
//
// For the nw words of counter blocks ctr, ctr+1, ... (ceil(nw/2) blocks; the last one's
// high half unused when nw is odd) it stores T_i = XOR_{x: bit i of x set} R_x at
// cols + i*stride (bytes; i < 4) and u = XOR_x R_x at u, R_x the masked AES-CTR stream of
// round keys rk[x].
TEXT ·sums16AESNI(SB), NOSPLIT, $0-56
	SUMSARGS

pairs:
	CMPQ R8, $2
	JB   tail
	BLOCK
	STORE(MOVOU, X9, X10, X11, X13, X12)
	ADDQ $16, R13
	SUBQ $2, R8
	JMP  pairs

tail:
	CMPQ R8, $0
	JE   done
	BLOCK
	STORE(MOVQ, X9, X10, X11, X13, X12)

done:
	RET

// The same sums with VAES (AVX2-width AESENC: the AES round on both 128-bit lanes of a
// YMM register): stream pair p = (2p, 2p+1) in the lanes of Yp, its round keys at
// 352p(AX) (eleven rounds of 32 bytes, stream 2p in the low lane), its masks at 32p(BX).

#define VSTART(P, Y) VMOVDQU (352*P)(AX), Y; VPXOR Y8, Y, Y

#define VROUND(R) \
	VAESENC (352*0+32*R)(AX), Y0, Y0; \
	VAESENC (352*1+32*R)(AX), Y1, Y1; \
	VAESENC (352*2+32*R)(AX), Y2, Y2; \
	VAESENC (352*3+32*R)(AX), Y3, Y3; \
	VAESENC (352*4+32*R)(AX), Y4, Y4; \
	VAESENC (352*5+32*R)(AX), Y5, Y5; \
	VAESENC (352*6+32*R)(AX), Y6, Y6; \
	VAESENC (352*7+32*R)(AX), Y7, Y7

#define VLAST(P, Y) VAESENCLAST (352*P+320)(AX), Y, Y; VPAND (32*P)(BX), Y, Y

// VBLOCK computes one counter block (CX) of the sixteen streams and their sums: X9 = T_1
// (pairs 1, 3, 5, 7 folded), X10 = T_2, X11 = T_3, X13 = T_0 (the high lanes), X12 = u.
#define VBLOCK \
	MOVQ CX, R14; \
	BSWAPQ R14; \
	VMOVQ R14, X8; \
	VPSLLDQ $8, X8, X8; \
	VINSERTI128 $1, X8, Y8, Y8; \
	VSTART(0, Y0); VSTART(1, Y1); VSTART(2, Y2); VSTART(3, Y3); VSTART(4, Y4); VSTART(5, Y5); VSTART(6, Y6); VSTART(7, Y7); \
	VROUND(1); VROUND(2); VROUND(3); VROUND(4); VROUND(5); VROUND(6); VROUND(7); VROUND(8); VROUND(9); \
	VLAST(0, Y0); VLAST(1, Y1); VLAST(2, Y2); VLAST(3, Y3); VLAST(4, Y4); VLAST(5, Y5); VLAST(6, Y6); VLAST(7, Y7); \
	VPXOR Y1, Y3, Y9; VPXOR Y5, Y9, Y9; VPXOR Y7, Y9, Y9; \
	VPXOR Y2, Y3, Y10; VPXOR Y6, Y10, Y10; VPXOR Y7, Y10, Y10; \
	VPXOR Y4, Y5, Y11; VPXOR Y6, Y11, Y11; VPXOR Y7, Y11, Y11; \
	VPXOR Y0, Y2, Y12; VPXOR Y4, Y12, Y12; VPXOR Y6, Y12, Y12; VPXOR Y9, Y12, Y12; \
	VEXTRACTI128 $1, Y9, X13; VPXOR X13, X9, X9; \
	VEXTRACTI128 $1, Y10, X13; VPXOR X13, X10, X10; \
	VEXTRACTI128 $1, Y11, X13; VPXOR X13, X11, X11; \
	VEXTRACTI128 $1, Y12, X13; VPXOR X13, X12, X12; \
	INCQ CX

// func sums16VAES(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int)
//
// sums16AESNI's outputs with the round keys and masks in stream pairs.
TEXT ·sums16VAES(SB), NOSPLIT, $0-56
	SUMSARGS

vpairs:
	CMPQ R8, $2
	JB   vtail
	VBLOCK
	STORE(VMOVDQU, X13, X9, X10, X11, X12)
	ADDQ $16, R13
	SUBQ $2, R8
	JMP  vpairs

vtail:
	CMPQ R8, $0
	JE   vdone
	VBLOCK
	STORE(VMOVQ, X13, X9, X10, X11, X12)

vdone:
	VZEROUPPER
	RET

// func cpuidVAES() bool: CPUID leaf 7, subleaf 0, ECX bit 9 (VAES).
TEXT ·cpuidVAES(SB), NOSPLIT, $0-1
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	SHRL $9, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET

// FIX(MOVD) is the sender's correction of one counter block's sums (softspoken.go's
// extSender.extendInto): u ^= d (R's correction word(s) at R9+R13, loaded with MOVD), then
// T_i ^= u AND fix_i for the four columns (fix_i at 16i(SI): all ones where Delta_{b,i} is 1).
#define FIX(MOVD) \
	MOVD (R9)(R13*1), X14; \
	VPXOR X14, X12, X12; \
	VPAND 0(SI), X12, X14; VPXOR X14, X13, X13; \
	VPAND 16(SI), X12, X14; VPXOR X14, X9, X9; \
	VPAND 32(SI), X12, X14; VPXOR X14, X10, X10; \
	VPAND 48(SI), X12, X14; VPXOR X14, X11, X11

// func sums16VAESFix(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *byte, fix *[4][16]byte)
//
// sums16VAES followed by the sender's correction with R's message words d (nw words,
// little-endian) and the masks fix of block b's bits of Delta, before the stores: the
// columns stored are Q_{b,i} = T_i xor Delta_{b,i} (u xor d), and u xor d at u. No branch
// or address depends on fix.
TEXT ·sums16VAESFix(SB), NOSPLIT, $0-72
	SUMSARGS
	MOVQ d+56(FP), R9
	MOVQ fix+64(FP), SI // the stride is in R10..R12 now

fpairs:
	CMPQ R8, $2
	JB   ftail
	VBLOCK
	FIX(VMOVDQU)
	STORE(VMOVDQU, X13, X9, X10, X11, X12)
	ADDQ $16, R13
	SUBQ $2, R8
	JMP  fpairs

ftail:
	CMPQ R8, $0
	JE   fdone
	VBLOCK
	FIX(VMOVQ)
	STORE(VMOVQ, X13, X9, X10, X11, X12)

fdone:
	VZEROUPPER
	RET

// func sums16VAESXor(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *uint64)
//
// sums16VAES storing u xor d (nw words) at u instead of u: the receiver's correction
// d_b = u_b xor c written straight into its message (softspoken.go's extReceiver.extendInto).
TEXT ·sums16VAESXor(SB), NOSPLIT, $0-64
	SUMSARGS
	MOVQ d+56(FP), R9

xpairs:
	CMPQ R8, $2
	JB   xtail
	VBLOCK
	VPXOR (R9)(R13*1), X12, X12
	STORE(VMOVDQU, X13, X9, X10, X11, X12)
	ADDQ $16, R13
	SUBQ $2, R8
	JMP  xpairs

xtail:
	CMPQ R8, $0
	JE   xdone
	VBLOCK
	VMOVQ (R9)(R13*1), X14
	VPXOR X14, X12, X12
	STORE(VMOVQ, X13, X9, X10, X11, X12)

xdone:
	VZEROUPPER
	RET
