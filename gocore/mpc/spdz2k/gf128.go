package spdz2k

// Arithmetic in F_{2^128} = F_2[X]/(X^128 + X^7 + X^2 + X + 1) for QuickSilver's check
// (quicksilver.go): an element is an ot.Block, bit k of word k/64 the coefficient of X^k
// (the same bits as tinyot's MACs and keys, whose XOR is the field's addition). Constant
// time: carry-less products from integer multiplications with the operands' bits spread
// four apart (the "holes" technique of BearSSL's ghash_ctmul), no table lookups; the
// gates' products and their weighted sums in bulk (gfMulDot, gfDot) with the processor's
// carry-less multiplication (PCLMULQDQ, gf128_amd64.s) where it has one, the same
// reduction.

import "github.com/qmpc/qmpc/gocore/ot"

// bmul32 returns the carry-less product of x and y (a 63-bit polynomial). Each integer
// product of two masked operands has at most 8 terms per bit position, so its sums stay
// below 16 and never carry into the next position of the same residue class mod 4.
func bmul32(x, y uint32) uint64 {
	const m0, m1, m2, m3 = 0x11111111, 0x22222222, 0x44444444, 0x88888888
	x0, x1, x2, x3 := uint64(x&m0), uint64(x&m1), uint64(x&m2), uint64(x&m3)
	y0, y1, y2, y3 := uint64(y&m0), uint64(y&m1), uint64(y&m2), uint64(y&m3)
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&0x1111111111111111 | z1&0x2222222222222222 | z2&0x4444444444444444 | z3&0x8888888888888888
}

// clmul64 returns the carry-less product of x and y (Karatsuba over 32-bit halves).
func clmul64(x, y uint64) (hi, lo uint64) {
	x0, x1, y0, y1 := uint32(x), uint32(x>>32), uint32(y), uint32(y>>32)
	a := bmul32(x0, y0)
	b := bmul32(x1, y1)
	c := bmul32(x0^x1, y0^y1) ^ a ^ b
	return b ^ c>>32, a ^ c<<32
}

// gfMul returns a*b in F_{2^128}.
func gfMul(a, b ot.Block) ot.Block {
	h0, l0 := clmul64(a[0], b[0])
	h2, l2 := clmul64(a[1], b[1])
	h1, l1 := clmul64(a[0]^a[1], b[0]^b[1])
	h1 ^= h0 ^ h2
	l1 ^= l0 ^ l2
	return gfReduce256(l0, h0^l1, l2^h1, h2)
}

// gfReduce256 returns r0 + r1 X^64 + r2 X^128 + r3 X^192 reduced in F_{2^128}.
func gfReduce256(r0, r1, r2, r3 uint64) ot.Block {
	// X^128 = X^7 + X^2 + X + 1: fold word 3 into words 1 and 2, then word 2 into 0 and 1.
	r1 ^= r3 ^ r3<<1 ^ r3<<2 ^ r3<<7
	r2 ^= r3>>63 ^ r3>>62 ^ r3>>57
	r0 ^= r2 ^ r2<<1 ^ r2<<2 ^ r2<<7
	r1 ^= r2>>63 ^ r2>>62 ^ r2>>57
	return ot.Block{r0, r1}
}

// gfMulX returns a*X.
func gfMulX(a ot.Block) ot.Block {
	top := a[1] >> 63
	return ot.Block{a[0]<<1 ^ 0x87&-top, a[1]<<1 | a[0]>>63}
}

// gfReduceAcc reduces a gfDotAsm accumulator (lo, mid, hi).
func gfReduceAcc(acc *[3]ot.Block) ot.Block {
	lo, mid, hi := acc[0], acc[1], acc[2]
	return gfReduce256(lo[0], lo[1]^mid[0], hi[0]^mid[1], hi[1])
}

// gfDot returns sum_i p[i] x[i] for i < len(p) (len(x) >= len(p)): PCLMULQDQ products
// summed before one reduction where the processor has it (gfDotAsm), gfMul otherwise.
func gfDot(p, x []ot.Block) ot.Block {
	x = x[:len(p)]
	if hasCLMUL {
		var acc [3]ot.Block
		gfDotAsm(&acc, p, x)
		return gfReduceAcc(&acc)
	}
	var s ot.Block
	for i := range p {
		s = xorBlock(s, gfMul(p[i], x[i]))
	}
	return s
}

// gfMulDot returns sum_i p[i] a[i] b[i] for i < len(p) (len(a), len(b) >= len(p)), as
// gfDot (gfMulDotAsm where the processor has PCLMULQDQ).
func gfMulDot(p, a, b []ot.Block) ot.Block {
	a, b = a[:len(p)], b[:len(p)]
	if hasCLMUL {
		var acc [3]ot.Block
		gfMulDotAsm(&acc, p, a, b)
		return gfReduceAcc(&acc)
	}
	var s ot.Block
	for i := range p {
		s = xorBlock(s, gfMul(p[i], gfMul(a[i], b[i])))
	}
	return s
}

// gfChunk is the most elements a gfPoly chunk holds: the powers and a chunk's operands
// (a few arrays of gfChunk blocks) stay in the L1 cache.
const gfChunk = 256

// gfPoly evaluates sum_g H^(G-g) x_g (g = 0 .. G-1) for a sequence x given in chunks of
// at most gfChunk elements, without holding the sequence: a chunk x' of l elements
// contributes its inner product with H^l, ..., H^1 (gfDot with tail(l)), and the running
// sum is multiplied by H^l before it is added (horner): Horner's rule over the chunks,
// the powers of H inside a chunk.
type gfPoly struct {
	pow []ot.Block // pow[k] = H^(gfChunk-k)
}

// newGFPoly returns the powers of H for gfPoly.
func newGFPoly(h ot.Block) gfPoly {
	pow := make([]ot.Block, gfChunk)
	x := h
	for k := gfChunk - 1; k >= 0; k-- {
		pow[k] = x
		x = gfMul(x, h)
	}
	return gfPoly{pow: pow}
}

// tail returns H^l, ..., H^1 (1 <= l <= gfChunk): the weights of a chunk of l elements.
func (p gfPoly) tail(l int) []ot.Block { return p.pow[gfChunk-l:] }

// horner returns acc H^l + d: the running sum acc followed by a chunk of l elements whose
// weighted sum (gfDot with tail(l)) is d.
func (p gfPoly) horner(acc, d ot.Block, l int) ot.Block {
	return xorBlock(gfMul(acc, p.pow[gfChunk-l]), d)
}
