package rep3

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// A2B converts x to a w-bit binary sharing of x mod 2^w: party 1 inputs y = x_1 + x_2 mod
// 2^w as a binary share (one message of w bits per element), and the adder adds the free
// binary sharing of x_0. Rounds: 1 + (w > 1) + ceil(log2(w-1)).
func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	return p.a2b(x, w, 0)
}

// A2BHigh is A2B returning only the planes [lo, w), as a (w-lo)-bit sharing of
// floor((x mod 2^w) / 2^lo): the adder skips the gates that only the lower sum planes
// need (the carry into plane lo is still computed). Same messages as A2B but fewer AND
// planes; never more rounds. It implements mpc.HighA2B.
func (p *Protocol) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	return p.a2b(x, w, lo)
}

// A2BSplit returns the operands of A2B's adder: a w-bit binary sharing of x_0 (free:
// component 0, which parties 0 and 2 hold) and one of y = x_1 + x_2 (input by party 1,
// one message of w bits per element to party 2), with x_0 + y = x. It implements
// mpc.A2BSplitter.
func (p *Protocol) A2BSplit(x mpc.AShare, w int) (a, b mpc.BShare, err error) {
	if w < 1 || w > 64 {
		return nil, nil, errs.New(errs.Internal, "rep3 a2bsplit: width %d not in [1,64]", w)
	}
	x0, y, err := p.a2bOperands(x, w)
	if err != nil {
		return nil, nil, fmt.Errorf("rep3 a2bsplit: %w", err)
	}
	return x0, y, nil
}

// a2bOperands returns the binary sharings of x_0 and of x_1 + x_2 (w bits each); in the
// checked form (an Observer attached: convert_checked.go), those of S and 2C with S + 2C =
// x mod 2^w, from the components' free sharings and one AND round.
func (p *Protocol) a2bOperands(x mpc.AShare, w int) (x0, y *BShare, err error) {
	s, err := p.settle(x)
	if err != nil {
		return nil, nil, err
	}
	if p.obs != nil {
		x0, y, err = p.a2bCheckedOperands(s, w)
		if err != nil {
			return nil, nil, fmt.Errorf("checked operands: %w", err)
		}
		return x0, y, nil
	}
	n := len(s.a)
	l := w * ring.Words(n)
	var yPlanes []uint64
	if p.id == 1 {
		y := make([]uint64, n)
		ring.Add(y, s.a, s.b) // x_1 + x_2
		yPlanes = ring.ToPlanes(y, w)
	}
	ya, yb, err := p.input(1, yPlanes, l, true)
	if err != nil {
		return nil, nil, err
	}
	// x_0 is component 0: party 0's first and party 2's second.
	x0 = &BShare{n: n, w: w}
	switch p.id {
	case 0:
		x0.a, x0.b = ring.ToPlanes(s.a, w), make([]uint64, l)
	case 1:
		x0.a = make([]uint64, l)
		x0.b = x0.a
	case 2:
		x0.a, x0.b = make([]uint64, l), ring.ToPlanes(s.b, w)
	}
	return x0, &BShare{n, w, ya, yb}, nil
}

func (p *Protocol) a2b(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	if w < 1 || w > 64 || lo < 0 || lo >= w {
		return nil, errs.New(errs.Internal, "rep3 a2b: width %d, low plane %d (want 0 <= lo < w <= 64)", w, lo)
	}
	x0, y, err := p.a2bOperands(x, w)
	if err != nil {
		return nil, fmt.Errorf("rep3 a2b: %w", err)
	}
	sum, err := p.add(x0, y, lo)
	if err != nil {
		return nil, fmt.Errorf("rep3 a2b: %w", err)
	}
	return sum, nil
}

// prefixGate is one combination of a Sklansky level: G_j ^= P_j & G_k (if g) and
// P_j &= P_k (if p).
type prefixGate struct {
	j, k int
	g, p bool
}

// sklansky returns the levels of Sklansky's prefix network over m positions, pruned to the
// gates that the group generates G[0..j], j >= need, depend on.
func sklansky(m, need int) [][]prefixGate {
	var levels [][]prefixGate
	for d := 1; d < m; d *= 2 {
		var gs []prefixGate
		for j := 0; j < m; j++ {
			if j&d != 0 {
				gs = append(gs, prefixGate{j: j, k: (j &^ (2*d - 1)) + d - 1})
			}
		}
		levels = append(levels, gs)
	}
	// Backward: which G_j and P_j values are needed after each level.
	needG, needP := make([]bool, m), make([]bool, m)
	for j := max(need, 0); j < m; j++ {
		needG[j] = true
	}
	for li := len(levels) - 1; li >= 0; li-- {
		gs := levels[li]
		kept := gs[:0]
		for _, g := range gs {
			g.g, g.p = needG[g.j], needP[g.j]
			// Entering values needed by this level's gates (G_j and P_j stay needed).
			if g.g {
				needP[g.j], needG[g.k] = true, true
			}
			if g.p {
				needP[g.k] = true
			}
			if g.g || g.p {
				kept = append(kept, g)
			}
		}
		levels[li] = kept
	}
	return levels
}

// add returns the planes [lo, w) of x + y mod 2^w with a Sklansky parallel-prefix adder:
// one AND round for the generate bits g_j = x_j & y_j (j < w-1), then ceil(log2(w-1))
// rounds of prefix combination (G, P) o (G', P') = (G ^ P & G', P & P'), all planes of a
// level in one AND; gates that only sum planes below lo need are skipped.
func (p *Protocol) add(x, y *BShare, lo int) (*BShare, error) {
	n, w := x.n, x.w
	nw := ring.Words(n)
	plane := func(v []uint64, j int) []uint64 { return v[j*nw : (j+1)*nw] }
	// propagate p_j = x_j ^ y_j (local)
	pa, pb := make([]uint64, w*nw), make([]uint64, w*nw)
	ring.Xor(pa, x.a, y.a)
	ring.Xor(pb, x.b, y.b)
	high := func() *BShare { return &BShare{n, w - lo, pa[lo*nw:], pb[lo*nw:]} }
	m := w - 1 // carries into bits 1..w-1 are the prefixes G[0..j], j < m
	if m == 0 {
		return high(), nil
	}
	l := m * nw
	ga, gb, err := p.andMany([]pair{{x.a[:l], x.b[:l]}}, []pair{{y.a[:l], y.b[:l]}})
	if err != nil {
		return nil, err
	}
	// ga was sent and must not change. gb was received: it is the next party's ga, which
	// that party (running this same code) drops after cloning it, so gb is ours to update.
	ga = ring.Clone(ga)
	if p.obs != nil { // the Observer keeps gb: update a copy
		gb = ring.Clone(gb)
	}
	// P: group propagate (a copy of p, updated in place); G: group generate.
	Pa, Pb := ring.Clone(pa[:l]), ring.Clone(pb[:l])
	for _, gates := range sklansky(m, lo-1) {
		var xs, ys []pair
		for _, g := range gates {
			pj := pair{plane(Pa, g.j), plane(Pb, g.j)}
			if g.g {
				xs, ys = append(xs, pj), append(ys, pair{plane(ga, g.k), plane(gb, g.k)})
			}
			if g.p {
				xs, ys = append(xs, pj), append(ys, pair{plane(Pa, g.k), plane(Pb, g.k)})
			}
		}
		if len(xs) == 0 {
			continue
		}
		za, zb, err := p.andMany(xs, ys)
		if err != nil {
			return nil, err
		}
		off := 0
		for _, g := range gates {
			j := g.j
			if g.g {
				ring.Xor(plane(ga, j), plane(ga, j), za[off:off+nw])
				ring.Xor(plane(gb, j), plane(gb, j), zb[off:off+nw])
				off += nw
			}
			if g.p {
				copy(plane(Pa, j), za[off:off+nw])
				copy(plane(Pb, j), zb[off:off+nw])
				off += nw
			}
		}
	}
	// sum_j = p_j ^ G[0..j-1] for j >= max(lo, 1)
	from := max(lo, 1)
	ring.Xor(pa[from*nw:], pa[from*nw:], ga[(from-1)*nw:])
	ring.Xor(pb[from*nw:], pb[from*nw:], gb[(from-1)*nw:])
	return high(), nil
}

// B2A converts a w-bit binary share to an arithmetic share of its unsigned value. With
// components b = b_0 ^ b_1 ^ b_2: party 0 knows c = b_0 ^ b_1 and inputs its bits c_j as ring
// elements (one message of w words per element); b_2 is known to parties 1 and 2, so
// [2^j b2_j] is a free arithmetic sharing; and b = sum_j 2^j (c_j + b2_j - 2 c_j b2_j), whose
// products take one MulSum. The role of party 0 rotates over three ranges of elements, so
// each party sends about w/3 + 1 words per element. Two rounds.
func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	z, err := p.b2a(s, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("rep3 b2a: %w", err)
	}
	return z, nil
}

// B2AAnd returns B2A(x) + (c & beta) as an arithmetic sharing, with c and beta one plane
// each (mpc.B2AAnder): the same two rounds as B2A. The AND's arithmetic value rides on the
// B2A's messages: with u = c_h ^ c_{h+1} and v likewise (known to the role-0 party h of
// an element range) and s = c_{h+2}, t = beta_{h+2} (known to the other two), c & beta =
// (u ^ s)(v ^ t) is, as a polynomial in s and t,
//
//	A + B s + C t + D s t,  A = u v,  B = v (1 - 2u),  C = u (1 - 2v),  D = (1 - 2u)(1 - 2v),
//
// with coefficients that party h knows. Party h inputs B, C and D as it inputs the B2A's
// bits (x_h = F(k_{h-1}), which its receiver h+1 lacks; x_{h+1} = value - x_h appended to
// its B2A input message; x_{h+2} = 0) and keeps A as its own term; B s + C t + D s t is
// then a linear function of the input whose public coefficients (s, t, s t) are known to
// the parties holding x_h and x_{h+1}: party h+1 adds x_{h+1}'s combination, party h+2
// x_h's. That is a 3-out-of-3 sharing of c & beta, added to the B2A's product before its
// one reshare (the bit injection of ABY3, Mohassel and Rindal, CCS 2018, section 5.4,
// with the AND's polynomial instead of its four-entry table: three words per element
// instead of four). Three more words per element from the role-0 party (one per party
// on average). Security: as the B2A's input, every appended word is masked by a fresh
// F(k_{h-1}) output its receiver lacks, and party h's own term is masked by the reshare's
// zero sharing. Not in the checked form (an Observer).
func (p *Protocol) B2AAnd(x, c, beta mpc.BShare) (mpc.AShare, error) {
	s, cs, be := bs(x), bs(c), bs(beta)
	if cs.w != 1 || be.w != 1 || cs.n != s.n || be.n != s.n {
		return nil, errs.New(errs.Internal, "rep3 b2aand: shapes (%d,%d), (%d,%d), (%d,%d)", s.n, s.w, cs.n, cs.w, be.n, be.w)
	}
	if p.obs != nil {
		return nil, errs.New(errs.Internal, "rep3 b2aand: not available in the checked form")
	}
	z, err := p.b2a(s, cs, be)
	if err != nil {
		return nil, fmt.Errorf("rep3 b2aand: %w", err)
	}
	return z, nil
}

// Bit2A is B2A for one bit (two rounds, one input word and one multiplication per element).
func (p *Protocol) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	if s.w != 1 {
		return nil, errs.New(errs.Internal, "rep3 bit2a: width %d, want 1", s.w)
	}
	z, err := p.b2a(s, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("rep3 bit2a: %w", err)
	}
	return z, nil
}

// b2a is B2A(s), plus the arithmetic value of the bit c & beta when c and beta (one plane
// each) are given (B2AAnd).
func (p *Protocol) b2a(s, c, beta *BShare) (*AShare, error) {
	n, w := s.n, s.w
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "width %d not in [1,64]", w)
	}
	if p.obs != nil {
		if p.adderB2A > 0 && w >= p.adderB2A && c == nil && n > 0 {
			return p.b2aAdder(s)
		}
		return p.b2aChecked(s)
	}
	// The elements are split into three ranges of whole plane words; in range h the roles
	// of the parties are rotated by h (party h plays party 0 above), so that each party
	// sends a third of the w-words-per-element input. Range h's input [c_j] has components
	// x_h = F(k_{h-1}) (drawn by parties h and h-1), x_{h+1} = c - x_h (sent by party h to
	// party h+1) and x_{h+2} = 0, element-major (element e's bit j at e*w+j).
	//
	// Every party computes its two components of z = sum_j 2^j c_j + b_{h+2} - 2 t, where
	// t = MulSum([c], [u], w) with u_j = 2^j b_{h+2,j} (a free sharing known to roles 1
	// and 2), in one pass over its components of [c] (nothing element-major is stored
	// except the message):
	//   role 0 holds (x_h, x_{h+1}):     z = (W(x_h), c - W(x_h)), no cross terms;
	//   role 1 holds (x_{h+1}, x_{h+2}): z = (W(x_{h+1}), b), t = sum_j x_{h+1,j} u_j;
	//   role 2 holds (x_{h+2}, x_h):     z = (b, W(x_h)), t = sum_j x_{h,j} u_j;
	// with W(x) = sum_j 2^j x_j and b = b_{h+2}'s value; then z -= 2 reshare(t + alpha).
	nw := ring.Words(n)
	z := &AShare{a: make([]uint64, n), b: make([]uint64, n)}
	t := make([]uint64, n)
	var tp []uint64 // the share of c & beta (3-out-of-3), with c
	if c != nil {
		tp = make([]uint64, n)
	}
	type part struct {
		lo, hi   int // elements
		wlo, whi int // plane words
		role     int // (id - h) mod 3
	}
	var parts [3]part
	var buf [scratchWords]uint64
	per := scratchWords / w // elements per PRG chunk
	// For an Observer: this party's components of [c] and [u] (element-major, w per
	// element), the operands of the multiply-sum t.
	var cx, uy Pair
	if p.obs != nil {
		cx = Pair{make([]uint64, n*w), make([]uint64, n*w)}
		uy = Pair{make([]uint64, n*w), make([]uint64, n*w)}
	}
	// weights sets dst[j] = 2^j * bit j of b (the components of [u] of one element).
	weights := func(dst []uint64, b uint64) {
		for j := range dst {
			dst[j] = (b >> uint(j) & 1) << uint(j)
		}
	}
	for h := range parts {
		q := &parts[h]
		q.wlo, q.whi = nw*h/3, nw*(h+1)/3
		q.lo, q.hi = min(64*q.wlo, n), min(64*q.whi, n)
		q.role = (p.id - h + 3) % 3
		nh := q.hi - q.lo
		za, zb := z.a[q.lo:q.hi], z.b[q.lo:q.hi]
		switch q.role {
		case 0: // knows c = b_h ^ b_{h+1} (this party's two components)
			planeValues(zb, s.a, s.b, nw, q.wlo, w) // zb = c for now
			ext := 0                                // B2AAnd's three coefficients follow the B2A's words
			if c != nil {
				ext = andWords * nh
			}
			msg := make([]uint64, nh*w, nh*w+ext)
			for e0 := 0; e0 < nh; e0 += per {
				e1 := min(e0+per, nh)
				r := buf[:(e1-e0)*w]
				p.gPrev.Fill(r) // x_h
				for e := e0; e < e1; e++ {
					c := zb[e]
					xs := r[(e-e0)*w : (e-e0+1)*w]
					m := msg[e*w : (e+1)*w]
					m = m[:len(xs)]
					var wx uint64
					if len(xs) == 8 { // unrolled for the usual 8-bit results
						m = m[:8]
						m[0], m[1], m[2], m[3] = c&1-xs[0], c>>1&1-xs[1], c>>2&1-xs[2], c>>3&1-xs[3]
						m[4], m[5], m[6], m[7] = c>>4&1-xs[4], c>>5&1-xs[5], c>>6&1-xs[6], c>>7&1-xs[7]
						wx = xs[0] + xs[1]<<1 + xs[2]<<2 + xs[3]<<3 + xs[4]<<4 + xs[5]<<5 + xs[6]<<6 + xs[7]<<7
					} else {
						for j, x := range xs {
							m[j] = (c>>uint(j))&1 - x
							wx += x << uint(j)
						}
					}
					za[e] = wx
					zb[e] = c - wx
					if p.obs != nil { // (x_h, x_{h+1}) = (r, c - r)
						g := (q.lo + e) * w
						copy(cx.A[g:g+w], xs)
						copy(cx.B[g:g+w], m)
					}
				}
			}
			if c != nil { // B, C, D minus x_h after the B2A's words; A is this party's term
				r := p.gPrev.Uint64s(andWords * nh)
				msg = msg[:nh*w+ext]
				ext := msg[nh*w:]
				for e := range nh {
					i := q.lo + e
					u := (c.a[i>>6] ^ c.b[i>>6]) >> uint(i&63) & 1
					v := (beta.a[i>>6] ^ beta.b[i>>6]) >> uint(i&63) & 1
					cf := andCoefs(u, v)
					for k := range andWords {
						ext[andWords*e+k] = cf[k] - r[andWords*e+k]
					}
					tp[i] += u & v
				}
			}
			if err := p.send(p.next, msg); err != nil {
				return nil, err
			}
		case 1: // b_{h+2} is this party's second component
			planeValues(zb, s.b, nil, nw, q.wlo, w)
		case 2: // b_{h+2} is this party's first component; x_h is drawn
			planeValues(za, s.a, nil, nw, q.wlo, w)
			th := t[q.lo:q.hi]
			for e0 := 0; e0 < nh; e0 += per {
				e1 := min(e0+per, nh)
				r := buf[:(e1-e0)*w]
				p.gNext.Fill(r) // x_h
				for e := e0; e < e1; e++ {
					zb[e], th[e] = weightedCross(r[(e-e0)*w:(e-e0+1)*w], za[e])
					if p.obs != nil { // (x_{h+2}, x_h) = (0, r); [u] = (u, 0)
						g := (q.lo + e) * w
						copy(cx.B[g:g+w], r[(e-e0)*w:(e-e0+1)*w])
						weights(uy.A[g:g+w], za[e])
					}
				}
			}
			if c != nil { // x_h's combination with (s, t, s t) = (c_{h+2}, beta_{h+2}, both)
				r := p.gNext.Uint64s(andWords * nh)
				for e := range nh {
					i := q.lo + e
					st, tt := c.a[i>>6]>>uint(i&63)&1, beta.a[i>>6]>>uint(i&63)&1
					tp[i] += andTerm(r[andWords*e:andWords*e+andWords], st, tt)
				}
			}
		}
	}
	for h := range parts {
		q := &parts[h]
		if q.role != 1 {
			continue
		}
		nh := q.hi - q.lo
		ext := 0
		if c != nil {
			ext = andWords * nh
		}
		x, err := p.recv(h, nh*w+ext) // x_{h+1}, then B2AAnd's coefficients' x_{h+1}
		if err != nil {
			return nil, err
		}
		if c != nil {
			m := x[nh*w:]
			x = x[:nh*w]
			for e := range nh {
				i := q.lo + e
				st, tt := c.b[i>>6]>>uint(i&63)&1, beta.b[i>>6]>>uint(i&63)&1
				tp[i] += andTerm(m[andWords*e:andWords*e+andWords], st, tt)
			}
		}
		za, zb, th := z.a[q.lo:q.hi], z.b[q.lo:q.hi], t[q.lo:q.hi]
		for e := range nh {
			za[e], th[e] = weightedCross(x[e*w:(e+1)*w], zb[e])
		}
		if p.obs != nil { // (x_{h+1}, x_{h+2}) = (x, 0); [u] = (0, u)
			g := q.lo * w
			copy(cx.A[g:g+nh*w], x)
			for e := range nh {
				weights(uy.B[g+e*w:g+(e+1)*w], zb[e])
			}
		}
	}
	if c != nil { // reshare tp - 2t instead, and add it (only unobserved: checked variants decline leaves)
		for i := range t {
			t[i] = tp[i] - 2*t[i]
		}
		p.addZeroShare(t)
		if p.defers() { // pending (deferred.go): z's first component plus this party's term
			ring.Add(t, t, z.a)
			return p.product(t)
		}
		ta, tb, err := p.reshare(t)
		if err != nil {
			return nil, err
		}
		for i := range z.a {
			z.a[i] += ta[i]
			z.b[i] += tb[i]
		}
		return z, nil
	}
	if p.defers() { // pending (deferred.go): z's first component minus twice this party's
		// term, then the zero share (not doubled: it masks every bit of the message)
		for i := range t {
			t[i] = z.a[i] - 2*t[i]
		}
		p.addZeroShare(t)
		return p.product(t)
	}
	next, prev := p.productMasks(len(t))
	p.addZeroShareTo(t, next, prev)
	ta, tb, err := p.reshare(t)
	if err != nil {
		return nil, err
	}
	if p.obs != nil {
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "mulsum", K: w}, cx, uy, Pair{ta, tb})
	}
	for i := range z.a {
		z.a[i] -= 2 * ta[i]
		z.b[i] -= 2 * tb[i]
	}
	return z, nil
}

// andWords is the number of words B2AAnd's role-0 party inputs per element: the
// coefficients B, C, D of (u ^ s)(v ^ t) = A + B s + C t + D s t.
const andWords = 3

// andCoefs returns B, C, D of (u ^ s)(v ^ t) = u v + B s + C t + D s t for bits u, v.
func andCoefs(u, v uint64) [andWords]uint64 {
	return [andWords]uint64{v - 2*u*v, u - 2*u*v, 1 - 2*u - 2*v + 4*u*v}
}

// andTerm returns B s + C t + D s t for one component x = (B, C, D) of the coefficients'
// sharing and the bits s, t.
func andTerm(x []uint64, s, t uint64) uint64 {
	return x[0]*s + x[1]*t + x[2]*(s&t)
}

// weightedCross returns W(x) = sum_j 2^j x_j and the cross term sum_j 2^j x_j b_j, where
// b_j is bit j of b.
func weightedCross(x []uint64, b uint64) (wx, cross uint64) {
	if len(x) == 8 { // unrolled for the usual 8-bit results
		v0, v1, v2, v3 := x[0], x[1]<<1, x[2]<<2, x[3]<<3
		v4, v5, v6, v7 := x[4]<<4, x[5]<<5, x[6]<<6, x[7]<<7
		wx = v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7
		cross = v0&-(b&1) + v1&-(b>>1&1) + v2&-(b>>2&1) + v3&-(b>>3&1) +
			v4&-(b>>4&1) + v5&-(b>>5&1) + v6&-(b>>6&1) + v7&-(b>>7&1)
		return wx, cross
	}
	for j, v := range x {
		v <<= uint(j)
		wx += v
		cross += v & -(b >> uint(j) & 1)
	}
	return wx, cross
}

// planeValues writes into dst the w-bit values of the len(dst) elements that start at
// plane word wlo of the w planes a (XOR b unless b is nil), each of nw words.
func planeValues(dst, a, b []uint64, nw, wlo, w int) {
	var blk [64]uint64
	if w <= 8 { // the usual 8-bit results: a cheaper transpose
		var r [8]uint64
		for lo := 0; lo < len(dst); lo += 64 {
			k := wlo + lo/64
			for j := range w {
				v := a[j*nw+k]
				if b != nil {
					v ^= b[j*nw+k]
				}
				r[j] = v
			}
			ring.Transpose8x64(&r, &blk)
			copy(dst[lo:min(lo+64, len(dst))], blk[:])
		}
		return
	}
	for lo := 0; lo < len(dst); lo += 64 {
		k := wlo + lo/64
		for j := range w {
			v := a[j*nw+k]
			if b != nil {
				v ^= b[j*nw+k]
			}
			blk[j] = v
		}
		clear(blk[w:])
		ring.Transpose64(&blk)
		copy(dst[lo:min(lo+64, len(dst))], blk[:])
	}
}
