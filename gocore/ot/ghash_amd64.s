// GHASH of AES-GCM, copied from the Go standard library's
// crypto/internal/fips140/aes/gcm/gcm_amd64.s (Go 1.26, generated there by
// _asm/gcm/gcm_amd64_asm.go; Copyright 2009 The Go Authors, BSD-style license, see
// $GOROOT/LICENSE): gcmAesFinish, gcmAesInit and gcmAesData, renamed ghashFinish,
// ghashInit and ghashData, with two changes (marked qmpc): ghashData starts from the value
// in *T instead of zero, so that consecutive calls hash one long input piece by piece
// (ghash_amd64.go), and ghashInit computes the powers of H up to H^16 into a 512-byte
// table (the standard library's 256-byte table of H^8..H^1 is its upper half).
//
// The standard library's licence, which this file's copied code keeps:
//
// Copyright 2009 The Go Authors.
//
// Redistribution and use in source and binary forms, with or without
// modification, are permitted provided that the following conditions are
// met:
//
//    * Redistributions of source code must retain the above copyright
// notice, this list of conditions and the following disclaimer.
//    * Redistributions in binary form must reproduce the above
// copyright notice, this list of conditions and the following disclaimer
// in the documentation and/or other materials provided with the
// distribution.
//    * Neither the name of Google LLC nor the names of its
// contributors may be used to endorse or promote products derived from
// this software without specific prior written permission.
//
// THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
// "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
// LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
// A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
// OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
// SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
// LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
// DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
// THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
// (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
// OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

#include "textflag.h"

// func ghashFinish(productTable *[256]byte, tagMask *[16]byte, T *[16]byte, pLen uint64, dLen uint64)
// Requires: PCLMULQDQ, SSE2, SSE4.1, SSSE3
TEXT ·ghashFinish(SB), NOSPLIT, $0-40
	MOVQ      productTable+0(FP), DI
	MOVQ      tagMask+8(FP), SI
	MOVQ      T+16(FP), DX
	MOVQ      pLen+24(FP), AX
	MOVQ      dLen+32(FP), CX
	MOVOU     (DX), X8
	MOVOU     (SI), X13
	MOVOU     bswapMask<>+0(SB), X15
	MOVOU     gcmPoly<>+0(SB), X14
	SHLQ      $0x03, AX
	SHLQ      $0x03, CX
	MOVQ      AX, X0
	PINSRQ    $0x01, CX, X0
	PXOR      X8, X0
	MOVOU     224(DI), X8
	MOVOU     240(DI), X10
	MOVOU     X8, X9
	PCLMULQDQ $0x00, X0, X8
	PCLMULQDQ $0x11, X0, X9
	PSHUFD    $0x4e, X0, X11
	PXOR      X0, X11
	PCLMULQDQ $0x00, X11, X10
	PXOR      X8, X10
	PXOR      X9, X10
	MOVOU     X10, X11
	PSRLDQ    $0x08, X10
	PSLLDQ    $0x08, X11
	PXOR      X10, X9
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	PXOR      X9, X8
	PSHUFB    X15, X8
	PXOR      X13, X8
	MOVOU     X8, (DX)
	RET

DATA bswapMask<>+0(SB)/8, $0x08090a0b0c0d0e0f
DATA bswapMask<>+8(SB)/8, $0x0001020304050607
GLOBL bswapMask<>(SB), RODATA|NOPTR, $16

DATA gcmPoly<>+0(SB)/8, $0x0000000000000001
DATA gcmPoly<>+8(SB)/8, $0xc200000000000000
GLOBL gcmPoly<>(SB), RODATA|NOPTR, $16

// func ghashInit(productTable *[256]byte, ks []uint32)
// Requires: AES, PCLMULQDQ, SSE2, SSSE3
TEXT ·ghashInit(SB), NOSPLIT, $0-32
	MOVQ  productTable+0(FP), DI
	ADDQ  $0x100, DI // qmpc: the standard library's table is the upper half of ours
	MOVQ  ks_base+8(FP), SI
	MOVQ  ks_len+16(FP), DX
	SHRQ  $0x02, DX
	DECQ  DX
	MOVOU bswapMask<>+0(SB), X15
	MOVOU gcmPoly<>+0(SB), X14

	// Encrypt block 0, with the AES key to generate the hash key H
	MOVOU  (SI), X0
	MOVOU  16(SI), X11
	AESENC X11, X0
	MOVOU  32(SI), X11
	AESENC X11, X0
	MOVOU  48(SI), X11
	AESENC X11, X0
	MOVOU  64(SI), X11
	AESENC X11, X0
	MOVOU  80(SI), X11
	AESENC X11, X0
	MOVOU  96(SI), X11
	AESENC X11, X0
	MOVOU  112(SI), X11
	AESENC X11, X0
	MOVOU  128(SI), X11
	AESENC X11, X0
	MOVOU  144(SI), X11
	AESENC X11, X0
	MOVOU  160(SI), X11
	CMPQ   DX, $0x0c
	JB     initEncLast
	AESENC X11, X0
	MOVOU  176(SI), X11
	AESENC X11, X0
	MOVOU  192(SI), X11
	JE     initEncLast
	AESENC X11, X0
	MOVOU  208(SI), X11
	AESENC X11, X0
	MOVOU  224(SI), X11

initEncLast:
	AESENCLAST X11, X0
	PSHUFB     X15, X0

	// H * 2
	PSHUFD $0xff, X0, X11
	MOVOU  X0, X12
	PSRAL  $0x1f, X11
	PAND   X14, X11
	PSRLL  $0x1f, X12
	PSLLDQ $0x04, X12
	PSLLL  $0x01, X0
	PXOR   X11, X0
	PXOR   X12, X0

	// Karatsuba pre-computations
	MOVOU  X0, 224(DI)
	PSHUFD $0x4e, X0, X1
	PXOR   X0, X1
	MOVOU  X1, 240(DI)
	MOVOU  X0, X2
	MOVOU  X1, X3

	// Now prepare powers of H and pre-computations for them
	MOVQ $0x0000000f, AX // qmpc: H^2..H^16 (the standard library: H^2..H^8)

initLoop:
	MOVOU     X2, X11
	MOVOU     X2, X12
	MOVOU     X3, X13
	PCLMULQDQ $0x00, X0, X11
	PCLMULQDQ $0x11, X0, X12
	PCLMULQDQ $0x00, X1, X13
	PXOR      X11, X13
	PXOR      X12, X13
	MOVOU     X13, X4
	PSLLDQ    $0x08, X4
	PSRLDQ    $0x08, X13
	PXOR      X4, X11
	PXOR      X13, X12
	MOVOU     X14, X2
	PCLMULQDQ $0x01, X11, X2
	PSHUFD    $0x4e, X11, X11
	PXOR      X2, X11
	MOVOU     X14, X2
	PCLMULQDQ $0x01, X11, X2
	PSHUFD    $0x4e, X11, X11
	PXOR      X11, X2
	PXOR      X12, X2
	MOVOU     X2, 192(DI)
	PSHUFD    $0x4e, X2, X3
	PXOR      X2, X3
	MOVOU     X3, 208(DI)
	DECQ      AX
	LEAQ      -32(DI), DI
	JNE       initLoop
	RET

// func ghashData(productTable *[256]byte, data []byte, T *[16]byte)
// Requires: PCLMULQDQ, SSE2, SSE4.1, SSSE3
TEXT ·ghashData(SB), NOSPLIT, $0-40
	MOVQ  productTable+0(FP), DI
	MOVQ  data_base+8(FP), SI
	MOVQ  data_len+16(FP), DX
	MOVQ  T+32(FP), CX
	MOVOU (CX), X8 // qmpc: continue from *T (the standard library starts from zero)
	MOVOU bswapMask<>+0(SB), X15
	MOVOU gcmPoly<>+0(SB), X14
	TESTQ DX, DX
	JEQ   dataBail
	CMPQ  DX, $0x0d
	JE    dataTLS
	CMPQ  DX, $0x80
	JB    startSinglesLoop
	JMP   dataOctaLoop

dataTLS:
	MOVOU  224(DI), X12
	MOVOU  240(DI), X13
	PXOR   X0, X0
	MOVQ   (SI), X0
	PINSRD $0x02, 8(SI), X0
	PINSRB $0x0c, 12(SI), X0
	XORQ   DX, DX
	JMP    dataMul

dataOctaLoop:
	CMPQ      DX, $0x80
	JB        startSinglesLoop
	SUBQ      $0x80, DX
	MOVOU     (SI), X0
	MOVOU     16(SI), X1
	MOVOU     32(SI), X2
	MOVOU     48(SI), X3
	MOVOU     64(SI), X4
	MOVOU     80(SI), X5
	MOVOU     96(SI), X6
	MOVOU     112(SI), X7
	LEAQ      128(SI), SI
	PSHUFB    X15, X0
	PSHUFB    X15, X1
	PSHUFB    X15, X2
	PSHUFB    X15, X3
	PSHUFB    X15, X4
	PSHUFB    X15, X5
	PSHUFB    X15, X6
	PSHUFB    X15, X7
	PXOR      X8, X0
	MOVOU     (DI), X8
	MOVOU     16(DI), X10
	MOVOU     X8, X9
	PSHUFD    $0x4e, X0, X12
	PXOR      X0, X12
	PCLMULQDQ $0x00, X0, X8
	PCLMULQDQ $0x11, X0, X9
	PCLMULQDQ $0x00, X12, X10
	MOVOU     32(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X1, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X1, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X1, X12
	PXOR      X12, X1
	MOVOU     48(DI), X12
	PCLMULQDQ $0x00, X1, X12
	PXOR      X12, X10
	MOVOU     64(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X2, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X2, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X2, X12
	PXOR      X12, X2
	MOVOU     80(DI), X12
	PCLMULQDQ $0x00, X2, X12
	PXOR      X12, X10
	MOVOU     96(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X3, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X3, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X3, X12
	PXOR      X12, X3
	MOVOU     112(DI), X12
	PCLMULQDQ $0x00, X3, X12
	PXOR      X12, X10
	MOVOU     128(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X4, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X4, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X4, X12
	PXOR      X12, X4
	MOVOU     144(DI), X12
	PCLMULQDQ $0x00, X4, X12
	PXOR      X12, X10
	MOVOU     160(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X5, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X5, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X5, X12
	PXOR      X12, X5
	MOVOU     176(DI), X12
	PCLMULQDQ $0x00, X5, X12
	PXOR      X12, X10
	MOVOU     192(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X6, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X6, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X6, X12
	PXOR      X12, X6
	MOVOU     208(DI), X12
	PCLMULQDQ $0x00, X6, X12
	PXOR      X12, X10
	MOVOU     224(DI), X12
	MOVOU     X12, X13
	PCLMULQDQ $0x00, X7, X12
	PXOR      X12, X8
	PCLMULQDQ $0x11, X7, X13
	PXOR      X13, X9
	PSHUFD    $0x4e, X7, X12
	PXOR      X12, X7
	MOVOU     240(DI), X12
	PCLMULQDQ $0x00, X7, X12
	PXOR      X12, X10
	PXOR      X8, X10
	PXOR      X9, X10
	MOVOU     X10, X11
	PSRLDQ    $0x08, X10
	PSLLDQ    $0x08, X11
	PXOR      X10, X9
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	PXOR      X9, X8
	JMP       dataOctaLoop

startSinglesLoop:
	MOVOU 224(DI), X12
	MOVOU 240(DI), X13

dataSinglesLoop:
	CMPQ  DX, $0x10
	JB    dataEnd
	SUBQ  $0x10, DX
	MOVOU (SI), X0

dataMul:
	PSHUFB    X15, X0
	PXOR      X8, X0
	MOVOU     X12, X8
	MOVOU     X13, X10
	MOVOU     X12, X9
	PSHUFD    $0x4e, X0, X11
	PXOR      X0, X11
	PCLMULQDQ $0x00, X0, X8
	PCLMULQDQ $0x11, X0, X9
	PCLMULQDQ $0x00, X11, X10
	PXOR      X8, X10
	PXOR      X9, X10
	MOVOU     X10, X11
	PSRLDQ    $0x08, X10
	PSLLDQ    $0x08, X11
	PXOR      X10, X9
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	MOVOU     X14, X11
	PCLMULQDQ $0x01, X8, X11
	PSHUFD    $0x4e, X8, X8
	PXOR      X11, X8
	PXOR      X9, X8
	LEAQ      16(SI), SI
	JMP       dataSinglesLoop

dataEnd:
	TESTQ DX, DX
	JEQ   dataBail
	PXOR  X0, X0
	LEAQ  -1(SI)(DX*1), SI

dataLoadLoop:
	PSLLDQ $0x01, X0
	PINSRB $0x00, (SI), X0
	LEAQ   -1(SI), SI
	DECQ   DX
	JNE    dataLoadLoop
	JMP    dataMul

dataBail:
	MOVOU X8, (CX)
	RET

// The rest of this file is qmpc's, not the standard library's.

// GPAIR(HOFF, KOFF, D) multiplies the two blocks of D (byte order already reversed) by
// their powers of H (at HOFF(DI), their Karatsuba sums at KOFF(DI)), as the standard
// library's octa loop does for one block at a time (Karatsuba: lo*lo, hi*hi and
// (lo^hi)*(lo^hi), the last from the table's precomputed sums), and XORs the three products
// into Y8 (lo), Y9 (hi), Y10 (middle).
#define GPAIR(HOFF, KOFF, D) \
	VMOVDQU    HOFF(DI), Y4; \
	VPCLMULQDQ $0x00, D, Y4, Y5; \
	VPXOR      Y5, Y8, Y8; \
	VPCLMULQDQ $0x11, D, Y4, Y5; \
	VPXOR      Y5, Y9, Y9; \
	VPSHUFD    $0x4e, D, Y5; \
	VPXOR      D, Y5, Y5; \
	VMOVDQU    KOFF(DI), Y4; \
	VPCLMULQDQ $0x00, Y5, Y4, Y5; \
	VPXOR      Y5, Y10, Y10

// GLOAD(OFF, D) loads the two blocks at OFF(SI) into D, byte order reversed.
#define GLOAD(OFF, D) \
	VMOVDQU OFF(SI), D; \
	VPSHUFB Y15, D, D

// func ghash16VPCLMUL(pairs *[8][64]byte, data []byte, T *[16]byte)
//
// ghashData's octa loop with VPCLMULQDQ on YMM registers, two blocks per instruction, and
// sixteen blocks per reduction: data is a positive multiple of 256 bytes, hashed sixteen
// blocks at a time into *T (the same running value as ghashData's). pairs[p] holds, from
// ghashInit's table, H^(16-2p) and H^(15-2p) (32 bytes) and then their Karatsuba sums (32
// bytes). Each chunk's sixteen products are summed per half, the halves folded, and the
// sum reduced once, as the standard library's loop does for eight (its loop-carried chain
// through the reduction is then paid per sixteen blocks).
TEXT ·ghash16VPCLMUL(SB), NOSPLIT, $0-40
	MOVQ           pairs+0(FP), DI
	MOVQ           data_base+8(FP), SI
	MOVQ           data_len+16(FP), DX
	MOVQ           T+32(FP), CX
	VBROADCASTI128 bswapMask<>+0(SB), Y15
	VMOVDQU        gcmPoly<>+0(SB), X14
	VMOVDQU        (CX), X11 // the running value (upper half zero)

octa:
	VMOVDQU    (SI), Y0
	VPSHUFB    Y15, Y0, Y0
	VPXOR      Y11, Y0, Y0 // the running value into block 0
	VPXOR      Y8, Y8, Y8
	VPXOR      Y9, Y9, Y9
	VPXOR      Y10, Y10, Y10
	GPAIR(0, 32, Y0)
	GLOAD(32, Y1)
	GPAIR(64, 96, Y1)
	GLOAD(64, Y2)
	GPAIR(128, 160, Y2)
	GLOAD(96, Y3)
	GPAIR(192, 224, Y3)
	GLOAD(128, Y0)
	GPAIR(256, 288, Y0)
	GLOAD(160, Y1)
	GPAIR(320, 352, Y1)
	GLOAD(192, Y2)
	GPAIR(384, 416, Y2)
	GLOAD(224, Y3)
	GPAIR(448, 480, Y3)

	// fold the halves, then the standard library's reduction (in VEX form)
	VEXTRACTI128 $1, Y8, X4
	VPXOR        X4, X8, X8
	VEXTRACTI128 $1, Y9, X4
	VPXOR        X4, X9, X9
	VEXTRACTI128 $1, Y10, X4
	VPXOR        X4, X10, X10
	VPXOR        X8, X10, X10
	VPXOR        X9, X10, X10
	VPSRLDQ      $0x08, X10, X4
	VPSLLDQ      $0x08, X10, X5
	VPXOR        X4, X9, X9
	VPXOR        X5, X8, X8
	VPCLMULQDQ   $0x01, X8, X14, X4
	VPSHUFD      $0x4e, X8, X8
	VPXOR        X4, X8, X8
	VPCLMULQDQ   $0x01, X8, X14, X4
	VPSHUFD      $0x4e, X8, X8
	VPXOR        X4, X8, X8
	VPXOR        X9, X8, X11

	ADDQ $256, SI
	SUBQ $256, DX
	JNZ  octa
	VMOVDQU X11, (CX)
	VZEROUPPER
	RET

