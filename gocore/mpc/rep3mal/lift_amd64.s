#include "textflag.h"

// The AND lift's program kernels (andproof.go, andLiftProgram, andLiftExt): ext holds
// scratch entries of 128 bytes, the four components (x^A, x^B, y^A ^ y^B, y^A) of a point
// at four block positions (32 bytes each, a YMM register), the first 64 the grid's; acc
// holds 128 bits per point. Each op of prog is four int32s:
//   - (e, e1, e0, q), e >= 0: ext[e] = ext[e1] ^ ext[e0], point q's products added to acc[q];
//   - (^e, b, 0, 0): with ext[e..e+3] at the points b, b+1, b+3, b+4 (the cube of the two
//     lowest variables at b), the products of b+2 = b ^ b+1, b+6 = b ^ b+3, b+7 = b+1 ^
//     b+4, b+8 = b+6 ^ b+7 and b+5 = b+2 ^ b+8 added to acc (not stored).
// A point's products: P = x^A & (y^A ^ y^B) ^ x^B & y^A (the lanes' words of the four
// positions) and acc[q] ^= sum_dt clmul(P[dt], psi[dt]) (128 bits, low word first).

// XORENT(O1, O0, R0, R1, R2, R3) loads the four components of the entry at O1(R10) XOR
// those at O0(R10) into R0 to R3.
#define XORENT(O1, O0, R0, R1, R2, R3) \
	VMOVDQU O1(R10), R0              \
	VPXOR   O0(R10), R0, R0          \
	VMOVDQU O1+32(R10), R1           \
	VPXOR   O0+32(R10), R1, R1       \
	VMOVDQU O1+64(R10), R2           \
	VPXOR   O0+64(R10), R2, R2       \
	VMOVDQU O1+96(R10), R3           \
	VPXOR   O0+96(R10), R3, R3

// LIFTPROG is the kernels' body; PACC(C0, C1, C2, C3, ACC) adds the products of the point
// with components C0..C3 to the 16 bytes at ACC (R12 points to psi, Y15 holds it;
// clobbers Y12 to Y14).
#define LIFTPROG \
	MOVQ    ext+0(FP), DI        \
	MOVQ    prog+8(FP), SI       \
	MOVQ    acc+16(FP), R8       \
	MOVQ    psi+24(FP), R12      \
	MOVQ    n+32(FP), CX         \
	VMOVDQU (R12), Y15           \
progloop:                        \
	TESTQ   CX, CX               \
	JZ      progdone             \
	MOVLQSX 0(SI), DX            \
	TESTQ   DX, DX               \
	JS      progcube             \
	MOVLQSX 4(SI), AX            \
	MOVLQSX 8(SI), BX            \
	MOVLQSX 12(SI), R9           \
	SHLQ    $7, AX               \
	SHLQ    $7, BX               \
	SHLQ    $7, DX               \
	SHLQ    $4, R9               \
	VMOVDQU (DI)(AX*1), Y0       \
	VPXOR   (DI)(BX*1), Y0, Y0   \
	VMOVDQU Y0, (DI)(DX*1)       \
	VMOVDQU 32(DI)(AX*1), Y1     \
	VPXOR   32(DI)(BX*1), Y1, Y1 \
	VMOVDQU Y1, 32(DI)(DX*1)     \
	VMOVDQU 64(DI)(AX*1), Y2     \
	VPXOR   64(DI)(BX*1), Y2, Y2 \
	VMOVDQU Y2, 64(DI)(DX*1)     \
	VMOVDQU 96(DI)(AX*1), Y3     \
	VPXOR   96(DI)(BX*1), Y3, Y3 \
	VMOVDQU Y3, 96(DI)(DX*1)     \
	PACC(Y0, Y1, Y2, Y3, (R8)(R9*1)) \
	ADDQ    $16, SI              \
	DECQ    CX                   \
	JMP     progloop             \
progcube:                        \
	NOTQ    DX                   \
	MOVLQSX 4(SI), R9            \
	SHLQ    $7, DX               \
	SHLQ    $4, R9               \
	LEAQ    (DI)(DX*1), R10      \
	LEAQ    (R8)(R9*1), R11      \
	XORENT(0, 128, Y4, Y5, Y6, Y7)  \
	PACC(Y4, Y5, Y6, Y7, 32(R11))  \
	XORENT(0, 256, Y0, Y1, Y2, Y3)  \
	PACC(Y0, Y1, Y2, Y3, 96(R11))  \
	XORENT(128, 384, Y8, Y9, Y10, Y11) \
	PACC(Y8, Y9, Y10, Y11, 112(R11)) \
	VPXOR   Y8, Y0, Y0           \
	VPXOR   Y9, Y1, Y1           \
	VPXOR   Y10, Y2, Y2          \
	VPXOR   Y11, Y3, Y3          \
	PACC(Y0, Y1, Y2, Y3, 128(R11)) \
	VPXOR   Y0, Y4, Y4           \
	VPXOR   Y1, Y5, Y5           \
	VPXOR   Y2, Y6, Y6           \
	VPXOR   Y3, Y7, Y7           \
	PACC(Y4, Y5, Y6, Y7, 80(R11))  \
	ADDQ    $16, SI              \
	DECQ    CX                   \
	JMP     progloop             \
progdone:                        \
	VZEROUPPER                   \
	RET

// The bodies of the GF(2^64) vector kernels below, for XMM (two elements, N = 2, STEP =
// 16 bytes) and YMM registers (four, N = 4, STEP = 32), with the product macro MULRED
// (MULRED2, MULRED4), the inner-product macro DOT (DOT2, DOT4) and the halves' ending END;
// n a multiple of N. The taps X^4 + X^3 + X + 1 are broadcast to every word of V15.

// MULVEC: dst[i] = a[i] * c[i] (mulF64Vec).
#define MULVEC(V0, V1, V4, V15, STEP, N, MULRED) \
	MOVQ         dst+0(FP), DI \
	MOVQ         a+8(FP), SI   \
	MOVQ         c+16(FP), DX  \
	MOVQ         n+24(FP), CX  \
	MOVQ         $0x1B, AX     \
	VMOVQ        AX, X15       \
	VPBROADCASTQ X15, V15      \
mulloop:                       \
	CMPQ         CX, $N        \
	JB           muldone       \
	VMOVDQU      (SI), V0      \
	VMOVDQU      (DX), V1      \
	MULRED                     \
	VMOVDQU      V4, (DI)      \
	ADDQ         $STEP, SI     \
	ADDQ         $STEP, DX     \
	ADDQ         $STEP, DI     \
	SUBQ         $N, CX        \
	JMP          mulloop       \
muldone:                       \
	VZEROUPPER                 \
	RET

// FOLDVEC: lo[i] ^= (hi[i] ^ lo[i]) * r (foldF64).
#define FOLDVEC(V0, V1, V4, V13, V15, STEP, N, MULRED) \
	MOVQ         lo+0(FP), DI  \
	MOVQ         hi+8(FP), SI  \
	MOVQ         r+16(FP), DX  \
	MOVQ         n+24(FP), CX  \
	VMOVQ        DX, X1        \
	VPBROADCASTQ X1, V1        \
	MOVQ         $0x1B, AX     \
	VMOVQ        AX, X15       \
	VPBROADCASTQ X15, V15      \
foldloop:                      \
	CMPQ         CX, $N        \
	JB           folddone      \
	VMOVDQU      (DI), V13     \
	VMOVDQU      (SI), V0      \
	VPXOR        V13, V0, V0   \
	MULRED                     \
	VPXOR        V13, V4, V4   \
	VMOVDQU      V4, (DI)      \
	ADDQ         $STEP, SI     \
	ADDQ         $STEP, DI     \
	SUBQ         $N, CX        \
	JMP          foldloop      \
folddone:                      \
	VZEROUPPER                 \
	RET

// HALVES: h0 and hinf of the halving step (halvesF64), V14 and V15 their sums.
#define HALVES(V0, V1, V2, V3, V4, V7, V14, V15, STEP, N, DOT, END) \
	MOVQ    a+0(FP), R8            \
	MOVQ    b+8(FP), R9            \
	MOVQ    ya+16(FP), R10         \
	MOVQ    yb+24(FP), R11         \
	MOVQ    half+32(FP), DX        \
	MOVQ    n+40(FP), CX           \
	MOVQ    out+48(FP), DI         \
	SHLQ    $3, DX                 \
	VPXOR   V14, V14, V14          \
	VPXOR   V15, V15, V15          \
halvesloop:                        \
	CMPQ    CX, $N                 \
	JB      halvesdone             \
	VMOVDQU (R8), V0               \
	VMOVDQU (R9), V1               \
	VMOVDQU (R10), V2              \
	VMOVDQU (R10)(DX*1), V4        \
	VMOVDQU (R11), V7              \
	VPXOR   V7, V2, V3             \
	DOT(V0, V3, V14)               \
	DOT(V1, V2, V14)               \
	VPXOR   V2, V4, V4             \
	VPXOR   (R11)(DX*1), V7, V7    \
	VPXOR   V4, V7, V3             \
	VPXOR   (R8)(DX*1), V0, V0     \
	VPXOR   (R9)(DX*1), V1, V1     \
	DOT(V0, V3, V15)               \
	DOT(V1, V4, V15)               \
	ADDQ    $STEP, R8              \
	ADDQ    $STEP, R9              \
	ADDQ    $STEP, R10             \
	ADDQ    $STEP, R11             \
	SUBQ    $N, CX                 \
	JMP     halvesloop             \
halvesdone:                        \
	END                            \
	VMOVDQU X14, (DI)              \
	VMOVDQU X15, 16(DI)            \
	VZEROUPPER                     \
	RET

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

// MULRED(V0, ..., V12, T) sets V4 to the products V0[k] * V1[k] in GF(2^64) (T = the
// taps X^4 + X^3 + X + 1 in every word): the 128-bit carry-less products [l_k, h_k], then
// h_k * taps folded into l_k and the at most 4 bits that leaves above 63 folded again.
// Clobbers V2, V3 and V5 to V12. MULRED2 on XMM registers (two products), MULRED4 on YMM
// registers (four, two per VPCLMULQDQ).
#define MULRED(V0, V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, T) \
	VPCLMULQDQ  $0x00, V1, V0, V2   \
	VPCLMULQDQ  $0x11, V1, V0, V3   \
	VPUNPCKLQDQ V3, V2, V4          \
	VPUNPCKHQDQ V3, V2, V5          \
	VPCLMULQDQ  $0x00, T, V5, V6    \
	VPCLMULQDQ  $0x01, T, V5, V7    \
	VPUNPCKLQDQ V7, V6, V8          \
	VPUNPCKHQDQ V7, V6, V9          \
	VPCLMULQDQ  $0x00, T, V9, V10   \
	VPCLMULQDQ  $0x01, T, V9, V11   \
	VPUNPCKLQDQ V11, V10, V12       \
	VPXOR       V8, V4, V4          \
	VPXOR       V12, V4, V4

#define MULRED2 MULRED(X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X15)

#define MULRED4 MULRED(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y15)

// func mulF64Vec(dst, a, c *uint64, n int)
//
// dst[i] = a[i] * c[i] in GF(2^64) = GF(2)[X]/(X^64 + X^4 + X^3 + X + 1), n even: two
// products per PCLMULQDQ pair, each reduced by two more carry-less products by
// X^4 + X^3 + X + 1 (the 128-bit product's high word, then the at most 4 bits it leaves
// above 63). VEX-encoded 128-bit instructions only.
TEXT ·mulF64Vec(SB), NOSPLIT, $0-32
	MULVEC(X0, X1, X4, X15, 16, 2, MULRED2)

// func mulF64VecV(dst, a, c *uint64, n int)
//
// mulF64Vec for n a multiple of 4, with VPCLMULQDQ on YMM registers (MULRED4).
TEXT ·mulF64VecV(SB), NOSPLIT, $0-32
	MULVEC(Y0, Y1, Y4, Y15, 32, 4, MULRED4)

// func foldF64(lo, hi *uint64, r uint64, n int)
//
// lo[i] ^= (hi[i] ^ lo[i]) * r in GF(2^64), n even: the fold lo + r (hi - lo) of the AND
// proof's vectors, with mulF64Vec's products and reductions.
TEXT ·foldF64(SB), NOSPLIT, $0-32
	FOLDVEC(X0, X1, X4, X13, X15, 16, 2, MULRED2)

// func foldF64V(lo, hi *uint64, r uint64, n int)
//
// foldF64 for n a multiple of 4, with VPCLMULQDQ on YMM registers (MULRED4).
TEXT ·foldF64V(SB), NOSPLIT, $0-32
	FOLDVEC(Y0, Y1, Y4, Y13, Y15, 32, 4, MULRED4)

// DOT2 adds the carry-less products A[0] * B[0] and A[1] * B[1] (128 bits each) to ACC,
// DOT4 A[k] * B[k], k < 4, (two 128-bit sums, one per lane). Clobber X5 and X6 (Y5, Y6).
#define DOT2(A, B, ACC) \
	VPCLMULQDQ $0x00, B, A, X5 \
	VPCLMULQDQ $0x11, B, A, X6 \
	VPXOR      X5, ACC, ACC    \
	VPXOR      X6, ACC, ACC

#define DOT4(A, B, ACC) \
	VPCLMULQDQ $0x00, B, A, Y5 \
	VPCLMULQDQ $0x11, B, A, Y6 \
	VPXOR      Y5, ACC, ACC    \
	VPXOR      Y6, ACC, ACC

// HALVESEND2 and HALVESEND4 leave h0 in X14 and hinf in X15 (HALVESEND4: the lanes' sums
// added).
#define HALVESEND2

#define HALVESEND4 \
	VEXTRACTI128 $1, Y14, X0 \
	VPXOR        X0, X14, X14 \
	VEXTRACTI128 $1, Y15, X1 \
	VPXOR        X1, X15, X15

// func halvesF64(a, b, ya, yb *uint64, half, n int, out *[4]uint64)
//
// The AND proof's halving-step values (andproof.go, gfAlg.halves), unreduced: over the
// entries j < n of the first half (lo) and their partners j + half (hi), out = [h0 low, h0 high,
// hinf low, hinf high] for h0 = sum a_lo (ya_lo ^ yb_lo) ^ b_lo ya_lo and hinf = sum
// (a_hi ^ a_lo) (ya_hi ^ ya_lo ^ yb_hi ^ yb_lo) ^ (b_hi ^ b_lo) (ya_hi ^ ya_lo), carry-less;
// n even. VEX-encoded 128-bit instructions only.
TEXT ·halvesF64(SB), NOSPLIT, $0-56
	HALVES(X0, X1, X2, X3, X4, X7, X14, X15, 16, 2, DOT2, HALVESEND2)

// func halvesF64V(a, b, ya, yb *uint64, half, n int, out *[4]uint64)
//
// halvesF64 for n a multiple of 4, with VPCLMULQDQ on YMM registers (the two lanes'
// sums added at the end).
TEXT ·halvesF64V(SB), NOSPLIT, $0-56
	HALVES(Y0, Y1, Y2, Y3, Y4, Y7, Y14, Y15, 32, 4, DOT4, HALVESEND4)

// PACC with VPCLMULQDQ on YMM registers: two products per instruction, the two 128-bit
// halves then summed.
#define PACC(C0, C1, C2, C3, ACC) \
	VPAND        C2, C0, Y12          \
	VPAND        C3, C1, Y13          \
	VPXOR        Y13, Y12, Y12        \
	VPCLMULQDQ   $0x00, Y15, Y12, Y13 \
	VPCLMULQDQ   $0x11, Y15, Y12, Y12 \
	VPXOR        Y13, Y12, Y12        \
	VEXTRACTI128 $1, Y12, X13         \
	VPXOR        X13, X12, X12        \
	VPXOR        ACC, X12, X12        \
	VMOVDQU      X12, ACC

// func andLiftProgV(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int)
//
// The program kernel with VPCLMULQDQ on YMM registers (AVX2 and VPCLMULQDQ).
TEXT ·andLiftProgV(SB), NOSPLIT, $0-40
	LIFTPROG

#undef PACC

// PACC with PCLMULQDQ on XMM registers (psi's halves from memory, R12).
#define PACC(C0, C1, C2, C3, ACC) \
	VPAND        C2, C0, Y12              \
	VPAND        C3, C1, Y13              \
	VPXOR        Y13, Y12, Y12            \
	VEXTRACTI128 $1, Y12, X13             \
	VPCLMULQDQ   $0x00, (R12), X12, X14   \
	VPCLMULQDQ   $0x11, (R12), X12, X12   \
	VPXOR        X14, X12, X12            \
	VPCLMULQDQ   $0x00, 16(R12), X13, X14 \
	VPCLMULQDQ   $0x11, 16(R12), X13, X13 \
	VPXOR        X14, X13, X13            \
	VPXOR        X13, X12, X12            \
	VPXOR        ACC, X12, X12            \
	VMOVDQU      X12, ACC

// func andLiftProgX(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int)
//
// The program kernel with PCLMULQDQ on XMM registers (AVX2 and PCLMULQDQ).
TEXT ·andLiftProgX(SB), NOSPLIT, $0-40
	LIFTPROG

#undef PACC


// LANE2(OFF, T) adds the table entries of bytes OFF and OFF+1 of the row at SI (tables T
// and T+1 of the 2048-byte tables at DX) to R8 and R9.
#define LANE2(OFF, T) \
	MOVBQZX OFF(SI), AX                \
	MOVBQZX OFF+1(SI), BX              \
	XORQ    (T*2048)(DX)(AX*8), R8     \
	XORQ    ((T+1)*2048)(DX)(BX*8), R9

// func foldLanes(dst *[64]galois.F64, rows *[64]uint64, wt *[8][256]galois.F64)
//
// The AND proof's fold of a block position's lanes (andproof.go, finish): dst[j] = sum over
// g < 8 of wt[g][byte g of rows[j]], the bytes read from memory (two sums side by side).
TEXT ·foldLanes(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ wt+16(FP), DX
	MOVQ $64, CX

lanesloop:
	XORQ R8, R8
	XORQ R9, R9
	LANE2(0, 0)
	LANE2(2, 2)
	LANE2(4, 4)
	LANE2(6, 6)
	XORQ R9, R8
	MOVQ R8, (DI)
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  lanesloop
	RET

// func scaleAcc64V(acc *[64][2]uint64, w *[64]galois.F64, c uint64)
//
// acc[l] ^= clmul(w[l], c) (128 bits, low word first), l < 64, four products per
// iteration with VPCLMULQDQ on YMM registers.
TEXT ·scaleAcc64V(SB), NOSPLIT, $0-24
	MOVQ         acc+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         c+16(FP), AX
	VMOVQ        AX, X1
	VPBROADCASTQ X1, Y1
	MOVQ         $16, CX

scaleloop:
	VMOVDQU    (SI), Y0
	VPCLMULQDQ $0x00, Y1, Y0, Y2 // w0 c, w2 c
	VPCLMULQDQ $0x11, Y1, Y0, Y3 // w1 c, w3 c
	VPERM2I128 $0x20, Y3, Y2, Y4 // w0 c, w1 c
	VPERM2I128 $0x31, Y3, Y2, Y5 // w2 c, w3 c
	VPXOR      (DI), Y4, Y4
	VMOVDQU    Y4, (DI)
	VPXOR      32(DI), Y5, Y5
	VMOVDQU    Y5, 32(DI)
	ADDQ       $32, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        scaleloop
	VZEROUPPER
	RET
