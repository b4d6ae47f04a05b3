package ot

// Session setup and random OT. The base OTs of both directions run interleaved (NewSession):
//
//	round 1, each party:  A (32 bytes), as base-OT sender for the extension where it is
//	                      the OT receiver
//	round 2, each party:  B_1..B_128 (4 KB), as base-OT receiver with its extension-sender
//	                      secret s as choices
//
// after which each party holds an extSender and an extReceiver (iknp.go). What each
// message reveals is argued in baseot.go; random OT (SendRandomOT/RecvRandomOT) is the plain
// IKNP extension of iknp.go with outputs H(j', q_j), H(j', q_j xor s) and H(j', t_j), and its
// only message is the receiver's u (16 bytes per OT), pseudorandom to the sender.

import (
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
)

// Kappa is the computational security parameter: the number of base OTs per direction and
// the width of the IKNP matrix.
const Kappa = 128

// Block is a 128-bit OT message (two words: bits 0-63, then bits 64-127).
type Block [2]uint64

// Session is one party's end of the two OT extensions (one per direction) with one peer.
// It is not safe for concurrent use; see the package doc for how calls pair up.
type Session struct {
	conn net.Conn
	peer int
	snd  *extSender   // this party is the OT sender
	rcv  *extReceiver // this party is the OT receiver
	rng  *prg.PRG     // local randomness (choice bits, triple shares)
	h    *hasher
	ex   expander
}

// NewSession runs the base OTs of both directions with peer over conn (two rounds, 4128
// bytes each way) and returns the party's end of both extensions. Both parties call it.
// rnd supplies all randomness (crypto/rand.Reader in production): the base-OT scalars, the
// extension secret and a key for the session's local PRG.
func NewSession(conn net.Conn, peer int, rnd io.Reader) (*Session, error) {
	if peer == conn.ID() || peer < 0 || peer >= conn.N() {
		return nil, errs.New(errs.Config, "ot: party %d cannot run OT with party %d (of %d)", conn.ID(), peer, conn.N())
	}
	s := &Session{conn: conn, peer: peer, h: newHasher()}
	s.ex.h = s.h
	var key prg.Key
	var sBytes [16]byte
	if _, err := io.ReadFull(rnd, key[:]); err != nil {
		return nil, errs.New(errs.Internal, "ot: read randomness: %w", err)
	}
	if _, err := io.ReadFull(rnd, sBytes[:]); err != nil {
		return nil, errs.New(errs.Internal, "ot: read randomness: %w", err)
	}
	s.rng = prg.New(key)
	sec := getBlock(sBytes[:])

	bs, aMsg, err := baseSenderStart(rnd)
	if err != nil {
		return nil, err
	}
	if err := s.send(aMsg); err != nil {
		return nil, err
	}
	peerA, err := s.recv("base OT A")
	if err != nil {
		return nil, err
	}
	bMsg, keys, err := baseReceive(rnd, peerA, sec[:])
	if err != nil {
		return nil, err
	}
	if err := s.send(bMsg); err != nil {
		return nil, err
	}
	peerB, err := s.recv("base OT B")
	if err != nil {
		return nil, err
	}
	k0, k1, err := bs.finish(peerB)
	if err != nil {
		return nil, err
	}
	s.snd = newExtSender(sec, keys)
	s.rcv = newExtReceiver(k0, k1)
	return s, nil
}

// send sends msg to the peer and flushes.
func (s *Session) send(msg []byte) error {
	if err := s.conn.Send(s.peer, msg); err != nil {
		return errs.New(errs.Party, "ot: send to party %d: %w", s.peer, err)
	}
	if err := s.conn.Flush(); err != nil {
		return errs.New(errs.Party, "ot: send to party %d: %w", s.peer, err)
	}
	return nil
}

// sendNoFlush queues msg for the peer.
func (s *Session) sendNoFlush(msg []byte) error {
	if err := s.conn.Send(s.peer, msg); err != nil {
		return errs.New(errs.Party, "ot: send to party %d: %w", s.peer, err)
	}
	return nil
}

func (s *Session) flush() error {
	if err := s.conn.Flush(); err != nil {
		return errs.New(errs.Party, "ot: send to party %d: %w", s.peer, err)
	}
	return nil
}

// recv receives the next message from the peer; what names it in errors.
func (s *Session) recv(what string) ([]byte, error) {
	msg, err := s.conn.Recv(s.peer)
	if err != nil {
		return nil, errs.New(errs.Party, "ot: receive %s from party %d: %w", what, s.peer, err)
	}
	return msg, nil
}

// randomBits returns words(n) uniform words with the bits from n on cleared.
func (s *Session) randomBits(n int) []uint64 {
	c := s.rng.Uint64s(words(n))
	if n%64 != 0 {
		c[len(c)-1] &= 1<<(n%64) - 1
	}
	return c
}

func checkN(n int) error {
	if n < 0 {
		return errs.New(errs.Internal, "ot: negative OT count %d", n)
	}
	return nil
}

// SendRandomOT is the sender's end of n random OTs: m0[i], m1[i] are independent uniform
// 128-bit blocks. The peer calls RecvRandomOT(n). The sender sends nothing; it receives the
// receiver's one message.
func (s *Session) SendRandomOT(n int) (m0, m1 []Block, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, err
	}
	msg, err := s.recv("random OT extension")
	if err != nil {
		return nil, nil, err
	}
	q, base, err := s.snd.extend(msg, n)
	if err != nil {
		return nil, nil, err
	}
	m0 = make([]Block, n)
	s.h.tcrBatch(m0, q, base)
	for j := range q {
		q[j][0] ^= s.snd.s[0]
		q[j][1] ^= s.snd.s[1]
	}
	s.h.tcrBatch(q, q, base)
	return m0, q, nil
}

// RecvRandomOT is the receiver's end of n random OTs: c holds n uniform choice bits
// packed 64 per word (bit i%64 of c[i/64]; the bits from n on are zero), mc[i] =
// m_{c_i}[i] of the sender. One message (16 bytes per OT, n rounded up to a multiple of 64)
// goes to the sender.
func (s *Session) RecvRandomOT(n int) (c []uint64, mc []Block, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, err
	}
	c = s.randomBits(n)
	t, base, msg := s.rcv.extend(c, n)
	if err := s.send(msg); err != nil {
		return nil, nil, err
	}
	s.h.tcrBatch(t, t, base)
	return c, t, nil
}
