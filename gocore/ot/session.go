package ot

// Session setup and random OT. The base OTs and the SoftSpoken setup of both directions
// run interleaved (NewSessionK):
//
//	round 1, each party:  A (32 bytes), as base-OT sender for the extension where it is
//	                      the OT receiver
//	round 2, each party:  B_1..B_128 (4 KB), as base-OT receiver for the extension where it
//	                      is the OT sender (choices: the complement of its secret s)
//	round 3, each party:  the GGM level sums of its trees (4 KB) and k, as OT receiver
//
// after which each party holds an extSender and an extReceiver (softspoken.go). What each
// message reveals is argued in baseot.go and softspoken.go. Random OT
// (SendRandomOT/RecvRandomOT) is the extension with random choices (c = u_0) and outputs
// H(j', q_j), H(j', q_j xor s) and H(j', t_j); its only message is the receiver's
// corrections (128/k - 1 bits per OT), pseudorandom to the sender.

import (
	"crypto/sha256"
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
	// batch bounds the size of one extension (defaultBatching; tests shrink it).
	batch batching
	// mal selects the maliciously secure extension (kos.go); sid[0] and sid[1] bind its
	// challenges to this session's extension where this party is the sender and the
	// receiver (the hashes of the two SoftSpoken setup messages).
	mal bool
	sid [2][32]byte
	// cheat is a test-only malicious receiver (kos.go); always nil otherwise.
	cheat *rcvCheat
}

// NewSession runs the base OTs and the SoftSpoken setup (k = DefaultK) of both directions
// with peer over conn (three rounds, 8225 bytes each way) and returns the party's end of
// both extensions. Both parties call it.
// rnd supplies all randomness (crypto/rand.Reader in production): the base-OT scalars, the
// extension secret and a key for the session's local PRG.
func NewSession(conn net.Conn, peer int, rnd io.Reader) (*Session, error) {
	return NewSessionK(conn, peer, rnd, DefaultK)
}

// NewSessionK is NewSession with SoftSpoken parameter k in {1, 2, 4, 8} (k = 1 is IKNP):
// the OT receiver sends 128/k bits per OT, and both parties expand 128*2^k/k PRG bits per OT.
// Both parties must use the same k.
func NewSessionK(conn net.Conn, peer int, rnd io.Reader, k int) (*Session, error) {
	return newSession(conn, peer, rnd, k, false)
}

// NewSessionMalicious is NewSessionK with the maliciously secure extension: every
// extension of either direction runs the KOS consistency check (kos.go), so a peer that
// deviates as OT receiver is caught (an errs.Cheating error) before any output of that
// extension is computed. It costs KOSExtra = 192 extra OTs and 32 bytes per extension (per
// call or batch) and no extra round. Both parties must call NewSessionMalicious with the
// same k (k = 1: KOS on IKNP; k > 1: Roy's malicious SoftSpokenOT).
func NewSessionMalicious(conn net.Conn, peer int, rnd io.Reader, k int) (*Session, error) {
	return newSession(conn, peer, rnd, k, true)
}

// Malicious reports whether the session runs the maliciously secure extension.
func (s *Session) Malicious() bool { return s.mal }

func newSession(conn net.Conn, peer int, rnd io.Reader, k int, mal bool) (*Session, error) {
	if k != 1 && k != 2 && k != 4 && k != 8 {
		return nil, errs.New(errs.Config, "ot: SoftSpoken parameter k = %d, want 1, 2, 4 or 8", k)
	}
	if peer == conn.ID() || peer < 0 || peer >= conn.N() {
		return nil, errs.New(errs.Config, "ot: party %d cannot run OT with party %d (of %d)", conn.ID(), peer, conn.N())
	}
	s := &Session{conn: conn, peer: peer, h: newHasher(), batch: defaultBatching, mal: mal}
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
	rcv, setup := newExtReceiver(k, k0, k1, s.rng)
	mode := byte(k) // k last, with bit 7 for the malicious extension: a mismatch fails here
	if mal {
		mode |= 0x80
	}
	setupMsg := append(setup, mode)
	if err := s.send(setupMsg); err != nil {
		return nil, err
	}
	s.sid[1] = sha256.Sum256(setupMsg[:len(setupMsg)-1]) // read back: the bytes as sent
	peerSetup, err := s.recv("extension setup")
	if err != nil {
		return nil, err
	}
	if len(peerSetup) == 0 || peerSetup[len(peerSetup)-1] != mode {
		return nil, errs.New(errs.Config, "ot: party %d uses SoftSpoken k = %d (malicious: %v), party %d another (setup message of %d bytes)", conn.ID(), k, mal, peer, len(peerSetup))
	}
	peerSetup = peerSetup[:len(peerSetup)-1]
	s.sid[0] = sha256.Sum256(peerSetup)
	// The base-OT choices were sec, so this party holds k^{sec_i}_i: its extension secret
	// is NOT sec (softspoken.go).
	snd, err := newExtSender(k, Block{^sec[0], ^sec[1]}, keys, peerSetup)
	if err != nil {
		return nil, err
	}
	s.snd, s.rcv = snd, rcv
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
	q, base, err := s.sndExtend(msg, n, true)
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
// m_{c_i}[i] of the sender. One message (128/k - 1 bits per OT, n rounded up to a multiple
// of 64; 3.875 bytes for k = 4) goes to the sender.
func (s *Session) RecvRandomOT(n int) (c []uint64, mc []Block, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, nil, err
	}
	c, t, base, msg := s.rcvExtend(nil, n)
	if err := s.send(msg); err != nil {
		return nil, nil, err
	}
	s.h.tcrBatch(t, t, base)
	return c, t, nil
}
