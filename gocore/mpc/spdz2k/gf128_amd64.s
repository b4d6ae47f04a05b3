#include "textflag.h"

// func gfMulVecAsm(dst, a, b []ot.Block)
//
// Per element: X0 = a, X1 = b (words a0, a1 and b0, b1); lo = a0 b0, hi = a1 b1, mid = a0 b1
// xor a1 b0 (carry-less, 128 bits each); the 256-bit product r0..r3 = lo + mid X^64 + hi
// X^128 goes to general-purpose registers and is reduced as gfMul does (X^128 = X^7 + X^2
// + X + 1: r3 into r1, r2, then r2 into r0, r1).
TEXT ·gfMulVecAsm(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ a_base+24(FP), SI
	MOVQ a_len+32(FP), CX
	MOVQ b_base+48(FP), R10
	TESTQ CX, CX
	JZ   done

loop:
	MOVOU (SI), X0
	MOVOU (R10), X1
	MOVO  X0, X2
	PCLMULQDQ $0x00, X1, X2 // lo = a0 b0
	MOVO  X0, X3
	PCLMULQDQ $0x11, X1, X3 // hi = a1 b1
	MOVO  X0, X4
	PCLMULQDQ $0x01, X1, X4 // a1 b0
	PCLMULQDQ $0x10, X1, X0 // a0 b1
	PXOR  X0, X4            // mid

	MOVQ   X2, AX       // r0 = lo0
	PEXTRQ $1, X2, BX   // lo1
	MOVQ   X4, DX       // mid0
	PEXTRQ $1, X4, R8   // mid1
	MOVQ   X3, R9       // hi0
	PEXTRQ $1, X3, R11  // r3 = hi1
	XORQ   DX, BX       // r1 = lo1 ^ mid0
	XORQ   R8, R9       // r2 = hi0 ^ mid1

	// r1 ^= r3 ^ r3<<1 ^ r3<<2 ^ r3<<7
	MOVQ R11, DX
	XORQ DX, BX
	SHLQ $1, DX
	XORQ DX, BX
	SHLQ $1, DX
	XORQ DX, BX
	SHLQ $5, DX
	XORQ DX, BX
	// r2 ^= r3>>63 ^ r3>>62 ^ r3>>57
	MOVQ R11, DX
	SHRQ $57, DX
	XORQ DX, R9
	MOVQ R11, DX
	SHRQ $62, DX
	XORQ DX, R9
	SHRQ $63, R11
	XORQ R11, R9
	// r0 ^= r2 ^ r2<<1 ^ r2<<2 ^ r2<<7
	MOVQ R9, DX
	XORQ DX, AX
	SHLQ $1, DX
	XORQ DX, AX
	SHLQ $1, DX
	XORQ DX, AX
	SHLQ $5, DX
	XORQ DX, AX
	// r1 ^= r2>>63 ^ r2>>62 ^ r2>>57
	MOVQ R9, DX
	SHRQ $57, DX
	XORQ DX, BX
	MOVQ R9, DX
	SHRQ $62, DX
	XORQ DX, BX
	SHRQ $63, R9
	XORQ R9, BX

	MOVQ AX, (DI)
	MOVQ BX, 8(DI)
	ADDQ $16, SI
	ADDQ $16, R10
	ADDQ $16, DI
	DECQ CX
	JNZ  loop

done:
	RET
