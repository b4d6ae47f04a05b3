package rep3mal

// Distributed zero-knowledge proofs of the AND words (the binary products of A2B's
// adders, comparisons and B2A), over GF(2^64).
//
// Source: Boyle, Gilboa, Ishai and Nof, CCS 2019, for Boolean circuits: the bits are
// embedded in an extension field of GF(2) large enough for the soundness, here GF(2^64)
// (galois.F64), and the proof is that of dzkp.go with the field in place of the Galois
// ring (zk.go holds the steps both share).
//
// Statement. rep3's AND of words sends z_i = x_i & (y_i ^ y_{i+1}) ^ x_{i+1} & y_i ^
// alpha_i, alpha_i = F(k_i) ^ F(k_{i-1}) (rep3.MaskObserver), from party i to party i-1:
// per bit lane the same degree-2 relation as the arithmetic product, over GF(2), with the
// same shares held by the verifiers (V- holds x_i, y_i, z_i, F(k_{i-1}); V+ holds x_{i+1},
// y_{i+1}, F(k_i)). All AND words of a batch are laid end to end, n words of 64 lanes.
//
// Protocol (steps 2 and 3 are zk.go's, in the same rounds as the arithmetic proof):
//  1. Lift. Word e = t*2^s + l (l in {0,1}^s, s = andLiftVars, t < m = ceil(n/2^s), zero
//     words past n). The random combination of the 64 n bit claims uses psi_{t,j} =
//     psi_t X^j for lane j, psi_t uniform in GF(2^64) from the batch coin: the claims of
//     the 64 lanes of word e combine to psi_t times the word read as an element of
//     GF(2^64) (bit j the coefficient of X^j), so the prover's polynomial H(X) = sum_{t,j}
//     psi_{t,j} f_{t,j}(X) g_{t,j}(X) (f, g multilinear in s variables over the blocks l)
//     has at a point q of {0,1,inf}^s the value sum_t psi_t P_{q,t}, where P_{q,t} is the
//     word of lane products of the bit-sliced extensions (the extension of bits at inf is
//     v1 ^ v0, a bit: the prover works on words with XOR and AND, 64 lanes at once). It
//     sends H's values off the grid (3^s - 2^s field elements, XOR-shared like dzkp.go's),
//     the verifiers take their shares of c_l = sum_t psi_t W_{l,t} at the grid points (W
//     the claims' words: z_B ^ F(k_{i-1}) for V-, F(k_i) for V+). A coin gives r in
//     GF(2^64)^s, and every party folds its components lane by lane to bases of length
//     64 m (one pair per block position and lane): A_{t,j} = psi_t X^j f^x_{t,j}(r),
//     Y_{t,j} = f^y_{t,j}(r).
//  2, 3. Compression steps and the masked last step over GF(2^64) (zk.go).
//
// Soundness: if some AND word of prover i is wrong, its error word E_t at some position t
// is non-zero as an element of GF(2^64), and sum_t psi_t E_t vanishes with probability
// 2^-64 over the psi; then H differs from the true H* at a grid point, and the rest is
// dzkp.go's argument with 2^64 in place of 2^56 (every element of a field is in the
// exceptional set): a false claim passes with probability at most (1 + 2s + 2R + 3)/2^64
// per prover and batch, below 2^-57 with s = 6 and R <= 40 variables folded after the
// lift.
//
// Zero knowledge: as dzkp.go's (the verifiers' shares are masked with PRG words of the
// key the prover shares with the other verifier; the opened f(r), g(r) are uniform
// because 1 - r is invertible, r outside {0, 1}).
//
// Messages, per batch, in the rounds of the arithmetic proof (zk.go's lockstep): the
// lift's 3^s - 2^s = 665 words from each prover to its V+, two words per halving step
// (eight per step in two variables, foldVars = 2), four in the last step and three from
// each verifier to the other.

import (
	"sort"

	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// andLiftVars is s for the AND words: the bases have 64 * ceil(n / 2^s) pairs for n words.
const andLiftVars = 6

const andProof = "AND proof"

// gfAlg is GF(2^64), the algebra of the proofs of the AND words.
type gfAlg struct{}

func (gfAlg) what() string                    { return andProof }
func (gfAlg) words() int                      { return 1 }
func (gfAlg) put(dst []uint64, e *galois.F64) { dst[0] = uint64(*e) }
func (gfAlg) get(src []uint64) galois.F64     { return galois.F64(src[0]) }
func (gfAlg) add(z, x, y *galois.F64)         { *z = *x ^ *y }
func (gfAlg) sub(z, x, y *galois.F64)         { *z = *x ^ *y }
func (gfAlg) mul(z, x, y *galois.F64)         { *z = x.Mul(*y) }
func (gfAlg) one() galois.F64                 { return 1 }
func (gfAlg) xor() bool                       { return true }

// challenge is uniform in GF(2^64) outside {0, 1}.
func (gfAlg) challenge(g *prg.PRG) galois.F64 {
	for {
		if r := galois.F64(g.Uint64s(1)[0]); r > 1 {
			return r
		}
	}
}

// halves is the prover's h(0) = <a_lo, b_lo> and h(inf) = <a_hi - a_lo, b_hi - b_lo> of
// the bases' interleaved vectors (a = (A, B), b = (YA + YB, YA)), summed unreduced, in
// chunks that stay in cache (with carry-less products in one pass, halvesF64V or
// halvesF64, and the last entries past a multiple of 4 or 2 in Go).
func (gfAlg) halves(z *zkBases[galois.F64]) (h0, hinf galois.F64) {
	half := len(z.a) / 2
	var w0, w2 galois.F64Wide
	if hasAndLiftAsm && half > 0 {
		even := half &^ 1
		if hasAndLiftV {
			even = half &^ 3
		}
		if even > 0 {
			var out [4]uint64
			if hasAndLiftV {
				halvesF64V((*uint64)(&z.a[0]), (*uint64)(&z.b[0]), (*uint64)(&z.ya[0]), (*uint64)(&z.yb[0]), half, even, &out)
			} else {
				halvesF64((*uint64)(&z.a[0]), (*uint64)(&z.b[0]), (*uint64)(&z.ya[0]), (*uint64)(&z.yb[0]), half, even, &out)
			}
			w0, w2 = galois.F64Wide{Lo: out[0], Hi: out[1]}, galois.F64Wide{Lo: out[2], Hi: out[3]}
		}
		for j := even; j < half; j++ {
			a, b, ya, yb := z.a[j], z.b[j], z.ya[j], z.yb[j]
			ah, bh, yah, ybh := z.a[half+j], z.b[half+j], z.ya[half+j], z.yb[half+j]
			w0.MulAdd(a, ya^yb)
			w0.MulAdd(b, ya)
			w2.MulAdd(ah^a, yah^ya^ybh^yb)
			w2.MulAdd(bh^b, yah^ya)
		}
		return w0.Reduce(), w2.Reduce()
	}
	const chunk = 256
	var s, da, db, dya, ds [chunk]galois.F64
	for lo := 0; lo < half; lo += chunk {
		n := min(chunk, half-lo)
		a, b, ya, yb := z.a[lo:lo+n], z.b[lo:lo+n], z.ya[lo:lo+n], z.yb[lo:lo+n]
		ah, bh, yah, ybh := z.a[half+lo:half+lo+n], z.b[half+lo:half+lo+n], z.ya[half+lo:half+lo+n], z.yb[half+lo:half+lo+n]
		for j := range n {
			s[j] = ya[j] ^ yb[j]
			da[j], db[j] = ah[j]^a[j], bh[j]^b[j]
			dya[j] = yah[j] ^ ya[j]
			ds[j] = dya[j] ^ ybh[j] ^ yb[j]
		}
		w0.Dot(a, s[:n])
		w0.Dot(b, ya)
		w2.Dot(da[:n], ds[:n])
		w2.Dot(db[:n], dya[:n])
	}
	return w0.Reduce(), w2.Reduce()
}

// halve is the halving step's fold: foldTop of each vector (the AND proof pairs j with
// half + j, as in halves).
func (a gfAlg) halve(z *zkBases[galois.F64], r *galois.F64) {
	for _, w := range []*[]galois.F64{&z.a, &z.b, &z.ya, &z.yb} {
		*w = a.foldTop(*w, r)
	}
}

// foldTop replaces w by lo + r (hi - lo) (with carry-less products, foldF64V or foldF64;
// the last entries past a multiple of 4 or 2 in Go).
func (gfAlg) foldTop(w []galois.F64, r *galois.F64) []galois.F64 {
	half := len(w) / 2
	if hasAndLiftAsm && half > 0 {
		even := half &^ 1
		if hasAndLiftV {
			even = half &^ 3
		}
		if even > 0 {
			if hasAndLiftV {
				foldF64V((*uint64)(&w[0]), (*uint64)(&w[half]), uint64(*r), even)
			} else {
				foldF64((*uint64)(&w[0]), (*uint64)(&w[half]), uint64(*r), even)
			}
		}
		for j := even; j < half; j++ {
			w[j] ^= (w[half+j] ^ w[j]).Mul(*r)
		}
		return w[:half]
	}
	const chunk = 256
	var d, prod [chunk]galois.F64
	var hi, lo [chunk]uint64
	acc := galois.F64Acc{Hi: hi[:], Lo: lo[:]}
	for o := 0; o < half; o += chunk {
		n := min(chunk, half-o)
		v, vh := w[o:o+n], w[half+o:half+o+n]
		for j := range n {
			d[j] = vh[j] ^ v[j]
		}
		acc.AddScaled(d[:n], *r)
		acc.Reduce(prod[:n])
		for j := range n {
			v[j] ^= prod[j]
		}
	}
	return w[:half]
}

// andStatement is this party's part of the proofs of the AND words of a batch before the
// lift's coin.
type andStatement struct {
	n, m int
	// ands are the batch's AND words, laid end to end by block (andBlock): start[i] is
	// the position of ands[i]'s first word.
	ands     []product
	start    []int
	psi      []galois.F64 // per block position t
	lift     *zkLift
	prog     [][4]int32   // the lift's program (andLiftProgram)
	off      []uint64     // the prover's values off the grid
	cgm, cgp []galois.F64 // the grid claims' shares c_l (V-, V+)
	arena    *arena[galois.F64]
}

// andBlock is block position t of the batch's AND words (words 64t to 64t+63, zero past
// n): this party's components of the operands x^A, x^B, y^A, y^B and, with claims, its
// claim words as V- of the next prover (z^B ^ next mask) and V+ of the previous one
// (prev mask).
type andBlock struct {
	x      [4][64]uint64
	wm, wp [64]galois.F64
}

// newAndStatement draws psi from the batch coin g for the AND words of ands and computes
// the lift's message and the grid claims.
func newAndStatement(ands []product, g *prg.PRG, ar *arena[galois.F64]) *andStatement {
	lift := newLift(andLiftVars)
	st := &andStatement{ands: ands, start: make([]int, len(ands)), lift: lift, prog: andLiftProgram(lift), arena: ar}
	for i, pr := range ands {
		st.start[i] = st.n
		st.n += len(pr.z.B)
	}
	st.m = (st.n + andBlockWords - 1) / andBlockWords
	st.psi = make([]galois.F64, st.m)
	for t, w := range g.Uint64s(st.m) {
		st.psi[t] = galois.F64(w)
	}
	st.liftValues()
	return st
}

// andBlockWords is the words of a block position, the lift's grid (2^andLiftVars) and the
// lanes of a word.
const andBlockWords = 64

// The lift's grid is a block position (liftValues) and a transpose's rows (finish).
var _ = [1]int{}[andBlockWords-1<<andLiftVars]

// block fills b with block position t, read from the products (the claim words only if
// claims).
func (st *andStatement) block(t int, b *andBlock, claims bool) {
	lo := t * andBlockWords
	i := sort.SearchInts(st.start, lo+1) - 1 // the last product starting at or before lo
	at := 0
	for ; at < andBlockWords && i < len(st.ands); i++ {
		pr := &st.ands[i]
		from := lo + at - st.start[i]
		k := min(andBlockWords-at, len(pr.z.B)-from)
		if k <= 0 {
			continue
		}
		copy(b.x[0][at:at+k], pr.x.A[from:from+k])
		copy(b.x[1][at:at+k], pr.x.B[from:from+k])
		copy(b.x[2][at:at+k], pr.y.A[from:from+k])
		copy(b.x[3][at:at+k], pr.y.B[from:from+k])
		if claims {
			wm, wp := b.wm[at:at+k], b.wp[at:at+k]
			z, next, prev := pr.z.B[from:from+k], pr.next[from:from+k], pr.prev[from:from+k]
			for e := range wm {
				wm[e], wp[e] = galois.F64(z[e]^next[e]), galois.F64(prev[e])
			}
		}
		at += k
	}
	for c := range b.x {
		clear(b.x[c][at:])
	}
	if claims {
		clear(b.wm[at:])
		clear(b.wp[at:])
	}
}

// liftValues computes the lift's message (the prover's H off the grid, from the
// bit-sliced extensions of four block positions side by side) and the grid claims' shares
// c_l; the block positions are split among parallel workers (XOR of their sums).
// Positions where every lane's a side or b side is zero contribute nothing and are skipped.
func (st *andStatement) liftValues() {
	lift := st.lift
	G, m := lift.grid, st.m
	type sums struct{ off, cm, cp []galois.F64 }
	parts := parallel((m+3)/4, 8, func(lo, hi int) sums {
		ext := new([andLiftEntries][4][4]uint64) // per grid point: x^A, x^B, y^A ^ y^B, y^A; scratch
		acc := make([][2]uint64, lift.points)    // per point, unreduced
		var accM, accP [andBlockWords][2]uint64  // the grid claims' sums, unreduced
		var b andBlock
		for t0 := 4 * lo; t0 < min(4*hi, m); t0 += 4 {
			var live [4]bool
			for dt := range 4 {
				t := t0 + dt
				if t >= m {
					for l := range G {
						e := &ext[l]
						e[0][dt], e[1][dt], e[2][dt], e[3][dt] = 0, 0, 0, 0
					}
					continue
				}
				st.block(t, &b, true)
				xa, xb, ya, yb := &b.x[0], &b.x[1], &b.x[2], &b.x[3]
				var za, zb uint64
				for l := range G {
					e := &ext[l]
					e[0][dt], e[1][dt], e[2][dt], e[3][dt] = xa[l], xb[l], ya[l]^yb[l], ya[l]
					za |= xa[l] | xb[l]
					zb |= ya[l] | yb[l]
				}
				live[dt] = za != 0 && zb != 0
				scaleAcc(&accM, &b.wm, st.psi[t])
				scaleAcc(&accP, &b.wp, st.psi[t])
			}
			if !live[0] && !live[1] && !live[2] && !live[3] {
				continue
			}
			var psi [4]uint64 // zero for the dead positions (and those past m)
			for dt := range 4 {
				if live[dt] {
					psi[dt] = uint64(st.psi[t0+dt])
				}
			}
			andLiftExt(ext, st.prog, acc, &psi) // H(q) += psi_t P_{q,t}, unreduced
		}
		out := sums{make([]galois.F64, len(lift.offGrid)), make([]galois.F64, G), make([]galois.F64, G)}
		for i, q := range lift.offGrid {
			out.off[i] = (&galois.F64Wide{Hi: acc[q][1], Lo: acc[q][0]}).Reduce()
		}
		for l := range G {
			out.cm[l] = (&galois.F64Wide{Hi: accM[l][1], Lo: accM[l][0]}).Reduce()
			out.cp[l] = (&galois.F64Wide{Hi: accP[l][1], Lo: accP[l][0]}).Reduce()
		}
		return out
	})
	st.off = make([]uint64, len(lift.offGrid))
	st.cgm, st.cgp = make([]galois.F64, G), make([]galois.F64, G)
	for _, pt := range parts {
		for i, v := range pt.off {
			st.off[i] ^= uint64(v)
		}
		for l := range G {
			st.cgm[l] ^= pt.cm[l]
			st.cgp[l] ^= pt.cp[l]
		}
	}
}

// andLiftEntries is the number of entries of the lift's scratch (andLiftProgram): the
// grid's 2^s, then per level k = s, ..., 3 the 2^(k-1) entries of its cube at inf.
const andLiftEntries = 1<<andLiftVars + 1<<(andLiftVars-1) + 1<<(andLiftVars-2) + 1<<(andLiftVars-3) + 1<<(andLiftVars-4)

// andLiftEntries counts the buffers of the levels 6 to 3.
var _ = [1]int{}[andLiftVars-6]

// andLiftProgram is the lift's program (andLiftExt) for z (s = andLiftVars): every point
// off the grid once, depth first over the variables from the top, so that its scratch
// stays small (andLiftEntries entries of 128 bytes, about 16 KB, and the accumulators in
// L1 too). rec(k, kn, b) reaches the points b + i, i < 3^k, of the cube of the k lowest
// variables at b off the grid, given the values at its 2^k points with digits 0 or 1 in
// scratch entries kn, ..., kn + 2^k - 1 (entry kn + l is point b + gridPt[l]): the cubes
// with the top digit 0 and 1 read the two halves, and the cube at inf reads its values,
// the halves' XOR, from a level's buffer (difference ops); a cube of the two lowest
// variables is one op.
func andLiftProgram(z *zkLift) [][4]int32 {
	if z.s != andLiftVars {
		panic("rep3mal: the AND lift's program is for andLiftVars variables")
	}
	prog := make([][4]int32, 0, len(z.offGrid))
	buf := make([]int, z.s+1) // level k's buffer for the cube at inf
	next := z.grid
	for k := z.s; k > 2; k-- {
		buf[k] = next
		next += 1 << (k - 1)
	}
	var rec func(k, kn, b int)
	rec = func(k, kn, b int) {
		if k == 2 {
			prog = append(prog, [4]int32{^int32(kn), int32(b), 0, 0})
			return
		}
		half, pw := 1<<(k-1), 1
		for range k - 1 {
			pw *= 3
		}
		rec(k-1, kn, b)
		rec(k-1, kn+half, b+pw)
		for i := range half {
			prog = append(prog, [4]int32{int32(buf[k] + i), int32(kn + half + i), int32(kn + i), int32(b + 2*pw + z.gridPt[i])})
		}
		rec(k-1, buf[k], b+2*pw)
	}
	rec(z.s, 0, 0)
	return prog
}

// andLiftExt runs the lift's program prog (andLiftProgram) on four block positions: ext
// (andLiftEntries entries) holds in its first 2^s entries the four components (x^A, x^B,
// y^A ^ y^B, y^A) of the four positions at grid point l, and every point q off the grid
// is reached once (as the kernels do, lift_amd64.s: a difference op (e, e1, e0, q) stores
// ext[e] = ext[e1] ^ ext[e0], point q; a cube op (^e, b, 0, 0) reaches b+2, b+5, b+6,
// b+7, b+8 from ext[e], ..., ext[e+3] (b, b+1, b+3, b+4) without storing them); at each,
// acc[q] (low word first, unreduced) gets sum_dt psi[dt] * (x^A & (y^A ^ y^B) ^ x^B & y^A),
// the word of lane products read as an element of GF(2^64).
func andLiftExt(ext *[andLiftEntries][4][4]uint64, prog [][4]int32, acc [][2]uint64, psi *[4]uint64) {
	if len(prog) == 0 {
		return
	}
	if hasAndLiftV {
		andLiftProgV(&ext[0], &prog[0], &acc[0], psi, len(prog))
		return
	}
	if hasAndLiftAsm {
		andLiftProgX(&ext[0], &prog[0], &acc[0], psi, len(prog))
		return
	}
	add := func(q int, e *[4][4]uint64) {
		var w galois.F64Wide
		for dt := range 4 {
			w.MulAdd(galois.F64(e[0][dt]&e[2][dt]^e[1][dt]&e[3][dt]), galois.F64(psi[dt]))
		}
		acc[q][0] ^= w.Lo
		acc[q][1] ^= w.Hi
	}
	xor := func(dst, x, y *[4][4]uint64) {
		for c := range 4 {
			for dt := range 4 {
				dst[c][dt] = x[c][dt] ^ y[c][dt]
			}
		}
	}
	for _, op := range prog {
		if e := op[0]; e >= 0 {
			xor(&ext[e], &ext[op[1]], &ext[op[2]])
			add(int(op[3]), &ext[e])
			continue
		}
		k, b := int(^op[0]), int(op[1])
		var e, g, h, i, f [4][4]uint64
		xor(&e, &ext[k], &ext[k+1])
		xor(&g, &ext[k], &ext[k+2])
		xor(&h, &ext[k+1], &ext[k+3])
		xor(&i, &g, &h)
		xor(&f, &e, &i)
		add(b+2, &e)
		add(b+5, &f)
		add(b+6, &g)
		add(b+7, &h)
		add(b+8, &i)
	}
}

// finish takes this party's shares of the other provers' lift values and the lift's
// coin, and returns the proof's state for the compression steps: every party folds its
// four components lane by lane at r (bit-sliced: 64 words of a block position are
// transposed so that word j holds lane j of the 64 blocks, and the fold of a lane is a
// sum of the blocks' weights, looked up a byte at a time), the a side times psi_t X^j.
// Block positions are split among parallel workers.
func (st *andStatement) finish(sm, sp []uint64, g *prg.PRG) *zkProof[galois.F64] {
	a := gfAlg{}
	lift := st.lift
	G, m := lift.grid, st.m
	rs := make([]galois.F64, lift.s)
	for i := range rs {
		rs[i] = a.challenge(g)
	}
	basis := liftBasis(a, lift, rs)
	claim := func(grid []galois.F64, off []uint64) galois.F64 {
		var c galois.F64
		for l := range G {
			c ^= grid[l].Mul(basis[lift.gridPt[l]])
		}
		for i, q := range lift.offGrid {
			c ^= galois.F64(off[i]).Mul(basis[q])
		}
		return c
	}
	cm, cp := claim(st.cgm, sm), claim(st.cgp, sp)
	// Tables of the grid weights, eight blocks l at a time: wt[g][b] = sum of the weights
	// of the blocks 8g + k whose bit k of b is set.
	var wt [8][256]galois.F64
	for gi := range wt {
		for k := range 8 {
			wt[gi][1<<k] = basis[lift.gridPt[8*gi+k]]
		}
		for b := 3; b < 256; b++ {
			if b&(b-1) != 0 {
				low := b & -b
				wt[gi][b] = wt[gi][b^low] ^ wt[gi][low]
			}
		}
	}
	np := 64 * m
	// Every entry of the bases is written below.
	bases := &zkBases[galois.F64]{a: st.arena.getDirty(np, np+3), b: st.arena.getDirty(np, np+3),
		ya: st.arena.getDirty(np, np+3), yb: st.arena.getDirty(np, np+3)}
	dsts := [4][]galois.F64{bases.a, bases.b, bases.ya, bases.yb}
	parallel(m, 32, func(lo, hi int) struct{} {
		var b andBlock
		var d, c [64]galois.F64
		for t := lo; t < hi; t++ {
			st.block(t, &b, false)
			haveC := false // c[j] = psi_t X^j, made for the first a-side component not zero
			for v := range b.x {
				blk := &b.x[v]
				dst := dsts[v][64*t : 64*t+64]
				if zeroBlock(blk) { // every lane folds to zero (common: rep3's known-zero components)
					clear(dst)
					continue
				}
				// blk[j]: bit l is lane j of block l's word; the a side times psi_t X^j.
				ring.Transpose64(blk)
				if v < 2 {
					if !haveC {
						for j := range c {
							c[j] = st.psi[t].MulXPow(uint(j))
						}
						haveC = true
					}
					lanesFold(&d, blk, &wt)
					mulVec(dst, &d, &c)
				} else {
					lanesFold((*[64]galois.F64)(dst), blk, &wt)
				}
			}
		}
		return struct{}{}
	})
	return newZKProof(a, bases, cm, cp)
}

// scaleAcc adds the carry-less products w[l] * c to acc[l] (low word first), l < 64.
func scaleAcc(acc *[andBlockWords][2]uint64, w *[andBlockWords]galois.F64, c galois.F64) {
	if hasAndLiftV {
		scaleAcc64V(acc, w, uint64(c))
		return
	}
	for l, x := range w {
		var p galois.F64Wide
		p.MulAdd(x, c)
		acc[l][0] ^= p.Lo
		acc[l][1] ^= p.Hi
	}
}

// lanesFold sets dst[j] to the sum over the blocks l whose bit is set in rows[j] (bit l) of
// their weights, from the byte tables wt (wt[g][b]: the sum of the weights of the blocks
// 8g + k with bit k of b set): eight look-ups per lane.
func lanesFold(dst *[64]galois.F64, rows *[64]uint64, wt *[8][256]galois.F64) {
	if hasAndLiftAsm {
		foldLanes(dst, rows, wt)
		return
	}
	for j, w := range rows {
		var f galois.F64
		if w != 0 {
			f = wt[0][uint8(w)] ^ wt[1][uint8(w>>8)] ^ wt[2][uint8(w>>16)] ^ wt[3][uint8(w>>24)] ^
				wt[4][uint8(w>>32)] ^ wt[5][uint8(w>>40)] ^ wt[6][uint8(w>>48)] ^ wt[7][uint8(w>>56)]
		}
		dst[j] = f
	}
}

// zeroBlock reports whether the 64 words of v are zero (four ORs side by side).
func zeroBlock(v *[64]uint64) bool {
	var o0, o1, o2, o3 uint64
	for i := 0; i < 64; i += 4 {
		o0 |= v[i]
		o1 |= v[i+1]
		o2 |= v[i+2]
		o3 |= v[i+3]
	}
	return o0|o1|o2|o3 == 0
}

// mulVec sets dst[j] = a[j] * c[j] in GF(2^64), j < 64.
func mulVec(dst []galois.F64, a, c *[64]galois.F64) {
	dst = dst[:64]
	if hasAndLiftV {
		mulF64VecV((*uint64)(&dst[0]), (*uint64)(&a[0]), (*uint64)(&c[0]), 64)
		return
	}
	if hasAndLiftAsm {
		mulF64Vec((*uint64)(&dst[0]), (*uint64)(&a[0]), (*uint64)(&c[0]), 64)
		return
	}
	for j := range dst {
		dst[j] = a[j].Mul(c[j])
	}
}

// points is h at the points of {0,1,inf}^v but skip, summed unreduced (zk.go).
func (a gfAlg) points(z *zkBases[galois.F64], lift *zkLift, skip int) []galois.F64 {
	if lift.s == 2 {
		return points2(z, skip)
	}
	return gfPoints(z, lift, skip)
}

// gfPoints is points for any v, through the generic extension.
func gfPoints(z *zkBases[galois.F64], lift *zkLift, skip int) []galois.F64 {
	a := gfAlg{}
	acc := make([]galois.F64Wide, lift.points)
	stepPoints(a, z, lift, 0, len(z.a)/lift.grid, func(ext *[4][]galois.F64) {
		xa, xb, ya, yb := ext[0], ext[1], ext[2], ext[3]
		for q := range acc {
			if q != skip {
				acc[q].MulAdd(xa[q], ya[q]^yb[q])
				acc[q].MulAdd(xb[q], ya[q])
			}
		}
	})
	out := make([]galois.F64, lift.points)
	for q := range acc {
		out[q] = acc[q].Reduce()
	}
	return out
}

// points2 is points for v = 2 (the compression steps by 4, foldVars = 2; not reached with
// halving), in chunks: the four bases' entries of the 4 blocks are extended to the 9
// points of {0,1,inf}^2 with XOR (point d0 + 3 d1; the value at inf is v1 ^ v0), and each
// point's two inner products are carry-less dot products over the chunk.
func points2(z *zkBases[galois.F64], skip int) []galois.F64 {
	const chunk = 256
	B := len(z.a) / 4
	var xa, xb, s, ya [9][chunk]galois.F64
	var acc [9]galois.F64Wide
	ext := func(dst *[9][chunk]galois.F64, v []galois.F64, j, i int) {
		v0, v1, v2, v3 := v[j], v[B+j], v[2*B+j], v[3*B+j] // blocks (d0, d1) = 00, 10, 01, 11
		i0, i1 := v1^v0, v3^v2
		dst[0][i], dst[1][i], dst[2][i] = v0, v1, i0
		dst[3][i], dst[4][i], dst[5][i] = v2, v3, i1
		dst[6][i], dst[7][i], dst[8][i] = v2^v0, v3^v1, i1^i0
	}
	var yb [9][chunk]galois.F64
	for lo := 0; lo < B; lo += chunk {
		n := min(chunk, B-lo)
		for i := range n {
			j := lo + i
			ext(&xa, z.a, j, i)
			ext(&xb, z.b, j, i)
			ext(&ya, z.ya, j, i)
			ext(&yb, z.yb, j, i)
		}
		for q := range 9 {
			if q == skip {
				continue
			}
			for i := range n {
				s[q][i] = ya[q][i] ^ yb[q][i]
			}
			acc[q].Dot(xa[q][:n], s[q][:n])
			acc[q].Dot(xb[q][:n], ya[q][:n])
		}
	}
	out := make([]galois.F64, 9)
	for q := range out {
		out[q] = acc[q].Reduce()
	}
	return out
}
