package ot

// Correlated OT and the one-sided Gilboa product over Z_2^128, for spdz2k's linear layers
// (issue 14: SPDZ2k with k = s = 64 works modulo 2^128).
//
// Vectors are ring128.Vec (structure of arrays: element e is Hi[e]*2^64 + Lo[e], the
// lead's type for spdz2k); arithmetic uses math/bits (Add64/Sub64 carries). Inside the
// correlated OTs an expanded vector of l elements is 2l words, lo words first.
//
// Correlated OT over Z_2^w (1 <= w <= 128) with vector correlations of l elements is cot.go's
// protocol at 128-bit words: for OT j (tweak j') with correlation delta_j,
//
//	S:  x0 = E(H(j', q_j)), x1 = E(H(j', q_j xor s))       (E: hash.go's expansion, 2l words)
//	S -> R:  y_j = x1 - x0 - delta_j  mod 2^w, each element packed at w bits (lo at
//	         min(w, 64) bits, then hi at w - 64 bits when w > 64)
//	S outputs x0 mod 2^w;  R outputs E(H(j', t_j)) - r_j*y_j = x0 + r_j*delta_j mod 2^w.
//
// Security is that of cot.go (semi-honest; on a malicious session the extension is checked
// as in kos.go, and a malicious S can only choose its correlations, which the functionality
// allows): R's view adds y_j, uniform given R's view because x_{1-r_j} is pseudorandom to
// it.
//
// The one-sided product (Gilboa, CRYPTO 1999, as gilboa.go): A holds W [m,k] of signed
// bits-bit integers, B holds nx matrices X_1..X_nx [k,n] over Z_2^128. For each (i, p, j)
// one correlated OT with A's choice bit w_ipj, B's correlation the concatenation
// sgn_j*(X_1[p,:], ..., X_nx[p,:]) (nx*n elements) at width 128 - j: A gets y = t +
// w_ipj*sgn_j*X[p,:] mod 2^(128-j), B gets t, and 2^j*y, -2^j*t are additive shares mod
// 2^128 of w_ipj*sgn_j*2^j*X[p,:]. Summing over p and j: U_x + V_x = W*X_x mod 2^128 for
// every x. All nx products share the same m*k*bits OTs and A's single extension message;
// B's corrections grow with nx (nx*n*(128-j) bits per OT of bit j). One round trip per batch.

import (
	"encoding/binary"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// mask128 returns the masks of the low and high word of a value mod 2^w.
func mask128(w int) (lo, hi uint64) {
	return widthMask(min(w, 64)), widthMask(max(0, w-64))
}

// cot128SenderPhase is cotSenderPhase at 128-bit elements: L.l is the number of elements
// per OT and L.width(o) in 1..128. delta(o, scratch) returns OT o's correlation as 2*L.l
// words (lo words, then hi words; it may fill and return scratch); sink gets S's output in
// the same layout.
func (s *Session) cot128SenderPhase(umsg []byte, L cotLayout, delta func(o int, scratch []uint64) []uint64, sink func(o int, t []uint64)) error {
	l := L.l
	scratch := make([]uint64, 2*l)
	return s.cotSendChunks(umsg, L, 2*l, func(o int, x0, x1 []uint64, bw *bitWriter) {
		w := L.width(o)
		mlo, mhi := mask128(w)
		d := delta(o, scratch)[:2*l]
		for e := range l {
			lo, b := bits.Sub64(x1[e], x0[e], 0)
			hi, _ := bits.Sub64(x1[l+e], x0[l+e], b)
			lo, b = bits.Sub64(lo, d[e], 0)
			hi, _ = bits.Sub64(hi, d[l+e], b)
			x1[e], x1[l+e] = lo&mlo, hi&mhi
			x0[e] &= mlo
			x0[l+e] &= mhi
		}
		writeElems(bw, x1[:l], x1[l:], w)
		sink(o, x0)
	})
}

// writeElems packs elements (lo[e], hi[e]) at w bits each (lo at min(w, 64) bits, then hi
// at w - 64 bits if w > 64), as bitWriter.writeVec would one value at a time.
func writeElems(bw *bitWriter, lo, hi []uint64, w int) {
	acc, n, out := bw.acc, bw.n, bw.out
	put := func(v uint64, w int) {
		acc |= v << n
		if n+w >= 64 {
			out = binary.LittleEndian.AppendUint64(out, acc)
			acc = v >> (64 - n) // 0 for n = 0
			n += w - 64
		} else {
			n += w
		}
	}
	wl, wh := min(w, 64), w-64
	for e := range lo {
		put(lo[e], wl)
		if wh > 0 {
			put(hi[e], wh)
		}
	}
	bw.acc, bw.n, bw.out = acc, n, out
}

// readElem reads one element written by writeElems.
func (r *bitReader) readElem(w int) (lo, hi uint64) {
	lo = r.get(min(w, 64))
	if w > 64 {
		hi = r.get(w - 64)
	}
	return lo, hi
}

// get reads one value of w bits (1 <= w <= 64), as readVec does.
func (r *bitReader) get(w int) uint64 {
	v := r.cur >> r.n
	if r.n+w >= 64 {
		var nxt uint64
		if r.pos+8 <= len(r.in) {
			nxt = binary.LittleEndian.Uint64(r.in[r.pos:])
			r.pos += 8
		}
		v |= nxt << (64 - r.n) // 0 for r.n = 0
		r.cur = nxt
		r.n += w - 64
	} else {
		r.n += w
	}
	return v & widthMask(w)
}

// cot128ReceiverPhase is cotReceiverPhase at 128-bit elements (layout as
// cot128SenderPhase).
func (s *Session) cot128ReceiverPhase(t []Block, base uint64, c []uint64, L cotLayout, sink func(o int, out []uint64)) error {
	l := L.l
	return s.cotRecvChunks(t, base, L, "COT128", 2*l, func(o int, x []uint64, br *bitReader) {
		w := L.width(o)
		mlo, mhi := mask128(w)
		sel := -(c[o/64] >> (o % 64) & 1)
		for e := range l {
			ylo, yhi := br.readElem(w)
			lo, b := bits.Sub64(x[e], ylo&sel, 0)
			hi, _ := bits.Sub64(x[l+e], yhi&sel, b)
			x[e], x[l+e] = lo&mlo, hi&mhi
		}
		sink(o, x)
	})
}

func checkCOT128(n, l, w int) error {
	if n < 0 || l < 1 || w < 1 || w > 128 {
		return errs.New(errs.Internal, "ot: 128-bit correlated OT with n = %d, l = %d, bits = %d (want n >= 0, l >= 1, 1 <= bits <= 128)", n, l, w)
	}
	return nil
}

func checkVec(v ring128.Vec, what string) error {
	if len(v.Lo) != len(v.Hi) {
		return errs.New(errs.Internal, "ot: %s has %d low and %d high words", what, len(v.Lo), len(v.Hi))
	}
	return nil
}

// gatherElems copies elements [a, a+l) of v into dst (lo words, then hi words).
func gatherElems(dst []uint64, v ring128.Vec, a, l int) {
	copy(dst[:l], v.Lo[a:a+l])
	copy(dst[l:2*l], v.Hi[a:a+l])
}

// SendCOT128 is SendCOT over Z_2^w, 1 <= w <= 128, with 128-bit elements: delta holds n
// correlations of l elements (OT i: elements i*l .. i*l+l-1), and it returns t (n*l
// elements, uniform mod 2^w); the receiver (RecvCOT128) gets t + c_i*delta_i mod 2^w. The
// sender receives the receiver's extension message and sends n*l*w bits: one round trip.
func (s *Session) SendCOT128(delta ring128.Vec, l, w int) (t ring128.Vec, err error) {
	if err := checkVec(delta, "SendCOT128's delta"); err != nil {
		return t, err
	}
	if l < 1 || delta.Len()%l != 0 {
		return t, errs.New(errs.Internal, "ot: SendCOT128: %d correlation elements are not a multiple of l = %d", delta.Len(), l)
	}
	n := delta.Len() / l
	if err := checkCOT128(n, l, w); err != nil || n == 0 {
		return ring128.Make(0), err
	}
	umsg, err := s.recv("COT128 extension")
	if err != nil {
		return t, err
	}
	t = ring128.Make(n * l)
	L := cotLayout{n: n, l: l, width: func(int) int { return w }}
	err = s.cot128SenderPhase(umsg, L,
		func(o int, scratch []uint64) []uint64 { gatherElems(scratch, delta, o*l, l); return scratch },
		func(o int, x []uint64) { copy(t.Lo[o*l:], x[:l]); copy(t.Hi[o*l:], x[l:]) })
	if err != nil {
		return t, err
	}
	return t, s.flush()
}

// RecvCOT128 is the receiver's end of SendCOT128: c holds the n choice bits; it returns
// t + c_i*delta_i mod 2^w (n*l elements).
func (s *Session) RecvCOT128(c []uint64, n, l, w int) (ring128.Vec, error) {
	if err := checkCOT128(n, l, w); err != nil || n == 0 {
		return ring128.Make(0), err
	}
	if len(c) < words(n) {
		return ring128.Vec{}, errs.New(errs.Internal, "ot: RecvCOT128: %d choice words for %d OTs", len(c), n)
	}
	_, t, base, umsg := s.rcvExtend(c, n)
	if err := s.send(umsg); err != nil {
		return ring128.Vec{}, err
	}
	out := ring128.Make(n * l)
	L := cotLayout{n: n, l: l, width: func(int) int { return w }}
	err := s.cot128ReceiverPhase(t, base, c, L, func(o int, x []uint64) {
		copy(out.Lo[o*l:], x[:l])
		copy(out.Hi[o*l:], x[l:])
	})
	if err != nil {
		return ring128.Vec{}, err
	}
	return out, nil
}

// product128Layout: OT o = (i*k + p)*bits + j carries nx*n elements at width 128 - j.
func product128Layout(m, k, n, bits, nx int) cotLayout {
	return cotLayout{n: m * k * bits, l: nx * n, width: func(o int) int { return 128 - o%bits }}
}

// ProductW128 is party A's end of the one-sided product over Z_2^128: A holds W [m,k] (row
// major) of signed integers of bits bits (1 <= bits <= 64, two's complement); the peer
// (ProductX128) holds nx >= 1 matrices X_1..X_nx [k,n] over Z_2^128. A gets U_1..U_nx
// ([m,n] each, row major), the peer V_1..V_nx, with U_x + V_x = W*X_x mod 2^128. All nx
// products use the same m*k*bits correlated OTs (A's choice bits are W's bits): A sends
// 128/k bits per OT (plus the KOS check on a malicious session) and receives
// nx*n*(128-j) bits per OT of weight bit j; one round trip per batch.
func (s *Session) ProductW128(w []int64, m, k, n, bits, nx int) (u []ring128.Vec, err error) {
	if err := checkProduct128(len(w), m, k, n, bits, nx, "W"); err != nil {
		return nil, err
	}
	lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
	for i, v := range w {
		if v < lo || v > hi {
			return nil, errs.New(errs.Config, "ot: ProductW128: W[%d] = %d does not fit in %d bits", i, v, bits)
		}
	}
	u = make([]ring128.Vec, nx)
	for x := range u {
		u[x] = ring128.Make(m * n)
	}
	rows := s.batch.items(k * bits)
	for i0 := 0; i0 < m; i0 += rows {
		i1 := min(m, i0+rows)
		if err := s.productW128(w[i0*k:i1*k], i1-i0, k, n, bits, nx, u, i0); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func checkProduct128(lenW, m, k, n, bits, nx int, what string) error {
	if m < 0 || k < 0 || n < 0 || bits < 1 || bits > 64 || nx < 1 {
		return errs.New(errs.Internal, "ot: 128-bit product with m = %d, k = %d, n = %d, bits = %d, %d matrices", m, k, n, bits, nx)
	}
	if what == "W" && lenW != m*k {
		return errs.New(errs.Shape, "ot: 128-bit product: W has %d entries, want %d x %d", lenW, m, k)
	}
	return nil
}

// productW128 is one batch: rows i0.. of the U_x.
func (s *Session) productW128(w []int64, m, k, n, bits, nx int, u []ring128.Vec, i0 int) error {
	N := m * k * bits
	if N == 0 || n == 0 {
		return nil
	}
	c := make([]uint64, words(N))
	for ip, v := range w {
		for j := range bits {
			o := ip*bits + j
			c[o/64] |= (uint64(v) >> j & 1) << (o % 64)
		}
	}
	_, t, base, umsg := s.rcvExtend(c, N)
	if err := s.send(umsg); err != nil {
		return err
	}
	kb, l := k*bits, nx*n
	return s.cot128ReceiverPhase(t, base, c, product128Layout(m, k, n, bits, nx), func(o int, y []uint64) {
		i := i0 + o/kb
		for x := range nx {
			addShifted128(u[x].Lo[i*n:(i+1)*n], u[x].Hi[i*n:(i+1)*n], y[x*n:(x+1)*n], y[l+x*n:l+(x+1)*n], o%bits)
		}
	})
}

// ProductX128 is party B's end of ProductW128: xs holds the nx matrices X_x [k,n] (row
// major); B gets V_1..V_nx.
func (s *Session) ProductX128(xs []ring128.Vec, m, k, n, bits int) (v []ring128.Vec, err error) {
	nx := len(xs)
	if err := checkProduct128(0, m, k, n, bits, nx, "X"); err != nil {
		return nil, err
	}
	for x, X := range xs {
		if err := checkVec(X, "ProductX128's X"); err != nil {
			return nil, err
		}
		if X.Len() != k*n {
			return nil, errs.New(errs.Shape, "ot: ProductX128: X_%d has %d elements, want %d x %d", x, X.Len(), k, n)
		}
	}
	v = make([]ring128.Vec, nx)
	for x := range v {
		v[x] = ring128.Make(m * n)
	}
	rows := s.batch.items(k * bits)
	for i0 := 0; i0 < m; i0 += rows {
		i1 := min(m, i0+rows)
		if err := s.productX128(xs, i1-i0, k, n, bits, v, i0); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// productX128 is one batch: rows i0.. of the V_x.
func (s *Session) productX128(xs []ring128.Vec, m, k, n, wbits int, v []ring128.Vec, i0 int) error {
	nx := len(xs)
	N := m * k * wbits
	if N == 0 || n == 0 {
		return nil
	}
	umsg, err := s.recv("product128 extension")
	if err != nil {
		return err
	}
	kb, l := k*wbits, nx*n
	err = s.cot128SenderPhase(umsg, product128Layout(m, k, n, wbits, nx),
		func(o int, scratch []uint64) []uint64 {
			p := (o / wbits) % k
			for x, X := range xs {
				copy(scratch[x*n:(x+1)*n], X.Lo[p*n:(p+1)*n])
				copy(scratch[l+x*n:l+(x+1)*n], X.Hi[p*n:(p+1)*n])
			}
			if o%wbits == wbits-1 { // the sign bit: correlation -X[p,:]
				for e := range l {
					lo, b := bits.Sub64(0, scratch[e], 0)
					scratch[e], scratch[l+e] = lo, -scratch[l+e]-b
				}
			}
			return scratch
		},
		func(o int, t []uint64) {
			i := i0 + o/kb
			for x := range nx {
				subShifted128(v[x].Lo[i*n:(i+1)*n], v[x].Hi[i*n:(i+1)*n], t[x*n:(x+1)*n], t[l+x*n:l+(x+1)*n], o%wbits)
			}
		})
	if err != nil {
		return err
	}
	return s.flush()
}

// addShifted128 adds (ylo, yhi) << j to (lo, hi) elementwise (0 <= j < 128).
func addShifted128(lo, hi, ylo, yhi []uint64, j int) {
	hi = hi[:len(lo)]
	for e := range lo {
		sl, sh := shl128(ylo[e], yhi[e], j)
		var c uint64
		lo[e], c = bits.Add64(lo[e], sl, 0)
		hi[e] += sh + c
	}
}

// subShifted128 subtracts (tlo, thi) << j from (lo, hi).
func subShifted128(lo, hi, tlo, thi []uint64, j int) {
	hi = hi[:len(lo)]
	for e := range lo {
		sl, sh := shl128(tlo[e], thi[e], j)
		var b uint64
		lo[e], b = bits.Sub64(lo[e], sl, 0)
		hi[e] -= sh + b
	}
}

// VOLEW128 is A's end of n vector OLEs over Z_2^128 with 128-bit scalars (Gilboa's method,
// as VOLEW): A holds n scalars a_r of which it uses the low nbits bits (1 <= nbits <= 128;
// the scalar is a_r mod 2^nbits, unsigned, so nbits = 128 takes the ring element itself), B
// (VOLEX128) holds n vectors of l elements (x: n*l elements, vector r at r*l); A gets u, B
// gets v (n*l elements each) with u_r + v_r = a_r*x_r mod 2^128. It runs n*nbits
// correlated OTs of l elements, at width 128 - j for bit j (sum_j (128-j) bits per element:
// 8256 for nbits = 128), one round trip per batch. Typical uses: Beaver-triple cross terms
// over Z_2^128 (l = 1, nbits = 128) and, with the roles chosen so that the short operand
// chooses, MAC cross terms alpha_i*x (ProductW128 with W = alpha_i as a signed 64-bit
// value, m = k = 1, bits = 64, costs only 64 OTs for a whole vector x).
func (s *Session) VOLEW128(a ring128.Vec, l, nbits int) (u ring128.Vec, err error) {
	if err := checkVec(a, "VOLEW128's scalars"); err != nil {
		return u, err
	}
	if l < 1 || nbits < 1 || nbits > 128 {
		return u, errs.New(errs.Internal, "ot: VOLEW128 with l = %d, nbits = %d", l, nbits)
	}
	n := a.Len()
	u = ring128.Make(n * l)
	nb := s.batch.items(nbits)
	for r0 := 0; r0 < n; r0 += nb {
		r1 := min(n, r0+nb)
		if err := s.voleW128(a.Slice(r0, r1), l, nbits, u.Slice(r0*l, r1*l)); err != nil {
			return u, err
		}
	}
	return u, nil
}

func vole128Layout(n, l, nbits int) cotLayout {
	return cotLayout{n: n * nbits, l: l, width: func(o int) int { return 128 - o%nbits }}
}

func (s *Session) voleW128(a ring128.Vec, l, nbits int, u ring128.Vec) error {
	n := a.Len()
	N := n * nbits
	if N == 0 {
		return nil
	}
	c := make([]uint64, words(N))
	for r := range n {
		for j := range nbits {
			o := r*nbits + j
			word := a.Lo[r]
			if j >= 64 {
				word = a.Hi[r]
			}
			c[o/64] |= (word >> (j % 64) & 1) << (o % 64)
		}
	}
	_, t, base, umsg := s.rcvExtend(c, N)
	if err := s.send(umsg); err != nil {
		return err
	}
	return s.cot128ReceiverPhase(t, base, c, vole128Layout(n, l, nbits), func(o int, y []uint64) {
		r := o / nbits
		addShifted128(u.Lo[r*l:(r+1)*l], u.Hi[r*l:(r+1)*l], y[:l], y[l:], o%nbits)
	})
}

// VOLEX128 is B's end of VOLEW128: x holds n vectors of l elements; B gets v.
func (s *Session) VOLEX128(x ring128.Vec, l, nbits int) (v ring128.Vec, err error) {
	if err := checkVec(x, "VOLEX128's vectors"); err != nil {
		return v, err
	}
	if l < 1 || nbits < 1 || nbits > 128 || x.Len()%l != 0 {
		return v, errs.New(errs.Internal, "ot: VOLEX128 with %d elements, l = %d, nbits = %d", x.Len(), l, nbits)
	}
	n := x.Len() / l
	v = ring128.Make(n * l)
	nb := s.batch.items(nbits)
	for r0 := 0; r0 < n; r0 += nb {
		r1 := min(n, r0+nb)
		if err := s.voleX128(x.Slice(r0*l, r1*l), l, nbits, v.Slice(r0*l, r1*l)); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Session) voleX128(x ring128.Vec, l, nbits int, v ring128.Vec) error {
	n := x.Len() / l
	if n*nbits == 0 {
		return nil
	}
	umsg, err := s.recv("VOLE128 extension")
	if err != nil {
		return err
	}
	err = s.cot128SenderPhase(umsg, vole128Layout(n, l, nbits),
		func(o int, scratch []uint64) []uint64 { gatherElems(scratch, x, (o/nbits)*l, l); return scratch },
		func(o int, t []uint64) {
			r := o / nbits
			subShifted128(v.Lo[r*l:(r+1)*l], v.Hi[r*l:(r+1)*l], t[:l], t[l:], o%nbits)
		})
	if err != nil {
		return err
	}
	return s.flush()
}

// shl128 returns (lo, hi) << j for 0 <= j < 128.
func shl128(lo, hi uint64, j int) (uint64, uint64) {
	if j >= 64 {
		return 0, lo << (j - 64)
	}
	return lo << j, hi<<j | lo>>(64-j) // lo>>64 is 0 in Go for j = 0
}
