package spdz2k

// Conversions between the arithmetic and the binary world with daBits (random bits
// authenticated in both; Rotaru and Wood, INDOCRYPT 2019; Escudero et al., CRYPTO 2020),
// and the openings of binary values.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// shl returns v * 2^w mod 2^128 (0 <= w <= 64).
func shl(v ring128.Vec, w int) ring128.Vec {
	y := ring128.Make(v.Len())
	if w == 64 {
		copy(y.Hi, v.Lo)
		return y
	}
	ring128.MulU64(y, v, []uint64{1 << w})
	return y
}

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

// A2B converts x to a w-bit binary sharing of x mod 2^w: with w daBits r_j and a random
// [t], both open c = x - r - 2^w t (r = sum_j 2^j r_j) and the binary adder adds the
// public c mod 2^w and the bits of r.
func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) { return p.a2b(x, w, 0) }

// A2BHigh returns the planes [lo, w) of A2B(x, w) (mpc.HighA2B): the same opening, and
// mpc.AddBHigh, whose planes below lo only give their carry (fewer AND gates).
func (p *Protocol) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) { return p.a2b(x, w, lo) }

func (p *Protocol) a2b(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	if w < 1 || w > 64 || lo < 0 || lo >= w {
		return nil, errs.New(errs.Config, "spdz2k A2B: width %d, low plane %d (want 0 <= lo < w <= 64)", w, lo)
	}
	s := as(x)
	n := s.Len()
	var bin *BShare
	var arith, t *AShare
	err := p.offlineDo(func() (err error) {
		if bin, arith, err = p.src.DaBits(n, w); err != nil {
			return err
		}
		t, err = p.src.Random(n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	r := weighted(arith, n, w, func(j, _ int) uint64 { return 1 << j })
	c := as(p.Sub(s, r))
	c = as(p.Sub(c, &AShare{x: shl(t.x, w), m: shl(t.m, w)}))
	v, err := p.exchangeVec("A2B", c.x)
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	p.check.opened(v, c.m)
	var out mpc.BShare
	if lo == 0 {
		out, err = mpc.AddB(p, p.BPublic(v.Lo, w), bin)
	} else {
		out, err = mpc.AddBHigh(p, p.BPublic(v.Lo, w), bin, lo)
	}
	if err != nil {
		return nil, fmt.Errorf("spdz2k A2B: %w", err)
	}
	return out, p.maybeVerify()
}

// B2A converts a w-bit binary sharing to an arithmetic sharing of the unsigned value:
// with w daBits r_j per element, both open c = x ^ r (MACs hashed) and x = sum_j 2^j
// (c_j + [r_j] - 2 c_j [r_j]).
func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	n, w := s.n, s.w
	if s.pub {
		return p.Public(ring.FromPlanes(s.x, n, w)), nil
	}
	var bin *BShare
	var arith *AShare
	if err := p.offlineDo(func() (err error) { bin, arith, err = p.src.DaBits(n, w); return err }); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	d := bs(p.XOR(s, bin))
	sent := append([]uint64(nil), d.x...)
	p.fillTail(sent, n)
	if err := p.send(ring.ToBytes(sent)); err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	raw, err := p.recv("B2A mask", 8*len(d.x))
	if err != nil {
		return nil, fmt.Errorf("spdz2k B2A: %w", err)
	}
	peer, _ := ring.FromBytes(raw, len(d.x))
	if err := p.checkTail("B2A mask", peer, n); err != nil {
		return nil, err
	}
	p.check.openedBits(d, peer, p.delta)
	c := xorWords(d.x, peer)
	W := ring.Words(n)
	z := weighted(arith, n, w, func(j, i int) uint64 {
		if bitAt(c, W, j, i) == 1 {
			return -(uint64(1) << j)
		}
		return 1 << j
	})
	return p.addPublic(z, ring.FromPlanes(c, n, w)), nil
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
