#include "textflag.h"

// func addScaledAVX512(e, x *[56]uint64, c uint64)
//
// e[i] += x[i]*c for i < 56: 7 eight-lane products.
TEXT ·addScaledAVX512(SB), NOSPLIT, $0-24
	MOVQ         e+0(FP), DI
	MOVQ         x+8(FP), SI
	VPBROADCASTQ c+16(FP), Z0
	VPMULLQ      0(SI), Z0, Z1
	VPADDQ       0(DI), Z1, Z1
	VMOVDQU64    Z1, 0(DI)
	VPMULLQ      64(SI), Z0, Z2
	VPADDQ       64(DI), Z2, Z2
	VMOVDQU64    Z2, 64(DI)
	VPMULLQ      128(SI), Z0, Z3
	VPADDQ       128(DI), Z3, Z3
	VMOVDQU64    Z3, 128(DI)
	VPMULLQ      192(SI), Z0, Z4
	VPADDQ       192(DI), Z4, Z4
	VMOVDQU64    Z4, 192(DI)
	VPMULLQ      256(SI), Z0, Z5
	VPADDQ       256(DI), Z5, Z5
	VMOVDQU64    Z5, 256(DI)
	VPMULLQ      320(SI), Z0, Z6
	VPADDQ       320(DI), Z6, Z6
	VMOVDQU64    Z6, 320(DI)
	VPMULLQ      384(SI), Z0, Z7
	VPADDQ       384(DI), Z7, Z7
	VMOVDQU64    Z7, 384(DI)
	VZEROUPPER
	RET

// func addLookupAVX512(e *[56]uint64, t *[16]uint64, idx *[56]uint8)
//
// e[i] += t[idx[i]] for i < 56 (idx[i] < 16): 7 eight-lane look-ups in the 16 words of t
// (VPERMI2Q).
TEXT ·addLookupAVX512(SB), NOSPLIT, $0-24
	MOVQ      e+0(FP), DI
	MOVQ      t+8(FP), AX
	MOVQ      idx+16(FP), SI
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VPMOVZXBQ 0(SI), Z2
	VPERMI2Q  Z1, Z0, Z2
	VPADDQ    0(DI), Z2, Z2
	VMOVDQU64 Z2, 0(DI)
	VPMOVZXBQ 8(SI), Z3
	VPERMI2Q  Z1, Z0, Z3
	VPADDQ    64(DI), Z3, Z3
	VMOVDQU64 Z3, 64(DI)
	VPMOVZXBQ 16(SI), Z4
	VPERMI2Q  Z1, Z0, Z4
	VPADDQ    128(DI), Z4, Z4
	VMOVDQU64 Z4, 128(DI)
	VPMOVZXBQ 24(SI), Z5
	VPERMI2Q  Z1, Z0, Z5
	VPADDQ    192(DI), Z5, Z5
	VMOVDQU64 Z5, 192(DI)
	VPMOVZXBQ 32(SI), Z6
	VPERMI2Q  Z1, Z0, Z6
	VPADDQ    256(DI), Z6, Z6
	VMOVDQU64 Z6, 256(DI)
	VPMOVZXBQ 40(SI), Z7
	VPERMI2Q  Z1, Z0, Z7
	VPADDQ    320(DI), Z7, Z7
	VMOVDQU64 Z7, 320(DI)
	VPMOVZXBQ 48(SI), Z8
	VPERMI2Q  Z1, Z0, Z8
	VPADDQ    384(DI), Z8, Z8
	VMOVDQU64 Z8, 384(DI)
	VZEROUPPER
	RET

// func addNibbleSumsAVX512(e *[56]uint64, t *[56]uint64, idx *uint8, n int)
//
// e += sum over g < n of row 16g + idx[g] of t (rows of 56 words): the sum kept in seven
// eight-lane registers, one addition per row and register.
TEXT ·addNibbleSumsAVX512(SB), NOSPLIT, $0-32
	MOVQ      e+0(FP), DI
	MOVQ      t+8(FP), SI
	MOVQ      idx+16(FP), BX
	MOVQ      n+24(FP), CX
	VMOVDQU64 0(DI), Z1
	VMOVDQU64 64(DI), Z2
	VMOVDQU64 128(DI), Z3
	VMOVDQU64 192(DI), Z4
	VMOVDQU64 256(DI), Z5
	VMOVDQU64 320(DI), Z6
	VMOVDQU64 384(DI), Z7
	XORQ      AX, AX

nibloop:
	CMPQ    AX, CX
	JGE     nibdone
	MOVBQZX (BX)(AX*1), DX
	MOVQ    AX, R8
	SHLQ    $4, R8
	ADDQ    DX, R8
	IMULQ   $448, R8
	ADDQ    SI, R8
	VPADDQ  0(R8), Z1, Z1
	VPADDQ  64(R8), Z2, Z2
	VPADDQ  128(R8), Z3, Z3
	VPADDQ  192(R8), Z4, Z4
	VPADDQ  256(R8), Z5, Z5
	VPADDQ  320(R8), Z6, Z6
	VPADDQ  384(R8), Z7, Z7
	INCQ    AX
	JMP     nibloop

nibdone:
	VMOVDQU64 Z1, 0(DI)
	VMOVDQU64 Z2, 64(DI)
	VMOVDQU64 Z3, 128(DI)
	VMOVDQU64 Z4, 192(DI)
	VMOVDQU64 Z5, 256(DI)
	VMOVDQU64 Z6, 320(DI)
	VMOVDQU64 Z7, 384(DI)
	VZEROUPPER
	RET

// func addSubsetSumsAVX512(e *[56]uint64, v *[4]uint64, idx *[56]uint8, n int)
//
// For g < n: e[i] += t_g[idx[56g+i]], t_g the 16 subset sums of the four words v[4g..4g+4)
// (entry b: the sum of the words i with bit i of b set), built in two registers by masked
// broadcasts; the sum stays in seven eight-lane registers across the n groups.
TEXT ·addSubsetSumsAVX512(SB), NOSPLIT, $0-32
	MOVQ      e+0(FP), DI
	MOVQ      v+8(FP), SI
	MOVQ      idx+16(FP), BX
	MOVQ      n+24(FP), CX
	VMOVDQU64 0(DI), Z1
	VMOVDQU64 64(DI), Z2
	VMOVDQU64 128(DI), Z3
	VMOVDQU64 192(DI), Z4
	VMOVDQU64 256(DI), Z5
	VMOVDQU64 320(DI), Z6
	VMOVDQU64 384(DI), Z7
	MOVQ      $0xAA, AX
	KMOVW     AX, K1
	MOVQ      $0xCC, AX
	KMOVW     AX, K2
	MOVQ      $0xF0, AX
	KMOVW     AX, K3

ssloop:
	TESTQ          CX, CX
	JZ             ssdone
	VPBROADCASTQ.Z 0(SI), K1, Z8
	VPBROADCASTQ.Z 8(SI), K2, Z9
	VPADDQ         Z9, Z8, Z8
	VPBROADCASTQ.Z 16(SI), K3, Z9
	VPADDQ         Z9, Z8, Z8
	VPBROADCASTQ   24(SI), Z9
	VPADDQ         Z8, Z9, Z9
	VPMOVZXBQ      0(BX), Z10
	VPERMI2Q       Z9, Z8, Z10
	VPADDQ         Z10, Z1, Z1
	VPMOVZXBQ      8(BX), Z11
	VPERMI2Q       Z9, Z8, Z11
	VPADDQ         Z11, Z2, Z2
	VPMOVZXBQ      16(BX), Z12
	VPERMI2Q       Z9, Z8, Z12
	VPADDQ         Z12, Z3, Z3
	VPMOVZXBQ      24(BX), Z13
	VPERMI2Q       Z9, Z8, Z13
	VPADDQ         Z13, Z4, Z4
	VPMOVZXBQ      32(BX), Z14
	VPERMI2Q       Z9, Z8, Z14
	VPADDQ         Z14, Z5, Z5
	VPMOVZXBQ      40(BX), Z15
	VPERMI2Q       Z9, Z8, Z15
	VPADDQ         Z15, Z6, Z6
	VPMOVZXBQ      48(BX), Z16
	VPERMI2Q       Z9, Z8, Z16
	VPADDQ         Z16, Z7, Z7
	ADDQ           $32, SI
	ADDQ           $56, BX
	DECQ           CX
	JMP            ssloop

ssdone:
	VMOVDQU64 Z1, 0(DI)
	VMOVDQU64 Z2, 64(DI)
	VMOVDQU64 Z3, 128(DI)
	VMOVDQU64 Z4, 192(DI)
	VMOVDQU64 Z5, 256(DI)
	VMOVDQU64 Z6, 320(DI)
	VMOVDQU64 Z7, 384(DI)
	VZEROUPPER
	RET

// func addScaledRowsAVX512(e *[56]uint64, rows *[56]uint64, xs *uint64, n int)
//
// e += sum over l < n of xs[l] * row l (rows of 56 words): 7 eight-lane products per
// row, the sum kept in seven registers.
TEXT ·addScaledRowsAVX512(SB), NOSPLIT, $0-32
	MOVQ      e+0(FP), DI
	MOVQ      rows+8(FP), SI
	MOVQ      xs+16(FP), BX
	MOVQ      n+24(FP), CX
	VMOVDQU64 0(DI), Z1
	VMOVDQU64 64(DI), Z2
	VMOVDQU64 128(DI), Z3
	VMOVDQU64 192(DI), Z4
	VMOVDQU64 256(DI), Z5
	VMOVDQU64 320(DI), Z6
	VMOVDQU64 384(DI), Z7

rowloop:
	TESTQ        CX, CX
	JZ           rowdone
	VPBROADCASTQ 0(BX), Z0
	VPMULLQ      0(SI), Z0, Z8
	VPADDQ       Z8, Z1, Z1
	VPMULLQ      64(SI), Z0, Z9
	VPADDQ       Z9, Z2, Z2
	VPMULLQ      128(SI), Z0, Z10
	VPADDQ       Z10, Z3, Z3
	VPMULLQ      192(SI), Z0, Z11
	VPADDQ       Z11, Z4, Z4
	VPMULLQ      256(SI), Z0, Z12
	VPADDQ       Z12, Z5, Z5
	VPMULLQ      320(SI), Z0, Z13
	VPADDQ       Z13, Z6, Z6
	VPMULLQ      384(SI), Z0, Z14
	VPADDQ       Z14, Z7, Z7
	ADDQ         $448, SI
	ADDQ         $8, BX
	DECQ         CX
	JMP          rowloop

rowdone:
	VMOVDQU64 Z1, 0(DI)
	VMOVDQU64 Z2, 64(DI)
	VMOVDQU64 Z3, 128(DI)
	VMOVDQU64 Z4, 192(DI)
	VMOVDQU64 Z5, 256(DI)
	VMOVDQU64 Z6, 320(DI)
	VMOVDQU64 Z7, 384(DI)
	VZEROUPPER
	RET
