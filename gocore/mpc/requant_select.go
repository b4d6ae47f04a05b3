package mpc

import (
	"fmt"
	"math/big"
)

// PublicMasker is an optional Protocol extension: AND every plane of a binary share with
// a public per-element bit mask, locally. Every XOR-based sharing can do it (each
// component is masked: (a&m) ^ (b&m) ^ (c&m) = (a^b^c)&m), with no message.
//
// Requantization with per-channel shifts uses it to read each element's quotient at its
// own plane (per-element plane selection) instead of aligning all elements to the largest
// shift, which needs wider intermediates and, with 32-bit accumulator bounds, splits a
// layer into several sequential passes (windows, about three times the rounds). Protocols
// without it get the windows; the results are the same.
type PublicMasker interface {
	// MaskB returns x with every plane ANDed with mask: ring.Words(x.Len()) words, bit
	// i%64 of word i/64 for element i (the layout of one plane). Local.
	MaskB(x BShare, mask []uint64) BShare
}

// egroup is the set of channels of one quotient plane e, with the signed width bq of
// their quotients (as the circuit needs them: with g folded in, or with room for the
// decrement) and the element mask.
type egroup struct {
	e    int
	bq   int
	mask []uint64
}

// selectPass requantizes all elements in one A2B with per-element plane selection (see
// PublicMasker). ok is false when the protocol lacks MaskB, when all elements share one
// quotient plane (the aligned pass is the same thing then), or when even unaligned
// intermediates exceed 64 bits.
func (rq *requantizer) selectPass(acc AShare) (y AShare, ok bool, err error) {
	pm, isPM := Ext[PublicMasker](rq.p)
	if !isPM || rq.n == 0 {
		return nil, false, nil
	}
	es := map[int]int{} // e -> group index
	var groups []egroup
	used := make([]bool, len(rq.chans))
	for i := range rq.n {
		used[rq.chanOf(i)] = true
	}
	type rng struct{ lo, hi *big.Int }
	qr := map[int]*rng{}
	for c, cp := range rq.chans {
		if !used[c] {
			continue
		}
		if _, seen := es[cp.e]; !seen {
			es[cp.e] = len(groups)
			groups = append(groups, egroup{e: cp.e})
			qr[cp.e] = &rng{}
		}
		r := qr[cp.e]
		a, b := floorShift(cp.wmin, cp.e), floorShift(cp.wmax, cp.e)
		if r.lo == nil || a.Cmp(r.lo) < 0 {
			r.lo = a
		}
		if r.hi == nil || b.Cmp(r.hi) > 0 {
			r.hi = b
		}
	}
	if len(groups) < 2 {
		return nil, false, nil
	}
	// Widths: bx planes for the circuit, group d's quotient occupies [e_d, e_d + bq_d).
	g := big.NewInt(rq.g)
	layout := func(fold bool) (bx, bw int) {
		for d := range groups {
			r := qr[groups[d].e]
			lo, hi := new(big.Int).Set(r.lo), new(big.Int).Set(r.hi)
			var bq, bxd int
			switch {
			case !rq.clamp:
				lo.Sub(lo, big.NewInt(1)) // room for the decrement
				bq = signedWidth(lo, hi)
				bxd = bq
			case fold:
				bq = signedWidth(lo.Add(lo, g), hi.Add(hi, g))
				bxd = bq
			default:
				bq = signedWidth(lo, hi)
				bxd = signedWidth(new(big.Int).Add(lo, g), new(big.Int).Add(hi, g))
			}
			groups[d].bq = bq
			bx = max(bx, bxd)
			bw = max(bw, groups[d].e+bq)
		}
		return bx, bw
	}
	fold := true
	bx, bw := layout(true)
	if bw > 64 && rq.clamp {
		fold = false
		bx, bw = layout(false)
	}
	if bw > 64 {
		return nil, false, nil
	}
	p := rq.p
	n := rq.n
	nw := (n + 63) / 64
	for d := range groups {
		groups[d].mask = make([]uint64, nw)
	}
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	type al struct{ mul, add uint64 }
	als := make([]al, len(rq.chans))
	for c, cp := range rq.chans {
		if !used[c] {
			continue
		}
		a := new(big.Int).Set(cp.add)
		if rq.clamp && fold {
			a.Add(a, new(big.Int).Lsh(g, uint(cp.e)))
		}
		als[c] = al{cp.mul, a.Mod(a, mod).Uint64()}
	}
	mulV, addV := make([]uint64, n), make([]uint64, n)
	for i := range n {
		ch := rq.chanOf(i)
		mulV[i], addV[i] = als[ch].mul, als[ch].add
		d := es[rq.chans[ch].e]
		groups[d].mask[i>>6] |= 1 << uint(i&63)
	}
	// The lowest plane read: a group's quotient plane or a used channel's tie plane.
	base := bw - 1
	for _, gr := range groups {
		base = min(base, gr.e)
	}
	for c, cp := range rq.chans {
		if used[c] && cp.tie >= 0 {
			base = min(base, cp.tie)
		}
	}
	wb, err := a2bSigned(p, p.AddPublic(p.MulPublic(acc, mulV), addV), bw, base) // planes [base, bw)
	if err != nil {
		return nil, true, fmt.Errorf("a2b of %d bits: %w", bw, err)
	}
	c := &circ{p, n}
	planes := map[int]BShare{}
	plane := func(j int) BShare {
		if s, ok := planes[j]; ok {
			return s
		}
		s := p.Bits(wb, j-base, 1) // panics (a bug) if j < base
		planes[j] = s
		return s
	}
	// x_j = XOR over groups of (plane e_d + min(j, bq_d - 1)) masked to the group.
	width := bx
	if rq.clamp && !fold {
		width = 0
		for _, gr := range groups {
			width = max(width, gr.bq)
		}
	}
	x := make([]bit, width)
	for j := range width {
		var acc BShare
		for _, gr := range groups {
			m := pm.MaskB(plane(gr.e+min(j, gr.bq-1)), gr.mask)
			if acc == nil {
				acc = m
			} else {
				acc = p.XOR(acc, m)
			}
		}
		x[j] = bit{s: acc}
	}
	if rq.clamp && !fold {
		for len(x) < bx {
			x = append(x, x[len(x)-1])
		}
		if x, err = c.addBits(x, constBits(uint64(rq.g), bx), false); err != nil {
			return nil, true, fmt.Errorf("zero point: %w", err)
		}
	}
	var tie []bit
	if !rq.clamp || rq.corrK() >= 0 {
		tie = rq.selectTieLeaves(c, pm, plane, x)
	}
	if rq.clamp {
		y, err = rq.finishClamp(c, x, tie)
	} else {
		y, err = rq.finishSigned(c, x, tie)
	}
	return y, true, err
}

// selectTieLeaves returns the tie leaves for unaligned elements: plane j is a leaf of
// element i when tie_i <= j < e_i, masked out (leaf 1) for the others; elements without a
// tie get a 0 leaf by masking the first leaf; for round-half-even q's parity is a leaf.
func (rq *requantizer) selectTieLeaves(c *circ, pm PublicMasker, plane func(int) BShare, x []bit) []bit {
	n := rq.n
	nw := (n + 63) / 64
	lo, hi := 64, -1
	for _, cp := range rq.chans {
		if cp.tie >= 0 {
			lo, hi = min(lo, cp.tie), max(hi, cp.e)
		}
	}
	if hi < 0 {
		return nil
	}
	// Element masks per distinct (tie, e) pair, and of the elements that can tie.
	type te struct{ tie, e int }
	pairs := map[te][]uint64{}
	allowed := make([]uint64, nw)
	allTie := true
	for i := range n {
		cp := &rq.chans[rq.chanOf(i)]
		if cp.tie < 0 {
			allTie = false
			continue
		}
		k := te{cp.tie, cp.e}
		m := pairs[k]
		if m == nil {
			m = make([]uint64, nw)
			pairs[k] = m
		}
		m[i>>6] |= 1 << uint(i&63)
		allowed[i>>6] |= 1 << uint(i&63)
	}
	var leaves []bit
	for j := lo; j < hi; j++ {
		var m []uint64
		for k, pairMask := range pairs {
			if k.tie <= j && j < k.e {
				if m == nil {
					m = make([]uint64, nw)
				}
				for w := range m {
					m[w] |= pairMask[w]
				}
			}
		}
		if m == nil {
			continue
		}
		leaves = append(leaves, c.not(bit{s: pm.MaskB(plane(j), m)}))
	}
	if !allTie {
		leaves[0] = bit{s: pm.MaskB(leaves[0].s, allowed)}
	}
	if rq.halfEven {
		leaves = append(leaves, c.xor(x[0], bit{v: rq.clamp && rq.g&1 == 1}))
	}
	return leaves
}
