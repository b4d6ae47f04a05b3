#include "textflag.h"

// SWAP(J, A, B, M, T) is one step of Eklundh's transpose on four 64-bit lanes at once,
// for rows A = a[k] and B = a[k+J]: T = (A >> J xor B) and M; B ^= T; A ^= T << J
// (transpose64's loop body).
#define SWAP(J, A, B, M, T) \
	VPSRLQ J, A, T; \
	VPXOR  B, T, T; \
	VPAND  M, T, T; \
	VPXOR  T, B, B; \
	VPSLLQ J, T, T; \
	VPXOR  T, A, A

// BCAST(C, X, Y) sets every 64-bit lane of Y to the constant C (X is Y's low half).
#define BCAST(C, X, Y) \
	MOVQ C, AX; \
	MOVQ AX, X; \
	VPBROADCASTQ X, Y

// ROWOUT(Y, X, LO, HI) stores row Y (X its low half) with its lanes reordered to [0, 2,
// 1, 3]: lanes 0 and 2 (both column halves of word w) at LO(DI), lanes 1 and 3 (word w+1)
// at HI(DI).
#define ROWOUT(Y, X, LO, HI) \
	VPERMQ $0xd8, Y, Y; \
	VMOVDQU X, LO(DI); \
	VEXTRACTI128 $1, Y, HI(DI)

// func transpose2x128AVX2(rows *Block, cols *uint64, stride int, a *[256]uint64)
//
// Four 64x64 transposes at once, one per 64-bit lane of a YMM register (colsToRows: the
// words w and w+1 of the columns 0..63 and 64..127). Row r of the 64x64 blocks is
// [cols[r*stride+w], cols[r*stride+w+1], cols[(64+r)*stride+w], cols[(64+r)*stride+w+1]]. Eklundh's six
// passes (transpose64's shifts and masks) run on all four lanes: j = 32 as the rows are
// loaded (into the scratch a, 32 bytes per row), j = 16 and 8 over a, and j = 4, 2, 1 in
// registers on groups of eight rows, which are then stored with their lanes reordered to
// [0, 2, 1, 3]: row b is rows[b] (low 16 bytes) and rows[64+b] (high 16 bytes). No
// data-dependent branch or address.
TEXT ·transpose2x128AVX2(SB), NOSPLIT, $0-32
	MOVQ rows+0(FP), DI
	MOVQ cols+8(FP), SI
	MOVQ stride+16(FP), R8
	MOVQ a+24(FP), BX
	SHLQ $3, R8          // a column's stride in bytes
	MOVQ R8, DX
	SHLQ $6, DX
	ADDQ SI, DX          // column 64
	MOVQ R8, R12
	SHLQ $5, R12         // 32 columns
	BCAST($0x00000000ffffffff, X15, Y15)
	MOVQ BX, R10
	MOVQ $32, CX
load:
	VMOVDQU (SI), X0
	VINSERTI128 $1, (DX), Y0, Y0
	VMOVDQU (SI)(R12*1), X1
	VINSERTI128 $1, (DX)(R12*1), Y1, Y1
	SWAP($0x20, Y0, Y1, Y15, Y2)
	VMOVDQU Y0, (R10)
	VMOVDQU Y1, 1024(R10)
	ADDQ R8, SI
	ADDQ R8, DX
	ADDQ $32, R10
	DECQ CX
	JNZ  load

	// j = 16: swap the off-diagonal 16x16 blocks of every 32x32 block
	BCAST($0x0000ffff0000ffff, X15, Y15)
	MOVQ BX, R10
	MOVQ $2, R11
outer16:
	MOVQ $16, CX
inner16:
	VMOVDQU (R10), Y0
	VMOVDQU 512(R10), Y1
	SWAP($0x10, Y0, Y1, Y15, Y2)
	VMOVDQU Y0, (R10)
	VMOVDQU Y1, 512(R10)
	ADDQ $32, R10
	DECQ CX
	JNZ  inner16
	ADDQ $512, R10
	DECQ R11
	JNZ  outer16

	// j = 8: swap the off-diagonal 8x8 blocks of every 16x16 block
	BCAST($0x00ff00ff00ff00ff, X15, Y15)
	MOVQ BX, R10
	MOVQ $4, R11
outer8:
	MOVQ $8, CX
inner8:
	VMOVDQU (R10), Y0
	VMOVDQU 256(R10), Y1
	SWAP($0x08, Y0, Y1, Y15, Y2)
	VMOVDQU Y0, (R10)
	VMOVDQU Y1, 256(R10)
	ADDQ $32, R10
	DECQ CX
	JNZ  inner8
	ADDQ $256, R10
	DECQ R11
	JNZ  outer8

	// j = 4, 2, 1 on eight rows at a time, then the stores
	BCAST($0x0f0f0f0f0f0f0f0f, X13, Y13)
	BCAST($0x3333333333333333, X14, Y14)
	BCAST($0x5555555555555555, X15, Y15)
	MOVQ BX, R10
	MOVQ $8, CX
group:
	VMOVDQU 0(R10), Y0
	VMOVDQU 32(R10), Y1
	VMOVDQU 64(R10), Y2
	VMOVDQU 96(R10), Y3
	VMOVDQU 128(R10), Y4
	VMOVDQU 160(R10), Y5
	VMOVDQU 192(R10), Y6
	VMOVDQU 224(R10), Y7
	SWAP($0x04, Y0, Y4, Y13, Y8)
	SWAP($0x04, Y1, Y5, Y13, Y8)
	SWAP($0x04, Y2, Y6, Y13, Y8)
	SWAP($0x04, Y3, Y7, Y13, Y8)
	SWAP($0x02, Y0, Y2, Y14, Y8)
	SWAP($0x02, Y1, Y3, Y14, Y8)
	SWAP($0x02, Y4, Y6, Y14, Y8)
	SWAP($0x02, Y5, Y7, Y14, Y8)
	SWAP($0x01, Y0, Y1, Y15, Y8)
	SWAP($0x01, Y2, Y3, Y15, Y8)
	SWAP($0x01, Y4, Y5, Y15, Y8)
	SWAP($0x01, Y6, Y7, Y15, Y8)
	ROWOUT(Y0, X0, 0, 1024)
	ROWOUT(Y1, X1, 16, 1040)
	ROWOUT(Y2, X2, 32, 1056)
	ROWOUT(Y3, X3, 48, 1072)
	ROWOUT(Y4, X4, 64, 1088)
	ROWOUT(Y5, X5, 80, 1104)
	ROWOUT(Y6, X6, 96, 1120)
	ROWOUT(Y7, X7, 112, 1136)
	ADDQ $256, R10
	ADDQ $128, DI
	DECQ CX
	JNZ  group
	VZEROUPPER
	RET
