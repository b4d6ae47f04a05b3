package mpc

import (
	"fmt"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Secure lookup of a public table at a secret index: any elementwise function of an 8-bit
// activation (HARD_SWISH, LOGISTIC, TANH, ...) is a table of 256 outputs, and the
// engine evaluates it on shares with LookupTable.
//
// Construction (protocol-generic, exact, no preprocessing). The index d = x - inLo is
// converted to k binary planes (A2B of k = log2(len(table)) bits). Each bit j of the
// table's output (offset by its minimum, so w = bits(max - min) output bits) is a Boolean
// function f_j of the k index bits, written in algebraic normal form (its Reed-Muller
// expansion, the binary Moebius transform of its truth table) and split at a low/high
// cut of a + h = k bits (the positive-Davio expansion over the h high bits):
//
//	f_j(lo, hi) = XOR_{T subset of hi} hi^T AND L_{j,T}(lo),  L_{j,T} = XOR of lo-monomials
//
// The monomials lo^S (all 2^a products of subsets of the low bits) and hi^T are built by
// degree-doubling levels (degree 2, then 3..4, then 5..8: ceil(log2 a) AND rounds, all of
// them batched into one p.AND per round); every L_{j,T} is then a public XOR combination
// (local), and one more AND round multiplies the high monomials in. Cost per element:
//
//	AND gates = (2^a - a - 1) + (2^h - h - 1) + w (2^h - 1),
//	rounds    = max(ceil(log2 a), ceil(log2 h)) + 1 (+ the A2B of k bits and one B2A of w bits)
//
// and the cut is chosen to minimize the gates (then the rounds). For k = 8 and an 8-bit
// output: a = 6, 57 + 1 + 24 = 82 AND gates in 4 rounds, against 247 gates in 3 rounds
// for all 256 monomials (a = 8), 142 gates in 3 rounds for the 4+4 cut, and 256 + 247
// gates plus 256 Bit2A for the one-hot vector with a public dot product (the demux
// lookup of Launchbury, Diatchki, DuBuisson and Adams-Moran, ICFP 2012). The algebraic
// normal form and its multiplicative complexity: Boyar, Peralta and Pochuev (TCS 2000).
// Lookups with lower online cost, the one-time truth tables of Ishai, Kushilevitz,
// Meldgaard, Orlandi and Paskin-Cherniavsky (TCC 2013) and Dessouky, Koushanfar,
// Sadeghi, Schneider, Zeitouni and Zohner (NDSS 2017), or the masked-table lookups of
// Keller et al. (ACNS 2017), consume a table-sized correlation per lookup from a dealer
// or an offline phase, which not every protocol of the registry has; this block uses
// only A2B, AND and B2A, so it runs under every protocol and inherits its threat model
// (see circuit.go: the table and its cut are public, nothing is opened).

// LookupTable returns table[x - inLo] elementwise, for x holding values in [inLo,
// inLo+len(table)-1] (an int8 or uint8 activation: len(table) = 256). len(table) must be
// a power of two, 2 to 2^12; the table entries are ring elements (two's complement for
// negative values). An x outside the range gives table[(x - inLo) mod len(table)].
func LookupTable(p Protocol, x AShare, inLo int64, table []uint64) (_ AShare, err error) {
	defer guard(&err, "mpc lookuptable")
	k := bits.TrailingZeros(uint(len(table)))
	if len(table) < 2 || len(table) != 1<<k || k > 12 {
		return nil, errs.New(errs.Internal, "mpc lookuptable: table of %d entries (want a power of two, 2 to 4096)", len(table))
	}
	n := x.Len()
	// Offsets from the smallest entry (as signed values), and their width.
	lo := int64(table[0])
	for _, t := range table {
		lo = min(lo, int64(t))
	}
	var span uint64
	off := make([]uint64, len(table))
	for i, t := range table {
		off[i] = t - uint64(lo)
		span = max(span, off[i])
	}
	w := bits.Len64(span)
	if w == 0 {
		return p.Public(broadcast(uint64(lo), n)), nil
	}
	d := p.AddPublic(x, []uint64{uint64(-inLo)})
	xb, err := p.A2B(d, k)
	if err != nil {
		return nil, fmt.Errorf("mpc lookuptable: a2b: %w", err)
	}
	c := &circ{p, n}
	in := c.planes(xb)
	a := lutCut(k, w)
	h := k - a
	monoLo, monoHi := make([]bit, 1<<a), make([]bit, 1<<h)
	if err := c.monomials(in[:a], monoLo, in[a:], monoHi); err != nil {
		return nil, fmt.Errorf("mpc lookuptable: %w", err)
	}
	// anf[v] holds, in bit j, the ANF coefficient of the monomial v of output bit j.
	anf := append([]uint64(nil), off...)
	for i := range k {
		for v := range anf {
			if v>>i&1 == 1 {
				anf[v] ^= anf[v^1<<i]
			}
		}
	}
	out := make([]bit, w)
	prods := make([]bit, w<<h)
	bt := &batch{}
	for j := range w {
		for t := range 1 << h {
			l := zero
			for s := range 1 << a {
				if anf[t<<a|s]>>j&1 == 1 {
					l = c.xor(l, monoLo[s])
				}
			}
			if t == 0 {
				prods[j<<h] = l
			} else {
				bt.and(&prods[j<<h|t], monoHi[t], l)
			}
		}
	}
	if err := c.run(bt); err != nil {
		return nil, fmt.Errorf("mpc lookuptable: and: %w", err)
	}
	for j := range w {
		out[j] = zero
		for t := range 1 << h {
			out[j] = c.xor(out[j], prods[j<<h|t])
		}
	}
	y, err := p.B2A(c.join(out))
	if err != nil {
		return nil, fmt.Errorf("mpc lookuptable: b2a: %w", err)
	}
	return p.AddPublic(y, []uint64{uint64(lo)}), nil
}

// lutCut returns the number a of low index bits of LookupTable's split for k index bits
// and w output bits: the fewest AND gates, then the fewest rounds.
func lutCut(k, w int) int {
	best, bestG, bestR := k, 0, 0
	for a := k; a >= 1; a-- {
		g, r := LookupTableCost(k, w, a)
		if a == k || g < bestG || (g == bestG && r < bestR) {
			best, bestG, bestR = a, g, r
		}
	}
	return best
}

// LookupTableCost returns the AND gates per element and the AND rounds of LookupTable's
// circuit for k index bits, w output bits and a low bits (not counting the A2B and B2A).
func LookupTableCost(k, w, a int) (gates, rounds int) {
	h := k - a
	mono := func(m int) int { return 1<<m - m - 1 }
	depth := func(m int) int { return bits.Len(uint(max(m, 1) - 1)) }
	gates = mono(a) + mono(h)
	rounds = max(depth(a), depth(h))
	if h > 0 {
		gates += w * (1<<h - 1)
		rounds++
	}
	return gates, rounds
}

// monomials fills ma[S] (and mb[S]) with the AND of the bits xa[i] (xb[i]) for i in the
// set S, by degree-doubling levels: round r builds every monomial of degree in (2^(r-1),
// 2^r] as the product of its lowest 2^(r-1) bits and the rest, for both sets in the same
// p.AND call.
func (c *circ) monomials(xa []bit, ma []bit, xb []bit, mb []bit) error {
	init := func(x, m []bit) {
		m[0] = one
		for i := range x {
			m[1<<i] = x[i]
		}
	}
	init(xa, ma)
	init(xb, mb)
	maxDeg := max(len(xa), len(xb))
	for half := 1; half < maxDeg; half *= 2 {
		bt := &batch{}
		for _, m := range [][]bit{ma, mb} {
			for s := range m {
				deg := bits.OnesCount(uint(s))
				if deg <= half || deg > 2*half {
					continue
				}
				// low: the lowest `half` set bits of s.
				low, rest := 0, s
				for range half {
					b := rest & -rest
					low |= b
					rest ^= b
				}
				bt.and(&m[s], m[low], m[rest])
			}
		}
		if err := c.run(bt); err != nil {
			return err
		}
	}
	return nil
}
