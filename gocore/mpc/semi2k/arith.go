package semi2k

import (
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Input shares vals of party owner with no message: the owner's component is vals, the
// other's 0, and the share is held by owner. Its public range is unknown (InputRange
// declares one).
func (p *Protocol) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	return p.InputRange(owner, vals, n, 1, 0)
}

// InputRange is Input with a public range [lo, hi] of the values (lo > hi: unknown),
// which one-sided products use to size their correlations. The owner checks that its
// values lie in it. It implements mpc.RangedInput.
func (p *Protocol) InputRange(owner int, vals []uint64, n int, lo, hi int64) (mpc.AShare, error) {
	r := mkSpan(lo, hi)
	if err := checkParty("input", owner, false); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errs.New(errs.Shape, "semi2k input: negative length %d", n)
	}
	if p.id == owner {
		if len(vals) != n {
			return nil, errs.New(errs.Shape, "semi2k input: %d values, want %d", len(vals), n)
		}
		if r.ok {
			for i, x := range vals {
				if int64(x) < lo || int64(x) > hi {
					return nil, errs.New(errs.Internal, "semi2k input: value %d at %d outside the declared range [%d, %d]", int64(x), i, lo, hi)
				}
			}
		}
		return &AShare{slices.Clone(vals), owner, r}, nil
	}
	return &AShare{make([]uint64, n), owner, r}, nil
}

// Open reveals x to party to (both if to < 0): the party that does not receive sends its
// component, unless x is held by the receiver; the others get nil.
func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	if err := checkParty("open", to, true); err != nil {
		return nil, err
	}
	s := as(x)
	v, err := p.open(s.v, s.held, to, false)
	if err != nil {
		return nil, fmt.Errorf("semi2k open: %w", err)
	}
	return v, nil
}

// open reveals the value with component v (held by held, or -1) to party to (both if to
// < 0), XOR-combined if xor.
func (p *Protocol) open(v []uint64, held, to int, xor bool) ([]uint64, error) {
	if held >= 0 { // the holder's component is the value
		if held != p.id && (to < 0 || to == p.id) {
			return p.recvCopy(len(v))
		}
		if held == p.id && (to < 0 || to == p.other) {
			if err := p.send(v); err != nil {
				return nil, err
			}
		}
		if to >= 0 && to != p.id {
			return nil, nil
		}
		return slices.Clone(v), nil
	}
	if to < 0 || to == p.other {
		if err := p.send(v); err != nil {
			return nil, err
		}
	}
	if to >= 0 && to != p.id {
		return nil, nil
	}
	m, err := p.recv(len(v))
	if err != nil {
		return nil, err
	}
	c := make([]uint64, len(v))
	if xor {
		ring.Xor(c, m, v)
	} else {
		ring.Add(c, m, v)
	}
	return c, nil
}

// recvCopy receives n words into a fresh slice.
func (p *Protocol) recvCopy(n int) ([]uint64, error) {
	m, err := p.recv(n)
	if err != nil {
		return nil, err
	}
	return slices.Clone(m), nil
}

// Public shares a public vector as held by party 0: no communication.
func (p *Protocol) Public(vals []uint64) mpc.AShare {
	if p.id == 0 {
		return &AShare{slices.Clone(vals), 0, spanOf(vals)}
	}
	return &AShare{make([]uint64, len(vals)), 0, spanOf(vals)}
}

func sameLen(op string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("semi2k.%s: lengths %d and %d", op, a, b))
	}
}

func (p *Protocol) Add(x, y mpc.AShare) mpc.AShare {
	s, t := as(x), as(y)
	sameLen("Add", len(s.v), len(t.v))
	z := make([]uint64, len(s.v))
	ring.Add(z, s.v, t.v)
	return &AShare{z, sameHeld(s.held, t.held), s.r.add(t.r)}
}

func (p *Protocol) Sub(x, y mpc.AShare) mpc.AShare {
	s, t := as(x), as(y)
	sameLen("Sub", len(s.v), len(t.v))
	z := make([]uint64, len(s.v))
	ring.Sub(z, s.v, t.v)
	return &AShare{z, sameHeld(s.held, t.held), s.r.add(t.r.neg())}
}

func (p *Protocol) Neg(x mpc.AShare) mpc.AShare {
	s := as(x)
	z := make([]uint64, len(s.v))
	ring.Neg(z, s.v)
	return &AShare{z, s.held, s.r.neg()}
}

// publicAdder is the party that adds public constants to a share held by held: the
// holder, or party 0.
func publicAdder(held int) int { return max(held, 0) }

// AddPublic adds c to the component of the holder (party 0 if x is not held). The other
// component is shared with x, not copied (shares are immutable).
func (p *Protocol) AddPublic(x mpc.AShare, c []uint64) mpc.AShare {
	s := as(x)
	if len(c) != 1 {
		sameLen("AddPublic", len(s.v), len(c))
	}
	r := s.r.add(spanOf(c))
	if p.id != publicAdder(s.held) {
		return &AShare{s.v, s.held, r}
	}
	z := make([]uint64, len(s.v))
	ring.AddPublic(z, s.v, c)
	return &AShare{z, s.held, r}
}

func (p *Protocol) MulPublic(x mpc.AShare, c []uint64) mpc.AShare {
	s := as(x)
	if len(c) != 1 {
		sameLen("MulPublic", len(s.v), len(c))
	}
	z := make([]uint64, len(s.v))
	ring.MulPublic(z, s.v, c)
	return &AShare{z, s.held, s.r.mul(spanOf(c))}
}

func (p *Protocol) Gather(x mpc.AShare, idx []int32) mpc.AShare {
	s := as(x)
	r := s.r
	if slices.ContainsFunc(idx, func(i int32) bool { return i < 0 }) { // zeros come in
		r = r.union(mkSpan(0, 0))
	}
	return &AShare{ring.Gather(s.v, idx), s.held, r}
}

func (p *Protocol) Concat(xs ...mpc.AShare) mpc.AShare {
	vs, hs := make([][]uint64, len(xs)), make([]int, len(xs))
	r := mkSpan(0, 0)
	for i, x := range xs {
		s := as(x)
		vs[i], hs[i] = s.v, s.held
		if i == 0 {
			r = s.r
		} else {
			r = r.union(s.r)
		}
	}
	return &AShare{ring.Concat(vs...), sameHeld(hs...), r}
}

func (p *Protocol) SumGroups(x mpc.AShare, k int) mpc.AShare {
	s := as(x)
	return &AShare{ring.SumGroups(s.v, k), s.held, s.r.scale(k)}
}

// Mul multiplies elementwise (a Beaver triple per element). One round.
func (p *Protocol) Mul(x, y mpc.AShare) (mpc.AShare, error) {
	s, t := as(x), as(y)
	if len(s.v) != len(t.v) {
		return nil, errs.New(errs.Shape, "semi2k mul: lengths %d and %d", len(s.v), len(t.v))
	}
	z, err := p.product(gatherMul{len(s.v), len(t.v), nil, nil, 1}, s, t)
	if err != nil {
		return nil, fmt.Errorf("semi2k mul: %w", err)
	}
	return z, nil
}

// MulSum returns y[i] = sum_{j<k} x[i*k+j] w[i*k+j]. One round.
func (p *Protocol) MulSum(x, y mpc.AShare, k int) (mpc.AShare, error) {
	s, t := as(x), as(y)
	if len(s.v) != len(t.v) || k < 1 || len(s.v)%k != 0 {
		return nil, errs.New(errs.Shape, "semi2k mulsum: lengths %d and %d, k=%d", len(s.v), len(t.v), k)
	}
	z, err := p.product(gatherMul{len(s.v), len(t.v), nil, nil, k}, s, t)
	if err != nil {
		return nil, fmt.Errorf("semi2k mulsum: %w", err)
	}
	return z, nil
}

// GatherMulSum is MulSum(Gather(x, xIdx), Gather(w, wIdx), k) without the gathered
// copies: the triple (or one-sided correlation) has the shapes of x and w, so the
// messages are len(x) + len(w) words per party (or len(x) words from the non-owner when w
// is held), unless the gathered operands are smaller (then it is MulSum of the gathers).
// It implements mpc.GatherMulSummer.
func (p *Protocol) GatherMulSum(x mpc.AShare, xIdx []int32, w mpc.AShare, wIdx []int32, k int) (mpc.AShare, error) {
	s, t := as(x), as(w)
	if len(xIdx) != len(wIdx) || k < 1 || len(xIdx)%k != 0 {
		return nil, errs.New(errs.Shape, "semi2k gathermulsum: %d and %d indices, k=%d", len(xIdx), len(wIdx), k)
	}
	f := gatherMul{len(s.v), len(t.v), xIdx, wIdx, k}
	// Words sent: len(x) + len(w) (Beaver) or len(x) (one-sided), or the same for the
	// gathered operands: whichever is smaller.
	ungathered, gathered := len(s.v)+len(t.v), 2*len(xIdx)
	if p.oneSidedFor(s, t) {
		ungathered, gathered = len(s.v), len(xIdx)
	}
	if gathered < ungathered && sameHeld(s.held, t.held) < 0 {
		s, t = as(p.Gather(s, xIdx)), as(p.Gather(t, wIdx))
		f = gatherMul{len(s.v), len(t.v), nil, nil, k}
	}
	z, err := p.product(f, s, t)
	if err != nil {
		return nil, fmt.Errorf("semi2k gathermulsum: %w", err)
	}
	return z, nil
}

// MatMul multiplies x [m,k] by y [k,n]. One round.
func (p *Protocol) MatMul(x, y mpc.AShare, m, k, n int) (mpc.AShare, error) {
	s, t := as(x), as(y)
	if m < 0 || k < 0 || n < 0 || len(s.v) != m*k || len(t.v) != k*n {
		return nil, errs.New(errs.Shape, "semi2k matmul: lengths %d and %d for [%d,%d]x[%d,%d]", len(s.v), len(t.v), m, k, k, n)
	}
	var z *AShare
	var err error
	if s.held >= 0 && t.held != s.held && (t.held < 0 || bitsOf(s) < bitsOf(t)) {
		// Only the left operand is held (or both are, by different parties, and the left
		// one is declared narrower): it is the one-sided product's W, f(X, W) = W X.
		z, err = p.product(matMulLeft{m, k, n}, t, s)
	} else {
		z, err = p.product(matMul{m, k, n}, s, t)
	}
	if err != nil {
		return nil, fmt.Errorf("semi2k matmul: %w", err)
	}
	return z, nil
}

// bitsOf is the width class of x's values from their public range (span.go): 9, 17, 33
// or 64 bits.
func bitsOf(x *AShare) int { return bitsFor(x.r) }

// matMulLeft is f(X, W) = W X for W [m,k] and X [k,n].
type matMulLeft struct{ m, k, n int }

func (f matMulLeft) Sizes() (int, int, int) { return f.k * f.n, f.m * f.k, f.m * f.n }

func (f matMulLeft) Apply(out, x, w []uint64) { ring.MatMulAdd(out, w, x, f.m, f.k, f.n) }

// product computes f(x, w): locally if both are held by the same party, with a one-sided
// correlation if w is held (and the source has them), else with a Beaver triple of f.
func (p *Protocol) product(f Bilinear, x, w *AShare) (*AShare, error) {
	_, _, lo := f.Sizes()
	z := make([]uint64, lo)
	if h := sameHeld(x.held, w.held); h >= 0 {
		if p.id == h {
			f.Apply(z, x.v, w.v)
		}
		return &AShare{v: z, held: h}, nil
	}
	if p.oneSidedFor(x, w) {
		ok, err := p.oneSided(f, x, w, z)
		if ok || err != nil {
			return &AShare{v: z, held: -1}, err
		}
	}
	return &AShare{v: z, held: -1}, p.beaver(f, x, w, z)
}

// beaver sets z = f(x, w) with a triple (A, B, C = f(A, B)): both parties send their
// components of E = x - A and F = w - B in one message; z = C + f(E, B + [p0] F) + f(A, F).
func (p *Protocol) beaver(f Bilinear, x, w *AShare, z []uint64) error {
	var a, b, c []uint64
	err := p.offlineDo(func() (err error) {
		switch g := f.(type) {
		case matMul:
			a, b, c, err = p.src.MatTriples(g.m, g.k, g.n)
		case matMulLeft: // f(A, B) = B A: a matrix triple with its operands swapped
			b, a, c, err = p.src.MatTriples(g.m, g.k, g.n)
		case gatherMul:
			a, b, c, err = p.src.GatherTriples(g.xLen, g.xIdx, g.wLen, g.wIdx, g.k)
		default:
			err = errs.New(errs.Internal, "no triples for %T", f)
		}
		return err
	})
	if err != nil {
		return err
	}
	lx, lw := len(x.v), len(w.v)
	p.used.TripleWords += int64(lx + lw)
	msg := make([]uint64, lx+lw)
	ring.Sub(msg[:lx], x.v, a)
	ring.Sub(msg[lx:], w.v, b)
	other, err := p.exchange(msg)
	if err != nil {
		return err
	}
	e, fw := make([]uint64, lx), make([]uint64, lw) // msg was sent: not reused
	ring.Add(e, msg[:lx], other[:lx])
	ring.Add(fw, msg[lx:], other[lx:])
	copy(z, c)
	bf := b
	if p.id == 0 {
		bf = make([]uint64, lw)
		ring.Add(bf, b, fw)
	}
	f.Apply(z, e, bf)
	f.Apply(z, a, fw)
	return nil
}

// macs is the number of multiplications of f (a one-sided product's correlation words
// per bit of W).
func macs(f Bilinear) int64 {
	switch g := f.(type) {
	case matMul:
		return int64(g.m) * int64(g.k) * int64(g.n)
	case matMulLeft:
		return int64(g.m) * int64(g.k) * int64(g.n)
	case gatherMul:
		_, _, lo := g.Sizes()
		return int64(lo) * int64(g.k)
	}
	return 0
}

// oneSidedFor tells whether f(x, w) uses a one-sided correlation: w held by one party, x
// not, and a source that makes them.
func (p *Protocol) oneSidedFor(x, w *AShare) bool {
	return w.held >= 0 && x.held != w.held && p.kind == PreprocessingOT
}

// oneSided sets z = f(x, w) for w held by its owner with a one-sided correlation (R, f(R,
// W)): the non-owner sends D = x_q - R, the owner adds f(x_o + D, W). It returns false if
// the source has no one-sided correlations.
func (p *Protocol) oneSided(f Bilinear, x, w *AShare, z []uint64) (bool, error) {
	owner := w.held
	var r, u []uint64
	bits := bitsOf(w) // public: from the range InputRange declared (checked there)
	err := p.offlineDo(func() error {
		var wv []uint64
		if p.id == owner {
			wv = w.v
		}
		var err error
		r, u, err = p.src.OneSided(f, owner, wv, bits)
		_, lw, _ := f.Sizes()
		p.used.OneSidedOTs += int64(lw * bits)
		p.used.OneSidedWords += macs(f) * int64(bits)
		return err
	})
	if err == errNoOneSided {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	copy(z, u)
	if p.id != owner {
		d := make([]uint64, len(x.v))
		ring.Sub(d, x.v, r)
		return true, p.send(d)
	}
	d, err := p.recv(len(x.v))
	if err != nil {
		return true, err
	}
	xd := make([]uint64, len(x.v))
	ring.Add(xd, x.v, d)
	f.Apply(z, xd, w.v)
	return true, nil
}
