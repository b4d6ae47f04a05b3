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
//     w ring elements per element), is free. c = b_0 ^ b_1 = B_0 + B_1 - 2 B_0 B_1 (one Mul
//     of n*w elements) and b = sum_j 2^j (c_j + b2_j - 2 c_j b2_j), whose products are one
//     MulSum (n words), as in the semi-honest B2A. Two rounds.

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
	zero := make([]uint64, l)
	comp := func(j int) pair {
		switch (j - p.id + 3) % 3 {
		case 0:
			return pair{own, zero}
		case 1:
			return pair{zero, nxt}
		}
		return pair{zero, zero}
	}
	x0, x1, x2 := comp(0), comp(1), comp(2)
	// S = X_0 ^ X_1 ^ X_2: this party's pair is (x_id, x_{id+1}) as planes.
	sum = &BShare{n, w, own, nxt}
	carry = &BShare{n, w, make([]uint64, l), make([]uint64, l)}
	if w == 1 {
		return sum, carry, nil
	}
	m := (w - 1) * nw // the carry out of the top plane is not needed
	u := pair{make([]uint64, m), make([]uint64, m)}
	v := pair{make([]uint64, m), make([]uint64, m)}
	ring.Xor(u.a, x0.a[:m], x1.a[:m])
	ring.Xor(u.b, x0.b[:m], x1.b[:m])
	ring.Xor(v.a, x1.a[:m], x2.a[:m])
	ring.Xor(v.b, x1.b[:m], x2.b[:m])
	ca, cb, err := p.andMany([]pair{u}, []pair{v})
	if err != nil {
		return nil, nil, err
	}
	// C << 1: plane k+1 of the carry share is maj plane k.
	ring.Xor(carry.a[nw:], ca, x1.a[:m])
	ring.Xor(carry.b[nw:], cb, x1.b[:m])
	return sum, carry, nil
}

// b2aChecked is b2a's checked form (see above).
func (p *Protocol) b2aChecked(s *BShare) (*AShare, error) {
	n, w := s.n, s.w
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
	t1, err := p.Mul(b0, b1)
	if err != nil {
		return nil, fmt.Errorf("b0 & b1: %w", err)
	}
	t := as(t1)
	c := &AShare{a: make([]uint64, n*w), b: make([]uint64, n*w)}
	u := &AShare{a: make([]uint64, n*w), b: make([]uint64, n*w)}
	for i := range c.a {
		c.a[i] = b0.a[i] + b1.a[i] - 2*t.a[i]
		c.b[i] = b0.b[i] + b1.b[i] - 2*t.b[i]
		sh := uint(i % w)
		u.a[i] = b2.a[i] << sh
		u.b[i] = b2.b[i] << sh
	}
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
