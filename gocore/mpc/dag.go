package mpc

import (
	"fmt"
	"slices"
)

// This file is a small scheduler for binary circuits written as expressions: gates are
// built first (XOR and NOT free, AND with its depth known at once), and evaluation runs
// every AND gate at the earliest round its operands allow, all gates of a round in one
// p.AND call. Only gates that an output depends on are evaluated, so a circuit may be
// written with sub-results that some parameters never read. The circ/stepper machinery
// (circuit.go) runs fixed networks level by level; this one lets a circuit mix
// sub-circuits of different depths (a carry tree, a prefix network, an AND tree) and
// still take the depth of its longest path, not the sum of the depths of its stages.

// sig is a signal of a dag: the node n complemented if inv, or the constant inv when n is
// nil.
type sig struct {
	n   *dnode
	inv bool
}

var (
	sigZero = sig{}
	sigOne  = sig{inv: true}
)

type dop uint8

const (
	dIn dop = iota
	dXor
	dAnd
)

// dnode is an input plane, or the XOR or AND of two signals.
type dnode struct {
	op    dop
	id    int
	x, y  sig
	depth int    // AND rounds before the node's value exists
	in    BShare // dIn
	val   BShare // once evaluated (without the complement of the signals that use it)
	nval  BShare // NOT val, once a complemented signal has read it
}

func (s sig) isConst() bool { return s.n == nil }

// depth is the round after which s is available (0 for inputs and constants).
func (s sig) depth() int {
	if s.n == nil {
		return 0
	}
	return s.n.depth
}

type dag struct {
	p     Protocol
	ands  map[[2]sig]sig // hash-consing: one gate per distinct operand pair
	nodes int
}

func (d *dag) node(n dnode) *dnode {
	d.nodes++
	n.id = d.nodes
	return &n
}

// input makes a signal of a 1-plane share.
func (d *dag) input(s BShare) sig { return sig{n: d.node(dnode{op: dIn, in: s})} }

// inputs makes signals of the planes of x, lowest first.
func (d *dag) inputs(x BShare) []sig {
	out := make([]sig, x.Width())
	for j := range out {
		out[j] = d.input(d.p.Bits(x, j, 1))
	}
	return out
}

func not(a sig) sig { return sig{a.n, !a.inv} }

func (d *dag) xor(a, b sig) sig {
	switch {
	case a.isConst():
		return sig{b.n, b.inv != a.inv}
	case b.isConst():
		return sig{a.n, a.inv != b.inv}
	case a.n == b.n:
		return sig{inv: a.inv != b.inv}
	}
	// Complements move to the result: (x^1) ^ y = (x ^ y) ^ 1.
	inv := a.inv != b.inv
	a.inv, b.inv = false, false
	return sig{n: d.node(dnode{op: dXor, x: a, y: b, depth: max(a.depth(), b.depth())}), inv: inv}
}

func (d *dag) and(a, b sig) sig {
	switch {
	case a.isConst():
		if a.inv {
			return b
		}
		return sigZero
	case b.isConst():
		if b.inv {
			return a
		}
		return sigZero
	case a == b:
		return a
	case a.n == b.n:
		return sigZero // x & NOT x
	}
	if a.n.id > b.n.id {
		a, b = b, a
	}
	k := [2]sig{a, b}
	if v, ok := d.ands[k]; ok {
		return v
	}
	v := sig{n: d.node(dnode{op: dAnd, x: a, y: b, depth: max(a.depth(), b.depth()) + 1})}
	if d.ands == nil {
		d.ands = map[[2]sig]sig{}
	}
	d.ands[k] = v
	return v
}

// andAll returns the AND of xs with the least depth: the two shallowest operands are
// combined first (as in Huffman's construction), so late operands enter last.
func (d *dag) andAll(xs ...sig) sig {
	var cur []sig
	for _, x := range xs {
		if x.isConst() {
			if !x.inv {
				return sigZero
			}
			continue
		}
		cur = append(cur, x)
	}
	if len(cur) == 0 {
		return sigOne
	}
	for len(cur) > 1 {
		slices.SortStableFunc(cur, func(a, b sig) int { return a.depth() - b.depth() })
		c := d.and(cur[0], cur[1])
		cur = append(cur[2:], c)
	}
	return cur[0]
}

// gpair is a (generate, propagate) pair of a carry computation (exclusive bits).
type gpair struct{ g, p sig }

// spans computes the group generate G and propagate P of ranges [lo, hi) of carry-chain
// leaves, memoized so that ranges share their sub-results. P splits in Sklansky's way (lo
// + the largest power of two below hi - lo: ceil(log2(hi - lo)) levels). G = G_hi ^ P_hi &
// G_lo splits where its depth is least: with generate leaves one round deep, a range of s
// leaves takes 1 + floor(log2 s) rounds (the degree bound ceil(log2(s+1)) of a carry out
// of s bit pairs), one round less than Sklansky's split for s just above a power of two
// (e.g. the carry into plane 35 after 6 rounds, not 7).
type spans struct {
	d      *dag
	leaves []gpair
	gm, pm map[[2]int]sig
	lowLen []int // lowLen[s]: size of the low part of the best G split of s leaves
}

func newSpans(d *dag, leaves []gpair) *spans {
	s := &spans{d: d, leaves: leaves, gm: map[[2]int]sig{}, pm: map[[2]int]sig{}}
	n := len(leaves)
	dG := make([]int, n+1)
	s.lowLen = make([]int, n+1)
	if n >= 1 {
		dG[1] = 1
	}
	for m := 2; m <= n; m++ {
		best := -1
		for lo := 1; lo < m; lo++ {
			hi := m - lo
			d := max(dG[hi], max(ceilLog2(hi), dG[lo])+1)
			if best < 0 || d < best || (d == best && isPow2(lo) && !isPow2(s.lowLen[m])) {
				best, s.lowLen[m] = d, lo
			}
		}
		dG[m] = best
	}
	return s
}

func ceilLog2(n int) int {
	k := 0
	for 1<<uint(k) < n {
		k++
	}
	return k
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }

// G returns the generate bit of [lo, hi): the carry out of the range with carry-in 0.
func (s *spans) G(lo, hi int) sig {
	if hi-lo == 1 {
		return s.leaves[lo].g
	}
	k := [2]int{lo, hi}
	if v, ok := s.gm[k]; ok {
		return v
	}
	mid := lo + s.lowLen[hi-lo]
	v := s.d.xor(s.G(mid, hi), s.d.and(s.P(mid, hi), s.G(lo, mid)))
	s.gm[k] = v
	return v
}

// P returns the propagate bit of [lo, hi): the AND of the leaves' propagate bits.
func (s *spans) P(lo, hi int) sig {
	if hi-lo == 1 {
		return s.leaves[lo].p
	}
	k := [2]int{lo, hi}
	if v, ok := s.pm[k]; ok {
		return v
	}
	m := 1
	for 2*m < hi-lo {
		m *= 2
	}
	v := s.d.and(s.P(lo+m, hi), s.P(lo, lo+m))
	s.pm[k] = v
	return v
}

// carry returns the carry into leaf j given the carry cin into leaf lo (j > lo).
func (s *spans) carry(lo, j int, cin sig) sig {
	if j == lo {
		return cin
	}
	return s.d.xor(s.G(lo, j), s.d.and(s.P(lo, j), cin))
}

// andChunks ANDs leaves of equal depth into perfect trees by the binary digits of their
// count (19 leaves: trees of 16, 2 and 1), so that andAll can join the chunks with later
// operands without lengthening any path.
func (d *dag) andChunks(leaves []sig) []sig {
	var out []sig
	for len(leaves) > 0 {
		m := 1
		for 2*m <= len(leaves) {
			m *= 2
		}
		cur := leaves[:m]
		for len(cur) > 1 {
			next := make([]sig, len(cur)/2)
			for i := range next {
				next[i] = d.and(cur[2*i], cur[2*i+1])
			}
			cur = next
		}
		out = append(out, cur[0])
		leaves = leaves[m:]
	}
	return out
}

// eval computes the outputs: the AND gates they depend on are run round by round, each
// round with one p.AND call (none for circuits without secret AND gates).
func (d *dag) eval(outs []sig) ([]bit, error) {
	// Collect the AND nodes by depth (each once).
	seen := map[*dnode]bool{}
	var levels [][]*dnode
	var visit func(n *dnode)
	visit = func(n *dnode) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if n.op == dIn {
			return
		}
		visit(n.x.n)
		visit(n.y.n)
		if n.op == dAnd {
			for len(levels) < n.depth {
				levels = append(levels, nil)
			}
			levels[n.depth-1] = append(levels[n.depth-1], n)
		}
	}
	for _, o := range outs {
		visit(o.n)
	}
	for _, lv := range levels {
		if len(lv) == 0 {
			continue
		}
		xs, ys := make([]BShare, len(lv)), make([]BShare, len(lv))
		for i, n := range lv {
			xs[i], ys[i] = d.value(n.x), d.value(n.y)
		}
		zs, err := d.p.AND(xs, ys)
		if err != nil {
			return nil, err
		}
		if len(zs) != len(lv) {
			return nil, fmt.Errorf("and returned %d results for %d gates", len(zs), len(lv))
		}
		for i, n := range lv {
			n.val = zs[i]
		}
	}
	res := make([]bit, len(outs))
	for i, o := range outs {
		if o.isConst() {
			res[i] = bit{v: o.inv}
		} else {
			res[i] = bit{s: d.value(o)}
		}
	}
	return res, nil
}

// value is the share of a non-constant signal whose AND gates are evaluated.
func (d *dag) value(s sig) BShare {
	n := s.n
	if n.val == nil {
		switch n.op {
		case dIn:
			n.val = n.in
		case dXor:
			n.val = d.p.XOR(d.value(n.x), d.value(n.y))
		case dAnd:
			panic("mpc dag: AND gate read before its round")
		}
	}
	if s.inv {
		if n.nval == nil {
			n.nval = d.p.NOT(n.val)
		}
		return n.nval
	}
	return n.val
}

// lePublic returns [L <= k] for the unsigned value of the bits l (lowest first) and a
// public k >= 0: NOT the carry out of L + (2^h - 1 - k) (free leaves), 1 if k >= 2^h - 1.
func (d *dag) lePublic(l []sig, k int64) sig {
	h := len(l)
	if h < 63 && k >= 1<<uint(h)-1 {
		return sigOne
	}
	c := uint64(1)<<uint(h) - 1 - uint64(k)
	leaves := make([]gpair, h)
	for j := range h {
		if c>>uint(j)&1 == 1 {
			leaves[j] = gpair{g: l[j], p: not(l[j])}
		} else {
			leaves[j] = gpair{g: sigZero, p: l[j]}
		}
	}
	return not(newSpans(d, leaves).G(0, h))
}
