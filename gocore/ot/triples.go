package ot

// Multiplication triples from OT, both parties symmetric: each party is the OT receiver in
// its own extension and the OT sender in the peer's.
//
// AND triples (GMW; the random-OT construction as in ALSZ, CCS 2013, section on
// multiplication triples): one random OT per direction per triple, 1-bit messages (the low
// bit of the 128-bit outputs). A random OT with sender bits (x0, x1) and receiver choice r,
// output x_r, is a random bit-OLE: with a = x0 xor x1 and u = x0 (sender) and b = r, v = x_r
// (receiver), a*b = u xor v. Party P takes a_P from its sender end and b_P from its
// receiver end, so the cross terms a_0*b_1 and a_1*b_0 are each one OT, and
//
//	c_P = a_P*b_P xor u_P xor v_P,   c_0 xor c_1 = (a_0 xor a_1)*(b_0 xor b_1).
//
// Messages: each party's IKNP message u (16 bytes per triple), sent simultaneously: one
// message each way, no further round. Security: random OT (iknp.go, session.go); a_P, b_P
// are uniform (x0 xor x1 of independent pseudorandom bits; the receiver's uniform choices),
// and the peer's view is only the pseudorandom u.
//
// Beaver triples over Z_2^64 (Gilboa products, the semi2k offline phase of MP-SPDZ): each
// party draws a_P, b_P uniform; the cross term a_P*b_Q (Q the peer) is 64 correlated OTs
// with P's choice bits the bits of a_P, Q's correlation b_Q and width 64-j for bit j (see
// gilboa.go for why the shares 2^j*y and -2^j*t are exact). c_P = a_P*b_P + (P's receiver
// sums) + (P's sender sums). Messages per party and triple: 64 x 16 bytes of IKNP message,
// then sum_j (64-j) = 2080 bits = 260 bytes of corrections: 1284 bytes, one round trip.
// Security: that of correlated OT (cot.go); a_P, b_P never leave P.

// ANDTriples returns this party's XOR shares of n random AND triples, bit-sliced (triple i
// is bit i%64 of word i/64; the bits from n on are zero): with the peer's shares,
// (a0^a1)&(b0^b1) = c0^c1. Both parties call it. Two random OTs per triple (one per
// direction); each party sends 16 bytes per triple (n rounded up to a multiple of 64), in one
// message, and receives the peer's.
func (s *Session) ANDTriples(n int) (a, b, c []uint64, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, nil, err
	}
	nw := words(n)
	b = s.randomBits(n)
	t, baseR, umsg := s.rcv.extend(b, n)
	if err := s.send(umsg); err != nil {
		return nil, nil, nil, err
	}
	peerU, err := s.recv("AND-triple extension")
	if err != nil {
		return nil, nil, nil, err
	}
	q, baseS, err := s.snd.extend(peerU, n)
	if err != nil {
		return nil, nil, nil, err
	}
	h0 := make([]Block, n)
	s.h.tcrBatch(h0, q, baseS)
	for j := range q {
		q[j][0] ^= s.snd.s[0]
		q[j][1] ^= s.snd.s[1]
	}
	s.h.tcrBatch(q, q, baseS)
	s.h.tcrBatch(t, t, baseR)
	a = make([]uint64, nw)
	c = make([]uint64, nw)
	for j := range n {
		x0, x1, v := h0[j][0]&1, q[j][0]&1, t[j][0]&1
		a[j/64] |= (x0 ^ x1) << (j % 64)
		c[j/64] |= (x0 ^ v) << (j % 64)
	}
	for w := range c {
		c[w] ^= a[w] & b[w]
	}
	return a, b, c, nil
}

// BeaverTriples returns this party's additive shares over Z_2^64 of n random
// multiplication triples: (a0+a1)*(b0+b1) = c0+c1 mod 2^64. Both parties call it. 64
// correlated OTs per triple and direction (Gilboa); each party sends 1284 bytes per triple,
// in two messages (one round trip).
func (s *Session) BeaverTriples(n int) (a, b, c []uint64, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, nil, err
	}
	a = s.rng.Uint64s(n)
	b = s.rng.Uint64s(n)
	c = make([]uint64, n)
	for i := range c {
		c[i] = a[i] * b[i]
	}
	N := 64 * n
	L := cotLayout{n: N, l: 1, width: func(o int) int { return 64 - o%64 }}
	// a's words are exactly the packed choice bits of the 64n OTs.
	t, baseR, umsg := s.rcv.extend(a, N)
	if err := s.send(umsg); err != nil {
		return nil, nil, nil, err
	}
	peerU, err := s.recv("Beaver-triple extension")
	if err != nil {
		return nil, nil, nil, err
	}
	var d [1]uint64
	err = s.cotSenderPhase(peerU, L,
		func(o int, _ []uint64) []uint64 { d[0] = b[o/64]; return d[:] },
		func(o int, x []uint64) { c[o/64] -= x[0] << (o % 64) })
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.flush(); err != nil {
		return nil, nil, nil, err
	}
	err = s.cotReceiverPhase(t, baseR, a, L, func(o int, y []uint64) { c[o/64] += y[0] << (o % 64) })
	if err != nil {
		return nil, nil, nil, err
	}
	return a, b, c, nil
}
