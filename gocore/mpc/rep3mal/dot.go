package rep3mal

// The dot-product relations (MatMul and the GatherMulSum of convolutions) in the same
// proof as the elementwise products (dzkp.go), each dot product one "gate" whose cost does
// not grow with its length.
//
// A MatMul or GatherMulSum output e sums K terms x[xi(e,k)] * y[yi(e,k)]. When the
// outputs split as e = a*P + b such that yi(e,k) depends only on (b, k) (a matrix product:
// b is the output column, P = N; a convolution: b is the output channel, P the number of
// channels, a the pixel; terms with xi < 0 are padding and contribute nothing), the
// random combination of the claims with psi_e = u_a v_b (u, v from the exceptional set,
// drawn from the batch coin) factors into one inner product of length 2*P*K:
//
//	sum_e u_a v_b (sum_k <a_{e,k}, b_{e,k}> - w_e) = sum_{b,k} <L_{b,k}, R_{b,k}> - sum_e psi_e w_e,
//	L_{b,k} = sum_a u_a (x_i, x_{i+1})[xi(aP+b,k)],  R_{b,k} = v_b (y_i + y_{i+1}, y_i)[yi(b,k)],
//
// (the prover's gate of rep3's product, dzkp.go). When moreover xi(e,k) depends only on
// (a, k) (a matrix product, or a convolution that is not depthwise), the sum over b moves
// into R and the inner product has length 2*K only:
//
//	sum_k <sum_a u_a (x_i, x_{i+1})[xi(a,k)], sum_b v_b (y_i + y_{i+1}, y_i)[yi(b,k)]>.
//
// L and R are linear in each party's components, so the verifiers hold additive shares of them as for the lifted vectors.
// Soundness of the combination: for a non-zero error matrix E (indexed by a and b), E v
// is non-zero except with probability 2^-56 (a non-zero row, combined with coefficients
// from the exceptional set), and then u^T (E v) is non-zero except with probability
// 2^-56: 2^-55 together. The inner product joins the lifted one, multiplied by a
// challenge gamma from the lift's coin (two false claims cannot cancel except with
// probability 2^-56), and the halving steps prove the sum. A product without this
// structure (none in the engine's plans) keeps the sacrifice check (check.go).
//
// Computation (no message or value depends on it): u_a and v_b are exceptional, so their
// coefficients are bits and every sum above is a subset sum per coefficient: L (over a),
// R of the length-2K form (over b) and the claims (over the longer of a and b, then
// multiplied by the other index's bit masks: min(na, P) products) take four words at a
// time from their 16 subset sums (galois.AddSubsetSums4, two entries' A and B components
// in the four lanes); R_{b,k} = v_b y of the length-2PK form is y masked by v_b's bits.
// The index maps are scanned once per batch for both patterns, and the results go to
// buffers the Protocol owns (dotScratch).

import (
	"slices"

	"github.com/qmpc/qmpc/gocore/galois"
)

// dotRecord is a MatMul or GatherMulSum product in the factored form above.
type dotRecord struct {
	product
	k, p, na int     // terms per output, P, outputs / P
	xi       []int32 // x index of term k of output e at e*k + k (< 0: no term; nil if xbar is set and xi is not needed)
	ybar     []int32 // y index of term k for column b at b*k + k (< 0: no term uses it)
	// xbar, if not nil, is the x index of term k for row a at a*k + k (xi depends only
	// on a and k): the inner product then has length 2*K.
	xbar []int32
	// sc holds the buffers of shares (the Protocol's; nil: shares allocates its own).
	sc *dotScratch
}

// maxDotLen bounds the factored form's inner product (2K, or 2*P*K without the row
// pattern): longer ones would make the halving steps cost more than the sacrifice.
const maxDotLen = 1 << 16

// dotOf returns pr in the factored form, or false if it has none.
func dotOf(pr product) (dotRecord, bool) {
	r := pr.rel
	n := len(pr.z.A)
	switch r.Kind {
	case "matmul":
		if r.M*r.N != n || r.K == 0 || 2*r.K > maxDotLen {
			return dotRecord{}, false
		}
		// x[m,k] depends on the row m only: the form of length 2K.
		xbar := make([]int32, r.M*r.K)
		for i := range xbar {
			xbar[i] = int32(i)
		}
		ybar := make([]int32, r.N*r.K)
		for b := range r.N {
			for k := range r.K {
				ybar[b*r.K+k] = int32(k*r.N + b)
			}
		}
		return dotRecord{product: pr, k: r.K, p: r.N, na: r.M, ybar: ybar, xbar: xbar}, true
	case "gathermulsum":
		k := r.K
		if k == 0 || n == 0 || len(r.XIdx) != n*k {
			return dotRecord{}, false
		}
		tries := 0
		for p := 1; p <= n && tries < 8; p++ {
			if n%p != 0 {
				continue
			}
			if p < n && !rowsAgree(r.XIdx, r.YIdx, k, 0, p) {
				continue
			}
			tries++
			ybar, xbar, ok := patterns(r.XIdx, r.YIdx, k, n, p)
			if !ok {
				continue
			}
			d := dotRecord{product: pr, k: k, p: p, na: n / p, xi: r.XIdx, ybar: ybar, xbar: xbar}
			if length := 2 * p * k; (d.xbar != nil && 2*k <= maxDotLen) || length <= maxDotLen {
				return d, true
			}
		}
	}
	return dotRecord{}, false
}

// rowsAgree reports whether outputs e and f use the same y indices where both have a term.
func rowsAgree(xi, yi []int32, k, e, f int) bool {
	for j := range k {
		if xi[e*k+j] >= 0 && xi[f*k+j] >= 0 && yi[e*k+j] != yi[f*k+j] {
			return false
		}
	}
	return true
}

// patterns returns, for period p, ybar if every term's y index depends only on (e mod p,
// k) (ok: false otherwise), and xbar if moreover every x index depends only on (e / p, k)
// (nil otherwise), in one pass over the index maps.
func patterns(xi, yi []int32, k, n, p int) (ybar, xbar []int32, ok bool) {
	ybar = make([]int32, p*k)
	for i := range ybar {
		ybar[i] = -1
	}
	rows := true // x indices equal along each block of p outputs (checked until one differs)
	for e := range n {
		col := (e % p) * k
		row := xi[e*k : (e+1)*k]
		if rows && e%p != 0 {
			rows = slices.Equal(row, xi[(e-e%p)*k:(e-e%p+1)*k])
		}
		for j, x := range row {
			if x < 0 {
				continue
			}
			y := yi[e*k+j]
			switch s := &ybar[col+j]; {
			case y < 0:
				return nil, nil, false
			case *s < 0:
				*s = y
			case *s != y:
				return nil, nil, false
			}
		}
	}
	if rows {
		na := n / p
		xbar = make([]int32, na*k)
		for a := range na {
			copy(xbar[a*k:(a+1)*k], xi[a*p*k:(a*p+1)*k])
		}
	}
	return ybar, xbar, true
}

// dotShares is one dot record's contribution to the proof, as this party computes it from
// its components: L and R of its own components, and its verifier shares of the claim.
type dotShares struct {
	la, lb, ra, rb []galois.Elem // L from x_A and x_B, R from y_A and y_B (length P*K)
	cm, cp         galois.Elem   // claim shares: as V- of the next prover, as V+ of the previous
}

// dotScratch holds the buffers of the dot records' shares, owned by the Protocol and
// reused by every record and batch: the claims' per-column sums and the subset sums'
// nibbles and words (L and R go straight into the proof's bases, sharesInto).
type dotScratch struct {
	tm, tp     []galois.Elem
	unib, vnib [][galois.D]uint8
	vbits      []uint64
	words      [2][2][][4]uint64 // subsetSumPairs: two entries' u and v words
}

// length is the number of pairs of d's inner product: K with the row pattern, else P*K.
func (d *dotRecord) length() int {
	if d.xbar != nil {
		return d.k
	}
	return d.p * d.k
}

// reserve grows the buffers of the claims' column sums to the largest of dots at once (one
// allocation each, not one per record larger than the ones before it).
func (sc *dotScratch) reserve(dots []dotRecord) {
	p := 0
	for i := range dots {
		p = max(p, dots[i].p)
	}
	grow := func(b *[]galois.Elem, n int) {
		if cap(*b) < n {
			*b = make([]galois.Elem, n)
		}
	}
	grow(&sc.tm, p)
	grow(&sc.tp, p)
}

// elems returns buf (grown to n entries) zeroed.
func elems(buf *[]galois.Elem, n int) []galois.Elem {
	if cap(*buf) < n {
		*buf = make([]galois.Elem, n)
	}
	*buf = (*buf)[:n]
	clear(*buf)
	return *buf
}

// nibbleGroups sets buf to the nibbles of the exceptional elements bits (nibbles), one
// entry per group of four.
func nibbleGroups(buf *[][galois.D]uint8, bits []uint64) [][galois.D]uint8 {
	n := (len(bits) + 3) / 4
	if cap(*buf) < n {
		*buf = make([][galois.D]uint8, n)
	}
	*buf = (*buf)[:n]
	for g := range n {
		(*buf)[g] = nibbles(bits, 4*g)
	}
	return *buf
}

// sharesInto computes d's contribution with u (na bits words) and v (P elements,
// exceptional): L and R written to s.la, s.lb, s.ra and s.rb (d.length() entries each,
// zero on entry: the proof's bases), the claim shares set in s; its other buffers come
// from d.sc (nil: fresh ones).
func (d *dotRecord) sharesInto(s *dotShares, uBits []uint64, v []galois.Elem) {
	sc := d.sc
	if sc == nil {
		sc = &dotScratch{}
	}
	n := d.length()
	nibs := nibbleGroups(&sc.unib, uBits)
	if cap(sc.vbits) < d.p {
		sc.vbits = make([]uint64, d.p)
	}
	vBits := sc.vbits[:d.p]
	for b := range vBits {
		vBits[b] = v[b].Bits()
	}
	xa, xb := d.x.A, d.x.B
	ya, yb := d.y.A, d.y.B
	if d.xbar != nil {
		d.rowShares(s, nibs, nibbleGroups(&sc.vnib, vBits), sc)
	} else {
		// Per entry i = (b, j): the words of all groups of four a, then one sum over the
		// groups (subsetSumPairs: two entries at a time, the sums in registers).
		pk := d.p * d.k
		subsetSumPairs(nibs, n, func(i int, va, vb [][4]uint64) bool {
			// term (aP + b, j) at a*P*K + i
			return gatherStrided(va, vb, d.xi, i, pk, d.na, xa, xb)
		}, func(i int) (*galois.Elem, *galois.Elem) { return &s.la[i], &s.lb[i] }, sc)
		// R_{b,j} = v_b y[ybar(b,j)]: coefficient c is y or 0 by bit c of v_b.
		for b := range d.p {
			for j := range d.k {
				if q := d.ybar[b*d.k+j]; q >= 0 {
					setScaledBits(&s.ra[b*d.k+j], vBits[b], ya[q])
					setScaledBits(&s.rb[b*d.k+j], vBits[b], yb[q])
				}
			}
		}
	}
	s.cm, s.cp = d.claims(uBits, vBits, nibs, sc)
}

// setScaledBits sets e = y*v for v in the exceptional set given by its bit mask.
func setScaledBits(e *galois.Elem, v, y uint64) {
	for c := range e {
		e[c] = y & -(v >> uint(c) & 1)
	}
}

// claims returns the claim shares sum_{a,b} u_a v_b w_{aP+b} with w = z_B + next (as V-
// of the next prover) and w = -prev (as V+ of the previous one): the inner sums over the
// longer of the two indices by subset sums, the outer sum over the shorter one by products
// with its coefficients' bit masks (MulAddBits), min(na, P) of them.
func (d *dotRecord) claims(uBits, vBits []uint64, unibs [][galois.D]uint8, sc *dotScratch) (cm, cp galois.Elem) {
	// Word t of outer entry o is w at o*step + t*stride.
	inner, outer, nibs, outerBits, step, stride := d.na, d.p, unibs, vBits, 1, d.p
	if d.na < d.p {
		inner, outer, nibs, outerBits, step, stride = d.p, d.na, nibbleGroups(&sc.vnib, vBits), uBits, d.p, 1
	}
	tm, tp := elems(&sc.tm, outer), elems(&sc.tp, outer)
	zb, next, prev := d.z.B, d.next, d.prev
	subsetSumPairs(nibs, outer, func(o int, wm, wp [][4]uint64) bool {
		e := o * step
		for g := range wm {
			var m, p [4]uint64
			for l := range min(4, inner-4*g) {
				m[l], p[l] = zb[e]+next[e], -prev[e]
				e += stride
			}
			wm[g], wp[g] = m, p
		}
		return true
	}, func(o int) (*galois.Elem, *galois.Elem) { return &tm[o], &tp[o] }, sc)
	var wm, wp galois.Wide
	for o := range outer {
		wm.MulAddBits(outerBits[o], &tm[o])
		wp.MulAddBits(outerBits[o], &tp[o])
	}
	wm.Reduce(&cm)
	wp.Reduce(&cp)
	return cm, cp
}

// rowShares is shares for the form of length 2*K: L_k = sum_a u_a x[xbar(a,k)] and R_k =
// sum_b v_b y[ybar(b,k)], both subset sums (vnibs: the nibbles of v's bits).
func (d *dotRecord) rowShares(s *dotShares, unibs, vnibs [][galois.D]uint8, sc *dotScratch) {
	k := d.k
	xa, xb := d.x.A, d.x.B
	subsetSumPairs(unibs, k, func(j int, va, vb [][4]uint64) bool {
		return gatherStrided(va, vb, d.xbar, j, k, d.na, xa, xb)
	}, func(j int) (*galois.Elem, *galois.Elem) { return &s.la[j], &s.lb[j] }, sc)
	ya, yb := d.y.A, d.y.B
	subsetSumPairs(vnibs, k, func(j int, wa, wb [][4]uint64) bool {
		return gatherStrided(wa, wb, d.ybar, j, k, d.p, ya, yb)
	}, func(j int) (*galois.Elem, *galois.Elem) { return &s.ra[j], &s.rb[j] }, sc)
}

// subsetSumPairs adds to the two elements dst(i) the subset sums (by the nibbles nibs of
// the exceptional u_a) of the two word vectors that fill(i, u, v) writes, for the entries i
// < n for which fill reports a non-zero word (the others are left as they are): two
// entries at a time, the four elements of a pair in one galois.AddSubsetSums4. The word
// vectors are sc's.
func subsetSumPairs(nibs [][galois.D]uint8, n int, fill func(i int, u, v [][4]uint64) bool, dst func(i int) (*galois.Elem, *galois.Elem), sc *dotScratch) {
	buf := &sc.words
	for h := range buf {
		for c := range buf[h] {
			if cap(buf[h][c]) < len(nibs) {
				buf[h][c] = make([][4]uint64, len(nibs))
			}
			buf[h][c] = buf[h][c][:len(nibs)]
		}
	}
	var ents [2]int
	np := 0
	flush := func() {
		switch np {
		case 2:
			a0, b0 := dst(ents[0])
			a1, b1 := dst(ents[1])
			galois.AddSubsetSums4(&[4]*galois.Elem{a0, b0, a1, b1}, &[4][][4]uint64{buf[0][0], buf[0][1], buf[1][0], buf[1][1]}, nibs)
		case 1:
			a0, b0 := dst(ents[0])
			a0.AddSubsetSums(buf[0][0], nibs)
			b0.AddSubsetSums(buf[0][1], nibs)
		}
		np = 0
	}
	for i := range n {
		if !fill(i, buf[np][0], buf[np][1]) {
			continue
		}
		ents[np] = i
		if np++; np == 2 {
			flush()
		}
	}
	flush()
}

// gatherStrided sets lane t of u and v (groups of four, len(u) = ceil(n/4)) to xa[q] and
// xb[q] for q = idx[start + t*stride], t < n, and to 0 where q < 0 or t >= n; it reports
// whether any word is non-zero.
func gatherStrided(u, v [][4]uint64, idx []int32, start, stride, n int, xa, xb []uint64) bool {
	var nz uint64
	at := start
	for g := range u {
		var wa, wb [4]uint64
		for l := range min(4, n-4*g) {
			if q := idx[at]; q >= 0 {
				wa[l], wb[l] = xa[q], xb[q]
				nz |= wa[l] | wb[l]
			}
			at += stride
		}
		u[g], v[g] = wa, wb
	}
	return nz != 0
}
