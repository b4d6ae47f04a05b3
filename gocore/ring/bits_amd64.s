//go:build amd64 && !purego

#include "textflag.h"

// The 64x64 bit transpose (Transpose64) with AVX2: the delta swaps of the Go form, four
// rows per YMM register. VEX encodings only; ends with VZEROUPPER.

// PAIR is one delta swap of Transpose64 between the rows at byte offsets a and b (four
// rows each, b = a + 8 sh): t = (row_a >> sh ^ row_b) & M; row_b ^= t; row_a ^= t << sh.
#define PAIR(a, b, sh, M) \
	VMOVDQU a(DI), Y0     \
	VMOVDQU b(DI), Y1     \
	VPSRLQ  $sh, Y0, Y2   \
	VPXOR   Y1, Y2, Y2    \
	VPAND   M, Y2, Y2     \
	VPXOR   Y2, Y1, Y1    \
	VPSLLQ  $sh, Y2, Y2   \
	VPXOR   Y2, Y0, Y0    \
	VMOVDQU Y0, a(DI)     \
	VMOVDQU Y1, b(DI)

// HALFSWAP is one delta swap by sh within the four rows in Y0, between rows that PERM
// $0x4E exchanges; M keeps the lower row of each pair. Clobbers Y1 to Y3.
#define HALFSWAP(PERM, sh, M) \
	PERM   $0x4E, Y0, Y1 \
	VPSRLQ $sh, Y0, Y2   \
	VPXOR  Y1, Y2, Y2    \
	VPAND  M, Y2, Y2     \
	VPSLLQ $sh, Y2, Y3   \
	PERM   $0x4E, Y2, Y2 \
	VPXOR  Y3, Y0, Y0    \
	VPXOR  Y2, Y0, Y0

// INNER is the delta swaps by 2 and 1 of the four rows at byte offset a (one register):
// rows (0, 2) and (1, 3) through a swap of the halves (VPERMQ), then (0, 1) and (2, 3)
// through a swap of the words in each half (VPSHUFD).
#define INNER(a) \
	VMOVDQU a(DI), Y0            \
	HALFSWAP(VPERMQ, 2, Y12)     \
	HALFSWAP(VPSHUFD, 1, Y13)    \
	VMOVDQU Y0, a(DI)

// MASK broadcasts the constant c to the four words of Y (X its lower half).
#define MASK(c, X, Y) \
	MOVQ         c, AX \
	VMOVQ        AX, X \
	VPBROADCASTQ X, Y

// func transpose64AVX2(a *[64]uint64)
//
// Transpose64 (bits.go) with the same delta swaps, four rows per YMM register.
TEXT ·transpose64AVX2(SB), NOSPLIT, $0-8
	MOVQ         a+0(FP), DI
	MASK($0x00000000FFFFFFFF, X8, Y8)
	MASK($0x0000FFFF0000FFFF, X9, Y9)
	MASK($0x00FF00FF00FF00FF, X10, Y10)
	MASK($0x0F0F0F0F0F0F0F0F, X11, Y11)
	MOVQ         $0x3333333333333333, AX
	VMOVQ        AX, X12
	VPBROADCASTQ X12, X12 // [m, m, 0, 0]
	MOVQ         $0x5555555555555555, AX
	VMOVQ        AX, X13
	VINSERTI128  $1, X13, Y13, Y13 // [m, 0, m, 0]

	PAIR(0, 256, 32, Y8)
	PAIR(32, 288, 32, Y8)
	PAIR(64, 320, 32, Y8)
	PAIR(96, 352, 32, Y8)
	PAIR(128, 384, 32, Y8)
	PAIR(160, 416, 32, Y8)
	PAIR(192, 448, 32, Y8)
	PAIR(224, 480, 32, Y8)

	PAIR(0, 128, 16, Y9)
	PAIR(32, 160, 16, Y9)
	PAIR(64, 192, 16, Y9)
	PAIR(96, 224, 16, Y9)
	PAIR(256, 384, 16, Y9)
	PAIR(288, 416, 16, Y9)
	PAIR(320, 448, 16, Y9)
	PAIR(352, 480, 16, Y9)

	PAIR(0, 64, 8, Y10)
	PAIR(32, 96, 8, Y10)
	PAIR(128, 192, 8, Y10)
	PAIR(160, 224, 8, Y10)
	PAIR(256, 320, 8, Y10)
	PAIR(288, 352, 8, Y10)
	PAIR(384, 448, 8, Y10)
	PAIR(416, 480, 8, Y10)

	PAIR(0, 32, 4, Y11)
	PAIR(64, 96, 4, Y11)
	PAIR(128, 160, 4, Y11)
	PAIR(192, 224, 4, Y11)
	PAIR(256, 288, 4, Y11)
	PAIR(320, 352, 4, Y11)
	PAIR(384, 416, 4, Y11)
	PAIR(448, 480, 4, Y11)

	INNER(0)
	INNER(32)
	INNER(64)
	INNER(96)
	INNER(128)
	INNER(160)
	INNER(192)
	INNER(224)
	INNER(256)
	INNER(288)
	INNER(320)
	INNER(352)
	INNER(384)
	INNER(416)
	INNER(448)
	INNER(480)

	VZEROUPPER
	RET

