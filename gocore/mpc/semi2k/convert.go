package semi2k

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// A2B converts x to a w-bit binary sharing of x mod 2^w: party 0's component and party
// 1's are free binary sharings (each held by its party), added by package mpc's generic
// Sklansky adder (mpc.AddB): its first AND round has one operand held by each party,
// then ceil(log2(w-1)) prefix rounds. A held share converts locally.
func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	return p.a2b(x, w, 0)
}

// A2BHigh is A2B returning only the planes [lo, w), with mpc.AddBHighRipple: the planes
// below lo only give their carry (a carry tree), and the planes above take a ripple carry
// (one AND gate per plane, one round each). For the requantization's A2B (63 bits, lo
// around 36) that is 151 AND gates per element (62 of them cross triples) instead of 363
// (mpc.AddB) or 220 (mpc.AddBHigh's prefix network), at about 20 more rounds: AND triples
// from OT are the offline phase's main cost, rounds between two parties on one machine or
// a LAN are cheap (MobileNetV1 0.25_128: 1200 rounds online instead of 565). It
// implements mpc.HighA2B.
func (p *Protocol) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	return p.a2b(x, w, lo)
}

func (p *Protocol) a2b(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	if w < 1 || w > 64 || lo < 0 || lo >= w {
		return nil, errs.New(errs.Internal, "semi2k a2b: width %d, low plane %d (want 0 <= lo < w <= 64)", w, lo)
	}
	s := as(x)
	n := len(s.v)
	if s.held >= 0 {
		return p.Bits(&BShare{n, w, ring.ToPlanes(s.v, w), s.held}, lo, w-lo), nil
	}
	mine := ring.ToPlanes(s.v, w)
	zero := make([]uint64, len(mine))
	x0, x1 := &BShare{n, w, mine, 0}, &BShare{n, w, zero, 1}
	if p.id == 1 {
		x0.v, x1.v = zero, mine
	}
	var z mpc.BShare
	var err error
	if lo == 0 {
		z, err = mpc.AddB(p, x0, x1)
	} else {
		z, err = mpc.AddBHighRipple(p, x0, x1, lo)
	}
	if err != nil {
		return nil, fmt.Errorf("semi2k a2b: %w", err)
	}
	return z, nil
}

// B2A converts a w-bit binary share to an arithmetic share of its unsigned value with w
// daBits per element: both parties send c = x ^ r (w bits per element, one round), then x
// = sum_j 2^j (c_j + [r_j] - 2 c_j [r_j]) locally. A held share converts locally.
func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	z, err := p.b2a(bs(x))
	if err != nil {
		return nil, fmt.Errorf("semi2k b2a: %w", err)
	}
	return z, nil
}

// Bit2A is B2A of one bit (one daBit and one round).
func (p *Protocol) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	if s.w != 1 {
		return nil, errs.New(errs.Internal, "semi2k bit2a: width %d, want 1", s.w)
	}
	z, err := p.b2a(s)
	if err != nil {
		return nil, fmt.Errorf("semi2k bit2a: %w", err)
	}
	return z, nil
}

func (p *Protocol) b2a(s *BShare) (*AShare, error) {
	n, w := s.n, s.w
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "width %d not in [1,64]", w)
	}
	if s.held >= 0 {
		z := make([]uint64, n)
		if p.id == s.held {
			z = ring.FromPlanes(s.v, n, w)
		}
		r := span{}
		if s.w <= 62 {
			r = mkSpan(0, int64(1)<<s.w-1)
		}
		return &AShare{v: z, held: s.held, r: r}, nil
	}
	nw := ring.Words(n)
	bin, arith, err := p.daBits(w * nw)
	if err != nil {
		return nil, err
	}
	msg := make([]uint64, w*nw)
	ring.Xor(msg, s.v, bin)
	other, err := p.exchange(msg)
	if err != nil {
		return nil, err
	}
	c := make([]uint64, w*nw)
	ring.Xor(c, msg, other)
	z := make([]uint64, n)
	p0 := uint64(1 - p.id)
	for j := range w {
		cj := c[j*nw : (j+1)*nw]
		rj := arith[j*nw*64 : j*nw*64+n]
		for i := range z {
			cb := cj[i/64] >> uint(i%64) & 1
			r := rj[i]
			z[i] += (r - 2*cb*r + p0*cb) << uint(j)
		}
	}
	return &AShare{v: z, held: -1}, nil
}
