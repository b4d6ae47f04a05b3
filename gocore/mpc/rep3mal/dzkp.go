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
// V- of the next party and V+ of the previous one.
//
// Protocol, per check batch (after the batch's coin, which fixes the products):
//  1. Lift. Each record's outputs are laid out as 2^s blocks of m (zero-padded): output
//     l*m + t. psi_t, uniform in the exceptional set, from the batch coin, one per t
//     (so that psi_t times a word is a subset sum: addSubsetSums). The prover's
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
//     becomes h(r) about the folded vectors.
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
// most 2/2^56 (h - h* has degree 2), and so does the last step. With R halving steps a
// false claim passes with probability at most (1 + 2s + 3 + 2R + 2)/2^56 per prover and
// batch: with s = 6 and R <= 40 (the vectors are far shorter than 2^40), below 2^-49.3.
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
// to its V+, two elements per halving step, four in the last step, three from each
// verifier to the other, and a coin per step (its commitments travel with the step's
// message, its reveal in a second round): a few hundred KB and about 2(R + 2) + 1 rounds,
// independent of the number of products beyond log2.

import (
	"fmt"
	"io"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// liftVars is s, the number of variables of the first compression step: it divides the
// vectors by 2^s at a prover cost of (3^s - 2^s)/2^s ring-by-word products (subset sums)
// per output.
const liftVars = 6

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
	return z
}

// extend writes the values at {0,1,inf}^s of the multilinear polynomial with values in
// (length 2^s, bit j of the index = variable j) to out (length 3^s); tmp has 3^s words.
// Variable by variable: (v0, v1) becomes (v0, v1, v1 - v0), the values at 0, 1 and the
// leading coefficient.
func (z *zkLift) extend(in, out, tmp []uint64) {
	src, dst := tmp, out
	if z.s%2 == 0 {
		src, dst = out, tmp
	}
	copy(src, in)
	pw := 1 // 3^j
	for j := range z.s {
		highs := z.grid >> (j + 1)
		for h := range highs {
			c0 := src[pw*2*h : pw*(2*h+1)]
			c1 := src[pw*(2*h+1) : pw*(2*h+2)]
			n := dst[pw*3*h : pw*3*(h+1)]
			for lo := range pw {
				v0, v1 := c0[lo], c1[lo]
				n[lo], n[pw+lo], n[2*pw+lo] = v0, v1, v1-v0
			}
		}
		src, dst = dst, src
		pw *= 3
	}
}

// basis returns, for every point q of {0,1,inf}^s, prod_j beta_{q_j}(r_j) with beta_0(r) =
// 1-r, beta_1(r) = r, beta_inf(r) = r^2 - r: the value at r of a polynomial of degree at
// most 2 per variable is sum_q basis[q] * value(q); at the grid points these are the
// multilinear weights eq(r, l).
func (z *zkLift) basis(r []galois.Elem) []galois.Elem {
	out := make([]galois.Elem, z.points)
	out[0] = galois.FromScalar(1)
	n := 1
	for j := range z.s {
		b := lineBasis(&r[j])
		for q := n - 1; q >= 0; q-- {
			for d := 2; d >= 0; d-- {
				out[q+d*n].Mul(&out[q], &b[d])
			}
		}
		n *= 3
	}
	return out
}

// lineBasis is (1-r, r, r^2-r).
func lineBasis(r *galois.Elem) [3]galois.Elem {
	one := galois.FromScalar(1)
	var b [3]galois.Elem
	b[0].Sub(&one, r)
	b[1] = *r
	var r2 galois.Elem
	r2.Mul(r, r)
	b[2].Sub(&r2, r)
	return b
}

// evalLine is h(r) for h of degree 2 given h(0), h(1), h(inf).
func evalLine(h0, h1, hinf, r *galois.Elem) galois.Elem {
	b := lineBasis(r)
	var out, t galois.Elem
	out.Mul(h0, &b[0])
	t.Mul(h1, &b[1])
	out.Add(&out, &t)
	t.Mul(hinf, &b[2])
	out.Add(&out, &t)
	return out
}

// zkInstance is one proof as one party sees it: the prover's full vectors, or a
// verifier's additive shares of them and of the claim c.
type zkInstance struct {
	a, b []galois.Elem
	c    galois.Elem
}

// halves returns the prover's h(0) = <a_lo, b_lo> and h(inf) = <a_hi - a_lo, b_hi - b_lo>
// for a halving step.
func halves(in *zkInstance) (h0, hinf galois.Elem) {
	half := len(in.a) / 2
	var w0, w2 galois.Wide
	var da, db galois.Elem
	for j := range half {
		w0.MulAdd(&in.a[j], &in.b[j])
		da.Sub(&in.a[half+j], &in.a[j])
		db.Sub(&in.b[half+j], &in.b[j])
		w2.MulAdd(&da, &db)
	}
	w0.Reduce(&h0)
	w2.Reduce(&hinf)
	return
}

// fold replaces the vectors by lo + r (hi - lo).
func (in *zkInstance) fold(r *galois.Elem) {
	half := len(in.a) / 2
	for _, v := range [][]galois.Elem{in.a, in.b} {
		var d, t galois.Elem
		for j := range half {
			d.Sub(&v[half+j], &v[j])
			if d.IsZero() { // a verifier's share is zero at every other position
				continue
			}
			t.Mul(r, &d)
			v[j].Add(&v[j], &t)
		}
	}
	in.a, in.b = in.a[:half], in.b[:half]
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

// addSubsetSums adds psi_{t0} v0 + ... + psi_{t0+3} v3 to e for exceptional psi (0/1
// coefficients, given as nibbles): coefficient c receives the sum of the v whose psi has
// coefficient c set, looked up in the table of the 16 subset sums ("four Russians": 11
// additions and D look-ups instead of 4 D products).
func addSubsetSums(e *galois.Elem, nib *[galois.D]uint8, v0, v1, v2, v3 uint64) {
	var t [16]uint64
	t[1], t[2], t[4], t[8] = v0, v1, v2, v3
	t[3] = v0 + v1
	t[5], t[6], t[7] = v0+v2, v1+v2, t[3]+v2
	for i := 9; i < 16; i++ {
		t[i] = t[i-8] + v3
	}
	for c := range e {
		e[c] += t[nib[c]&15]
	}
}

// zkBases are the four vectors every party's view of the three proofs is made of: with
// A, B the a-side and YA, YB the b-side words of this party's two components (after the
// lift, or a dot record's L and R), pair j of the prover's vectors is a = (A_j, B_j), b =
// (YA_j + YB_j, YA_j); of its share as V- of the next prover a = (B_j, 0), b = (YB_j,
// YB_j); as V+ of the previous one a = (0, A_j), b = (YA_j, 0) (dzkp.go's statement).
// A halving step pairs entries of equal parity, so it halves the four bases alike: each
// is folded once instead of six interleaved vectors.
type zkBases struct{ a, b, ya, yb []galois.Elem }

func (z *zkBases) push(a, b, ya, yb *galois.Elem) {
	z.a, z.b, z.ya, z.yb = append(z.a, *a), append(z.b, *b), append(z.ya, *ya), append(z.yb, *yb)
}

// halves is the prover's h(0) and h(inf) for the halving step of the bases.
func (z *zkBases) halves() (h0, hinf galois.Elem) {
	half := len(z.a) / 2
	var w0, w2 galois.Wide
	var s, da, db, dya, dyb, ds galois.Elem
	for j := range half {
		s.Add(&z.ya[j], &z.yb[j])
		w0.MulAdd(&z.a[j], &s)
		w0.MulAdd(&z.b[j], &z.ya[j])
		da.Sub(&z.a[half+j], &z.a[j])
		db.Sub(&z.b[half+j], &z.b[j])
		dya.Sub(&z.ya[half+j], &z.ya[j])
		dyb.Sub(&z.yb[half+j], &z.yb[j])
		ds.Add(&dya, &dyb)
		w2.MulAdd(&da, &ds)
		w2.MulAdd(&db, &dya)
	}
	w0.Reduce(&h0)
	w2.Reduce(&hinf)
	return
}

// fold folds the four bases with r.
func (z *zkBases) fold(r *galois.Elem) {
	half := len(z.a) / 2
	for _, v := range []*[]galois.Elem{&z.a, &z.b, &z.ya, &z.yb} {
		w := *v
		var d, t galois.Elem
		for j := range half {
			d.Sub(&w[half+j], &w[j])
			if d.IsZero() {
				continue
			}
			t.Mul(r, &d)
			w[j].Add(&w[j], &t)
		}
		*v = w[:half]
	}
}

// instances expands bases of length 1 into the three interleaved instances (length 2).
func (z *zkBases) instances() (own, vm, vp *zkInstance) {
	var ab, zero galois.Elem
	ab.Add(&z.ya[0], &z.yb[0])
	own = &zkInstance{a: []galois.Elem{z.a[0], z.b[0]}, b: []galois.Elem{ab, z.ya[0]}}
	vm = &zkInstance{a: []galois.Elem{z.b[0], zero}, b: []galois.Elem{z.yb[0], z.yb[0]}}
	vp = &zkInstance{a: []galois.Elem{zero, z.a[0]}, b: []galois.Elem{z.ya[0], zero}}
	return
}

func toElems(w []uint64) []galois.Elem {
	out := make([]galois.Elem, len(w)/galois.D)
	for i := range out {
		copy(out[i][:], w[i*galois.D:(i+1)*galois.D])
	}
	return out
}

func toWords(es []galois.Elem) []uint64 {
	out := make([]uint64, 0, len(es)*galois.D)
	for i := range es {
		out = append(out, es[i][:]...)
	}
	return out
}

// step is one message of the three proofs and its coin: it sends vals - maskA (A: the
// words of the key this party shares with its V-, which draws the same words as its B)
// to the next party (V+), commits to its coin seed in the same round, receives the
// previous party's message, reveals the coin and draws n challenges from the exceptional
// set outside {0, 1}. It returns this party's V- shares (its B words) and V+ shares
// (received) of the other two provers' values. All parties call it with the same counts.
//
// A message of the wrong length is reported in failed (its shares taken as zero), so that
// every party still reaches the verdict exchange.
func (p *Protocol) step(vals []galois.Elem, n int) (vm, vp, rs []galois.Elem, failed string, err error) {
	words := len(vals) * galois.D
	mask := p.raw.Rand(words)
	msg := toWords(vals)
	for i := range msg {
		msg[i] -= mask.A[i]
	}
	conn := p.Conn()
	next, prev := (p.ID()+1)%3, (p.ID()+2)%3
	if err := sendFlush(conn, next, ring.AsBytes(msg)); err != nil {
		return nil, nil, nil, "", err
	}
	c, err := p.coinCommit()
	if err != nil {
		return nil, nil, nil, "", err
	}
	m, err := conn.Recv(prev)
	if err != nil {
		return nil, nil, nil, "", err
	}
	got, err := ring.AsWords(m, words)
	if err != nil {
		got = make([]uint64, words)
		failed = fmt.Sprintf("product proof (party %d's proof message has %d bytes, not %d)", prev, len(m), 8*words)
	}
	g, f, err := c.reveal(p)
	if err != nil {
		return nil, nil, nil, "", err
	}
	if failed == "" {
		failed = f
	}
	rs = make([]galois.Elem, n)
	zero, one := galois.FromScalar(0), galois.FromScalar(1)
	for i := range rs {
		for {
			rs[i] = galois.Exceptional(g)
			if rs[i] != zero && rs[i] != one {
				break
			}
		}
	}
	return toElems(mask.B), toElems(got), rs, failed, nil
}

// proveProducts runs the three proofs of the arithmetic elementwise products prods (all
// parties at once; g is the batch's coin) and returns a failure description ("" if
// every proof verifies).
func (p *Protocol) proveProducts(prods []product, dots []dotRecord, g *prg.PRG) (failed string, err error) {
	note := func(f string) {
		if failed == "" && f != "" {
			failed = f
		}
	}
	G := 1 << liftVars
	recs := make([]zkRecord, len(prods))
	for i, pr := range prods {
		k := 1
		if pr.rel.Kind == "mulsum" {
			k = pr.rel.K
		}
		n := len(pr.z.A)
		recs[i] = zkRecord{product: pr, k: k, n: n, m: (n + G - 1) / G}
	}
	// psi_t per record and block position, from the exceptional set (bit c of psiBits is
	// the coefficient of X^c).
	psi := make([][]galois.Elem, len(recs))
	psiBits := make([][]uint64, len(recs))
	for i, r := range recs {
		psi[i] = make([]galois.Elem, r.m)
		psiBits[i] = make([]uint64, r.m)
		for t := range psi[i] {
			psi[i][t] = galois.Exceptional(g)
			psiBits[i][t] = bitsOf(&psi[i][t])
		}
	}
	// u_a and v_b of the dot records (dot.go).
	us := make([][]uint64, len(dots))
	vs := make([][]galois.Elem, len(dots))
	for i, d := range dots {
		us[i] = make([]uint64, d.na)
		for a := range us[i] {
			e := galois.Exceptional(g)
			us[i][a] = bitsOf(&e)
		}
		vs[i] = make([]galois.Elem, d.p)
		for b := range vs[i] {
			vs[i][b] = galois.Exceptional(g)
		}
	}
	// The bases' length: 1 per term and block position of the elementwise records, P*K or K
	// per dot record, then a power of two.
	n := 0
	for _, r := range recs {
		n += r.m * r.k
	}
	for _, d := range dots {
		if d.xbar != nil {
			n += d.k
		} else {
			n += d.p * d.k
		}
	}
	np := 1
	if n > 1 {
		np = 1 << bits.Len(uint(n-1))
	}
	bases := &zkBases{a: make([]galois.Elem, 0, np), b: make([]galois.Elem, 0, np),
		ya: make([]galois.Elem, 0, np), yb: make([]galois.Elem, 0, np)}
	var cm, cp galois.Elem // claim shares as V- of the next prover, V+ of the previous
	gamma := galois.FromScalar(1)
	if len(recs) > 0 {
		var f string
		gamma, cm, cp, f, err = p.lift(recs, psi, psiBits, bases)
		if err != nil {
			return "", err
		}
		note(f)
	}
	for i := range dots {
		sh := dots[i].shares(us[i], vs[i])
		for j := range sh.la {
			var gla, glb galois.Elem
			gla.Mul(&gamma, &sh.la[j])
			glb.Mul(&gamma, &sh.lb[j])
			bases.push(&gla, &glb, &sh.ra[j], &sh.rb[j])
		}
		var t galois.Elem
		t.Mul(&gamma, &sh.cm)
		cm.Add(&cm, &t)
		t.Mul(&gamma, &sh.cp)
		cp.Add(&cp, &t)
	}
	// Zero-pad to a power of two.
	if len(bases.a) != n {
		return "", errs.New(errs.Internal, "%s: proof vectors of %d pairs, want %d", Name, len(bases.a), n)
	}
	var zero galois.Elem
	for len(bases.a) < np {
		bases.push(&zero, &zero, &zero, &zero)
	}
	return p.halvingAndLast(bases, cm, cp, failed)
}

// lift runs step 1 for the elementwise records: the prover's message, the coin (r and
// gamma), and the lifted vectors appended to own, vm and vp with the claims' shares.
func (p *Protocol) lift(recs []zkRecord, psi [][]galois.Elem, psiBits [][]uint64, bases *zkBases) (gamma, cm, cp galois.Elem, failed string, err error) {
	lift := newLift(liftVars)
	G := lift.grid

	// 1. Lift: the prover's values off the grid.
	hq := make([]galois.Elem, lift.points)
	{
		in := make([][]uint64, 4)
		ext := make([][]uint64, 4)
		for j := range in {
			in[j] = make([]uint64, G)
			ext[j] = make([]uint64, lift.points)
		}
		tmp := make([]uint64, lift.points)
		var acc [4][]uint64
		for j := range acc {
			acc[j] = make([]uint64, lift.points)
		}
		for ri, r := range recs {
			for t0 := 0; t0 < r.m; t0 += 4 {
				for dt := range 4 {
					clear(acc[dt])
					t := t0 + dt
					if t >= r.m {
						continue
					}
					for k := range r.k {
						zero := true
						for l := range G {
							e := l*r.m + t
							if e >= r.n {
								in[0][l], in[1][l], in[2][l], in[3][l] = 0, 0, 0, 0
								continue
							}
							q := e*r.k + k
							xa, xb, ya, yb := r.x.A[q], r.x.B[q], r.y.A[q], r.y.B[q]
							in[0][l], in[1][l], in[2][l], in[3][l] = xa, xb, ya+yb, ya
							zero = zero && (xa|xb) == 0
						}
						if zero {
							continue
						}
						for j := range in {
							lift.extend(in[j], ext[j], tmp)
						}
						a := acc[dt]
						for _, q := range lift.offGrid {
							a[q] += ext[0][q]*ext[2][q] + ext[1][q]*ext[3][q]
						}
					}
				}
				nib := nibbles(psiBits[ri], t0)
				for _, q := range lift.offGrid {
					addSubsetSums(&hq[q], &nib, acc[0][q], acc[1][q], acc[2][q], acc[3][q])
				}
			}
		}
	}
	off := make([]galois.Elem, len(lift.offGrid))
	for i, q := range lift.offGrid {
		off[i] = hq[q]
	}
	vmOff, vpOff, rs, failed, err := p.step(off, lift.s+1)
	if err != nil {
		return gamma, cm, cp, "", fmt.Errorf("lift: %w", err)
	}
	gamma = rs[lift.s]
	basis := lift.basis(rs[:lift.s])

	// Folds of this party's four component vectors: F[v][rec][t*k + term].
	comps := func(r zkRecord) [4][]uint64 { return [4][]uint64{r.x.A, r.x.B, r.y.A, r.y.B} }
	folded := make([][4][]galois.Elem, len(recs))
	for ri, r := range recs {
		cs := comps(r)
		for v := range 4 {
			out := make([]galois.Elem, r.m*r.k)
			for t := range r.m {
				for l := range G {
					e := l*r.m + t
					if e >= r.n {
						break
					}
					w := &basis[lift.gridPt[l]]
					src := cs[v][e*r.k : (e+1)*r.k]
					dst := out[t*r.k : (t+1)*r.k]
					for k, x := range src {
						if x != 0 {
							dst[k].AddScaled(w, x)
						}
					}
				}
			}
			folded[ri][v] = out
		}
	}
	// Grid claims of the two proofs this party verifies: V- of the next prover (w = z_B +
	// next mask), V+ of the previous one (w = -prev mask).
	claim := func(share func(r zkRecord, e int) uint64, offShares []galois.Elem) galois.Elem {
		var c galois.Elem
		for l := range G {
			var cl galois.Elem
			for ri, r := range recs {
				var v [4]uint64
				for t0 := 0; t0 < r.m; t0 += 4 {
					for dt := range 4 {
						v[dt] = 0
						if e := l*r.m + t0 + dt; t0+dt < r.m && e < r.n {
							v[dt] = share(r, e)
						}
					}
					nib := nibbles(psiBits[ri], t0)
					addSubsetSums(&cl, &nib, v[0], v[1], v[2], v[3])
				}
			}
			var t galois.Elem
			t.Mul(&cl, &basis[lift.gridPt[l]])
			c.Add(&c, &t)
		}
		for i, q := range lift.offGrid {
			var t galois.Elem
			t.Mul(&offShares[i], &basis[q])
			c.Add(&c, &t)
		}
		return c
	}
	cm = claim(func(r zkRecord, e int) uint64 { return r.z.B[e] + r.next[e] }, vmOff)
	cp = claim(func(r zkRecord, e int) uint64 { return -r.prev[e] }, vpOff)
	for ri, r := range recs {
		fx := folded[ri]
		for t := range r.m {
			ps := &psi[ri][t]
			for k := range r.k {
				j := t*r.k + k
				var pxa, pxb galois.Elem
				pxa.Mul(ps, &fx[0][j])
				pxb.Mul(ps, &fx[1][j])
				bases.push(&pxa, &pxb, &fx[2][j], &fx[3][j])
			}
		}
	}
	return gamma, cm, cp, failed, nil
}

// halvingAndLast runs steps 2 and 3 on the bases (a power-of-two length) with this
// party's claim shares cm (V- of the next prover) and cp (V+ of the previous one), and
// returns the failures found (appended to failed).
func (p *Protocol) halvingAndLast(bases *zkBases, cm, cp galois.Elem, failed string) (string, error) {
	note := func(f string) {
		if failed == "" && f != "" {
			failed = f
		}
	}
	// 2. Halving steps: on the bases while they hold more than one pair, then on the
	// interleaved vectors of length 2.
	for len(bases.a) > 1 {
		h0, hinf := bases.halves()
		sm, sp, rs, f, err := p.step([]galois.Elem{h0, hinf}, 1)
		if err != nil {
			return "", fmt.Errorf("halving: %w", err)
		}
		note(f)
		r := &rs[0]
		for _, v := range []struct {
			c  *galois.Elem
			sh []galois.Elem
		}{{&cm, sm}, {&cp, sp}} {
			var h1 galois.Elem
			h1.Sub(v.c, &v.sh[0])
			*v.c = evalLine(&v.sh[0], &h1, &v.sh[1], r)
		}
		bases.fold(r)
	}
	own, vm, vp := bases.instances()
	vm.c, vp.c = cm, cp
	for len(own.a) > 1 {
		h0, hinf := halves(own)
		sm, sp, rs, f, err := p.step([]galois.Elem{h0, hinf}, 1)
		if err != nil {
			return "", fmt.Errorf("halving: %w", err)
		}
		note(f)
		r := &rs[0]
		for _, v := range []struct {
			in *zkInstance
			sh []galois.Elem
		}{{vm, sm}, {vp, sp}} {
			var h1 galois.Elem
			h1.Sub(&v.in.c, &v.sh[0])
			v.in.c = evalLine(&v.sh[0], &h1, &v.sh[1], r)
			v.in.fold(r)
		}
		own.fold(r)
	}

	// 3. The masked last step.
	var mn [2 * galois.D * 8]byte
	if _, err := io.ReadFull(p.opt.Reader(), mn[:]); err != nil {
		return "", fmt.Errorf("proof masks: %w", err)
	}
	mw, err := ring.AsWords(mn[:], 2*galois.D)
	if err != nil {
		return "", err
	}
	me := toElems(mw)
	M, N := me[0], me[1]
	var h0, hinf, da, db galois.Elem
	h0.Mul(&M, &N)
	da.Sub(&own.a[0], &M)
	db.Sub(&own.b[0], &N)
	hinf.Mul(&da, &db)
	sm, sp, rs, f, err := p.step([]galois.Elem{M, N, h0, hinf}, 1)
	if err != nil {
		return "", fmt.Errorf("last step: %w", err)
	}
	note(f)
	r := &rs[0]
	final := func(in *zkInstance, sh []galois.Elem) []galois.Elem {
		one := galois.FromScalar(1)
		var omr, t1, t2 galois.Elem
		omr.Sub(&one, r)
		var fr, gr galois.Elem
		t1.Mul(&omr, &sh[0])
		t2.Mul(r, &in.a[0])
		fr.Add(&t1, &t2)
		t1.Mul(&omr, &sh[1])
		t2.Mul(r, &in.b[0])
		gr.Add(&t1, &t2)
		hr := evalLine(&sh[2], &in.c, &sh[3], r)
		return []galois.Elem{fr, gr, hr}
	}
	fm, fp := final(vm, sm), final(vp, sp)
	conn := p.Conn()
	id := p.ID()
	next, prev := (id+1)%3, (id+2)%3
	if err := sendFlush(conn, prev, ring.AsBytes(toWords(fm))); err != nil {
		return "", err
	}
	if err := sendFlush(conn, next, ring.AsBytes(toWords(fp))); err != nil {
		return "", err
	}
	for _, v := range []struct {
		from, prover int
		mine         []galois.Elem
	}{{prev, next, fm}, {next, prev, fp}} {
		m, err := conn.Recv(v.from)
		if err != nil {
			return "", err
		}
		w, err := ring.AsWords(m, 3*galois.D)
		if err != nil {
			note(fmt.Sprintf("product proof (party %d's last message has %d bytes)", v.from, len(m)))
			continue
		}
		o := toElems(w)
		var fr, gr, hr, prod galois.Elem
		fr.Add(&v.mine[0], &o[0])
		gr.Add(&v.mine[1], &o[1])
		hr.Add(&v.mine[2], &o[2])
		prod.Mul(&fr, &gr)
		if prod != hr {
			note(fmt.Sprintf("product proof (party %d's proof of its products does not verify)", v.prover))
		}
	}
	return failed, nil
}
