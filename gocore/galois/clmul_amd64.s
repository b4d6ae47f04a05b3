#include "textflag.h"

// func clmulAsm(a, b uint64) (hi, lo uint64)
TEXT ·clmulAsm(SB), NOSPLIT, $0-32
	MOVQ      a+0(FP), X0
	MOVQ      b+8(FP), X1
	PCLMULQDQ $0x00, X1, X0
	MOVQ      X0, lo+24(FP)
	PEXTRQ    $1, X0, AX
	MOVQ      AX, hi+16(FP)
	RET

// func clmulDotAsm(a, b []uint64) (hi, lo uint64)
TEXT ·clmulDotAsm(SB), NOSPLIT, $0-64
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	PXOR   X2, X2
	TESTQ  CX, CX
	JZ     done
loop:
	MOVQ      (SI), X0
	MOVQ      (DI), X1
	PCLMULQDQ $0x00, X1, X0
	PXOR      X0, X2
	ADDQ      $8, SI
	ADDQ      $8, DI
	DECQ      CX
	JNZ       loop
done:
	MOVQ   X2, lo+56(FP)
	PEXTRQ $1, X2, AX
	MOVQ   AX, hi+48(FP)
	RET

// func clmulAccAsm(hi, lo, a []uint64, c uint64)
TEXT ·clmulAccAsm(SB), NOSPLIT, $0-80
	MOVQ   hi_base+0(FP), R8
	MOVQ   lo_base+24(FP), R9
	MOVQ   a_base+48(FP), SI
	MOVQ   a_len+56(FP), CX
	MOVQ   c+72(FP), X1
	TESTQ  CX, CX
	JZ     accdone
accloop:
	MOVQ      (SI), X0
	PCLMULQDQ $0x00, X1, X0
	MOVQ      X0, AX
	XORQ      AX, (R9)
	PEXTRQ    $1, X0, AX
	XORQ      AX, (R8)
	ADDQ      $8, SI
	ADDQ      $8, R8
	ADDQ      $8, R9
	DECQ      CX
	JNZ       accloop
accdone:
	RET
