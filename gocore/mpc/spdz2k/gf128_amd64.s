#include "textflag.h"

// MULRED sets X2 to a*b in F_{2^128} for X0 = a and X1 = b (words a0, a1 and b0, b1), with
// X13 = 0x87 (X^128 = X^7 + X^2 + X + 1): the 256-bit carry-less product r0..r3 = lo +
// mid X^64 + hi X^128 (lo = a0 b0, hi = a1 b1, mid = a0 b1 xor a1 b0), then gfMul's
// reduction with two more carry-less products: r3 0x87 into words 1 and 2, then the new
// r2 0x87 into words 0 and 1 (the same terms as gfMul's shifts). Clobbers X0, X3, X4, X14.
#define MULRED \
	MOVO  X0, X2              \
	PCLMULQDQ $0x00, X1, X2   \
	MOVO  X0, X3              \
	PCLMULQDQ $0x11, X1, X3   \
	MOVO  X0, X4              \
	PCLMULQDQ $0x01, X1, X4   \
	PCLMULQDQ $0x10, X1, X0   \
	PXOR  X0, X4              \
	MOVO  X4, X14             \
	PSLLDQ $8, X14            \
	PXOR  X14, X2             \
	PSRLDQ $8, X4             \
	PXOR  X4, X3              \
	MOVO  X3, X14             \
	PCLMULQDQ $0x01, X13, X14 \
	MOVO  X14, X4             \
	PSLLDQ $8, X4             \
	PXOR  X4, X2              \
	PSRLDQ $8, X14            \
	PXOR  X14, X3             \
	PCLMULQDQ $0x00, X13, X3  \
	PXOR  X3, X2

// DOTACC adds the unreduced carry-less product of X8 and X9 to the accumulators X5 (lo), X6
// (mid) and X7 (hi). Clobbers X8, X10, X11, X12.
#define DOTACC \
	MOVO  X8, X10             \
	PCLMULQDQ $0x00, X9, X10  \
	PXOR  X10, X5             \
	MOVO  X8, X11             \
	PCLMULQDQ $0x11, X9, X11  \
	PXOR  X11, X7             \
	MOVO  X8, X12             \
	PCLMULQDQ $0x01, X9, X12  \
	PXOR  X12, X6             \
	PCLMULQDQ $0x10, X9, X8   \
	PXOR  X8, X6

// func gfDotAsm(acc *[3]ot.Block, p, x []ot.Block)
//
// acc (lo, mid, hi) += the unreduced sum of p[i] x[i] for i < len(p) <= len(x): four
// PCLMULQDQ per element into three accumulators, no reduction (the caller reduces once).
TEXT ·gfDotAsm(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ x_base+32(FP), R10
	MOVOU 0(DI), X5
	MOVOU 16(DI), X6
	MOVOU 32(DI), X7
	TESTQ CX, CX
	JZ   dotdone

dotloop:
	MOVOU (SI), X9
	MOVOU (R10), X8
	DOTACC
	ADDQ $16, SI
	ADDQ $16, R10
	DECQ CX
	JNZ  dotloop

dotdone:
	MOVOU X5, 0(DI)
	MOVOU X6, 16(DI)
	MOVOU X7, 32(DI)
	RET

// func gfMulDotAsm(acc *[3]ot.Block, p, a, b []ot.Block)
//
// acc (lo, mid, hi) += the unreduced sum of p[i] (a[i] b[i]) for i < len(p) <= len(a),
// len(b): a[i] b[i] reduced (MULRED), then multiplied by p[i] into the accumulators
// (DOTACC).
TEXT ·gfMulDotAsm(SB), NOSPLIT, $0-80
	MOVQ acc+0(FP), DI
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ a_base+32(FP), R10
	MOVQ b_base+56(FP), R12
	MOVOU 0(DI), X5
	MOVOU 16(DI), X6
	MOVOU 32(DI), X7
	MOVQ  $0x87, AX
	MOVQ  AX, X13
	TESTQ CX, CX
	JZ   muldone

mulloop:
	MOVOU (R10), X0
	MOVOU (R12), X1
	MULRED
	MOVO   X2, X8
	MOVOU  (SI), X9
	DOTACC
	ADDQ $16, SI
	ADDQ $16, R10
	ADDQ $16, R12
	DECQ CX
	JNZ  mulloop

muldone:
	MOVOU X5, 0(DI)
	MOVOU X6, 16(DI)
	MOVOU X7, 32(DI)
	RET
