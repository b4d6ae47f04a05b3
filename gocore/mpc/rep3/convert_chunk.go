package rep3

// ChunkB2A (mpc.ChunkB2Aer): the B2A of a requantization's output from the A2B operands'
// chunk, after the leaf circuit (requant_leaves.go).
//
// Source and threat model: rep3's semi-honest setting (Araki et al., CCS 2016; one
// corruption), with the bit injection of ABY3 (Mohassel and Rindal, CCS 2018, section
// 5.4): a value known to one party times a value known to the two others is a
// 3-out-of-3 sharing after one message of the first party, masked by a PRF output that
// its receiver lacks.
//
// In each element range of A2BSplitLeaves (leaves.go) the owner O of b knows B (planes
// [SumLo, SumLo+SumK) of b) and the a-holders P (the one that shares k_0 with O) and Q
// (party 2) know A (the same planes of a). For a one-plane binary sharing x, O holds
// two of its components, whose XOR is u, and P and Q both hold the third, s: x = u ^ s =
// u + s - 2 u s. The output
//
//	V = sel (A + B) + sum_k w_k x_k + c beta
//
// expands into terms that one party knows (O's: u_sel B, w_k u_k, u_c u_beta; the
// a-holders': s_sel A, w_k s_k) and products X K of a value X that only O knows with a
// value K that P and Q both know:
//
//	X = u_sel                 K = A (1 - 2 s_sel)      (sel A = u A (1 - 2s) + s A)
//	X = B (1 - 2 u_sel)       K = s_sel                (sel B = u B + s B (1 - 2u))
//	X = -2 w_k u_k            K = s_k                  (one per x_k)
//	X = B', C', D'            K = s_c, s_beta, s_c s_beta  (c beta, as in B2AAnd)
//
// Messages: O sends m = X - r to P for each X (5 + len(xs) words per element), with r =
// F(k) drawn from the key O shares with Q; P's term is sum m K plus the a-holders' known
// terms, Q's is sum r K, O's its own terms. The three terms, with a fresh zero sharing,
// are a 3-out-of-3 sharing of V that is returned pending (deferred.go) or reshared, as
// B2A's product is. One message delay, as B2A's input; then the resharing.
//
// Security: P receives only m = X - F(k), uniformly random to it (it lacks the key of O
// and Q); Q and O receive nothing here; the terms are revealed only through the zero-
// shared resharing. Against B2AAnd of SumK planes (SumK + 3 words from the role-0 party,
// every party in turn), this costs 5 + len(xs) words from the owners of b only (parties 0
// and 1), sent on the links between them (the one-hot input goes to party 2), and the
// circuit needs neither the sum planes of the chunk nor the clamp's AND per output plane.
// Semi-honest only (LeafSplits is false with an Observer).

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

var _ mpc.ChunkB2Aer = (*Protocol)(nil)

// chunkSplit is the state that A2BSplitLeaves keeps for ChunkB2A (mpc.SplitLeaves.Sum).
type chunkSplit struct {
	n  int
	rs []chunkRange
}

// chunkRange is one element range of A2BSplitLeaves: its owner of b, the a-holder that
// shares k_0 with it, the elements and this party's chunk values (A or B).
type chunkRange struct {
	owner, keyed int
	lo, hi       int
	v            []uint64
}

// ChunkB2A implements mpc.ChunkB2Aer (see above).
func (p *Protocol) ChunkB2A(l *mpc.SplitLeaves, sel mpc.BShare, xs []mpc.BShare, ws []uint64, c, beta mpc.BShare) (mpc.AShare, error) {
	if p.obs != nil {
		return nil, errs.New(errs.Internal, "rep3 chunkb2a: not available in the checked form")
	}
	cs, ok := l.Sum.(*chunkSplit)
	if !ok || l.SumK == 0 {
		return nil, errs.New(errs.Internal, "rep3 chunkb2a: no chunk kept by A2BSplitLeaves")
	}
	n := cs.n
	bits := append([]mpc.BShare{sel, c, beta}, xs...)
	bsh := make([]*BShare, len(bits))
	for i, x := range bits {
		bsh[i] = bs(x)
		if bsh[i].w != 1 || bsh[i].n != n {
			return nil, errs.New(errs.Internal, "rep3 chunkb2a: operand %d is (%d, %d), want (%d, 1)", i, bsh[i].n, bsh[i].w, n)
		}
	}
	if len(ws) != len(xs) {
		return nil, errs.New(errs.Internal, "rep3 chunkb2a: %d weights for %d bits", len(ws), len(xs))
	}
	sb, cb, bb, xb := bsh[0], bsh[1], bsh[2], bsh[3:]
	bit := func(v []uint64, i int) uint64 { return v[i>>6] >> uint(i&63) & 1 }
	nx := 5 + len(xs) // X words per element
	t := make([]uint64, n)
	var msgs []struct {
		to  int
		msg []uint64
	}
	for _, r := range cs.rs {
		nh := r.hi - r.lo
		if nh == 0 {
			continue
		}
		switch p.id {
		case r.owner:
			g := p.gNext // the key shared with party 2: k_1 for owner 1, k_2 for owner 0
			if r.owner == 0 {
				g = p.gPrev
			}
			rnd := g.Uint64s(nx * nh)
			m := make([]uint64, nx*nh)
			for e := range nh {
				i := r.lo + e
				B := r.v[e]
				us, uc, ub := bit(sb.a, i)^bit(sb.b, i), bit(cb.a, i)^bit(cb.b, i), bit(bb.a, i)^bit(bb.b, i)
				own := us*B + uc*ub
				x := m[nx*e : nx*e+nx]
				x[0] = us
				x[1] = B - 2*us*B
				cf := andCoefs(uc, ub)
				x[2], x[3], x[4] = cf[0], cf[1], cf[2]
				for k, xk := range xb {
					uk := bit(xk.a, i) ^ bit(xk.b, i)
					own += ws[k] * uk
					x[5+k] = -(2 * ws[k] * uk)
				}
				for j := range x {
					x[j] -= rnd[nx*e+j]
				}
				t[i] = own
			}
			msgs = append(msgs, struct {
				to  int
				msg []uint64
			}{r.keyed, m})
		default: // an a-holder: the keyed one receives m later; party 2 draws r now
			if p.id == 2 {
				g := p.gPrev // k_1, shared with owner 1
				if r.owner == 0 {
					g = p.gNext // k_2, shared with owner 0
				}
				rnd := g.Uint64s(nx * nh)
				p.chunkTerms(t, r, rnd, sb, cb, bb, xb, ws, false)
			}
		}
	}
	for _, m := range msgs {
		if err := p.send(m.to, m.msg); err != nil {
			return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
		}
	}
	for _, r := range cs.rs {
		if nh := r.hi - r.lo; nh > 0 && p.id == r.keyed {
			m, err := p.recv(r.owner, nx*nh)
			if err != nil {
				return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
			}
			p.chunkTerms(t, r, m, sb, cb, bb, xb, ws, true)
		}
	}
	p.addZeroShare(t)
	z, err := p.product(t)
	if err != nil {
		return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
	}
	return z, nil
}

// chunkTerms adds an a-holder's terms of range r to t: sum_j x_j K_j for its component x
// of the owner's values X (m received, or the drawn r), plus, with known, the terms the
// a-holders know (s_sel A + sum_k w_k s_k; added by the keyed a-holder only).
func (p *Protocol) chunkTerms(t []uint64, r chunkRange, x []uint64, sb, cb, bb *BShare, xb []*BShare, ws []uint64, known bool) {
	nx := 5 + len(xb)
	// The third component s: party owner+1 holds it second, party owner+2 first.
	third := func(s *BShare, i int) uint64 {
		v := s.a
		if p.id == (r.owner+1)%3 {
			v = s.b
		}
		return v[i>>6] >> uint(i&63) & 1
	}
	for e := range r.hi - r.lo {
		i := r.lo + e
		A := r.v[e]
		ss, sc, st := third(sb, i), third(cb, i), third(bb, i)
		xe := x[nx*e : nx*e+nx]
		v := xe[0]*(A-2*ss*A) + xe[1]*ss + xe[2]*sc + xe[3]*st + xe[4]*(sc&st)
		if known {
			v += ss * A
		}
		for k, xk := range xb {
			sk := third(xk, i)
			v += xe[5+k] * sk
			if known {
				v += ws[k] * sk
			}
		}
		t[i] += v
	}
}
