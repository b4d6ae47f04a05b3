package rep3

// The checked B2A by a binary adder: ABY3's bit composition (Mohassel and Rindal, "ABY3:
// A Mixed Protocol Framework for Machine Learning", CCS 2018, section 5.3, "Bit
// Composition"), the form a checked variant selects with SetAdderB2A. Threat model: that
// of the checked forms (convert_checked.go): one malicious party; every AND word is
// reported to the Observer, whose check (the variant's proofs) covers it, and the one
// opening is reported as an opening, whose consistency the variant checks (rep3-mal: the
// holders' hashes).
//
// For a w-bit binary sharing [x] (components b_0 ^ b_1 ^ b_2), the result's arithmetic
// components 1 and 2 are random: r_1 = F(k_0), drawn by parties 1 and 0, and r_2 =
// F(k_1), drawn by parties 2 and 1 (Rand; component 0's draws are dropped). Their
// negations are free binary sharings, -r_1 as component 1 and -r_2 as component 2 (each
// known to the two parties that drew it), and
//
//	y = x + (-r_1) + (-r_2) mod 2^64
//
// is computed in binary on 64 planes (x zero-extended): a full-adder layer reduces the
// three operands to S + 2C with S = X ^ R_1 ^ R_2 (local) and C = ((X ^ R_1) & (R_1 ^
// R_2)) ^ R_1 (one AND round, 63 planes), then a ripple-carry adder takes S + (C << 1)
// with the majority trick k_{j+1} = k_j ^ ((A_j ^ k_j) & (B_j ^ k_j)) (one AND word per
// plane and round, 62 rounds; k_1 = 0 since plane 0 of C << 1 is zero): 125 AND gates
// per element and no arithmetic product. [y] (binary) is opened to parties 0 and 2, the
// holders of component 0, in one round: party 2 sends its first component to party 0,
// party 1 its first to party 2 (rep3's open to one party, twice). The result is the
// arithmetic sharing (y, r_1, r_2): party 0 holds (y, r_1), party 1 (r_1, r_2), party 2
// (r_2, y). 64 rounds, one opened word of 64 planes per element to each of parties 0 and 2
// (8 bytes per element from each of parties 1 and 2) besides the AND words' reshares.
//
// Privacy: party 1 receives nothing it lacks of y; party 0 sees y = x - r_1 - r_2 with r_2
// (drawn by parties 1 and 2) unknown to it, party 2 likewise with r_1: y is uniform to
// each, also with errors it added to its AND words (or to its components of their
// inputs), which the proofs catch only after the opening. Why, for party 0 (party 2 is
// symmetric with r_1): a deviation of party 0 (a changed reshare, or its components of an
// AND's inputs used inconsistently) changes that AND's output by bits that depend only on
// its choices and on what the AND's inputs depend on, and so the carries. Plane m of the
// opened y' is S_m ^ C_{m-1} ^ k_m with S_m = x_m ^ r_1_m ^ r_2_m, and every carry
// C_{m-1}, k_m (altered or not) is a function of x, r_1, party 0's choices and the planes
// of r_2 BELOW m only (full-adder layer: plane m-1; ripple: planes below m). So for fixed x, r_1 and errors, y'_m = r_2_m ^
// f_m(r_2's planes below m): the map r_2 -> y' is triangular with a bijective diagonal,
// hence a bijection of Z_2^64, and y' is uniform whatever x is. A changed opening message
// is caught by the holders' hash comparison before anything else is revealed. The AND words and the opening are checked before
// anything derived from them leaves the parties (rep3-mal's Open, OpenB and exports run
// the check first), as ABY3 checks its triples before outputs.
//
// Against convert_checked.go's B2A (8 products t = b_0 b_1 and a MulSum of 8 terms per
// 8-bit element, proven in the ring) it trades two rounds for 64 and the arithmetic
// products for AND gates, which the variant proves 64 to a GF(2^64) element: cheaper for
// w >= 2 by the cost model of rep3-mal (docs/design-notes.md, issue 9, session 12).

import (
	"github.com/qmpc/qmpc/gocore/ring"
)

// adderPlanes is the ring's width: the adder works mod 2^64.
const adderPlanes = 64

// SetAdderB2A selects the checked B2A's form for widths of at least minWidth bits
// (mpc.B2A; Bit2A keeps the product form): ABY3's bit composition by an adder
// (convert_adder.go) if minWidth > 0, the products of convert_checked.go otherwise. A
// checked variant calls it before the first conversion; all three parties must choose
// alike.
func (p *Protocol) SetAdderB2A(minWidth int) { p.adderB2A = minWidth }

// b2aAdder is the checked B2A by ABY3's adder (see above). A component of -r_1 or -r_2
// that this party knows to be zero is nil here, and the XORs with it are skipped: V = R_1 ^
// R_2 is only the known components, S = U ^ R_2 and C = Z ^ R_1 share U's and Z's slices
// where R_2's or R_1's component is zero (nothing here modifies a slice once made, so an
// Observer may keep any of them), and B = C << 1 is read as C's planes one lower.
func (p *Protocol) b2aAdder(s *BShare) (*AShare, error) {
	p.hold(true) // the vectors below (not y, which is sent) are the Observer's scratch
	defer p.hold(false)
	n, w := s.n, s.w
	nw := ring.Words(n)
	l := adderPlanes * nw
	m := (adderPlanes - 1) * nw // the full-adder layer's planes (no carry out of the top)
	plane := func(v []uint64, j int) []uint64 { return v[j*nw : (j+1)*nw] }
	// r: this party's components (r_id, r_{id+1}) of a random sharing; r_1 and r_2 are
	// kept, r_0 is dropped (its two drawers, parties 0 and 2, advance their stream alike).
	r := p.Rand(n)
	negPlanes := func(v []uint64) []uint64 {
		neg := p.scratch(n)
		ring.Neg(neg, v)
		planes := p.scratch(l)
		ring.ToPlanesTo(planes, neg, adderPlanes)
		return planes
	}
	var r1, r2 pair // this party's components of -r_1 and -r_2 (nil: zero)
	switch p.id {
	case 0: // holds components 0 and 1
		r1.b = negPlanes(r.B)
	case 1: // components 1 and 2
		r1.a, r2.b = negPlanes(r.A), negPlanes(r.B)
	case 2: // components 2 and 0
		r2.a = negPlanes(r.A)
	}
	// U = X ^ R_1, X being x zero-extended to 64 planes.
	xw := w * nw
	extend := func(x, r []uint64) []uint64 {
		u := p.scratch(l)
		if r == nil {
			copy(u, x[:xw])
			clear(u[xw:])
			return u
		}
		ring.Xor(u[:xw], x[:xw], r[:xw])
		copy(u[xw:], r[xw:])
		return u
	}
	u := pair{extend(s.a, r1.a), extend(s.b, r1.b)}
	// V = R_1 ^ R_2: in each component at most one of the two is nonzero (see the switch).
	either := func(r1, r2 []uint64) []uint64 {
		switch {
		case r1 != nil:
			return r1[:m]
		case r2 != nil:
			return r2[:m]
		}
		return p.zeroWords(m)
	}
	v := pair{either(r1.a, r2.a), either(r1.b, r2.b)}
	// Full-adder layer: S = U ^ R_2, C = (U & V) ^ R_1 on the planes below the top.
	za, zb, err := p.andMany([]pair{{u.a[:m], u.b[:m]}}, []pair{v})
	if err != nil {
		return nil, err
	}
	xorOr := func(x, r []uint64, k int) []uint64 { // x ^ r[:k], or x if r is zero
		if r == nil {
			return x
		}
		d := p.scratch(k)
		ring.Xor(d, x, r[:k])
		return d
	}
	a := pair{xorOr(u.a, r2.a, l), xorOr(u.b, r2.b, l)} // A = S
	c := pair{xorOr(za, r1.a, m), xorOr(zb, r1.b, m)}   // B = C << 1: B_j = C_{j-1}, B_0 = 0
	// Ripple: y_j = A_j ^ B_j ^ k_j = A_j ^ h_j; k_1 = 0, k_{j+1} = k_j ^ (g_j & h_j) with
	// g_j = A_j ^ k_j, h_j = B_j ^ k_j (fresh slices from gh from round 2: the Observer
	// keeps each round's); y_0 = A_0 and y_63 = A_63 ^ B_63 ^ k_63.
	xor := func(dst, a, b pair) {
		ring.Xor(dst.a, a.a, b.a)
		ring.Xor(dst.b, a.b, b.b)
	}
	y := pair{make([]uint64, l), make([]uint64, l)}
	copy(plane(y.a, 0), plane(a.a, 0))
	copy(plane(y.b, 0), plane(a.b, 0))
	k := pair{make([]uint64, nw), make([]uint64, nw)}
	gh := p.scratch(4 * (adderPlanes - 3) * nw) // every plane written by xor before use
	for j := 1; j < adderPlanes-1; j++ {
		aj, bj := pair{plane(a.a, j), plane(a.b, j)}, pair{plane(c.a, j-1), plane(c.b, j-1)}
		g, h := aj, bj // k_1 = 0
		if j > 1 {
			q := 4 * (j - 2)
			g = pair{plane(gh, q), plane(gh, q+1)}
			h = pair{plane(gh, q+2), plane(gh, q+3)}
			xor(g, aj, k)
			xor(h, bj, k)
		}
		xor(pair{plane(y.a, j), plane(y.b, j)}, aj, h)
		za, zb, err := p.andMany([]pair{g}, []pair{h})
		if err != nil {
			return nil, err
		}
		ring.Xor(k.a, k.a, za) // k is this function's own: the Observer never sees it
		ring.Xor(k.b, k.b, zb)
	}
	top := adderPlanes - 1
	yt := pair{plane(y.a, top), plane(y.b, top)}
	xor(yt, pair{plane(a.a, top), plane(a.b, top)}, pair{plane(c.a, top-1), plane(c.b, top-1)})
	xor(yt, yt, k)
	// Open y to parties 0 and 2 (one round: party 2 sends to 0, party 1 to 2).
	var yv []uint64
	for _, to := range []int{0, 2} {
		got, err := p.open(y.a, y.b, to, true)
		if err != nil {
			return nil, err
		}
		if got != nil {
			yv = ring.FromPlanes(got, n, adderPlanes)
		}
	}
	switch p.id {
	case 0:
		return &AShare{a: yv, b: r.B}, nil
	case 1:
		return &AShare{a: r.A, b: r.B}, nil
	}
	return &AShare{a: r.A, b: yv}, nil
}
