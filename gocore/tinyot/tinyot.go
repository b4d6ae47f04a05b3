// Package tinyot is the binary half of qmpc's two-party malicious protocol (spdz2k, issue
// 14): authenticated bits over GF(2) with pairwise information-theoretic MACs (the
// TinyOT representation of Nielsen, Nordholt, Orlandi, Burra, CRYPTO 2012), authenticated
// AND triples made maliciously secure by the leaky-AND and bucketing construction of Wang,
// Ranellucci, Katz, "Authenticated Garbling and Efficient Maliciously Secure Two-Party
// Computation" (CCS 2017; WRK17 below), and openings whose MACs are checked in one
// deferred step.
//
// # Representation
//
// Party i holds a global key Delta_i in GF(2)^128: the sender secret of its own OT
// extension with the peer (ot.Session.Delta). A bit x is shared as x = x_0 xor x_1; party
// i holds x_i, the MAC M_i = K_j xor x_i*Delta_j of its share under the peer's key, and
// the key K_i of the peer's share (the peer's MAC is K_i xor x_j*Delta_i). Bits keeps n
// such bits, bit-sliced. XOR of shared bits is local (componentwise); XOR with a public
// bit c: party 0 flips its share, party 1 XORs c*Delta_1 into its key (XorPublic); AND with
// a public bit masks all three components (AndPublic). A party that changes its share
// without the matching MAC must guess the peer's Delta to pass an opening: probability
// 2^-128.
//
// # Files and protocols
//
//   - abits.go: authenticated bits from the Delta-correlated OT of package ot (the
//     extension's raw correlation, ot/deltacot.go): random bits, bits a party chooses
//     (both parties' shares, or one party's input).
//   - open.go: openings with deferred MAC check (Open, Check) and the equality test
//     they end with (commit, reveal, open).
//   - triples.go, bucket.go and hash.go: authenticated AND triples, WRK17's leaky AND
//     (with a fixed-key-AES TCR hash; hash_amd64.s runs it eight blocks at a time with
//     AES-NI) and bucket combining, with the bucket size for 40-bit statistical
//     security; Take hands out triples from a pool filled in whole batches; And uses a
//     triple (one opening).
//   - cost.go: the exact bytes of each operation.
//
// # Threat model
//
// Two parties, static malicious corruption of either, computational security kappa =
// 128, statistical security at least 40 bits per call of Triples, or over the whole
// session when Party.TotalTriples declares its triples in advance (bucket.go), or what
// the caller's budget asks with Party.Bucket. A cheating
// party is caught (errs.Cheating) by Check, which Triples runs itself and the online
// protocol must run before it reveals any output; an abort may leak the random
// preprocessing values of the aborted run, nothing else.
//
// The authenticated bits need the maliciously secure OT extension (ot.NewSessionMalicious;
// NewParty refuses a semi-honest session): without its KOS consistency check a party
// could authenticate inconsistent choice bits and learn bits of the peer's Delta from
// whether later checks pass. With it, a cheating OT receiver is caught before any key is
// used, except for KOS's selective failure: it may guess m bits of the peer's Delta and
// pass with probability 2^-m, learning them. Every argument here that needs a guess of
// Delta (forging a MAC, passing the leaky-AND check with a wrong triple) keeps at least
// 127 - m unknown bits, so the success probability stays 2^-m * 2^-(127-m) = 2^-127
// overall: the leak is tolerated as in WRK17, whose F_abit is the same KOS-based
// construction.
//
// A Party is not safe for concurrent use, and both parties must make the same calls in
// the same order (Open and Check included).
package tinyot

import (
	"crypto/sha256"
	"hash"
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Bits is one party's share of n authenticated bits x = x_0 xor x_1 (two-party TinyOT):
// X holds this party's bits x_i (bit j in word j/64), M[j] the MAC of x_i under the peer's
// key (M[j] = K_peer[j] xor x_i[j]*Delta_peer), K[j] this party's key for the peer's bit.
type Bits struct {
	N int
	X []uint64
	M []ot.Block
	K []ot.Block
}

// DefaultBatch is the number of AND triples Triples makes per batch (bucket.go: bucket
// size 3 for 40-bit security over up to 14 batches, 4 beyond; about 0.7 GB of live heap
// per party while a batch runs, 0.9 GB of resident memory with Go's GC headroom).
const DefaultBatch = 1 << 20

// Party is one party's end of the binary authenticated world with one peer.
type Party struct {
	conn  net.Conn
	peer  int
	first bool // party 0 of the pair: the lower index
	ot    *ot.Session
	delta ot.Block
	rng   *prg.PRG
	h     hasher
	tweak uint64 // hash tweaks used so far (triples.go)

	// The check hash of the values to compare since the last Check (open.go).
	sym     hash.Hash
	pending bool

	// Batch is the number of AND triples Triples makes per batch (DefaultBatch; smaller
	// batches need larger buckets, bucket.go). Both parties must use the same value.
	Batch int
	// TotalTriples is the number of triples the session will make over all its calls of
	// Triples (0: each call counts alone). The bucket size keeps StatBits bits of
	// statistical security over all ceil(TotalTriples/Batch) batches (a union bound), so
	// a caller that makes its triples in many calls sets it once. Both parties must use
	// the same value.
	TotalTriples int
	// Bucket, if larger than the bucket size BucketSize chooses, is the bucket size of
	// every batch: a caller that budgets its statistical security over more than this
	// session's triples (spdz2k: over every check of an inference) asks for the larger
	// buckets its budget needs. Both parties must use the same value.
	Bucket int

	// pool holds generated triples not yet taken (Take).
	pool [3]Bits

	// scratch keeps triplesBatch's large buffers between batches (scratch.go; Release).
	scratch batchScratch

	// leakyX, if set (tests only), sees this party's x shares of each batch's leaky
	// triples.
	leakyX func(x []uint64)
}

// NewParty returns this party's end over conn with peer, on top of the malicious OT
// session sess (ot.NewSessionMalicious) between the same two parties (its extension
// secret becomes this party's Delta). rnd
// supplies the key of the party's PRG (crypto/rand.Reader in production). No message is
// sent.
func NewParty(conn net.Conn, peer int, sess *ot.Session, rnd io.Reader) (*Party, error) {
	if peer == conn.ID() || peer < 0 || peer >= conn.N() {
		return nil, errs.New(errs.Config, "tinyot: party %d cannot pair with party %d (of %d)", conn.ID(), peer, conn.N())
	}
	if !sess.Malicious() {
		return nil, errs.New(errs.Config, "tinyot: the OT session with party %d is semi-honest; authenticated bits need ot.NewSessionMalicious", peer)
	}
	key, err := prg.ReadKey(rnd)
	if err != nil {
		return nil, errs.New(errs.Internal, "tinyot: %w", err)
	}
	p := &Party{conn: conn, peer: peer, first: conn.ID() < peer, ot: sess, delta: sess.Delta(),
		rng: prg.New(key), h: newHasher(), Batch: DefaultBatch}
	p.resetCheck()
	return p, nil
}

// Delta returns this party's global MAC key.
func (p *Party) Delta() ot.Block { return p.delta }

// First reports whether this party is party 0 of the pair (the one that flips its share
// in XorPublic).
func (p *Party) First() bool { return p.first }

func words(n int) int { return (n + 63) / 64 }

func getBit(x []uint64, j int) uint64 { return x[j/64] >> (j % 64) & 1 }

// mask returns the all-ones block if bit j of x is set, else zero.
func mask(x []uint64, j int) uint64 { return -(x[j/64] >> (j % 64) & 1) }

func xorBlock(a, b ot.Block) ot.Block { return ot.Block{a[0] ^ b[0], a[1] ^ b[1]} }

func andBlock(a ot.Block, m uint64) ot.Block { return ot.Block{a[0] & m, a[1] & m} }

// clearTail zeroes the bits from n on in the last word of x.
func clearTail(x []uint64, n int) {
	if n%64 != 0 && len(x) > 0 {
		x[len(x)-1] &= 1<<(n%64) - 1
	}
}

// NewBits returns n zero bits (all shares, MACs and keys zero: a valid sharing of 0).
func NewBits(n int) Bits {
	return Bits{N: n, X: make([]uint64, words(n)), M: make([]ot.Block, n), K: make([]ot.Block, n)}
}

// Slice returns bits [lo, hi) of x as a new Bits (copies).
func (x Bits) Slice(lo, hi int) Bits {
	out := NewBits(hi - lo)
	out.X = sliceBits(x.X, lo, hi)
	copy(out.M, x.M[lo:hi])
	copy(out.K, x.K[lo:hi])
	return out
}

// Xor returns x xor y (local).
func Xor(x, y Bits) Bits {
	if x.N != y.N {
		panic("tinyot: Xor of different lengths")
	}
	out := NewBits(x.N)
	for w := range out.X {
		out.X[w] = x.X[w] ^ y.X[w]
	}
	for j := range out.M {
		out.M[j] = xorBlock(x.M[j], y.M[j])
		out.K[j] = xorBlock(x.K[j], y.K[j])
	}
	return out
}

// AndPublic returns x AND c for public bits c (bit j in word j/64; local).
func AndPublic(x Bits, c []uint64) Bits {
	out := NewBits(x.N)
	for w := range out.X {
		out.X[w] = x.X[w] & c[w]
	}
	for j := range out.M {
		m := mask(c, j)
		out.M[j] = andBlock(x.M[j], m)
		out.K[j] = andBlock(x.K[j], m)
	}
	return out
}

// XorPublic returns x xor c for public bits c (local): party 0 flips its shares, party 1
// XORs c_j*Delta_1 into its keys, so that every MAC relation still holds.
func (p *Party) XorPublic(x Bits, c []uint64) Bits {
	out := Bits{N: x.N, X: append([]uint64(nil), x.X...), M: append([]ot.Block(nil), x.M...), K: append([]ot.Block(nil), x.K...)}
	if p.first {
		for w := range out.X {
			out.X[w] ^= c[w]
		}
		clearTail(out.X, x.N)
		return out
	}
	for j := range out.K {
		out.K[j] = xorBlock(out.K[j], andBlock(p.delta, mask(c, j)))
	}
	return out
}

// send sends msg to the peer and flushes.
func (p *Party) send(msg []byte) error {
	if err := p.conn.Send(p.peer, msg); err != nil {
		return errs.New(errs.Party, "tinyot: send to party %d: %w", p.peer, err)
	}
	if err := p.conn.Flush(); err != nil {
		return errs.New(errs.Party, "tinyot: send to party %d: %w", p.peer, err)
	}
	return nil
}

// recv receives the next message from the peer and checks its length (want < 0: any).
func (p *Party) recv(what string, want int) ([]byte, error) {
	msg, err := p.conn.Recv(p.peer)
	if err != nil {
		return nil, errs.New(errs.Party, "tinyot: receive %s from party %d: %w", what, p.peer, err)
	}
	if want >= 0 && len(msg) != want {
		return nil, errs.New(errs.Party, "tinyot: %s from party %d has %d bytes, want %d", what, p.peer, len(msg), want)
	}
	return msg, nil
}

func (p *Party) resetCheck() {
	p.sym = sha256.New()
	p.pending = false
}

// Concat returns the bits of xs one after the other (copies).
func Concat(xs ...Bits) Bits {
	n := 0
	for _, x := range xs {
		n += x.N
	}
	out := NewBits(n)
	off := 0
	for _, x := range xs {
		place(&out, x, off)
		off += x.N
	}
	return out
}

// And returns x AND y from the triples (a, b, c) (c = a AND b; at least x.N of each, the
// first x.N are used), with one opening of x xor a and y xor b (one message each way):
// z = c xor d*b xor e*a xor d*e with d = x xor a, e = y xor b public. The MACs of the
// opened d and e are checked by the next Check, which must pass before any value that
// depends on z is revealed. Both parties call it.
func (p *Party) And(x, y, a, b, c Bits) (Bits, error) {
	n := x.N
	if y.N != n || a.N < n || b.N < n || c.N < n {
		return Bits{}, errs.New(errs.Internal, "tinyot: And of %d and %d bits with %d/%d/%d triples", x.N, y.N, a.N, b.N, c.N)
	}
	if a.N > n {
		a, b, c = a.Slice(0, n), b.Slice(0, n), c.Slice(0, n)
	}
	de, err := p.Open(Concat(Xor(x, a), Xor(y, b)))
	if err != nil {
		return Bits{}, err
	}
	d := sliceBits(de, 0, n)
	e := sliceBits(de, n, 2*n)
	de2 := make([]uint64, len(d))
	for w := range d {
		de2[w] = d[w] & e[w]
	}
	return p.XorPublic(Xor(Xor(c, AndPublic(b, d)), AndPublic(a, e)), de2), nil
}

// sliceBits returns bits [lo, hi) of x, packed from bit 0 (the bits past hi - lo clear).
func sliceBits(x []uint64, lo, hi int) []uint64 {
	out := make([]uint64, words(hi-lo))
	ring.ExtractBits(out, x, lo, hi-lo)
	return out
}
