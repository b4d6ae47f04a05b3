package tinyot

// Openings with a deferred MAC check, and the equality test that ends every check.
//
// Open (source: the TinyOT/BDOZ opening of Nielsen, Nordholt, Orlandi, Burra, CRYPTO 2012,
// with the MACs compared through a hash as in WRK17's F_EQ and SPDZ-style batched checks):
//
//	each party -> peer:  its shares x_i (n bits packed, ceil(n/64) words)
//
// Both learn x = x_0 xor x_1. No MAC travels at this point; party i appends to a running
// hash (the "check hash") the block
//
//	D_i[j] = M_i[j] xor K_i[j] xor x_peer[j]*Delta_i
//
// (its own MAC, and the MAC it expects from the peer). For honest parties D_0[j] = K_0[j]
// xor K_1[j] xor x_0[j] Delta_1 xor x_1[j] Delta_0 = D_1[j]: one symmetric value, which
// each party can compute once x is public, so both hashes must agree.
//
// Check runs the equality test below on the two check hashes (which also hold the
// values the triple generation asks both parties to agree on, triples.go) and starts a
// new hash. It costs three messages (1.5 round trips) however many bits were opened, and
// nothing when nothing was opened since the last Check.
//
// Equality test (commit, reveal, open; the F_EQ of WRK17 realised with a random-oracle
// commitment):
//
//	party 0 -> 1:  c = SHA-256("tinyot-eq" || rho || v_0), rho 32 random bytes
//	party 1 -> 0:  v_1                     (32 bytes)
//	party 0 -> 1:  rho, v_0                (64 bytes)
//
// Party 0 fails if v_1 != v_0; party 1 fails if the opening does not match c or v_0 !=
// v_1; both with errs.Cheating. v_i is the party's check hash (SHA-256).
//
// Security. Soundness: if party i sent x_i' != x_i for some opened bit, the peer's D
// value of that bit is M_peer xor K_peer xor x_i' Delta_peer, Delta_peer away from the
// honest one; party i knows every other term (M_peer = K_i xor x_peer Delta_i, its own
// M_i = K_peer xor x_i Delta_peer) but not Delta_peer, so to make the hashes agree it must
// guess Delta_peer (2^-128) or find a SHA-256 collision. Party 0 is bound by its
// commitment before it sees v_1, and party 1 sends v_1 before it sees v_0, so neither can
// copy the other's value. Privacy: opened shares are meant to be public, and the D values
// of honest parties are computable by each party from x and its own state, so the hashes
// reveal nothing new; if the peer cheated, the honest party aborts, and its hash hides the
// values involving its 128-bit Delta (SHA-256 as a random oracle). The commitment hides
// v_0 (random oracle, 256-bit rho).

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ot"
)

// Open opens x: both parties call it and get the n bits of x (bit j in word j/64, bits
// from n on zero). The MACs are not checked here: they are recorded for the next Check,
// which must pass before any opened value is used for an output. One message each way.
func (p *Party) Open(x Bits) ([]uint64, error) { return p.OpenAll(x) }

// OpenAll opens the bits of xs one after the other: the same message, output and check
// as Open(Concat(xs...)), without copying the MACs and keys into one Bits.
func (p *Party) OpenAll(xs ...Bits) ([]uint64, error) {
	n := 0
	for _, x := range xs {
		if len(x.X) < words(x.N) || len(x.M) < x.N || len(x.K) < x.N {
			return nil, errs.New(errs.Internal, "tinyot: Open of %d bits with %d words, %d MACs, %d keys", x.N, len(x.X), len(x.M), len(x.K))
		}
		n += x.N
	}
	if n == 0 {
		return []uint64{}, nil
	}
	nw := words(n)
	mine := make([]uint64, nw) // bits past each x's n are not sent
	off := 0
	for _, x := range xs {
		putBitsAt(mine, off, x.X, x.N)
		off += x.N
	}
	peer, err := p.exchangeBits(mine, n)
	if err != nil {
		return nil, err
	}
	off = 0
	for _, x := range xs {
		p.record(x.M[:x.N], x.K[:x.N], bitsAt(peer, off, x.N))
		off += x.N
	}
	out := make([]uint64, nw)
	for w := range out {
		out[w] = mine[w] ^ peer[w]
	}
	return out, nil
}

// exchangeBits is Open's message: it sends this party's n opened shares (mine, bits
// from n on zero) and returns the peer's (bits from n on cleared: they carry nothing).
// The caller records the MACs (record).
func (p *Party) exchangeBits(mine []uint64, n int) ([]uint64, error) {
	nw := words(n)
	msg := make([]byte, 8*nw)
	for w, v := range mine[:nw] {
		binary.LittleEndian.PutUint64(msg[8*w:], v)
	}
	if err := p.send(msg); err != nil {
		return nil, err
	}
	in, err := p.recv("opened bits", 8*nw)
	if err != nil {
		return nil, err
	}
	peer := make([]uint64, nw)
	for w := range peer {
		peer[w] = binary.LittleEndian.Uint64(in[8*w:])
	}
	clearTail(peer, n)
	return peer, nil
}

// putBitsAt ORs the n low bits of src into dst from bit offset off (dst zero there).
func putBitsAt(dst []uint64, off int, src []uint64, n int) {
	s := uint(off % 64)
	for w := range words(n) {
		v := src[w]
		if w == words(n)-1 && n%64 != 0 {
			v &= 1<<(n%64) - 1
		}
		d := off/64 + w
		dst[d] |= v << s
		if s != 0 && d+1 < len(dst) {
			dst[d+1] |= v >> (64 - s)
		}
	}
}

// bitsAt returns bits [off, off+n) of x as words from bit 0: x itself when off is 0 (the
// bits past n may then be set), else sliceBits.
func bitsAt(x []uint64, off, n int) []uint64 {
	if off == 0 {
		return x
	}
	return sliceBits(x, off, off+n)
}

// record appends D[j] = M[j] xor K[j] xor peer[j]*Delta of every opened bit to the check
// hash.
func (p *Party) record(m, k []ot.Block, peer []uint64) {
	const chunk = 4096
	buf := make([]byte, 16*min(chunk, len(m)))
	d := p.delta
	for lo := 0; lo < len(m); lo += chunk {
		hi := min(len(m), lo+chunk)
		b := buf[:16*(hi-lo)]
		for j := lo; j < hi; j++ {
			s := mask(peer, j)
			putBlock(b[16*(j-lo):], ot.Block{m[j][0] ^ k[j][0] ^ d[0]&s, m[j][1] ^ k[j][1] ^ d[1]&s})
		}
		p.sym.Write(b)
	}
	p.pending = true
}

func putBlock(b []byte, x ot.Block) {
	binary.LittleEndian.PutUint64(b, x[0])
	binary.LittleEndian.PutUint64(b[8:], x[1])
}

// Check verifies the MACs of every bit opened since the last Check (and the values the
// triple generation asks both parties to agree on): errs.Cheating if the peer cheated.
// Both parties call it; three messages in all (none if nothing is pending).
func (p *Party) Check() error {
	if !p.pending {
		return nil
	}
	v := p.sym.Sum(nil)
	p.resetCheck()
	return p.equal(v)
}

func commit(rho, v []byte) []byte {
	h := sha256.New()
	h.Write([]byte("tinyot-eq"))
	h.Write(rho)
	h.Write(v)
	return h.Sum(nil)
}

// equal is the equality test of v (32 bytes) with the peer's value.
func (p *Party) equal(v []byte) error {
	if p.first {
		rho := make([]byte, 32)
		p.rng.Read(rho)
		if err := p.send(commit(rho, v)); err != nil {
			return err
		}
		v1, err := p.recv("check value", 32)
		if err != nil {
			return err
		}
		if err := p.send(append(rho, v...)); err != nil {
			return err
		}
		if !bytes.Equal(v1, v) {
			return errs.New(errs.Cheating, "tinyot: MAC check failed: party %d's check value differs", p.peer)
		}
		return nil
	}
	c, err := p.recv("check commitment", 32)
	if err != nil {
		return err
	}
	if err := p.send(v); err != nil {
		return err
	}
	open, err := p.recv("check opening", 64)
	if err != nil {
		return err
	}
	if !bytes.Equal(commit(open[:32], open[32:]), c) {
		return errs.New(errs.Cheating, "tinyot: MAC check failed: party %d's opening does not match its commitment", p.peer)
	}
	if !bytes.Equal(open[32:], v) {
		return errs.New(errs.Cheating, "tinyot: MAC check failed: party %d's check value differs", p.peer)
	}
	return nil
}
