package rep3

// Checked conversions: the forms of A2B and B2A that rep3 uses when an Observer is
// attached (a malicious-secure variant, NewObserved).
//
// The semi-honest conversions let one party input a value that only it can compute: in
// A2B, party 1 inputs x_1 + x_2 as a binary sharing; in B2A, party h inputs the bits of
// b_h ^ b_{h+1} as ring elements. A cheating party could input anything there, and no
// product check would notice, since the input is not a product. The checked forms follow
// ABY3's malicious conversions (Mohassel and Rindal, CCS 2018, section 5.3): they start
// from the free sharings of the components, each held by two parties, and everything
// else is a product (reported to the Observer, so the variant's check covers it) or a
// local operation:
//
//   - A2B(w): X_j, the binary sharing of component x_j (held by parties j and j-1), needs
//     no message. A full-adder layer reduces x_0 + x_1 + x_2 to S + 2C with S = X_0 ^ X_1 ^
//     X_2 (local) and C = maj(X_0, X_1, X_2) = ((X_0 ^ X_1) & (X_1 ^ X_2)) ^ X_1 (one AND,
//     w-1 planes); S and C shifted by one are the adder's operands (A2B, A2BHigh) or are
//     returned as they are (A2BSplit, whose caller adds them in its own circuit). One AND
//     round more than the semi-honest A2B, no input message.
//   - B2A(w): B_j, the arithmetic sharing of the bits of binary component b_j (element-major,
//     w ring elements per element), is free. c = b_0 ^ b_1 = B_0 + B_1 - 2t with t = B_0 B_1
//     (n*w elements) and b = sum_j 2^j (c_j + b2_j - 2 c_j b2_j), whose products are one
//     MulSum (n words), as in the semi-honest B2A. Two rounds.
//
//     t is a product that one party computes alone: party 0 holds b_0 and b_1. So t is
//     party 0's input (rep3's input: t_0 = F(k_2), drawn by parties 0 and 2, t_1 = t - t_0
//     sent to party 1, t_2 = 0) instead of rep3's Mul (where each party sends a word, two
//     of them pure zero shares), and it is reported to the Observer as the product B_0 B_1
//     with the input's claim: party 0's message t_1 is a degree-2 function of inputs its
//     two verifiers share (b_0 and t_0 held by party 2, b_1 by party 1), the form that the
//     distributed proofs of Boyle, Gilboa, Ishai and Nof (CCS 2019) check for every message
//     (b2aProduct). An input is not free of checks: a party 0 that inputs t' != b_0 b_1
//     fails that claim. Privacy: party 1 sees t_1, masked by F(k_2), which it lacks; party
//     2 receives nothing. A party that later uses another copy of t_0 or t_1 than the one
//     it drew or received makes later products and openings wrong, as for any input or
//     reshared product. With t_2 = 0, c has one component fewer (c_2 = 0), which removes
//     c_2's terms from parties 1 and 2's MulSum claims, and parties 1 and 2 send nothing
//     in the first round.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/ring"
)

// a2bCheckedOperands returns A2B's adder operands in the checked form (see above): S and
// C shifted by one plane, with S + 2C = x mod 2^w.
func (p *Protocol) a2bCheckedOperands(s *AShare, w int) (sum, carry *BShare, err error) {
	n := len(s.a)
	nw := ring.Words(n)
	l := w * nw
	// This party's components of X_j: (x_id planes, 0) for j = id, (0, x_{id+1} planes)
	// for j = id+1, zero otherwise.
	own, nxt := ring.ToPlanes(s.a, w), ring.ToPlanes(s.b, w)
	// S = X_0 ^ X_1 ^ X_2: this party's pair is (x_id, x_{id+1}) as planes.
	sum = &BShare{n, w, own, nxt}
	carry = &BShare{n, w, make([]uint64, l), make([]uint64, l)}
	if w == 1 {
		return sum, carry, nil
	}
	m := (w - 1) * nw // the carry out of the top plane is not needed
	// In each component one X_j is nonzero (j = id in the first, id+1 in the second), so
	// U = X_0 ^ X_1, V = X_1 ^ X_2 and X_1 are that component's planes or zero: no XOR,
	// and U, V share the planes of sum (nothing modifies a share once made).
	comp := func(c []uint64, j int, in ...int) []uint64 {
		for _, k := range in {
			if k == j {
				return c[:m]
			}
		}
		return p.zeroWords(m)
	}
	ja, jb := p.id, (p.id+1)%3
	u := pair{comp(own, ja, 0, 1), comp(nxt, jb, 0, 1)}
	v := pair{comp(own, ja, 1, 2), comp(nxt, jb, 1, 2)}
	ca, cb, err := p.andMany([]pair{u}, []pair{v})
	if err != nil {
		return nil, nil, err
	}
	// C = Z ^ X_1, shifted: plane k+1 of the carry share is maj plane k.
	shift := func(dst, z, c []uint64, j int) {
		if j == 1 {
			ring.Xor(dst[nw:], z, c[:m])
		} else {
			copy(dst[nw:], z)
		}
	}
	shift(carry.a, ca, own, ja)
	shift(carry.b, cb, nxt, jb)
	return sum, carry, nil
}

// b2aChecked is b2a's checked form (see above).
func (p *Protocol) b2aChecked(s *BShare) (*AShare, error) {
	n, w := s.n, s.w
	if n == 0 {
		return &AShare{a: []uint64{}, b: []uint64{}}, nil
	}
	nw := ring.Words(n)
	// Element-major bits of this party's two binary components.
	bitsOf := func(planes []uint64) []uint64 {
		vals := make([]uint64, n)
		planeValues(vals, planes, nil, nw, 0, w)
		out := make([]uint64, n*w)
		for e, v := range vals {
			for j := range w {
				out[e*w+j] = v >> uint(j) & 1
			}
		}
		return out
	}
	own, nxt := bitsOf(s.a), bitsOf(s.b)
	zero := make([]uint64, n*w)
	comp := func(j int) *AShare {
		switch (j - p.id + 3) % 3 {
		case 0:
			return &AShare{a: own, b: zero}
		case 1:
			return &AShare{a: zero, b: nxt}
		}
		return &AShare{a: zero, b: zero}
	}
	b0, b1, b2 := comp(0), comp(1), comp(2)
	var tv []uint64 // party 0's t = b0 b1 (b0 its first component, b1 its second)
	if p.id == 0 {
		tv = make([]uint64, n*w)
		for i := range tv {
			tv[i] = b0.a[i] & b1.b[i]
		}
	}
	t, err := p.b2aProduct(b0, b1, tv, zero)
	if err != nil {
		return nil, fmt.Errorf("b0 & b1: %w", err)
	}
	// c = b0 + b1 - 2t, component by component; a component that is zero in b0, b1 and
	// t (party 1's second, party 2's first) is the zero slice.
	lin := func(x, y, tt []uint64) []uint64 {
		if &x[0] == &zero[0] && &y[0] == &zero[0] && &tt[0] == &zero[0] {
			return zero
		}
		out := make([]uint64, n*w)
		for i := range out {
			out[i] = x[i] + y[i] - 2*tt[i]
		}
		return out
	}
	c := &AShare{a: lin(b0.a, b1.a, t.a), b: lin(b0.b, b1.b, t.b)}
	// u = b2 << j (bit j of each element): a component of b2 that is the zero slice stays
	// it (each party holds at most one non-zero component of b2).
	shifted := func(v []uint64) []uint64 {
		if &v[0] == &zero[0] {
			return zero
		}
		out := make([]uint64, n*w)
		for e := range n {
			for j, x := range v[e*w : (e+1)*w] {
				out[e*w+j] = x << uint(j)
			}
		}
		return out
	}
	u := &AShare{a: shifted(b2.a), b: shifted(b2.b)}
	t2, err := p.MulSum(c, u, w)
	if err != nil {
		return nil, fmt.Errorf("c . b2: %w", err)
	}
	tt := as(t2)
	z := &AShare{a: make([]uint64, n), b: make([]uint64, n)}
	for e := range n {
		var za, zb uint64
		for j := range w {
			i := e*w + j
			za += (c.a[i] + b2.a[i]) << uint(j)
			zb += (c.b[i] + b2.b[i]) << uint(j)
		}
		z.a[e] = za - 2*tt.a[e]
		z.b[e] = zb - 2*tt.b[e]
	}
	return z, nil
}

// b2aProduct is t = b0 * b1 (the bits of binary components 0 and 1, which party 0 holds
// both of) as party 0's input of tv (its t; nil at parties 1 and 2; see the file's doc):
// t_0 = F(k_2), drawn by parties 0 and 2, t_1 = t - t_0, sent by party 0 to party 1, t_2
// = 0 (this party's component that is zero is the zero slice). It is reported to the Observer as the product
// b0 * b1 with masks that make its claim, in the form of rep3's product (a MaskObserver's
// claim shares are z_B + next for the V- of party i+1's claim and -prev for the V+ of
// party i-1's), the input's: party 0 claims t_0 + t_1 = b0 b1 with shares t_0 (party 2,
// z_B) and t_1 (party 1: prev = -t_1); parties 1 and 2 claim 0, their cross terms being
// zero (party 0's V- share t_1 + next with next = -t_1, every other share 0).
func (p *Protocol) b2aProduct(b0, b1 *AShare, tv, zero []uint64) (*AShare, error) {
	n := len(zero)
	a, b, err := p.input1(0, tv, n, false)
	if err != nil {
		return nil, err
	}
	next, prev := zero, zero
	switch p.id {
	case 0:
		next = make([]uint64, n)
		ring.Sub(next, zero, b)
	case 1:
		b = zero // t_2
		prev = make([]uint64, n)
		ring.Sub(prev, zero, a)
	case 2:
		a = zero // t_2
	}
	if p.obs != nil {
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "mul"}, Pair{b0.a, b0.b}, Pair{b1.a, b1.b}, Pair{a, b})
	}
	return &AShare{a: a, b: b}, nil
}
