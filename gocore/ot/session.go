package ot

import (
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// Kappa is the computational security parameter: the number of base OTs per direction and
// the width of the IKNP matrix.
const Kappa = 128

// Block is a 128-bit OT message (two little-endian words: bits 0-63, then 64-127).
type Block [2]uint64

// Session is one party's end of the two OT extensions (one per direction) with one peer.
// It is not safe for concurrent use; see the package doc for how calls pair up.
type Session struct {
	conn net.Conn
	peer int
}

var errTODO = errs.New(errs.Internal, "ot: not implemented yet")

// NewSession runs the base OTs of both directions with peer over conn (two rounds, about
// 4.2 KB each way) and returns the party's end of both extensions. Both parties call it.
// rnd supplies all randomness (crypto/rand.Reader in production).
func NewSession(conn net.Conn, peer int, rnd io.Reader) (*Session, error) {
	return nil, errTODO
}

// SendRandomOT is the sender's end of n random OTs: m0[i], m1[i] are independent uniform
// 128-bit blocks. The peer calls RecvRandomOT(n). No message is sent by the sender.
func (s *Session) SendRandomOT(n int) (m0, m1 []Block, err error) {
	return nil, nil, errTODO
}

// RecvRandomOT is the receiver's end of n random OTs: c holds n uniform choice bits
// packed 64 per word (bit i%64 of c[i/64]), mc[i] = m_{c_i}[i] of the sender. One message
// (16 bytes per OT) goes to the sender.
func (s *Session) RecvRandomOT(n int) (c []uint64, mc []Block, err error) {
	return nil, nil, errTODO
}

// SendCOT is the sender's end of n = len(delta)/l correlated OTs over Z_2^bits with vector
// correlations: OT i has correlation delta[i*l : (i+1)*l]. It returns t (n*l words,
// uniform mod 2^bits, high bits zero); the receiver gets t + c_i*delta_i mod 2^bits. Only
// the low bits of each delta word matter (1 <= bits <= 64): use bits = 64-j when the
// result is to be multiplied by 2^j. The sender sends n*l*bits bits of corrections
// (packed) after receiving the receiver's 16 bytes per OT: one round trip.
func (s *Session) SendCOT(delta []uint64, l, bits int) (t []uint64, err error) {
	return nil, errTODO
}

// RecvCOT is the receiver's end of SendCOT: c holds the n choice bits (packed 64 per word);
// it returns t + c_i*delta_i mod 2^bits (n*l words, high bits zero).
func (s *Session) RecvCOT(c []uint64, n, l, bits int) ([]uint64, error) {
	return nil, errTODO
}

// ProductW is party A's end of the one-sided (Gilboa) product: A holds W [m,k] (row
// major) of signed integers that fit in bits bits (two's complement, 1 <= bits <= 64), the
// peer (ProductX) holds X [k,n] over Z_2^64. A gets U [m,n], the peer V, with U + V = W*X
// mod 2^64. A is the OT receiver of m*k*bits correlated OTs; one round trip.
func (s *Session) ProductW(w []int64, m, k, n, bits int) (u []uint64, err error) {
	return nil, errTODO
}

// ProductX is party B's end of ProductW: B holds X [k,n] (row major) and gets V [m,n].
func (s *Session) ProductX(x []uint64, m, k, n, bits int) (v []uint64, err error) {
	return nil, errTODO
}

// ANDTriples returns this party's XOR shares of n random AND triples, bit-sliced (triple i
// is bit i%64 of word i/64; the words beyond n are zero): with the peer's shares,
// (a0^a1)&(b0^b1) = c0^c1. Both parties call it. Two random OTs per triple (one per
// direction); each party sends 16 bytes per triple, in one message.
func (s *Session) ANDTriples(n int) (a, b, c []uint64, err error) {
	return nil, nil, nil, errTODO
}

// BeaverTriples returns this party's additive shares over Z_2^64 of n random
// multiplication triples: (a0+a1)*(b0+b1) = c0+c1 mod 2^64. Both parties call it. 64
// correlated OTs per triple and direction (Gilboa); one round trip.
func (s *Session) BeaverTriples(n int) (a, b, c []uint64, err error) {
	return nil, nil, nil, errTODO
}
