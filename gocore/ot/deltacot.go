package ot

// Delta-COT: the raw correlation of the OT extension, for TinyOT-style authenticated bits
// (package tinyot). The extension of softspoken.go leaves S with rows q_j and R with rows
// t_j such that
//
//	q_j = t_j xor c_j*s        (s: S's extension secret, the same for every call)
//
// which is exactly an information-theoretic MAC on R's choice bit c_j under S's global key
// Delta = s: S keeps the key K_j = q_j, R the MAC M_j = t_j = K_j xor c_j*Delta. No hash
// is applied (the correlation itself is the output).
//
// Messages: R's extension message with chosen choices (128/k bits per COT, n rounded up to
// a multiple of 64; 4 bytes for k = 4; on a malicious session plus KOSExtra rows and 32
// bytes), one message per batch of deltaCOTBatch COTs, sent
// by R; S sends nothing. Security (semi-honest): the message is pseudorandom to S
// (softspoken.go), so S learns nothing about c; R's view is its seeds and its MACs t_j,
// and s is uniform and independent of that view, so R learns nothing about Delta (a MAC
// can be forged only by guessing Delta: probability 2^-128).
//
// Malicious R (sessions from NewSessionMalicious): every batch is a malicious extension
// (kos.go): KOSExtra extra rows and the 32-byte KOS check appended to R's message, verified
// by S before it returns any key, so rows inconsistent with one choice bit per COT (which
// would leak bits of Delta through later uses of the keys) make S fail with errs.Cheating.
// What remains is KOS's selective failure: R may guess m bits of Delta and pass with
// probability 2^-m, learning them; the consumer (TinyOT) must tolerate that, as KOS's
// Delta-OT does. On semi-honest sessions there is no check.
//
// Counters: the COT rows advance the extension's tweak counter like any other call, so no
// row given out here is ever hashed by another output of the session.

import "github.com/qmpc/qmpc/gocore/errs"

// deltaCOTBatch bounds the COTs of one extension message (a multiple of 64).
const deltaCOTBatch = 1 << 20

// Delta is the sender-side global correlation of this session's extension (the
// SoftSpoken/IKNP secret s), the same for every call.
func (s *Session) Delta() Block { return s.snd.s }

// SendDeltaCOT is the OT sender's end of n Delta-correlated OTs: it returns the keys K_j;
// the receiver (RecvDeltaCOT) gets M_j = K_j xor b_j*Delta() for its choice bits b_j. The
// sender receives one message per batch of 2^20 COTs (128/k bits per COT) and sends
// nothing.
func (s *Session) SendDeltaCOT(n int) (k []Block, err error) {
	return s.SendDeltaCOTInto(nil, n)
}

// SendDeltaCOTInto is SendDeltaCOT writing the keys into dst's memory when
// cap(dst) >= DeltaCOTRows(n) (else into a new slice): it returns dst[:n] then. Every row
// of dst it returns is overwritten (dst need not be zero); the rows of dst from n on up to
// DeltaCOTRows(n) are scratch of the extension. Same messages as SendDeltaCOT.
func (s *Session) SendDeltaCOTInto(dst []Block, n int) (k []Block, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, err
	}
	k = s.deltaCOTRows(dst, n)
	for off := 0; off < n; off += deltaCOTBatch {
		nb := min(deltaCOTBatch, n-off)
		msg, err := s.recv("Delta-COT extension")
		if err != nil {
			return nil, err
		}
		if _, _, err := s.sndExtendInto(k[off:], msg, nb, false); err != nil {
			return nil, err
		}
	}
	return k[:n:n], nil
}

// DeltaCOTRows is the capacity (in rows) of a destination that SendDeltaCOTInto and
// RecvDeltaCOTInto fill in place for n COTs: n and, on a malicious session, the last
// batch's KOS check rows (each batch extends in place at its offset; a batch's check
// rows are overwritten by the next batch, after the check).
func (s *Session) DeltaCOTRows(n int) int {
	if n <= 0 {
		return 0
	}
	last := (n - 1) / deltaCOTBatch * deltaCOTBatch
	return last + s.extendRows(n-last)
}

// deltaCOTRows is the output of n Delta-COTs: dst[:n] if dst has room for
// DeltaCOTRows(n) rows, else a new slice with that room.
func (s *Session) deltaCOTRows(dst []Block, n int) []Block {
	c := s.DeltaCOTRows(n)
	if cap(dst) >= c {
		return dst[:n:c]
	}
	return make([]Block, n, c)
}

// RecvDeltaCOT is the OT receiver's end of SendDeltaCOT: b holds the n choice bits (bit j
// in word j/64, at least words(n) words) and it returns M_j = K_j xor b_j*Delta, Delta the
// peer's Delta(). It sends one message per batch of 2^20 COTs (128/k bits per COT).
func (s *Session) RecvDeltaCOT(b []uint64, n int) (m []Block, err error) {
	return s.RecvDeltaCOTInto(nil, b, n)
}

// RecvDeltaCOTInto is RecvDeltaCOT writing the MACs into dst's memory when
// cap(dst) >= DeltaCOTRows(n) (else into a new slice), as SendDeltaCOTInto does. Same
// messages as RecvDeltaCOT.
func (s *Session) RecvDeltaCOTInto(dst []Block, b []uint64, n int) (m []Block, err error) {
	if err := checkN(n); err != nil || n == 0 {
		return nil, err
	}
	if len(b) < words(n) {
		return nil, errs.New(errs.Internal, "ot: RecvDeltaCOT: %d choice words for %d COTs", len(b), n)
	}
	m = s.deltaCOTRows(dst, n)
	for off := 0; off < n; off += deltaCOTBatch {
		nb := min(deltaCOTBatch, n-off)
		c := make([]uint64, words(nb)) // extend reads whole words: clear the bits past nb
		copy(c, b[off/64:])
		if nb%64 != 0 {
			c[len(c)-1] &= 1<<(nb%64) - 1
		}
		_, _, _, msg := s.rcvExtendInto(m[off:], c, nb)
		if err := s.sendNoFlush(msg); err != nil {
			return nil, err
		}
	}
	return m[:n:n], s.flush()
}

// DeltaCOTBytes is what the receiver of n Delta-COTs sends (RecvDeltaCOT; the sender sends
// nothing); k is the SoftSpoken parameter, malicious whether the session is malicious
// (NewSessionMalicious: each batch's extension carries the KOS rows and check).
func DeltaCOTBytes(n, k int, malicious bool) int64 {
	var t int64
	for off := 0; off < n; off += deltaCOTBatch {
		if malicious {
			t += MaliciousExtensionBytes(min(deltaCOTBatch, n-off), k, false)
		} else {
			t += ExtensionBytes(min(deltaCOTBatch, n-off), k, false)
		}
	}
	return t
}
