package mpc

import (
	"fmt"
	"runtime/debug"

	"github.com/qmpc/qmpc/gocore/errs"
)

// guard turns a panic inside an exported block (a protocol rejecting a share, a bug) into
// an errs.Internal error naming the block; use as defer guard(&err, "mpc requantize").
func guard(err *error, op string) {
	if r := recover(); r != nil {
		*err = errs.New(errs.Internal, "%s: panic: %v\n%s", op, r, debug.Stack())
	}
}

// The protocol-generic building blocks (adder.go, compare.go, requant.go, div.go and this
// file) are written once over Protocol.
//
// Security: the blocks never call Open or OpenB (TestRep3Views checks it), so every value
// they handle stays secret-shared and their messages are exactly those of the protocol's
// primitives (A2B, AND, B2A, Bit2A, Mul) with the public arguments given here; they
// inherit the protocol's threat model. Which elements, widths and constants a block uses
// depends only on public parameters (sizes, bounds, quantization parameters), never on
// secret values.
//
// Sources: bit decomposition and exact truncation/comparison on binary shares as in
// Damgard, Fitzi, Kiltz, Nielsen and Toft (TCC 2006) and Catrina and de Hoogh (SCN 2010);
// Sklansky's parallel-prefix adder (IRE Trans. Electronic Computers, 1960); division by
// invariant integers from Granlund and Montgomery (PLDI 1994); the rounding arithmetic of
// gemmlowp and TFLite (Jacob et al., CVPR 2018).

// This file is the small circuit engine under the protocol-generic binary blocks. Circuits
// work on single planes ("bits": a 1-plane BShare covering all elements of a batch, or a
// public constant that is the same for every element). Constants are folded: AND and XOR
// with a constant never reach the protocol. Independent sub-circuits (trees, prefix
// networks, carry trees) are state machines that register the AND gates of their next
// level into a shared batch, so that one p.AND call, i.e. one round, serves the current
// level of all of them.

// bit is one plane of a binary share, or a public constant (s == nil) equal to v for
// every element.
type bit struct {
	s BShare
	v bool
}

var (
	zero = bit{v: false}
	one  = bit{v: true}
)

func (b bit) isConst() bool { return b.s == nil }

// circ carries the protocol and the batch length of a circuit.
type circ struct {
	p Protocol
	n int
}

// planes splits x into its planes.
func (c *circ) planes(x BShare) []bit {
	out := make([]bit, x.Width())
	for j := range out {
		out[j] = bit{s: c.p.Bits(x, j, 1)}
	}
	return out
}

// share materializes b as a 1-plane share (constants become public shares).
func (c *circ) share(b bit) BShare {
	if b.s != nil {
		return b.s
	}
	vals := make([]uint64, c.n)
	if b.v {
		for i := range vals {
			vals[i] = 1
		}
	}
	return c.p.BPublic(vals, 1)
}

// join stacks bits into one share, bs[0] lowest.
func (c *circ) join(bs []bit) BShare {
	xs := make([]BShare, len(bs))
	var zeroS, oneS BShare
	for i, b := range bs {
		switch {
		case b.s != nil:
			xs[i] = b.s
		case b.v:
			if oneS == nil {
				oneS = c.share(one)
			}
			xs[i] = oneS
		default:
			if zeroS == nil {
				zeroS = c.share(zero)
			}
			xs[i] = zeroS
		}
	}
	return c.p.JoinBits(xs...)
}

func (c *circ) xor(a, b bit) bit {
	switch {
	case a.isConst() && b.isConst():
		return bit{v: a.v != b.v}
	case a.isConst():
		if a.v {
			return bit{s: c.p.NOT(b.s)}
		}
		return b
	case b.isConst():
		if b.v {
			return bit{s: c.p.NOT(a.s)}
		}
		return a
	}
	return bit{s: c.p.XOR(a.s, b.s)}
}

func (c *circ) not(a bit) bit { return c.xor(a, one) }

// batch collects the AND gates of one round.
type batch struct {
	xs, ys []BShare
	dst    []*bit
}

// and registers *dst = x AND y; constant operands are folded at once.
func (b *batch) and(dst *bit, x, y bit) {
	switch {
	case x.isConst() && !x.v, y.isConst() && !y.v:
		*dst = zero
	case x.isConst():
		*dst = y
	case y.isConst():
		*dst = x
	default:
		b.xs = append(b.xs, x.s)
		b.ys = append(b.ys, y.s)
		b.dst = append(b.dst, dst)
	}
}

// run evaluates the batch with one p.AND call (none if every gate was folded).
func (c *circ) run(b *batch) error {
	if len(b.xs) == 0 {
		return nil
	}
	zs, err := c.p.AND(b.xs, b.ys)
	if err != nil {
		return err
	}
	if len(zs) != len(b.dst) {
		return fmt.Errorf("and returned %d results for %d gates", len(zs), len(b.dst))
	}
	for i, z := range zs {
		*b.dst[i] = bit{s: z}
	}
	return nil
}

// and1 computes the gates x[i] AND y[i] in one round.
func (c *circ) and1(x, y []bit) ([]bit, error) {
	out := make([]bit, len(x))
	b := &batch{}
	for i := range x {
		b.and(&out[i], x[i], y[i])
	}
	return out, c.run(b)
}

// stepper is a sub-circuit evaluated level by level. step first completes the previous
// level from the batch results, then registers the gates of its next level into b; it
// returns false (registering nothing) when the sub-circuit is finished.
type stepper interface {
	step(b *batch) bool
}

// runAll evaluates sub-circuits in lockstep: round k evaluates level k of every one of
// them. The number of rounds is the maximum depth.
func (c *circ) runAll(ss ...stepper) error {
	for {
		b := &batch{}
		active := false
		for _, s := range ss {
			if s != nil && s.step(b) {
				active = true
			}
		}
		if !active {
			return nil
		}
		if err := c.run(b); err != nil {
			return err
		}
	}
}

// andTree computes the AND of its leaves as a balanced tree: ceil(log2(k)) levels and
// k-1 gates for k secret leaves. The result is in out after runAll.
type andTree struct {
	cur []bit
	out *bit
}

func newAndTree(leaves []bit, out *bit) *andTree {
	t := &andTree{out: out}
	for _, l := range leaves {
		if l.isConst() {
			if !l.v {
				t.cur = []bit{zero}
				return t
			}
			continue
		}
		t.cur = append(t.cur, l)
	}
	return t
}

func (t *andTree) step(b *batch) bool {
	switch len(t.cur) {
	case 0:
		*t.out = one
		return false
	case 1:
		*t.out = t.cur[0]
		return false
	}
	next := make([]bit, (len(t.cur)+1)/2)
	for i := 0; i+1 < len(t.cur); i += 2 {
		b.and(&next[i/2], t.cur[i], t.cur[i+1])
	}
	if len(t.cur)%2 == 1 {
		next[len(next)-1] = t.cur[len(t.cur)-1]
	}
	t.cur = next
	return true
}

// prefixAnd computes out[j] = x[0] AND ... AND x[j] with Sklansky's network:
// ceil(log2(k)) levels, at most k/2 gates each.
type prefixAnd struct {
	out []bit
	d   int
}

func newPrefixAnd(x []bit) *prefixAnd {
	return &prefixAnd{out: append([]bit(nil), x...), d: 1}
}

func (s *prefixAnd) step(b *batch) bool {
	m := len(s.out)
	if s.d >= m {
		return false
	}
	d := s.d
	for j := 0; j < m; j++ {
		if j&d == 0 {
			continue
		}
		k := (j &^ (2*d - 1)) + d - 1
		b.and(&s.out[j], s.out[j], s.out[k])
	}
	s.d *= 2
	return true
}

// gp is a (generate, propagate) pair of a carry computation; g and p are never both 1
// (propagate is the XOR of the operand bits), so combinations can XOR instead of OR.
type gp struct{ g, p bit }

// carryTree computes the carry out of a sum whose per-bit (g, p) pairs are given, lowest
// first, with carry-in 0: the tree combines adjacent segments, (G, P) = (g_hi ^ p_hi &
// g_lo, p_hi & p_lo), and skips P for segments that start at bit 0 (a carry into bit 0 is
// known). ceil(log2(k)) levels, at most 2k gates.
type carryTree struct {
	cur     []gp
	pending []int // indices in cur whose g must be XORed with tmp after the round
	tmp     []bit
	out     *bit
}

func newCarryTree(leaves []gp, out *bit) *carryTree {
	return &carryTree{cur: leaves, out: out}
}

func (t *carryTree) finish(c *circ) {
	for i, k := range t.pending {
		t.cur[k].g = c.xor(t.cur[k].g, t.tmp[i])
	}
	t.pending, t.tmp = nil, nil
}

// carryTree needs the circuit for XORs after a round; stepC binds it.
type carryStepper struct {
	c *circ
	t *carryTree
}

func (s carryStepper) step(b *batch) bool {
	t := s.t
	t.finish(s.c)
	switch len(t.cur) {
	case 0:
		*t.out = zero
		return false
	case 1:
		*t.out = t.cur[0].g
		return false
	}
	next := make([]gp, (len(t.cur)+1)/2)
	t.tmp = make([]bit, len(t.cur)/2)
	for i := 0; i+1 < len(t.cur); i += 2 {
		lo, hi := t.cur[i], t.cur[i+1]
		k := i / 2
		next[k].g = hi.g
		b.and(&t.tmp[k], hi.p, lo.g)
		t.pending = append(t.pending, k)
		if i > 0 {
			b.and(&next[k].p, hi.p, lo.p)
		}
	}
	if len(t.cur)%2 == 1 {
		next[len(next)-1] = t.cur[len(t.cur)-1]
	}
	t.cur = next
	return true
}

func (c *circ) carry(leaves []gp, out *bit) stepper {
	return carryStepper{c, newCarryTree(leaves, out)}
}

// lePublic returns a sub-circuit computing [L <= k] for the unsigned value L of the bits
// l (lowest first) and a public k >= 0: [L <= k] = NOT carry(L + (2^h-1-k)) with h =
// len(l), since L + 2^h - 1 - k >= 2^h iff L > k. With a public addend the (g, p) leaves
// are free. If k >= 2^h - 1 the result is the constant 1.
func (c *circ) lePublic(l []bit, k uint64, out *bit) stepper {
	h := len(l)
	if h >= 64 || k < 1<<uint(h)-1 {
		leaves := make([]gp, h)
		for j := range h {
			if (^k)>>uint(j)&1 == 1 { // addend bit 1: g = l_j, p = NOT l_j
				leaves[j] = gp{g: l[j], p: c.not(l[j])}
			} else { // addend bit 0: g = 0, p = l_j
				leaves[j] = gp{g: zero, p: l[j]}
			}
		}
		return &negate{c: c, inner: c.carry(leaves, out), out: out}
	}
	*out = one
	return nil
}

// negate runs inner and then replaces *out with its complement.
type negate struct {
	c     *circ
	inner stepper
	out   *bit
	done  bool
}

func (s *negate) step(b *batch) bool {
	if s.done {
		return false
	}
	if s.inner.step(b) {
		return true
	}
	*s.out = s.c.not(*s.out)
	s.done = true
	return false
}
