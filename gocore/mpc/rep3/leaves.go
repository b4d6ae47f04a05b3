package rep3

// Leaves of A2B's operands (mpc.LeafSplitter): one-plane binary sharings of public
// functions f(a, v) of the operand a = x_0 (known to parties 0 and 2) and of a chunk v of
// K bits of the operand b = x_1 + x_2 (known to party 1), at the cost of one resharing.
//
// Construction. Party 1 inputs, with the planes of b that the caller wants, the one-hot
// vector e_v (2^K bits, bit v set) of every chunk, by rep3's binary input (ABY3's input of
// a value known to one party; see the package comment): component 1 is F(k_0), held by
// parties 0 and 1, and component 2 = e_v ^ F(k_0) is sent to party 2; component 0 is zero.
// Since f(a, v) = XOR over u of f(a, u) & e_v[u], a linear function of e_v whose
// coefficients parties 0 and 2 know, party 0 computes u_0 = parity(T & component 1) and
// party 2 computes u_2 = parity(T & component 2) with T the truth table of f(a, .), and
// u_0 ^ u_2 = f(a, v): a sharing of the leaf between parties 0 and 2, as the local terms of
// an AND gate are one between all three. It is made replicated as an AND's output is (Araki
// et al.'s resharing), with two messages: with y_1 = F(k_0) (parties 0 and 1) and m = F(k_2)
// (parties 2 and 0), party 0 sends y_0 = u_0 ^ y_1 ^ m to party 2 and party 2 sends y_2 =
// u_2 ^ m to party 1; y_0 ^ y_1 ^ y_2 = f(a, v) and party i holds (y_i, y_{i+1}).
//
// Messages: party 1 -> party 2, sum over chunks of 2^K bits per element (and the wanted
// planes of b); then party 0 -> party 2 and party 2 -> party 1, one bit per leaf and
// element. Party 1 sends nothing in the second step. One round of AND depth for every
// leaf, whatever its function: with 4-bit chunks a circuit starts from the (generate,
// propagate) pairs of 4 planes, or equality tests of 4 planes, instead of single planes.
//
// Security (one semi-honest corruption): party 2 sees e_v ^ F(k_0) (it lacks k_0) and
// y_0, masked by y_1 = F(k_0); party 1 sees y_2, masked by m = F(k_2) (it lacks k_2);
// party 0 receives nothing. Every message is masked by a fresh PRF output that its
// receiver lacks, and the leaves are then an ordinary replicated sharing whose later use
// (AND gates) adds fresh zero-sharings. Parties 0 and 2 learn nothing of b, party 1
// nothing of a. This is the semi-honest form only: party 1's one-hot input is not a
// product, so a checked variant's product checks would not cover it (LeafSplits is false
// with an Observer attached, as the single-party inputs of A2B are replaced there too).

import (
	"fmt"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

var _ mpc.LeafSplitter = (*Protocol)(nil)

// LeafSplits reports whether A2BSplitLeaves is available: not with an Observer (the
// checked form).
func (p *Protocol) LeafSplits() bool { return p.obs == nil }

type chunkKey struct{ lo, k int }

// A2BSplitLeaves implements mpc.LeafSplitter: planes [0, nb) of a = x_0 and b = x_1 + x_2
// (mod 2^w), and the leaves of l, in one input message of party 1 and one resharing.
func (p *Protocol) A2BSplitLeaves(x mpc.AShare, w, nb int, l *mpc.SplitLeaves) (a, b mpc.BShare, leaves []mpc.BShare, err error) {
	if p.obs != nil {
		return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: not available in the checked form")
	}
	if w < 1 || w > 64 || nb < 0 || nb > w {
		return nil, nil, nil, errs.New(errs.Internal, "rep3 a2bsplitleaves: width %d, %d planes", w, nb)
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
	s := as(x)
	n := len(s.a)
	nw := ring.Words(n)
	// Party 1's input: nb planes of b, then each chunk's one-hot vectors bit-sliced: plane
	// v of chunk (lo, K) is [b's planes [lo, lo+K) = v].
	off := make([]int, len(chunks)+1)
	off[0] = nb * nw
	for c, ck := range chunks {
		off[c+1] = off[c] + (1<<uint(ck.k))*nw
	}
	total := off[len(chunks)]
	var vals []uint64
	if p.id == 1 {
		y := make([]uint64, n)
		ring.Add(y, s.a, s.b)
		yp := ring.ToPlanes(y, w)
		vals = make([]uint64, total)
		copy(vals, yp[:nb*nw])
		last := ^uint64(0)
		if n%64 != 0 {
			last = 1<<uint(n%64) - 1
		}
		for c, ck := range chunks {
			dst := vals[off[c]:off[c+1]]
			for wi := range nw {
				for v := range 1 << uint(ck.k) {
					o := ^uint64(0)
					for j := range ck.k {
						pl := yp[(ck.lo+j)*nw+wi]
						if v>>uint(j)&1 == 0 {
							pl = ^pl
						}
						o &= pl
					}
					if wi == nw-1 {
						o &= last
					}
					dst[v*nw+wi] = o
				}
			}
		}
	}
	ia, ib, err := p.input(1, vals, total, true)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: input: %w", err)
	}
	l0 := nb * nw
	bs := &BShare{n, nb, ia[:l0:l0], ib[:l0:l0]}
	// a = x_0: party 0's first component and party 2's second.
	as0 := &BShare{n: n, w: nb}
	var av []uint64 // a's values, for parties 0 and 2
	switch p.id {
	case 0:
		as0.a, as0.b = ring.ToPlanes(s.a, nb), make([]uint64, l0)
		av = s.a
	case 1:
		as0.a = make([]uint64, l0)
		as0.b = as0.a
	case 2:
		as0.a, as0.b = make([]uint64, l0), ring.ToPlanes(s.b, nb)
		av = s.b
	}
	nl := len(l.Leaves)
	lt := nl * nw
	var u []uint64 // this party's share of the leaves (parties 0 and 2)
	if p.id != 1 && nl > 0 {
		u = p.leafShares(av, w, ib, ia, chunks, idx, off, l)
	}
	// Resharing: party 0 -> 2 (y_0), party 2 -> 1 (y_2).
	var ya, yb []uint64
	switch p.id {
	case 0:
		y1 := p.gNext.Uint64s(lt)
		m := p.gPrev.Uint64s(lt)
		y0 := make([]uint64, lt)
		for i := range y0 {
			y0[i] = u[i] ^ y1[i] ^ m[i]
		}
		if err := p.send(p.prev, y0); err != nil {
			return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
		}
		ya, yb = y0, y1
	case 1:
		y1 := p.gPrev.Uint64s(lt)
		y2, err := p.recv(p.next, lt)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
		}
		ya, yb = y1, y2
	case 2:
		m := p.gNext.Uint64s(lt)
		y2 := make([]uint64, lt)
		for i := range y2 {
			y2[i] = u[i] ^ m[i]
		}
		if err := p.send(p.prev, y2); err != nil {
			return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
		}
		y0, err := p.recv(p.next, lt)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("rep3 a2bsplitleaves: %w", err)
		}
		ya, yb = y2, y0
	}
	leaves = make([]mpc.BShare, nl)
	for j := range leaves {
		lo, hi := j*nw, (j+1)*nw
		leaves[j] = &BShare{n, 1, ya[lo:hi:hi], yb[lo:hi:hi]}
	}
	return as0, bs, leaves, nil
}

// leafShares computes this party's share (party 0 or 2) of every leaf, bit-sliced: with
// O_v the planes of its component of a chunk's one-hot vectors (party 0: component 1, its
// second; party 2: component 2, its first) and D_t = [the leaf's table index = t] (planes
// from the index's bit planes, public to this party), the share is XOR over t of D_t &
// (XOR of O_v over the v with f(t, v) = 1). The XORs of O_v over any set are read from
// tables of the 16 subsets of each group of four planes, per word of 64 elements.
func (p *Protocol) leafShares(av []uint64, w int, second, first []uint64, chunks []chunkKey, idx map[chunkKey]int, off []int, l *mpc.SplitLeaves) []uint64 {
	n := len(av)
	nw := ring.Words(n)
	oh := second
	if p.id == 2 {
		oh = first
	}
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
			ds := dsel[selOff[q]:selOff[q+1]]
			for t := range ds {
				v := ^uint64(0)
				for j := range k.sw {
					pl := sp[k.src][(k.slo+j)*nw+wi]
					if t>>uint(j)&1 == 0 {
						pl = ^pl
					}
					v &= pl
				}
				ds[t] = v
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
