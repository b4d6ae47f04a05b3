package semi2k

// The OT-based offline phase (preprocessing "ot", the default): every correlation is made
// by the two parties alone over package ot (base OTs from circl, IKNP extension, correlated
// OT with vector correlations, Gilboa products, AND triples from random OT). Its messages
// are those of package ot, whose files argue that they reveal nothing to a semi-honest
// receiver; the values below are combined locally.
//
//   - AND triples: ot.Session.ANDTriples (two random OTs per triple); cross triples (a
//     held by party 0, b by party 1) from one random OT each.
//   - daBits: each party draws a random bit r_i; one correlated OT per bit (party 0
//     chooses with r_0, party 1's correlation is r_1) gives additive shares s_0 + s_1 =
//     r_0 r_1, and [r] = r_0 + r_1 - 2 r_0 r_1 with r = r_0 ^ r_1.
//   - Matrix triples: A = A_0 + A_1, B = B_0 + B_1 drawn locally; C = A_0 B_0 + A_1 B_1
//     (local) + A_0 B_1 + A_1 B_0, the cross terms by two Gilboa products with 64-bit
//     "weights" (ot.Session.ProductW/ProductX).
//   - Gather triples (elementwise, MulSum, depthwise): the same, with the cross terms by
//     Gilboa products over correlated OT: for each element r of the chooser's operand and
//     each bit b, one correlated OT whose vector correlation is 2^b times the other
//     operand's elements that r multiplies (one slot per output r contributes to); the
//     chooser's received vectors and the sender's negated pads are scattered into the
//     outputs.
//   - One-sided products (weights held by the owner): the non-owner draws R; a Gilboa
//     product of the owner's W (its bits bits) with R gives components of f(R, W).

import (
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
)

// otSource is one party's end of the OT-based offline phase.
type otSource struct {
	s  *ot.Session
	id int
	g  *prg.PRG // this party's random components
}

func newOTSource(conn net.Conn, rnd io.Reader) (Source, error) {
	var k prg.Key
	if _, err := io.ReadFull(rnd, k[:]); err != nil {
		return nil, errs.New(errs.Config, "semi2k ot: randomness: %v", err)
	}
	s, err := ot.NewSession(conn, 1-conn.ID(), rnd)
	if err != nil {
		return nil, err
	}
	return &otSource{s: s, id: conn.ID(), g: prg.New(k)}, nil
}

func (s *otSource) Kind() string { return PreprocessingOT }

func (s *otSource) ANDTriples(words int) (a, b, c []uint64, err error) {
	return s.s.ANDTriples(64 * words)
}

// CrossTriples: one random OT per triple with 1-bit messages (the low bit of each
// block). For the first half of the words party 1 is the receiver: its choice bits are b,
// party 0's a = m_0 ^ m_1, and c_0 = m_0, c_1 = m_b (so c_0 ^ c_1 = a & b); for the second
// half the roles swap (party 0 chooses with a), which balances the bytes.
func (s *otSource) CrossTriples(words int) (ab, c []uint64, err error) {
	ab, c = make([]uint64, words), make([]uint64, words)
	h := words / 2
	for part, rng := range [2][2]int{{0, h}, {h, words}} {
		n := 64 * (rng[1] - rng[0])
		if n == 0 {
			continue
		}
		receiver := 1 - part // party 1 chooses first, then party 0
		dab, dc := ab[rng[0]:rng[1]], c[rng[0]:rng[1]]
		if s.id == receiver {
			ch, mc, err := s.s.RecvRandomOT(n)
			if err != nil {
				return nil, nil, err
			}
			copy(dab, ch)
			for i, m := range mc {
				dc[i/64] |= (m[0] & 1) << uint(i%64)
			}
			continue
		}
		m0, m1, err := s.s.SendRandomOT(n)
		if err != nil {
			return nil, nil, err
		}
		for i := range m0 {
			dab[i/64] |= ((m0[i][0] ^ m1[i][0]) & 1) << uint(i%64)
			dc[i/64] |= (m0[i][0] & 1) << uint(i%64)
		}
	}
	return ab, c, nil
}

func (s *otSource) DaBits(words int) (bin, arith []uint64, err error) {
	n := 64 * words
	bin = s.g.Uint64s(words)
	arith = make([]uint64, n)
	if s.id == 0 { // chooser with r_0: gets t + r_0 r_1
		got, err := s.s.RecvCOT(bin, n, 1, 64)
		if err != nil {
			return nil, nil, err
		}
		for i := range arith {
			arith[i] = bin[i/64]>>uint(i%64)&1 - 2*got[i]
		}
		return bin, arith, nil
	}
	delta := make([]uint64, n)
	for i := range delta {
		delta[i] = bin[i/64] >> uint(i%64) & 1
	}
	t, err := s.s.SendCOT(delta, 1, 64)
	if err != nil {
		return nil, nil, err
	}
	for i := range arith {
		arith[i] = delta[i] + 2*t[i]
	}
	return bin, arith, nil
}

// product returns this party's component of W X for W [m,k] held by party owner (w: its
// values, signed, bits bits) and X [k,n] held by the other (x).
func (s *otSource) product(owner int, w, x []uint64, m, k, n, bits int) ([]uint64, error) {
	if s.id == owner {
		ws := make([]int64, len(w))
		for i, v := range w {
			ws[i] = int64(v)
		}
		return s.s.ProductW(ws, m, k, n, bits)
	}
	return s.s.ProductX(x, m, k, n, bits)
}

func (s *otSource) MatTriples(m, k, n int) (a, b, c []uint64, err error) {
	a, b = s.g.Uint64s(m*k), s.g.Uint64s(k*n)
	c = make([]uint64, m*n)
	matMul{m, k, n}.Apply(c, a, b)
	// A_0 B_1 (party 0 holds A_0 as the "weights"), then A_1 B_0.
	for owner := range 2 {
		var w, x []uint64
		if s.id == owner {
			w = a
		} else {
			x = b
		}
		z, err := s.product(owner, w, x, m, k, n, 64)
		if err != nil {
			return nil, nil, nil, err
		}
		addInto(c, z)
	}
	return a, b, c, nil
}

func (s *otSource) GatherTriples(xLen int, xIdx []int32, wLen int, wIdx []int32, k int) (a, b, c []uint64, err error) {
	f := gatherMul{xLen, wLen, xIdx, wIdx, k}
	_, _, lo := f.Sizes()
	a, b = s.g.Uint64s(xLen), s.g.Uint64s(wLen)
	c = make([]uint64, lo)
	f.Apply(c, a, b)
	// f(A_0, B_1) (party 1 chooses with B_1), then f(A_1, B_0).
	for _, owner := range []int{1, 0} {
		var w, x []uint64
		if s.id == owner {
			w = b
		} else {
			x = a
		}
		z, err := s.gilboaGather(f, owner, w, x, 64)
		if err != nil {
			return nil, nil, nil, err
		}
		addInto(c, z)
	}
	return a, b, c, nil
}

func (s *otSource) OneSided(f Bilinear, owner int, w []uint64, bits int) (r, z []uint64, err error) {
	switch g := f.(type) {
	case matMulLeft: // W [m,k] R [k,n]
		if s.id != owner {
			r = s.g.Uint64s(g.k * g.n)
		}
		z, err = s.product(owner, w, r, g.m, g.k, g.n, bits)
		return r, z, err
	case matMul: // R [m,k] W [k,n] = (W^T R^T)^T
		var wt, rt []uint64
		if s.id == owner {
			wt = transpose(w, g.k, g.n)
		} else {
			rt = s.g.Uint64s(g.k * g.m)
			r = transpose(rt, g.k, g.m)
		}
		zt, err := s.product(owner, wt, rt, g.n, g.k, g.m, bits)
		if err != nil {
			return nil, nil, err
		}
		return r, transpose(zt, g.n, g.m), nil
	case gatherMul:
		if s.id != owner {
			r = s.g.Uint64s(g.xLen)
		}
		z, err = s.gilboaGather(g, owner, w, r, bits)
		return r, z, err
	}
	return nil, nil, errs.New(errs.Internal, "semi2k ot: no one-sided products for %T", f)
}

// gilboaGather returns this party's component of f(x, w), w held by party owner (signed
// integers of bits bits), x by the other: one correlated OT per bit of each element of w,
// with the vector correlation 2^b (-2^b for the sign bit) times the elements of x that
// w[r] multiplies, one slot per product (padded with zeros to the largest count).
func (s *otSource) gilboaGather(f gatherMul, owner int, w, x []uint64, bits int) ([]uint64, error) {
	_, _, lo := f.Sizes()
	total := lo * f.k
	// Slots of each weight: output i and x index q of every product w[r] x[q].
	cnt := make([]int32, f.wLen)
	for j := range total {
		cnt[f.wAt(j)]++
	}
	l := int32(0)
	for _, c := range cnt {
		l = max(l, c)
	}
	out := make([]uint64, lo)
	if l == 0 || f.wLen == 0 || bits == 0 {
		return out, nil
	}
	slotI := make([]int32, f.wLen*int(l))
	slotQ := make([]int32, f.wLen*int(l))
	for i := range slotI {
		slotI[i], slotQ[i] = -1, -1
	}
	clear(cnt)
	for j := range total {
		r := f.wAt(j)
		sl := int(r)*int(l) + int(cnt[r])
		cnt[r]++
		slotI[sl], slotQ[sl] = int32(j/f.k), f.xAt(j)
	}
	nOT := f.wLen * bits
	L := int(l)
	if s.id == owner {
		c := make([]uint64, (nOT+63)/64)
		for r, v := range w {
			for b := range bits {
				if v>>uint(b)&1 == 1 {
					i := r*bits + b
					c[i/64] |= 1 << uint(i%64)
				}
			}
		}
		got, err := s.s.RecvCOT(c, nOT, L, 64)
		if err != nil {
			return nil, err
		}
		for r := range f.wLen {
			for b := range bits {
				v := got[(r*bits+b)*L : (r*bits+b+1)*L]
				for sl, i := range slotI[r*L : (r+1)*L] {
					if i >= 0 {
						out[i] += v[sl]
					}
				}
			}
		}
		return out, nil
	}
	delta := make([]uint64, nOT*L)
	for r := range f.wLen {
		for b := range bits {
			scale := uint64(1) << uint(b)
			if b == bits-1 {
				scale = -scale
			}
			d := delta[(r*bits+b)*L : (r*bits+b+1)*L]
			for sl, q := range slotQ[r*L : (r+1)*L] {
				if q >= 0 {
					d[sl] = scale * x[q]
				}
			}
		}
	}
	t, err := s.s.SendCOT(delta, L, 64)
	if err != nil {
		return nil, err
	}
	for r := range f.wLen {
		for b := range bits {
			v := t[(r*bits+b)*L : (r*bits+b+1)*L]
			for sl, i := range slotI[r*L : (r+1)*L] {
				if i >= 0 {
					out[i] -= v[sl]
				}
			}
		}
	}
	return out, nil
}

// wAt and xAt are the w and x indices of product j (x: -1 for a zero).
func (f gatherMul) wAt(j int) int32 {
	if f.wIdx == nil {
		return int32(j)
	}
	return f.wIdx[j]
}

func (f gatherMul) xAt(j int) int32 {
	if f.xIdx == nil {
		return int32(j)
	}
	return f.xIdx[j]
}

func addInto(dst, v []uint64) {
	v = v[:len(dst)]
	for i := range dst {
		dst[i] += v[i]
	}
}

// transpose returns the [cols, rows] transpose of the row-major [rows, cols] matrix a.
func transpose(a []uint64, rows, cols int) []uint64 {
	out := make([]uint64, len(a))
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		for j0 := 0; j0 < cols; j0 += blk {
			for i := i0; i < min(i0+blk, rows); i++ {
				for j := j0; j < min(j0+blk, cols); j++ {
					out[j*rows+i] = a[i*cols+j]
				}
			}
		}
	}
	return out
}
