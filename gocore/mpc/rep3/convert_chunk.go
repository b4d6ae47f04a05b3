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
// two of its components, whose XOR is u, and P and Q both hold the third, s: x = u ^ s.
// The output
//
//	V = sel (A + B) + sum_k w_k x_k + c beta
//
// is a sum of terms of two kinds, with F the PRF of O and Q (which P lacks):
//
//   - Owner-sent (a value X only O knows times a value K both a-holders know): O sends
//     X - r to P (r from F); P's term is (X - r) K, Q's r K. With x = u ^ s = u + s - 2us:
//     c beta = u_c u_beta + B' s_c + C' s_beta + D' s_c s_beta (B2AAnd's coefficients):
//     O's term u_c u_beta, three words X to P. The roles of P and Q are symmetric here:
//     sel B = u B + s (B (1 - 2u)), O's term u B and X = B (1 - 2 u_sel), K = s_sel, goes
//     to Q instead, masked by r from k_0 (the key of O and P, which Q lacks); Q's term is
//     (X - r) K, P's r K. Four words per element, three to P and one to Q, so that O's
//     link to P carries about as much as Q's (and O's link to Q, idle otherwise, one).
//   - Party-2-sent (one bit x times a value K both a-holders know: sel A with K = A, and
//     w_k x_k with K = w_k): O sends the bit d = u ^ rho to P (rho from F); with e = rho ^
//     s, which Q knows, x = d ^ e and x K = d K + e K - 2 d e K. Q sends m = e K - r to P
//     (r from F). P's term d K - 2 d m, Q's e K, O's -2 d r (O knows d and r): the sum is
//     K (d + e - 2de) = x K. One bit from O and one word from Q per element and bit.
//
// Messages, one step (nothing depends on anything received in it): O -> P 1 + len(xs)
// bits (bit planes, first) and three words per element; O -> Q one word per element; Q
// -> P 1 + len(xs) words per element. The three terms, with a fresh zero sharing, are a
// 3-out-of-3 sharing of V, returned pending (deferred.go) or reshared, as B2A's product
// is. One message delay, as B2A's input; then the resharing.
//
// Security (one semi-honest corruption): everything P receives is masked by a fresh
// output of F: the words X - r and e K - r by uniform words, the bits d by uniform bits
// rho (m = e K - r is uniform whatever rho, so d and m together are too); Q receives
// one word per element, masked by a fresh output of k_0, which Q lacks. O receives
// nothing here; the terms are revealed only through the zero-shared resharing. Against B2AAnd of SumK planes (SumK + 3 words from
// the role-0 party, each party in turn), the owners of b (parties 1 and 0) send four
// words and party 2 1 + len(xs) words per element, on the links to the keyed a-holder
// (the one-hot input goes to party 2), and the circuit needs neither the sum planes of
// the chunk nor the clamp's AND per output plane. The split of the terms between O and Q
// balances the parties: with len(xs) = 2 (requant_leaves.go) the owners send 16 and
// party 2 24 bytes per element, on top of the leaf circuit's 31 / 31 / 16.5.
// Semi-honest only (LeafSplits is false with an Observer).

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/prg"
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
	if len(ws) != len(xs) {
		return nil, errs.New(errs.Internal, "rep3 chunkb2a: %d weights for %d bits", len(ws), len(xs))
	}
	// The party-2-sent bits (sel, then xs) and the owner-sent ones (c, beta).
	qb := make([]*BShare, 0, 1+len(xs))
	for i, x := range append([]mpc.BShare{sel}, xs...) {
		b := bs(x)
		if b.w != 1 || b.n != n {
			return nil, errs.New(errs.Internal, "rep3 chunkb2a: bit %d is (%d, %d), want (%d, 1)", i, b.n, b.w, n)
		}
		qb = append(qb, b)
	}
	cb, bb := bs(c), bs(beta)
	if cb.w != 1 || cb.n != n || bb.w != 1 || bb.n != n {
		return nil, errs.New(errs.Internal, "rep3 chunkb2a: c, beta are (%d, %d), (%d, %d), want (%d, 1)", cb.n, cb.w, bb.n, bb.w, n)
	}
	sb := qb[0]
	nq, no := len(qb), 3
	t := make([]uint64, n)
	type out struct {
		to  int
		msg []uint64
	}
	var outs []out
	// The masks of the owner's word to party 2 (sel B), from k_0 (the owner and the keyed
	// a-holder), drawn for every range in order before anything else from k_0 here.
	rk := make([][]uint64, len(cs.rs))
	for ri, r := range cs.rs {
		k0 := p.gNext // party 0's key k_0; party 1's is gPrev
		if p.id == 1 {
			k0 = p.gPrev
		}
		if nh := r.hi - r.lo; nh > 0 && (p.id == r.owner || p.id == r.keyed) {
			rk[ri] = k0.Uint64s(nh)
		}
	}
	for ri, r := range cs.rs {
		nh := r.hi - r.lo
		if nh == 0 {
			continue
		}
		rw := (nh + 63) / 64 // the range starts at a whole word (leaves.go)
		w0 := r.lo / 64
		var f *prg.PRG // F: the key of the owner and party 2 (k_1 for owner 1, k_2 for owner 0)
		switch {
		case p.id == r.owner && r.owner == 1, p.id == 2 && r.owner == 0:
			f = p.gNext
		case p.id == r.owner && r.owner == 0, p.id == 2 && r.owner == 1:
			f = p.gPrev
		}
		if f == nil { // the keyed a-holder: it receives, below
			continue
		}
		rho := f.Uint64s(nq * rw) // bit planes
		rq := f.Uint64s(nq * nh)  // masks of party 2's words
		ro := f.Uint64s(no * nh)  // masks of the owner's words
		if p.id == r.owner {
			m := make([]uint64, nq*rw+no*nh) // the bits d (planes), then the words
			d, xw := m[:nq*rw], m[nq*rw:]
			mq := make([]uint64, nh) // to party 2: X - r for sel B (r from k_0)
			for j, x := range qb {   // d = u ^ rho, bit-sliced
				for k := range rw {
					d[j*rw+k] = x.a[w0+k] ^ x.b[w0+k] ^ rho[j*rw+k]
				}
			}
			for e := range nh {
				i := r.lo + e
				B := r.v[e]
				us := bitAt(sb.a, i) ^ bitAt(sb.b, i)
				uc, ub := bitAt(cb.a, i)^bitAt(cb.b, i), bitAt(bb.a, i)^bitAt(bb.b, i)
				own := us*B + uc*ub
				for j := range nq {
					own -= 2 * bitAt(d[j*rw:], e) * rq[nq*e+j]
				}
				t[i] = own
				cf := andCoefs(uc, ub)
				x := xw[no*e : no*e+no]
				x[0], x[1], x[2] = cf[0]-ro[no*e], cf[1]-ro[no*e+1], cf[2]-ro[no*e+2]
				mq[e] = B - 2*us*B - rk[ri][e]
			}
			outs = append(outs, out{r.keyed, m}, out{2, mq})
			continue
		}
		// Party 2 (Q): e = rho ^ s, m = e K - r; its term sum e K + the owner's masks' r K.
		m := make([]uint64, nq*nh)
		for e := range nh {
			i := r.lo + e
			A := r.v[e]
			sc, st := p.third(cb, r, i), p.third(bb, r, i)
			v := ro[no*e]*sc + ro[no*e+1]*st + ro[no*e+2]*(sc&st)
			for j, x := range qb {
				ej := bitAt(rho[j*rw:], e) ^ p.third(x, r, i)
				K := A
				if j > 0 {
					K = ws[j-1]
				}
				v += ej * K
				m[nq*e+j] = ej*K - rq[nq*e+j]
			}
			t[i] += v
		}
		outs = append(outs, out{r.keyed, m})
	}
	for _, o := range outs {
		if err := p.send(o.to, o.msg); err != nil {
			return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
		}
	}
	for ri, r := range cs.rs {
		nh := r.hi - r.lo
		if nh > 0 && p.id == 2 { // Q: the owner's word X - r for sel B, times s_sel
			xq, err := p.recv(r.owner, nh)
			if err != nil {
				return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
			}
			for e := range nh {
				i := r.lo + e
				t[i] += xq[e] * p.third(sb, r, i)
			}
		}
		if nh == 0 || p.id != r.keyed {
			continue
		}
		rw := (nh + 63) / 64
		mo, err := p.recv(r.owner, nq*rw+no*nh)
		if err != nil {
			return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
		}
		mq, err := p.recv(2, nq*nh)
		if err != nil {
			return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
		}
		d, xw := mo[:nq*rw], mo[nq*rw:]
		for e := range nh {
			i := r.lo + e
			A := r.v[e]
			ss, sc, st := p.third(sb, r, i), p.third(cb, r, i), p.third(bb, r, i)
			x := xw[no*e : no*e+no]
			v := rk[ri][e]*ss + x[0]*sc + x[1]*st + x[2]*(sc&st)
			for j := range nq {
				K := A
				if j > 0 {
					K = ws[j-1]
				}
				dj := bitAt(d[j*rw:], e)
				v += dj*K - 2*dj*mq[nq*e+j]
			}
			t[i] += v
		}
	}
	p.addZeroShare(t)
	z, err := p.product(t)
	if err != nil {
		return nil, fmt.Errorf("rep3 chunkb2a: %w", err)
	}
	return z, nil
}

// bitAt is bit i of the plane v.
func bitAt(v []uint64, i int) uint64 { return v[i>>6] >> uint(i&63) & 1 }

// third is an a-holder's copy of x's third component (the one the owner of range r
// lacks) at element i: party owner+1 holds it second, party owner+2 first.
func (p *Protocol) third(x *BShare, r chunkRange, i int) uint64 {
	if p.id == (r.owner+1)%3 {
		return bitAt(x.b, i)
	}
	return bitAt(x.a, i)
}
