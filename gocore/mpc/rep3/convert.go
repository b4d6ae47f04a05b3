package rep3

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

// A2B converts x to a w-bit binary sharing of x mod 2^w: party 1 inputs y = x_1 + x_2 mod
// 2^w as a binary share (one message of w bits per element), and the adder adds the free
// binary sharing of x_0. Rounds: 1 + (w > 1) + ceil(log2(w-1)).
func (p *Protocol) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "rep3 a2b: width %d not in [1,64]", w)
	}
	s := as(x)
	n := len(s.a)
	l := w * ring.Words(n)
	var yPlanes []uint64
	if p.id == 1 {
		y := make([]uint64, n)
		ring.Add(y, s.a, s.b) // x_1 + x_2
		yPlanes = ring.ToPlanes(y, w)
	}
	ya, yb, err := p.input(1, yPlanes, l, true)
	if err != nil {
		return nil, fmt.Errorf("rep3 a2b: %w", err)
	}
	// x_0 is component 0: party 0's first and party 2's second.
	x0 := newB(n, w)
	switch p.id {
	case 0:
		x0.a = ring.ToPlanes(s.a, w)
	case 2:
		x0.b = ring.ToPlanes(s.b, w)
	}
	sum, err := p.add(x0, &BShare{n, w, ya, yb})
	if err != nil {
		return nil, fmt.Errorf("rep3 a2b: %w", err)
	}
	return sum, nil
}

// add returns x + y mod 2^w with a Sklansky parallel-prefix adder: one AND round for the
// generate bits g_j = x_j & y_j (j < w-1), then ceil(log2(w-1)) rounds of prefix
// combination (G, P) o (G', P') = (G ^ P & G', P & P'), all planes of a level in one AND.
func (p *Protocol) add(x, y *BShare) (*BShare, error) {
	n, w := x.n, x.w
	nw := ring.Words(n)
	plane := func(v []uint64, j int) []uint64 { return v[j*nw : (j+1)*nw] }
	// propagate p_j = x_j ^ y_j (local)
	pa, pb := make([]uint64, w*nw), make([]uint64, w*nw)
	ring.Xor(pa, x.a, y.a)
	ring.Xor(pb, x.b, y.b)
	sum := &BShare{n, w, pa, pb}
	m := w - 1 // carries into bits 1..w-1 are the prefixes G[0..j], j < m
	if m == 0 {
		return sum, nil
	}
	l := m * nw
	ga, gb, err := p.andMany([]pair{{x.a[:l], x.b[:l]}}, []pair{{y.a[:l], y.b[:l]}})
	if err != nil {
		return nil, err
	}
	ga = ring.Clone(ga) // ga was sent and must not change; gb was received and is ours
	// P: group propagate (a copy of p, updated in place); G: group generate.
	Pa, Pb := ring.Clone(pa[:l]), ring.Clone(pb[:l])
	for d := 1; d < m; d *= 2 {
		last := 2*d >= m
		var xs, ys []pair
		type target struct {
			j    int
			updP bool
		}
		var targets []target
		for j := 0; j < m; j++ {
			if j&d == 0 {
				continue
			}
			k := (j &^ (2*d - 1)) + d - 1
			pj := pair{plane(Pa, j), plane(Pb, j)}
			xs, ys = append(xs, pj), append(ys, pair{plane(ga, k), plane(gb, k)})
			// P_j is used later only as a multiplier (j >= 2d) or as the middle of the
			// next level's block (j == 2d-1).
			updP := !last && (j >= 2*d || j == 2*d-1)
			if updP {
				xs, ys = append(xs, pj), append(ys, pair{plane(Pa, k), plane(Pb, k)})
			}
			targets = append(targets, target{j, updP})
		}
		za, zb, err := p.andMany(xs, ys)
		if err != nil {
			return nil, err
		}
		off := 0
		for _, t := range targets {
			j := t.j
			ring.Xor(plane(ga, j), plane(ga, j), za[off:off+nw])
			ring.Xor(plane(gb, j), plane(gb, j), zb[off:off+nw])
			off += nw
			if t.updP {
				copy(plane(Pa, j), za[off:off+nw])
				copy(plane(Pb, j), zb[off:off+nw])
				off += nw
			}
		}
	}
	// sum_j = p_j ^ G[0..j-1]
	ring.Xor(pa[nw:], pa[nw:], ga)
	ring.Xor(pb[nw:], pb[nw:], gb)
	return sum, nil
}

// B2A converts a w-bit binary share to an arithmetic share of its unsigned value. With
// components b = b_0 ^ b_1 ^ b_2: party 0 knows c = b_0 ^ b_1 and inputs its bits c_j as ring
// elements (one message of w words per element); b_2 is known to parties 1 and 2, so
// [2^j b2_j] is a free arithmetic sharing; and b = sum_j 2^j (c_j + b2_j - 2 c_j b2_j), whose
// products take one MulSum. The role of party 0 rotates over three ranges of elements, so
// each party sends about w/3 + 1 words per element. Two rounds.
func (p *Protocol) B2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	z, err := p.b2a(s)
	if err != nil {
		return nil, fmt.Errorf("rep3 b2a: %w", err)
	}
	return z, nil
}

// Bit2A is B2A for one bit (two rounds, one input word and one multiplication per element).
func (p *Protocol) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	s := bs(x)
	if s.w != 1 {
		return nil, errs.New(errs.Internal, "rep3 bit2a: width %d, want 1", s.w)
	}
	z, err := p.b2a(s)
	if err != nil {
		return nil, fmt.Errorf("rep3 bit2a: %w", err)
	}
	return z, nil
}

func (p *Protocol) b2a(s *BShare) (*AShare, error) {
	n, w := s.n, s.w
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "width %d not in [1,64]", w)
	}
	// The elements are split into three ranges of whole plane words; in range h the roles
	// of the parties are rotated by h (party h plays party 0 above), so that each party
	// sends a third of the w-words-per-element input.
	nw := ring.Words(n)
	type part struct {
		lo, hi   int      // elements
		wlo, whi int      // plane words
		role     int      // (id - h) mod 3
		ca, cb   []uint64 // this party's components of [c_j], element-major
		b2       []uint64 // values of b_{h+2} (roles 1 and 2)
	}
	var parts [3]part
	planes := func(v []uint64, q *part) []uint64 {
		out := make([]uint64, 0, w*(q.whi-q.wlo))
		for j := range w {
			out = append(out, v[j*nw+q.wlo:j*nw+q.whi]...)
		}
		return out
	}
	// Phase 1: the holder of range h (role 0) knows c = b_h ^ b_{h+1} and inputs its bits
	// (x_h = F(k_{h-1}), x_{h+1} = c - x_h sent to party h+1, x_{h+2} = 0).
	for h := range parts {
		q := &parts[h]
		q.wlo, q.whi = nw*h/3, nw*(h+1)/3
		q.lo, q.hi = min(64*q.wlo, n), min(64*q.whi, n)
		q.role = (p.id - h + 3) % 3
		nh := q.hi - q.lo
		switch q.role {
		case 0:
			c := planes(s.a, q)
			ring.Xor(c, c, planes(s.b, q))
			cbits := spreadBits(ring.FromPlanes(c, nh, w), w)
			q.ca = p.gPrev.Uint64s(nh * w)
			q.cb = cbits
			ring.Sub(q.cb, cbits, q.ca)
			if err := p.send(p.next, q.cb); err != nil {
				return nil, err
			}
		case 1:
			q.b2 = ring.FromPlanes(planes(s.b, q), nh, w)
		case 2:
			q.ca, q.cb = make([]uint64, nh*w), p.gNext.Uint64s(nh*w)
			q.b2 = ring.FromPlanes(planes(s.a, q), nh, w)
		}
	}
	for h := range parts {
		q := &parts[h]
		if q.role == 1 {
			var err error
			if q.ca, err = p.recv(h, (q.hi-q.lo)*w); err != nil {
				return nil, err
			}
			q.cb = make([]uint64, len(q.ca))
		}
	}
	// Phase 2: b_{h+2} is known to roles 1 and 2, a free arithmetic sharing [u] of
	// u = 2^j b_j (component h+2). The cross terms of MulSum([c], [u], w) are: role 0 none,
	// role 1 c_{h+1} u, role 2 (c_{h+2} + c_h) u. One reshare for all ranges.
	t := make([]uint64, n)
	for h := range parts {
		q := &parts[h]
		if q.role == 0 {
			continue
		}
		for e, v := range q.b2 {
			var acc uint64
			for j, x := range q.ca[e*w : (e+1)*w] {
				if q.role == 2 {
					x += q.cb[e*w+j]
				}
				acc += x & -(v >> uint(j) & 1) << uint(j)
			}
			t[q.lo+e] = acc
		}
	}
	p.addZeroShare(t)
	ta, tb, err := p.reshare(t)
	if err != nil {
		return nil, err
	}
	// z = sum_j 2^j c_j + b_{h+2} - 2 t
	z := &AShare{make([]uint64, n), make([]uint64, n)}
	for h := range parts {
		q := &parts[h]
		za, zb := z.a[q.lo:q.hi], z.b[q.lo:q.hi]
		copy(za, weightedSum(q.ca, w))
		copy(zb, weightedSum(q.cb, w))
		switch q.role {
		case 1: // holds (x_{h+1}, x_{h+2})
			ring.Add(zb, zb, q.b2)
		case 2: // holds (x_{h+2}, x_h)
			ring.Add(za, za, q.b2)
		}
	}
	for i := range z.a {
		z.a[i] -= 2 * ta[i]
		z.b[i] -= 2 * tb[i]
	}
	return z, nil
}

// spreadBits returns the bits of the w-bit values v as 0/1 words, element-major.
func spreadBits(v []uint64, w int) []uint64 {
	out := make([]uint64, len(v)*w)
	for e, x := range v {
		for j := range w {
			out[e*w+j] = x >> uint(j) & 1
		}
	}
	return out
}

// weightedSum returns y[e] = sum_j 2^j v[e*w+j].
func weightedSum(v []uint64, w int) []uint64 {
	out := make([]uint64, len(v)/w)
	for e := range out {
		var s uint64
		for j, x := range v[e*w : (e+1)*w] {
			s += x << uint(j)
		}
		out[e] = s
	}
	return out
}
