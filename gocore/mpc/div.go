package mpc

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Rounding division by a public divisor, as TFLite's AVERAGE_POOL computes it:
//
//	(x > 0 ? x + d/2 : x - d/2) / d     (C division, truncating toward zero; d/2 = floor)
//
// # As one floor division
//
// With d2 = floor(d/2): for x >= 0 the result is floor((x + d2)/d). For x < 0 it is
// -floor((-x + d2)/d) = ceil((x - d2)/d) = floor((x - d2 + d - 1)/d). For odd d,
// d - 1 - d2 = d2, so the result is floor((x + d2)/d) for every x. For even d, d - 1 - d2
// = d2 - 1, so with y0 = floor((x + d2)/d) the result is y0 - c where c = 1 iff x < 0 and
// d divides x + d2 (the two floors differ exactly there). If d | x + d2 then x + d2 =
// y0*d, and x < 0 <=> y0*d < d2 < d <=> y0 <= 0 (d2 >= 1 for even d). So
//
//	result = y0 - [d even] * [d | x + d2] * [y0 <= 0].
//
// # Floor division by multiplication (Granlund and Montgomery, PLDI 1994)
//
// Let n' = x + d2 + K*d with K = ceil((2^(b-1) - d2)/d) + 1, so that d <= n' <= nmax.
// Take M = ceil(2^S / d), e = M*d - 2^S (0 <= e < d) and S such that nmax*e < 2^S (S =
// N + ceil(log2(d)) with nmax < 2^N always works since e < d; the least such S is used):
// write n' = q*d + rho, 0 <= rho < d; then n'*M / 2^S = q + (rho + n'*e/2^S)/d with
// 0 <= n'*e/2^S < 1, so 0 <= rho + n'*e/2^S < rho + 1 <= d: floor(n'*M / 2^S) = q exactly.
// The fractional part (n'*M mod 2^S) / 2^S = (rho + n'*e/2^S)/d is < 1/d iff rho = 0, and
// since (n'*M mod 2^S) is an integer, rho = 0 iff (n'*M mod 2^S) < 2^S/d iff (n'*M mod
// 2^S) < M (if d does not divide 2^S, M = floor(2^S/d) + 1; otherwise M = 2^S/d). So
// with w = n'*M (< 2^64 is checked), after one A2B of w:
//
//	Q = planes [S, ...) of w = y0 + K >= 1,  [d | x + d2] = [planes [0, S) of w <= M-1],
//	[y0 <= 0] = [Q <= K],
//
// and the result is Q - c - K, with c applied as a conditional decrement (a prefix AND of
// Q's complemented planes). The exhaustive test checks every x of a 12-bit range for
// every d in [1, 300].
//
// Elements with different divisors (the border windows of a SAME-padded pool) are
// grouped by divisor; each distinct divisor is one pass (A2B, two AND rounds after the
// comparison trees, B2A).

// DivRoundPublic returns TFLite's rounding division (x > 0 ? x + d/2 : x - d/2) / d (C
// truncation) elementwise, for x in [-2^(bound-1), 2^(bound-1)) and public divisors d[i]
// >= 1 (len(d) == x.Len(), or 1 for all).
func DivRoundPublic(p Protocol, x AShare, d []int64, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc divroundpublic")
	if err := checkBound("mpc divroundpublic", bound, 62); err != nil {
		return nil, err
	}
	return divRoundPublic(p, x, d, bound, false)
}

// DivRoundPublicNonNeg is DivRoundPublic for x known to lie in [0, 2^bound) (e.g. a sum
// of uint8 values): then the result is floor((x + d/2) / d) for every d, and the even
// divisors' correction for negative x (its comparison trees and two AND rounds) is left
// out: one A2B and one B2A.
func DivRoundPublicNonNeg(p Protocol, x AShare, d []int64, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc divroundpublicnonneg")
	if err := checkBound("mpc divroundpublicnonneg", bound, 61); err != nil {
		return nil, err
	}
	// [0, 2^bound) lies in the signed range of bound+1 bits.
	return divRoundPublic(p, x, d, bound+1, true)
}

// DivRoundAverage is DivRoundPublicNonNeg for x a sum of d[i] values in [0, 2^inBits)
// (an average pool's sum; x < 2^bound as for DivRoundPublicNonNeg): then the result
// lies in [0, 2^inBits), and a protocol with arithmetic leaves (ArithLeafSplitter)
// computes it from two leaves and one product when the divisor's arithmetic takes at
// most 2*MaxLeafChunk planes (divLeaves); otherwise DivRoundPublicNonNeg's path.
func DivRoundAverage(p Protocol, x AShare, d []int64, inBits, bound int) (_ AShare, err error) {
	defer guard(&err, "mpc divroundaverage")
	if err := checkBound("mpc divroundaverage", bound, 61); err != nil {
		return nil, err
	}
	if inBits < 1 || inBits > 16 {
		return nil, errs.New(errs.Internal, "mpc divroundaverage: %d-bit inputs", inBits)
	}
	if l, ok := arithLeafSplitter(p); ok && x.Len() > 0 && (len(d) == 1 || allEqual(d)) && d[0] > 1 {
		if y, ok, err := divLeaves(p, l, x, uint64(d[0]), inBits); ok {
			if err != nil {
				return nil, fmt.Errorf("mpc divroundaverage: d=%d: %w", d[0], err)
			}
			return y, nil
		}
	}
	return divRoundPublic(p, x, d, bound+1, true)
}

func allEqual(d []int64) bool {
	for _, v := range d {
		if v != d[0] {
			return false
		}
	}
	return true
}

// divLeaves computes floor((x + d2) / d) for 0 <= x <= (2^inBits - 1) * d through
// arithmetic leaves (ArithLeafSplitter). With M, S as above for nmax = (2^inBits - 1) * d
// + d2 (no offset K: x >= 0), w = (x + d2) * M < 2^bw, and Q = floor(w / 2^S). The
// operands a + b = w mod 2^64 are split at plane l (S <= l, l <= MaxLeafChunk, bw - l <=
// MaxLeafChunk): a = a_hi 2^l + a_lo, b = v_hi 2^l + v_lo (mod 2^bw), G_lo = [a_lo + v_lo
// >= 2^l] and P_hi = [a_hi + v_hi = 2^(bw-l) - 1]. The carry out of plane bw-1 is G_hi +
// P_hi G_lo (G_hi and P_hi exclusive), so that
//
//	Q = L_lo + L_hi - 2^(bw-S) P_hi G_lo,
//	L_lo = ((a_lo + v_lo) mod 2^l) >> S + 2^(l-S) G_lo,  L_hi = 2^(l-S) ((a_hi + v_hi) mod 2^(bw-l)),
//
// four leaves (two of each chunk) and one product: the leaves' round and the product's.
// ok is false when the planes do not fit two chunks.
func divLeaves(p Protocol, l ArithLeafSplitter, x AShare, d uint64, inBits int) (AShare, bool, error) {
	d2 := d / 2
	hiN, nmax := bits.Mul64((uint64(1)<<uint(inBits))-1, d)
	if hiN != 0 || nmax+d2 < nmax {
		return nil, false, nil
	}
	nmax += d2
	var s, m uint64
	found := false
	for s = uint64(bits.Len64(d - 1)); s <= 2*MaxLeafChunk; s++ {
		m = (uint64(1)<<s + d - 1) / d
		e := m*d - uint64(1)<<s
		if hi, pl := bits.Mul64(nmax, e); hi == 0 && pl < uint64(1)<<s {
			found = true
			break
		}
	}
	if !found {
		return nil, false, nil
	}
	hi, top := bits.Mul64(nmax, m)
	bw := bits.Len64(top)
	S := int(s)
	lp := max(S, bw-MaxLeafChunk, 1)
	if hi != 0 || lp > MaxLeafChunk || lp >= bw {
		return nil, false, nil
	}
	K1, K2 := lp, bw-lp
	tab := func(K, SW int, f func(t, v uint64) uint64) []uint64 {
		out := make([]uint64, 1<<uint(SW+K))
		for t := range uint64(1) << uint(SW) {
			for v := range uint64(1) << uint(K) {
				out[t<<uint(K)+v] = f(t, v)
			}
		}
		return out
	}
	b2 := func(c bool) uint64 {
		if c {
			return 1
		}
		return 0
	}
	m1, m2 := uint64(1)<<uint(K1)-1, uint64(1)<<uint(K2)-1
	leaves := []ArithLeaf{
		{Lo: 0, K: K1, SLo: 0, SW: K1, Tab: tab(K1, K1, func(t, v uint64) uint64 {
			return ((t+v)&m1)>>uint(S) + b2(t+v > m1)<<uint(K1-S)
		})},
		{Lo: 0, K: K1, SLo: 0, SW: K1, Tab: tab(K1, K1, func(t, v uint64) uint64 { return b2(t+v > m1) })},
		{Lo: K1, K: K2, SLo: K1, SW: K2, Tab: tab(K2, K2, func(t, v uint64) uint64 { return ((t + v) & m2) << uint(K1-S) })},
		{Lo: K1, K: K2, SLo: K1, SW: K2, Tab: tab(K2, K2, func(t, v uint64) uint64 { return b2(t+v == m2) })},
	}
	w := p.MulPublic(p.AddPublic(x, []uint64{d2}), []uint64{m})
	lv, err := l.A2BSplitArithLeaves(w, bw, leaves)
	if err != nil {
		return nil, true, fmt.Errorf("arithmetic leaves of %d bits: %w", bw, err)
	}
	pg, err := p.Mul(lv[3], lv[1])
	if err != nil {
		return nil, true, fmt.Errorf("carry product: %w", err)
	}
	q := p.Add(lv[0], lv[2])
	return p.Sub(q, p.MulPublic(pg, []uint64{uint64(1) << uint(bw-S)})), true, nil
}

func divRoundPublic(p Protocol, x AShare, d []int64, bound int, nonneg bool) (_ AShare, err error) {
	n := x.Len()
	if len(d) != n && len(d) != 1 {
		return nil, errs.New(errs.Shape, "mpc divroundpublic: %d divisors for %d elements", len(d), n)
	}
	div := func(i int) int64 {
		if len(d) == 1 {
			return d[0]
		}
		return d[i]
	}
	groups := map[int64][]int32{}
	for i := range n {
		v := div(i)
		if v < 1 {
			return nil, errs.New(errs.Internal, "mpc divroundpublic: divisor %d at element %d", v, i)
		}
		groups[v] = append(groups[v], int32(i))
	}
	if len(groups) == 1 {
		y, err := divRoundGroup(p, x, uint64(div(0)), bound, nonneg)
		if err != nil {
			return nil, fmt.Errorf("mpc divroundpublic: d=%d: %w", div(0), err)
		}
		return y, nil
	}
	ds := make([]int64, 0, len(groups))
	for v := range groups {
		ds = append(ds, v)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	// Results are concatenated in divisor order, then put back in place with one Gather.
	parts := make([]AShare, 0, len(ds))
	pos := make([]int32, n)
	off := 0
	for _, v := range ds {
		idx := groups[v]
		y, err := divRoundGroup(p, p.Gather(x, idx), uint64(v), bound, nonneg)
		if err != nil {
			return nil, fmt.Errorf("mpc divroundpublic: d=%d: %w", v, err)
		}
		for k, i := range idx {
			pos[i] = int32(off + k)
		}
		off += len(idx)
		parts = append(parts, y)
	}
	return p.Gather(p.Concat(parts...), pos), nil
}

// DivRoundPublicScalar is DivRoundPublic with one divisor for all elements.
func DivRoundPublicScalar(p Protocol, x AShare, d int64, bound int) (AShare, error) {
	return DivRoundPublic(p, x, []int64{d}, bound)
}

// divParams returns the magic-number parameters of the file comment for divisor d and
// inputs of bound bits: the offset multiple K, the shift S, the multiplier M and the
// width of w = n'*M.
func divParams(d uint64, bound int) (k, s, m uint64, bw int, err error) {
	d2 := d / 2
	half := uint64(1) << uint(bound-1)
	k = (half-d2+d-1)/d + 1 // half >= d2 is not guaranteed for tiny bounds: handled below
	if d2 > half {
		k = 1
	}
	// n' max = 2^(b-1) - 1 + d2 + K*d
	hiK, loK := bits.Mul64(k, d)
	nmax, c1 := bits.Add64(half-1+d2, loK, 0)
	if hiK != 0 || c1 != 0 {
		return 0, 0, 0, 0, errs.New(errs.Internal, "divisor %d too large for %d-bit inputs", d, bound)
	}
	// The least S >= ceil(log2 d) with nmax*e < 2^S, e = M*d - 2^S (the condition of
	// the proof; S = N + ceil(log2 d) always satisfies it, smaller S often do, e.g. S =
	// log2 d with e = 0 for powers of two). w grows with S, so the least S is the best.
	var lo uint64
	found := false
	for s = uint64(bits.Len64(d - 1)); s <= 63; s++ {
		m = (uint64(1)<<s + d - 1) / d
		e := m*d - uint64(1)<<s
		if hi, pl := bits.Mul64(nmax, e); hi != 0 || pl >= uint64(1)<<s {
			continue
		}
		hi, l := bits.Mul64(nmax, m)
		if hi != 0 {
			break
		}
		lo, found = l, true
		break
	}
	if !found {
		return 0, 0, 0, 0, errs.New(errs.Internal, "divisor %d with %d-bit inputs needs more than 64 bits", d, bound)
	}
	bw = max(bits.Len64(lo), int(s)+1)
	return k, s, m, bw, nil
}

// divRoundGroup divides by one divisor; nonneg says that x >= 0 (no correction).
func divRoundGroup(p Protocol, x AShare, d uint64, bound int, nonneg bool) (AShare, error) {
	if d == 1 {
		return x, nil
	}
	k, s, m, bw, err := divParams(d, bound)
	if err != nil {
		return nil, err
	}
	d2 := d / 2
	w := p.MulPublic(p.AddPublic(x, []uint64{d2 + k*d}), []uint64{m})
	if d%2 == 1 || nonneg {
		// Q = planes [S, bw) of w, with the protocol's pruned A2B where it has one.
		qb, err := a2bHigh(p, w, bw, int(s))
		if err != nil {
			return nil, fmt.Errorf("a2b of %d bits: %w", bw, err)
		}
		y, err := p.B2A(qb)
		if err != nil {
			return nil, fmt.Errorf("b2a: %w", err)
		}
		return p.AddPublic(y, []uint64{-k}), nil
	}
	wb, err := p.A2B(w, bw)
	if err != nil {
		return nil, fmt.Errorf("a2b of %d bits: %w", bw, err)
	}
	c := &circ{p, x.Len()}
	wp := c.planes(wb)
	q := wp[s:]
	nq := make([]bit, len(q))
	for j := range q {
		nq[j] = c.not(q[j])
	}
	var divisible, small bit
	pre := newPrefixAnd(nq)
	if err := c.runAll(c.lePublic(wp[:s], m-1, &divisible), c.lePublic(q, k, &small), pre); err != nil {
		return nil, fmt.Errorf("comparisons: %w", err)
	}
	// c = divisible & small; plane j of Q flips iff c and Q's planes below j are zero.
	t := make([]bit, len(q))
	b := &batch{}
	b.and(&t[0], divisible, small)
	for j := 1; j < len(q); j++ {
		b.and(&t[j], divisible, pre.out[j-1])
	}
	if err := c.run(b); err != nil {
		return nil, fmt.Errorf("correction: %w", err)
	}
	out := make([]bit, len(q))
	out[0] = c.xor(q[0], t[0])
	b = &batch{}
	for j := 1; j < len(q); j++ {
		b.and(&t[j], t[j], small)
	}
	if err := c.run(b); err != nil {
		return nil, fmt.Errorf("decrement: %w", err)
	}
	for j := 1; j < len(q); j++ {
		out[j] = c.xor(q[j], t[j])
	}
	y, err := p.B2A(c.join(out))
	if err != nil {
		return nil, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(y, []uint64{-k}), nil
}
