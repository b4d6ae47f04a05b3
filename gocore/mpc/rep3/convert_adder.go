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

// b2aAdder is the checked B2A by ABY3's adder (see above).
func (p *Protocol) b2aAdder(s *BShare) (*AShare, error) {
	n, w := s.n, s.w
	nw := ring.Words(n)
	l := adderPlanes * nw
	plane := func(v []uint64, j int) []uint64 { return v[j*nw : (j+1)*nw] }
	// r: this party's components (r_id, r_{id+1}) of a random sharing; r_1 and r_2 are
	// kept, r_0 is dropped (its two drawers, parties 0 and 2, advance their stream alike).
	r := p.Rand(n)
	negPlanes := func(v []uint64) []uint64 {
		neg := make([]uint64, n)
		ring.Sub(neg, neg, v)
		return ring.ToPlanes(neg, adderPlanes)
	}
	zero := make([]uint64, l)
	var r1, r2 pair // this party's components of the binary sharings of -r_1 and -r_2
	switch p.id {
	case 0: // holds components 0 and 1
		r1, r2 = pair{zero, negPlanes(r.B)}, pair{zero, zero}
	case 1: // components 1 and 2
		r1, r2 = pair{negPlanes(r.A), zero}, pair{zero, negPlanes(r.B)}
	case 2: // components 2 and 0
		r1, r2 = pair{zero, zero}, pair{negPlanes(r.A), zero}
	}
	// X: x zero-extended to 64 planes.
	x := pair{make([]uint64, l), make([]uint64, l)}
	copy(x.a, s.a[:w*nw])
	copy(x.b, s.b[:w*nw])
	// Full-adder layer: S = X ^ R_1 ^ R_2, C = ((X ^ R_1) & (R_1 ^ R_2)) ^ R_1 on the
	// planes below the top (the carry out of plane 63 is not needed).
	xor := func(dst, a, b pair) {
		ring.Xor(dst.a, a.a, b.a)
		ring.Xor(dst.b, a.b, b.b)
	}
	m := (adderPlanes - 1) * nw
	u := pair{make([]uint64, l), make([]uint64, l)}
	v := pair{make([]uint64, l), make([]uint64, l)}
	xor(u, x, r1)
	xor(v, r1, r2)
	ca, cb, err := p.andMany([]pair{{u.a[:m], u.b[:m]}}, []pair{{v.a[:m], v.b[:m]}})
	if err != nil {
		return nil, err
	}
	// A = S (into x, which the Observer has not seen), B = C << 1 (plane j+1 is maj
	// plane j; plane 0 is zero; u and v are the Observer's now).
	xor(x, u, r2)
	a, b := x, pair{make([]uint64, l), make([]uint64, l)}
	ring.Xor(b.a[nw:], ca, r1.a[:m])
	ring.Xor(b.b[nw:], cb, r1.b[:m])
	// Ripple: y_j = A_j ^ B_j ^ k_j; k_1 = 0, k_{j+1} = k_j ^ ((A_j ^ k_j) & (B_j ^ k_j)).
	y := pair{make([]uint64, l), make([]uint64, l)}
	xor(y, a, b)
	k := pair{make([]uint64, nw), make([]uint64, nw)}
	g := pair{make([]uint64, nw), make([]uint64, nw)}
	h := pair{make([]uint64, nw), make([]uint64, nw)}
	for j := 1; j < adderPlanes-1; j++ {
		aj, bj := pair{plane(a.a, j), plane(a.b, j)}, pair{plane(b.a, j), plane(b.b, j)}
		xor(g, aj, k)
		xor(h, bj, k)
		za, zb, err := p.andMany([]pair{g}, []pair{h})
		if err != nil {
			return nil, err
		}
		// k_{j+1} = k_j ^ (g & h), into fresh slices: g and h are the Observer's now.
		nk := pair{make([]uint64, nw), make([]uint64, nw)}
		ring.Xor(nk.a, k.a, za)
		ring.Xor(nk.b, k.b, zb)
		k = nk
		yj := pair{plane(y.a, j+1), plane(y.b, j+1)}
		xor(yj, yj, k)
		if j+1 < adderPlanes-1 {
			g = pair{make([]uint64, nw), make([]uint64, nw)}
			h = pair{make([]uint64, nw), make([]uint64, nw)}
		}
	}
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
