package rep3

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

func newB(n, w int) *BShare {
	l := w * ring.Words(n)
	return &BShare{n, w, make([]uint64, l), make([]uint64, l)}
}

// BPublic shares public w-bit values as (v, 0, 0): no communication.
func (p *Protocol) BPublic(vals []uint64, w int) mpc.BShare {
	planes := ring.ToPlanes(vals, w)
	z := &BShare{len(vals), w, nil, nil}
	zero := make([]uint64, len(planes))
	switch p.id {
	case 0:
		z.a, z.b = planes, zero
	case 2:
		z.a, z.b = zero, planes
	default:
		z.a, z.b = zero, make([]uint64, len(planes))
	}
	return z
}

func sameShape(op string, x, y *BShare) {
	if x.n != y.n || x.w != y.w {
		panic(fmt.Sprintf("rep3.%s: shapes (n=%d,w=%d) and (n=%d,w=%d)", op, x.n, x.w, y.n, y.w))
	}
}

func (p *Protocol) XOR(x, y mpc.BShare) mpc.BShare {
	s, t := bs(x), bs(y)
	sameShape("XOR", s, t)
	z := newB(s.n, s.w)
	ring.Xor(z.a, s.a, t.a)
	ring.Xor(z.b, s.b, t.b)
	return z
}

// NOT flips component 0 (held by parties 0 and 2). The other components are shared with
// x, not copied (shares are immutable).
func (p *Protocol) NOT(x mpc.BShare) mpc.BShare {
	s := bs(x)
	z := &BShare{s.n, s.w, s.a, s.b}
	switch p.id {
	case 0:
		z.a = make([]uint64, len(s.a))
		ring.Not(z.a, s.a)
	case 2:
		z.b = make([]uint64, len(s.b))
		ring.Not(z.b, s.b)
	}
	return z
}

// AND computes all pairs with one message (all pairs' planes together) and one round:
// z_i = x_i & y_i ^ x_i & y_{i+1} ^ x_{i+1} & y_i ^ alpha_i, reshared.
func (p *Protocol) AND(x, y []mpc.BShare) ([]mpc.BShare, error) {
	if len(x) != len(y) {
		return nil, errs.New(errs.Shape, "rep3 and: %d and %d operands", len(x), len(y))
	}
	xs, ys := make([]pair, len(x)), make([]pair, len(x))
	for i := range x {
		s, t := bs(x[i]), bs(y[i])
		if s.n != t.n || s.w != t.w {
			return nil, errs.New(errs.Shape, "rep3 and: pair %d: shapes (n=%d,w=%d) and (n=%d,w=%d)", i, s.n, s.w, t.n, t.w)
		}
		xs[i], ys[i] = pair{s.a, s.b}, pair{t.a, t.b}
	}
	za, zb, err := p.andReport(xs, ys, true) // shares: the Observer may keep their slices
	if err != nil {
		return nil, fmt.Errorf("rep3 and: %w", err)
	}
	out := make([]mpc.BShare, len(x))
	off := 0
	for i := range x {
		s := bs(x[i])
		l := len(s.a)
		out[i] = &BShare{s.n, s.w, za[off : off+l : off+l], zb[off : off+l : off+l]}
		off += l
	}
	return out, nil
}

// pair is a party's two components of a word vector (a binary share's planes, or part).
type pair struct{ a, b []uint64 }

// andMany ANDs the replicated word vectors xs[k] and ys[k] (of equal lengths) with one
// message and one round; the results are laid out end to end in za and zb. An Observer
// gets one report of the pairs laid end to end (copies, if there are several: callers
// may update their operands' slices afterwards, convert.go's adder does).
func (p *Protocol) andMany(xs, ys []pair) (za, zb []uint64, err error) {
	return p.andReport(xs, ys, false)
}

// andReport is andMany; if perPair (the operands are never modified, as shares are), an
// Observer gets one report per pair instead, with the pairs' own slices and its slices
// of za, zb and of the mask words (no copies), in the pairs' order, which is the order
// of their words in the message.
func (p *Protocol) andReport(xs, ys []pair, perPair bool) (za, zb []uint64, err error) {
	total := 0
	for _, x := range xs {
		total += len(x.a)
	}
	z := make([]uint64, total)
	next, prev := p.productMasks(total)
	off := 0
	for k, x := range xs {
		y := ys[k]
		// In chunks that stay in cache for the mask (the PRG streams are consumed in the
		// same order as by one xorZeroShare(z)).
		for lo := 0; lo < len(x.a); lo += scratchWords {
			hi := min(lo+scratchWords, len(x.a))
			zk := z[off+lo : off+hi]
			xa, xb, ya, yb := x.a[lo:hi], x.b[lo:hi], y.a[lo:hi], y.b[lo:hi]
			xa, xb, ya, yb = xa[:len(zk)], xb[:len(zk)], ya[:len(zk)], yb[:len(zk)]
			for i := range zk {
				zk[i] = xa[i]&(ya[i]^yb[i]) ^ xb[i]&ya[i]
			}
			if next != nil {
				p.xorZeroShareTo(zk, next[off+lo:off+hi], prev[off+lo:off+hi])
			} else {
				p.xorZeroShare(zk)
			}
		}
		off += len(x.a)
	}
	za, zb, err = p.reshare(z)
	if err == nil && p.obs != nil && !perPair {
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "and"}, joinPairs(xs), joinPairs(ys), Pair{za, zb})
	} else if err == nil && p.obs != nil {
		off := 0
		for k, x := range xs {
			y, hi := ys[k], off+len(x.a)
			if next != nil {
				p.reportMasks(next[off:hi:hi], prev[off:hi:hi])
			}
			p.obs.Product(Relation{Kind: "and"}, Pair{x.a, x.b}, Pair{y.a, y.b}, Pair{za[off:hi:hi], zb[off:hi:hi]})
			off = hi
		}
	}
	return za, zb, err
}

// joinPairs lays the pairs' components end to end (for an Observer): one pair's own
// slices (shares are not modified after they are made), or one copy into slices of the
// total length.
func joinPairs(ps []pair) Pair {
	if len(ps) == 1 {
		return Pair{ps[0].a, ps[0].b}
	}
	n := 0
	for _, q := range ps {
		n += len(q.a)
	}
	j := Pair{make([]uint64, 0, n), make([]uint64, 0, n)}
	for _, q := range ps {
		j.A = append(j.A, q.a...)
		j.B = append(j.B, q.b...)
	}
	return j
}

func (p *Protocol) Bits(x mpc.BShare, lo, w int) mpc.BShare {
	s := bs(x)
	if lo < 0 || w < 0 || lo+w > s.w {
		panic(fmt.Sprintf("rep3.Bits: planes [%d,%d) of %d", lo, lo+w, s.w))
	}
	lo, hi := lo*ring.Words(s.n), (lo+w)*ring.Words(s.n)
	return &BShare{s.n, w, s.a[lo:hi:hi], s.b[lo:hi:hi]} // views: shares are immutable
}

func (p *Protocol) JoinBits(xs ...mpc.BShare) mpc.BShare {
	if len(xs) == 0 {
		return newB(0, 0)
	}
	n := xs[0].Len()
	w := 0
	for _, x := range xs {
		if x.Len() != n {
			panic(fmt.Sprintf("rep3.JoinBits: lengths %d and %d", n, x.Len()))
		}
		w += x.Width()
	}
	z := &BShare{n, w, make([]uint64, 0, w*ring.Words(n)), make([]uint64, 0, w*ring.Words(n))}
	for _, x := range xs {
		s := bs(x)
		z.a = append(z.a, s.a...)
		z.b = append(z.b, s.b...)
	}
	return z
}

func (p *Protocol) BGather(x mpc.BShare, idx []int32) mpc.BShare {
	s := bs(x)
	return &BShare{len(idx), s.w, ring.GatherBits(s.a, s.n, s.w, idx), ring.GatherBits(s.b, s.n, s.w, idx)}
}

// OpenB reveals x to party to (all if to < 0) as w-bit values; the others get nil.
func (p *Protocol) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	if err := checkParty("openb", to, true); err != nil {
		return nil, err
	}
	s := bs(x)
	v, err := p.open(s.a, s.b, to, true)
	if err != nil {
		return nil, fmt.Errorf("rep3 openb: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	return ring.FromPlanes(v, s.n, s.w), nil
}
