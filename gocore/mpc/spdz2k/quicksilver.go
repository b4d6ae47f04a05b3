package spdz2k

// The owner's binary sums in the checks of its private edaBits, proven with QuickSilver
// instead of computed with personal AND triples.
//
// Source: Yang, Sarkar, Weng, Wang, "QuickSilver: Efficient and Affordable Zero-Knowledge
// Proofs for Circuits and Polynomials over Any Field", CCS 2021, section 3 (Figure 5: the
// proof of multiplication gates over F_2 with IT-MACs in F_{2^128}, the gates' relations
// batched with powers of a random chi and the result masked by a random authenticated
// element). The private edaBits' bucket adders (edabits.go) have only inputs that their
// owner knows, so the owner is a prover and the other party a verifier: the owner
// authenticates the adder's carries itself and proves that every AND gate of the ripple
// carry holds, which is the edaBits paper's use of triples known to one party (Escudero,
// Ghosh, Keller, Rachuri, Scholl, CRYPTO 2020) with QuickSilver's check in place of the
// bucketed triples.
//
// # Setting
//
// tinyot's Input leaves the owner P the bits x and MACs M_x and the verifier V the keys
// K_x = M_x xor x*Delta, Delta V's global key in F_{2^128} (tinyot's IT-MACs; XOR is the
// field's addition). For the sum of m planes x and y of n elements (ripple carry: c_0 = 0,
// c_{j+1} = c_j xor ((x_j xor c_j) AND (y_j xor c_j)), sum plane z_j = x_j xor y_j xor c_j),
// P inputs the carries c_1 .. c_{m-1} and 128 random bits r (tinyot Input, one message, P
// to V), and everything else is linear: gate (j, i) has u = x_j xor c_j, v = y_j xor c_j
// and w = c_{j+1} xor c_j, authenticated, and must satisfy u v = w.
//
// # The check
//
// With K_u = M_u + u Delta (and so for v, w): K_u K_v + K_w Delta = A_0 + A_1 Delta +
// (u v + w) Delta^2 with A_0 = M_u M_v and A_1 = u M_v + v M_u + M_w, which P computes. A
// joint coin (after P's input) gives the random linear combination: the paper's sum_g
// chi^g, here sum_g H^(G-g) (gates g = 0 .. G-1) with H in F_{2^128} read from the coin
// (gfPoly, gf128.go: chunks of at most gfChunk gates, each an inner product with the
// powers H^l .. H^1 in PCLMULQDQ products reduced once per chunk, the chunks combined by
// Horner with H^l; session 13 used GHASH, which adds a constant and hashes byte copies).
// P sends U = S(A_0) + M* and V = S(A_1) + a* (S the combination; a* = sum_k r_k X^k, M*
// = sum_k M_{r_k} X^k, the random authenticated element, X the field's generator); V
// computes W = S(K_u K_v) + S(K_w) Delta + K* (K* = sum_k K_{r_k} X^k = M* + a* Delta)
// and accepts iff W = U + V Delta.
// The verdict goes into the private edaBit check's verdict exchange (checkZero), so both
// parties abort together.
//
// Threat model: two parties, static malicious corruption of either; the owner of each
// check is the prover. Soundness: a wrong gate leaves sum_g H^(G-g) (u v + w)_g
// Delta^2 in W - U - V Delta, a polynomial in Delta of degree 2 whose leading coefficient
// is zero with probability at most G/2^128 over H (G gates, fixed by P's input before
// the coin); otherwise P passes only if Delta is one of its two roots: probability
// 2/2^(128-l) for the l bits of Delta that KOS's selective failure may have revealed (at
// the risk 1 - 2^-l of being caught then; tinyot's package doc). Zero knowledge (honest
// P): V is uniform (a* is), and U is W - V Delta, which V computes itself; the carries
// are authenticated bits of which V holds only keys.
//
// Messages (provenSum): P -> V the Delta-COT extension of tinyot Input (G + 128 bits);
// both the coin (commitment, seed); P -> V the proof (U, V: 32 bytes).
//
// Cost per gate and owner: one tinyot input bit (4 bytes of OT extension at k = 4, owner
// to verifier) and no opening; against 9 input bits and 3 opened bits per gate with the
// personal triples (buckets of 3) and the adder's openings of sessions 8-9. CPU: one
// product in F_{2^128} per gate at each party and two inner products with the powers of
// H (gfMulDot, gfDot: PCLMULQDQ, or gfMul's portable carry-less product; constant time),
// in the same pass over the gates as the sum planes, chunk by chunk (no G-sized buffer).

import (
	"encoding/binary"

	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// qsMaskBits is the number of random bits that form QuickSilver's mask (one F_{2^128}
// element).
const qsMaskBits = 128

// provenSum returns the m planes of (x + y) mod 2^m for the owner's planes x and y (m
// planes of n bits each, all of them input by owner: its MACs, the other party's keys)
// with the carries that the owner inputs and proves (see the file comment). failed names
// the proof if it failed at the verifier (the caller adds it to its verdict); err is a
// transport or input error.
//
// x, y and the carries are one party's input, so each party computes only its nonzero
// component of the sums z (the owner's bits and MACs, the other party's keys), and z's
// zero components are views of the scratch's zeros (edabits.go's inputSide); z's blocks
// live in the scratch until the next private edaBit check.
func (s *otSource) provenSum(owner int, x, y []tinyot.Bits) (z []tinyot.Bits, failed []string, err error) {
	m, n := len(x), x[0].N
	mine := s.id == owner
	G := (m - 1) * n // gates; carry c_{j+1} is input bit j*n + i
	sd := s.inputSide(mine, max(G+qsMaskBits, m*n))
	z = make([]tinyot.Bits, m)
	W := ring.Words(n)
	var zX []uint64
	if mine {
		zX = make([]uint64, m*W)
	}
	zB := scratchOf(&s.scratch.zB, m*n)
	// sumBits returns z[j]'s bits x[j] ^ y[j] ^ c at the owner (c's bits cX; none for c_0
	// = 0), nil at the verifier.
	sumBits := func(j int, cX []uint64) []uint64 {
		if !mine {
			return nil
		}
		zx := zX[j*W : (j+1)*W : (j+1)*W]
		for w := range zx {
			zx[w] = x[j].X[w] ^ y[j].X[w]
			if cX != nil {
				zx[w] ^= cX[w]
			}
		}
		return zx
	}
	zBlocks := func(j int) []ot.Block { return zB[j*n : (j+1)*n : (j+1)*n] }
	if m == 1 {
		zb, xb, yb := zBlocks(0), sd.blocks(x[0]), sd.blocks(y[0])
		for i := range zb {
			zb[i] = xorBlock(xb[i], yb[i])
		}
		z[0] = sd.bits(sumBits(0, nil), zb)
		return z, nil, nil
	}
	var in []uint64
	if mine {
		in = make([]uint64, ring.Words(G+qsMaskBits))
		c := make([]uint64, ring.Words(n))
		for j := range m - 1 {
			xj, yj := x[j].X, y[j].X
			for w := range c {
				c[w] ^= (xj[w] ^ c[w]) & (yj[w] ^ c[w])
			}
			ring.MaskTail(c, n)
			putBits(in, j*n, c, n)
		}
		putBits(in, G, s.rng.Uint64s(2), qsMaskBits)
		if s.carryInput != nil {
			s.carryInput(in, n)
		}
	}
	inBits, inBlk, err := s.bin.InputOneSidedInto(s.inputBlocks(G+qsMaskBits), mine, in, G+qsMaskBits)
	if err != nil {
		return nil, nil, err
	}
	all := sd.bits(inBits, inBlk)
	carries := planeViews(all, m-1, n) // carries[j] is c_{j+1}
	// This party's nonzero blocks: the owner's MACs, the verifier's keys.
	blocks := sd.blocks
	// The coin after the carries' input (the gates are fixed before it), then per gate g:
	// prod = M_u M_v (P) or K_u K_v (V), and lin = A_1 (P) or K_w (V), combined with the
	// weights H^(G-g) chunk by chunk (gfPoly: the chunk's operands pj, vs, lj stay in the
	// L1 cache), in the same pass as the sum planes z_j = x_j ^ y_j ^ c_j (j < m - 1).
	coin, err := s.coin("edaBit sum proof")
	if err != nil {
		return nil, nil, err
	}
	seed := make([]byte, 16)
	coin.Read(seed)
	poly := newGFPoly(ot.Block{binary.LittleEndian.Uint64(seed), binary.LittleEndian.Uint64(seed[8:])})
	var acc0, acc1 ot.Block // P: U, V without the mask; V: the parts of W
	pj, vs, lj := make([]ot.Block, gfChunk), make([]ot.Block, gfChunk), make([]ot.Block, gfChunk)
	for j := range m - 1 {
		xb, yb, wb, zb := blocks(x[j]), blocks(y[j]), blocks(carries[j]), zBlocks(j)
		xX, yX := x[j].X, y[j].X
		var cb []ot.Block // c_j's blocks and bits (c_0 = 0)
		var cX []uint64
		if j > 0 {
			cb, cX = blocks(carries[j-1]), carries[j-1].X
		}
		for lo := 0; lo < n; lo += gfChunk {
			l := min(gfChunk, n-lo)
			for i := range l {
				k := lo + i
				bu, bv, bw := xb[k], yb[k], wb[k]
				var cbit uint64
				if cb != nil {
					bu, bv, bw = xorBlock(bu, cb[k]), xorBlock(bv, cb[k]), xorBlock(bw, cb[k])
					cbit = cX[k/64] >> (k % 64) & 1
				}
				zb[k] = xorBlock(bu, yb[k]) // x_j ^ c_j ^ y_j
				pj[i], vs[i] = bu, bv
				if mine {
					u := -(xX[k/64]>>(k%64)&1 ^ cbit)
					v := -(yX[k/64]>>(k%64)&1 ^ cbit)
					bw = xorBlock(xorBlock(andBlock(bv, u), andBlock(bu, v)), bw)
				}
				lj[i] = bw
			}
			w := poly.tail(l)
			acc0 = poly.horner(acc0, gfMulDot(w, pj, vs), l)
			acc1 = poly.horner(acc1, gfDot(w, lj), l)
		}
		z[j] = sd.bits(sumBits(j, cX), zb)
	}
	{ // the last sum plane: z_{m-1} = x_{m-1} ^ y_{m-1} ^ c_{m-1}
		j := m - 1
		zb, xb, yb, c := zBlocks(j), sd.blocks(x[j]), sd.blocks(y[j]), carries[j-1]
		cb := sd.blocks(c)
		for i := range zb {
			zb[i] = xorBlock(xorBlock(xb[i], yb[i]), cb[i])
		}
		z[j] = sd.bits(sumBits(j, c.X), zb)
	}
	mask := all.Slice(G, G+qsMaskBits)
	var maskSum ot.Block // sum_k X^k (M or K of r_k), by Horner from the top
	for k := qsMaskBits - 1; k >= 0; k-- {
		maskSum = xorBlock(gfMulX(maskSum), blocks(mask)[k])
	}
	if mine {
		a := ot.Block{mask.X[0], mask.X[1]}
		u, v := xorBlock(acc0, maskSum), xorBlock(acc1, a)
		msg := make([]byte, 32)
		binary.LittleEndian.PutUint64(msg[0:], u[0])
		binary.LittleEndian.PutUint64(msg[8:], u[1])
		binary.LittleEndian.PutUint64(msg[16:], v[0])
		binary.LittleEndian.PutUint64(msg[24:], v[1])
		if err := s.conn.Send(s.other, msg); err != nil {
			return nil, nil, err
		}
		if err := s.conn.Flush(); err != nil {
			return nil, nil, err
		}
		return z, nil, nil
	}
	msg, err := s.recvN("edaBit sum proof", 32)
	if err != nil {
		return nil, nil, err
	}
	u := ot.Block{binary.LittleEndian.Uint64(msg[0:]), binary.LittleEndian.Uint64(msg[8:])}
	v := ot.Block{binary.LittleEndian.Uint64(msg[16:]), binary.LittleEndian.Uint64(msg[24:])}
	delta := s.bin.Delta()
	if xorBlock(xorBlock(acc0, gfMul(acc1, delta)), maskSum) != xorBlock(u, gfMul(v, delta)) {
		return z, []string{"edaBit sum proof"}, nil
	}
	return z, nil, nil
}

// putBits writes the n low bits of src into dst from bit offset off.
func putBits(dst []uint64, off int, src []uint64, n int) {
	if off%64 == 0 {
		w := off / 64
		copy(dst[w:w+n/64], src[:n/64])
		for i := n / 64 * 64; i < n; i++ {
			dst[(off+i)/64] |= (src[i/64] >> (i % 64) & 1) << ((off + i) % 64)
		}
		return
	}
	for i := range n {
		dst[(off+i)/64] |= (src[i/64] >> (i % 64) & 1) << ((off + i) % 64)
	}
}
