#include "textflag.h"

// func dot2x4AVX2(a0, a1, w *int16, ws, n int, out *[8]int32)
// out[j] = sum_k a0[k]*w[j*ws/2 + k], out[4+j] = sum_k a1[k]*w[j*ws/2 + k] for j < 4,
// k < n; ws is the byte stride between the 4 weight rows; n is a positive multiple of 16.
TEXT ·dot2x4AVX2(SB), NOSPLIT, $0-48
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), DI
	MOVQ w+16(FP), R8
	MOVQ ws+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DX
	LEAQ (R8)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	XORQ AX, AX

loop:
	VMOVDQU (SI)(AX*1), Y8
	VMOVDQU (DI)(AX*1), Y9
	VMOVDQU (R8)(AX*1), Y10
	VPMADDWD Y10, Y8, Y11
	VPADDD Y11, Y0, Y0
	VPMADDWD Y10, Y9, Y12
	VPADDD Y12, Y4, Y4
	VMOVDQU (R10)(AX*1), Y13
	VPMADDWD Y13, Y8, Y14
	VPADDD Y14, Y1, Y1
	VPMADDWD Y13, Y9, Y15
	VPADDD Y15, Y5, Y5
	VMOVDQU (R11)(AX*1), Y10
	VPMADDWD Y10, Y8, Y11
	VPADDD Y11, Y2, Y2
	VPMADDWD Y10, Y9, Y12
	VPADDD Y12, Y6, Y6
	VMOVDQU (R12)(AX*1), Y13
	VPMADDWD Y13, Y8, Y14
	VPADDD Y14, Y3, Y3
	VPMADDWD Y13, Y9, Y15
	VPADDD Y15, Y7, Y7
	ADDQ $32, AX
	SUBQ $16, CX
	JNZ  loop

	// Horizontal sums: Y0..Y3 -> out[0:4], Y4..Y7 -> out[4:8].
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VMOVDQU X0, (DX)
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VMOVDQU X4, 16(DX)
	VZEROUPPER
	RET

// func mulAddAVX2(acc *int32, x, w *int16, n int)
// acc[i] += int32(x[i]) * int32(w[i]) for i < n; n is a positive multiple of 8.
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

maloop:
	VPMOVSXWD (SI)(AX*2), Y0
	VPMOVSXWD (DX)(AX*2), Y1
	VPMULLD Y1, Y0, Y0
	VPADDD (DI)(AX*4), Y0, Y0
	VMOVDQU Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT  maloop
	VZEROUPPER
	RET

// func requantAVX2(x *int32, n int, p *rqBlock, pstride int, zp, lo, hi int32)
// Requantizes n int32 values in place (n a positive multiple of 8), 8 lanes at a time with
// the per-lane parameters of *p (advanced by pstride bytes per 8 values; 0 repeats them).
// Per lane, with u = ((x << left) * m) + c1 + 2^62 as an unsigned 64-bit value:
//   t = (u >> s1) - 2^(62-s1);  y = clamp(((t + c2 + (t<0 ? away : 0)) >> s2) + zp, lo, hi)
// rqBlock layout (bytes): m 0, left 32, c1e 64, c1o 96, s1e 128, s1o 160, sube 192,
// subo 224, c2 256, away 288, s2 320.
TEXT ·requantAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ p+16(FP), SI
	MOVQ pstride+24(FP), R8
	MOVL zp+32(FP), R9
	VMOVD R9, X13
	VPBROADCASTD X13, Y13
	MOVL lo+36(FP), R9
	VMOVD R9, X14
	VPBROADCASTD X14, Y14
	MOVL hi+40(FP), R9
	VMOVD R9, X15
	VPBROADCASTD X15, Y15
	XORQ AX, AX

rqloop:
	VMOVDQU (DI)(AX*4), Y0
	VMOVDQU 32(SI), Y1
	VPSLLVD Y1, Y0, Y0
	VMOVDQU (SI), Y2
	VPMULDQ Y2, Y0, Y3
	VPSRLQ $32, Y0, Y4
	VPSRLQ $32, Y2, Y5
	VPMULDQ Y5, Y4, Y4
	VPADDQ 64(SI), Y3, Y3
	VPADDQ 96(SI), Y4, Y4
	VMOVDQU 128(SI), Y6
	VPSRLVQ Y6, Y3, Y3
	VMOVDQU 160(SI), Y7
	VPSRLVQ Y7, Y4, Y4
	VPSUBQ 192(SI), Y3, Y3
	VPSUBQ 224(SI), Y4, Y4
	VPSLLQ $32, Y4, Y4
	VPBLENDD $0xAA, Y4, Y3, Y3
	VPSRAD $31, Y3, Y6
	VPAND 288(SI), Y6, Y6
	VPADDD 256(SI), Y3, Y3
	VPADDD Y6, Y3, Y3
	VMOVDQU 320(SI), Y7
	VPSRAVD Y7, Y3, Y3
	VPADDD Y13, Y3, Y3
	VPMAXSD Y14, Y3, Y3
	VPMINSD Y15, Y3, Y3
	VMOVDQU Y3, (DI)(AX*4)
	ADDQ R8, SI
	ADDQ $8, AX
	CMPQ AX, CX
	JLT  rqloop
	VZEROUPPER
	RET

// func subNarrowAVX2(dst *int16, src *int32, n int, zp int32)
// dst[i] = int16(src[i] - zp) for i < n (n a positive multiple of 16; values must fit).
TEXT ·subNarrowAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL zp+24(FP), R9
	VMOVD R9, X15
	VPBROADCASTD X15, Y15
	XORQ AX, AX

snloop:
	VMOVDQU (SI)(AX*4), Y0
	VMOVDQU 32(SI)(AX*4), Y1
	VPSUBD Y15, Y0, Y0
	VPSUBD Y15, Y1, Y1
	VPACKSSDW Y1, Y0, Y0
	VPERMQ $0xD8, Y0, Y0
	VMOVDQU Y0, (DI)(AX*2)
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  snloop
	VZEROUPPER
	RET
