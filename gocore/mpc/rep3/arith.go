package rep3

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Input shares vals of party owner: one message of n words from owner to owner+1.
func (p *Protocol) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	if err := checkParty("input", owner, false); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errs.New(errs.Shape, "rep3 input: negative length %d", n)
	}
	if p.id == owner && len(vals) != n {
		return nil, errs.New(errs.Shape, "rep3 input: %d values, want %d", len(vals), n)
	}
	a, b, err := p.input(owner, vals, n, false)
	if err != nil {
		return nil, fmt.Errorf("rep3 input from party %d: %w", owner, err)
	}
	return &AShare{a: a, b: b}, nil
}

// input shares n words of owner (arithmetically, or with XOR if xor) and returns this
// party's components: x_o = F(k_{o-1}), x_{o+1} = v - x_o (sent to o+1), x_{o+2} = 0.
func (p *Protocol) input(owner int, vals []uint64, n int, xor bool) (a, b []uint64, err error) {
	a, b, err = p.input1(owner, vals, n, xor)
	if err == nil && p.obs != nil {
		p.obs.Input(owner, xor, Pair{a, b})
	}
	return a, b, err
}

func (p *Protocol) input1(owner int, vals []uint64, n int, xor bool) (a, b []uint64, err error) {
	switch p.id {
	case owner: // holds (x_o, x_{o+1})
		a = p.gPrev.Uint64s(n)
		b = make([]uint64, n)
		if xor {
			ring.Xor(b, vals, a)
		} else {
			ring.Sub(b, vals, a)
		}
		if err := p.send(p.next, b); err != nil {
			return nil, nil, err
		}
		return a, b, nil
	case (owner + 1) % 3: // holds (x_{o+1}, x_{o+2} = 0)
		a, err = p.recv(owner, n)
		if err != nil {
			return nil, nil, err
		}
		return a, make([]uint64, n), nil
	default: // party o-1 holds (x_{o+2} = 0, x_o)
		return make([]uint64, n), p.gNext.Uint64s(n), nil
	}
}

// Open reveals x to party to (all if to < 0); the others get nil.
func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	if err := checkParty("open", to, true); err != nil {
		return nil, err
	}
	s, err := p.settle(x)
	if err != nil {
		return nil, fmt.Errorf("rep3 open: %w", err)
	}
	v, err := p.open(s.a, s.b, to, false)
	if err != nil {
		return nil, fmt.Errorf("rep3 open: %w", err)
	}
	return v, nil
}

// open reveals the value with components (a, b) to party to (all if to < 0): the party
// before the receiver sends its first component, which is the one the receiver lacks.
func (p *Protocol) open(a, b []uint64, to int, xor bool) ([]uint64, error) {
	if to < 0 || p.next == to {
		if err := p.send(p.next, a); err != nil {
			return nil, err
		}
	}
	if to >= 0 && p.id != to {
		if p.obs != nil {
			p.obs.Open(to, xor, Pair{a, b}, nil)
		}
		return nil, nil
	}
	m, err := p.recv(p.prev, len(a))
	if err != nil {
		return nil, err
	}
	if p.obs != nil {
		p.obs.Open(to, xor, Pair{a, b}, m)
	}
	c := make([]uint64, len(a)) // m is read-only: it may be the sender's component
	if xor {
		ring.Xor(c, m, a)
		ring.Xor(c, c, b)
	} else {
		ring.Add(c, m, a)
		ring.Add(c, c, b)
	}
	return c, nil
}

// Public shares a public vector as (v, 0, 0): no communication.
func (p *Protocol) Public(vals []uint64) mpc.AShare {
	n := len(vals)
	s := &AShare{a: make([]uint64, n), b: make([]uint64, n)}
	switch p.id {
	case 0:
		copy(s.a, vals)
	case 2:
		copy(s.b, vals)
	}
	return s
}

func sameLen(op string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("rep3.%s: lengths %d and %d", op, a, b))
	}
}

// Add, Sub and Neg work on first components only when an operand is a pending product
// (deferred.go): the result is pending.
func (p *Protocol) Add(x, y mpc.AShare) mpc.AShare {
	s, t := anyAS(x), anyAS(y)
	sameLen("Add", len(s.a), len(t.a))
	if pend, toks := linear(s, t); pend {
		z := &AShare{a: make([]uint64, len(s.a)), toks: toks}
		ring.Add(z.a, s.a, t.a)
		return z
	}
	z := &AShare{a: make([]uint64, len(s.a)), b: make([]uint64, len(s.a))}
	ring.Add(z.a, s.a, t.a)
	ring.Add(z.b, s.b, t.b)
	return z
}

func (p *Protocol) Sub(x, y mpc.AShare) mpc.AShare {
	s, t := anyAS(x), anyAS(y)
	sameLen("Sub", len(s.a), len(t.a))
	if pend, toks := linear(s, t); pend {
		z := &AShare{a: make([]uint64, len(s.a)), toks: toks}
		ring.Sub(z.a, s.a, t.a)
		return z
	}
	z := &AShare{a: make([]uint64, len(s.a)), b: make([]uint64, len(s.a))}
	ring.Sub(z.a, s.a, t.a)
	ring.Sub(z.b, s.b, t.b)
	return z
}

func (p *Protocol) Neg(x mpc.AShare) mpc.AShare {
	s := anyAS(x)
	z := &AShare{a: make([]uint64, len(s.a)), toks: s.toks}
	ring.Neg(z.a, s.a)
	if !s.pending() {
		z.b = make([]uint64, len(s.a))
		ring.Neg(z.b, s.b)
	}
	return z
}

// AddPublic adds c to component x_0 (held by parties 0 and 2; of a pending product, z_0,
// party 0's). The other components are shared with x, not copied (shares are immutable).
func (p *Protocol) AddPublic(x mpc.AShare, c []uint64) mpc.AShare {
	s := anyAS(x)
	if len(c) != 1 {
		sameLen("AddPublic", len(s.a), len(c))
	}
	z := &AShare{a: s.a, b: s.b, toks: s.toks}
	switch {
	case p.id == 0:
		z.a = make([]uint64, len(s.a))
		ring.AddPublic(z.a, s.a, c)
	case p.id == 2 && !s.pending():
		z.b = make([]uint64, len(s.b))
		ring.AddPublic(z.b, s.b, c)
	}
	return z
}

func (p *Protocol) MulPublic(x mpc.AShare, c []uint64) mpc.AShare {
	s := anyAS(x)
	if len(c) != 1 {
		sameLen("MulPublic", len(s.a), len(c))
	}
	z := &AShare{a: make([]uint64, len(s.a)), toks: s.toks}
	ring.MulPublic(z.a, s.a, c)
	if !s.pending() {
		z.b = make([]uint64, len(s.a))
		ring.MulPublic(z.b, s.b, c)
	}
	return z
}

func (p *Protocol) Gather(x mpc.AShare, idx []int32) mpc.AShare {
	s := anyAS(x)
	if s.pending() {
		return &AShare{a: ring.Gather(s.a, idx), toks: s.toks}
	}
	return &AShare{a: ring.Gather(s.a, idx), b: ring.Gather(s.b, idx)}
}

func (p *Protocol) Concat(xs ...mpc.AShare) mpc.AShare {
	ss := make([]*AShare, len(xs))
	as_, bs_ := make([][]uint64, len(xs)), make([][]uint64, len(xs))
	for i, x := range xs {
		ss[i] = anyAS(x)
		as_[i], bs_[i] = ss[i].a, ss[i].b
	}
	if pend, toks := linear(ss...); pend {
		return &AShare{a: ring.Concat(as_...), toks: toks}
	}
	return &AShare{a: ring.Concat(as_...), b: ring.Concat(bs_...)}
}

func (p *Protocol) SumGroups(x mpc.AShare, k int) mpc.AShare {
	s := anyAS(x)
	if s.pending() {
		return &AShare{a: ring.SumGroups(s.a, k), toks: s.toks}
	}
	return &AShare{a: ring.SumGroups(s.a, k), b: ring.SumGroups(s.b, k)}
}

// Mul: z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i + alpha_i, resharing. One message of n
// words, one round.
func (p *Protocol) Mul(x, y mpc.AShare) (mpc.AShare, error) {
	st, err := p.settleAll(x, y)
	if err != nil {
		return nil, fmt.Errorf("rep3 mul: %w", err)
	}
	s, t := st[0], st[1]
	if len(s.a) != len(t.a) {
		return nil, errs.New(errs.Shape, "rep3 mul: lengths %d and %d", len(s.a), len(t.a))
	}
	z := make([]uint64, len(s.a))
	next, prev := p.productMasks(len(z))
	for lo := 0; lo < len(z); lo += scratchWords { // chunks stay in cache for the mask
		hi := min(lo+scratchWords, len(z))
		zc := z[lo:hi]
		sa, sb, ta, tb := s.a[lo:hi], s.b[lo:hi], t.a[lo:hi], t.b[lo:hi]
		sb, ta, tb = sb[:len(sa)], ta[:len(sa)], tb[:len(sa)]
		for i := range zc[:len(sa)] {
			zc[i] = sa[i]*(ta[i]+tb[i]) + sb[i]*ta[i]
		}
		if next != nil {
			p.addZeroShareTo(zc, next[lo:hi], prev[lo:hi])
		} else {
			p.addZeroShare(zc)
		}
	}
	a, b, err := p.reshare(z)
	if err != nil {
		return nil, fmt.Errorf("rep3 mul: %w", err)
	}
	if p.obs != nil {
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "mul"}, Pair{s.a, s.b}, Pair{t.a, t.b}, Pair{a, b})
	}
	return &AShare{a: a, b: b}, nil
}

// MulSum sums the local cross terms of each group of k before resharing: one message of
// len(x)/k words, one round.
func (p *Protocol) MulSum(x, y mpc.AShare, k int) (mpc.AShare, error) {
	st, err := p.settleAll(x, y)
	if err != nil {
		return nil, fmt.Errorf("rep3 mulsum: %w", err)
	}
	s, t := st[0], st[1]
	if len(s.a) != len(t.a) || k < 1 || len(s.a)%k != 0 {
		return nil, errs.New(errs.Shape, "rep3 mulsum: lengths %d and %d, k=%d", len(s.a), len(t.a), k)
	}
	z := make([]uint64, len(s.a)/k)
	for i := range z {
		sa, sb := s.a[i*k:(i+1)*k], s.b[i*k:(i+1)*k]
		ta, tb := t.a[i*k:(i+1)*k], t.b[i*k:(i+1)*k]
		var acc uint64
		for j := range sa {
			acc += sa[j]*(ta[j]+tb[j]) + sb[j]*ta[j]
		}
		z[i] = acc
	}
	next, prev := p.productMasks(len(z))
	p.addZeroShareTo(z, next, prev)
	r, err := p.product(z)
	if err != nil {
		return nil, fmt.Errorf("rep3 mulsum: %w", err)
	}
	if p.obs != nil {
		a, b := r.a, r.b
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "mulsum", K: k}, Pair{s.a, s.b}, Pair{t.a, t.b}, Pair{a, b})
	}
	return r, nil
}

// GatherMulSum is MulSum(Gather(x, xIdx), Gather(w, wIdx), k) without the gathered
// copies: the same cross terms, read through the index maps, and the same message
// (len(xIdx)/k words, one round). It implements mpc.GatherMulSummer.
func (p *Protocol) GatherMulSum(x mpc.AShare, xIdx []int32, w mpc.AShare, wIdx []int32, k int) (mpc.AShare, error) {
	st, err := p.settleAll(x, w)
	if err != nil {
		return nil, fmt.Errorf("rep3 gathermulsum: %w", err)
	}
	s, t := st[0], st[1]
	if len(xIdx) != len(wIdx) || k < 1 || len(xIdx)%k != 0 {
		return nil, errs.New(errs.Shape, "rep3 gathermulsum: %d and %d indices, k=%d", len(xIdx), len(wIdx), k)
	}
	xa, xb := s.a, s.b[:len(s.a)]
	wa := t.a
	ws := make([]uint64, len(wa)) // w_i + w_{i+1}
	ring.Add(ws, t.a, t.b)
	z := make([]uint64, len(xIdx)/k)
	for i := range z {
		ix, iw := xIdx[i*k:(i+1)*k], wIdx[i*k:(i+1)*k]
		iw = iw[:len(ix)]
		var acc uint64
		for j, q := range ix {
			if q >= 0 {
				r := iw[j]
				acc += xa[q]*ws[r] + xb[q]*wa[r]
			}
		}
		z[i] = acc
	}
	next, prev := p.productMasks(len(z))
	p.addZeroShareTo(z, next, prev)
	r, err := p.product(z)
	if err != nil {
		return nil, fmt.Errorf("rep3 gathermulsum: %w", err)
	}
	if p.obs != nil {
		a, b := r.a, r.b
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "gathermulsum", K: k, XIdx: xIdx, YIdx: wIdx}, Pair{s.a, s.b}, Pair{t.a, t.b}, Pair{a, b})
	}
	return r, nil
}

// MatMul computes the local cross terms A_i (B_i + B_{i+1}) + A_{i+1} B_i with two GEMMs and
// reshares the m*n outputs: one message of m*n words, one round.
func (p *Protocol) MatMul(x, y mpc.AShare, m, k, n int) (mpc.AShare, error) {
	st, err := p.settleAll(x, y)
	if err != nil {
		return nil, fmt.Errorf("rep3 matmul: %w", err)
	}
	s, t := st[0], st[1]
	if m < 0 || k < 0 || n < 0 || len(s.a) != m*k || len(t.a) != k*n {
		return nil, errs.New(errs.Shape, "rep3 matmul: lengths %d and %d for [%d,%d]x[%d,%d]", len(s.a), len(t.a), m, k, k, n)
	}
	tsum := make([]uint64, k*n)
	ring.Add(tsum, t.a, t.b)
	z := make([]uint64, m*n)
	ring.MatMulAdd(z, s.a, tsum, m, k, n)
	ring.MatMulAdd(z, s.b, t.a, m, k, n)
	next, prev := p.productMasks(len(z))
	p.addZeroShareTo(z, next, prev)
	r, err := p.product(z)
	if err != nil {
		return nil, fmt.Errorf("rep3 matmul: %w", err)
	}
	if p.obs != nil {
		a, b := r.a, r.b
		p.reportMasks(next, prev)
		p.obs.Product(Relation{Kind: "matmul", M: m, K: k, N: n}, Pair{s.a, s.b}, Pair{t.a, t.b}, Pair{a, b})
	}
	return r, nil
}
