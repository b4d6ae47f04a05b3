package spdz2k

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// Input secret-shares vals (owner's), authenticated: owner sends d = v - r mod 2^64 for
// an input mask [r] only it knows, and [x] = [r] + d.
func (p *Protocol) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	if err := checkParty("Input", owner, false); err != nil {
		return nil, err
	}
	if p.id == owner && len(vals) != n {
		return nil, errs.New(errs.Shape, "spdz2k Input: %d values for %d elements", len(vals), n)
	}
	var r ring128.Vec
	var mk *AShare
	if err := p.offlineDo("InputMask", n, 1, func() (err error) { r, mk, err = p.src.InputMask(owner, n); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k Input: %w", err)
	}
	var d []uint64
	if p.id == owner {
		d = make([]uint64, n)
		ring.Sub(d, vals, r.Lo)
		if n > 0 {
			if err := p.send(ring.ToBytes(d)); err != nil {
				return nil, fmt.Errorf("spdz2k Input: %w", err)
			}
		}
	} else if n > 0 {
		raw, err := p.recv("input", 8*n)
		if err != nil {
			return nil, fmt.Errorf("spdz2k Input: %w", err)
		}
		d, _ = ring.FromBytes(raw, n)
	} else {
		d = []uint64{}
	}
	return p.addPublic(mk, d), nil
}

// Public shares a public vector (no communication): party 0's component is the value,
// the MAC shares alpha_i * value.
func (p *Protocol) Public(vals []uint64) mpc.AShare {
	z := &AShare{x: ring128.Make(len(vals)), m: ring128.Make(len(vals))}
	return p.addPublic(z, vals)
}

// addPublic returns x + c (c zero-extended; len x or 1).
func (p *Protocol) addPublic(x *AShare, c []uint64) *AShare {
	y := &AShare{x: x.x.Clone(), m: ring128.Make(x.Len())}
	if p.id == 0 {
		ring128.AddU64(y.x, y.x, c)
	}
	// m_i + alpha_i * c.
	ac := ring128.FromU64(append([]uint64(nil), c...))
	ring128.MulU64(ac, ac, []uint64{p.alpha})
	if len(c) == 1 && x.Len() != 1 {
		for i := range y.m.Lo {
			y.m.Lo[i], y.m.Hi[i] = ac.Lo[0], ac.Hi[0]
		}
		ring128.Add(y.m, y.m, x.m)
	} else {
		ring128.Add(y.m, x.m, ac)
	}
	return y
}

// AddPublic adds a public vector (len a.Len() or 1). Local.
func (p *Protocol) AddPublic(a mpc.AShare, c []uint64) mpc.AShare { return p.addPublic(as(a), c) }

// MulPublic multiplies by a public vector (len a.Len() or 1). Local.
func (p *Protocol) MulPublic(a mpc.AShare, c []uint64) mpc.AShare {
	x := as(a)
	y := &AShare{x: ring128.Make(x.Len()), m: ring128.Make(x.Len())}
	ring128.MulU64(y.x, x.x, c)
	ring128.MulU64(y.m, x.m, c)
	return y
}

func (p *Protocol) Add(a, b mpc.AShare) mpc.AShare {
	x, y := as(a), as(b)
	z := &AShare{x: ring128.Make(x.Len()), m: ring128.Make(x.Len())}
	ring128.Add(z.x, x.x, y.x)
	ring128.Add(z.m, x.m, y.m)
	return z
}

func (p *Protocol) Sub(a, b mpc.AShare) mpc.AShare {
	x, y := as(a), as(b)
	z := &AShare{x: ring128.Make(x.Len()), m: ring128.Make(x.Len())}
	ring128.Sub(z.x, x.x, y.x)
	ring128.Sub(z.m, x.m, y.m)
	return z
}

func (p *Protocol) Neg(a mpc.AShare) mpc.AShare {
	x := as(a)
	z := &AShare{x: ring128.Make(x.Len()), m: ring128.Make(x.Len())}
	ring128.Neg(z.x, x.x)
	ring128.Neg(z.m, x.m)
	return z
}

func (p *Protocol) Gather(x mpc.AShare, idx []int32) mpc.AShare {
	s := as(x)
	return &AShare{x: ring128.Gather(s.x, idx), m: ring128.Gather(s.m, idx)}
}

func (p *Protocol) Concat(xs ...mpc.AShare) mpc.AShare {
	vs, ms := make([]ring128.Vec, len(xs)), make([]ring128.Vec, len(xs))
	for i, x := range xs {
		vs[i], ms[i] = as(x).x, as(x).m
	}
	return &AShare{x: ring128.Concat(vs...), m: ring128.Concat(ms...)}
}

func (p *Protocol) SumGroups(x mpc.AShare, k int) mpc.AShare {
	s := as(x)
	return &AShare{x: ring128.SumGroups(s.x, k), m: ring128.SumGroups(s.m, k)}
}

// open2 partially opens x and y together (one round), recording both for the MAC check.
func (p *Protocol) open2(what string, x, y *AShare) (ring128.Vec, ring128.Vec, error) {
	both := ring128.Concat(x.x, y.x)
	v, err := p.exchangeVec(what, both)
	if err != nil {
		return ring128.Vec{}, ring128.Vec{}, err
	}
	n := x.Len()
	p.check.opened(v, ring128.Concat(x.m, y.m))
	return v.Slice(0, n), v.Slice(n, v.Len()), nil
}

// beaver computes [f(X, Y)] with an authenticated triple ([A], [B], [C = f(A, B)]): both
// open E = X - A and F = Y - B; Z = C + f(E, B) + f(A, F) + f(E, F) (the public term on
// party 0's component, alpha_i f(E, F) on each MAC share).
func (p *Protocol) beaver(op string, f bilinear, x, y *AShare) (mpc.AShare, error) {
	var a, b, c *AShare
	_, _, nc := f.sizes()
	if err := p.offlineDo("Triple "+op, nc, 1, func() (err error) { a, b, c, err = p.src.Triple(f); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k %s: triple: %w", op, err)
	}
	e, fv, err := p.open2(op, as(p.Sub(x, a)), as(p.Sub(y, b)))
	if err != nil {
		return nil, fmt.Errorf("spdz2k %s: %w", op, err)
	}
	z := &AShare{x: c.x.Clone(), m: c.m.Clone()}
	f.apply(z.x, e, b.x)
	f.apply(z.x, a.x, fv)
	f.apply(z.m, e, b.m)
	f.apply(z.m, a.m, fv)
	_, _, nOut := f.sizes()
	ef := ring128.Make(nOut)
	f.apply(ef, e, fv)
	if p.id == 0 {
		ring128.Add(z.x, z.x, ef)
	}
	ring128.MulU64(ef, ef, []uint64{p.alpha})
	ring128.Add(z.m, z.m, ef)
	if err := p.maybeVerify(); err != nil {
		return nil, err
	}
	return z, nil
}

// Mul multiplies elementwise.
func (p *Protocol) Mul(a, b mpc.AShare) (mpc.AShare, error) {
	if a.Len() != b.Len() {
		return nil, errs.New(errs.Shape, "spdz2k Mul: lengths %d and %d", a.Len(), b.Len())
	}
	return p.beaver("Mul", gatherMul{xLen: a.Len(), wLen: b.Len(), k: 1}, as(a), as(b))
}

// MulSum returns y[i] = sum_{j<k} a[i*k+j] b[i*k+j].
func (p *Protocol) MulSum(a, b mpc.AShare, k int) (mpc.AShare, error) {
	if a.Len() != b.Len() || k < 1 || a.Len()%k != 0 {
		return nil, errs.New(errs.Shape, "spdz2k MulSum: lengths %d and %d in groups of %d", a.Len(), b.Len(), k)
	}
	return p.beaver("MulSum", gatherMul{xLen: a.Len(), wLen: b.Len(), k: k}, as(a), as(b))
}

// MatMul multiplies a [m,k] by b [k,n].
func (p *Protocol) MatMul(a, b mpc.AShare, m, k, n int) (mpc.AShare, error) {
	if a.Len() != m*k || b.Len() != k*n {
		return nil, errs.New(errs.Shape, "spdz2k MatMul: lengths %d and %d for [%d,%d]x[%d,%d]", a.Len(), b.Len(), m, k, k, n)
	}
	return p.beaver("MatMul", matMul{m, k, n}, as(a), as(b))
}

// GatherMulSum returns y[i] = sum_{j<k} x[xIdx[i*k+j]] w[wIdx[i*k+j]] (x[-1] = 0), with a
// triple for the gathered map (E of x's length, F of w's), or MulSum of the gathered
// operands when those are shorter (fewer opened elements).
func (p *Protocol) GatherMulSum(x mpc.AShare, xIdx []int32, w mpc.AShare, wIdx []int32, k int) (mpc.AShare, error) {
	if err := checkGather(x.Len(), xIdx, w.Len(), wIdx, k); err != nil {
		return nil, errs.New(errs.Shape, "spdz2k GatherMulSum: %v", err)
	}
	if len(xIdx)+len(wIdx) <= x.Len()+w.Len() {
		return p.MulSum(p.Gather(x, xIdx), p.Gather(w, wIdx), k)
	}
	return p.beaver("GatherMulSum", gatherMul{xLen: x.Len(), wLen: w.Len(), xIdx: xIdx, wIdx: wIdx, k: k}, as(x), as(w))
}

// Open reveals x mod 2^64 to party to (to < 0: to both) after checking everything so
// far: both open y = x + 2^64 t ([t] random), minus r (an input mask of party to) if to
// >= 0, and y's MACs are checked before anyone uses it.
func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	v, err := p.open128(x, to)
	if err != nil || v.Lo == nil {
		return nil, err
	}
	return v.Lo, nil
}

// open128 is Open returning, to each party that learns the value, the whole Z_2^128
// element it reconstructs (x + 2^64 t: its high word is uniform; TestOpenHighWord).
func (p *Protocol) open128(x mpc.AShare, to int) (ring128.Vec, error) {
	if err := checkParty("Open", to, true); err != nil {
		return ring128.Vec{}, err
	}
	if err := p.Verify(); err != nil {
		return ring128.Vec{}, fmt.Errorf("spdz2k Open: %w", err)
	}
	s := as(x)
	n := s.Len()
	var y *AShare
	var r ring128.Vec
	err := p.offlineDo("Open", n, 1, func() error {
		// 2^64 t for a random [t] randomises the bits from 64 up (the low word of t becomes
		// the high word), which carry the overflow of earlier products: whoever learns the
		// value, everyone or party to, learns only its low 64 bits.
		t, err := p.src.Random(n)
		if err != nil {
			return err
		}
		y = &AShare{x: s.x.Clone(), m: s.m.Clone()}
		ring128.Add(y.x, y.x, ring128.Vec{Lo: make([]uint64, n), Hi: t.x.Lo})
		ring128.Add(y.m, y.m, ring128.Vec{Lo: make([]uint64, n), Hi: t.m.Lo})
		if to < 0 {
			return nil
		}
		// Opened to party to only: both open y - r for an input mask r that only to knows.
		var mk *AShare
		if r, mk, err = p.src.InputMask(to, n); err != nil {
			return err
		}
		y = as(p.Sub(y, mk))
		return nil
	})
	if err != nil {
		return ring128.Vec{}, fmt.Errorf("spdz2k Open: %w", err)
	}
	v, err := p.exchangeVec("output", y.x)
	if err != nil {
		return ring128.Vec{}, fmt.Errorf("spdz2k Open: %w", err)
	}
	p.check.opened(v, y.m)
	if err := p.runCheck(); err != nil {
		return ring128.Vec{}, fmt.Errorf("spdz2k Open: %w", err)
	}
	switch {
	case to < 0:
		return v, nil
	case to == p.id:
		out := ring128.Make(n)
		ring128.Add(out, v, r)
		return out, nil
	}
	return ring128.Vec{}, nil
}
