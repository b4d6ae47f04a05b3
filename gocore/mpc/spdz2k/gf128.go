package spdz2k

// Arithmetic in F_{2^128} = F_2[X]/(X^128 + X^7 + X^2 + X + 1) for QuickSilver's check
// (quicksilver.go): an element is an ot.Block, bit k of word k/64 the coefficient of X^k
// (the same bits as tinyot's MACs and keys, whose XOR is the field's addition). Constant
// time: carry-less products from integer multiplications with the operands' bits spread
// four apart (the "holes" technique of BearSSL's ghash_ctmul), no table lookups; the
// gates' products in bulk (gfMulVec) with the processor's carry-less multiplication
// (PCLMULQDQ, gf128_amd64.s) where it has one, the same reduction.

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/qmpc/qmpc/gocore/ot"
)

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
	r0, r1, r2, r3 := l0, h0^l1, l2^h1, h2
	// X^128 = X^7 + X^2 + X + 1: fold word 3 into words 1 and 2, then word 2 into 0 and 1.
	r1 ^= r3 ^ r3<<1 ^ r3<<2 ^ r3<<7
	r2 ^= r3>>63 ^ r3>>62 ^ r3>>57
	r0 ^= r2 ^ r2<<1 ^ r2<<2 ^ r2<<7
	r1 ^= r2>>63 ^ r2>>62 ^ r2>>57
	return ot.Block{r0, r1}
}

// gfMulVec sets dst[i] = a[i]*b[i] for i < len(a) (len(b), len(dst) >= len(a); dst may
// be a or b): PCLMULQDQ where the processor has it (gf128_amd64.s), gfMul otherwise. Both
// are constant time.
func gfMulVec(dst, a, b []ot.Block) {
	b, dst = b[:len(a)], dst[:len(a)]
	if hasCLMUL {
		gfMulVecAsm(dst, a, b)
		return
	}
	for i := range a {
		dst[i] = gfMul(a[i], b[i])
	}
}

// gfMulX returns a*X.
func gfMulX(a ot.Block) ot.Block {
	top := a[1] >> 63
	return ot.Block{a[0]<<1 ^ 0x87&-top, a[1]<<1 | a[0]>>63}
}

// gfHash evaluates sum_g H^(len+1-g) x_g (g = 0 .. len-1) plus a constant that depends only
// on the key and the length, for a pseudorandom H, with GCM's GHASH (the standard
// library's, carry-less multiplication in hardware where the processor has it): the tag
// of AES-GCM with the key and nonce, empty plaintext and x as additional data is
// GHASH_H(x, length block) xor AES_K(J_0), H = AES_K(0). GHASH's field is this file's, its
// elements written with the bits of each byte reversed (gcmWord converts).
type gfHash struct {
	aead  cipher.AEAD
	nonce []byte
	h     ot.Block // H in this file's order
}

// newGFHash keys the hash with seed (32 bytes: the AES key, then the nonce).
func newGFHash(seed []byte) (*gfHash, error) {
	blk, err := aes.NewCipher(seed[:16])
	if err != nil {
		return nil, fmt.Errorf("spdz2k offline: %w", err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, fmt.Errorf("spdz2k offline: %w", err)
	}
	var hb [16]byte
	blk.Encrypt(hb[:], hb[:])
	h := ot.Block{gcmWord(binary.LittleEndian.Uint64(hb[:])), gcmWord(binary.LittleEndian.Uint64(hb[8:]))}
	return &gfHash{aead: aead, nonce: seed[16 : 16+aead.NonceSize()], h: h}, nil
}

// gfHashParts evaluates gfHash's sum of a sequence given in parts of n elements each,
// without holding the sequence: with t_p the hash of part p (gfHash's sum: sum_i
// H^(n+1-i) x_{p,i} plus the constant of length n), it returns sum_p H^(n(P-1-p)) t_p
// (Horner over the P parts, one gfMul by H^n per part), which is sum_g H^(G+1-g) x_g
// over the whole sequence (G = nP, g = pn + i) plus a constant that depends only on the
// key, n and P, as gfHash's is.
type gfHashParts struct {
	h   *gfHash
	n   int
	hn  ot.Block // H^n
	acc ot.Block
	buf []byte // one part in GCM's order (putGCM)
}

// parts returns an accumulator for parts of n elements.
func (h *gfHash) parts(n int) *gfHashParts {
	hn, sq := ot.Block{1, 0}, h.h
	for e := n; e > 0; e >>= 1 { // square and multiply; n is public
		if e&1 == 1 {
			hn = gfMul(hn, sq)
		}
		sq = gfMul(sq, sq)
	}
	return &gfHashParts{h: h, n: n, hn: hn, buf: make([]byte, 16*n)}
}

// add appends the next part x (n elements).
func (a *gfHashParts) add(x []ot.Block) {
	putGCM(a.buf, x[:a.n])
	a.acc = xorBlock(gfMul(a.acc, a.hn), a.h.sumBytes(a.buf))
}

// sum returns the hash of the parts added so far.
func (a *gfHashParts) sum() ot.Block { return a.acc }

// gcmWord converts a word between this file's bit order and GCM's (bit 7 - p of byte j
// is the coefficient of X^(8j+p) in GCM's little-endian word): the bits of each byte
// reversed (bits.ReverseBytes64(bits.Reverse64(w)), here in three swaps without the two
// byte reversals). It is its own inverse.
func gcmWord(w uint64) uint64 {
	const m1, m2, m4 = 0x5555555555555555, 0x3333333333333333, 0x0f0f0f0f0f0f0f0f
	w = w>>1&m1 | w&m1<<1
	w = w>>2&m2 | w&m2<<2
	return w>>4&m4 | w&m4<<4
}

// putGCM writes the elements x into buf (16 bytes each, len(buf) >= 16*len(x)) in GCM's
// order, as sumBytes reads them.
func putGCM(buf []byte, x []ot.Block) {
	buf = buf[:16*len(x)]
	for i, b := range x {
		binary.LittleEndian.PutUint64(buf[16*i:], gcmWord(b[0]))
		binary.LittleEndian.PutUint64(buf[16*i+8:], gcmWord(b[1]))
	}
}

// sum returns the hash of x (see gfHash).
func (h *gfHash) sum(x []ot.Block) ot.Block {
	buf := make([]byte, 16*len(x))
	putGCM(buf, x)
	return h.sumBytes(buf)
}

// sumBytes returns the hash of the elements that putGCM wrote into buf (see gfHash).
func (h *gfHash) sumBytes(buf []byte) ot.Block {
	tag := h.aead.Seal(nil, h.nonce, nil, buf)
	return ot.Block{gcmWord(binary.LittleEndian.Uint64(tag)), gcmWord(binary.LittleEndian.Uint64(tag[8:]))}
}
