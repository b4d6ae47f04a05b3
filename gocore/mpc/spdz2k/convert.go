package spdz2k

// Conversions between the arithmetic and the binary world with edaBits (a random value
// authenticated arithmetically with its low bits in binary; Escudero, Ghosh, Keller,
// Rachuri, Scholl, CRYPTO 2020) and, for narrow B2A and Bit2A, daBits (random bits
// authenticated in both; Rotaru and Wood, INDOCRYPT 2019), and the openings of binary
// values.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// weighted returns sum_j 2^j c_j [b_j] for the arithmetic daBits b (element j*n+i is
// bit j of element i) and public coefficients coef (nil: all 1).
func weighted(b *AShare, n, w int, coef func(j, i int) uint64) *AShare {
	z := &AShare{x: ring128.Make(n), m: ring128.Make(n)}
	c := make([]uint64, n)
	for j := 0; j < w; j++ {
		for i := range c {
			c[i] = coef(j, i)
		}
		bj := &AShare{x: b.x.Slice(j*n, (j+1)*n), m: b.m.Slice(j*n, (j+1)*n)}
		t := ring128.Make(n)
		ring128.MulU64(t, bj.x, c)
		ring128.Add(z.x, z.x, t)
		ring128.MulU64(t, bj.m, c)
		ring128.Add(z.m, z.m, t)
	}
	return z
}

// A2B converts x to a w-bit binary sharing of x mod 2^w: with one edaBit of length w
// (r, its bits b; r = b mod 2^w and r's bits from w up uniform, source.go), both open c
// = x - r and the binary adder adds the public c mod 2^w and the bits b. For w >
// a2bFullEda the edaBit is one of B2A's 64-bit edaBits, of which the w low bits are used
// (r = b mod 2^64 implies r = (b mod 2^w) mod 2^w, and b's bits from w up are uniform
// and secret like r's high part): one pool of edaBits serves both conversions.
func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) { return p.a2b(x, w, 0) }

// A2BHigh returns the planes [lo, w) of A2B(x, w) (mpc.HighA2B): the same opening, and
// highAdder. MobileNetV1 0.25_128 (BENCHMARKS.md, "spdz2k offline, session 9"), AND
// triples the OT offline phase draws per party (exact prediction), with B2A's adder of
// sessions 6-8: the ripple carry over the high planes (mpc.AddBHighRipple, the default)
// 8.73 GB, 1350 rounds, 45.7 MB online; the carry tree and a prefix network over the
// high planes (mpc.AddBHigh) 11.47 GB, 710 rounds; one Sklansky network pruned to the
// high planes' carries (mpc.AddBHighSparse, lowDepth) 13.60 GB, 581 rounds, 60.1 MB.
// With B2A's ripple adder as well (the default): 6.23 GB, 3031 rounds, 44.0 MB.
func (p *Protocol) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) { return p.a2b(x, w, lo) }

func (p *Protocol) a2b(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	if w < 1 || w > 64 || lo < 0 || lo >= w {
		return nil, errs.New(errs.Config, "spdz2k A2B: width %d, low plane %d (want 0 <= lo < w <= 64)", w, lo)
	}
	s := as(x)
	n := s.Len()
	var bin *BShare
	var r *AShare
	m := w
	if w > a2bFullEda {
		m = 64
	}
	err := p.offlineDo("EdaBits A2B", n, m, func() (err error) {
		bin, r, err = p.src.EdaBits(n, m)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	if m != w {
		bin = bs(p.Bits(bin, 0, w))
	}
	c := as(p.Sub(s, r))
	v, err := p.exchangeVec("A2B", c.x)
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	p.check.opened(v, c.m)
	var out mpc.BShare
	if lo == 0 {
		out, err = mpc.AddB(p, p.BPublic(v.Lo, w), bin)
	} else {
		out, err = highAdder(p, p.BPublic(v.Lo, w), bin, lo, p.lowDepth)
	}
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	return out, p.maybeVerify()
}

// highAdder is A2BHigh's adder: by default the ripple carry (w - lo - 1 AND rounds),
// the fewest AND triples; with lowDepth the pruned Sklansky network (mpc.AddBHighSparse,
// ceil(log2(w-1)) rounds). AND triples from OT are what the offline phase spends its
// bytes and CPU on, and on one machine or a LAN the ripple's rounds cost nothing
// measurable (the online phase took no longer and less CPU); over a 40 ms WAN its 769
// more rounds on MobileNetV1 0.25_128 would cost about 14 s, next to an offline phase of
// minutes. budget.go counts with the same function.
func highAdder(p mpc.Protocol, a, b mpc.BShare, lo int, lowDepth bool) (mpc.BShare, error) {
	if lowDepth {
		return mpc.AddBHighSparse(p, a, b, lo)
	}
	return mpc.AddBHighRipple(p, a, b, lo)
}

// rippleB2AAdder returns the 64 planes of x + b mod 2^64 for x of w <= 64 planes
// (zero-extended) and b of 64 planes, all secret: a ripple-carry adder with one AND per
// plane (carry c_{j+1} = c_j ^ ((x_j ^ c_j) & (b_j ^ c_j)), and c_j & b_j from plane w
// on, where x is zero; sum plane j = x_j ^ b_j ^ c_j), 63 AND gates in 63 rounds. It is
// B2A's adder without lowDepth (budget.go counts with it).
func rippleB2AAdder(p mpc.Protocol, x, b mpc.BShare) (mpc.BShare, error) {
	w := x.Width()
	sum := make([]mpc.BShare, 64)
	var c mpc.BShare // the carry into plane j (none into plane 0)
	for j := range 64 {
		bj := p.Bits(b, j, 1)
		var xj mpc.BShare
		if j < w {
			xj = p.Bits(x, j, 1)
		}
		switch {
		case c == nil:
			sum[j] = p.XOR(xj, bj)
		case xj == nil:
			sum[j] = p.XOR(bj, c)
		default:
			sum[j] = p.XOR(p.XOR(xj, bj), c)
		}
		if j == 63 {
			break
		}
		var t []mpc.BShare
		var err error
		switch {
		case c == nil:
			t, err = p.AND([]mpc.BShare{xj}, []mpc.BShare{bj})
		case xj == nil:
			t, err = p.AND([]mpc.BShare{c}, []mpc.BShare{bj})
		default:
			t, err = p.AND([]mpc.BShare{p.XOR(xj, c)}, []mpc.BShare{p.XOR(bj, c)})
		}
		if err != nil {
			return nil, err
		}
		switch {
		case c == nil || xj == nil:
			c = t[0]
		default:
			c = p.XOR(c, t[0])
		}
	}
	return p.JoinBits(sum...), nil
}

// b2aRipple is B2A (w >= b2aEdaMinWidth) with a 64-bit edaBit and rippleB2AAdder: y = x
// + b mod 2^64 opened (uniform, b is), [x] = y - [r].
func (p *Protocol) b2aRipple(s *BShare) (mpc.AShare, error) {
	var bin *BShare
	var r *AShare
	if err := p.offlineDo("EdaBits B2A", s.n, 64, func() (err error) { bin, r, err = p.src.EdaBits(s.n, 64); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	sum, err := rippleB2AAdder(p, s, bin)
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	y, err := p.openMasked("B2A sum", bs(sum))
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	return p.addPublic(as(p.Neg(r)), ring.FromPlanes(y, s.n, 64)), nil
}

// a2bFullEda is the widest A2B that uses an edaBit of its own width rather than a
// 64-bit one.
const a2bFullEda = 32

// b2aEdaMinWidth is the narrowest B2A that uses a 64-bit edaBit instead of w daBits
// (BENCHMARKS.md: a daBit costs about 15.6 KB per party, a 64-bit edaBit with the 63 AND
// triples of its ripple adder about 22 KB, and 64 rounds instead of one).
const b2aEdaMinWidth = 4

// B2A converts a w-bit binary sharing to an arithmetic sharing of the unsigned value.
// From b2aEdaMinWidth bits on, with one 64-bit edaBit (r, bits b; r = b mod 2^64) per
// element: <y> = <x> + <b> mod 2^64 (x zero-extended; b2aRipple: a ripple carry, 63
// AND gates and rounds; with lowDepth b2aEda: 1 + ceil(log2 w) rounds for the low w
// planes and one for the increment above them, about twice the AND triples), y is opened (64 bits per
// element, uniform since b is; MACs hashed) and [x] = y - [r] modulo 2^64 (the bits from
// 64 up are noise, as everywhere).
// Narrower values use w daBits r_j per element: both open c = x ^ r (MACs hashed) and x
// = sum_j 2^j (c_j + [r_j] - 2 c_j [r_j]).
func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	n, w := s.n, s.w
	if s.pub {
		return p.Public(ring.FromPlanes(s.x, n, w)), nil
	}
	if w >= b2aEdaMinWidth {
		if p.lowDepth {
			return p.b2aEda(s)
		}
		return p.b2aRipple(s)
	}
	var bin *BShare
	var arith *AShare
	if err := p.offlineDo("DaBits", n, w, func() (err error) { bin, arith, err = p.src.DaBits(n, w); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	d := bs(p.XOR(s, bin))
	c, err := p.openMasked("B2A mask", d)
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	W := ring.Words(n)
	z := weighted(arith, n, w, func(j, i int) uint64 {
		if bitAt(c, W, j, i) == 1 {
			return -(uint64(1) << j)
		}
		return 1 << j
	})
	return p.addPublic(z, ring.FromPlanes(c, n, w)), nil
}

// openMasked opens the binary share d, masked by correlated randomness (one message each
// way; the MACs go into the binary check's hash), and returns its planes.
func (p *Protocol) openMasked(what string, d *BShare) ([]uint64, error) {
	sent := append([]uint64(nil), d.x...)
	p.fillTail(sent, d.n)
	if err := p.send(ring.ToBytes(sent)); err != nil {
		return nil, err
	}
	raw, err := p.recv(what, 8*len(d.x))
	if err != nil {
		return nil, err
	}
	peer, _ := ring.FromBytes(raw, len(d.x))
	if err := p.checkTail(what, peer, d.n); err != nil {
		return nil, err
	}
	p.check.openedBits(d, peer, p.delta)
	return xorWords(d.x, peer), nil
}

// b2aEda is B2A with a 64-bit edaBit (see B2A). With x of w bits and the edaBit's bits
// b, y = x + b mod 2^64 has the low planes of the w-bit sum x + (b mod 2^w), whose carry
// out c_w Sklansky's adder (mpc.AddB on w+1 planes, the top ones zero) gives in 1 +
// ceil(log2 w) rounds, and above them the increment of b's high part by c_w: y_j = b_j ^
// (c_w & b_w & ... & b_{j-1}) for j > w, y_w = b_w ^ c_w. The prefix products depend only
// on the edaBit and come with it from the offline phase (Source.CarryEdaBits), so the
// increment is one AND round of 63 - w gates (the ripple carry took 63 - w rounds).
func (p *Protocol) b2aEda(s *BShare) (mpc.AShare, error) {
	n, w := s.n, s.w
	if w >= 63 {
		return p.b2aEdaFull(s)
	}
	var bin, pre *BShare
	var r *AShare
	if err := p.offlineDo("CarryEdaBits", n, w, func() (err error) { bin, r, pre, err = p.src.CarryEdaBits(n, w); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	zero := p.BPublic(make([]uint64, n), 1)
	low, err := mpc.AddB(p, p.JoinBits(s, zero), p.JoinBits(p.Bits(bin, 0, w), zero))
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	cw := p.Bits(low, w, 1)
	rep := make([]mpc.BShare, 63-w)
	for t := range rep {
		rep[t] = cw
	}
	inc, err := p.AND([]mpc.BShare{p.JoinBits(rep...)}, []mpc.BShare{pre})
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	// The sum's planes: low's below w; b_j ^ (carry into j) from w up, the carry being
	// c_w for j = w and plane j-w-1 of inc above (built in place: no joined copies).
	sum := newBShare(n, 64)
	p.planesInto(sum, 0, bs(low), 0, nil, 0, w)
	p.planesInto(sum, w, bin, w, bs(cw), 0, 1)
	p.planesInto(sum, w+1, bin, w+1, bs(inc[0]), 0, 63-w)
	y, err := p.openMasked("B2A sum", sum)
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	return p.addPublic(as(p.Neg(r)), ring.FromPlanes(y, n, 64)), nil
}

// b2aEdaFull is B2A of 63 or 64 bits: x + b mod 2^64 with Sklansky's adder.
func (p *Protocol) b2aEdaFull(s *BShare) (mpc.AShare, error) {
	n, w := s.n, s.w
	var bin *BShare
	var r *AShare
	if err := p.offlineDo("EdaBits B2A", n, 64, func() (err error) { bin, r, err = p.src.EdaBits(n, 64); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	x := mpc.BShare(s)
	if w < 64 {
		x = p.JoinBits(s, p.BPublic(make([]uint64, n), 64-w))
	}
	sum, err := mpc.AddB(p, x, bin)
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	y, err := p.openMasked("B2A sum", bs(sum))
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	return p.addPublic(as(p.Neg(r)), ring.FromPlanes(y, n, 64)), nil
}

// Bit2A converts a 1-bit binary sharing to an arithmetic sharing of the bit.
func (p *Protocol) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	if x.Width() != 1 {
		return nil, errs.New(errs.Config, "spdz2k Bit2A: width %d, want 1", x.Width())
	}
	return p.B2A(x)
}

// OpenB reveals x to party to (to < 0: both) after checking everything so far: the
// sending party sends its bits and the hash of their MACs, the receiver compares it with
// the hash of the expected MACs, and both exchange verdicts.
func (p *Protocol) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	if err := checkParty("OpenB", to, true); err != nil {
		return nil, err
	}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("spdz2k OpenB: %w", err)
	}
	s := bs(x)
	if s.pub {
		if to < 0 || to == p.id {
			return ring.FromPlanes(s.x, s.n, s.w), nil
		}
		return nil, nil
	}
	sends, gets := to < 0 || to == p.other, to < 0 || to == p.id
	if sends {
		own := append([]uint64(nil), s.x...)
		p.fillTail(own, s.n)
		msg := append(ring.ToBytes(own), macHash(s.m)...)
		if err := p.send(msg); err != nil {
			return nil, fmt.Errorf("spdz2k OpenB: %w", err)
		}
	}
	var failed []string
	var out []uint64
	if gets {
		raw, err := p.recv("opened bits", 8*len(s.x)+32)
		if err != nil {
			return nil, fmt.Errorf("spdz2k OpenB: %w", err)
		}
		peer, _ := ring.FromBytes(raw[:8*len(s.x)], len(s.x))
		if err := p.checkTail("opened bits", peer, s.n); err != nil {
			return nil, fmt.Errorf("spdz2k OpenB: %w", err)
		}
		if string(macHash(expectedMACs(peer, p.delta, s))) != string(raw[8*len(s.x):]) {
			failed = append(failed, "opened bits' MACs")
		}
		out = ring.FromPlanes(xorWords(s.x, peer), s.n, s.w)
	}
	if err := p.verdict(failed); err != nil {
		return nil, fmt.Errorf("spdz2k OpenB: %w", err)
	}
	return out, nil
}
