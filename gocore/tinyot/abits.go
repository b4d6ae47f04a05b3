package tinyot

// Authenticated bits (aBits) from Delta-correlated OT. Source: the aBit functionality of
// Nielsen, Nordholt, Orlandi, Burra (CRYPTO 2012), realised as in WRK17 (section 2 and the
// F_abit of its preprocessing) directly by the OT extension's correlation:
//
//	party i, OT receiver with choices x_i:  M_j = K_j xor x_i[j]*Delta_peer
//	the peer, OT sender:                    K_j (its key for x_i[j])
//
// (ot/deltacot.go). For a shared bit both parties authenticate their share in their own
// extension; both extension messages go out at once, so Authenticate costs one message
// each way (128/k bits per bit and party, 4 bytes for k = 4, plus the malicious
// extension's KOSExtra rows and 32-byte check per call) and no further round.
//
// Threat model: the party authenticating its bits is the OT receiver and learns nothing
// about the peer's Delta beyond KOS's selective failure (the malicious extension's
// consistency check holds it to one choice bit per OT; package doc); the sender learns
// nothing about the bits (the extension message is pseudorandom). A party can always authenticate whatever bits it likes; that is the
// functionality (it chooses its own share), and only the AND triples (triples.go) check
// relations between bits.

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ot"
)

// Authenticate shares n bits, x being this party's share (bit j in word j/64, at least
// words(n) words): both parties call it with their own shares and get x_0 xor x_1,
// authenticated. One message each way.
func (p *Party) Authenticate(x []uint64, n int) (Bits, error) {
	if n < 0 || len(x) < words(n) {
		return Bits{}, errs.New(errs.Internal, "tinyot: Authenticate %d bits from %d words", n, len(x))
	}
	b := Bits{N: n, X: append([]uint64(nil), x[:words(n)]...)}
	clearTail(b.X, n)
	var err error
	if b.M, err = p.ot.RecvDeltaCOT(b.X, n); err != nil { // sends first: no deadlock
		return Bits{}, err
	}
	if b.K, err = p.ot.SendDeltaCOT(n); err != nil {
		return Bits{}, err
	}
	if n == 0 {
		b.M, b.K = []ot.Block{}, []ot.Block{}
	}
	return b, nil
}

// Random returns n uniformly random authenticated bits (each party's share drawn from its
// PRG). Both parties call it. One message each way.
func (p *Party) Random(n int) (Bits, error) {
	x := p.rng.Uint64s(words(n))
	return p.Authenticate(x, n)
}

// Input shares n bits known to one party, the owner (owner reports whether this party is
// it): the owner's share is x, the other's is zero (with zero MAC and key, a valid
// sharing: x_0 xor 0 = x). The non-owner passes x = nil. One message, owner to peer.
func (p *Party) Input(owner bool, x []uint64, n int) (Bits, error) {
	bits, blocks, err := p.InputOneSided(owner, x, n)
	if err != nil {
		return Bits{}, err
	}
	if owner {
		return Bits{N: n, X: bits, M: blocks, K: make([]ot.Block, n)}, nil
	}
	return Bits{N: n, X: make([]uint64, words(n)), M: make([]ot.Block, n), K: blocks}, nil
}

// InputOneSided is Input's exchange, returning only this party's nonzero components (the
// other ones are zero): the owner gets its bits (a copy of x, the bits from n on cleared)
// and their MACs, the other party nil bits and its keys. The same message as Input; for
// callers that hold many inputs at once and need not allocate (and clear) their zero
// components: Input is this plus those zero slices.
func (p *Party) InputOneSided(owner bool, x []uint64, n int) (bits []uint64, blocks []ot.Block, err error) {
	return p.InputOneSidedInto(nil, owner, x, n)
}

// InputOneSidedInto is InputOneSided writing this party's blocks (the owner's MACs, the
// other party's keys) into dst's memory when cap(dst) >= p.InputRows(n) (else into a new
// slice): every block of dst[:n] is overwritten (dst need not be zero), the rows from n
// on up to InputRows(n) are the extension's scratch. For callers that input large
// vectors again and again (spdz2k's private edaBit checks): the same buffer serves every
// call instead of a fresh one that Go zeroes and the OS faults in. The same message as
// InputOneSided.
func (p *Party) InputOneSidedInto(dst []ot.Block, owner bool, x []uint64, n int) (bits []uint64, blocks []ot.Block, err error) {
	if n < 0 {
		return nil, nil, errs.New(errs.Internal, "tinyot: Input of %d bits", n)
	}
	if !owner {
		k, err := p.ot.SendDeltaCOTInto(dst, n)
		if err != nil {
			return nil, nil, err
		}
		if k == nil {
			k = []ot.Block{}
		}
		return nil, k, nil
	}
	if len(x) < words(n) {
		return nil, nil, errs.New(errs.Internal, "tinyot: Input of %d bits from %d words", n, len(x))
	}
	bits = make([]uint64, words(n))
	copy(bits, x)
	clearTail(bits, n)
	m, err := p.ot.RecvDeltaCOTInto(dst, bits, n)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		m = []ot.Block{}
	}
	return bits, m, nil
}

// InputRows is the capacity (in blocks) of a destination that InputOneSidedInto fills in
// place for n bits (the OT session's DeltaCOTRows).
func (p *Party) InputRows(n int) int { return p.ot.DeltaCOTRows(n) }
