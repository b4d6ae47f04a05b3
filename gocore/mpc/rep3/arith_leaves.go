package rep3

// Arithmetic leaves (mpc.ArithLeafSplitter): arithmetic sharings of public functions
// f(a, v) in Z_2^64 of the operand a (known to parties 0 and 2) and of a chunk v of K bits
// of the operand b (known to party 1), at the cost of one resharing; the arithmetic
// counterpart of leaves.go, for few elements (the one-hot costs a word per entry).
//
// Construction (one range, roles of leaves.go's range A). The operands: a = x_0 and b =
// x_1 + x_2 of a replicated x; of a pending product (deferred.go), a = z_0 + z_2
// (parties 0 and 2 exchange their terms) and b = z_1. Party 1 inputs the one-hot vector
// e_v (2^K ring elements, entry v is 1) of each chunk as an additive sharing between the
// a-holders, split over party 1's two links (as the binary one-hots of keyedChunks): for
// the first half of the words (chunk-major: entry v of every element, chunk after chunk)
// party 0 draws its part R = F(k_0) (k_0 is shared by parties 0 and 1) and party 2
// receives e_v - R; for the second half party 2 draws R' = F(k_1) (shared by parties 1
// and 2) and party 0 receives e_v - R'. Since f(a, v) = sum_u f(a, u) e_v[u], each a-holder computes u_i =
// sum_u f(a, u) * (its part)[u] and u_0 + u_2 = f(a, v). Resharing (as range A of
// leaves.go, with + for XOR): with y_1 = F(k_0) (parties 0 and 1) and m = F(k_2)
// (parties 2 and 0), party 0 sends y_0 = u_0 - y_1 - m to party 2 and party 2 sends y_2 =
// u_2 + m to party 1; party i holds (y_i, y_{i+1}).
//
// Messages: party 1 -> 2 and party 1 -> 0 half the one-hots each (2^K words per chunk and
// element in all), with the exchange of a pending product's terms (parties 0 and 2, a
// word per element each way) in the same step; then a word per leaf and element from
// party 0 to 2 and from 2 to 1. Security as in leaves.go: party 2 sees e_v - F(k_0) and
// y_0, masked by F(k_0) draws it lacks; party 0 sees e_v - F(k_1), masked by F(k_1)
// draws it lacks (it holds k_2 and k_0); party 1 sees y_2, masked by m = F(k_2); the exchanged terms are masked by the
// product's zero sharing (z_0 by F(k_0) to party 2, z_2 by F(k_1) to party 0), and a = x
// - b is masked by b to the a-holders, b by a to party 1. Semi-honest only: not with an
// Observer.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

var _ mpc.ArithLeafSplitter = (*Protocol)(nil)

// A2BSplitArithLeaves implements mpc.ArithLeafSplitter (see above): one input step and
// one resharing.
func (p *Protocol) A2BSplitArithLeaves(x mpc.AShare, w int, l []mpc.ArithLeaf) ([]mpc.AShare, error) {
	if p.obs != nil {
		return nil, errs.New(errs.Internal, "rep3 a2bsplitarithleaves: not available in the checked form")
	}
	if w < 1 || w > 64 {
		return nil, errs.New(errs.Internal, "rep3 a2bsplitarithleaves: width %d", w)
	}
	var chunks []chunkKey
	idx := map[chunkKey]int{}
	for j, lf := range l {
		if lf.K < 1 || lf.K > mpc.MaxLeafChunk || lf.Lo < 0 || lf.Lo+lf.K > w || lf.SW < 0 || lf.SW > mpc.MaxLeafChunk ||
			lf.SLo < 0 || lf.SLo+lf.SW > w || len(lf.Tab) != 1<<uint(lf.SW+lf.K) {
			return nil, errs.New(errs.Internal, "rep3 a2bsplitarithleaves: leaf %d malformed", j)
		}
		k := chunkKey{lf.Lo, lf.K}
		if _, ok := idx[k]; !ok {
			idx[k] = len(chunks)
			chunks = append(chunks, k)
		}
	}
	s := anyAS(x)
	pend := s.pending()
	if pend {
		s = &AShare{a: p.sendable(s)} // the terms, masked (deferred.go)
	} else {
		var err error
		if s, err = p.settle(x); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: %w", err)
		}
	}
	n := len(s.a)
	off := make([]int, len(chunks)+1)
	for c, ck := range chunks {
		off[c+1] = off[c] + (1<<uint(ck.k))*n
	}
	total := off[len(chunks)]
	wmask := ^uint64(0)
	if w < 64 {
		wmask = 1<<uint(w) - 1
	}
	// Input step: the exchange of a pending product's terms (parties 0 and 2) and party
	// 1's one-hots (chunk-major: entry v of element i at off[c] + v*n + i); words [0, cut)
	// go to party 2, words [cut, total) to party 0.
	cut := total / 2
	var part []uint64 // an a-holder's part of the one-hots
	if pend && p.id != 1 {
		if err := p.send(2-p.id, s.a); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: exchange: %w", err)
		}
	}
	switch p.id {
	case 0:
		part = make([]uint64, total)
		p.gNext.Fill(part[:cut]) // F(k_0)
	case 2:
		part = make([]uint64, total)
		p.gPrev.Fill(part[cut:]) // F(k_1)
	case 1:
		r := make([]uint64, total)
		p.gPrev.Fill(r[:cut]) // F(k_0)
		p.gNext.Fill(r[cut:]) // F(k_1)
		b := make([]uint64, n)
		if pend {
			copy(b, s.a) // z_1
		} else {
			ring.Add(b, s.a, s.b) // x_1 + x_2
		}
		msg := make([]uint64, total)
		for c, ck := range chunks {
			km := uint64(1)<<uint(ck.k) - 1
			for i, bv := range b {
				v := int((bv & wmask) >> uint(ck.lo) & km)
				msg[off[c]+v*n+i] = 1
			}
		}
		for i := range msg {
			msg[i] -= r[i]
		}
		if err := p.send(2, msg[:cut]); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: input: %w", err)
		}
		if err := p.send(0, msg[cut:]); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: input: %w", err)
		}
	}
	var av []uint64 // a, for the a-holders
	switch {
	case pend && p.id != 1:
		z, err := p.recv(2-p.id, n)
		if err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: exchange: %w", err)
		}
		av = make([]uint64, n)
		ring.Add(av, s.a, z)
	case p.id == 0:
		av = s.a // x_0
	case p.id == 2:
		av = s.b // x_0
	}
	if p.id != 1 {
		lo, hi := 0, cut // party 2's received words
		if p.id == 0 {
			lo, hi = cut, total
		}
		m, err := p.recv(1, hi-lo)
		if err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: input: %w", err)
		}
		copy(part[lo:hi], m)
	}
	// The a-holders' additive shares u of every leaf, then the resharing.
	nl := len(l)
	var u []uint64
	if p.id != 1 {
		u = make([]uint64, nl*n)
		for j, lf := range l {
			o := part[off[idx[chunkKey{lf.Lo, lf.K}]]:]
			nv := 1 << uint(lf.K)
			tm := uint64(1)<<uint(lf.SW) - 1
			for i, a := range av {
				t := int((a & wmask) >> uint(lf.SLo) & tm)
				row := lf.Tab[t*nv : (t+1)*nv]
				var acc uint64
				for v, f := range row {
					acc += f * o[v*n+i]
				}
				u[j*n+i] = acc
			}
		}
	}
	lt := nl * n
	var ya, yb []uint64
	switch p.id {
	case 0:
		y1 := p.gNext.Uint64s(lt) // F(k_0)
		m := p.gPrev.Uint64s(lt)  // F(k_2)
		y0 := make([]uint64, lt)
		for i := range y0 {
			y0[i] = u[i] - y1[i] - m[i]
		}
		if err := p.send(2, y0); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: %w", err)
		}
		ya, yb = y0, y1
	case 1:
		ya = p.gPrev.Uint64s(lt) // y_1 = F(k_0)
		y2, err := p.recv(2, lt)
		if err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: %w", err)
		}
		yb = y2
	case 2:
		m := p.gNext.Uint64s(lt) // F(k_2)
		y2 := make([]uint64, lt)
		for i := range y2 {
			y2[i] = u[i] + m[i]
		}
		if err := p.send(1, y2); err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: %w", err)
		}
		y0, err := p.recv(0, lt)
		if err != nil {
			return nil, fmt.Errorf("rep3 a2bsplitarithleaves: %w", err)
		}
		ya, yb = y2, y0
	}
	out := make([]mpc.AShare, nl)
	for j := range out {
		lo, hi := j*n, (j+1)*n
		out[j] = &AShare{a: ya[lo:hi:hi], b: yb[lo:hi:hi]}
	}
	return out, nil
}
