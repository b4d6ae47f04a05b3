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
// Binary: every bit a party sends has a MAC under the other's key; the sender hashes
// (SHA-256) the MACs of all bits it sent since the last check, the
// receiver hashes the expected MACs K ^ b*Delta of the bits it received, and the two
// hashes are compared. A wrong bit needs the MAC M ^ Delta: the cheater must guess the
// Delta (probability 2^-64), or find a SHA-256 collision.

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
	ys, ms    []ring128.Vec // opened values and this party's MAC shares of them
	pending   int           // elements in ys
	sent, exp hash.Hash     // binary: MACs of sent bits, expected MACs of received bits
	bits      int64         // bits hashed since the last check
	buf       []byte
}

func (c *checker) reset() {
	c.ys, c.ms, c.pending, c.bits = nil, nil, 0, 0
	c.sent, c.exp = sha256.New(), sha256.New()
}

func (c *checker) empty() bool { return c.pending == 0 && c.bits == 0 }

// opened records a partially opened vector y and this party's MAC share of it.
func (c *checker) opened(y, m ring128.Vec) {
	c.ys = append(c.ys, y)
	c.ms = append(c.ms, m)
	c.pending += y.Len()
}

// flush feeds the buffer to h.
func (c *checker) flush(h hash.Hash) {
	h.Write(c.buf)
	c.buf = c.buf[:0]
}

// hashWords feeds words to h (little-endian).
func (c *checker) hashWords(h hash.Hash, v []uint64) {
	h.Write(ring.AsBytes(v))
}

// sentBits hashes the MACs of the bits this party sent: those of the XOR of xs.
func (c *checker) sentBits(xs ...*BShare) {
	c.buf = c.buf[:0]
	for i := range xs[0].m {
		var m uint64
		for _, x := range xs {
			m ^= x.m[i]
		}
		c.buf = binary.LittleEndian.AppendUint64(c.buf, m)
		if len(c.buf) >= 1<<16 {
			c.flush(c.sent)
		}
	}
	c.flush(c.sent)
	c.bits += int64(len(xs[0].m))
}

// recvBits hashes the expected MACs of the bits the other party sent (planes peer, its
// component of the XOR of xs): K ^ b*Delta with K the XOR of xs's keys.
func (c *checker) recvBits(peer []uint64, delta uint64, xs ...*BShare) {
	n, w := xs[0].n, xs[0].w
	W := (n + 63) / 64
	c.buf = c.buf[:0]
	for j := 0; j < w; j++ {
		for i := 0; i < n; i++ {
			q := j*n + i
			k := delta & mask(bitAt(peer, W, j, i))
			for _, x := range xs {
				k ^= x.k[q]
			}
			c.buf = binary.LittleEndian.AppendUint64(c.buf, k)
			if len(c.buf) >= 1<<16 {
				c.flush(c.exp)
			}
		}
	}
	c.flush(c.exp)
}

// macHash returns SHA-256 of the given MACs (one opening's check).
func macHash(m []uint64) []byte {
	h := sha256.Sum256(ring.AsBytes(m))
	return h[:]
}

// expectedHash returns macHash of the expected MACs K ^ b*Delta of the other party's bits
// (planes peer) of x.
func expectedHash(peer []uint64, delta uint64, x *BShare) []byte {
	W := (x.n + 63) / 64
	k := make([]uint64, len(x.k))
	for j := 0; j < x.w; j++ {
		for i := 0; i < x.n; i++ {
			k[j*x.n+i] = x.k[j*x.n+i] ^ delta&mask(bitAt(peer, W, j, i))
		}
	}
	return macHash(k)
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
	com := sha256.Sum256(append([]byte("spdz2k coin"), seed...))
	msg := append(com[:], c.sent.Sum(nil)...)
	peer, err := p.exchange("coin commitment", msg)
	if err != nil {
		return err
	}
	peerSeed, err := p.exchange("coin", seed)
	if err != nil {
		return err
	}
	var failed []string
	if got := sha256.Sum256(append([]byte("spdz2k coin"), peerSeed...)); !bytes.Equal(got[:], peer[:32]) {
		failed = append(failed, "coin commitment")
	}
	if !bytes.Equal(peer[32:], c.exp.Sum(nil)) {
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
