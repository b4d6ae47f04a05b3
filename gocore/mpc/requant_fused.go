package mpc

import (
	"fmt"
	"math/big"
)

// A2BSplitter is an optional Protocol extension: the two binary operands of the
// protocol's A2B, before the adder. A2BSplit returns w-bit binary shares a and b with a +
// b = x mod 2^w, made from the parties' arithmetic shares by inputs only (no AND gate).
// In rep3, a is the component x_0 (known to parties 0 and 2, a free sharing) and b is x_1
// + x_2, input by party 1: the messages of the first round of rep3's A2B.
//
// Requantization uses it to fuse the adder with the clamp (fusedPass): one circuit from
// the operands to the clamped output bits, whose depth is that of its longest path, not
// the adder's depth plus the clamp's. Protocols whose AND gates cost more than their
// rounds (two-party, from OT) do without it: the fused circuit has about as many gates
// as the A2B and clamp it replaces, but spread differently.
type A2BSplitter interface {
	A2BSplit(x AShare, w int) (a, b BShare, err error)
}

// FewANDer is an optional Protocol extension for protocols whose AND gates cost more
// than their rounds: rep3-mal proves every AND word it sends, so its CPU per inference
// follows the number of AND gates, while a round in one process costs little. When
// FewANDs reports true, fusedPass builds its adder-and-clamp circuit with the fewest AND
// gates (rippleClampCircuit: a ripple-carry adder, one AND per plane) instead of the
// least depth (clampCircuit): for TFLite's 63-bit operands about 88 AND gates per element
// instead of about 355, in about 65 AND rounds instead of 7.
type FewANDer interface {
	FewANDs() bool
}

// fewANDs reports whether p asks for circuits with the fewest AND gates (FewANDer).
func fewANDs(p Protocol) bool {
	f, ok := Ext[FewANDer](p)
	return ok && f.FewANDs()
}

// fusedPass requantizes all elements with the clamp in one circuit over the A2B's
// operands, when the protocol implements A2BSplitter and the layer is of the usual form:
// H = actMax - actMin = 2^h - 1 (so that [L <= H] is always true), no correction of ties
// possible (tie leaves would be nil), and for every channel q' (zero point folded in)
// wider than h bits with w = q' * 2^E + ... within 64 bits. ok is false otherwise, and
// the caller takes the general path. Elements of different quotient planes E (per-channel
// shifts) are gathered into one circuit per E (local BGather), all evaluated in the same
// rounds, and scattered back before one B2A.
//
// # The circuit
//
// a + b = w' = w + 2^(bw-1) mod 2^bw (w's offset binary). With p_j = a_j ^ b_j, g_j = a_j &
// b_j (one round) and the carries c_j, plane j of w' is p_j ^ c_j; planes of w are those of
// w' with plane bw-1 complemented. The outputs of the clamp (requant.go) are
//
//	out_i = L_i & hz ^ gtH,  L_i = plane E+i of w (i < h),  hz = [planes [k, bw) of w are 0],
//	gtH = NOT (sgn ^ hz),  sgn = plane bw-1 of w,  k = E + h.
//
// Everything above plane E depends on the low planes only through the carry c_E, so both
// outcomes are computed from the group (G, P) of the ranges [E, j) (carry into j = G ^ P &
// c_E) and one AND with c_E selects: out_i = out0_i ^ c_E & (out0_i ^ out1_i). The zero
// test hz needs no carries above k: planes [k, bw) of w' equal the pattern K (1 at bw-1,
// 0 below) iff the carry into k is r_k = p_k ^ K_k and, for k <= j < bw-1, the carry out
// of plane j given carry-in r_j, g_j ^ p_j & r_j = g_j ^ p_j (K_j = 0), equals r_{j+1}:
// hz = [c_k == r_k] & AND_j [g_j ^ p_j == r_{j+1}]. These leaves are one round deep, so
// their AND tree runs beside the carry network. With the carry spans of least depth
// (spans) the carry into E takes 1 + floor(log2 E) rounds, 6 for TFLite's E = 31 + r,
// and the select one more: 7 AND rounds with 32-bit accumulators, h = 8 and 34 <= E <
// 64 (the zero test's tree adds one for E = 32, 33), then one B2A of h planes. Today's
// path takes the adder's 7 rounds, then the clamp's AND trees (about 5) and its mux.
func (rq *requantizer) fusedPass(acc AShare) (AShare, bool, error) {
	sp, ok := Ext[A2BSplitter](rq.p)
	if !ok || !rq.clamp || rq.n == 0 {
		return nil, false, nil
	}
	h := bitLen(rq.hi)
	if rq.hi != 1<<uint(h)-1 {
		return nil, false, nil
	}
	// Elements are grouped by quotient plane E (per-channel shifts); each group is its own
	// circuit on its own width, all of them in the same rounds.
	corr := rq.corrK() >= 0 // a correction can apply inside the clamp range
	if corr && rq.halfEven {
		return nil, false, nil // its tie leaves include q's parity: general path
	}
	var groups []*group
	byE := map[int]*group{}
	chanGroup := make([]*group, len(rq.chans))
	g := big.NewInt(rq.g)
	for i := range rq.n {
		c := rq.chanOf(i)
		gr := chanGroup[c]
		if gr == nil {
			cp := &rq.chans[c]
			if corr && cp.tie >= 0 && cp.tie != 31 {
				return nil, false, nil // RoundAway's ties start at plane 31
			}
			// q' = floor(w / 2^e) + g over the channel's accumulator range
			lo := new(big.Int).Add(floorShift(cp.wmin, cp.e), g)
			hi := new(big.Int).Add(floorShift(cp.wmax, cp.e), g)
			gr = byE[cp.e]
			if gr == nil {
				gr = &group{e: cp.e, lo: lo, hi: hi}
				byE[cp.e] = gr
				groups = append(groups, gr)
			}
			if lo.Cmp(gr.lo) < 0 {
				gr.lo = lo
			}
			if hi.Cmp(gr.hi) > 0 {
				gr.hi = hi
			}
			chanGroup[c] = gr
		}
		gr.elems = append(gr.elems, int32(i))
		t := corr && rq.chans[c].tie >= 0
		gr.ties = append(gr.ties, t)
		if t {
			gr.nTies++
		}
	}
	for _, gr := range groups {
		// At least h+1 planes of q' (sign-extending a narrower q' is harmless).
		gr.bw = gr.e + max(signedWidth(gr.lo, gr.hi), h+1)
		if gr.bw > 64 {
			return nil, false, nil
		}
	}
	if len(groups) > 1 {
		// Each group's planes are whole words of 64 elements: for small groups (a fully
		// connected layer with a shift per channel) that padding can cost more than one
		// circuit with every quotient aligned at the largest plane (w times 2^(E-e)),
		// which is taken instead where it fits.
		words := func(k int) int { return (k + 63) / 64 }
		wg := 0
		for _, gr := range groups {
			wg += words(len(gr.elems))
		}
		// With a LeafSplitter, one aligned circuit is taken wherever it fits: the leaf
		// form needs one group, and the choice must not depend on the element count (a
		// batch must take the rounds of one image).
		_, leaves := leafSplitter(rq.p)
		if n := rq.n; wg > words(n)+words(n)/4 || leaves {
			if m := mergeGroups(groups, h, rq.n); m != nil {
				for c, gr := range chanGroup {
					if gr != nil {
						chanGroup[c] = m
					}
				}
				groups = []*group{m}
			}
		}
	}
	// The leaf form (LeafSplitter): one group without ties, and room for q' - 1 (its
	// output is the branch cE = 0 plus cE & beta, see leafPass).
	var ls LeafSplitter
	if l, ok := leafSplitter(rq.p); ok && len(groups) == 1 {
		gr := groups[0]
		bw := gr.e + max(signedWidth(new(big.Int).Sub(gr.lo, big.NewInt(1)), gr.hi), h+1)
		if gr.nTies == 0 && h <= 8 && gr.e >= 1 && bw <= 64 && bw-gr.e-h >= 2 {
			gr.bw, ls = bw, l
		}
	}
	bwMax := 0
	for _, gr := range groups {
		bwMax = max(bwMax, gr.bw)
	}
	p := rq.p
	n := rq.n
	// w = (acc*mul + add)*2^k + g*2^e + 2^(bw-1): q' at the group's plane e, offset binary
	// of the group's width.
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	type al struct{ mul, add uint64 }
	als := make([]al, len(rq.chans))
	for c, gr := range chanGroup {
		if gr == nil {
			continue
		}
		cp := &rq.chans[c]
		k := uint(gr.e - cp.e) // alignment (0 unless groups were merged)
		a := new(big.Int).Lsh(cp.add, k)
		a.Add(a, new(big.Int).Lsh(g, uint(gr.e)))
		a.Add(a, new(big.Int).Lsh(big.NewInt(1), uint(gr.bw-1)))
		als[c] = al{cp.mul << k, a.Mod(a, mod).Uint64()}
	}
	var mulV, addV []uint64
	if rq.channel == nil {
		mulV, addV = []uint64{als[0].mul}, []uint64{als[0].add}
	} else {
		mulV, addV = make([]uint64, n), make([]uint64, n)
		for i := range n {
			a := als[rq.chanOf(i)]
			mulV[i], addV[i] = a.mul, a.add
		}
	}
	w := p.AddPublic(p.MulPublic(acc, mulV), addV)
	if ls != nil {
		y, err := rq.leafPass(ls, w, groups[0], h)
		return y, true, err
	}
	a, b, err := sp.A2BSplit(w, bwMax)
	if err != nil {
		return nil, true, fmt.Errorf("a2b operands of %d bits: %w", bwMax, err)
	}
	d := &dag{p: p}
	var outs []sig
	for _, gr := range groups {
		ag, bg := a, b
		if len(groups) > 1 {
			ag, bg = p.BGather(a, gr.elems), p.BGather(b, gr.elems)
		}
		if gr.bw < bwMax {
			ag, bg = p.Bits(ag, 0, gr.bw), p.Bits(bg, 0, gr.bw)
		}
		var tp *tieParams
		if gr.nTies > 0 {
			tp = &tieParams{lo: 31, allowed: sigOne, k: rq.corrK()}
			if gr.nTies < len(gr.elems) {
				m := make([]uint64, len(gr.elems))
				for j, t := range gr.ties {
					if t {
						m[j] = 1
					}
				}
				tp.allowed = d.input(p.BPublic(m, 1))
			}
		}
		if tp == nil && fewANDs(p) {
			outs = append(outs, rippleClampCircuit(d, d.inputs(ag), d.inputs(bg), gr.e, h)...)
			continue
		}
		outs = append(outs, clampCircuit(d, d.inputs(ag), d.inputs(bg), gr.e, h, tp)...)
	}
	res, err := d.eval(outs)
	if err != nil {
		return nil, true, fmt.Errorf("adder and clamp: %w", err)
	}
	c := &circ{p, n}
	y := c.join(res[:h])
	if len(groups) > 1 {
		// Scatter each group's h planes back to the elements' places (zeros elsewhere)
		// and combine (local).
		y = nil
		for k, gr := range groups {
			idx := make([]int32, n)
			for i := range idx {
				idx[i] = -1
			}
			for j, i := range gr.elems {
				idx[i] = int32(j)
			}
			part := p.BGather((&circ{p, len(gr.elems)}).join(res[k*h:(k+1)*h]), idx)
			if y == nil {
				y = part
			} else {
				y = p.XOR(y, part)
			}
		}
	}
	ya, err := p.B2A(y)
	if err != nil {
		return nil, true, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(ya, []uint64{uint64(rq.lo)}), true, nil
}

// group is the elements of one fused circuit: quotient plane e, width bw, the range of q'
// over its channels, its elements, and which of them can need the tie correction.
type group struct {
	e, bw  int
	lo, hi *big.Int
	elems  []int32
	ties   []bool
	nTies  int
}

// mergeGroups returns one group of all n elements with every quotient aligned at the
// largest plane, or nil when that needs more than 64 bits or a tie correction (whose
// planes would differ per element).
func mergeGroups(groups []*group, h, n int) *group {
	m := &group{lo: groups[0].lo, hi: groups[0].hi}
	for _, gr := range groups {
		if gr.nTies > 0 {
			return nil
		}
		m.e = max(m.e, gr.e)
		if gr.lo.Cmp(m.lo) < 0 {
			m.lo = gr.lo
		}
		if gr.hi.Cmp(m.hi) > 0 {
			m.hi = gr.hi
		}
	}
	m.bw = m.e + max(signedWidth(m.lo, m.hi), h+1)
	if m.bw > 64 {
		return nil
	}
	m.elems, m.ties = make([]int32, n), make([]bool, n)
	for i := range m.elems {
		m.elems[i] = int32(i)
	}
	return m
}

// clampCircuit returns the h planes of clamp(floor(w / 2^E), 0, 2^h - 1), where w is the
// two's complement value of bw = len(a) bits whose offset binary w + 2^(bw-1) is a + b mod
// 2^bw (see fusedPass); it needs E + h < bw.
func clampCircuit(d *dag, a, b []sig, E, h int, tie *tieParams) []sig {
	bw := len(a)
	top := bw - 1
	k := E + h
	pp := make([]sig, bw)
	leaves := make([]gpair, top)
	for j := range bw {
		pp[j] = d.xor(a[j], b[j])
		if j < top {
			leaves[j] = gpair{g: d.and(a[j], b[j]), p: pp[j]}
		}
	}
	sp := newSpans(d, leaves)
	cE := sigZero
	if E > 0 {
		cE = sp.G(0, E)
	}
	// r_j: the carry into j for which plane j of w' equals the pattern K.
	r := func(j int) sig {
		if j == top {
			return not(pp[j])
		}
		return pp[j]
	}
	var conds []sig
	for j := k; j < top; j++ {
		conds = append(conds, not(d.xor(d.xor(leaves[j].g, pp[j]), r(j+1))))
	}
	chunks := d.andChunks(conds)
	// The tie: planes [tie.lo, E) of w are zero (pattern 0, carry-in from plane 0), for
	// the allowed elements.
	var tieL []sig
	if tie != nil {
		tieL = append(tieL, tie.allowed, not(d.xor(sp.G(0, tie.lo), pp[tie.lo])))
		for j := tie.lo; j < E-1; j++ {
			tieL = append(tieL, not(d.xor(d.xor(leaves[j].g, pp[j]), pp[j+1])))
		}
		tieL = d.andChunks(tieL)
	}
	branch := func(cin sig) []sig {
		eq := not(d.xor(sp.carry(E, k, cin), r(k)))
		hz := d.andAll(append([]sig{eq}, chunks...)...)
		sgn := not(d.xor(pp[top], sp.carry(E, top, cin))) // plane top of w' complemented
		gtH := not(d.xor(sgn, hz))
		o := make([]sig, h)
		L := make([]sig, h)
		for i := range h {
			L[i] = d.xor(pp[E+i], sp.carry(E, E+i, cin))
			o[i] = d.xor(d.andAll(append([]sig{L[i], eq}, chunks...)...), gtH)
		}
		if tie == nil {
			return o
		}
		// Decrement by tie & hz & D, D = [1 <= L <= k]: plane i flips when also the
		// planes of L below i are zero (bm_i).
		nL := make([]sig, h)
		for i := range h {
			nL[i] = not(L[i])
		}
		bm := func(i int) sig { return d.andAll(nL[:i]...) }
		D := d.xor(d.lePublic(L, tie.k), bm(h))
		for i := range h {
			fl := append([]sig{eq, D, bm(i)}, chunks...)
			o[i] = d.xor(o[i], d.andAll(append(fl, tieL...)...))
		}
		return o
	}
	o0 := branch(sigZero)
	if E == 0 {
		return o0
	}
	o1 := branch(sigOne)
	out := make([]sig, h)
	for i := range h {
		out[i] = d.xor(o0[i], d.and(cE, d.xor(o0[i], o1[i])))
	}
	return out
}

// rippleClampCircuit is clampCircuit without the tie correction, with the fewest AND
// gates instead of the least depth (FewANDer). The carries of a + b ripple from plane 0:
// c_{j+1} = maj(a_j, b_j, c_j) = c_j ^ (a_j ^ c_j) & (b_j ^ c_j), one AND per plane (bw-1
// in all, the carry out of the top plane is not needed), which gives every plane of w'
// = a + b; then hz, the AND of the complemented planes [k, bw) of w (bw-k-1 gates, a
// chain that follows the ripple: andAll joins the shallowest operands first), and out_i
// = L_i & hz ^ gtH (h gates). bw-1 + bw-k-1 + h AND gates, depth bw+1 or so; for bw = 63,
// E = 36 and h = 8: 88 gates in 64 rounds, against about 355 in 7 for clampCircuit.
func rippleClampCircuit(d *dag, a, b []sig, E, h int) []sig {
	bw := len(a)
	top := bw - 1
	k := E + h
	w := make([]sig, bw) // planes of w
	c := sigZero         // the carry into plane j
	for j := range bw {
		w[j] = d.xor(d.xor(a[j], b[j]), c)
		if j < top {
			c = d.xor(c, d.and(d.xor(a[j], c), d.xor(b[j], c)))
		}
	}
	w[top] = not(w[top]) // w' = w + 2^(bw-1)
	zs := make([]sig, 0, bw-k)
	for j := k; j < bw; j++ {
		zs = append(zs, not(w[j]))
	}
	hz := d.andAll(zs...)
	gtH := not(d.xor(w[top], hz))
	out := make([]sig, h)
	for i := range h {
		out[i] = d.xor(d.and(w[E+i], hz), gtH)
	}
	return out
}

// tieParams is the tie correction of clampCircuit (RoundAway with zp - actMin >= 1): the
// tie planes start at lo, allowed marks the elements that can tie (sigOne: all), and
// the correction applies for 1 <= q' <= k.
type tieParams struct {
	lo      int
	allowed sig
	k       int64
}
