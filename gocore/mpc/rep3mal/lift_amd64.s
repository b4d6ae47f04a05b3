#include "textflag.h"

// The lift's four-lane kernels (lift.go): one 32-byte table entry per point, four lanes
// of Z_2^64 (or GF(2) bit-sliced words) in a YMM register.

// func extendSub4(out *[4]uint64, diffs *[3]int32, n int)
//
// For i < n with d = diffs[i]: out[d[0]] = out[d[1]] - out[d[2]] (four lanes).
TEXT ·extendSub4(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ diffs+8(FP), SI
	MOVQ n+16(FP), CX

subloop:
	TESTQ   CX, CX
	JZ      subdone
	MOVLQSX 4(SI), AX
	MOVLQSX 8(SI), BX
	MOVLQSX 0(SI), DX
	SHLQ    $5, AX
	SHLQ    $5, BX
	SHLQ    $5, DX
	VMOVDQU (DI)(AX*1), Y0
	VPSUBQ  (DI)(BX*1), Y0, Y0
	VMOVDQU Y0, (DI)(DX*1)
	ADDQ    $12, SI
	DECQ    CX
	JMP     subloop

subdone:
	VZEROUPPER
	RET

// func extendXor4(out *[4]uint64, diffs *[3]int32, n int)
//
// extendSub4 with XOR in place of the subtraction.
TEXT ·extendXor4(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ diffs+8(FP), SI
	MOVQ n+16(FP), CX

xorloop:
	TESTQ   CX, CX
	JZ      xordone
	MOVLQSX 4(SI), AX
	MOVLQSX 8(SI), BX
	MOVLQSX 0(SI), DX
	SHLQ    $5, AX
	SHLQ    $5, BX
	SHLQ    $5, DX
	VMOVDQU (DI)(AX*1), Y0
	VPXOR   (DI)(BX*1), Y0, Y0
	VMOVDQU Y0, (DI)(DX*1)
	ADDQ    $12, SI
	DECQ    CX
	JMP     xorloop

xordone:
	VZEROUPPER
	RET

// func mulAcc1(acc, u, w, w2 *[4]uint64, idx *int, n int)
//
// For i < n with q = idx[i]: acc[q] += u[q] * (w[q] + w2[q]) (four lanes, VPMULLQ).
TEXT ·mulAcc1(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ u+8(FP), R8
	MOVQ w+16(FP), R9
	MOVQ w2+24(FP), R10
	MOVQ idx+32(FP), SI
	MOVQ n+40(FP), CX

m1loop:
	TESTQ   CX, CX
	JZ      m1done
	MOVQ    0(SI), AX
	SHLQ    $5, AX
	VMOVDQU (R9)(AX*1), Y0
	VPADDQ  (R10)(AX*1), Y0, Y0
	VPMULLQ (R8)(AX*1), Y0, Y0
	VPADDQ  (DI)(AX*1), Y0, Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $8, SI
	DECQ    CX
	JMP     m1loop

m1done:
	VZEROUPPER
	RET

// func mulAcc2(acc, u, v, w, z *[4]uint64, idx *int, n int)
//
// For i < n with q = idx[i]: acc[q] += u[q] * (w[q] + z[q]) + v[q] * w[q].
TEXT ·mulAcc2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ u+8(FP), R8
	MOVQ v+16(FP), R9
	MOVQ w+24(FP), R10
	MOVQ z+32(FP), R11
	MOVQ idx+40(FP), SI
	MOVQ n+48(FP), CX

m2loop:
	TESTQ   CX, CX
	JZ      m2done
	MOVQ    0(SI), AX
	SHLQ    $5, AX
	VMOVDQU (R10)(AX*1), Y1
	VPADDQ  (R11)(AX*1), Y1, Y0
	VPMULLQ (R8)(AX*1), Y0, Y0
	VPMULLQ (R9)(AX*1), Y1, Y1
	VPADDQ  Y1, Y0, Y0
	VPADDQ  (DI)(AX*1), Y0, Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $8, SI
	DECQ    CX
	JMP     m2loop

m2done:
	VZEROUPPER
	RET

// The products of mulAcc1 and mulAcc2 with AVX2 alone (no VPMULLQ): with 32-bit halves,
// a*b = lo(a)lo(b) + ((lo(a)hi(b) + hi(a)lo(b)) mod 2^32) << 32 mod 2^64. VPMULUDQ
// gives lo(a)lo(b); VPMULLD of a and b with its halves swapped (VPSHUFD $0xb1) gives
// the two cross terms in the two halves of each word, which one shift right, one
// addition and one shift left join into the high half.

// func mulAcc1AVX2(acc, u, w, w2 *[4]uint64, idx *int, n int)
//
// For i < n with q = idx[i]: acc[q] += u[q] * (w[q] + w2[q]) (four lanes).
TEXT ·mulAcc1AVX2(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ u+8(FP), R8
	MOVQ w+16(FP), R9
	MOVQ w2+24(FP), R10
	MOVQ idx+32(FP), SI
	MOVQ n+40(FP), CX

a1loop:
	TESTQ    CX, CX
	JZ       a1done
	MOVQ     0(SI), AX
	SHLQ     $5, AX
	VMOVDQU  (R9)(AX*1), Y0
	VPADDQ   (R10)(AX*1), Y0, Y0
	VMOVDQU  (R8)(AX*1), Y1
	VPSHUFD  $0xb1, Y0, Y2
	VPMULLD  Y2, Y1, Y2
	VPSRLQ   $32, Y2, Y3
	VPADDQ   Y3, Y2, Y2
	VPSLLQ   $32, Y2, Y2
	VPMULUDQ Y0, Y1, Y3
	VPADDQ   Y3, Y2, Y2
	VPADDQ   (DI)(AX*1), Y2, Y2
	VMOVDQU  Y2, (DI)(AX*1)
	ADDQ     $8, SI
	DECQ     CX
	JMP      a1loop

a1done:
	VZEROUPPER
	RET

// func mulAcc2AVX2(acc, u, v, w, z *[4]uint64, idx *int, n int)
//
// For i < n with q = idx[i]: acc[q] += u[q] * (w[q] + z[q]) + v[q] * w[q] (the two
// products' cross terms summed before they are joined).
TEXT ·mulAcc2AVX2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ u+8(FP), R8
	MOVQ v+16(FP), R9
	MOVQ w+24(FP), R10
	MOVQ z+32(FP), R11
	MOVQ idx+40(FP), SI
	MOVQ n+48(FP), CX

a2loop:
	TESTQ    CX, CX
	JZ       a2done
	MOVQ     0(SI), AX
	SHLQ     $5, AX
	VMOVDQU  (R10)(AX*1), Y1
	VPADDQ   (R11)(AX*1), Y1, Y0
	VMOVDQU  (R8)(AX*1), Y4
	VMOVDQU  (R9)(AX*1), Y5
	VPSHUFD  $0xb1, Y0, Y2
	VPMULLD  Y2, Y4, Y2
	VPSHUFD  $0xb1, Y1, Y3
	VPMULLD  Y3, Y5, Y3
	VPADDD   Y3, Y2, Y2
	VPSRLQ   $32, Y2, Y3
	VPADDQ   Y3, Y2, Y2
	VPSLLQ   $32, Y2, Y2
	VPMULUDQ Y0, Y4, Y3
	VPADDQ   Y3, Y2, Y2
	VPMULUDQ Y1, Y5, Y3
	VPADDQ   Y3, Y2, Y2
	VPADDQ   (DI)(AX*1), Y2, Y2
	VMOVDQU  Y2, (DI)(AX*1)
	ADDQ     $8, SI
	DECQ     CX
	JMP      a2loop

a2done:
	VZEROUPPER
	RET

// func andLiftAcc4(acc *[2]uint64, xa, xb, ys, ya *[4]uint64, idx *int, psi *[4]uint64, n int)
//
// The AND proof's lift (andproof.go), four block positions at once: for i < n with
// q = idx[i], the lanes' words P = xa[q] & ys[q] ^ xb[q] & ya[q] and
// acc[i] ^= sum_dt clmul(P[dt], psi[dt]) (128 bits, low word first). AVX2 and PCLMULQDQ.
TEXT ·andLiftAcc4(SB), NOSPLIT, $0-64
	MOVQ    acc+0(FP), DI
	MOVQ    xa+8(FP), R8
	MOVQ    xb+16(FP), R9
	MOVQ    ys+24(FP), R10
	MOVQ    ya+32(FP), R11
	MOVQ    idx+40(FP), SI
	MOVQ    psi+48(FP), AX
	MOVQ    n+56(FP), CX
	VMOVDQU (AX), X14
	VMOVDQU 16(AX), X15

andloop:
	TESTQ        CX, CX
	JZ           anddone
	MOVQ         (SI), BX
	SHLQ         $5, BX
	VMOVDQU      (R8)(BX*1), Y0
	VPAND        (R10)(BX*1), Y0, Y0
	VMOVDQU      (R9)(BX*1), Y1
	VPAND        (R11)(BX*1), Y1, Y1
	VPXOR        Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPCLMULQDQ   $0x00, X14, X0, X2
	VPCLMULQDQ   $0x11, X14, X0, X3
	VPCLMULQDQ   $0x00, X15, X1, X4
	VPCLMULQDQ   $0x11, X15, X1, X5
	VPXOR        X3, X2, X2
	VPXOR        X5, X4, X4
	VPXOR        X4, X2, X2
	VPXOR        (DI), X2, X2
	VMOVDQU      X2, (DI)
	ADDQ         $8, SI
	ADDQ         $16, DI
	DECQ         CX
	JMP          andloop

anddone:
	VZEROUPPER
	RET
