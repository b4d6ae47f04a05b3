package rep3

// Leaves of A2B's operands (mpc.LeafSplitter): one-plane binary sharings of public
// functions f(a, v) of the operand a (known to two parties) and of a chunk v of K bits of
// the operand b (known to the third), at the cost of one resharing.
//
// Construction. The elements are split into two ranges of whole words (one range, A, when
// the caller also wants planes of the operands). In range A, a = x_0 (parties 0 and 2)
// and b = x_1 + x_2 (party 1); in range B, a = x_2 (parties 1 and 2) and b = x_0 + x_1
// (party 0). The owner of b inputs the one-hot vector e_v (2^K bits, bit v set) of every
// chunk as an XOR sharing between the two a-holders, as in rep3's binary input (ABY3's
// input of a value known to one party): the a-holder that shares the key k_0 with the
// owner (party 0 in A, party 1 in B) draws its part F(k_0), party 2 receives e_v ^ F(k_0).
// Since f(a, v) = XOR over u of f(a, u) & e_v[u], a linear function of e_v whose
// coefficients the a-holders know, each computes u_i = parity(T & its part) with T the
// truth table of f(a, .), and the two u_i XOR to f(a, v): a sharing of the leaf between
// the a-holders, as the local terms of an AND gate are one between all three. It is made
// replicated as an AND's output is (Araki et al.'s resharing), with two messages and
// fresh PRF masks, so that neither the owner nor the keyed a-holder receives before it
// sends:
//
//   - range A: with y_0 and m two draws of F(k_2) (parties 2 and 0), party 0 sends y_1 =
//     u_0 ^ y_0 ^ m to party 1 and party 2 sends y_2 = u_2 ^ m to party 1;
//   - range B: with y_2 = F(k_1) and m = F(k_1) (parties 1 and 2), party 1 sends y_1 =
//     u_1 ^ y_2 ^ m to party 0 and party 2 sends y_0 = u_2 ^ m to party 0;
//
// then y_0 ^ y_1 ^ y_2 = f(a, v) and party i holds (y_i, y_{i+1}). Each range sends one
// message on a link i -> i+1 and one on a link i -> i-1, on four different links, so
// that concurrent passes with rotated roles (mpc.Spec.Rotatable) load all six alike.
//
// The roles of the two a-holders in the input are symmetric: for some chunks
// (keyedChunks: about half the planes, so that the owner's two links carry about the
// same) party 2 draws its part from F(k_q), the key it shares with the owner (k_1 in A,
// k_2 in B), and the keyed a-holder receives e_v ^ F(k_q), which it cannot unmask (it
// lacks k_q).
//
// Messages: parties 1 and 0 -> party 2 and to the keyed a-holder (0 in A, 1 in B), the
// sum over chunks of 2^K bits per element of their range (and the wanted planes of b,
// to party 2); then one bit per leaf and element: in A parties 0 and 2 -> 1, in B
// parties 1 and 2 -> 0. One round of AND depth for every leaf,
// whatever its function: with 4-bit chunks a circuit starts from the (generate,
// propagate) pairs of 4 planes, or equality tests of 4 planes, instead of single planes.
//
// Security (one semi-honest corruption): party 2 sees e_v ^ F(k_0) (it lacks k_0), the
// keyed a-holder e_v ^ F(k_q) (it lacks k_q); party 1 sees y_1 and y_2 of A, masked by
// F(k_2) draws it lacks (y_0 and m; together they are its replicated share, missing
// y_0); party 0 sees y_1 and y_0 of B, masked by F(k_1) draws it lacks (y_2 and m). Every
// message is masked by a fresh PRF output that its receiver lacks, and the leaves are then
// an ordinary replicated sharing whose later use (AND gates) adds fresh zero-sharings. The
// a-holders learn nothing of b, the owner nothing of a. This is the semi-honest form
// only: the one-hot input is not a product, so a checked variant's product checks would
// not cover it (LeafSplits is false with an Observer attached, as the single-party inputs
// of A2B are replaced there too).

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

var _ mpc.LeafSplitter = (*Protocol)(nil)

// LeafSplits reports whether A2BSplitLeaves is available: not with an Observer (the
// checked form).
func (p *Protocol) LeafSplits() bool { return p.obs == nil }

type chunkKey struct{ lo, k int }

// A2BSplitLeaves implements mpc.LeafSplitter: the leaves of l (a and b per range, see
// above), and with nb > 0 (one range) planes [0, nb) of a = x_0 and b = x_1 + x_2 (mod
// 2^w): one input step (parties 1 and 0 send) and one resharing.
func (p *Protocol) A2BSplitLeaves(x mpc.AShare, w, nb int, l *mpc.SplitLeaves) (a, b mpc.BShare, leaves []mpc.BShare, err error) {
	if p.obs != nil {
		return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: not available in the checked form")
	}
	if w < 1 || w > 64 || nb < 0 || nb > w {
		return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: width %d, %d planes", w, nb)
	}
	if l.SumK < 0 || l.SumK > 63 || l.SumLo < 0 || l.SumLo+l.SumK > w {
		return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: chunk [%d, +%d) of %d planes", l.SumLo, l.SumK, w)
	}
	var chunks []chunkKey
	idx := map[chunkKey]int{}
	for j, lf := range l.Leaves {
		if lf.K < 1 || lf.K > mpc.MaxLeafChunk || lf.Lo < 0 || lf.Lo+lf.K > w || lf.Src < 0 || lf.Src > l.NDerived ||
			lf.SW < 0 || lf.SW > 16 || lf.SLo < 0 || lf.SLo+lf.SW > 64 || len(lf.Tab) != 1<<uint(lf.SW) {
			return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: leaf %d malformed", j)
		}
		k := chunkKey{lf.Lo, lf.K}
		if _, ok := idx[k]; !ok {
			idx[k] = len(chunks)
			chunks = append(chunks, k)
		}
	}
	// A pending product (deferred.go) goes in without its resharing: in range A, b = z_1
	// (party 1's alone) and a = z_0 + z_2, which parties 0 and 2 exchange in the input
	// step; in range B, b = z_0 and a = z_1 + z_2 (parties 1 and 2). With operand planes
	// wanted it is settled first.
	s := anyAS(x)
	pend := nb == 0 && s.pending()
	if pend {
		s = &AShare{a: p.sendable(s)} // the terms, masked (deferred.go)
	} else if s, err = p.settle(x); err != nil {
		return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
	}
	n := len(s.a)
	nw := ring.Words(n)
	// Two ranges of whole words: in range A, b = x_1 + x_2 is party 1's and a = x_0 is
	// known to parties 0 and 2; in range B, b = x_0 + x_1 is party 0's and a = x_2 is known
	// to parties 1 and 2. The owner of b inputs the one-hots: the a-holder that shares a
	// PRF key with it (party 0 in A, party 1 in B: key k_0) draws its part, party 2 receives
	// the rest in both. So two parties input (half the elements each) and neither receives
	// in that step. With operand planes wanted (nb > 0) there is one range, A.
	type rng struct {
		owner, keyed int // b's holder; the a-holder sharing k_0 with it (the other is 2)
		wlo, whi     int
		lo, hi       int
		off          []int    // layout of the range's input
		oh           []uint64 // a-holders: this party's part of the one-hots
		ya, yb       []uint64 // this party's components of the leaves
		av           []uint64 // a-holders of a pending product: a = own z + the other's
		q            []uint64 // party 2: its F(owner, 2) parts of the toKeyed chunks
		bv           []uint64 // the owner: b's values
	}
	rs := []*rng{{owner: 1, keyed: 0, wlo: 0, whi: nw, lo: 0, hi: n}}
	if nb == 0 {
		mid := (nw + 1) / 2 // range A takes the extra word of an odd count
		rs = []*rng{
			{owner: 1, keyed: 0, wlo: 0, whi: mid, lo: 0, hi: min(64*mid, n)},
			{owner: 0, keyed: 1, wlo: mid, whi: nw, lo: min(64*mid, n), hi: n},
		}
	}
	// a's values (this party's component, if it holds a) and b's (the owner's).
	aOf := func(r *rng) []uint64 {
		if pend {
			return r.av
		}
		switch {
		case r.owner == 1 && p.id == 0, r.owner == 0 && p.id == 2:
			return s.a[r.lo:r.hi] // x_0 for party 0, x_2 for party 2: first components
		case r.owner == 1 && p.id == 2, r.owner == 0 && p.id == 1:
			return s.b[r.lo:r.hi] // x_0 for party 2, x_2 for party 1: second components
		}
		return nil
	}
	// Input: nb planes of b, then each chunk's one-hot vectors bit-sliced: plane v of
	// chunk (lo, K) is [b's planes [lo, lo+K) = v]. The keyed a-holder's part is F(k_0),
	// party 2 receives the input XOR F(k_0).
	for _, r := range rs {
		rw := r.whi - r.wlo
		r.off = make([]int, len(chunks)+1)
		r.off[0] = nb * rw
		for c, ck := range chunks {
			r.off[c+1] = r.off[c] + (1<<uint(ck.k))*rw
		}
	}
	// Which a-holder receives each chunk's one-hots (toKeyed; see keyedChunks): the same
	// for both ranges, public.
	toKeyed := keyedChunks(chunks, nb, pend)
	var ownIn []uint64 // the owner's F(k_0) part (range A with nb > 0: b's component 1)
	for _, r := range rs {
		rw, total := r.whi-r.wlo, r.off[len(chunks)]
		k0 := p.gNext // party 0's key k_0; party 1's is gPrev
		if p.id == 1 {
			k0 = p.gPrev
		}
		// kq: the key of the owner and party 2 (k_1 in A, k_2 in B), for the parts of
		// the chunks that the keyed a-holder receives.
		var kq = p.gNext // owner 1's k_1; party 2's k_2 (range B)
		if (p.id == r.owner && r.owner == 0) || (p.id == 2 && r.owner == 1) {
			kq = p.gPrev
		}
		nk := 0 // words of the chunks that the keyed a-holder receives
		for c := range chunks {
			if toKeyed[c] {
				nk += r.off[c+1] - r.off[c]
			}
		}
		if pend && p.id != r.owner { // the a-holders exchange their terms of the product
			if err := p.send(3-r.owner-p.id, s.a[r.lo:r.hi]); err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: exchange: %w", err)
			}
		}
		switch p.id {
		case r.keyed:
			r.oh = k0.Uint64s(total) // the parts of toKeyed chunks are replaced below
		case 2:
			if nk > 0 {
				r.q = kq.Uint64s(nk) // party 2's parts of toKeyed chunks
			}
		case r.owner:
			y := make([]uint64, r.hi-r.lo)
			if pend {
				copy(y, s.a[r.lo:r.hi]) // b = this party's term z
			} else {
				ring.Add(y, s.a[r.lo:r.hi], s.b[r.lo:r.hi])
			}
			r.bv = y
			yp := ring.ToPlanes(y, w)
			vals := make([]uint64, total)
			copy(vals, yp[:nb*rw])
			last := ^uint64(0)
			if k := (r.hi - r.lo) % 64; k != 0 {
				last = 1<<uint(k) - 1
			}
			for c, ck := range chunks {
				dst := vals[r.off[c]:r.off[c+1]]
				for wi := range rw {
					for v := range 1 << uint(ck.k) {
						o := ^uint64(0)
						for j := range ck.k {
							pl := yp[(ck.lo+j)*rw+wi]
							if v>>uint(j)&1 == 0 {
								pl = ^pl
							}
							o &= pl
						}
						if wi == rw-1 {
							o &= last
						}
						dst[v*rw+wi] = o
					}
				}
			}
			ownIn = k0.Uint64s(total)
			var fq []uint64
			if nk > 0 {
				fq = kq.Uint64s(nk)
			}
			// To party 2: nb planes of b and the chunks it receives, each XOR F(k_0);
			// to the keyed a-holder: the toKeyed chunks, each XOR F(owner, 2).
			m2 := make([]uint64, 0, total-nk)
			mk := make([]uint64, 0, nk)
			ring.Xor(vals[:r.off[0]], vals[:r.off[0]], ownIn[:r.off[0]])
			m2 = append(m2, vals[:r.off[0]]...)
			for c := range chunks {
				lo, hi := r.off[c], r.off[c+1]
				seg := vals[lo:hi]
				if toKeyed[c] {
					ring.Xor(seg, seg, fq[len(mk):len(mk)+hi-lo])
					mk = append(mk, seg...)
				} else {
					ring.Xor(seg, seg, ownIn[lo:hi])
					m2 = append(m2, seg...)
				}
			}
			r.oh = vals
			if err := p.send(2, m2); err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: input: %w", err)
			}
			if err := p.send(r.keyed, mk); err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: input: %w", err)
			}
		}
	}
	for _, r := range rs {
		if pend && p.id != r.owner {
			z, err := p.recv(3-r.owner-p.id, r.hi-r.lo)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: exchange: %w", err)
			}
			r.av = make([]uint64, r.hi-r.lo)
			ring.Add(r.av, s.a[r.lo:r.hi], z)
		}
		nk := len(r.q) // party 2: its F(owner, 2) parts; the keyed a-holder: counted below
		if p.id == r.keyed {
			for c := range chunks {
				if toKeyed[c] {
					nk += r.off[c+1] - r.off[c]
				}
			}
		}
		total := r.off[len(chunks)]
		switch p.id {
		case 2: // the received parts of its chunks (and the nb planes), then F(owner, 2)'s
			m, err := p.recv(r.owner, total-nk)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: input: %w", err)
			}
			oh := make([]uint64, total)
			copy(oh, m[:r.off[0]])
			i, j := r.off[0], 0
			for c := range chunks {
				seg := oh[r.off[c]:r.off[c+1]]
				if toKeyed[c] {
					j += copy(seg, r.q[j:])
				} else {
					i += copy(seg, m[i:])
				}
			}
			r.oh = oh
		case r.keyed:
			if nk == 0 {
				break
			}
			m, err := p.recv(r.owner, nk)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: input: %w", err)
			}
			j := 0
			for c := range chunks {
				if toKeyed[c] {
					j += copy(r.oh[r.off[c]:r.off[c+1]], m[j:])
				}
			}
		}
	}
	// Operand planes (nb > 0: one range, A): b's components are the input's first nb*nw
	// words (component 1 = F(k_0), component 2 = the rest, component 0 = 0); a = x_0 is
	// party 0's first component and party 2's second.
	l0 := nb * nw
	var bs, as0 *BShare
	{
		r := rs[0]
		ba, bb := []uint64{}, []uint64{}
		if nb > 0 {
			switch p.id {
			case 0:
				ba, bb = make([]uint64, l0), r.oh[:l0:l0]
			case 1:
				ba, bb = ownIn[:l0:l0], r.oh[:l0:l0]
			case 2:
				ba, bb = r.oh[:l0:l0], make([]uint64, l0)
			}
		}
		bs = &BShare{n, nb, ba, bb}
		as0 = &BShare{n: n, w: nb}
		switch p.id {
		case 0:
			as0.a, as0.b = ring.ToPlanes(s.a, nb), make([]uint64, l0)
		case 1:
			as0.a = make([]uint64, l0)
			as0.b = as0.a
		case 2:
			as0.a, as0.b = make([]uint64, l0), ring.ToPlanes(s.b, nb)
		}
	}
	nl := len(l.Leaves)
	// Leaves: the a-holders compute their shares u, then reshare so that the owner and the
	// keyed a-holder do not receive before sending:
	//   range A (owner 1, keyed 0): y_0 = F(k_2), m = F(k_2); party 0 sends y_1 = u_0 ^ y_0
	//   ^ m to party 1, party 2 sends y_2 = u_2 ^ m to party 1;
	//   range B (owner 0, keyed 1): y_2 = F(k_1), m = F(k_1); party 1 sends y_1 = u_1 ^
	//   y_2 ^ m to party 0, party 2 sends y_0 = u_2 ^ m to party 0.
	// In both, y_0 ^ y_1 ^ y_2 = u ^ u' and party i holds (y_i, y_{i+1}).
	for _, r := range rs {
		lt := nl * (r.whi - r.wlo)
		var u []uint64
		if av := aOf(r); av != nil && nl > 0 {
			u = p.leafShares(av, w, r.oh, chunks, idx, r.off, l)
		}
		if r.owner == 1 { // range A
			switch p.id {
			case 0:
				y0 := p.gPrev.Uint64s(lt)
				m := p.gPrev.Uint64s(lt)
				y1 := make([]uint64, lt)
				for i := range y1 {
					y1[i] = u[i] ^ y0[i] ^ m[i]
				}
				r.ya, r.yb = y0, y1
				if err := p.send(1, y1); err != nil {
					return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
				}
			case 2:
				y0 := p.gNext.Uint64s(lt)
				m := p.gNext.Uint64s(lt)
				y2 := make([]uint64, lt)
				for i := range y2 {
					y2[i] = u[i] ^ m[i]
				}
				r.ya, r.yb = y2, y0
				if err := p.send(1, y2); err != nil {
					return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
				}
			}
			continue
		}
		switch p.id { // range B
		case 1:
			y2 := p.gNext.Uint64s(lt)
			m := p.gNext.Uint64s(lt)
			y1 := make([]uint64, lt)
			for i := range y1 {
				y1[i] = u[i] ^ y2[i] ^ m[i]
			}
			r.ya, r.yb = y1, y2
			if err := p.send(0, y1); err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
			}
		case 2:
			y2 := p.gPrev.Uint64s(lt)
			m := p.gPrev.Uint64s(lt)
			y0 := make([]uint64, lt)
			for i := range y0 {
				y0[i] = u[i] ^ m[i]
			}
			r.ya, r.yb = y2, y0
			if err := p.send(0, y0); err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
			}
		}
	}
	for _, r := range rs {
		lt := nl * (r.whi - r.wlo)
		if r.owner == 1 {
			if p.id == 1 {
				y1, err := p.recv(0, lt)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
				}
				y2, err := p.recv(2, lt)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
				}
				r.ya, r.yb = y1, y2
			}
			continue
		}
		if p.id == 0 {
			y1, err := p.recv(1, lt)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
			}
			y0, err := p.recv(2, lt)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
			}
			r.ya, r.yb = y0, y1
		}
	}
	if l.SumK > 0 { // ChunkB2A's state: this party's values of the chunk, per range
		cs := &chunkSplit{n: n}
		msk := uint64(1)<<uint(l.SumK) - 1
		for _, r := range rs {
			cr := chunkRange{owner: r.owner, keyed: r.keyed, lo: r.lo, hi: r.hi}
			v := aOf(r)
			if p.id == r.owner {
				v = r.bv
			}
			cr.v = make([]uint64, len(v))
			for i, x := range v {
				cr.v[i] = x >> uint(l.SumLo) & msk
			}
			cs.rs = append(cs.rs, cr)
		}
		l.Sum = cs
	}
	// Assemble each leaf's plane from the ranges.
	leaves = make([]mpc.BShare, nl)
	if len(rs) == 1 {
		for j := range leaves {
			lo, hi := j*nw, (j+1)*nw
			leaves[j] = &BShare{n, 1, rs[0].ya[lo:hi:hi], rs[0].yb[lo:hi:hi]}
		}
		return as0, bs, leaves, nil
	}
	la, lb := make([]uint64, nl*nw), make([]uint64, nl*nw)
	for _, r := range rs {
		rw := r.whi - r.wlo
		for j := range nl {
			copy(la[j*nw+r.wlo:j*nw+r.whi], r.ya[j*rw:(j+1)*rw])
			copy(lb[j*nw+r.wlo:j*nw+r.whi], r.yb[j*rw:(j+1)*rw])
		}
	}
	for j := range leaves {
		lo, hi := j*nw, (j+1)*nw
		leaves[j] = &BShare{n, 1, la[lo:hi:hi], lb[lo:hi:hi]}
	}
	return as0, bs, leaves, nil
}

// leafShares computes this party's share (party 0 or 2) of every leaf, bit-sliced: with
// O_v the planes of its component of a chunk's one-hot vectors (party 0: component 1, its
// second; party 2: component 2, its first) and D_t = [the leaf's table index = t] (planes
// from the index's bit planes, public to this party), the share is XOR over t of D_t &
// (XOR of O_v over the v with f(t, v) = 1). The XORs of O_v over any set are read from
// tables of the 16 subsets of each group of four planes, per word of 64 elements.
func (p *Protocol) leafShares(av []uint64, w int, oh []uint64, chunks []chunkKey, idx map[chunkKey]int, off []int, l *mpc.SplitLeaves) []uint64 {
	n := len(av)
	nw := ring.Words(n)
	// Sources' planes: a (w planes) and the derived values (the planes leaves read).
	need := make([]int, l.NDerived+1)
	for _, lf := range l.Leaves {
		need[lf.Src] = max(need[lf.Src], lf.SLo+lf.SW)
	}
	sp := make([][]uint64, l.NDerived+1)
	sp[0] = ring.ToPlanes(av, min(max(need[0], 1), 64))
	if l.NDerived > 0 {
		wmask := ^uint64(0)
		if w < 64 {
			wmask = 1<<uint(w) - 1
		}
		dv := make([][]uint64, l.NDerived)
		for d := range dv {
			dv[d] = make([]uint64, n)
		}
		out := make([]uint64, l.NDerived)
		for i, a := range av {
			l.Derive(a&wmask, out)
			for d, v := range out {
				dv[d][i] = v
			}
		}
		for d := range dv {
			sp[d+1] = ring.ToPlanes(dv[d], min(max(need[d+1], 1), 64))
		}
	}
	// Index selectors: one set of 2^SW planes per distinct (source, low plane, width).
	type skey struct{ src, slo, sw int }
	sel := map[skey]int{}
	var sels []skey
	selOff := []int{0}
	for _, lf := range l.Leaves {
		k := skey{lf.Src, lf.SLo, lf.SW}
		if _, ok := sel[k]; !ok {
			sel[k] = len(sels)
			sels = append(sels, k)
			selOff = append(selOff, selOff[len(selOff)-1]+1<<uint(lf.SW))
		}
	}
	// Subset tables: per chunk, per group of four one-hot planes, 16 entries.
	subOff := []int{0}
	for _, ck := range chunks {
		g := (1<<uint(ck.k) + 3) / 4
		subOff = append(subOff, subOff[len(subOff)-1]+16*g)
	}
	dsel := make([]uint64, selOff[len(sels)])
	sub := make([]uint64, subOff[len(chunks)])
	lc, ls := make([]int, len(l.Leaves)), make([]int, len(l.Leaves))
	for j, lf := range l.Leaves {
		lc[j], ls[j] = idx[chunkKey{lf.Lo, lf.K}], sel[skey{lf.Src, lf.SLo, lf.SW}]
	}
	// Leaves whose table has at most one v per t (equalities, propagates) read one plane
	// per t; leaves whose table is a suffix {v >= s_t} (generates, carries out) read a
	// suffix XOR of the chunk's planes; others take the subset tables. pick[j][t] is the
	// plane (or suffix) index of leaf j at t, -1 for none.
	const (
		general = iota
		single
		suffix
	)
	kind := make([]int, len(l.Leaves))
	pick := make([][]int8, len(l.Leaves))
	for j, lf := range l.Leaves {
		nv := 1 << uint(lf.K)
		all := uint64(1)<<uint(nv) - 1
		pk := make([]int8, len(lf.Tab))
		isSingle, isSuffix := true, true
		for t, m := range lf.Tab {
			m &= all
			switch {
			case m == 0:
				pk[t] = -1
			case m&(m-1) == 0:
				pk[t] = int8(bits.TrailingZeros64(m))
			default:
				isSingle = false
			}
			// a suffix {v >= s}: m = all &^ (2^s - 1)
			if s := bits.TrailingZeros64(m | 1<<uint(nv)); m != all&^(1<<uint(s)-1) {
				isSuffix = false
			}
		}
		switch {
		case isSingle:
			kind[j], pick[j] = single, pk
		case isSuffix:
			for t, m := range lf.Tab {
				m &= all
				if m == 0 {
					pk[t] = -1
				} else {
					pk[t] = int8(bits.TrailingZeros64(m))
				}
			}
			kind[j], pick[j] = suffix, pk
		}
	}
	sufOff := []int{0}
	for _, ck := range chunks {
		sufOff = append(sufOff, sufOff[len(sufOff)-1]+1<<uint(ck.k))
	}
	suf := make([]uint64, sufOff[len(chunks)])
	u := make([]uint64, len(l.Leaves)*nw)
	for wi := range nw {
		for q, k := range sels {
			// ds[t] = AND over j of (plane j if bit j of t, else its complement), built
			// by doubling: 2^(j+1) entries from 2^j with one AND each.
			ds := dsel[selOff[q]:selOff[q+1]]
			ds[0] = ^uint64(0)
			for j, size := 0, 1; j < k.sw; j, size = j+1, 2*size {
				pl := sp[k.src][(k.slo+j)*nw+wi]
				lo, hi := ds[:size], ds[size:2*size]
				for t, v := range lo {
					hi[t] = v & pl
					lo[t] = v &^ pl
				}
			}
		}
		for c, ck := range chunks {
			nv := 1 << uint(ck.k)
			o := oh[off[c]:off[c+1]]
			tb := sub[subOff[c]:subOff[c+1]]
			for g := 0; g*4 < nv; g++ {
				e := tb[16*g : 16*g+16]
				e[0] = 0
				for s := 1; s < 16; s++ {
					b := bits.TrailingZeros(uint(s))
					v := 4*g + b
					var pl uint64
					if v < nv {
						pl = o[v*nw+wi]
					}
					e[s] = e[s&(s-1)] ^ pl
				}
			}
			sf := suf[sufOff[c]:sufOff[c+1]]
			acc := uint64(0)
			for v := nv - 1; v >= 0; v-- {
				acc ^= o[v*nw+wi]
				sf[v] = acc
			}
		}
		for j, lf := range l.Leaves {
			c, q := lc[j], ls[j]
			tb := sub[subOff[c]:subOff[c+1]]
			ng := (1<<uint(lf.K) + 3) / 4
			ds := dsel[selOff[q]:selOff[q+1]]
			var acc uint64
			switch kind[j] {
			case single:
				o := oh[off[c]:off[c+1]]
				for t, v := range pick[j] {
					if v >= 0 {
						acc ^= ds[t] & o[int(v)*nw+wi]
					}
				}
				u[j*nw+wi] = acc
				continue
			case suffix:
				sf := suf[sufOff[c]:sufOff[c+1]]
				for t, v := range pick[j] {
					if v >= 0 {
						acc ^= ds[t] & sf[v]
					}
				}
				u[j*nw+wi] = acc
				continue
			}
			for t, m := range lf.Tab {
				x := tb[m&15]
				for g := 1; g < ng; g++ {
					x ^= tb[16*g+int(m>>uint(4*g)&15)]
				}
				acc ^= ds[t] & x
			}
			u[j*nw+wi] = acc
		}
	}
	return u
}

// keyedChunks chooses the chunks whose one-hots the keyed a-holder receives (the others
// go to party 2): the owner's two links then carry about the same in the input step
// (party 2's link also carries the other range's exchange of a pending product, one
// word per element, and the nb planes of b). Largest chunks first, each to the link
// with fewer planes so far. Public (chunk widths only): every party computes the same.
func keyedChunks(chunks []chunkKey, nb int, pend bool) []bool {
	toKeyed := make([]bool, len(chunks))
	to2, toK := nb, 0
	if pend {
		to2 += 64
	}
	ord := make([]int, len(chunks))
	for c := range ord {
		ord[c] = c
	}
	slices.SortStableFunc(ord, func(x, y int) int { return chunks[y].k - chunks[x].k })
	for _, c := range ord {
		sz := 1 << uint(chunks[c].k)
		if toK < to2 {
			toKeyed[c] = true
			toK += sz
		} else {
			to2 += sz
		}
	}
	return toKeyed
}
