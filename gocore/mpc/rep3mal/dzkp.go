package rep3mal

// Distributed zero-knowledge proofs of the arithmetic products: Mul and MulSum (those
// inside the checked conversions included) here, MatMul and GatherMulSum outputs as
// dot-product gates in dot.go, all in one proof per prover and batch.
//
// Source: Boyle, Gilboa, Ishai and Nof, "Practical Fully Secure Three-Party Computation
// via Sublinear Distributed Zero-Knowledge Proofs", CCS 2019 (the proof of a degree-2
// relation held by a prover whose inputs are additively shared between two verifiers, by
// recursive polynomial compression with public coins), over Z_2^64 through the Galois ring
// GR(2^64, 56) (package galois) as in Boyle, Gilboa, Ishai and Nof, "Efficient Fully
// Secure Computation via Distributed Zero-Knowledge Proofs", Asiacrypt 2020: random
// coefficients and challenges are drawn from the ring's exceptional set, where the
// Schwartz-Zippel lemma holds (galois package doc). The first compression step is the
// multilinear form of the proof (one polynomial in s variables, evaluated in the points
// {0, 1, inf}^s, inf standing for the leading coefficient, so that the prover computes
// its polynomial over Z_2^64 with no division); the later steps halve an inner product
// in GR, and the last one is masked as in the papers' zero-knowledge variant.
//
// Statement. In rep3's product party i sends z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i +
// alpha_i to party i-1, with alpha_i = F(k_i) - F(k_{i-1}) (rep3.MaskObserver). Party i is
// the prover of its own messages; its two verifiers hold its inputs additively: party i-1
// (V-) holds x_i, y_i, the received z_i and F(k_{i-1}); party i+1 (V+) holds x_{i+1},
// y_{i+1} and F(k_i). Per output e (a MulSum output sums its K terms) the claim is
//
//	sum over terms j of e of <a_j, b_j> = w_e, a_j = (x_i, x_{i+1}), b_j = (y_i + y_{i+1}, y_i),
//	w_e = z_i - alpha_i,
//
// with V-'s shares a = (x_i, 0), b = (y_i, y_i), w = z_i + F(k_{i-1}) and V+'s a = (0,
// x_{i+1}), b = (y_{i+1}, 0), w = -F(k_i). All three parties prove at once, and each is
// V- of the next party and V+ of the previous one. (The verifiers compute w from the
// reported words as z_B + next and -prev. The checked B2A's t = b0 b1 is party 0's input
// instead, t_0 = F(k_2) held by parties 0 and 2 and t_1 sent to party 1; its reported
// words make w = t_0 + t_1 for prover 0, shared as t_0 by V- and t_1 by V+, and w = 0
// for provers 1 and 2, whose cross terms vanish: rep3/convert_checked.go.)
//
// Protocol, per check batch (after the batch's coin, which fixes the products):
//  1. Lift. Each record's outputs are laid out as 2^s blocks of m (zero-padded): output
//     t*2^s + l. psi_t, uniform in the exceptional set, from the batch coin, one per t
//     (so that psi_t times a word is a subset sum: galois.Elem.AddSubsetSums). The prover's
//     polynomial is H(X) = sum over records, t, terms of psi_t <f_t(X), g_t(X)> with f, g
//     the multilinear extensions over l in {0,1}^s; at a grid point l it equals c_l =
//     sum_t psi_t w_{l,t} if every claim holds. The prover sends (additively shared: the
//     V- share is drawn from the PRG key the prover shares with V-, rep3.Rand, the V+ share
//     is sent) H's values at the 3^s - 2^s points of {0,1,inf}^s off the grid; the
//     verifiers use their shares of c_l at the grid points. A coin gives r in S^s (S the
//     exceptional set) and the claim becomes <A, B> = H(r), with A = psi_t f_t(r), B =
//     g_t(r): vectors over GR of length 2 per term / 2^s, which every party computes from
//     its components (a linear fold: no message).
//  2. Halving. While the vectors are longer than 1: the prover sends shares of h(0) =
//     <A_lo, B_lo> and h(inf) = <A_hi - A_lo, B_hi - B_lo> of h(X) = <(1-X)A_lo + X A_hi,
//     (1-X)B_lo + X B_hi>; the verifiers take h(1) = c - h(0); a coin gives r; the claim
//     becomes h(r) about the folded vectors. A_lo and A_hi are the even and odd entries
//     (pairs of adjacent entries, so that a record's entries stay among themselves and
//     the components that are zero in whole records stay zero: grAlg.halves); which
//     entries pair up is a public permutation of the vectors and changes neither the
//     claim nor the bound. Implemented (zk.go) as steps in v =
//     foldVars variables, today v = 1 (plain halving, the vectors zero-padded to even
//     length). With v = 2 a step does two halvings at once: the vectors (zero-padded to
//     a multiple of 4) are 4 blocks b in {0,1}^2, h(X1, X2) = <f(X), g(X)> with f, g
//     multilinear over the blocks; the prover sends h at the 9 points of {0,1,inf}^2 but
//     the grid point (1, 1), which the verifiers take as c minus h at the other three
//     grid points; a coin gives (r1, r2), the claim becomes h(r1, r2) (liftBasis) and the
//     vectors are folded by r2, then r1 (half the rounds, 4/3 the prover's products).
//  3. Last step, masked: with fresh random M, N from the prover, f(X) = (1-X)M + XA, g(X)
//     = (1-X)N + XB, h = f g; the prover sends shares of M, N, h(0), h(inf), the
//     verifiers take h(1) = c, a coin gives r outside {0, 1}, the two verifiers exchange
//     their shares of f(r), g(r), h(r) and each checks f(r) g(r) = h(r).
//
// Soundness: if some claim of prover i is false, then with probability at least 1 -
// 2^-56 over psi (a non-zero Z_2^64 error times psi_t takes 2^56 distinct values as
// psi_t runs over the exceptional set, galois doc) some c_l differs from the true H*(l),
// so the polynomial H the verifiers use differs from H* (degree at most 2 in each of s
// variables, total 2s); it agrees with H* at r with probability at most 2s/2^56 (the
// Schwartz-Zippel bound over the exceptional set). The dot-product claims fail to show
// with probability at most 2^-55 (dot.go) and are joined with a challenge gamma
// (2^-56). Each halving step turns a false claim into a true one with probability at
// most 2/2^56 (h - h* has degree 2), a step in two variables with 4/2^56 (total degree
// 4), and so does the last step. With R variables folded after the lift a
// false claim passes with probability at most (1 + 2s + 3 + 2R + 2)/2^56 per prover and
// batch: with s = 7 and R <= 40 (the vectors are far shorter than 2^40), 100/2^56, below
// 2^-49.3.
// Challenges come from the commit-then-reveal coin (check.go) after the prover's message
// is sent.
//
// Zero knowledge (one corrupted verifier): every share a verifier receives is the value
// minus a PRG word of the key the prover shares with the other verifier, so it is
// uniform; the verifiers' grid values and h(1) are their own linear combinations, never
// opened; what is opened at the end, f(r) and g(r), is uniform because (1-r) is a unit
// (every challenge is drawn outside {0, 1}) and M, N are uniform and secret, and h(r) =
// f(r) g(r) then follows. A proof message of the wrong length counts as a failed proof.
//
// Messages per batch: the lift's 3^s - 2^s ring elements (D words each) from each prover
// to its V+, two elements per halving step (eight per step in two variables, foldVars = 2), four
// in the last step, three from each
// verifier to the other, and a coin per step (its commitments travel with the step's
// message, its reveal in a second round): a few hundred KB and about 2(R + 2) + 1 rounds,
// independent of the number of products beyond log2. Steps 2 and 3 are zk.go's, written
// once for this ring and for GF(2^64) (the AND words' proof, andproof.go, whose messages
// travel in the same rounds).

import (
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/prg"
)

// liftVars is s, the number of variables of the first compression step: it divides the
// vectors by 2^s at a prover cost of (3^s - 2^s)/2^s ring-by-word products (subset sums)
// per output, and the lift's message has 3^s - 2^s ring elements. s = 7 (2059 elements,
// 922 KB per prover and batch) costs less CPU than s = 6 since the lift became cheaper
// than the GR compression steps it shortens (BENCHMARKS.md, session 6: 6.7-7.3 against
// 7.4-7.8 CPU s for MobileNetV1 0.25_128, for 7.7 % more bytes); s = 8 costs more of both.
const liftVars = 7

// liftChunk is the number of groups of four block positions whose products the prover's
// lift keeps before adding them to H, point by point (liftValues).
const liftChunk = 8

// zkRecord is one recorded product laid out for the lift.
type zkRecord struct {
	product
	k, n, m int // terms per output, outputs, outputs per block
}

// zkLift holds the lift's point tables: points of {0,1,inf}^s in base 3 (digit j for
// variable j: 0, 1, 2 = inf).
type zkLift struct {
	s, grid, points int
	gridPt          []int // base-3 index of grid point l (digits = bits of l)
	offGrid         []int // base-3 indices with at least one inf digit
	// diffs are the points off the grid as (q, q1, q0): q's first inf digit from the top
	// that is followed only by 0/1 digits, replaced by 1 and by 0; ordered so that q1 and
	// q0 come before q (variable by variable, the lower digits already extended).
	diffs [][3]int32
}

func newLift(s int) *zkLift {
	z := &zkLift{s: s, grid: 1 << s, points: 1}
	for range s {
		z.points *= 3
	}
	isGrid := make([]bool, z.points)
	for l := range z.grid {
		q, pw := 0, 1
		for j := range s {
			q += (l >> j & 1) * pw
			pw *= 3
		}
		z.gridPt = append(z.gridPt, q)
		isGrid[q] = true
	}
	for q := range z.points {
		if !isGrid[q] {
			z.offGrid = append(z.offGrid, q)
		}
	}
	pw := 1
	for range s {
		for q := range z.points {
			if q/pw%3 != 2 {
				continue
			}
			high := true // digits above j are 0 or 1
			for h := q / (3 * pw); h > 0; h /= 3 {
				high = high && h%3 != 2
			}
			if high {
				z.diffs = append(z.diffs, [3]int32{int32(q), int32(q - pw), int32(q - 2*pw)})
			}
		}
		pw *= 3
	}
	return z
}

// extend writes the values at {0,1,inf}^s of the multilinear polynomial with values in
// (length 2^s, bit j of the index = variable j) to out (length 3^s): the values on the
// grid, then one difference per point off the grid, v(.., inf, ..) = v(.., 1, ..) - v(..,
// 0, ..) (over GF(2), for bit-sliced words: v1 ^ v0, if xor), in the order of diffs.
func (z *zkLift) extend(in, out []uint64, xor bool) {
	for l, q := range z.gridPt {
		out[q] = in[l]
	}
	if xor {
		for _, d := range z.diffs {
			out[d[0]] = out[d[1]] ^ out[d[2]]
		}
		return
	}
	for _, d := range z.diffs {
		out[d[0]] = out[d[1]] - out[d[2]]
	}
}

// extend4xor is extend over GF(2) (bit-sliced words) of four polynomials at once.
func (z *zkLift) extend4xor(in, out [][4]uint64) {
	for l, q := range z.gridPt {
		out[q] = in[l]
	}
	if hasExtendAsm {
		extendXor4(&out[0], &z.diffs[0], len(z.diffs))
		return
	}
	for _, d := range z.diffs {
		a, b := &out[d[1]], &out[d[2]]
		out[d[0]] = [4]uint64{a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]}
	}
}

// extend4 is extend (over Z_2^64) of four polynomials at once, one per lane.
func (z *zkLift) extend4(in, out [][4]uint64) {
	for l, q := range z.gridPt {
		out[q] = in[l]
	}
	if hasExtendAsm {
		extendSub4(&out[0], &z.diffs[0], len(z.diffs))
		return
	}
	for _, d := range z.diffs {
		a, b := &out[d[1]], &out[d[2]]
		out[d[0]] = [4]uint64{a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]}
	}
}

// liftBasis returns, for every point q of {0,1,inf}^s, prod_j beta_{q_j}(r_j) with
// beta_0(r) = 1-r, beta_1(r) = r, beta_inf(r) = r^2 - r: the value at r of a polynomial of
// degree at most 2 per variable is sum_q basis[q] * value(q); at the grid points these
// are the multilinear weights eq(r, l).
func liftBasis[E comparable](a zkAlg[E], z *zkLift, r []E) []E {
	out := make([]E, z.points)
	out[0] = a.one()
	n := 1
	for j := range z.s {
		b := lineBasis(a, &r[j])
		for q := n - 1; q >= 0; q-- {
			for d := 2; d >= 0; d-- {
				a.mul(&out[q+d*n], &out[q], &b[d])
			}
		}
		n *= 3
	}
	return out
}

// bitsOf packs the coefficients (0 or 1) of an exceptional element into a word.
func bitsOf(e *galois.Elem) uint64 {
	var b uint64
	for c := range galois.D {
		b |= (e[c] & 1) << uint(c)
	}
	return b
}

// nibbles returns, for each coefficient c, the 4-bit index whose bit dt is coefficient
// c of psi_{t0+dt} (0 past the end).
func nibbles(bits []uint64, t0 int) [galois.D]uint8 {
	var w [4]uint64
	for dt := range 4 {
		if t0+dt < len(bits) {
			w[dt] = bits[t0+dt]
		}
	}
	var out [galois.D]uint8
	for c := range out {
		out[c] = uint8(w[0]>>uint(c)&1 | (w[1]>>uint(c)&1)<<1 | (w[2]>>uint(c)&1)<<2 | (w[3]>>uint(c)&1)<<3)
	}
	return out
}

// grAlg is GR(2^64, 56), the algebra of the proofs of the arithmetic products.
type grAlg struct{}

const productProof = "product proof"

func (grAlg) what() string                     { return productProof }
func (grAlg) words() int                       { return galois.D }
func (grAlg) put(dst []uint64, e *galois.Elem) { copy(dst, e[:]) }
func (grAlg) get(src []uint64) (e galois.Elem) { copy(e[:], src); return }
func (grAlg) add(z, x, y *galois.Elem)         { z.Add(x, y) }
func (grAlg) sub(z, x, y *galois.Elem)         { z.Sub(x, y) }
func (grAlg) mul(z, x, y *galois.Elem)         { z.Mul(x, y) }
func (grAlg) one() galois.Elem                 { return galois.FromScalar(1) }
func (grAlg) xor() bool                        { return false }

// challenge is uniform in the exceptional set outside {0, 1}.
func (grAlg) challenge(g *prg.PRG) galois.Elem {
	zero, one := galois.FromScalar(0), galois.FromScalar(1)
	for {
		r := galois.Exceptional(g)
		if r != zero && r != one {
			return r
		}
	}
}

// halves is the prover's h(0) and h(inf) for the halving step of the bases, whose pairs
// are adjacent entries (2j, 2j+1) (halve), split among parallel workers (their reduced
// sums added). A product with a zero factor is skipped (a zero test reads 56 words, a
// product costs 56 x 56 word products). The components that are zero in whole records
// (the checked conversions' single-component operands: for each party about half of
// B2A's lifted entries, in the records' contiguous ranges of the bases) fold to zero, and
// adjacent pairs keep a record's entries among themselves until the vectors are short,
// so those zeros last through the steps (pairs (j, half + j) would mix records in the
// first step). The two products of each point are summed by one kernel (mulAdd).
func (grAlg) halves(z *zkBases[galois.Elem]) (h0, hinf galois.Elem) {
	half := len(z.a) / 2
	var zp [4][]bool
	for k := range zp {
		zp[k] = pairZero(z.zero[k], half)
	}
	parts := parallel(half, 64, func(lo, hi int) [2]galois.Elem {
		var w0, w2 galois.Wide
		var s, da, db, dya, dyb, ds galois.Elem
		// zeros reports whether the entries of pair j of vector v are zero (without reading
		// them if the pair lies in a known zero range).
		zeros := func(k int, v []galois.Elem, j int) (bool, bool) {
			if zp[k][j] {
				return true, true
			}
			return v[2*j].IsZero(), v[2*j+1].IsZero()
		}
		// diff sets d = x1 - x0 and reports whether it is non-zero (zx0, zx1: x0, x1 zero;
		// an entry reported zero is not read: in a zero range it is not stored).
		var zero galois.Elem
		diff := func(d, x1, x0 *galois.Elem, zx1, zx0 bool) bool {
			switch {
			case zx0 && zx1:
				*d = zero
				return false
			case zx0:
				*d = *x1
				return true
			case zx1:
				d.Sub(&zero, x0)
				return true
			}
			d.Sub(x1, x0)
			return !d.IsZero()
		}
		for j := lo; j < hi; j++ {
			l, h := 2*j, 2*j+1
			a, b, ya, yb := &z.a[l], &z.b[l], &z.ya[l], &z.yb[l]
			a1, b1, ya1, yb1 := &z.a[h], &z.b[h], &z.ya[h], &z.yb[h]
			za, za1 := zeros(0, z.a, j)
			zb, zb1 := zeros(1, z.b, j)
			zya, zya1 := zeros(2, z.ya, j)
			zyb, zyb1 := zeros(3, z.yb, j)
			first := false // a (ya + yb) is a non-zero product
			if !za && !(zya && zyb) {
				switch {
				case zya:
					s = *yb
				case zyb:
					s = *ya
				default:
					s.Add(ya, yb)
				}
				first = !s.IsZero()
			}
			mulAdd(&w0, first, !zya && !zb, a, &s, b, ya)
			nda := diff(&da, a1, a, za1, za)
			ndb := diff(&db, b1, b, zb1, zb)
			ndya := diff(&dya, ya1, ya, zya1, zya)
			ndyb := diff(&dyb, yb1, yb, zyb1, zyb)
			first = false
			if nda && (ndya || ndyb) {
				ds.Add(&dya, &dyb)
				first = !ds.IsZero()
			}
			mulAdd(&w2, first, ndya && ndb, &da, &ds, &db, &dya)
		}
		var out [2]galois.Elem
		w0.Reduce(&out[0])
		w2.Reduce(&out[1])
		return out
	})
	for _, pt := range parts {
		h0.Add(&h0, &pt[0])
		hinf.Add(&hinf, &pt[1])
	}
	return
}

// mulAdd adds to w the products x1 y1 (if p1) and x2 y2 (if p2), both by one kernel
// (Wide.MulAdd2) when both are taken.
func mulAdd(w *galois.Wide, p1, p2 bool, x1, y1, x2, y2 *galois.Elem) {
	switch {
	case p1 && p2:
		w.MulAdd2(x1, y1, x2, y2)
	case p1:
		w.MulAdd(x1, y1)
	case p2:
		w.MulAdd(x2, y2)
	}
}

// halve replaces each vector w of z by w[2j] + r (w[2j+1] - w[2j]) (the pairs of
// halves): each pair's result is written over its first entry by parallel workers (zero
// differences skipped, pairs in a zero range neither read nor written), then the results
// are moved down to w[j] in order (entry 2j before j's old value is needed: 2j >= j), and
// the zero ranges are halved (their ends written as zeros: zkBases). The challenge r is
// in the exceptional set: the products use its bit mask (MulBits).
func (grAlg) halve(z *zkBases[galois.Elem], r *galois.Elem) {
	rb := r.Bits()
	for k, vec := range [4]*[]galois.Elem{&z.a, &z.b, &z.ya, &z.yb} {
		w := *vec
		half := len(w) / 2
		zp := pairZero(z.zero[k], half)
		parallel(half, 256, func(lo, hi int) struct{} {
			var d, t galois.Elem
			for j := lo; j < hi; j++ {
				if zp[j] {
					continue
				}
				x, y := &w[2*j], &w[2*j+1]
				d.Sub(y, x)
				if d.IsZero() {
					continue
				}
				t.MulBits(rb, &d)
				x.Add(x, &t)
			}
			return struct{}{}
		})
		for j := 1; j < half; j++ {
			if !zp[j] {
				w[j] = w[2*j]
			}
		}
		*vec = w[:half]
		z.zero[k] = halveSpans(z.zero[k])
		zeroEnds(*vec, z.zero[k])
	}
}

// pairZero reports for each pair (2j, 2j+1), j < half, whether both entries lie in one
// of the zero ranges sp.
func pairZero(sp []span, half int) []bool {
	zp := make([]bool, half)
	for _, s := range sp {
		for j := (s.lo + 1) / 2; j < min(s.hi/2, half); j++ {
			zp[j] = true
		}
	}
	return zp
}

// halveSpans returns the zero ranges after a halving step: the pairs that lie in a range
// (sp is overwritten).
func halveSpans(sp []span) []span {
	out := sp[:0]
	for _, s := range sp {
		if lo, hi := (s.lo+1)/2, s.hi/2; lo < hi {
			out = append(out, span{lo, hi})
		}
	}
	return out
}

// foldTop replaces w by lo + r (hi - lo) (a verifier's share of the interleaved instances
// is zero at every other position: zero differences are skipped), split among parallel
// workers.
// The challenge r is in the exceptional set: the products use its bit mask (MulBits).
func (grAlg) foldTop(w []galois.Elem, r *galois.Elem) []galois.Elem {
	half := len(w) / 2
	rb := r.Bits()
	parallel(half, 256, func(lo, hi int) struct{} {
		var d, t galois.Elem
		for j := lo; j < hi; j++ {
			d.Sub(&w[half+j], &w[j])
			if d.IsZero() {
				continue
			}
			t.MulBits(rb, &d)
			w[j].Add(&w[j], &t)
		}
		return struct{}{}
	})
	return w[:half]
}

// arithStatement is this party's part of the proofs of the arithmetic products of a
// batch before the lift's coin: the records, the random coefficients from the batch coin
// and the lift's message (step 1).
type arithStatement struct {
	recs    []zkRecord
	zero    [][4]bool // per record: x_A, x_B, y_A, y_B zero in the whole record
	psi     [][]galois.Elem
	psiBits [][]uint64
	nibs    [][][galois.D]uint8 // nibbles of psiBits per record and group of four t
	dots    []dotRecord
	us      [][]uint64
	vs      [][]galois.Elem
	lift    *zkLift
	off     []galois.Elem // the prover's values off the grid (nil: no elementwise records)
	arena   *arena[galois.Elem]
}

// newArithStatement draws the coefficients of the elementwise products prods and the dot
// records from the batch coin g and computes the lift's message.
func newArithStatement(prods []product, dots []dotRecord, g *prg.PRG, ar *arena[galois.Elem]) *arithStatement {
	G := 1 << liftVars
	st := &arithStatement{dots: dots, lift: newLift(liftVars), arena: ar}
	st.recs = make([]zkRecord, len(prods))
	for i, pr := range prods {
		k := 1
		if pr.rel.Kind == "mulsum" {
			k = pr.rel.K
		}
		n := len(pr.z.A)
		st.recs[i] = zkRecord{product: pr, k: k, n: n, m: (n + G - 1) / G}
	}
	// Components that are zero in a whole record (the checked conversions' operands are
	// single components: rep3/convert_checked.go) are neither gathered nor extended by
	// the prover nor folded by the verifiers.
	st.zero = make([][4]bool, len(st.recs))
	for i, r := range st.recs {
		for v, c := range [4][]uint64{r.x.A, r.x.B, r.y.A, r.y.B} {
			st.zero[i][v] = allZero(c)
		}
	}
	// psi_t per record and block position, from the exceptional set (bit c of psiBits is
	// the coefficient of X^c).
	st.psi = make([][]galois.Elem, len(st.recs))
	st.psiBits = make([][]uint64, len(st.recs))
	for i, r := range st.recs {
		st.psi[i] = make([]galois.Elem, r.m)
		st.psiBits[i] = make([]uint64, r.m)
		for t := range st.psi[i] {
			st.psi[i][t] = galois.Exceptional(g)
			st.psiBits[i][t] = bitsOf(&st.psi[i][t])
		}
	}
	st.nibs = make([][][galois.D]uint8, len(st.recs))
	for i, r := range st.recs {
		st.nibs[i] = make([][galois.D]uint8, (r.m+3)/4)
		for j := range st.nibs[i] {
			st.nibs[i][j] = nibbles(st.psiBits[i], 4*j)
		}
	}
	// u_a and v_b of the dot records (dot.go).
	st.us = make([][]uint64, len(dots))
	st.vs = make([][]galois.Elem, len(dots))
	for i, d := range dots {
		st.us[i] = make([]uint64, d.na)
		for a := range st.us[i] {
			e := galois.Exceptional(g)
			st.us[i][a] = bitsOf(&e)
		}
		st.vs[i] = make([]galois.Elem, d.p)
		for b := range st.vs[i] {
			st.vs[i][b] = galois.Exceptional(g)
		}
	}
	if len(st.recs) > 0 {
		st.off = st.liftValues()
	}
	return st
}

// liftMsg is the lift's message (nil if there is no elementwise record: no lift).
func (st *arithStatement) liftMsg() []uint64 {
	if st.off == nil {
		return nil
	}
	out := make([]uint64, len(st.off)*galois.D)
	for i := range st.off {
		copy(out[i*galois.D:], st.off[i][:])
	}
	return out
}

// finish takes this party's shares of the other provers' lift messages and the lift's
// coin, and returns the proof's state for the halving steps: the lifted vectors and the
// dot records' inner products in one set of bases, joined with gamma.
func (st *arithStatement) finish(sm, sp []uint64, g *prg.PRG) (*zkProof[galois.Elem], error) {
	a := grAlg{}
	n := 0
	for _, r := range st.recs {
		n += r.m * r.k
	}
	for _, d := range st.dots {
		if d.xbar != nil {
			n += d.k
		} else {
			n += d.p * d.k
		}
	}
	nRec := 0
	for _, r := range st.recs {
		nRec += r.m * r.k
	}
	// The bases: the lifted records' folds first (every entry written by liftFold, which
	// runs whenever there are records), then the dot records' pairs; room for the padding
	// of the first step.
	bases := &zkBases[galois.Elem]{a: st.arena.getDirty(nRec, n+3), b: st.arena.getDirty(nRec, n+3),
		ya: st.arena.getDirty(nRec, n+3), yb: st.arena.getDirty(nRec, n+3)}
	var cm, cp galois.Elem // claim shares as V- of the next prover, V+ of the previous
	gamma := a.one()
	if st.off != nil {
		rs := make([]galois.Elem, st.lift.s+1)
		for i := range rs {
			rs[i] = a.challenge(g)
		}
		gamma = rs[st.lift.s]
		decode := func(v []uint64) []galois.Elem {
			out := make([]galois.Elem, len(v)/galois.D)
			for i := range out {
				out[i] = a.get(v[i*galois.D:])
			}
			return out
		}
		cm, cp = st.liftFold(liftBasis(a, st.lift, rs[:st.lift.s]), decode(sm), decode(sp),
			[4][]galois.Elem{bases.a, bases.b, bases.ya, bases.yb})
	}
	// The components zero in whole records are zero ranges of the bases, whose entries
	// liftFold does not write (zkBases: only their ends are stored).
	off := 0
	for ri, r := range st.recs {
		for v := range 4 {
			if st.zero[ri][v] {
				bases.zero[v] = addSpan(bases.zero[v], off, off+r.m*r.k)
			}
		}
		off += r.m * r.k
	}
	for v, w := range [4][]galois.Elem{bases.a, bases.b, bases.ya, bases.yb} {
		zeroEnds(w, bases.zero[v])
	}
	gb := gamma.Bits() // gamma is a challenge or 1: exceptional
	for i := range st.dots {
		// L and R are written straight into the bases' next entries, L then multiplied
		// by gamma in place.
		lo, hi := len(bases.a), len(bases.a)+st.dots[i].length()
		sh := dotShares{}
		for _, v := range [4]struct{ w, dst *[]galois.Elem }{{&bases.a, &sh.la}, {&bases.b, &sh.lb},
			{&bases.ya, &sh.ra}, {&bases.yb, &sh.rb}} {
			*v.w = (*v.w)[:hi]
			*v.dst = (*v.w)[lo:hi]
			clear(*v.dst)
		}
		st.dots[i].sharesInto(&sh, st.us[i], st.vs[i])
		if gamma != a.one() {
			for j := range sh.la {
				sh.la[j].MulBits(gb, &sh.la[j])
				sh.lb[j].MulBits(gb, &sh.lb[j])
			}
		}
		var t galois.Elem
		t.Mul(&gamma, &sh.cm)
		cm.Add(&cm, &t)
		t.Mul(&gamma, &sh.cp)
		cp.Add(&cp, &t)
	}
	if len(bases.a) != n {
		return nil, errs.New(errs.Internal, "%s: proof vectors of %d pairs, want %d", Name, len(bases.a), n)
	}
	return newZKProof(a, bases, cm, cp), nil
}

// liftValues is step 1's message for the elementwise records: the prover's polynomial
// H at the points of {0,1,inf}^s off the grid. The four block positions t0..t0+3 that
// share a subset-sum table are extended side by side (lanes of extend4), and the groups
// of four are split among parallel workers (each with its own sums of H, added at the
// end: the values are sums in GR, so the split does not change them).
func (st *arithStatement) liftValues() []galois.Elem {
	recs, lift := st.recs, st.lift
	type job struct{ ri, t0 int }
	var jobs []job
	for ri, r := range recs {
		if z := st.zero[ri]; z[0] && z[1] || z[2] && z[3] {
			continue // the a side or the b side is zero: no contribution
		}
		for t0 := 0; t0 < r.m; t0 += 4 {
			jobs = append(jobs, job{ri, t0})
		}
	}
	parts := parallel(len(jobs), 8, func(lo, hi int) []galois.Elem {
		hq := make([]galois.Elem, lift.points)
		var in [4][][4]uint64
		var ext [4][][4]uint64
		for j := range in {
			in[j] = make([][4]uint64, lift.grid)
			ext[j] = make([][4]uint64, lift.points)
		}
		acc := make([][4]uint64, lift.points)
		var zeroed [4]bool
		// The products of up to liftChunk groups are kept (point-major) and added to H
		// four points at a time (they share psi: galois.AddSubsetSums4), the sums in
		// registers across the groups.
		accT := make([][4]uint64, len(lift.offGrid)*liftChunk)
		nibs := make([][galois.D]uint8, liftChunk)
		ng := 0
		flush := func() {
			og := lift.offGrid
			at := func(i int) [][4]uint64 { return accT[i*liftChunk : i*liftChunk+ng] }
			i := 0
			for ; i+4 <= len(og); i += 4 {
				galois.AddSubsetSums4(&[4]*galois.Elem{&hq[og[i]], &hq[og[i+1]], &hq[og[i+2]], &hq[og[i+3]]},
					&[4][][4]uint64{at(i), at(i + 1), at(i + 2), at(i + 3)}, nibs[:ng])
			}
			for ; i < len(og); i++ {
				hq[og[i]].AddSubsetSums(at(i), nibs[:ng])
			}
			ng = 0
		}
		for _, jb := range jobs[lo:hi] {
			r := recs[jb.ri]
			if st.liftGroup(r, st.zero[jb.ri], jb.t0, &in, &ext, &zeroed, acc) {
				for i, q := range lift.offGrid {
					accT[i*liftChunk+ng] = acc[q]
				}
				nibs[ng] = st.nibs[jb.ri][jb.t0/4]
				if ng++; ng == liftChunk {
					flush()
				}
			}
		}
		if ng > 0 {
			flush()
		}
		return hq
	})
	off := make([]galois.Elem, len(lift.offGrid))
	for i, q := range lift.offGrid {
		for _, hq := range parts {
			off[i].Add(&off[i], &hq[q])
		}
	}
	return off
}

// liftGroup computes acc[q][dt] = P_{q,t0+dt}, the prover's word sum over the terms of
// record r at block position t0+dt of the products of its extended a and b sides at
// the points q off the grid: x_A (y_A + y_B) + x_B y_A. Output e = t*G + l is in block l
// at position t (zero past n). A component that is zero in all four lanes (common in the
// checked conversions, whose operands are single components: rep3/convert_checked.go) is
// not extended and drops out of the product; terms whose a side or b side is zero
// contribute nothing and are skipped. It reports whether any term contributed.
//
// zeroed[j] records that ext[j] holds zeros (kept across calls: a zero component is
// cleared once, not extended).
func (st *arithStatement) liftGroup(r zkRecord, zero [4]bool, t0 int, in, ext *[4][][4]uint64, zeroed *[4]bool, acc [][4]uint64) bool {
	lift := st.lift
	G := lift.grid
	any := false
	cs := [4][]uint64{r.x.A, r.x.B, r.y.A, r.y.B}
	for k := range r.k {
		var nz [4]uint64
		for j, c := range cs {
			if zero[j] { // zero in the whole record: nz[j] stays 0, in[j] is not read
				continue
			}
			var or uint64
			dst := in[j]
			for l := range G {
				for dt := range 4 {
					e := (t0+dt)*G + l
					if t0+dt >= r.m || e >= r.n {
						dst[l][dt] = 0
						continue
					}
					x := c[e*r.k+k]
					dst[l][dt] = x
					or |= x
				}
			}
			nz[j] = or
		}
		if nz[0]|nz[1] == 0 || nz[2]|nz[3] == 0 {
			continue
		}
		if !any {
			for _, q := range lift.offGrid {
				acc[q] = [4]uint64{}
			}
			any = true
		}
		for j := range in {
			switch {
			case nz[j] != 0:
				lift.extend4(in[j], ext[j])
				zeroed[j] = false
			case !zeroed[j]:
				clear(ext[j])
				zeroed[j] = true
			}
		}
		x0, x1, y0, y1 := ext[0], ext[1], ext[2], ext[3]
		if hasExtendAsm {
			// The same sums by the YMM kernels (VPMULLQ with AVX-512, else 32-bit
			// products); a zero component's table is cleared.
			m1, m2 := mulAcc1AVX2, mulAcc2AVX2
			if hasLiftAsm {
				m1, m2 = mulAcc1, mulAcc2
			}
			og, n := &lift.offGrid[0], len(lift.offGrid)
			switch {
			case nz[2] == 0: // x_A (0 + y_B)
				m1(&acc[0], &x0[0], &y1[0], &y0[0], og, n)
			case nz[1] == 0: // x_A (y_A + y_B)
				m1(&acc[0], &x0[0], &y0[0], &y1[0], og, n)
			case nz[3] == 0: // y_A (x_A + x_B)
				m1(&acc[0], &y0[0], &x0[0], &x1[0], og, n)
			default:
				m2(&acc[0], &x0[0], &x1[0], &y0[0], &y1[0], og, n)
			}
			continue
		}
		switch {
		case nz[2] == 0: // x_A y_B
			for _, q := range lift.offGrid {
				a, u, w := &acc[q], &x0[q], &y1[q]
				a[0] += u[0] * w[0]
				a[1] += u[1] * w[1]
				a[2] += u[2] * w[2]
				a[3] += u[3] * w[3]
			}
		case nz[1] == 0: // x_A (y_A + y_B)
			for _, q := range lift.offGrid {
				a, u, v, w := &acc[q], &x0[q], &y0[q], &y1[q]
				a[0] += u[0] * (v[0] + w[0])
				a[1] += u[1] * (v[1] + w[1])
				a[2] += u[2] * (v[2] + w[2])
				a[3] += u[3] * (v[3] + w[3])
			}
		case nz[3] == 0: // (x_A + x_B) y_A
			for _, q := range lift.offGrid {
				a, u, v, w := &acc[q], &x0[q], &x1[q], &y0[q]
				a[0] += (u[0] + v[0]) * w[0]
				a[1] += (u[1] + v[1]) * w[1]
				a[2] += (u[2] + v[2]) * w[2]
				a[3] += (u[3] + v[3]) * w[3]
			}
		default:
			for _, q := range lift.offGrid {
				a, u, v, w, z := &acc[q], &x0[q], &x1[q], &y0[q], &y1[q]
				a[0] += u[0]*(w[0]+z[0]) + v[0]*w[0]
				a[1] += u[1]*(w[1]+z[1]) + v[1]*w[1]
				a[2] += u[2]*(w[2]+z[2]) + v[2]*w[2]
				a[3] += u[3]*(w[3]+z[3]) + v[3]*w[3]
			}
		}
	}
	return any
}

// liftFold is step 1 after the coin: with the basis at the coin's point r, it writes the
// lifted vectors to dsts (the bases a, b, ya, yb: every entry written, one per record's block
// position and term) and returns the claims' shares (as V- of the next prover and V+ of
// the previous one; vmOff and vpOff are this party's shares of their values off the
// grid). Both passes are split among parallel workers by records' block positions.
func (st *arithStatement) liftFold(basis, vmOff, vpOff []galois.Elem, dsts [4][]galois.Elem) (cm, cp galois.Elem) {
	recs, lift := st.recs, st.lift
	G := lift.grid
	// Jobs of up to 64 block positions (a multiple of 4: the claims' subset sums take
	// four at a time) of one record; off is the record's first entry in the bases.
	type job struct{ ri, off, t0, t1 int }
	var jobs []job
	off := 0
	for ri, r := range recs {
		for t0 := 0; t0 < r.m; t0 += 64 {
			jobs = append(jobs, job{ri, off, t0, min(t0+64, r.m)})
		}
		off += r.m * r.k
	}
	// Folds of this party's four component vectors: entry off + t*k + term of record ri,
	// the a side then multiplied by psi_t. Where the 2^s values of a position and term
	// are all 0 or one power of two 2^j (the checked conversions' bits and shifted bits),
	// the fold is 2^j times the sum of the grid weights of the set values, added four
	// blocks at a time from the weights' subset sums (galois.NibbleTable): the same sum.
	rows := make([]galois.Elem, G)
	for l := range G {
		rows[l] = basis[lift.gridPt[l]]
	}
	tbl := galois.NewNibbleTable(rows)
	// Components that are zero in a whole record fold to zero without a look at each
	// position.
	zeroComp := st.zero
	parallel(len(jobs), 2, func(lo, hi int) struct{} {
		var vals [1 << liftVars]uint64
		var idx [1 << liftVars / 4]uint8
		for _, jb := range jobs[lo:hi] {
			r := recs[jb.ri]
			cs := [4][]uint64{r.x.A, r.x.B, r.y.A, r.y.B}
			for t := jb.t0; t < jb.t1; t++ {
				base := jb.off + t*r.k
				nl := min(G, r.n-t*G) // blocks with an output at position t
				for v := range 4 {
					dst := dsts[v][base : base+r.k]
					if zeroComp[jb.ri][v] { // a zero range of the bases (finish)
						continue
					}
					for k := range r.k {
						var or uint64
						for l := range nl {
							x := cs[v][(t*G+l)*r.k+k]
							vals[l] = x
							or |= x
						}
						switch {
						case or == 0:
							dst[k] = galois.Elem{}
						case or&(or-1) == 0: // every value 0 or or = 2^j
							clear(idx[:])
							for l := range nl {
								if vals[l] != 0 {
									idx[l>>2] |= 1 << (l & 3)
								}
							}
							var sum galois.Elem
							sum.AddNibbleSums(tbl, idx[:(nl+3)/4])
							j := uint(bits.TrailingZeros64(or))
							for c := range sum {
								dst[k][c] = sum[c] << j
							}
						default:
							dst[k] = galois.Elem{}
							dst[k].AddScaledRows(rows[:nl], vals[:nl])
						}
					}
				}
				ps := st.psiBits[jb.ri][t] // psi_t, exceptional: its bit mask
				for j := base; j < base+r.k; j++ {
					for v := range 2 {
						if !zeroComp[jb.ri][v] && !dsts[v][j].IsZero() {
							dsts[v][j].MulBits(ps, &dsts[v][j])
						}
					}
				}
			}
		}
		return struct{}{}
	})
	// Grid claims of the two proofs this party verifies, c_l = sum_t psi_t w_{l,t}: as V-
	// of the next prover w = z_B + next mask, as V+ of the previous one w = -prev mask.
	type sums struct{ m, p []galois.Elem }
	parts := parallel(len(jobs), 2, func(lo, hi int) sums {
		c := sums{make([]galois.Elem, G), make([]galois.Elem, G)}
		// The words of eight blocks l at a time (a row segment of each position), then
		// per block one sum over the job's groups of four positions, kept in registers
		// (galois.AddSubsetSums).
		const lb = 8
		var vm, vp [lb][64 / 4][4]uint64
		for _, jb := range jobs[lo:hi] {
			r := recs[jb.ri]
			ng := (jb.t1 - jb.t0 + 3) / 4
			nibs := st.nibs[jb.ri][jb.t0/4 : jb.t0/4+ng]
			for l0 := 0; l0 < G; l0 += lb {
				for g := range ng {
					for dt := range 4 {
						t := jb.t0 + 4*g + dt
						for dl := range lb {
							vm[dl][g][dt], vp[dl][g][dt] = 0, 0
						}
						if t >= r.m {
							continue
						}
						for dl := range min(lb, r.n-t*G-l0) {
							e := t*G + l0 + dl
							vm[dl][g][dt], vp[dl][g][dt] = r.z.B[e]+r.next[e], -r.prev[e]
						}
					}
				}
				for dl := 0; dl < lb; dl += 4 {
					l := l0 + dl
					galois.AddSubsetSums4(&[4]*galois.Elem{&c.m[l], &c.m[l+1], &c.m[l+2], &c.m[l+3]},
						&[4][][4]uint64{vm[dl][:ng], vm[dl+1][:ng], vm[dl+2][:ng], vm[dl+3][:ng]}, nibs)
					galois.AddSubsetSums4(&[4]*galois.Elem{&c.p[l], &c.p[l+1], &c.p[l+2], &c.p[l+3]},
						&[4][][4]uint64{vp[dl][:ng], vp[dl+1][:ng], vp[dl+2][:ng], vp[dl+3][:ng]}, nibs)
				}
			}
		}
		return c
	})
	claim := func(cl func(sums) []galois.Elem, offShares []galois.Elem) galois.Elem {
		var c, t galois.Elem
		for l := range G {
			var s galois.Elem
			for _, pt := range parts {
				s.Add(&s, &cl(pt)[l])
			}
			t.Mul(&s, &basis[lift.gridPt[l]])
			c.Add(&c, &t)
		}
		for i, q := range lift.offGrid {
			t.Mul(&offShares[i], &basis[q])
			c.Add(&c, &t)
		}
		return c
	}
	cm = claim(func(s sums) []galois.Elem { return s.m }, vmOff)
	cp = claim(func(s sums) []galois.Elem { return s.p }, vpOff)
	return cm, cp
}

// points is h at the points of {0,1,inf}^v but skip, summed unreduced (zk.go), the block
// positions split among parallel workers (their reduced sums added).
func (a grAlg) points(z *zkBases[galois.Elem], lift *zkLift, skip int) []galois.Elem {
	parts := parallel(len(z.a)/lift.grid, 64, func(lo, hi int) []galois.Elem {
		acc := make([]galois.Wide, lift.points)
		stepPoints(a, z, lift, lo, hi, func(ext *[4][]galois.Elem) {
			xa, xb, ya, yb := ext[0], ext[1], ext[2], ext[3]
			var s galois.Elem
			for q := range acc {
				if q == skip {
					continue
				}
				s.Add(&ya[q], &yb[q])
				acc[q].MulAdd(&xa[q], &s)
				acc[q].MulAdd(&xb[q], &ya[q])
			}
		})
		out := make([]galois.Elem, lift.points)
		for q := range acc {
			acc[q].Reduce(&out[q])
		}
		return out
	})
	out := parts[0]
	for _, pt := range parts[1:] {
		for q := range out {
			out[q].Add(&out[q], &pt[q])
		}
	}
	return out
}

// allZero reports whether every word of v is zero.
func allZero(v []uint64) bool {
	var or uint64
	for i, x := range v {
		or |= x
		if i&1023 == 1023 && or != 0 {
			return false
		}
	}
	return or == 0
}
