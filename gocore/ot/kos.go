package ot

// Maliciously secure OT extension: the consistency check of Keller, Orsini, Scholl,
// "Actively Secure OT Extension with Optimal Overhead" (CRYPTO 2015; the proof as corrected
// in the updated ePrint 2015/546), run on the rows of the SoftSpoken extension
// (softspoken.go) after the receiver's corrections. For SoftSpoken parameter k = 1 the
// extension is IKNP and this is exactly KOS's protocol. For k > 1 it follows Roy's malicious
// SoftSpokenOT (CRYPTO 2022), which generalises the KOS-style universal-hash check to the
// subspace VOLE: a malicious receiver's rows then deviate only within the k-bit blocks of s
// (one correction per block and OT), a subset of the deviations KOS's analysis covers,
// plus inconsistent GGM setup messages, which Roy's analysis treats as the receiver choosing
// the punctured seeds per value of Delta_b. We run the check on the corrected IKNP-form rows
// with a GF(2^128) hash (as libOTe-style implementations do) rather than on the
// uncorrected small-field VOLE; the literal KOS proof applies to k = 1.
//
// Roles as in softspoken.go: receiver R (choices), sender S (secret s). Per extension of n
// OTs, R extends N = 64*ceil(n/64) + KOSExtra rows, the last KOSExtra (= kappa + 64 = 192)
// with uniform choice bits of its own (KOS's kappa + s extra OTs, s = 64), discarded after
// the check. With x_j R's choice bits and t_j, q_j the rows (q_j = t_j xor x_j*s for an
// honest R):
//
//	challenge:  a 256-bit seed sigma = SHA-256(domain, sid, tweak base, N, R's extension
//	            message) (Fiat-Shamir in place of KOS's coin toss: sigma depends on all of
//	            R's extension message; sid is the hash of R's setup message of this
//	            direction, so challenges differ across sessions). sigma gives an AES key K and a
//	            GCM nonce; h = AES_K(0^128) is the hash point.
//	R -> S:     (tt, xx) appended to the extension message (32 bytes), with
//	            tt = G(t_0, ..., t_{N-1})  and  xx = G(t_0 xor x_0*1, ...) xor tt
//	            where G is GHASH with key h (the polynomial hash of AES-GCM: G(a) =
//	            sum_j a_j*h^{N+1-j} + L*h in GF(2^128), L the length block) and 1 the field's
//	            unit, so xx = sum_j x_j*h^{N+1-j} (the length terms cancel).
//	S:          accept iff G(q_0, ..., q_{N-1}) xor tt = s*xx (product in GF(2^128), GCM's
//	            representation; s's 16 little-endian bytes read as a field element);
//	            otherwise abort with an errs.Cheating error naming this check.
//
// This is KOS's check with chi_j = h^{N+1-j} (the powers of one uniform point: a polynomial
// hash, which is (N+1)/2^128-almost universal where independent chi_j are 2^-128-universal),
// computed by the standard library's carry-less-multiply GHASH: on amd64 its kernel copied
// into ghash_amd64.s, made incremental and given a VPCLMULQDQ loop (two blocks per
// instruction, sixteen per reduction), elsewhere crypto/cipher's GCM (the tag of an empty plaintext with the rows
// as additional data is G(rows) xor AES_K(J0), and AES_K(J0) is computed directly); the
// values are equal (TestGHASHIncMatchesPolyHash). S holds R's whole message before it
// extends, so it derives the challenge first and hashes its rows a tile at a time as the
// transpose writes them (while they are in cache); R's message only exists after its
// extension, so R hashes its rows after it.
//
// Security (malicious, computational kappa = 128, statistical s = 64 in the check's
// parameters; the claimed statistical security is 40 bits, see below):
//   - Malicious S: S sends nothing in the extension; it receives tt and xx, which are
//     uniform given its view: xx = sum x_j h^{e_j} includes the 192 extra rows' choice bits,
//     and the map from those bits to GF(2^128) is onto except with probability about 2^-64
//     (it is onto whenever h lies in no proper subfield, since h^a*{1, h, ..., h^127} is then
//     a basis), so xx is uniform and hides the real choices; tt = G(q) xor s*xx is
//     determined by S's view and xx. Hence the check reveals nothing about the choice bits.
//   - Malicious R: whatever it sends (inconsistent corrections d_b across blocks, arbitrary
//     GGM level sums in the setup, wrong tt or xx), KOS's (and Roy's) analysis gives: the
//     check passes only if R's deviation is cancelled by correct guesses of bits of s, and
//     then R has learned exactly those bits; a deviation that guesses m bits passes with
//     probability at most 2^-m (plus the hash's collision term, at most (N+1)/2^128 per
//     challenge). A passing R that learned m bits faces the TCR hash (hash.go) with 128 - m
//     unknown bits of s, so the outputs it was not entitled to stay hidden with
//     computational security about 128 - m; an R that aims for more than 40 bits is caught
//     except with probability 2^-40 (the statistical parameter we claim). Deviations that
//     guess nothing are caught: a wrong d_b for any OT with block b of s nonzero fails the
//     check (probability 1 - 2^-k per tampered block for k-bit blocks, the inherent
//     selective-abort leakage of OT extension).
//   - Fiat-Shamir: R can grind its extension message for a favourable h, trying q
//     challenges (q SHA-256 evaluations); the collision term becomes q*(N+1)/2^128, below
//     2^-40 for q < 2^64 and N < 2^23 (one batch), a random-oracle argument for SHA-256.
//   - Delta-COT (deltacot.go) hands out the raw rows: the 2^-m leakage of s above then applies to
//     the global key Delta = s itself, as in KOS's Delta-OT; the consumers (TinyOT-style
//     MACs) must tolerate a few guessed bits of Delta with matching abort probability.
//
// Base OTs: Chou-Orlandi (baseot.go) with the whole transcript (A, B_i) in the KDF; its
// security against active adversaries is argued in the random-oracle model (the key of a
// malicious base-OT sender, R here, is simply whatever R chose, which the check covers).
//
// Cost: KOSExtra extra OTs and 32 bytes per extension (one per call, or per batch of a
// batched call), one SHA-256 pass over R's extension message on each side, one GHASH pass
// over the rows on each side (at S fused into the extension's tiles; plus, at R, a
// table-driven pass over its choice bits for large extensions, a second GHASH pass for small
// ones). No extra round.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
)

// KOSExtra is the number of extra OTs a malicious extension runs for the consistency check
// (kappa + 64).
const KOSExtra = Kappa + 64

// kosCheckBytes is the size of the check message (tt, xx) appended to the extension message.
const kosCheckBytes = 32

// kosRows is the number of rows N a malicious extension of n OTs extends.
func kosRows(n int) int { return 64*words(n) + KOSExtra }

// extendRows is the number of rows the session's extension of n OTs writes: kosRows(n)
// on a malicious session, n otherwise.
func (s *Session) extendRows(n int) int {
	if s.mal {
		return kosRows(n)
	}
	return n
}

// gfOne is the unit of GF(2^128) in GCM's bit order (byte 0 = 0x80), as a Block read from
// little-endian bytes.
var gfOne = Block{0x80, 0}

// polyHash is GHASH with the key derived from one check's seed.
type polyHash struct {
	seed  [32]byte
	aead  cipher.AEAD
	nonce [12]byte
	ej0   [16]byte // AES_K(J0), the mask of GCM's tag
	tag   []byte
}

// kosSeed is the Fiat-Shamir challenge seed of one extension.
func kosSeed(sid [32]byte, base uint64, nrows int, msg []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("qmpc/ot KOS check v1"))
	h.Write(sid[:])
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], base)
	binary.LittleEndian.PutUint64(b[8:], uint64(nrows))
	h.Write(b[:])
	h.Write(msg)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func newPolyHash(seed [32]byte) *polyHash {
	blk, err := aes.NewCipher(seed[:16])
	if err != nil {
		panic("ot: " + err.Error()) // impossible: the key has a valid size
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		panic("ot: " + err.Error())
	}
	p := &polyHash{seed: seed, aead: aead}
	copy(p.nonce[:], seed[16:28])
	var j0 [16]byte
	copy(j0[:], p.nonce[:])
	j0[15] = 1
	blk.Encrypt(p.ej0[:], j0[:])
	return p
}

// sum returns G(rows), GHASH over the rows' little-endian bytes (and the length block):
// by the incremental GHASH of ghash_amd64.go where it runs, else by the standard library.
func (p *polyHash) sum(rows []Block) [16]byte {
	if g := newGHASHInc(p.seed); g != nil {
		g.write(rows)
		return g.sum()
	}
	return p.sumGCM(rows)
}

// sumGCM is sum by crypto/cipher's GCM (the tag of an empty plaintext).
func (p *polyHash) sumGCM(rows []Block) [16]byte {
	var aad []byte
	if len(rows) > 0 {
		if littleEndian {
			aad = blockBytes(rows)
		} else {
			aad = make([]byte, 16*len(rows))
			for j, r := range rows {
				putBlock(aad[16*j:], r)
			}
		}
	}
	p.tag = p.aead.Seal(p.tag[:0], p.nonce[:], nil, aad)
	var g [16]byte
	subtle.XORBytes(g[:], p.tag, p.ej0[:])
	return g
}

// gfMul multiplies two elements of GF(2^128) in GCM's representation (NIST SP 800-38D,
// Algorithm 1: bit 0 is the most significant bit of byte 0, the polynomial x^128 + x^7 +
// x^2 + x + 1). Constant time. Used once per check.
func gfMul(x, y [16]byte) [16]byte {
	xh, xl := binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(x[8:])
	vh, vl := binary.BigEndian.Uint64(y[:8]), binary.BigEndian.Uint64(y[8:])
	var zh, zl uint64
	for i := range 128 {
		var bit uint64
		if i < 64 {
			bit = xh >> (63 - i) & 1
		} else {
			bit = xl >> (127 - i) & 1
		}
		m := -bit
		zh ^= vh & m
		zl ^= vl & m
		lsb := vl & 1
		vl = vl>>1 | vh<<63
		vh = vh>>1 ^ (0xe1<<56)&-lsb
	}
	var z [16]byte
	binary.BigEndian.PutUint64(z[:8], zh)
	binary.BigEndian.PutUint64(z[8:], zl)
	return z
}

// kosProve is R's side: for rows t (N of them) with choice bits x it returns (tt, xx),
// 32 bytes. t is restored before returning. Large extensions compute xx from x directly
// (xxTables) instead of a second GHASH pass.
func kosProve(seed [32]byte, t []Block, x []uint64) []byte {
	p := newPolyHash(seed)
	tt := p.sum(t)
	var xx [16]byte
	if len(t) >= xxTableRows {
		var h, zero [16]byte
		blk, _ := aes.NewCipher(seed[:16])
		blk.Encrypt(h[:], zero[:])
		xx = xxTables(h, x[:len(t)/64])
	} else {
		xx = xxGHASH(p, tt, t, x)
	}
	return append(tt[:], xx[:]...)
}

// xxGHASH returns sum_j x_j*h^{N+1-j} as G(t xor x*1) xor G(t) (two GHASH passes; t is
// restored).
func xxGHASH(p *polyHash, tt [16]byte, t []Block, x []uint64) [16]byte {
	for j := range t {
		m := -(x[j/64] >> (j % 64) & 1)
		t[j][0] ^= gfOne[0] & m
	}
	xx := p.sum(t)
	for j := range t {
		m := -(x[j/64] >> (j % 64) & 1)
		t[j][0] ^= gfOne[0] & m
	}
	subtle.XORBytes(xx[:], xx[:], tt[:])
	return xx
}

// xxTableRows is the extension size from which xxTables (a fixed cost of about 200 field
// multiplications and 6,000 table entries, then under a nanosecond per row) beats the
// second GHASH pass.
const xxTableRows = 1 << 14

// gf is an element of GF(2^128) in GCM's representation as two big-endian words of its
// 16-byte string.
type gf struct{ h, l uint64 }

func gfOf(b [16]byte) gf { return gf{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])} }

func (a gf) bytes() (b [16]byte) {
	binary.BigEndian.PutUint64(b[:8], a.h)
	binary.BigEndian.PutUint64(b[8:], a.l)
	return b
}

func (a gf) mul(b gf) gf { return gfOf(gfMul(a.bytes(), b.bytes())) }

// xxTables returns sum_j x_j*h^{N+1-j} for the N = 64*len(x) choice bits x by Horner's rule
// over words: with Y_w = sum_{i<64} x_{64w+i}*h^{65-i} (8 lookups in tables of the
// byte-wise partial sums), xx = sum_w Y_w*(h^64)^{W-1-w}, and the multiplication by the fixed
// h^64 is 16 lookups in tables of (byte value at position b)*h^64.
func xxTables(hb [16]byte, x []uint64) [16]byte {
	h := gfOf(hb)
	// pow[e] = h^e for e = 2..65.
	var pow [66]gf
	pow[1] = h
	for e := 2; e <= 65; e++ {
		pow[e] = pow[e-1].mul(h)
	}
	var yt [8][256]gf // yt[b][v] = sum over bits t of v of h^{65-8b-t}
	for b := range 8 {
		for v := 1; v < 256; v++ {
			t := bits.TrailingZeros(uint(v))
			p, q := yt[b][v&(v-1)], pow[65-8*b-t]
			yt[b][v] = gf{p.h ^ q.h, p.l ^ q.l}
		}
	}
	h64 := pow[64]
	var mt [16][256]gf // mt[b][v] = (the element whose byte b is v, others 0)*h^64
	for b := range 16 {
		for t := range 8 {
			var e gf
			if b < 8 {
				e.h = 1 << (56 - 8*b + t)
			} else {
				e.l = 1 << (56 - 8*(b-8) + t)
			}
			mt[b][1<<t] = e.mul(h64)
		}
		for v := 1; v < 256; v++ {
			if v&(v-1) == 0 {
				continue
			}
			p, q := mt[b][v&(v-1)], mt[b][v&-v]
			mt[b][v] = gf{p.h ^ q.h, p.l ^ q.l}
		}
	}
	var acc gf
	for _, xw := range x {
		var n gf // acc*h^64
		for b := range 8 {
			p := mt[b][acc.h>>(56-8*b)&0xff]
			q := mt[8+b][acc.l>>(56-8*b)&0xff]
			n.h ^= p.h ^ q.h
			n.l ^= p.l ^ q.l
		}
		for b := range 8 {
			y := yt[b][xw>>(8*b)&0xff]
			n.h ^= y.h
			n.l ^= y.l
		}
		acc = n
	}
	return acc.bytes()
}

// kosVerify is S's side: it checks G(q) xor tt = s*xx.
func kosVerify(seed [32]byte, q []Block, s Block, check []byte) bool {
	return kosVerifySum(newPolyHash(seed).sum(q), s, check)
}

// kosVerifySum is kosVerify given gq = G(q).
func kosVerifySum(gq [16]byte, s Block, check []byte) bool {
	var sb, xx [16]byte
	putBlock(sb[:], s)
	copy(xx[:], check[16:32])
	rhs := gfMul(sb, xx)
	subtle.XORBytes(gq[:], gq[:], check[:16])
	return subtle.ConstantTimeCompare(gq[:], rhs[:]) == 1
}

// rcvCheat lets tests play a malicious receiver whose message is consistent with the
// transcript (the challenge is computed over the altered message): body alters the
// extension message (N rows) before the challenge, check alters (tt, xx) after it. Nil in
// every session outside the package's tests.
type rcvCheat struct {
	body  func(msg []byte, nrows int)
	check func(seed [32]byte, nrows int, check []byte)
}

// rcvExtend is the receiver's extension of n OTs for every operation of the session: the
// semi-honest extension, or on a malicious session the extension of kosRows(n) rows with
// the check appended to the message. c are the chosen choice bits (at least words(n)
// words) or nil for random choices; it returns the choices (for random choices, uniform
// with the bits from n on cleared), the first n rows, the tweak base and the message.
func (s *Session) rcvExtend(c []uint64, n int) ([]uint64, []Block, uint64, []byte) {
	return s.rcvExtendInto(nil, c, n)
}

// rcvExtendInto is rcvExtend writing the rows into dst when it holds extendRows(n) of
// them (the rows from n on are the KOS check's, overwritten by a next batch).
func (s *Session) rcvExtendInto(dst []Block, c []uint64, n int) ([]uint64, []Block, uint64, []byte) {
	if !s.mal {
		return s.rcv.extendInto(dst, c, n)
	}
	N := kosRows(n)
	nw := words(n)
	var x []uint64
	if c != nil {
		x = make([]uint64, words(N))
		copy(x, c[:nw])
		s.rng.Fill(x[nw:])
	}
	x, t, base, msg := s.rcv.extendInto(dst, x, N)
	if s.cheat != nil && s.cheat.body != nil {
		s.cheat.body(msg, N)
	}
	seed := kosSeed(s.sid[1], base, N, msg)
	msg = append(msg, kosProve(seed, t, x)...)
	if s.cheat != nil && s.cheat.check != nil {
		s.cheat.check(seed, N, msg[len(msg)-kosCheckBytes:])
	}
	if c == nil {
		c = x[:nw:nw]
		if n%64 != 0 {
			c[nw-1] &= 1<<(n%64) - 1
		}
	}
	return c, t[:n:n], base, msg
}

// sndExtend is the sender's end of rcvExtend: on a malicious session it verifies the check
// before any output is computed and returns an errs.Cheating error if it fails.
func (s *Session) sndExtend(msg []byte, n int, random bool) ([]Block, uint64, error) {
	return s.sndExtendInto(nil, msg, n, random)
}

// sndExtendInto is sndExtend writing the rows into dst when it holds extendRows(n) of
// them.
func (s *Session) sndExtendInto(dst []Block, msg []byte, n int, random bool) ([]Block, uint64, error) {
	if !s.mal {
		return s.snd.extendInto(dst, msg, n, random)
	}
	N := kosRows(n)
	if want := msgLen(s.snd.k, N, random) + kosCheckBytes; len(msg) != want {
		return nil, 0, errs.New(errs.Party, "ot: malicious extension message has %d bytes, want %d for %d OTs", len(msg), want, n)
	}
	body, check := msg[:len(msg)-kosCheckBytes], msg[len(msg)-kosCheckBytes:]
	// S holds R's whole message, so the challenge is known before the extension, which then
	// hashes its rows for the check a tile at a time while they are in cache (where the
	// incremental GHASH runs; else one pass over the batch after it). Same value either way.
	seed := kosSeed(s.sid[0], s.snd.ctr, N, body)
	g := newGHASHInc(seed)
	q, base, err := s.snd.extendHashed(dst, body, N, random, g)
	if err != nil {
		return nil, 0, err
	}
	var gq [16]byte
	if g != nil {
		gq = g.sum()
	} else {
		gq = newPolyHash(seed).sum(q)
	}
	if !kosVerifySum(gq, s.snd.s, check) {
		return nil, 0, errs.New(errs.Cheating, "ot: KOS consistency check of the OT extension failed: party %d sent rows inconsistent with its choice bits (%d OTs at tweak %d)", s.peer, n, base)
	}
	return q[:n:n], base, nil
}
