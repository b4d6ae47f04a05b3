#include "textflag.h"

// The TMMO hash of hash.go on eight blocks at a time with AES-NI: every AES round is the
// CPU's AESENC / AESENCLAST instruction, on the round keys of aesKeySchedule (hash.go).
// Eight independent blocks keep the AES unit's pipeline full.

// ROUND(K) applies one AES round with round key K to the eight blocks X0..X7.
#define ROUND(K) \
	AESENC K, X0; \
	AESENC K, X1; \
	AESENC K, X2; \
	AESENC K, X3; \
	AESENC K, X4; \
	AESENC K, X5; \
	AESENC K, X6; \
	AESENC K, X7

#define LAST(K) \
	AESENCLAST K, X0; \
	AESENCLAST K, X1; \
	AESENCLAST K, X2; \
	AESENCLAST K, X3; \
	AESENCLAST K, X4; \
	AESENCLAST K, X5; \
	AESENCLAST K, X6; \
	AESENCLAST K, X7

#define WHITEN(K) \
	PXOR K, X0; \
	PXOR K, X1; \
	PXOR K, X2; \
	PXOR K, X3; \
	PXOR K, X4; \
	PXOR K, X5; \
	PXOR K, X6; \
	PXOR K, X7

// ENCRYPT8 encrypts X0..X7 with the eleven round keys at (AX), X8 as scratch.
#define ENCRYPT8 \
	MOVOU 0(AX), X8; WHITEN(X8); \
	MOVOU 16(AX), X8; ROUND(X8); \
	MOVOU 32(AX), X8; ROUND(X8); \
	MOVOU 48(AX), X8; ROUND(X8); \
	MOVOU 64(AX), X8; ROUND(X8); \
	MOVOU 80(AX), X8; ROUND(X8); \
	MOVOU 96(AX), X8; ROUND(X8); \
	MOVOU 112(AX), X8; ROUND(X8); \
	MOVOU 128(AX), X8; ROUND(X8); \
	MOVOU 144(AX), X8; ROUND(X8); \
	MOVOU 160(AX), X8; LAST(X8)

// TWEAK(J, X) XORs base+J into the low 64 bits of X (base in DX).
#define TWEAK(J, X) \
	LEAQ J(DX), R8; \
	MOVQ R8, X9; \
	PXOR X9, X

// func tmmo8AESNI(rk *[176]byte, out, x *ot.Block, n int, base uint64)
//
// out[j] = pi(pi(x[j]) xor (base+j)) xor pi(x[j]) for j < n (n a multiple of 8; out and x
// may be the same), pi = AES-128 with the round keys rk. pi(x[j]) is parked in out[j]
// between the two encryptions.
TEXT ·tmmo8AESNI(SB), NOSPLIT, $0-40
	MOVQ rk+0(FP), AX
	MOVQ out+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ base+32(FP), DX
	SHRQ $3, CX
	JZ   done

loop:
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVOU 64(SI), X4
	MOVOU 80(SI), X5
	MOVOU 96(SI), X6
	MOVOU 112(SI), X7
	ENCRYPT8
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	MOVOU X4, 64(DI)
	MOVOU X5, 80(DI)
	MOVOU X6, 96(DI)
	MOVOU X7, 112(DI)
	TWEAK(0, X0)
	TWEAK(1, X1)
	TWEAK(2, X2)
	TWEAK(3, X3)
	TWEAK(4, X4)
	TWEAK(5, X5)
	TWEAK(6, X6)
	TWEAK(7, X7)
	ENCRYPT8
	MOVOU 0(DI), X8
	PXOR  X8, X0
	MOVOU X0, 0(DI)
	MOVOU 16(DI), X8
	PXOR  X8, X1
	MOVOU X1, 16(DI)
	MOVOU 32(DI), X8
	PXOR  X8, X2
	MOVOU X2, 32(DI)
	MOVOU 48(DI), X8
	PXOR  X8, X3
	MOVOU X3, 48(DI)
	MOVOU 64(DI), X8
	PXOR  X8, X4
	MOVOU X4, 64(DI)
	MOVOU 80(DI), X8
	PXOR  X8, X5
	MOVOU X5, 80(DI)
	MOVOU 96(DI), X8
	PXOR  X8, X6
	MOVOU X6, 96(DI)
	MOVOU 112(DI), X8
	PXOR  X8, X7
	MOVOU X7, 112(DI)
	ADDQ  $8, DX
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   loop

done:
	RET
