//go:build amd64 && !purego

#include "textflag.h"

// ROW multiplies the broadcast a-element at addr by the panel row (Y8 = b, Y9 = b>>32) and
// accumulates lo*lo into lo and the two cross products into cross.
#define ROW(addr, lo, cross) \
	VPBROADCASTQ addr, Y10 \
	VPSRLQ       $32, Y10, Y11 \
	VPMULUDQ     Y8, Y10, Y12 \
	VPADDQ       Y12, lo, lo \
	VPMULUDQ     Y9, Y10, Y12 \
	VPMULUDQ     Y8, Y11, Y13 \
	VPADDQ       Y12, cross, cross \
	VPADDQ       Y13, cross, cross

// STORE adds lo + cross<<32 to the four words at addr.
#define STORE(addr, lo, cross) \
	VPSLLQ  $32, cross, cross \
	VPADDQ  cross, lo, lo \
	VMOVDQU addr, Y12 \
	VPADDQ  Y12, lo, lo \
	VMOVDQU lo, addr

// func gemm4x4AVX2(c *uint64, ldc int, a *uint64, lda int, panel *uint64, k int)
//
// c[r*ldc + j] += sum_p a[r*lda + p] * panel[8p + j] for r, j < 4, mod 2^64, where
// panel[8p+4+j] = panel[8p+j] >> 32. A 64-bit product mod 2^64 is lo*lo + (lo*hi + hi*lo)<<32
// with 32x32->64 multiplies (VPMULUDQ); the cross terms are summed before the shift.
TEXT ·gemm4x4AVX2(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R9
	SHLQ $3, R9
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), BX
	SHLQ $3, BX
	LEAQ (BX)(BX*2), R8
	MOVQ panel+32(FP), DX
	MOVQ k+40(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ CX, CX
	JZ    done

loop:
	VMOVDQU (DX), Y8
	VMOVDQU 32(DX), Y9
	ROW((SI), Y0, Y4)
	ROW((SI)(BX*1), Y1, Y5)
	ROW((SI)(BX*2), Y2, Y6)
	ROW((SI)(R8*1), Y3, Y7)
	ADDQ $8, SI
	ADDQ $64, DX
	DECQ CX
	JNZ  loop

done:
	LEAQ (R9)(R9*2), R10
	STORE((DI), Y0, Y4)
	STORE((DI)(R9*1), Y1, Y5)
	STORE((DI)(R9*2), Y2, Y6)
	STORE((DI)(R10*1), Y3, Y7)
	VZEROUPPER
	RET
