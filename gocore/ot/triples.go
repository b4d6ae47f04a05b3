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
// Messages: each party's extension message (128/k - 1 bits per triple), sent
// simultaneously: one message each way, no further round. Security: random OT
// (softspoken.go, session.go); a_P, b_P are uniform (x0 xor x1 of independent pseudorandom
// bits; the receiver's uniform choices), and the peer's view is only the pseudorandom
// extension message.
//
// Beaver triples over Z_2^64 (Gilboa products, the semi2k offline phase of MP-SPDZ): each
// party draws a_P, b_P uniform; the cross term a_P*b_Q (Q the peer) is 64 correlated OTs
// with P's choice bits the bits of a_P, Q's correlation b_Q and width 64-j for bit j (see
// gilboa.go for why the shares 2^j*y and -2^j*t are exact). c_P = a_P*b_P + (P's receiver
// sums) + (P's sender sums). Messages per party and triple: 64 x 128/k bits of extension
// message (256 bytes for k = 4), then sum_j (64-j) = 2080 bits = 260 bytes of corrections:
// 516 bytes for k = 4 (1284 for IKNP), one round trip.
// Security: that of correlated OT (cot.go); a_P, b_P never leave P.

// ANDTriples returns this party's XOR shares of n random AND triples, bit-sliced (triple i
// is bit i%64 of word i/64; the bits from n on are zero): with the peer's shares,
// (a0^a1)&(b0^b1) = c0^c1. Both parties call it. Two random OTs per triple (one per
// direction); each party sends 128/k - 1 bits per triple (3.875 bytes for k = 4; n rounded
// up to a multiple of 64) in one message per batch of 2^21 triples, and receives the peer's.
func (s *Session) ANDTriples(n int) (a, b, c []uint64, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, nil, err
	}
	if n <= s.batch.and {
		return s.andTriples(n)
	}
	a, b, c = make([]uint64, words(n)), make([]uint64, words(n)), make([]uint64, words(n))
	for off := 0; off < n; off += s.batch.and {
		ab, bb, cb, err := s.andTriples(min(s.batch.and, n-off))
		if err != nil {
			return nil, nil, nil, err
		}
		copy(a[off/64:], ab)
		copy(b[off/64:], bb)
		copy(c[off/64:], cb)
	}
	return a, b, c, nil
}

// andTriples is one batch of ANDTriples.
func (s *Session) andTriples(n int) (a, b, c []uint64, err error) {
	nw := words(n)
	b, t, baseR, umsg := s.rcvExtend(nil, n)
	if err := s.send(umsg); err != nil {
		return nil, nil, nil, err
	}
	peerU, err := s.recv("AND-triple extension")
	if err != nil {
		return nil, nil, nil, err
	}
	q, baseS, err := s.sndExtend(peerU, n, true)
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
	for w := range nw {
		lo := 64 * w
		hi := min(n, lo+64)
		h0w, qw, tw := h0[lo:hi], q[lo:hi], t[lo:hi]
		var aw, cw uint64
		for j := range h0w {
			x0, x1, v := h0w[j][0]&1, qw[j][0]&1, tw[j][0]&1
			aw |= (x0 ^ x1) << j
			cw |= (x0 ^ v) << j
		}
		a[w], c[w] = aw, cw^aw&b[w]
	}
	return a, b, c, nil
}

// BeaverTriples returns this party's additive shares over Z_2^64 of n random
// multiplication triples: (a0+a1)*(b0+b1) = c0+c1 mod 2^64. Both parties call it. 64
// correlated OTs per triple and direction (Gilboa); each party sends 516 bytes per triple
// (k = 4), one round trip per batch of 2^15 triples.
func (s *Session) BeaverTriples(n int) (a, b, c []uint64, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, nil, err
	}
	if n <= s.batch.beaver {
		return s.beaverTriples(n)
	}
	a, b, c = make([]uint64, n), make([]uint64, n), make([]uint64, n)
	for off := 0; off < n; off += s.batch.beaver {
		ab, bb, cb, err := s.beaverTriples(min(s.batch.beaver, n-off))
		if err != nil {
			return nil, nil, nil, err
		}
		copy(a[off:], ab)
		copy(b[off:], bb)
		copy(c[off:], cb)
	}
	return a, b, c, nil
}

// beaverTriples is one batch of BeaverTriples.
func (s *Session) beaverTriples(n int) (a, b, c []uint64, err error) {
	a = s.rng.Uint64s(n)
	b = s.rng.Uint64s(n)
	c = make([]uint64, n)
	for i := range c {
		c[i] = a[i] * b[i]
	}
	N := 64 * n
	L := beaverLayout(n)
	// a's words are exactly the packed choice bits of the 64n OTs.
	_, t, baseR, umsg := s.rcvExtend(a, N)
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

// beaverLayout: OT 64*i + j carries b_Q[i] at width 64-j.
func beaverLayout(n int) cotLayout {
	return cotLayout{n: 64 * n, l: 1, width: func(o int) int { return 64 - o%64 }}
}
