package mpc

import (
	"fmt"
	"math/big"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Binary adders and comparisons on bit-sliced shares (w-bit elements, all elements of a
// share in one batch). They use Sklansky's parallel-prefix network: one AND round for the
// generate bits, then ceil(log2(w-1)) rounds in which every gate of a level goes into one
// p.AND call. A w-bit addition of two secret operands costs about (w-1) + (w/2)*2*log2(w)
// AND gates per element; with a public operand the generate round is free.

// prefixGP returns Sklansky's network over the leaves x: afterwards x[j] holds the (G, P)
// pair of the segment [0, j] for every j (P is skipped for segments that start at bit 0).
func (c *circ) prefixGP(x []gp) stepper {
	s := newSparsePrefix(c, len(x), 0)
	s.x = x
	return s
}

// addBits returns the w low bits of a + b + cin, where a and b are w bits (lowest first)
// and cin a constant. Public (constant) operand bits make the generate gates free.
func (c *circ) addBits(a, b []bit, cin bool) ([]bit, error) {
	w := len(a)
	if w == 0 {
		return nil, nil
	}
	p := make([]bit, w)
	for j := range w {
		p[j] = c.xor(a[j], b[j])
	}
	// Generate bits for j < w-1 (the top carry is not needed); g_0 absorbs the carry-in:
	// g_0 + p_0*cin, exclusive since g and p are.
	x := make([]gp, w-1)
	bt := &batch{}
	for j := range x {
		bt.and(&x[j].g, a[j], b[j])
		x[j].p = p[j]
	}
	if err := c.run(bt); err != nil {
		return nil, err
	}
	if cin && w > 1 {
		x[0].g = c.xor(x[0].g, x[0].p)
	}
	if err := c.runAll(c.prefixGP(x)); err != nil {
		return nil, err
	}
	sum := make([]bit, w)
	sum[0] = p[0]
	if cin {
		sum[0] = c.not(p[0])
	}
	for j := 1; j < w; j++ {
		sum[j] = c.xor(p[j], x[j-1].g)
	}
	return sum, nil
}

// constBits returns the w low bits of k as constants.
func constBits(k uint64, w int) []bit {
	out := make([]bit, w)
	for j := range out {
		out[j] = bit{v: j < 64 && k>>uint(j)&1 == 1}
	}
	return out
}

// constBitsBig returns the w low bits of the two's complement of k (any w).
func constBitsBig(k *big.Int, w int) []bit {
	m := new(big.Int).Lsh(big.NewInt(1), uint(w))
	v := new(big.Int).Mod(k, m) // in [0, 2^w)
	out := make([]bit, w)
	for j := range out {
		out[j] = bit{v: v.Bit(j) == 1}
	}
	return out
}

func checkSameShape(op string, a, b BShare) error {
	if a.Len() != b.Len() || a.Width() != b.Width() {
		return errs.New(errs.Shape, "%s: shapes (n=%d,w=%d) and (n=%d,w=%d)", op, a.Len(), a.Width(), b.Len(), b.Width())
	}
	return nil
}

// AddB returns a + b mod 2^w for w-bit binary shares of equal shape (Sklansky adder:
// ceil(log2(w-1)) + 1 AND rounds).
func AddB(p Protocol, a, b BShare) (_ BShare, err error) {
	defer guard(&err, "mpc addb")
	if err := checkSameShape("mpc addb", a, b); err != nil {
		return nil, err
	}
	c := &circ{p, a.Len()}
	s, err := c.addBits(c.planes(a), c.planes(b), false)
	if err != nil {
		return nil, fmt.Errorf("mpc addb: %w", err)
	}
	return c.join(s), nil
}

// AddBHigh returns the planes [lo, w) of a + b mod 2^w for w-bit binary shares of equal
// shape, as a (w-lo)-bit share of floor(((a + b) mod 2^w) / 2^lo). The low planes only
// matter through their carry: one AND round for all generate bits, a carry tree over the
// planes below lo (about 2 lo gates, ceil(log2 lo) rounds), then Sklansky's prefix
// network over the high planes with that carry as its lowest leaf (ceil(log2(w-lo))
// rounds). For lo around half of w this is well under the gates of AddB (which computes
// every prefix of all w planes), at a few more rounds. Protocols whose AND gates are
// expensive (two-party, from OT) implement HighA2B with it.
func AddBHigh(p Protocol, a, b BShare, lo int) (_ BShare, err error) {
	return addBHigh(p, a, b, lo, false)
}

// AddBHighRipple is AddBHigh with a ripple carry over the high planes (carry_{j+1} = g_j
// ^ p_j & carry_j): w-lo-1 AND gates in as many rounds instead of the prefix network's
// ~(w-lo) log2(w-lo) gates in log2(w-lo) rounds. For protocols whose AND gates cost far
// more than rounds (two-party AND triples from OT, parties on one machine or a LAN).
func AddBHighRipple(p Protocol, a, b BShare, lo int) (_ BShare, err error) {
	return addBHigh(p, a, b, lo, true)
}

func addBHigh(p Protocol, a, b BShare, lo int, ripple bool) (_ BShare, err error) {
	defer guard(&err, "mpc addbhigh")
	if err := checkSameShape("mpc addbhigh", a, b); err != nil {
		return nil, err
	}
	w := a.Width()
	if lo < 0 || lo >= w {
		return nil, errs.New(errs.Internal, "mpc addbhigh: low plane %d of %d", lo, w)
	}
	if lo == 0 {
		return AddB(p, a, b)
	}
	c := &circ{p, a.Len()}
	pa, pb := c.planes(a), c.planes(b)
	prop := make([]bit, w)
	for j := range w {
		prop[j] = c.xor(pa[j], pb[j])
	}
	g := make([]bit, w-1) // generate bits of the planes whose carry out is read
	bt := &batch{}
	for j := range g {
		bt.and(&g[j], pa[j], pb[j])
	}
	if err := c.run(bt); err != nil {
		return nil, fmt.Errorf("mpc addbhigh: %w", err)
	}
	low := make([]gp, lo)
	for j := range low {
		low[j] = gp{g[j], prop[j]}
	}
	// x[0] is the carry into plane lo (a segment from bit 0: its P is never read); x[i]
	// for i >= 1 is plane lo+i-1. After the prefix network x[i].g is the carry into
	// plane lo+i.
	x := make([]gp, w-lo)
	if err := c.runAll(c.carry(low, &x[0].g)); err != nil {
		return nil, fmt.Errorf("mpc addbhigh: %w", err)
	}
	for i := 1; i < len(x); i++ {
		x[i] = gp{g[lo+i-1], prop[lo+i-1]}
	}
	if ripple {
		for i := 1; i < len(x); i++ { // x[i].g becomes the carry into plane lo+i
			var t bit
			bt := &batch{}
			bt.and(&t, x[i].p, x[i-1].g)
			if err := c.run(bt); err != nil {
				return nil, fmt.Errorf("mpc addbhigh: %w", err)
			}
			x[i].g = c.xor(x[i].g, t)
		}
	} else if err := c.runAll(c.prefixGP(x)); err != nil {
		return nil, fmt.Errorf("mpc addbhigh: %w", err)
	}
	sum := make([]bit, w-lo)
	for i := range sum {
		sum[i] = c.xor(prop[lo+i], x[i].g)
	}
	return c.join(sum), nil
}

// AddBHighSparse is AddBHigh with one Sklansky prefix network over all planes, pruned to
// the gates that the carries into planes [lo, w) need: the carries of the high planes come
// ceil(log2(w-1)) rounds after the generate round (AddBHigh's carry tree and the prefix
// network over the high planes take about log2(lo) + log2(w-lo) rounds, the ripple w-lo),
// at more gates than the ripple carry and about as many as AddBHigh for lo around w/2.
func AddBHighSparse(p Protocol, a, b BShare, lo int) (_ BShare, err error) {
	defer guard(&err, "mpc addbhighsparse")
	if err := checkSameShape("mpc addbhighsparse", a, b); err != nil {
		return nil, err
	}
	w := a.Width()
	if lo < 0 || lo >= w {
		return nil, errs.New(errs.Internal, "mpc addbhighsparse: low plane %d of %d", lo, w)
	}
	if lo == 0 {
		return AddB(p, a, b)
	}
	c := &circ{p, a.Len()}
	pa, pb := c.planes(a), c.planes(b)
	m := w - 1 // leaves 0..m-1; the carry into plane j is G of the prefix [0, j-1]
	s := newSparsePrefix(c, m, lo-1)
	x := make([]gp, m)
	bt := &batch{}
	for j := range m {
		if s.leaf[j] {
			bt.and(&x[j].g, pa[j], pb[j])
			x[j].p = c.xor(pa[j], pb[j])
		}
	}
	if err := c.run(bt); err != nil {
		return nil, fmt.Errorf("mpc addbhighsparse: %w", err)
	}
	s.x = x
	if err := c.runAll(s); err != nil {
		return nil, fmt.Errorf("mpc addbhighsparse: %w", err)
	}
	sum := make([]bit, w-lo)
	for i := range sum {
		sum[i] = c.xor(c.xor(pa[lo+i], pb[lo+i]), x[lo+i-1].g)
	}
	return c.join(sum), nil
}

// sparsePrefix is Sklansky's network over m leaves computing only the prefixes [0, j] for
// j >= from and the nodes they depend on (from = 0: the whole network, prefixGP): at level
// d = 1, 2, 4, ... every j with j&d != 0 is combined with the segment ending at
// (j &^ (2d-1)) + d - 1. node[l][j] says whether leaf j is
// combined at level l (d = 2^l); leaf[j] whether leaf j is read at all.
type sparsePrefix struct {
	c       *circ
	x       []gp
	level   int
	node    [][]bool
	leaf    []bool
	pending []int
	tmp     []bit
}

func newSparsePrefix(c *circ, m, from int) *sparsePrefix {
	levels := 0
	for d := 1; d < m; d *= 2 {
		levels++
	}
	need := make([]bool, m)
	for j := from; j < m; j++ {
		need[j] = true
	}
	node := make([][]bool, levels)
	for l := levels - 1; l >= 0; l-- {
		d := 1 << l
		node[l] = make([]bool, m)
		for j := range m {
			if need[j] && j&d != 0 {
				node[l][j] = true
				need[j&^(2*d-1)+d-1] = true
			}
		}
	}
	return &sparsePrefix{c: c, node: node, leaf: need}
}

func (s *sparsePrefix) step(b *batch) bool {
	for i, j := range s.pending {
		s.x[j].g = s.c.xor(s.x[j].g, s.tmp[i])
	}
	s.pending, s.tmp = s.pending[:0], nil
	if s.level >= len(s.node) {
		return false
	}
	d := 1 << s.level
	nodes := s.node[s.level]
	s.level++
	cnt := 0
	for _, on := range nodes {
		if on {
			cnt++
		}
	}
	s.tmp = make([]bit, cnt)
	i := 0
	for j, on := range nodes {
		if !on {
			continue
		}
		base := j &^ (2*d - 1)
		k := base + d - 1
		b.and(&s.tmp[i], s.x[j].p, s.x[k].g)
		s.pending = append(s.pending, j)
		if base != 0 {
			b.and(&s.x[j].p, s.x[j].p, s.x[k].p)
		}
		i++
	}
	return true
}

// AddPublicB returns a + k mod 2^w for a w-bit binary share and a public constant k (the
// same for every element). The generate gates are free, so it costs about half of AddB.
func AddPublicB(p Protocol, a BShare, k uint64) (_ BShare, err error) {
	defer guard(&err, "mpc addpublicb")
	c := &circ{p, a.Len()}
	s, err := c.addBits(c.planes(a), constBits(k, a.Width()), false)
	if err != nil {
		return nil, fmt.Errorf("mpc addpublicb: %w", err)
	}
	return c.join(s), nil
}

// SubB returns a - b mod 2^w, as a + NOT b + 1.
func SubB(p Protocol, a, b BShare) (_ BShare, err error) {
	defer guard(&err, "mpc subb")
	if err := checkSameShape("mpc subb", a, b); err != nil {
		return nil, err
	}
	c := &circ{p, a.Len()}
	s, err := c.addBits(c.planes(a), c.planes(p.NOT(b)), true)
	if err != nil {
		return nil, fmt.Errorf("mpc subb: %w", err)
	}
	return c.join(s), nil
}

// geq returns the sub-circuit of [a >= b] for unsigned bit vectors, the carry out of
// a + NOT b + 1.
func (c *circ) geq(a, b []bit, out *bit) (stepper, error) {
	w := len(a)
	if w == 0 {
		*out = one
		return nil, nil
	}
	leaves := make([]gp, w)
	bt := &batch{}
	for j := range w {
		nb := c.not(b[j])
		bt.and(&leaves[j].g, a[j], nb)
		leaves[j].p = c.xor(a[j], nb)
	}
	if err := c.run(bt); err != nil {
		return nil, err
	}
	leaves[0].g = c.xor(leaves[0].g, leaves[0].p) // carry-in 1
	return c.carry(leaves, out), nil
}

// LessB returns the 1-bit share [a < b] of w-bit unsigned binary shares (a carry chain:
// 1 + ceil(log2(w)) AND rounds, about 3w gates).
func LessB(p Protocol, a, b BShare) (_ BShare, err error) {
	defer guard(&err, "mpc lessb")
	if err := checkSameShape("mpc lessb", a, b); err != nil {
		return nil, err
	}
	c := &circ{p, a.Len()}
	var ge bit
	s, err := c.geq(c.planes(a), c.planes(b), &ge)
	if err == nil {
		err = c.runAll(s)
	}
	if err != nil {
		return nil, fmt.Errorf("mpc lessb: %w", err)
	}
	return c.share(c.not(ge)), nil
}

// LessSignedB returns [a < b] for w-bit two's complement binary shares: the unsigned
// comparison with both sign bits flipped.
func LessSignedB(p Protocol, a, b BShare) (_ BShare, err error) {
	defer guard(&err, "mpc lesssignedb")
	if err := checkSameShape("mpc lesssignedb", a, b); err != nil {
		return nil, err
	}
	c := &circ{p, a.Len()}
	pa, pb := c.planes(a), c.planes(b)
	if w := len(pa); w > 0 {
		pa[w-1], pb[w-1] = c.not(pa[w-1]), c.not(pb[w-1])
	}
	var ge bit
	s, err := c.geq(pa, pb, &ge)
	if err == nil {
		err = c.runAll(s)
	}
	if err != nil {
		return nil, fmt.Errorf("mpc lesssignedb: %w", err)
	}
	return c.share(c.not(ge)), nil
}

// LEPublicB returns [a <= k] for a w-bit unsigned binary share and a public k (the same
// for every element); ceil(log2(w)) AND rounds, at most 2w gates.
func LEPublicB(p Protocol, a BShare, k uint64) (_ BShare, err error) {
	defer guard(&err, "mpc lepublicb")
	c := &circ{p, a.Len()}
	var le bit
	if err := c.runAll(c.lePublic(c.planes(a), k, &le)); err != nil {
		return nil, fmt.Errorf("mpc lepublicb: %w", err)
	}
	return c.share(le), nil
}
