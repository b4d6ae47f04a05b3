package semi2k

// Trusted-dealer preprocessing (preprocessing "dealer"), used ONLY when the user asks for
// it: a third party that both computing parties trust makes every correlation (CrypTen's
// and SPU's default model). It is a different threat model from semi2k's own: the dealer
// sees nothing of the inputs, but if it colludes with either party, that party learns the
// other's inputs.
//
// Simulation: the dealer holds two PRG keys k_0 and k_1. Party 0's components of every
// correlation are drawn from k_0 alone; party 1's random components are drawn from k_1,
// and its correction components (C_1 = f(A, B) - C_0, the arithmetic parts of daBits) are
// what the dealer would send it. In this simulation there is no third process: at setup
// the two parties each send a 16-byte random contribution and both derive k_0 and k_1 from
// the two contributions, and party 1's Source computes the dealer's corrections itself, in
// lockstep with party 0's draws, counting their bytes as received from the dealer
// (OfflineStats). So the simulation is NOT secure against either party (each could
// derive the other's components); it reproduces exactly the online phase, messages and
// cost of the dealer model. A deployment with a real dealer would run this file's
// dealerSource in the dealer's process and send each party its components.
//
// One-sided products are not offered (a dealer never sees the owner's weights), so
// products with held weights use ordinary matrix and gather triples.

import (
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// TrustedDealer is the simulated trusted third party of preprocessing "dealer". Both
// parties of one computation must get their Source from the same TrustedDealer.
type TrustedDealer struct {
	k0, k1 prg.Key
}

// NewTrustedDealer makes a dealer with the keys drawn from rnd.
func NewTrustedDealer(rnd io.Reader) (*TrustedDealer, error) {
	d := &TrustedDealer{}
	if _, err := io.ReadFull(rnd, d.k0[:]); err != nil {
		return nil, errs.New(errs.Config, "semi2k dealer: randomness: %v", err)
	}
	if _, err := io.ReadFull(rnd, d.k1[:]); err != nil {
		return nil, errs.New(errs.Config, "semi2k dealer: randomness: %v", err)
	}
	return d, nil
}

// simulatedDealer sets up the in-process simulation of the dealer: both parties send a
// random 16-byte contribution (one message each way) and derive the dealer's keys from
// the XOR of the two.
func simulatedDealer(conn net.Conn, rnd io.Reader) (*TrustedDealer, error) {
	k, err := mpc.SimulatedDealerKey(conn, rnd, Name)
	if err != nil {
		return nil, err
	}
	return NewTrustedDealer(prg.New(k))
}

// Source returns party id's source of dealer correlations.
func (d *TrustedDealer) Source(id int) (Source, error) {
	switch id {
	case 0:
		return &dealerSource{id: 0, g0: prg.New(d.k0)}, nil
	case 1:
		return &dealerSource{id: 1, g0: prg.New(d.k0), g1: prg.New(d.k1)}, nil
	}
	return nil, errs.New(errs.Config, "semi2k dealer: party %d out of range [0,2)", id)
}

// dealerSource is one party's view of the dealer: g0 draws party 0's components (both
// parties, in lockstep), g1 party 1's random components (party 1 only).
type dealerSource struct {
	id     int
	g0, g1 *prg.PRG
	sent   int64 // bytes of corrections the dealer sends to party 1
}

func (s *dealerSource) Kind() string { return PreprocessingDealer }

func (s *dealerSource) dealerBytes() int64 { return s.sent }

func (s *dealerSource) ANDTriples(words int) (a, b, c []uint64, err error) {
	a0, b0, c0 := s.g0.Uint64s(words), s.g0.Uint64s(words), s.g0.Uint64s(words)
	if s.id == 0 {
		return a0, b0, c0, nil
	}
	a1, b1 := s.g1.Uint64s(words), s.g1.Uint64s(words)
	c1 := make([]uint64, words)
	for i := range c1 {
		c1[i] = (a0[i]^a1[i])&(b0[i]^b1[i]) ^ c0[i]
	}
	s.sent += 8 * int64(words)
	return a1, b1, c1, nil
}

func (s *dealerSource) CrossTriples(words int) (ab, c []uint64, err error) {
	a, c0 := s.g0.Uint64s(words), s.g0.Uint64s(words)
	if s.id == 0 {
		return a, c0, nil
	}
	b := s.g1.Uint64s(words)
	c1 := make([]uint64, words)
	for i := range c1 {
		c1[i] = a[i]&b[i] ^ c0[i]
	}
	s.sent += 8 * int64(words)
	return b, c1, nil
}

func (s *dealerSource) DaBits(words int) (bin, arith []uint64, err error) {
	b0, r0 := s.g0.Uint64s(words), s.g0.Uint64s(64*words)
	if s.id == 0 {
		return b0, r0, nil
	}
	b1 := s.g1.Uint64s(words)
	r1 := make([]uint64, 64*words)
	for i := range r1 {
		r := (b0[i/64] ^ b1[i/64]) >> uint(i%64) & 1
		r1[i] = r - r0[i]
	}
	s.sent += 8 * int64(len(r1))
	return b1, r1, nil
}

// triples draws A and B of lengths la, lb and C = f(A, B) of length lc with apply.
func (s *dealerSource) triples(la, lb, lc int, apply func(out, a, b []uint64)) (a, b, c []uint64, err error) {
	a0, b0, c0 := s.g0.Uint64s(la), s.g0.Uint64s(lb), s.g0.Uint64s(lc)
	if s.id == 0 {
		return a0, b0, c0, nil
	}
	a1, b1 := s.g1.Uint64s(la), s.g1.Uint64s(lb)
	ra, rb := make([]uint64, la), make([]uint64, lb)
	ring.Add(ra, a0, a1)
	ring.Add(rb, b0, b1)
	c1 := make([]uint64, lc)
	apply(c1, ra, rb)
	ring.Sub(c1, c1, c0)
	s.sent += 8 * int64(lc)
	return a1, b1, c1, nil
}

func (s *dealerSource) MatTriples(m, k, n int) (a, b, c []uint64, err error) {
	f := matMul{m, k, n}
	return s.triples(m*k, k*n, m*n, f.Apply)
}

func (s *dealerSource) GatherTriples(xLen int, xIdx []int32, wLen int, wIdx []int32, k int) (a, b, c []uint64, err error) {
	f := gatherMul{xLen, wLen, xIdx, wIdx, k}
	_, _, out := f.Sizes()
	return s.triples(xLen, wLen, out, f.Apply)
}

func (s *dealerSource) OneSided(Bilinear, int, []uint64, int) (r, z []uint64, err error) {
	return nil, nil, errNoOneSided
}
