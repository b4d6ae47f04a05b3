// Package galois implements the Galois ring GR(2^64, D) = Z_2^64[X]/(F(X)), D = 56, the
// extension of Z_2^64 over which rep3-mal's distributed zero-knowledge proofs run.
//
// F(X) = X^56 + X^7 + X^4 + X^2 + 1 is monic and irreducible modulo 2 (the pentanomial
// of degree 56 in the standard tables; TestModulusIrreducible checks it with Rabin's
// test), so GR(2^64, 56) is a local ring whose residue field is GF(2^56), Z_2^64 is its
// subring of constants, and an element is a unit exactly when its reduction modulo 2 is
// not zero (Wan, "Lectures on Finite Fields and Galois Rings", ch. 14).
//
// Exceptional set: the 2^56 elements whose coefficients are all 0 or 1 reduce to the 2^56
// distinct elements of GF(2^56), so the difference of any two distinct ones is a unit.
// Over such a set the Schwartz-Zippel lemma holds (Abspoel, Cramer, Damgard, Escudero,
// Yuan, "Efficient information-theoretic secure multiparty computation over Z/p^kZ via
// Galois rings", TCC 2019, lemma on exceptional sets): a non-zero polynomial of total
// degree t vanishes at a uniform point of S^n with probability at most t/2^56. Write it
// as 2^v g with g non-zero modulo 2; it vanishes only where g does modulo 2, a non-zero
// polynomial over the field GF(2^56). Likewise, for a non-zero e in GR and u uniform in
// S, u*e = c for at most one u (u*e = u'*e means (u-u')e = 0 with u-u' a unit), so a
// fixed non-zero combination survives a random coefficient from S with probability at
// most 2^-56.
package galois

import (
	"math/bits"

	"github.com/qmpc/qmpc/gocore/prg"
)

// D is the extension degree.
const D = 56

// taps are the exponents below D of F(X) = X^56 + X^7 + X^4 + X^2 + 1:
// X^56 = -(X^7 + X^4 + X^2 + 1) in the ring.
var taps = [...]int{7, 4, 2, 0}

// Elem is an element of GR(2^64, D): the coefficients of X^0..X^(D-1).
type Elem [D]uint64

// Wide is an unreduced product (degree at most 2D-2; the last word stays zero): products
// are summed in a Wide and reduced once.
type Wide [2 * D]uint64

// FromScalar returns the constant c.
func FromScalar(c uint64) Elem {
	var e Elem
	e[0] = c
	return e
}

// IsZero reports whether e is 0: eight words at a time, returning at the first group
// with a set bit (a non-zero element of the proofs is nearly always non-zero in its first
// words, so it costs one group instead of D words).
func (e *Elem) IsZero() bool {
	for i := 0; i+8 <= D; i += 8 {
		g := (*[8]uint64)(e[i : i+8])
		if g[0]|g[1]|g[2]|g[3]|g[4]|g[5]|g[6]|g[7] != 0 {
			return false
		}
	}
	return true
}

// Add sets e = x + y.
func (e *Elem) Add(x, y *Elem) {
	for i := range e {
		e[i] = x[i] + y[i]
	}
}

// Sub sets e = x - y.
func (e *Elem) Sub(x, y *Elem) {
	for i := range e {
		e[i] = x[i] - y[i]
	}
}

// AddScaled adds c*x to e for a constant c in Z_2^64 (AVX-512 or AVX2 where available).
func (e *Elem) AddScaled(x *Elem, c uint64) {
	if hasAVX512 {
		addScaledAVX512((*[D]uint64)(e), (*[D]uint64)(x), c)
		return
	}
	if hasAVX2 {
		addScaledRowsAVX2((*[D]uint64)(e), (*[D]uint64)(x), &c, 1)
		return
	}
	for i := range e {
		e[i] += x[i] * c
	}
}

// AddLookup adds t[idx[c]] to coefficient c of e (idx[c] < 16): with t the 16 subset sums
// of four words and idx the 4-bit patterns of four exceptional elements, the sum of the
// four products.
func (e *Elem) AddLookup(t *[16]uint64, idx *[D]uint8) {
	if hasAVX512 {
		addLookupAVX512((*[D]uint64)(e), t, idx)
		return
	}
	for c := range e {
		e[c] += t[idx[c]&15]
	}
}

// AddScaledRows adds sum over l of xs[l] * rows[l] to e (a fold of words with ring
// weights): with AVX-512, or with AVX2 (passes over 20, 20 and 16 words, the 64-bit
// products from two 32-bit ones: VPMULUDQ and VPMULLD), the sum stays in registers across
// the rows. It panics unless len(xs) =
// len(rows).
func (e *Elem) AddScaledRows(rows []Elem, xs []uint64) {
	if len(xs) != len(rows) {
		panic("galois: AddScaledRows: lengths differ")
	}
	if len(xs) == 0 {
		return
	}
	if hasAVX512 {
		addScaledRowsAVX512((*[D]uint64)(e), (*[D]uint64)(&rows[0]), &xs[0], len(xs))
		return
	}
	if hasAVX2 {
		addScaledRowsAVX2((*[D]uint64)(e), (*[D]uint64)(&rows[0]), &xs[0], len(xs))
		return
	}
	for l, x := range xs {
		e.AddScaled(&rows[l], x)
	}
}

// AddSubsetSums adds to e, for every g, the products of the four words vs[g] by four
// exceptional elements given by idx[g] (bit i of idx[g][c]: coefficient c of the i-th
// element, idx[g][c] < 16): coefficient c receives the sum of the words vs[g][i] with bit i
// of idx[g][c] set, looked up in the table of the 16 subset sums of vs[g] ("four
// Russians"). With AVX-512 the table is built in registers and the sum stays in registers
// across all g. It panics unless len(idx) = len(vs).
func (e *Elem) AddSubsetSums(vs [][4]uint64, idx [][D]uint8) {
	if len(idx) != len(vs) {
		panic("galois: AddSubsetSums: lengths differ")
	}
	if len(vs) == 0 {
		return
	}
	if hasAVX512 {
		addSubsetSumsAVX512((*[D]uint64)(e), &vs[0], &idx[0], len(vs))
		return
	}
	for g, v := range vs {
		var t [16]uint64
		for b := 1; b < 16; b++ {
			low := b & -b
			t[b] = t[b^low] + v[bits.TrailingZeros(uint(low))]
		}
		for c := range e {
			e[c] += t[idx[g][c]&15]
		}
	}
}

// AddSubsetSums4 is AddSubsetSums for four elements whose words share the exceptional
// elements: e[p].AddSubsetSums(vs[p], idx) for p < 4 (the prover's lift at four points,
// the grid claims at four blocks). Without AVX-512 but with AVX2 the four elements are
// the lanes of YMM registers, so that one look-up serves all four. It panics unless
// every vs[p] has len(idx) groups.
func AddSubsetSums4(e *[4]*Elem, vs *[4][][4]uint64, idx [][D]uint8) {
	for _, v := range vs {
		if len(v) != len(idx) {
			panic("galois: AddSubsetSums4: lengths differ")
		}
	}
	if hasAVX512 || !hasAVX2 {
		for p := range e {
			e[p].AddSubsetSums(vs[p], idx)
		}
		return
	}
	if len(idx) == 0 {
		return
	}
	for g := 0; g < len(idx); g += 16 {
		n := min(16, len(idx)-g)
		subsetSums4AVX2((*[D]uint64)(e[0]), (*[D]uint64)(e[1]), (*[D]uint64)(e[2]), (*[D]uint64)(e[3]),
			&vs[0][g], &vs[1][g], &vs[2][g], &vs[3][g], &idx[g], n)
	}
}

// Mul sets e = x * y.
func (e *Elem) Mul(x, y *Elem) {
	var w Wide
	w.MulAdd(x, y)
	w.Reduce(e)
}

// MulAdd adds the unreduced product x*y to w: with AVX-512 (amd64 processors with
// AVX512F and AVX512DQ) a schoolbook of 448 eight-lane products (mul_amd64.s), with AVX2
// a schoolbook of 826 four-lane products from 32-bit halves (avx2_amd64.s), else two
// levels of Karatsuba (D = 4 * 14) over a product-scanning 14 x 14 schoolbook, 9 * 196
// word products instead of D^2 = 3136.
func (w *Wide) MulAdd(x, y *Elem) {
	if hasAVX512 {
		mulAdd56AVX512((*[2 * D]uint64)(w), (*[D]uint64)(x), (*[D]uint64)(y))
		return
	}
	if hasAVX2 {
		mulAdd56AVX2((*[2 * D]uint64)(w), (*[D]uint64)(x), (*[D]uint64)(y))
		return
	}
	var p [2*D - 1]uint64
	kara56(&p, (*[D]uint64)(x), (*[D]uint64)(y))
	for i := range p {
		w[i] += p[i]
	}
}

// MulAdd2 adds the unreduced products x1*y1 and x2*y2 to w: with AVX2 (and without
// AVX-512) one kernel that sums both in the same registers (one frame setup per factor,
// one join of the split sums per pass, one pass over w), else two MulAdd.
func (w *Wide) MulAdd2(x1, y1, x2, y2 *Elem) {
	if hasAVX2 && !hasAVX512 {
		mulAdd2x56AVX2((*[2 * D]uint64)(w), (*[D]uint64)(x1), (*[D]uint64)(y1), (*[D]uint64)(x2), (*[D]uint64)(y2))
		return
	}
	w.MulAdd(x1, y1)
	w.MulAdd(x2, y2)
}

const h1, h2 = D / 2, D / 4 // 28, 14

// kara56 sets p = x*y (degree < 2D-1) by Karatsuba on halves of 28.
func kara56(p *[2*D - 1]uint64, x, y *[D]uint64) {
	var lo, hi, mid [2*h1 - 1]uint64
	var sx, sy [h1]uint64
	x0, x1 := (*[h1]uint64)(x[:h1]), (*[h1]uint64)(x[h1:])
	y0, y1 := (*[h1]uint64)(y[:h1]), (*[h1]uint64)(y[h1:])
	kara28(&lo, x0, y0)
	kara28(&hi, x1, y1)
	for i := range h1 {
		sx[i] = x0[i] + x1[i]
		sy[i] = y0[i] + y1[i]
	}
	kara28(&mid, &sx, &sy)
	*p = [2*D - 1]uint64{}
	for i := range lo {
		m := mid[i] - lo[i] - hi[i]
		p[i] += lo[i]
		p[i+h1] += m
		p[i+2*h1] += hi[i]
	}
}

// kara28 sets p = x*y by Karatsuba on halves of 14.
func kara28(p *[2*h1 - 1]uint64, x, y *[h1]uint64) {
	var lo, hi, mid [2*h2 - 1]uint64
	var sx, sy [h2]uint64
	x0, x1 := (*[h2]uint64)(x[:h2]), (*[h2]uint64)(x[h2:])
	y0, y1 := (*[h2]uint64)(y[:h2]), (*[h2]uint64)(y[h2:])
	school14(&lo, x0, y0)
	school14(&hi, x1, y1)
	for i := range h2 {
		sx[i] = x0[i] + x1[i]
		sy[i] = y0[i] + y1[i]
	}
	school14(&mid, &sx, &sy)
	*p = [2*h1 - 1]uint64{}
	for i := range lo {
		m := mid[i] - lo[i] - hi[i]
		p[i] += lo[i]
		p[i+h2] += m
		p[i+2*h2] += hi[i]
	}
}

// school14 sets p = x*y (operand scanning on a local array).
func school14(p *[2*h2 - 1]uint64, x, y *[h2]uint64) {
	var t [2*h2 - 1]uint64
	for i := range h2 {
		xi := x[i]
		r := (*[h2]uint64)(t[i : i+h2])
		r[0] += xi * y[0]
		r[1] += xi * y[1]
		r[2] += xi * y[2]
		r[3] += xi * y[3]
		r[4] += xi * y[4]
		r[5] += xi * y[5]
		r[6] += xi * y[6]
		r[7] += xi * y[7]
		r[8] += xi * y[8]
		r[9] += xi * y[9]
		r[10] += xi * y[10]
		r[11] += xi * y[11]
		r[12] += xi * y[12]
		r[13] += xi * y[13]
	}
	*p = t
}

// mulAddSchool is the schoolbook MulAdd (the reference of the tests).
func (w *Wide) mulAddSchool(x, y *Elem) {
	for i := range D {
		xi := x[i]
		r := w[i : i+D : i+D]
		for j := range r {
			r[j] += xi * y[j]
		}
	}
}

// Reduce sets e = w mod F (w's top word, above the degree of any product, is ignored),
// with AVX2 by a kernel (avx2_amd64.s).
func (w *Wide) Reduce(e *Elem) {
	if hasAVX2 {
		reduceAVX2((*[D]uint64)(e), (*[2 * D]uint64)(w))
		return
	}
	w.reduceGo(e)
}

// reduceGo is Reduce in Go.
func (w *Wide) reduceGo(e *Elem) {
	// h[u] is the coefficient of X^(D+u); X^(D+u) = -(X^(u+7) + X^(u+4) + X^(u+2) + X^u).
	// Terms that land at D or above (u + k >= D, only for u >= D-7) go back into h first,
	// from the top down; then every other term lands in e.
	var h [D]uint64
	copy(h[:D-1], w[D:2*D-1])
	for u := D - 2; u >= D-taps[0]; u-- {
		for _, k := range taps {
			if u+k >= D {
				h[u+k-D] -= h[u]
			}
		}
	}
	*e = Elem(w[:D])
	for _, k := range taps {
		lo, src := e[k:], h[:D-k]
		for u, c := range src {
			lo[u] -= c
		}
	}
}

// Exceptional returns an element of the exceptional set (coefficients 0 or 1) drawn from g:
// uniform over the set's 2^56 elements.
func Exceptional(g *prg.PRG) Elem {
	var e Elem
	bits := g.Uint64s(1)[0]
	for i := range e {
		e[i] = bits >> uint(i) & 1
	}
	return e
}

// Uniform returns a uniformly random element drawn from g.
func Uniform(g *prg.PRG) Elem {
	var e Elem
	copy(e[:], g.Uint64s(D))
	return e
}
