package ot

// One-sided matrix product by Gilboa's method (Gilboa, "Two Party RSA Key Generation",
// CRYPTO 1999: a product of two private values from one correlated OT per bit of one of
// them), as MP-SPDZ's semi2k offline phase uses it, here with vector correlations so that
// one OT serves a whole row.
//
// Party A holds W [m,k] with entries of `bits` bits in two's complement, W[i][p] =
// sum_{j<bits-1} w_ipj*2^j - w_ip,bits-1 * 2^(bits-1); party B holds X [k,n] over Z_2^64.
// For every (i, p, j) A and B run one correlated OT (cot.go) with A's choice bit w_ipj, B's
// correlation vector sgn_j * X[p,:] (n words; sgn_j = -1 for the top bit, else 1) and width
// 64-j: A gets y = t + w_ipj*sgn_j*X[p,:] mod 2^(64-j) and B gets t, so 2^j*y and -2^j*t
// are additive shares mod 2^64 of w_ipj*sgn_j*2^j*X[p,:] (multiplying by 2^j discards exactly
// the bits the width drops). Summing over p and j: U[i,:] = sum 2^j*y, V[i,:] = -sum 2^j*t,
// U + V = W*X mod 2^64.
//
// Messages: A's extension message (128/k bits per OT, m*k*bits OTs) and B's corrections
// (n words at 64-j bits for each OT with bit j): one round trip. Security is that of
// correlated OT (cot.go): B sees only A's pseudorandom extension message, A sees corrections
// that are uniform given its view whatever X is. Both outputs are uniform subject to
// U + V = W*X (B's t is uniform).

import (
	"github.com/qmpc/qmpc/gocore/errs"
)

func checkProduct(lenM, m, k, n, bits int, what string) error {
	if m < 0 || k < 0 || n < 0 || bits < 1 || bits > 64 {
		return errs.New(errs.Internal, "ot: product with m = %d, k = %d, n = %d, bits = %d", m, k, n, bits)
	}
	if what == "W" && lenM != m*k {
		return errs.New(errs.Shape, "ot: product: W has %d entries, want %d x %d", lenM, m, k)
	}
	if what == "X" && lenM != k*n {
		return errs.New(errs.Shape, "ot: product: X has %d entries, want %d x %d", lenM, k, n)
	}
	return nil
}

func productLayout(m, k, n, bits int) cotLayout {
	return cotLayout{n: m * k * bits, l: n, width: func(o int) int { return 64 - o%bits }}
}

// ProductW is party A's end of the one-sided (Gilboa) product: A holds W [m,k] (row
// major) of signed integers that fit in bits bits (two's complement, 1 <= bits <= 64), the
// peer (ProductX) holds X [k,n] over Z_2^64. A gets U [m,n], the peer V, with U + V = W*X
// mod 2^64. A is the OT receiver of m*k*bits correlated OTs: it sends 128/k bits per OT and
// receives n*(64-j) bits per OT of weight bit j; one round trip.
func (s *Session) ProductW(w []int64, m, k, n, bits int) (u []uint64, err error) {
	if err := checkProduct(len(w), m, k, n, bits, "W"); err != nil {
		return nil, err
	}
	rows := s.batch.items(k * bits)
	if m <= rows {
		return s.productW(w, m, k, n, bits)
	}
	u = make([]uint64, m*n)
	for i0 := 0; i0 < m; i0 += rows {
		i1 := min(m, i0+rows)
		ub, err := s.productW(w[i0*k:i1*k], i1-i0, k, n, bits)
		if err != nil {
			return nil, err
		}
		copy(u[i0*n:], ub)
	}
	return u, nil
}

// batching bounds the memory of one call: a call for more items runs consecutive batches
// (one message each way per AND batch, one round trip per batch otherwise), so that the
// extension's rows (16 to 50 bytes per OT) stay around 100 MB.
type batching struct {
	and, beaver int // triples per batch (multiples of 64)
	ots         int // OTs per batch of products and VOLEs (whole rows of W, whole scalars)
}

var defaultBatching = batching{and: 1 << 21, beaver: 1 << 15, ots: 1 << 22}

// items is how many items of perItem OTs one product or VOLE batch takes (at least one).
func (b batching) items(perItem int) int { return max(1, b.ots/max(1, perItem)) }

// productW is one batch of ProductW.
func (s *Session) productW(w []int64, m, k, n, bits int) (u []uint64, err error) {
	if err := checkProduct(len(w), m, k, n, bits, "W"); err != nil {
		return nil, err
	}
	lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
	for i, v := range w {
		if v < lo || v > hi {
			return nil, errs.New(errs.Config, "ot: ProductW: W[%d] = %d does not fit in %d bits", i, v, bits)
		}
	}
	u = make([]uint64, m*n)
	N := m * k * bits
	if N == 0 || n == 0 {
		return u, nil
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
		return nil, err
	}
	kb := k * bits
	err = s.cotReceiverPhase(t, base, c, productLayout(m, k, n, bits), func(o int, y []uint64) {
		addShifted(u[(o/kb)*n:(o/kb+1)*n], y, o%bits)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ProductX is party B's end of ProductW: B holds X [k,n] (row major) and gets V [m,n].
//
// Memory: besides U and V, A holds 20 bytes and B 16 bytes per OT of the current batch (at
// most 2^22 OTs: whole rows of W; one round trip per batch), plus one correction chunk (at
// most 8 MB) at a time on each side (over in-memory pipes, B's chunks queue until A reads
// them).
func (s *Session) ProductX(x []uint64, m, k, n, bits int) (v []uint64, err error) {
	if err := checkProduct(len(x), m, k, n, bits, "X"); err != nil {
		return nil, err
	}
	rows := s.batch.items(k * bits)
	if m <= rows {
		return s.productX(x, m, k, n, bits)
	}
	v = make([]uint64, m*n)
	for i0 := 0; i0 < m; i0 += rows {
		i1 := min(m, i0+rows)
		vb, err := s.productX(x, i1-i0, k, n, bits)
		if err != nil {
			return nil, err
		}
		copy(v[i0*n:], vb)
	}
	return v, nil
}

// productX is one batch of ProductX.
func (s *Session) productX(x []uint64, m, k, n, bits int) (v []uint64, err error) {
	if err := checkProduct(len(x), m, k, n, bits, "X"); err != nil {
		return nil, err
	}
	v = make([]uint64, m*n)
	N := m * k * bits
	if N == 0 || n == 0 {
		return v, nil
	}
	umsg, err := s.recv("product extension")
	if err != nil {
		return nil, err
	}
	kb := k * bits
	err = s.cotSenderPhase(umsg, productLayout(m, k, n, bits),
		func(o int, scratch []uint64) []uint64 {
			p := (o / bits) % k
			row := x[p*n : (p+1)*n]
			return signedRow(row, o, bits, scratch)
		},
		func(o int, t []uint64) { subShifted(v[(o/kb)*n:(o/kb+1)*n], t, o%bits) })
	if err != nil {
		return nil, err
	}
	return v, s.flush()
}

// VOLEW is A's end of n vector OLEs over Z_2^64 by Gilboa's method: A holds n signed
// scalars w (bits bits each, two's complement), B (VOLEX) holds n vectors of l words (x,
// n*l words); A gets u, B gets v (n*l words each) with u[r*l+q] + v[r*l+q] = w[r]*x[r*l+q]
// mod 2^64. It is ProductW without the sum over k (each scalar has its own vector): n*bits
// correlated OTs of l words, at width 64-j for bit j, one round trip. Use it when the
// vectors a weight multiplies are gathered (convolution windows, depthwise layers): lay the
// gathered operands out as the vectors and scatter-add the outputs.
func (s *Session) VOLEW(w []int64, l, bits int) (u []uint64, err error) {
	nb := s.batch.items(bits)
	if len(w) <= nb {
		return s.voleW(w, l, bits)
	}
	u = make([]uint64, len(w)*l)
	for r0 := 0; r0 < len(w); r0 += nb {
		ub, err := s.voleW(w[r0:min(len(w), r0+nb)], l, bits)
		if err != nil {
			return nil, err
		}
		copy(u[r0*l:], ub)
	}
	return u, nil
}

// voleW is one batch of VOLEW.
func (s *Session) voleW(w []int64, l, bits int) (u []uint64, err error) {
	if l < 1 || bits < 1 || bits > 64 {
		return nil, errs.New(errs.Internal, "ot: VOLEW with l = %d, bits = %d (want l >= 1, 1 <= bits <= 64)", l, bits)
	}
	lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
	for i, v := range w {
		if v < lo || v > hi {
			return nil, errs.New(errs.Config, "ot: VOLEW: w[%d] = %d does not fit in %d bits", i, v, bits)
		}
	}
	n := len(w)
	u = make([]uint64, n*l)
	N := n * bits
	if N == 0 {
		return u, nil
	}
	c := make([]uint64, words(N))
	for r, v := range w {
		for j := range bits {
			o := r*bits + j
			c[o/64] |= (uint64(v) >> j & 1) << (o % 64)
		}
	}
	_, t, base, umsg := s.rcvExtend(c, N)
	if err := s.send(umsg); err != nil {
		return nil, err
	}
	err = s.cotReceiverPhase(t, base, c, productLayout(n, 1, l, bits), func(o int, y []uint64) {
		addShifted(u[(o/bits)*l:(o/bits+1)*l], y, o%bits)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// VOLEX is B's end of VOLEW: x holds n vectors of l words (n = len(x)/l); B gets v.
func (s *Session) VOLEX(x []uint64, l, bits int) (v []uint64, err error) {
	nb := s.batch.items(bits)
	if l < 1 || len(x) <= nb*l {
		return s.voleX(x, l, bits)
	}
	v = make([]uint64, len(x))
	for o := 0; o < len(x); o += nb * l {
		vb, err := s.voleX(x[o:min(len(x), o+nb*l)], l, bits)
		if err != nil {
			return nil, err
		}
		copy(v[o:], vb)
	}
	return v, nil
}

// voleX is one batch of VOLEX.
func (s *Session) voleX(x []uint64, l, bits int) (v []uint64, err error) {
	if l < 1 || len(x)%l != 0 {
		return nil, errs.New(errs.Shape, "ot: VOLEX: %d words are not a multiple of l = %d", len(x), l)
	}
	n := len(x) / l
	if bits < 1 || bits > 64 {
		return nil, errs.New(errs.Internal, "ot: VOLEX with bits = %d (want 1 <= bits <= 64)", bits)
	}
	v = make([]uint64, n*l)
	N := n * bits
	if N == 0 {
		return v, nil
	}
	umsg, err := s.recv("VOLE extension")
	if err != nil {
		return nil, err
	}
	err = s.cotSenderPhase(umsg, productLayout(n, 1, l, bits),
		func(o int, scratch []uint64) []uint64 {
			row := x[(o/bits)*l : (o/bits+1)*l]
			return signedRow(row, o, bits, scratch)
		},
		func(o int, t []uint64) { subShifted(v[(o/bits)*l:(o/bits+1)*l], t, o%bits) })
	if err != nil {
		return nil, err
	}
	return v, s.flush()
}

// signedRow is the sender's correlation for OT o of a scalar of bits bits in two's
// complement: the row for every bit but the top one, its negation (written to scratch) for
// the top (sign) bit.
func signedRow(row []uint64, o, bits int, scratch []uint64) []uint64 {
	if o%bits != bits-1 {
		return row
	}
	for q, xq := range row {
		scratch[q] = -xq
	}
	return scratch
}

// addShifted adds y << j to row; subShifted subtracts t << j (bit j's weight in a
// product's share).
func addShifted(row, y []uint64, j int) {
	for q, yq := range y {
		row[q] += yq << j
	}
}

func subShifted(row, t []uint64, j int) {
	for q, tq := range t {
		row[q] -= tq << j
	}
}
