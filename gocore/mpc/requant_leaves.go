package mpc

import (
	"fmt"
	"math/bits"
)

// leafPass is fusedPass's circuit built on leaves (LeafSplitter) instead of single planes,
// for one group without tie corrections and h <= 8 (the caller checks, and gives bw room
// for q' - 1). The arithmetic is that of clampCircuit, with w' = a + b mod 2^bw (offset
// binary of w), k = E + h, m = bw - k:
//
//   - cE, the carry into plane E: at most 8 chunks of [0, E) (at most MaxLeafChunk
//     planes each, as even as possible: 4-5 planes for E = 34..40), each a (generate,
//     propagate) pair of leaves ([t + v >= 2^K] and [t + v = 2^K - 1], t and v the chunk's
//     values in a and b), combined by a balanced carry tree: ceil(log2 chunks) rounds
//     after the leaves (3 for E <= 48).
//   - The branch cE = 0 (q0 = q' - cE): L, planes [E, k) of w', from 4-plane chunks whose
//     sum planes and carry out are leaves (per carry in beyond the first chunk), chained
//     by one select per chunk (h <= 8: L and the carry c_k into plane k one round after
//     the leaves).
//   - hz = [planes [k, bw) of w' are 1 0 ... 0]: with A' = a >> k and B' = b >> k (m
//     bits), hz = Z_{c_k}, Z_z = [B' = 2^(m-1) - A' - z mod 2^m], an AND tree of one
//     equality leaf per chunk of B' (at most 4 chunks for m <= 4 * MaxLeafChunk; the
//     threshold is a public function of a, a derived value); pos = plane bw-1 of w' =
//     Pos_{c_k}, Pos_z = a_top ^ b_top ^ (carry into plane bw-1 of A' + B' + z), a carry
//     tree over chunk leaves: both 2 rounds after the leaves.
//   - o0_i = L_i & hz ^ (pos ^ hz) (clampCircuit's L_i & hz ^ gtH) with hz = Z_0 ^ c_k &
//     (Z_0 ^ Z_1) expanded as L_i & Z_0 ^ (L_i & c_k) & (Z_0 ^ Z_1), so that no product
//     waits for hz; beta = [0 <= q0 <= H - 1] = hz & NOT [L all ones], expanded the same
//     way, with [L all ones] the AND of the chunks' [sum all ones] for carry in 0 (a
//     chunk whose sum is all ones has no carry out): one round for h <= 8.
//   - The output is clamp(q0 + cE) = o0 + (cE & beta) (clamp is monotone with slope at
//     most 1, and q0 = q' - 1 does not wrap): LeafSplitter.B2AAnd converts o0 and adds
//     the AND in the B2A's two rounds, instead of clampCircuit's second branch and select
//     round before the B2A.
//   - With a ChunkB2Aer (rep3) the output planes o0 are not computed: with A and B the
//     chunk [E, k) of a and b, L = A + B - 2^h c_k, and clamp(q0) = hz L + H gtH (hz = 1
//     forces gtH = 0), so the output hz (A + B) - 2^h (c_k & hz) + H gtH + cE & beta, with
//     c_k & hz = c_k & Z_1, is converted from the five bits hz, c_k & Z_1, gtH, cE, beta
//     and the operands' chunk (ChunkB2A, rep3: 4 words and 3 bits per element from the
//     owner of b and 3 words from party 2, instead of h + 3 words from every party in
//     turn), and neither L's sum-plane leaves nor o0's 3h AND gates are needed. Same
//     depths, same rounds.
//
// Depths (AND rounds after the leaves' round): cE 3 (at most 8 chunks), o0 and beta 3
// (Z and Pos 2, c_k and [L all ones] 1). Per requantization: the leaves' round, 3 AND
// rounds, the B2A's 2, against 7 + 2 for the fused circuit over single planes; and
// about a fifth of its AND gates (the leaves cost party 1 nothing to reshare, and its
// one-hot input replaces the planes of b). Wider chunks cost one-hot planes (2^K bits
// per chunk and element) and the a-holders' leaf evaluation, not rounds.
func (rq *requantizer) leafPass(ls LeafSplitter, w AShare, gr *group, h int) (AShare, error) {
	p := rq.p
	E, bw := gr.e, gr.bw
	k := E + h
	m := bw - k
	mask := func(n int) uint64 {
		if n >= 64 {
			return ^uint64(0)
		}
		return 1<<uint(n) - 1
	}
	// With a ChunkB2Aer the output is converted from the chunk [E, k) of the operands
	// (see the end): the circuit needs neither L's sum planes nor o0.
	cb, chunked := ls.(ChunkB2Aer)
	sl := &SplitLeaves{
		NDerived: 2,
		Derive: func(a uint64, out []uint64) {
			ap := a >> uint(k) & mask(m)
			t0 := (uint64(1)<<uint(m-1) - ap) & mask(m)
			out[0] = t0
			out[1] = (t0 - 1) & mask(m)
		},
	}
	d := &dag{p: p}
	var nodes []*dnode
	leaf := func(lo, K, src, slo, sw int, f func(t, v uint64) bool) sig {
		tab := make([]uint64, 1<<uint(sw))
		for t := range tab {
			for v := range 1 << uint(K) {
				if f(uint64(t), uint64(v)) {
					tab[t] |= 1 << uint(v)
				}
			}
		}
		sl.Leaves = append(sl.Leaves, SplitLeaf{Lo: lo, K: K, Src: src, SLo: slo, SW: sw, Tab: tab})
		s := d.input(nil)
		nodes = append(nodes, s.n)
		return s
	}
	// gp returns the (generate, propagate) leaves of planes [lo, lo+K) read from the
	// chunk [clo, clo+ck) of b (the chunk may be wider: its upper planes are ignored),
	// with carry in cin for the generate (the propagate is independent of it).
	gp := func(clo, ck, lo, K, cin int, wantP bool) gpair {
		sh := uint(lo - clo)
		g := leaf(clo, ck, 0, lo, K, func(t, v uint64) bool { return t+(v>>sh&mask(K))+uint64(cin) >= 1<<uint(K) })
		pp := sigZero
		if wantP {
			pp = leaf(clo, ck, 0, lo, K, func(t, v uint64) bool { return t+(v>>sh&mask(K)) == 1<<uint(K)-1 })
		}
		return gpair{g, pp}
	}
	// cE: at most 8 chunks of [0, E) (3 AND rounds).
	var low []gpair
	for _, ch := range leafChunks(0, E, 8) {
		low = append(low, gp(ch[0], ch[1], ch[0], ch[1], 0, ch[0] > 0))
	}
	cE := newCtree(d, low).G(0, len(low))
	// L: 4-plane chunks of [E, k), with carry in 0 into E (the branch cE = 0): the sum
	// planes and the carry out per carry in (one for the first chunk), and [sum planes
	// all ones] for carry in 0.
	type lchunk struct {
		s   [2][]sig // sum planes for carry in 0 / 1
		co  [2]sig   // carry out
		one sig      // sum planes all ones, carry in 0
	}
	var lch []lchunk
	for lo := E; lo < k; lo += 4 {
		K := min(4, k-lo)
		var c lchunk
		for y := range 2 {
			if lo == E && y == 1 {
				break
			}
			for i := range K {
				if chunked {
					break
				}
				c.s[y] = append(c.s[y], leaf(lo, K, 0, lo, K, func(t, v uint64) bool { return (t+v+uint64(y))>>uint(i)&1 == 1 }))
			}
			c.co[y] = leaf(lo, K, 0, lo, K, func(t, v uint64) bool { return t+v+uint64(y) >= 1<<uint(K) })
			if y == 0 {
				c.one = leaf(lo, K, 0, lo, K, func(t, v uint64) bool { return (t+v)&mask(K) == mask(K) })
			}
		}
		lch = append(lch, c)
	}
	// Upper planes [k, bw): at most 4 chunks of B' (the zero and sign tests 2 AND rounds
	// deep, so that o0 and beta are 3).
	var zl [2][]sig
	var up [2][]gpair
	ptop := sigZero
	for _, ch := range leafChunks(k, bw-k, 4) {
		lo, K := ch[0], ch[1]
		for z := range 2 {
			zl[z] = append(zl[z], leaf(lo, K, 1+z, lo-k, K, func(t, v uint64) bool { return t == v }))
		}
		kc := K // planes of this chunk below bw-1
		if lo+K == bw {
			kc = K - 1
			top := uint(bw - 1 - lo)
			ptop = leaf(lo, K, 0, bw-1, 1, func(t, v uint64) bool { return t^(v>>top&1) == 1 })
		}
		if kc == 0 {
			continue
		}
		if lo == k {
			for z := range 2 {
				up[z] = append(up[z], gp(lo, K, lo, kc, z, false))
			}
			continue
		}
		g := gp(lo, K, lo, kc, 0, true)
		up[0], up[1] = append(up[0], g), append(up[1], g)
	}
	var Z, Pos [2]sig
	for z := range 2 {
		Z[z] = d.andTree(zl[z])
		Pos[z] = ptop
		if len(up[z]) > 0 {
			Pos[z] = d.xor(ptop, newCtree(d, up[z]).G(0, len(up[z])))
		}
	}
	dZ, dPos := d.xor(Z[0], Z[1]), d.xor(Pos[0], Pos[1])
	// The branch cE = 0: L, the carry c_k into plane k and [L all ones], chunk by chunk.
	var L []sig
	c := sigZero
	for j, ch := range lch {
		if j == 0 {
			L = append(L, ch.s[0]...)
			c = ch.co[0]
			continue
		}
		sel := func(x0, x1 sig) sig { return d.xor(x0, d.and(c, d.xor(x0, x1))) }
		for i := range ch.s[0] {
			L = append(L, sel(ch.s[0][i], ch.s[1][i]))
		}
		c = sel(ch.co[0], ch.co[1])
	}
	hz := d.xor(Z[0], d.and(c, dZ))
	gtH := d.xor(d.xor(Pos[0], d.and(c, dPos)), hz)
	var o0 []sig
	for i := range h {
		if chunked {
			break
		}
		o0 = append(o0, d.xor(d.xor(d.and(L[i], Z[0]), d.and(d.and(L[i], c), dZ)), gtH))
	}
	// beta = [0 <= q0 <= H - 1] = hz & NOT [L all ones], so that the output is o0 + cE &
	// beta (o1 = clamp(q0 + 1) = o0 + beta; q0 = q' - 1 does not wrap: bw has room).
	// [L all ones]: a chunk whose sum planes (carry in 0) are all ones has no carry out,
	// so the next chunk's carry in is 0 as well: the AND of the chunks' carry-in-0 tests.
	var ones0 []sig
	for _, ch := range lch {
		ones0 = append(ones0, ch.one)
	}
	nAll := not(d.andTree(ones0))
	beta := d.xor(d.and(Z[0], nAll), d.and(d.and(c, nAll), dZ))
	outs := append(o0, cE, beta)
	if chunked {
		// hz & c = c & Z_1 (hz is Z_c), 3 deep: clamp(q0) = hz L + H gtH with L = A + B -
		// 2^h c, A and B planes [E, k) of the operands (carry in 0 into E).
		outs = []sig{cE, beta, hz, gtH, d.and(c, Z[1])}
		sl.SumLo, sl.SumK = E, h
	}
	_, _, lv, err := ls.A2BSplitLeaves(w, bw, 0, sl)
	if err != nil {
		return nil, fmt.Errorf("a2b leaves of %d bits: %w", bw, err)
	}
	if len(lv) != len(nodes) {
		return nil, fmt.Errorf("a2b leaves: %d shares for %d leaves", len(lv), len(nodes))
	}
	for j, n := range nodes {
		n.in = lv[j]
	}
	res, err := d.eval(outs)
	if err != nil {
		return nil, fmt.Errorf("leaf circuit: %w", err)
	}
	cc := &circ{p, rq.n}
	if chunked {
		// out = hz (A + B) - 2^h (c & Z_1) + H gtH + cE beta: hz = 1 gives L (and gtH =
		// 0); hz = 0 gives 0 or H (c & Z_1 = 0 then), and beta = 0.
		H := uint64(1)<<uint(h) - 1
		y, err := cb.ChunkB2A(sl, cc.join(res[2:3]), []BShare{cc.join(res[4:5]), cc.join(res[3:4])},
			[]uint64{-(uint64(1) << uint(h)), H}, cc.join(res[0:1]), cc.join(res[1:2]))
		if err != nil {
			return nil, fmt.Errorf("chunk b2a: %w", err)
		}
		return p.AddPublic(y, []uint64{uint64(rq.lo)}), nil
	}
	y, err := ls.B2AAnd(cc.join(res[:h]), cc.join(res[h:h+1]), cc.join(res[h+1:h+2]))
	if err != nil {
		return nil, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(y, []uint64{uint64(rq.lo)}), nil
}

// leafChunks splits the n planes from lo into at most c chunks of nearly equal width
// (the wider first), each at most MaxLeafChunk planes; more chunks only if n > c *
// MaxLeafChunk. Each chunk is [lo, width].
func leafChunks(lo, n, c int) [][2]int {
	if n <= 0 {
		return nil
	}
	c = max(min(c, n), (n+MaxLeafChunk-1)/MaxLeafChunk)
	out := make([][2]int, 0, c)
	for i := range c {
		k := n / c
		if i < n%c {
			k++
		}
		out = append(out, [2]int{lo, k})
		lo += k
	}
	return out
}

// andTree is the AND of xs as a balanced tree (ceil(log2 len) levels above the deepest),
// 1 for no operands.
func (d *dag) andTree(xs []sig) sig {
	if len(xs) == 0 {
		return sigOne
	}
	for len(xs) > 1 {
		next := make([]sig, 0, (len(xs)+1)/2)
		for i := 0; i+1 < len(xs); i += 2 {
			next = append(next, d.and(xs[i], xs[i+1]))
		}
		if len(xs)%2 == 1 {
			next = append(next, xs[len(xs)-1])
		}
		xs = next
	}
	return xs[0]
}

// ctree is a carry tree over (generate, propagate) leaves of equal depth: G of [lo, hi)
// splits off a high part of 2^(ceil(log2 (hi-lo)) - 1) leaves, so that G of s leaves is
// ceil(log2 s) rounds above them; P is a balanced AND tree. Memoized.
type ctree struct {
	d      *dag
	leaves []gpair
	gm, pm map[[2]int]sig
}

func newCtree(d *dag, leaves []gpair) *ctree {
	return &ctree{d: d, leaves: leaves, gm: map[[2]int]sig{}, pm: map[[2]int]sig{}}
}

func (c *ctree) split(lo, hi int) int {
	s := hi - lo
	return hi - 1<<uint(bits.Len(uint(s-1))-1)
}

// G is the carry out of leaves [lo, hi) with carry in 0.
func (c *ctree) G(lo, hi int) sig {
	if hi-lo == 1 {
		return c.leaves[lo].g
	}
	key := [2]int{lo, hi}
	if v, ok := c.gm[key]; ok {
		return v
	}
	mid := c.split(lo, hi)
	v := c.d.xor(c.G(mid, hi), c.d.and(c.P(mid, hi), c.G(lo, mid)))
	c.gm[key] = v
	return v
}

// P is the AND of the propagate leaves of [lo, hi).
func (c *ctree) P(lo, hi int) sig {
	if hi-lo == 1 {
		return c.leaves[lo].p
	}
	key := [2]int{lo, hi}
	if v, ok := c.pm[key]; ok {
		return v
	}
	mid := c.split(lo, hi)
	v := c.d.and(c.P(mid, hi), c.P(lo, mid))
	c.pm[key] = v
	return v
}
