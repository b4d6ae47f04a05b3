package spdz2k

// The checks of spdz2k (the rounds are in the package doc):
//
// Arithmetic: SPDZ2k's batched MAC check (Cramer et al., CRYPTO 2018, Figure 3). Every
// partially opened y_j (Beaver's E and F, A2B's masked c, Open's y) is kept with this
// party's MAC share m_ij. After all of them are fixed, a coin gives chi_j uniform in
// Z_2^64 = Z_2^s; each party commits to z_i = sum_j chi_j m_ij - alpha_i sum_j chi_j y_j
// and then opens it; the check passes iff z_0 + z_1 = 0 mod 2^128. If a party changed an
// opened value by e_j (mod 2^128, not all e_j = 0 mod 2^64) and the MAC shares by f_j, the
// check passes iff alpha * sum chi_j e_j = sum chi_j f_j, which happens with probability
// at most 2^(-s + log2(s+1)) over chi and alpha (SPDZ2k, Lemma 1 and Theorem 1). The
// coin is commit-then-reveal (SHA-256 of a 32-byte random seed): neither party can bias
// it after seeing the other's.
//
// Binary: every bit a party sends has a MAC under the other's key. For every bit of an
// opened share, party i computes D_i = M_i ^ K_i ^ b_j*Delta_i (its MAC of the bit it
// sent, its key of the bit it received, the received bit b_j); when both parties sent
// their true bits, D_0 = D_1 (both are the XOR of the two MAC relations), so the parties
// compare SHA-256 hashes of all their D since the last check (tinyot's one-hash check).
// A wrong bit changes the cheater's required D by the other's Delta: it must guess Delta
// (probability 2^-64) or find a SHA-256 collision. The hash travels inside the coin's
// commitment, so neither party can echo the other's.
//
// Folding (the bits of AND gates, andFinish, and of masked openings, openedBits): instead
// of the m <= 64 D values of a word of opened bits of one plane, both parties hash their
// fold F = sum_u X^(m-1-u) D_u in GF(2^64) = GF(2)[X]/(X^64 + X^4
// + X^3 + X + 1) (the polynomial of NIST SP 800-38B's 64-bit CMAC; D_u read as field
// elements; Horner's rule, multiplying by X is a shift and a conditional XOR). The check
// keeps its bound: the honest party's D_u is the expected value XOR e_u*Delta, e_u in
// {0, 1} saying whether the other party flipped the bit it sent, so its fold is the
// expected fold plus Delta*E with E = sum_u e_u X^(m-1-u) (folding is GF(2^64)-linear).
// E is a polynomial of degree below 64, hence a nonzero field element whenever some e_u
// = 1, and Delta*E is then uniform to the cheater, who must guess it (2^-64) to send a
// matching hash, exactly as it must guess e_u*Delta without folding. A sum with plain
// XOR would not do: two flipped bits would cancel. The fold cuts the hashed bytes 64
// times (SHA-256 was a quarter of the online CPU; BENCHMARKS.md, session 7).

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// checker holds what the next check covers.
type checker struct {
	ys, ms  []ring128.Vec // opened values and this party's MAC shares of them
	pending int           // elements in ys
	d       hash.Hash     // binary: the D values of every opened bit
	bits    int64         // bits hashed since the last check
}

func (c *checker) reset() {
	c.ys, c.ms, c.pending, c.bits = nil, nil, 0, 0
	c.d = sha256.New()
}

func (c *checker) empty() bool { return c.pending == 0 && c.bits == 0 }

// opened records a partially opened vector y and this party's MAC share of it.
func (c *checker) opened(y, m ring128.Vec) {
	c.ys = append(c.ys, y)
	c.ms = append(c.ms, m)
	c.pending += y.Len()
}

// hashD feeds D values to the binary check.
func (c *checker) hashD(v []uint64) {
	c.d.Write(ring.AsBytes(v))
	c.bits += int64(len(v))
}

// gf64Poly is X^4 + X^3 + X + 1: GF(2^64) is GF(2)[X]/(X^64 + gf64Poly) (the folds).
const gf64Poly = 0x1b

// foldD returns the fold of D values (the check's doc): sum_u X^(len(d)-1-u) d[u] in
// GF(2^64), for len(d) <= 64.
func foldD(d []uint64) uint64 {
	var h uint64
	for _, v := range d {
		h = h<<1 ^ gf64Poly&-(h>>63) ^ v
	}
	return h
}

// hashFolded feeds folded D values that cover bits opened bits (andFinish).
func (c *checker) hashFolded(f []uint64, bits int) {
	c.d.Write(ring.AsBytes(f))
	c.bits += int64(bits)
}

// openedBits feeds the D values of the opened share s (the other party's component
// planes peer) to the binary check: M ^ K ^ b*Delta per bit, folded per word of 64 bits
// of a plane (foldD).
func (c *checker) openedBits(s *BShare, peer []uint64, delta uint64) {
	W := ring.Words(s.n)
	f := make([]uint64, s.w*W)
	for j := 0; j < s.w; j++ {
		for i := 0; i < s.n; i += 64 {
			word := peer[j*W+i/64]
			q := j*s.n + i
			m := s.m[q : q+min(64, s.n-i)]
			k := s.k[q:][:len(m)]
			var h uint64
			for u := range m {
				h = h<<1 ^ gf64Poly&-(h>>63) ^ m[u] ^ k[u] ^ delta&-(word>>u&1)
			}
			f[j*W+i/64] = h
		}
	}
	c.hashFolded(f, s.n*s.w)
}

// macHash returns SHA-256 of the given MACs (one opening's check).
func macHash(m []uint64) []byte {
	h := sha256.Sum256(ring.AsBytes(m))
	return h[:]
}

// expectedMACs returns the MACs K ^ b*Delta that the other party's bits b (planes peer)
// of x must carry under this party's keys.
func expectedMACs(peer []uint64, delta uint64, x *BShare) []uint64 {
	k := make([]uint64, len(x.k))
	forBits(peer, x.n, x.w, func(q int, m uint64) { k[q] = x.k[q] ^ delta&m })
	return k
}

// maybeVerify runs the check when the list of opened values is long.
func (p *Protocol) maybeVerify() error {
	if p.check.pending >= maxPending {
		return p.Verify()
	}
	return nil
}

// Verify checks every partial opening and every sent bit since the last check (5
// rounds; nothing when nothing is pending). It returns an errs.Cheating error at both
// parties if either check fails at either party.
func (p *Protocol) Verify() error {
	if p.check.empty() {
		return nil
	}
	return p.runCheck()
}

// runCheck is Verify's protocol.
func (p *Protocol) runCheck() error {
	c := &p.check
	defer c.reset()
	// Rounds 1 and 2: the coin (commit, reveal) and the binary hashes.
	seed := make([]byte, 32)
	p.rng.Read(seed)
	open1 := append(seed, c.d.Sum(nil)...)
	com := sha256.Sum256(append([]byte("spdz2k coin"), open1...))
	peerCom, err := p.exchange("coin commitment", com[:])
	if err != nil {
		return err
	}
	peerOpen, err := p.exchange("coin", open1)
	if err != nil {
		return err
	}
	peerSeed := peerOpen[:32]
	var failed []string
	if got := sha256.Sum256(append([]byte("spdz2k coin"), peerOpen...)); !bytes.Equal(got[:], peerCom) {
		failed = append(failed, "coin commitment")
	} else if !bytes.Equal(peerOpen[32:], open1[32:]) {
		failed = append(failed, "binary MACs")
	}
	// The coefficients and z_i.
	seeds := [2][]byte{seed, peerSeed}
	if p.id == 1 {
		seeds = [2][]byte{peerSeed, seed}
	}
	key := sha256.Sum256(append(append([]byte("spdz2k chi"), seeds[0]...), seeds[1]...))
	var k prg.Key
	copy(k[:], key[:])
	g := prg.New(k)
	var y, m ring128.Scalar
	for j := range c.ys {
		chi := g.Uint64s(c.ys[j].Len())
		y = y.Add(ring128.Dot(c.ys[j], chi))
		m = m.Add(ring128.Dot(c.ms[j], chi))
	}
	z := m.Sub(y.Mul(ring128.Scalar{Lo: p.alpha}))
	// Rounds 3 and 4: commit to z_i, then open it.
	open := make([]byte, 48)
	binary.LittleEndian.PutUint64(open[0:], z.Lo)
	binary.LittleEndian.PutUint64(open[8:], z.Hi)
	p.rng.Read(open[16:])
	zc := sha256.Sum256(append([]byte("spdz2k z"), open...))
	peerC, err := p.exchange("MAC check commitment", zc[:])
	if err != nil {
		return err
	}
	peerZ, err := p.exchange("MAC check value", open)
	if err != nil {
		return err
	}
	if got := sha256.Sum256(append([]byte("spdz2k z"), peerZ...)); !bytes.Equal(got[:], peerC) {
		failed = append(failed, "MAC check commitment")
	} else {
		zp := ring128.Scalar{Lo: binary.LittleEndian.Uint64(peerZ[0:]), Hi: binary.LittleEndian.Uint64(peerZ[8:])}
		if z.Add(zp) != (ring128.Scalar{}) {
			failed = append(failed, "arithmetic MACs")
		}
	}
	return p.verdict(failed)
}

// verdict exchanges this party's verdict (round 5): both return errs.Cheating if
// either found a failed check.
func (p *Protocol) verdict(failed []string) error {
	v := []byte{1}
	if len(failed) > 0 {
		v[0] = 0
	}
	peer, err := p.exchange("verdict", v)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return errs.New(errs.Cheating, "spdz2k party %d: check failed: %v (party %d cheated)", p.id, failed, p.other)
	}
	if peer[0] != 1 {
		return errs.New(errs.Cheating, "spdz2k party %d: party %d reports a failed check", p.id, p.other)
	}
	return nil
}
