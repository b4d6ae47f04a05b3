// Package plain is the insecure emulation of an MPC protocol: every party holds the
// cleartext of every value. It implements mpc.Protocol with the same call pattern as the
// secure protocols and is the oracle against which the protocol-generic building blocks
// are tested, and a debugging aid for the engine.
//
// Protocol: "plain" (no source; no secrecy, no integrity). Any number n >= 1 of parties.
// Messages: Input sends the owner's values (8 bytes per element) to every other party, one
// message each, one round. All other methods are local: Open returns the value the party
// already holds (to parties other than the receiver it returns nil, as a secure protocol
// would), and Mul, AND, A2B, B2A, ... compute on the cleartext.
//
// Binary shares hold the bit-sliced cleartext planes (see ring.ToPlanes); padding bits of the
// last word of each plane are kept zero.
package plain

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Name is the protocol's qmpc name.
const Name = "plain"

// Spec is plain's registry entry: no secrecy, any number of parties (3 by default, like
// rep3, so that the same tests run both).
var Spec = mpc.Spec{
	Name: Name, Summary: "no security: the same secure code path in the clear (debugging, oracle)",
	MinParties: 1, DefaultParties: 3,
	Corruption: mpc.NoCorruption, Security: mpc.NoSecurity, Domain: mpc.Ring64,
	New:       func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) { return New(conn, opt) },
	NewDealer: func(n int) (mpc.Dealer, error) { return Dealer{N: n}, nil },
}

// AShare is plain's arithmetic share: the cleartext vector.
type AShare struct{ v []uint64 }

// Len is the number of elements.
func (a *AShare) Len() int { return len(a.v) }

// BShare is plain's binary share: w planes of ring.Words(n) words of cleartext bits.
type BShare struct {
	n, w   int
	planes []uint64
}

// Len is the number of elements.
func (b *BShare) Len() int { return b.n }

// Width is the number of bits per element.
func (b *BShare) Width() int { return b.w }

// FromValues wraps a cleartext vector as a plain share (the slice is kept, not copied).
func FromValues(v []uint64) mpc.AShare { return &AShare{v} }

// Values returns the cleartext held by a plain share (not a copy: do not modify).
func Values(x mpc.AShare) []uint64 { return as(x).v }

// FromPlanes wraps bit-sliced planes (w*ring.Words(n) words, kept) as a plain binary share.
func FromPlanes(planes []uint64, n, w int) mpc.BShare {
	if len(planes) != w*ring.Words(n) {
		panic(fmt.Sprintf("plain.FromPlanes: %d words for n=%d w=%d", len(planes), n, w))
	}
	return &BShare{n, w, planes}
}

// Planes returns the planes of a plain binary share (not a copy: do not modify).
func Planes(x mpc.BShare) []uint64 { return bs(x).planes }

// Protocol is one party of the plain protocol.
type Protocol struct {
	conn net.Conn
}

var _ mpc.Protocol = (*Protocol)(nil)

// New returns party conn.ID()'s endpoint. No communication.
func New(conn net.Conn, opt mpc.Options) (*Protocol, error) {
	if err := mpc.OnlyDefaultPreprocessing(Name, opt); err != nil {
		return nil, err
	}
	if conn == nil || conn.N() < 1 {
		return nil, errs.New(errs.Config, "plain: need a connection with at least one party")
	}
	return &Protocol{conn: conn}, nil
}

func (p *Protocol) Name() string   { return Name }
func (p *Protocol) ID() int        { return p.conn.ID() }
func (p *Protocol) N() int         { return p.conn.N() }
func (p *Protocol) Conn() net.Conn { return p.conn }

func as(x mpc.AShare) *AShare {
	a, ok := x.(*AShare)
	if !ok {
		panic(fmt.Sprintf("plain: arithmetic share of type %T", x))
	}
	return a
}

func bs(x mpc.BShare) *BShare {
	b, ok := x.(*BShare)
	if !ok {
		panic(fmt.Sprintf("plain: binary share of type %T", x))
	}
	return b
}

func sameLen(op string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("plain.%s: lengths %d and %d", op, a, b))
	}
}

func (p *Protocol) checkParty(op string, i int, allowAll bool) error {
	if (allowAll && i < 0) || (i >= 0 && i < p.N()) {
		return nil
	}
	return errs.New(errs.Config, "plain %s: party %d out of range [0,%d)", op, i, p.N())
}

// Input: the owner sends its values to every other party.
func (p *Protocol) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	if err := p.checkParty("input", owner, false); err != nil {
		return nil, err
	}
	c := p.conn
	if c.ID() == owner {
		if len(vals) != n {
			return nil, errs.New(errs.Shape, "plain input: %d values, want %d", len(vals), n)
		}
		msg := ring.ToBytes(vals)
		for j := range c.N() {
			if j != owner {
				if err := c.Send(j, msg); err != nil {
					return nil, fmt.Errorf("plain input: %w", err)
				}
			}
		}
		if err := c.Flush(); err != nil {
			return nil, fmt.Errorf("plain input: %w", err)
		}
		return &AShare{ring.Clone(vals)}, nil
	}
	msg, err := c.Recv(owner)
	if err != nil {
		return nil, fmt.Errorf("plain input: %w", err)
	}
	v, err := ring.FromBytes(msg, n)
	if err != nil {
		return nil, errs.New(errs.Party, "plain input from party %d: %v", owner, err)
	}
	return &AShare{v}, nil
}

// Open returns the cleartext to party to (all if to < 0); others get nil.
func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	if err := p.checkParty("open", to, true); err != nil {
		return nil, err
	}
	if to >= 0 && to != p.ID() {
		return nil, nil
	}
	return ring.Clone(as(x).v), nil
}

func (p *Protocol) Public(vals []uint64) mpc.AShare { return &AShare{ring.Clone(vals)} }

func (p *Protocol) Add(a, b mpc.AShare) mpc.AShare {
	x, y := as(a), as(b)
	z := make([]uint64, len(x.v))
	ring.Add(z, x.v, y.v)
	return &AShare{z}
}

func (p *Protocol) Sub(a, b mpc.AShare) mpc.AShare {
	x, y := as(a), as(b)
	z := make([]uint64, len(x.v))
	ring.Sub(z, x.v, y.v)
	return &AShare{z}
}

func (p *Protocol) Neg(a mpc.AShare) mpc.AShare {
	x := as(a)
	z := make([]uint64, len(x.v))
	ring.Neg(z, x.v)
	return &AShare{z}
}

func (p *Protocol) AddPublic(a mpc.AShare, c []uint64) mpc.AShare {
	x := as(a)
	z := make([]uint64, len(x.v))
	ring.AddPublic(z, x.v, c)
	return &AShare{z}
}

func (p *Protocol) MulPublic(a mpc.AShare, c []uint64) mpc.AShare {
	x := as(a)
	z := make([]uint64, len(x.v))
	ring.MulPublic(z, x.v, c)
	return &AShare{z}
}

func (p *Protocol) Gather(x mpc.AShare, idx []int32) mpc.AShare {
	return &AShare{ring.Gather(as(x).v, idx)}
}

func (p *Protocol) Concat(xs ...mpc.AShare) mpc.AShare {
	vs := make([][]uint64, len(xs))
	for i, x := range xs {
		vs[i] = as(x).v
	}
	return &AShare{ring.Concat(vs...)}
}

func (p *Protocol) SumGroups(x mpc.AShare, k int) mpc.AShare {
	return &AShare{ring.SumGroups(as(x).v, k)}
}

// Mul multiplies locally.
func (p *Protocol) Mul(a, b mpc.AShare) (mpc.AShare, error) {
	x, y := as(a), as(b)
	if len(x.v) != len(y.v) {
		return nil, errs.New(errs.Shape, "plain mul: lengths %d and %d", len(x.v), len(y.v))
	}
	z := make([]uint64, len(x.v))
	ring.Mul(z, x.v, y.v)
	return &AShare{z}, nil
}

// MulSum computes the grouped inner products locally.
func (p *Protocol) MulSum(a, b mpc.AShare, k int) (mpc.AShare, error) {
	x, y := as(a), as(b)
	if len(x.v) != len(y.v) || k < 1 || len(x.v)%k != 0 {
		return nil, errs.New(errs.Shape, "plain mulsum: lengths %d and %d, k=%d", len(x.v), len(y.v), k)
	}
	z := make([]uint64, len(x.v))
	ring.Mul(z, x.v, y.v)
	return &AShare{ring.SumGroups(z, k)}, nil
}

// MatMul multiplies locally.
func (p *Protocol) MatMul(a, b mpc.AShare, m, k, n int) (mpc.AShare, error) {
	x, y := as(a), as(b)
	if m < 0 || k < 0 || n < 0 || len(x.v) != m*k || len(y.v) != k*n {
		return nil, errs.New(errs.Shape, "plain matmul: lengths %d and %d for [%d,%d]x[%d,%d]", len(x.v), len(y.v), m, k, k, n)
	}
	z := make([]uint64, m*n)
	ring.MatMul(z, x.v, y.v, m, k, n)
	return &AShare{z}, nil
}

func (p *Protocol) BPublic(vals []uint64, w int) mpc.BShare {
	return &BShare{len(vals), w, ring.ToPlanes(vals, w)}
}

func sameShape(op string, x, y *BShare) {
	if x.n != y.n || x.w != y.w {
		panic(fmt.Sprintf("plain.%s: shapes (n=%d,w=%d) and (n=%d,w=%d)", op, x.n, x.w, y.n, y.w))
	}
}

func (p *Protocol) XOR(a, b mpc.BShare) mpc.BShare {
	x, y := bs(a), bs(b)
	sameShape("XOR", x, y)
	z := make([]uint64, len(x.planes))
	ring.Xor(z, x.planes, y.planes)
	return &BShare{x.n, x.w, z}
}

func (p *Protocol) NOT(a mpc.BShare) mpc.BShare {
	x := bs(a)
	z := make([]uint64, len(x.planes))
	ring.Not(z, x.planes)
	ring.MaskTail(z, x.n)
	return &BShare{x.n, x.w, z}
}

// AND computes the pairs locally.
func (p *Protocol) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	if len(a) != len(b) {
		return nil, errs.New(errs.Shape, "plain and: %d and %d operands", len(a), len(b))
	}
	out := make([]mpc.BShare, len(a))
	for i := range a {
		x, y := bs(a[i]), bs(b[i])
		if x.n != y.n || x.w != y.w {
			return nil, errs.New(errs.Shape, "plain and: pair %d: shapes (n=%d,w=%d) and (n=%d,w=%d)", i, x.n, x.w, y.n, y.w)
		}
		z := make([]uint64, len(x.planes))
		ring.And(z, x.planes, y.planes)
		out[i] = &BShare{x.n, x.w, z}
	}
	return out, nil
}

func (p *Protocol) Bits(a mpc.BShare, lo, w int) mpc.BShare {
	x := bs(a)
	if lo < 0 || w < 0 || lo+w > x.w {
		panic(fmt.Sprintf("plain.Bits: planes [%d,%d) of %d", lo, lo+w, x.w))
	}
	nw := ring.Words(x.n)
	return &BShare{x.n, w, ring.Clone(x.planes[lo*nw : (lo+w)*nw])}
}

func (p *Protocol) JoinBits(xs ...mpc.BShare) mpc.BShare {
	if len(xs) == 0 {
		return &BShare{}
	}
	n := xs[0].Len()
	var planes []uint64
	w := 0
	for _, a := range xs {
		x := bs(a)
		sameLen("JoinBits", n, x.n)
		planes = append(planes, x.planes...)
		w += x.w
	}
	if planes == nil {
		planes = []uint64{}
	}
	return &BShare{n, w, planes}
}

func (p *Protocol) BGather(a mpc.BShare, idx []int32) mpc.BShare {
	x := bs(a)
	return &BShare{len(idx), x.w, ring.GatherBits(x.planes, x.n, x.w, idx)}
}

// OpenB returns the w-bit values to party to (all if to < 0); others get nil.
func (p *Protocol) OpenB(a mpc.BShare, to int) ([]uint64, error) {
	if err := p.checkParty("openb", to, true); err != nil {
		return nil, err
	}
	if to >= 0 && to != p.ID() {
		return nil, nil
	}
	x := bs(a)
	return ring.FromPlanes(x.planes, x.n, x.w), nil
}

// A2B bit-slices the w low bits locally.
func (p *Protocol) A2B(a mpc.AShare, w int) (mpc.BShare, error) {
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "plain a2b: width %d not in [1,64]", w)
	}
	x := as(a)
	return &BShare{len(x.v), w, ring.ToPlanes(x.v, w)}, nil
}

// B2A un-slices locally.
func (p *Protocol) B2A(a mpc.BShare) (mpc.AShare, error) {
	x := bs(a)
	return &AShare{ring.FromPlanes(x.planes, x.n, x.w)}, nil
}

// Bit2A converts a 1-bit share locally.
func (p *Protocol) Bit2A(a mpc.BShare) (mpc.AShare, error) {
	x := bs(a)
	if x.w != 1 {
		return nil, errs.New(errs.Internal, "plain bit2a: width %d, want 1", x.w)
	}
	return &AShare{ring.FromPlanes(x.planes, x.n, 1)}, nil
}
