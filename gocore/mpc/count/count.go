// Package count is a counting protocol: it implements mpc.Protocol (and every optional
// extension of package mpc that does not change which calls the blocks make; Splitter
// adds mpc.A2BSplitter and LeafSplitter mpc.LeafSplitter, which do) on shares that hold only their sizes, and records every call
// with its public sizes in an mpc.Demand. Running the engine on a model's public graph
// with it gives, exactly and without any data, what one inference asks of a protocol:
// how many products (and which have an operand held in the clear by one party), AND
// gates, conversions of each width, inputs and openings. Protocols with an offline phase
// turn that into their correlated-randomness needs (mpc.Preprocessor).
//
// This is sound because control flow never depends on secret data: the engine and the
// protocol-generic blocks call the protocol the same way whatever the values are (they
// open nothing), so the calls of a real run equal the counted calls.
//
// It sends nothing. Open and OpenB return zeros to the receiver, nil to the others.
package count

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
)

// AShare is a counted arithmetic share: its length, and the party that holds it in the
// clear (an input no other party's value has touched), or -1.
type AShare struct {
	n      int
	holder int
}

// Len is the number of elements.
func (a *AShare) Len() int { return a.n }

// BShare is a counted binary share: its shape, and whether it is public (from BPublic,
// and what only public values give: XOR, NOT, MaskB, Bits, JoinBits and BGather of
// public shares), as the two-party protocols keep it (an AND with a public operand is
// local there; Call.Public counts such bits).
type BShare struct {
	n, w int
	pub  bool
}

// Len is the number of elements.
func (b *BShare) Len() int { return b.n }

// Width is the number of bits per element.
func (b *BShare) Width() int { return b.w }

// Protocol counts the calls of party id of an n-party computation.
type Protocol struct {
	id, n int
	conn  net.Conn
	d     *mpc.Demand
}

var (
	_ mpc.Protocol        = (*Protocol)(nil)
	_ mpc.HighA2B         = (*Protocol)(nil)
	_ mpc.PublicMasker    = (*Protocol)(nil)
	_ mpc.GatherMulSummer = (*Protocol)(nil)
)

// New returns a counting endpoint that plays party id of n.
func New(id, n int) *Protocol {
	return &Protocol{id: id, n: n, conn: idle{id, n}, d: &mpc.Demand{}}
}

// Take returns the calls counted since the last Take and starts a new count.
func (p *Protocol) Take() *mpc.Demand {
	d := p.d
	p.d = &mpc.Demand{}
	return d
}

func (p *Protocol) add(c mpc.Call) {
	if c.Op != "Input" && c.Op != "Open" && c.Op != "OpenB" {
		c.Party = -1
	}
	switch c.Op {
	case "Mul", "MulSum", "MatMul", "GatherMulSum":
	default:
		c.HolderA, c.HolderB = -1, -1
	}
	p.d.Add(c, 1)
}

func (p *Protocol) Name() string   { return "count" }
func (p *Protocol) ID() int        { return p.id }
func (p *Protocol) N() int         { return p.n }
func (p *Protocol) Conn() net.Conn { return p.conn }

func as(x mpc.AShare) *AShare { return x.(*AShare) }
func bs(x mpc.BShare) *BShare { return x.(*BShare) }

// joint is the holder of a value computed from operands held by ha and hb.
func joint(ha, hb int) int {
	if ha == hb {
		return ha
	}
	return -1
}

func (p *Protocol) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	if owner < 0 || owner >= p.n {
		return nil, errs.New(errs.Internal, "count: input owner %d of %d parties", owner, p.n)
	}
	p.add(mpc.Call{Op: "Input", N: n, Party: owner})
	return &AShare{n, owner}, nil
}

func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	p.add(mpc.Call{Op: "Open", N: x.Len(), Party: to})
	if to >= 0 && to != p.id {
		return nil, nil
	}
	return make([]uint64, x.Len()), nil
}

// Public values are held by every party: as an operand they never make a product
// one-sided, so they count as held by nobody in particular (-2 never equals a party).
func (p *Protocol) Public(vals []uint64) mpc.AShare { return &AShare{len(vals), -2} }

func (p *Protocol) Add(a, b mpc.AShare) mpc.AShare {
	return &AShare{a.Len(), linear(as(a).holder, as(b).holder)}
}
func (p *Protocol) Sub(a, b mpc.AShare) mpc.AShare { return p.Add(a, b) }
func (p *Protocol) Neg(a mpc.AShare) mpc.AShare    { return a }
func (p *Protocol) AddPublic(a mpc.AShare, c []uint64) mpc.AShare {
	return a
}
func (p *Protocol) MulPublic(a mpc.AShare, c []uint64) mpc.AShare { return a }
func (p *Protocol) Gather(x mpc.AShare, idx []int32) mpc.AShare {
	return &AShare{len(idx), as(x).holder}
}
func (p *Protocol) Concat(xs ...mpc.AShare) mpc.AShare {
	n, h := 0, -2
	for i, x := range xs {
		n += x.Len()
		if i == 0 {
			h = as(x).holder
		} else {
			h = linear(h, as(x).holder)
		}
	}
	return &AShare{n, h}
}
func (p *Protocol) SumGroups(x mpc.AShare, k int) mpc.AShare {
	return &AShare{x.Len() / max(k, 1), as(x).holder}
}

// linear is the holder of a linear combination: public operands (-2) do not change it.
func linear(ha, hb int) int {
	switch {
	case ha == -2:
		return hb
	case hb == -2:
		return ha
	}
	return joint(ha, hb)
}

func holder(x mpc.AShare) int {
	if h := as(x).holder; h >= 0 {
		return h
	}
	return -1
}

func (p *Protocol) Mul(a, b mpc.AShare) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "Mul", N: a.Len(), HolderA: holder(a), HolderB: holder(b)})
	return &AShare{a.Len(), -1}, nil
}

func (p *Protocol) MulSum(a, b mpc.AShare, k int) (mpc.AShare, error) {
	n := a.Len() / max(k, 1)
	p.add(mpc.Call{Op: "MulSum", N: n, K: k, HolderA: holder(a), HolderB: holder(b)})
	return &AShare{n, -1}, nil
}

func (p *Protocol) MatMul(a, b mpc.AShare, m, k, n int) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "MatMul", M: m, K: k, N: n, HolderA: holder(a), HolderB: holder(b)})
	return &AShare{m * n, -1}, nil
}

func (p *Protocol) GatherMulSum(x mpc.AShare, xIdx []int32, w mpc.AShare, wIdx []int32, k int) (mpc.AShare, error) {
	n := len(xIdx) / max(k, 1)
	p.add(mpc.Call{Op: "GatherMulSum", N: n, K: k, XLen: x.Len(), WLen: w.Len(), HolderA: holder(x), HolderB: holder(w)})
	return &AShare{n, -1}, nil
}

func (p *Protocol) BPublic(vals []uint64, w int) mpc.BShare { return &BShare{len(vals), w, true} }
func (p *Protocol) XOR(a, b mpc.BShare) mpc.BShare {
	return &BShare{a.Len(), a.Width(), bs(a).pub && bs(b).pub}
}
func (p *Protocol) NOT(a mpc.BShare) mpc.BShare                  { return a }
func (p *Protocol) MaskB(x mpc.BShare, mask []uint64) mpc.BShare { return x }

// AND records one "AND" call: N the bits of all pairs, Words their bit-sliced words,
// Public the bits of the pairs with a public operand.
func (p *Protocol) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	bits, words, public := 0, 0, 0
	out := make([]mpc.BShare, len(a))
	for i, x := range a {
		bits += x.Len() * x.Width()
		words += x.Width() * ((x.Len() + 63) / 64)
		xp, yp := bs(x).pub, i < len(b) && bs(b[i]).pub
		if xp || yp {
			public += x.Len() * x.Width()
		}
		out[i] = &BShare{x.Len(), x.Width(), xp && yp}
	}
	p.add(mpc.Call{Op: "AND", N: bits, Words: words, Public: public})
	return out, nil
}

func (p *Protocol) Bits(x mpc.BShare, lo, w int) mpc.BShare { return &BShare{x.Len(), w, bs(x).pub} }
func (p *Protocol) JoinBits(xs ...mpc.BShare) mpc.BShare {
	w, pub := 0, true
	for _, x := range xs {
		w += x.Width()
		pub = pub && bs(x).pub
	}
	return &BShare{xs[0].Len(), w, pub}
}
func (p *Protocol) BGather(x mpc.BShare, idx []int32) mpc.BShare {
	return &BShare{len(idx), x.Width(), bs(x).pub}
}

func (p *Protocol) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	p.add(mpc.Call{Op: "OpenB", N: x.Len(), W: x.Width(), Party: to})
	if to >= 0 && to != p.id {
		return nil, nil
	}
	return make([]uint64, x.Len()), nil
}

func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	p.add(mpc.Call{Op: "A2B", N: x.Len(), W: w})
	return &BShare{x.Len(), w, false}, nil
}

func (p *Protocol) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	p.add(mpc.Call{Op: "A2B", N: x.Len(), W: w, Lo: lo})
	return &BShare{x.Len(), w - lo, false}, nil
}

func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "B2A", N: x.Len(), W: x.Width()})
	return &AShare{x.Len(), -1}, nil
}

func (p *Protocol) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "Bit2A", N: x.Len()})
	return &AShare{x.Len(), -1}, nil
}

// Splitter is a counting endpoint that also implements mpc.A2BSplitter, for counting what
// a protocol with that extension (rep3) asks: the blocks take other paths with it
// (requantization's fused circuit), so a protocol's demand is counted with the
// extensions it has (Protocol alone lacks this one).
type Splitter struct{ *Protocol }

// NewSplitter returns a counting endpoint with mpc.A2BSplitter for party id of n.
func NewSplitter(id, n int) *Splitter { return &Splitter{New(id, n)} }

// A2BSplit records the operands' input (an "A2BSplit" call of n elements, w bits).
func (p *Splitter) A2BSplit(x mpc.AShare, w int) (mpc.BShare, mpc.BShare, error) {
	p.add(mpc.Call{Op: "A2BSplit", N: x.Len(), W: w})
	return &BShare{x.Len(), w, false}, &BShare{x.Len(), w, false}, nil
}

// LeafSplitter is a counting endpoint that also implements mpc.LeafSplitter (rep3 without
// an Observer): the fused requantization takes its leaf form with it.
type LeafSplitter struct{ *Splitter }

// NewLeafSplitter returns a counting endpoint with mpc.LeafSplitter for party id of n.
func NewLeafSplitter(id, n int) *LeafSplitter { return &LeafSplitter{NewSplitter(id, n)} }

// LeafSplits is true.
func (p *LeafSplitter) LeafSplits() bool { return true }

// A2BSplitLeaves records one "A2BSplitLeaves" call of n elements: W the planes party 1
// inputs (bits of b and each distinct chunk's 2^K one-hot planes), K the leaves.
func (p *LeafSplitter) A2BSplitLeaves(x mpc.AShare, w, bits int, l *mpc.SplitLeaves) (mpc.BShare, mpc.BShare, []mpc.BShare, error) {
	in := bits
	seen := map[[2]int]bool{}
	for _, lf := range l.Leaves {
		if k := [2]int{lf.Lo, lf.K}; !seen[k] {
			seen[k] = true
			in += 1 << uint(lf.K)
		}
	}
	p.add(mpc.Call{Op: "A2BSplitLeaves", N: x.Len(), W: in, K: len(l.Leaves)})
	ls := make([]mpc.BShare, len(l.Leaves))
	for i := range ls {
		ls[i] = &BShare{x.Len(), 1, false}
	}
	return &BShare{x.Len(), bits, false}, &BShare{x.Len(), bits, false}, ls, nil
}

// A2BSplitArithLeaves records one "A2BSplitArithLeaves" call of n elements: W the one-hot
// words party 1 inputs per element (2^K per distinct chunk), K the leaves.
func (p *LeafSplitter) A2BSplitArithLeaves(x mpc.AShare, w int, l []mpc.ArithLeaf) ([]mpc.AShare, error) {
	in := 0
	seen := map[[2]int]bool{}
	for _, lf := range l {
		if k := [2]int{lf.Lo, lf.K}; !seen[k] {
			seen[k] = true
			in += 1 << uint(lf.K)
		}
	}
	p.add(mpc.Call{Op: "A2BSplitArithLeaves", N: x.Len(), W: in, K: len(l)})
	out := make([]mpc.AShare, len(l))
	for i := range out {
		out[i] = &AShare{x.Len(), -1}
	}
	return out, nil
}

// B2AAnd records a "B2AAnd" call (n elements, w bits).
func (p *LeafSplitter) B2AAnd(x, c, beta mpc.BShare) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "B2AAnd", N: x.Len(), W: x.Width()})
	return &AShare{x.Len(), -1}, nil
}

// ChunkB2A records a "ChunkB2A" call: n elements, W the words input per element (5 +
// len(xs), rep3's count).
func (p *LeafSplitter) ChunkB2A(l *mpc.SplitLeaves, sel mpc.BShare, xs []mpc.BShare, ws []uint64, c, beta mpc.BShare) (mpc.AShare, error) {
	p.add(mpc.Call{Op: "ChunkB2A", N: sel.Len(), W: 5 + len(xs)})
	return &AShare{sel.Len(), -1}, nil
}

// idle is the Conn of a counting party: it never carries a message.
type idle struct{ id, n int }

func (c idle) ID() int { return c.id }
func (c idle) N() int  { return c.n }
func (c idle) Send(to int, msg []byte) error {
	return errs.New(errs.Internal, "count: the counting protocol sends nothing")
}
func (c idle) Recv(from int) ([]byte, error) {
	return nil, errs.New(errs.Internal, "count: the counting protocol receives nothing")
}
func (c idle) Flush() error     { return nil }
func (c idle) Stats() net.Stats { return net.Stats{} }
func (c idle) Close() error     { return nil }
