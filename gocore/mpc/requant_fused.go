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

// fusedPass requantizes all elements with the clamp in one circuit over the A2B's
// operands, when the protocol implements A2BSplitter and the layer is of the usual form:
// one aligned pass (w fits 64 bits with every quotient at plane E = emax and the zero
// point folded in), H = actMax - actMin = 2^h - 1 (so that [L <= H] is always true), no
// correction of ties possible (tie leaves would be nil), and q' wider than h bits. ok is
// false otherwise, and the caller takes the general path.
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
	used := make([]bool, len(rq.chans))
	for i := range rq.n {
		used[rq.chanOf(i)] = true
	}
	var chans []int
	for c, u := range used {
		if u {
			chans = append(chans, c)
			if rq.corrK() >= 0 && rq.chans[c].tie >= 0 {
				return nil, false, nil // a tie correction may apply
			}
		}
	}
	emax, bw, bx, fits := rq.layout(chans, true)
	if !fits || bx <= h {
		return nil, false, nil
	}
	p := rq.p
	n := rq.n
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	type al struct{ mul, add uint64 }
	als := make([]al, len(rq.chans))
	for _, c := range chans {
		cp := &rq.chans[c]
		k := uint(emax - cp.e)
		a := new(big.Int).Lsh(cp.add, k)
		a.Add(a, new(big.Int).Lsh(big.NewInt(rq.g), uint(emax)))
		// the offset 2^(bw-1) of a2bSigned
		a.Add(a, new(big.Int).Lsh(big.NewInt(1), uint(bw-1)))
		als[c] = al{cp.mul << k, a.Mod(a, mod).Uint64()}
	}
	var mulV, addV []uint64
	if len(chans) == 1 {
		mulV, addV = []uint64{als[chans[0]].mul}, []uint64{als[chans[0]].add}
	} else {
		mulV, addV = make([]uint64, n), make([]uint64, n)
		for i := range n {
			a := als[rq.chanOf(i)]
			mulV[i], addV[i] = a.mul, a.add
		}
	}
	w := p.AddPublic(p.MulPublic(acc, mulV), addV)
	a, b, err := sp.A2BSplit(w, bw)
	if err != nil {
		return nil, true, fmt.Errorf("a2b operands of %d bits: %w", bw, err)
	}
	d := &dag{p: p}
	out, err := d.eval(clampCircuit(d, d.inputs(a), d.inputs(b), emax, h))
	if err != nil {
		return nil, true, fmt.Errorf("adder and clamp: %w", err)
	}
	c := &circ{p, n}
	y, err := p.B2A(c.join(out))
	if err != nil {
		return nil, true, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(y, []uint64{uint64(rq.lo)}), true, nil
}

// clampCircuit returns the h planes of clamp(floor(w / 2^E), 0, 2^h - 1), where w is the
// two's complement value of bw = len(a) bits whose offset binary w + 2^(bw-1) is a + b mod
// 2^bw (see fusedPass); it needs E + h < bw.
func clampCircuit(d *dag, a, b []sig, E, h int) []sig {
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
	branch := func(cin sig) []sig {
		eq := not(d.xor(sp.carry(E, k, cin), r(k)))
		hz := d.andAll(append([]sig{eq}, chunks...)...)
		sgn := not(d.xor(pp[top], sp.carry(E, top, cin))) // plane top of w' complemented
		gtH := not(d.xor(sgn, hz))
		o := make([]sig, h)
		for i := range h {
			L := d.xor(pp[E+i], sp.carry(E, E+i, cin))
			o[i] = d.xor(d.andAll(append([]sig{L, eq}, chunks...)...), gtH)
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
