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

// SWAPB(J, A, B, N, T, U) is SWAP for J = 32, 16, 8, whose masks are whole bytes, as two
// byte blends: with N the complement of SWAP's mask (0xff in the bytes SWAP's mask
// clears), A = (A and not N) or ((B << J) and N), B = ((A >> J) and not N) or (B and N),
// which is what SWAP computes (A's bytes under N are replaced by B's shifted up, B's bytes
// outside N by A's shifted down).
#define SWAPB(J, A, B, N, T, U) \
	VPSLLQ    J, B, T; \
	VPSRLQ    J, A, U; \
	VPBLENDVB N, T, A, A; \
	VPBLENDVB N, B, U, B

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

// ROWIN(Y, X) loads row Y (X its low half) of the 64x64 blocks from the column pointers
// R9 (words w, w+1 of columns 0..63) and R11 (columns 64..127) and steps both by R12
// (eight columns).
#define ROWIN(Y, X) \
	VMOVDQU (R9), X; \
	VINSERTI128 $1, (R11), Y, Y; \
	ADDQ R12, R9; \
	ADDQ R12, R11

// func transpose2x128AVX2(rows *Block, cols *uint64, stride int, a *[256]uint64)
//
// Four 64x64 transposes at once, one per 64-bit lane of a YMM register (colsToRows: the
// words w and w+1 of the columns 0..63 and 64..127). Row r of the 64x64 blocks is
// [cols[r*stride+w], cols[r*stride+w+1], cols[(64+r)*stride+w], cols[(64+r)*stride+w+1]]. Eklundh's six
// passes (transpose64's shifts and masks) run on all four lanes in two sweeps: the passes
// j = 32, 16 and 8 only pair rows congruent mod 8, so the first sweep loads the eight rows
// k, k+8, ..., k+56 (k = 0..7) into registers, runs those three passes on them (as byte
// blends, SWAPB) and stores them to the scratch a (32 bytes per row); the second runs
// j = 4, 2, 1 in registers on groups of eight consecutive rows, which are then stored with
// their lanes reordered to [0, 2, 1, 3]: row b is rows[b] (low 16 bytes) and rows[64+b]
// (high 16 bytes). The same swaps (same results) in the same order per row pair as
// transpose64. No data-dependent branch or address.
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
	SHLQ $3, R12         // 8 columns
	BCAST($0xffffffff00000000, X13, Y13)
	BCAST($0xffff0000ffff0000, X14, Y14)
	BCAST($0xff00ff00ff00ff00, X15, Y15)
	MOVQ BX, R10
	MOVQ $8, CX
sweep:
	MOVQ SI, R9
	MOVQ DX, R11
	ROWIN(Y0, X0)
	ROWIN(Y1, X1)
	ROWIN(Y2, X2)
	ROWIN(Y3, X3)
	ROWIN(Y4, X4)
	ROWIN(Y5, X5)
	ROWIN(Y6, X6)
	ROWIN(Y7, X7)
	SWAPB($0x20, Y0, Y4, Y13, Y8, Y9)
	SWAPB($0x20, Y1, Y5, Y13, Y8, Y9)
	SWAPB($0x20, Y2, Y6, Y13, Y8, Y9)
	SWAPB($0x20, Y3, Y7, Y13, Y8, Y9)
	SWAPB($0x10, Y0, Y2, Y14, Y8, Y9)
	SWAPB($0x10, Y1, Y3, Y14, Y8, Y9)
	SWAPB($0x10, Y4, Y6, Y14, Y8, Y9)
	SWAPB($0x10, Y5, Y7, Y14, Y8, Y9)
	SWAPB($0x08, Y0, Y1, Y15, Y8, Y9)
	SWAPB($0x08, Y2, Y3, Y15, Y8, Y9)
	SWAPB($0x08, Y4, Y5, Y15, Y8, Y9)
	SWAPB($0x08, Y6, Y7, Y15, Y8, Y9)
	VMOVDQU Y0, 0(R10)
	VMOVDQU Y1, 256(R10)
	VMOVDQU Y2, 512(R10)
	VMOVDQU Y3, 768(R10)
	VMOVDQU Y4, 1024(R10)
	VMOVDQU Y5, 1280(R10)
	VMOVDQU Y6, 1536(R10)
	VMOVDQU Y7, 1792(R10)
	ADDQ R8, SI
	ADDQ R8, DX
	ADDQ $32, R10
	DECQ CX
	JNZ  sweep

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
