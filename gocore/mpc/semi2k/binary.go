package semi2k

import (
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// BPublic shares public w-bit values as held by party 0: no communication.
func (p *Protocol) BPublic(vals []uint64, w int) mpc.BShare {
	planes := ring.ToPlanes(vals, w)
	if p.id != 0 {
		clear(planes)
	}
	return &BShare{len(vals), w, planes, 0}
}

func sameShape(op string, x, y *BShare) {
	if x.n != y.n || x.w != y.w {
		panic(fmt.Sprintf("semi2k.%s: shapes (n=%d,w=%d) and (n=%d,w=%d)", op, x.n, x.w, y.n, y.w))
	}
}

func (p *Protocol) XOR(x, y mpc.BShare) mpc.BShare {
	s, t := bs(x), bs(y)
	sameShape("XOR", s, t)
	z := make([]uint64, len(s.v))
	ring.Xor(z, s.v, t.v)
	return &BShare{s.n, s.w, z, sameHeld(s.held, t.held)}
}

// NOT flips the holder's component (party 0's if x is not held). The other component is
// shared with x, not copied.
func (p *Protocol) NOT(x mpc.BShare) mpc.BShare {
	s := bs(x)
	if p.id != publicAdder(s.held) {
		return &BShare{s.n, s.w, s.v, s.held}
	}
	z := make([]uint64, len(s.v))
	ring.Not(z, s.v)
	return &BShare{s.n, s.w, z, s.held}
}

// AND computes all pairs with one message per party and one round. Pairs held by the same
// party are ANDed by it alone. Other pairs use bit triples (a, b, c = a & b): both send d
// = x ^ a and e = y ^ b (2 bits per gate), z = c ^ d&b ^ e&a ^ [party 0] d&e. A pair whose
// operands are held by different parties (u by party 0, v by party 1: the adder's first
// round in A2B) uses a cross triple (a held by party 0, b by party 1): party 0 sends d =
// u ^ a, party 1 sends e = v ^ b (1 bit per gate each); party 0 sets z_0 = c_0 ^ a&e ^
// d&e, party 1 z_1 = c_1 ^ d&b.
func (p *Protocol) AND(x, y []mpc.BShare) ([]mpc.BShare, error) {
	if len(x) != len(y) {
		return nil, errs.New(errs.Shape, "semi2k and: %d and %d operands", len(x), len(y))
	}
	out := make([]mpc.BShare, len(x))
	kind := make([]byte, len(x)) // 'l' local, 'x' cross, 'g' generic
	gen, cross := 0, 0
	for i := range x {
		s, t := bs(x[i]), bs(y[i])
		if s.n != t.n || s.w != t.w {
			return nil, errs.New(errs.Shape, "semi2k and: pair %d: shapes (n=%d,w=%d) and (n=%d,w=%d)", i, s.n, s.w, t.n, t.w)
		}
		switch {
		case sameHeld(s.held, t.held) >= 0:
			h := s.held
			z := make([]uint64, len(s.v))
			if p.id == h {
				ring.And(z, s.v, t.v)
			}
			out[i], kind[i] = &BShare{s.n, s.w, z, h}, 'l'
		case s.held >= 0 && t.held >= 0:
			kind[i] = 'x'
			cross += len(s.v)
		default:
			kind[i] = 'g'
			gen += len(s.v)
		}
	}
	if gen+cross == 0 {
		return out, nil
	}
	a, b, c, err := p.andTriples(gen)
	if err != nil {
		return nil, fmt.Errorf("semi2k and: %w", err)
	}
	xab, xc, err := p.crossTriples(cross)
	if err != nil {
		return nil, fmt.Errorf("semi2k and: %w", err)
	}
	msg := make([]uint64, 2*gen+cross)
	og, ox := 0, 0
	for i := range x {
		s, t := bs(x[i]), bs(y[i])
		l := len(s.v)
		switch kind[i] {
		case 'g':
			ring.Xor(msg[og:og+l], s.v, a[og:og+l])
			ring.Xor(msg[gen+og:gen+og+l], t.v, b[og:og+l])
			og += l
		case 'x':
			mine := s.v // this party's own operand of the pair
			if s.held != p.id {
				mine = t.v
			}
			ring.Xor(msg[2*gen+ox:2*gen+ox+l], mine, xab[ox:ox+l])
			ox += l
		}
	}
	other, err := p.exchange(msg)
	if err != nil {
		return nil, fmt.Errorf("semi2k and: %w", err)
	}
	z := make([]uint64, gen+cross)
	zg, zx := z[:gen], z[gen:]
	copy(zg, c)
	d0, e0, d1, e1 := msg[:gen], msg[gen:2*gen], other[:gen], other[gen:2*gen]
	e0, d1, e1 = e0[:len(d0)], d1[:len(d0)], e1[:len(d0)]
	a, b, zg = a[:len(d0)], b[:len(d0)], zg[:len(d0)]
	if p.id == 0 {
		for i := range zg {
			d, e := d0[i]^d1[i], e0[i]^e1[i]
			zg[i] ^= d&b[i] ^ e&a[i] ^ d&e
		}
	} else {
		for i := range zg {
			d, e := d0[i]^d1[i], e0[i]^e1[i]
			zg[i] ^= d&b[i] ^ e&a[i]
		}
	}
	copy(zx, xc)
	mx, ux := msg[2*gen:], other[2*gen:]
	mx, ux, xab = mx[:len(zx)], ux[:len(zx)], xab[:len(zx)]
	if p.id == 0 { // d = own message, e = received
		for i := range zx {
			zx[i] ^= xab[i]&ux[i] ^ mx[i]&ux[i]
		}
	} else { // d = received, b = own
		for i := range zx {
			zx[i] ^= ux[i] & xab[i]
		}
	}
	og, ox = 0, gen
	for i := range x {
		s := bs(x[i])
		l := len(s.v)
		switch kind[i] {
		case 'g':
			out[i] = &BShare{s.n, s.w, z[og : og+l : og+l], -1}
			og += l
		case 'x':
			out[i] = &BShare{s.n, s.w, z[ox : ox+l : ox+l], -1}
			ox += l
		}
	}
	return out, nil
}

func (p *Protocol) Bits(x mpc.BShare, lo, w int) mpc.BShare {
	s := bs(x)
	if lo < 0 || w < 0 || lo+w > s.w {
		panic(fmt.Sprintf("semi2k.Bits: planes [%d,%d) of %d", lo, lo+w, s.w))
	}
	a, b := lo*ring.Words(s.n), (lo+w)*ring.Words(s.n)
	return &BShare{s.n, w, s.v[a:b:b], s.held} // a view: shares are immutable
}

func (p *Protocol) JoinBits(xs ...mpc.BShare) mpc.BShare {
	if len(xs) == 0 {
		return &BShare{0, 0, nil, 0}
	}
	n := xs[0].Len()
	w := 0
	hs := make([]int, len(xs))
	for i, x := range xs {
		if x.Len() != n {
			panic(fmt.Sprintf("semi2k.JoinBits: lengths %d and %d", n, x.Len()))
		}
		w += x.Width()
		hs[i] = bs(x).held
	}
	v := make([]uint64, 0, w*ring.Words(n))
	for _, x := range xs {
		v = append(v, bs(x).v...)
	}
	return &BShare{n, w, v, sameHeld(hs...)}
}

func (p *Protocol) BGather(x mpc.BShare, idx []int32) mpc.BShare {
	s := bs(x)
	return &BShare{len(idx), s.w, ring.GatherBits(s.v, s.n, s.w, idx), s.held}
}

// OpenB reveals x to party to (both if to < 0) as w-bit values; the others get nil.
func (p *Protocol) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	if err := checkParty("openb", to, true); err != nil {
		return nil, err
	}
	s := bs(x)
	v, err := p.open(s.v, s.held, to, true)
	if err != nil {
		return nil, fmt.Errorf("semi2k openb: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	return ring.FromPlanes(v, s.n, s.w), nil
}

// MaskB ANDs every plane of x with a public per-element bit mask, locally (each XOR
// component is masked). It implements mpc.PublicMasker.
func (p *Protocol) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	s := bs(x)
	out := slices.Clone(s.v)
	for k := range out {
		out[k] &= mask[k%len(mask)]
	}
	return &BShare{s.n, s.w, out, s.held}
}
