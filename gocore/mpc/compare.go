package mpc

import (
	"fmt"
	"math/big"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Sign tests, exact truncation, clamping and maxima of signed arithmetic shares whose
// values are known to lie in [-2^(bound-1), 2^(bound-1)): one A2B of bound bits of
// x + 2^(bound-1) exposes every bit of x's two's complement (a2bSigned), in Z_2^k and in
// a prime field alike.

func checkBound(op string, bound, maxBound int) error {
	if bound < 1 || bound > maxBound {
		return errs.New(errs.Internal, "%s: bound %d bits not in [1,%d]", op, bound, maxBound)
	}
	return nil
}

// LTZ returns the 1-bit binary share [x < 0] of x in [-2^(bound-1), 2^(bound-1)): the sign
// plane of x's two's complement (a2bSigned).
func LTZ(p Protocol, x AShare, bound int) (_ BShare, err error) {
	defer guard(&err, "mpc ltz")
	if err := checkBound("mpc ltz", bound, 64); err != nil {
		return nil, err
	}
	b, err := a2bSigned(p, x, bound, bound-1)
	if err != nil {
		return nil, fmt.Errorf("mpc ltz: a2b: %w", err)
	}
	return b, nil
}

// TruncFloor returns floor(x / 2^m) exactly for x in [-2^(bound-1), 2^(bound-1)): A2B(x,
// bound), the planes [m, bound) are the two's complement of the quotient, then one B2A
// of bound-m planes (signedB2A: sign plane flipped, offset removed locally).
func TruncFloor(p Protocol, x AShare, m, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc truncfloor")
	if err := checkBound("mpc truncfloor", bound, 64); err != nil {
		return nil, err
	}
	if m < 0 {
		return nil, errs.New(errs.Internal, "mpc truncfloor: negative shift %d", m)
	}
	if m == 0 {
		return x, nil
	}
	b, err := a2bSigned(p, x, bound, 0)
	if err != nil {
		return nil, fmt.Errorf("mpc truncfloor: a2b: %w", err)
	}
	if m >= bound { // the quotient is 0 or -1: -[x < 0]
		s, err := p.Bit2A(p.Bits(b, bound-1, 1))
		if err != nil {
			return nil, fmt.Errorf("mpc truncfloor: bit2a: %w", err)
		}
		return p.Neg(s), nil
	}
	y, err := signedB2A(p, p.Bits(b, m, bound-m))
	if err != nil {
		return nil, fmt.Errorf("mpc truncfloor: %w", err)
	}
	return y, nil
}

// Clamp returns min(max(x, lo), hi) elementwise for x in [-2^(bound-1), 2^(bound-1)) and
// public lo <= hi: one A2B of x - lo, the comparisons [x-lo >= 0] and [x-lo <= H] (H = hi -
// lo) on the planes, a mux in at most two AND rounds, and one B2A of bits(H) planes.
func Clamp(p Protocol, x AShare, lo, hi int64, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc clamp")
	y, err := truncClamp(p, x, 0, lo, hi, bound)
	if err != nil {
		return nil, fmt.Errorf("mpc clamp: %w", err)
	}
	return y, nil
}

// TruncClamp returns clamp(floor(x / 2^m), lo, hi) elementwise for x in [-2^(bound-1),
// 2^(bound-1)), 0 <= m <= 62 and public lo <= hi, exactly, with one A2B (of x - lo*2^m)
// and one B2A of bits(hi - lo) planes: TruncFloor followed by Clamp in the cost of one.
func TruncClamp(p Protocol, x AShare, m int, lo, hi int64, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc truncclamp")
	y, err := truncClamp(p, x, m, lo, hi, bound)
	if err != nil {
		return nil, fmt.Errorf("mpc truncclamp: %w", err)
	}
	return y, nil
}

func truncClamp(p Protocol, x AShare, m int, lo, hi int64, bound int) (AShare, error) {
	if err := checkBound("range", bound, 64); err != nil {
		return nil, err
	}
	if m < 0 || m > 62 {
		return nil, errs.New(errs.Internal, "shift %d not in [0,62]", m)
	}
	if lo > hi {
		return nil, errs.New(errs.Internal, "empty range [%d,%d]", lo, hi)
	}
	n := x.Len()
	vmin := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), uint(bound-1)))
	vmax := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bound-1)), big.NewInt(1))
	qmin, qmax := floorShift(vmin, m), floorShift(vmax, m)
	blo, bhi := big.NewInt(lo), big.NewInt(hi)
	switch {
	case qmin.Cmp(blo) >= 0 && qmax.Cmp(bhi) <= 0: // already inside
		if m == 0 {
			return x, nil
		}
		return TruncFloor(p, x, m, bound)
	case lo == hi || qmax.Cmp(blo) <= 0:
		return p.Public(broadcast(uint64(lo), n)), nil
	case qmin.Cmp(bhi) >= 0:
		return p.Public(broadcast(uint64(hi), n)), nil
	}
	// y = x - lo*2^m, whose planes from m up hold q - lo.
	off := new(big.Int).Lsh(blo, uint(m))
	ymin, ymax := new(big.Int).Sub(vmin, off), new(big.Int).Sub(vmax, off)
	bw := max(signedWidth(ymin, ymax), m+1)
	bx := signedWidth(new(big.Int).Sub(qmin, blo), new(big.Int).Sub(qmax, blo))
	H := uint64(hi - lo)
	c := &circ{p, n}
	var q []bit
	if bw <= 64 {
		mod := new(big.Int).Lsh(big.NewInt(1), 64)
		yb, err := a2bSigned(p, p.AddPublic(x, []uint64{new(big.Int).Mod(new(big.Int).Neg(off), mod).Uint64()}), bw, 0)
		if err != nil {
			return nil, fmt.Errorf("a2b: %w", err)
		}
		for j := m; j < bw; j++ {
			q = append(q, bit{s: p.Bits(yb, j, 1)})
		}
	} else {
		// x - lo*2^m does not fit 64 bits: subtract lo from the quotient in binary.
		xb, err := a2bSigned(p, x, bound, 0)
		if err != nil {
			return nil, fmt.Errorf("a2b: %w", err)
		}
		sign := bit{s: p.Bits(xb, bound-1, 1)}
		for j := m; j < m+bx; j++ {
			if j < bound {
				q = append(q, bit{s: p.Bits(xb, j, 1)})
			} else {
				q = append(q, sign)
			}
		}
		if q, err = c.addBits(q, constBitsBig(new(big.Int).Neg(blo), bx), false); err != nil {
			return nil, fmt.Errorf("subtract lo: %w", err)
		}
	}
	out, err := clampBits(c, q, H, nil, -1)
	if err != nil {
		return nil, err
	}
	a, err := p.B2A(c.join(out))
	if err != nil {
		return nil, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(a, []uint64{uint64(lo)}), nil
}

// lessMask returns the arithmetic 0/1 share of [a < b] and d = b - a, for a and b in
// [-2^(bound-1), 2^(bound-1)): the sign of a - b (bound+1 bits) and one Bit2A.
func lessMask(p Protocol, a, b AShare, bound int) (s, d AShare, err error) {
	sb, err := LTZ(p, p.Sub(a, b), bound+1)
	if err != nil {
		return nil, nil, err
	}
	s, err = p.Bit2A(sb)
	if err != nil {
		return nil, nil, fmt.Errorf("bit2a: %w", err)
	}
	return s, p.Sub(b, a), nil
}

// Max returns max(a, b) elementwise for a, b in [-2^(bound-1), 2^(bound-1)), bound <= 63:
// s = [a < b] (A2B of a - b, one Bit2A), then a + s*(b - a) (one multiplication).
func Max(p Protocol, a, b AShare, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc max")
	if err := checkBound("mpc max", bound, 63); err != nil {
		return nil, err
	}
	if a.Len() != b.Len() {
		return nil, errs.New(errs.Shape, "mpc max: lengths %d and %d", a.Len(), b.Len())
	}
	s, d, err := lessMask(p, a, b, bound)
	if err != nil {
		return nil, fmt.Errorf("mpc max: %w", err)
	}
	t, err := p.Mul(s, d)
	if err != nil {
		return nil, fmt.Errorf("mpc max: mul: %w", err)
	}
	return p.Add(a, t), nil
}

// tournament describes one level of a pairwise reduction over consecutive groups: the
// positions of the left and right operands, and where the winners and the odd leftovers
// go in the next level (indices into Concat(winners, current)).
type tournament struct {
	left, right []int32
	next        []int32
	size        int // group size after the level
}

func newTournament(groups, k int) tournament {
	half, odd := k/2, k%2
	t := tournament{size: half + odd}
	for g := range groups {
		for j := range half {
			t.left = append(t.left, int32(g*k+2*j))
			t.right = append(t.right, int32(g*k+2*j+1))
		}
	}
	nw := groups * half
	for g := range groups {
		for j := range half {
			t.next = append(t.next, int32(g*half+j))
		}
		if odd == 1 {
			t.next = append(t.next, int32(nw+g*k+k-1))
		}
	}
	return t
}

func checkGroups(op string, n, k int) error {
	if k < 1 || n%k != 0 {
		return errs.New(errs.Shape, "%s: %d elements are not groups of %d", op, n, k)
	}
	return nil
}

// MaxGroups returns the maximum of each group of k consecutive elements (MAX_POOL after
// gathering windows into groups), for values in [-2^(bound-1), 2^(bound-1)), bound <= 63:
// a tournament of ceil(log2(k)) levels, each one batched Max over all pairs.
func MaxGroups(p Protocol, x AShare, k int, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc maxgroups")
	if err := checkBound("mpc maxgroups", bound, 63); err != nil {
		return nil, err
	}
	if err := checkGroups("mpc maxgroups", x.Len(), k); err != nil {
		return nil, err
	}
	groups := x.Len() / k
	for level := 0; k > 1; level++ {
		t := newTournament(groups, k)
		m, err := Max(p, p.Gather(x, t.left), p.Gather(x, t.right), bound)
		if err != nil {
			return nil, fmt.Errorf("mpc maxgroups: level %d: %w", level, err)
		}
		x = p.Gather(p.Concat(m, x), t.next)
		k = t.size
	}
	return x, nil
}

// Argmax returns, for each group of `classes` consecutive elements with values in
// [-2^(bound-1), 2^(bound-1)), bound <= 63, the arithmetic share of the index of the
// maximum within the group, the first index on ties (as numpy.argmax). A tournament of
// (value, index) pairs: the right operand replaces the left only if strictly greater,
// and left operands always hold the lower indices, so ties keep the lower index. Each of
// the ceil(log2(classes)) levels is one A2B of bound+1 bits, one Bit2A and one batched
// multiplication (the first level needs none for the index: it is 2j + s).
func Argmax(p Protocol, x AShare, classes int, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc argmax")
	if err := checkBound("mpc argmax", bound, 63); err != nil {
		return nil, err
	}
	if err := checkGroups("mpc argmax", x.Len(), classes); err != nil {
		return nil, err
	}
	groups := x.Len() / classes
	idxVals := make([]uint64, x.Len())
	for i := range idxVals {
		idxVals[i] = uint64(i % classes)
	}
	idx := p.Public(idxVals)
	k := classes
	for level := 0; k > 1; level++ {
		t := newTournament(groups, k)
		a, b := p.Gather(x, t.left), p.Gather(x, t.right)
		s, d, err := lessMask(p, a, b, bound)
		if err != nil {
			return nil, fmt.Errorf("mpc argmax: level %d: %w", level, err)
		}
		ia, ib := p.Gather(idx, t.left), p.Gather(idx, t.right)
		var newV, newI AShare
		if level == 0 {
			// indices are public and ib - ia = 1
			dv, err := p.Mul(s, d)
			if err != nil {
				return nil, fmt.Errorf("mpc argmax: level %d: mul: %w", level, err)
			}
			newV, newI = p.Add(a, dv), p.Add(ia, s)
		} else {
			m := s.Len()
			prod, err := p.Mul(p.Concat(s, s), p.Concat(d, p.Sub(ib, ia)))
			if err != nil {
				return nil, fmt.Errorf("mpc argmax: level %d: mul: %w", level, err)
			}
			lo, hi := make([]int32, m), make([]int32, m)
			for i := range m {
				lo[i], hi[i] = int32(i), int32(m+i)
			}
			newV, newI = p.Add(a, p.Gather(prod, lo)), p.Add(ia, p.Gather(prod, hi))
		}
		x = p.Gather(p.Concat(newV, x), t.next)
		idx = p.Gather(p.Concat(newI, idx), t.next)
		k = t.size
	}
	return idx, nil
}
