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
// Messages: A's IKNP message (16 bytes per OT, m*k*bits OTs) and B's corrections (n words
// at 64-j bits for each OT with bit j): one round trip. Security is that of correlated OT
// (cot.go): B sees only pseudorandom u, A sees corrections that are uniform given its view
// whatever X is. Both outputs are uniform subject to U + V = W*X (B's t is uniform).

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
// mod 2^64. A is the OT receiver of m*k*bits correlated OTs: it sends 16 bytes per OT and
// receives n*(64-j) bits per OT of weight bit j; one round trip.
func (s *Session) ProductW(w []int64, m, k, n, bits int) (u []uint64, err error) {
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
	t, base, umsg := s.rcv.extend(c, N)
	if err := s.send(umsg); err != nil {
		return nil, err
	}
	kb := k * bits
	err = s.cotReceiverPhase(t, base, c, productLayout(m, k, n, bits), func(o int, y []uint64) {
		j := o % bits
		row := u[(o/kb)*n : (o/kb+1)*n]
		for q, yq := range y {
			row[q] += yq << j
		}
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ProductX is party B's end of ProductW: B holds X [k,n] (row major) and gets V [m,n].
func (s *Session) ProductX(x []uint64, m, k, n, bits int) (v []uint64, err error) {
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
			if o%bits != bits-1 {
				return row
			}
			for q, xq := range row {
				scratch[q] = -xq
			}
			return scratch
		},
		func(o int, t []uint64) {
			j := o % bits
			row := v[(o/kb)*n : (o/kb+1)*n]
			for q, tq := range t {
				row[q] -= tq << j
			}
		})
	if err != nil {
		return nil, err
	}
	return v, s.flush()
}
