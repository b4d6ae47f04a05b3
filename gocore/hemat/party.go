package hemat

import (
	"encoding/binary"
	"io"
	"math/bits"
	"sync/atomic"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// SeedSize is the size of the seed that replaces a uniform polynomial on the wire.
const SeedSize = prg.KeySize

// SecretKey is a party's secret key s (ternary), kept in NTT and Montgomery form, with
// its own public key (uploads are public-key encryptions, the form the proofs prove).
type SecretKey struct {
	p  *Params
	sM ring.Poly
	pk *PublicKey
}

// PublicKey is (b, a) with b = -a s + e, a expanded from Seed, and the proof of
// knowledge of a ternary-bounded s and a small e (zk.go). It also counts the response
// polynomials Respond has made under it (at most MaxResponses: the flooding's
// 2^-StatBits per response polynomial adds up to 2^-KeyStatBits per key pair), so the
// responder must parse its peer's key once per session and use that value for every
// upload of the session.
type PublicKey struct {
	Seed      prg.Key
	b, a      ring.Poly    // NTT form
	proof     []byte       // the key's proof
	digest    []byte       // statementDigest of seed and b: binds the uploads' proofs to the key
	responses atomic.Int64 // response polynomials made under this key
}

// Responses is the number of response polynomials made under pk so far.
func (pk *PublicKey) Responses() int64 { return pk.responses.Load() }

// reserve counts n more response polynomials under pk, or refuses (counting nothing) if
// that would exceed limit.
func (pk *PublicKey) reserve(n, limit int64) error {
	for {
		c := pk.responses.Load()
		if c+n > limit {
			return errs.New(errs.Config, "hemat Respond: %d response polynomials under this public key after %d: at most %d response polynomials per key pair; start a new session", n, c, limit)
		}
		if pk.responses.CompareAndSwap(c, c+n) {
			return nil
		}
	}
}

func newPRG(rnd io.Reader) (*prg.PRG, error) {
	k, err := prg.ReadKey(rnd)
	if err != nil {
		return nil, errs.New(errs.Internal, "hemat: randomness: %v", err)
	}
	return prg.New(k), nil
}

func (p *Params) gaussian(g *prg.PRG) ring.Sampler {
	return ring.NewGaussianSampler(g, p.r, ring.DiscreteGaussian{Sigma: Sigma, Bound: ErrBound}, false)
}

func (p *Params) ternary(g *prg.PRG) (ring.Sampler, error) {
	s, err := ring.NewTernarySampler(g, p.r, ring.Ternary{P: 2.0 / 3}, false)
	if err != nil {
		return nil, errs.New(errs.Internal, "hemat: ternary sampler: %v", err)
	}
	return s, nil
}

// uniform expands a seed into a uniform polynomial (read as NTT form).
func (p *Params) uniform(seed prg.Key) ring.Poly {
	a := p.r.NewPoly()
	ring.NewUniformSampler(prg.New(seed), p.r).Read(a)
	return a
}

// KeyGen draws a key pair from rnd (crypto/rand in production) and proves the public
// key well-formed.
func (p *Params) KeyGen(rnd io.Reader) (*SecretKey, *PublicKey, error) {
	g, err := newPRG(rnd)
	if err != nil {
		return nil, nil, err
	}
	ts, err := p.ternary(g)
	if err != nil {
		return nil, nil, err
	}
	seed, err := prg.ReadKey(rnd)
	if err != nil {
		return nil, nil, errs.New(errs.Internal, "hemat: randomness: %v", err)
	}
	s := p.smallInts(ts.ReadNew())
	e := p.smallInts(p.gaussian(g).ReadNew())
	return p.keyFromWitness(seed, s, e, rnd, false)
}

// keyFromWitness makes the key pair of secret s and error e (tests use other values
// than KeyGen's) and its proof (force: tests only, see relation.prove).
func (p *Params) keyFromWitness(seed prg.Key, s, e []int64, rnd io.Reader, force bool) (*SecretKey, *PublicKey, error) {
	pk := &PublicKey{Seed: seed, a: p.uniform(seed), b: p.r.NewPoly()}
	rel := p.keyRelation(pk.a)
	rel.apply([][]int64{s, e}, []ring.Poly{pk.b})
	pk.digest = p.keyDigest(pk)
	var err error
	if pk.proof, err = rel.prove(pk.digest, [][][]int64{{s, e}}, rnd, force); err != nil {
		return nil, nil, err
	}
	sM := p.r.NewPoly()
	p.setSigned(sM, s)
	p.r.NTT(sM, sM)
	p.r.MForm(sM, sM)
	return &SecretKey{p: p, sM: sM, pk: pk}, pk, nil
}

// keyDigest hashes the public key's seed and b.
func (p *Params) keyDigest(pk *PublicKey) []byte {
	w := &bitWriter{}
	for i := 0; i < Primes; i++ {
		w.writeAll(pk.b.Coeffs[i], p.qBits[i])
	}
	return statementDigest("qmpc hemat public key v1", pk.Seed[:], w.flush())
}

// PublicKeyBytes is the size of a serialized public key: seed, b and the key's proof.
func (p *Params) PublicKeyBytes() int {
	return SeedSize + p.polyBytes(Primes, N) + p.keyRelation(ring.Poly{}).proofBytes(1)
}

// MarshalPublicKey serializes pk (seed, b and its proof).
func (p *Params) MarshalPublicKey(pk *PublicKey) []byte {
	w := &bitWriter{buf: append(make([]byte, 0, p.PublicKeyBytes()), pk.Seed[:]...)}
	for i := 0; i < Primes; i++ {
		w.writeAll(pk.b.Coeffs[i], p.qBits[i])
	}
	return append(w.flush(), pk.proof...)
}

// UnmarshalPublicKey parses a public key, checking every residue and the key's proof
// (an errs.Cheating error if the proof fails).
func (p *Params) UnmarshalPublicKey(data []byte) (*PublicKey, error) {
	if len(data) != p.PublicKeyBytes() {
		return nil, errs.New(errs.Party, "hemat: public key of %d bytes, want %d", len(data), p.PublicKeyBytes())
	}
	pk := &PublicKey{}
	copy(pk.Seed[:], data)
	pk.a = p.uniform(pk.Seed)
	pk.b = p.r.NewPoly()
	nb := p.polyBytes(Primes, N)
	rd := &bitReader{buf: data[SeedSize : SeedSize+nb]}
	for i := 0; i < Primes; i++ {
		if err := rd.readAll(pk.b.Coeffs[i], p.qBits[i], p.q[i]); err != nil {
			return nil, errs.New(errs.Party, "hemat: public key: %v", err)
		}
	}
	pk.proof = data[SeedSize+nb:]
	pk.digest = p.keyDigest(pk)
	bc := p.r.NewPoly()
	p.r.INTT(pk.b, bc)
	if err := p.keyRelation(pk.a).verify(pk.digest, [][]ring.Poly{{bc}}, pk.proof); err != nil {
		return nil, errs.New(errs.Cheating, "hemat: public key: %v", err)
	}
	return pk, nil
}

// polyBytes is the size of count coefficients of the first primes primes, bit-packed.
func (p *Params) polyBytes(primes, count int) int {
	b := 0
	for i := 0; i < primes; i++ {
		b += count * p.qBits[i]
	}
	return (b + 7) / 8
}

// ciphertextBytes is the size of one upload ciphertext: c0 and c1 modulo Q.
func (p *Params) ciphertextBytes() int { return 2 * p.polyBytes(Primes, N) }

// proofGroups splits an upload's polynomials into the proofs' groups of at most
// MaxProofCiphertexts: group g covers [lo, hi).
func proofGroups(xPolys int) [][2]int {
	var gs [][2]int
	for lo := 0; lo < xPolys; lo += MaxProofCiphertexts {
		gs = append(gs, [2]int{lo, min(xPolys, lo+MaxProofCiphertexts)})
	}
	return gs
}

// UploadBytes is the size of the encrypted factor for plan pl: per polynomial a
// ciphertext (c0, c1 modulo Q), and per group of at most MaxProofCiphertexts its proof.
func (p *Params) UploadBytes(pl *Plan) int {
	n := pl.XPolys * p.ciphertextBytes()
	rel := p.ctRelation(nil)
	for _, g := range proofGroups(pl.XPolys) {
		n += rel.proofBytes(g[1] - g[0])
	}
	return n
}

// ResponseBytes is the size of the response for plan pl: per response polynomial c1 and
// the wanted coefficients of c0, modulo Q'.
func (p *Params) ResponseBytes(pl *Plan) int {
	b := 0
	for _, o := range pl.outs {
		b += p.polyBytes(p.outPrimes, N+len(o.wanted))
	}
	return b
}

// uploadDigest is the statement digest of a group of an upload: the encryptor's key,
// the plan, the group and its ciphertexts.
func uploadDigest(pk *PublicKey, pl *Plan, g int, cts []byte) []byte {
	var gb [8]byte
	binary.LittleEndian.PutUint64(gb[:], uint64(g))
	return statementDigest("qmpc hemat upload v1", pk.digest, []byte(pl.Name), gb[:], cts)
}

// Encrypt encrypts the factor x of plan pl (its encrypted factor, EncLen elements)
// under the encryptor's own public key and proves the ciphertexts well-formed: per
// polynomial X_u, (c0, c1) = (b u + e0 + round(Q X_u / T), a u + e1) with u ternary and
// e0, e1 of the error distribution, round(Q X_u / T) computed as T^-1 delta for delta =
// T round(Q X_u / T) - Q X_u (zk.go).
func (sk *SecretKey) Encrypt(pl *Plan, x ring128.Vec, rnd io.Reader) ([]byte, error) {
	wits, err := sk.p.witnesses(pl, x, rnd)
	if err != nil {
		return nil, err
	}
	return sk.p.sealUpload(sk.pk, pl, wits, rnd, nil, false)
}

// witnesses draws the encryption randomness of x's polynomials: per polynomial u, e0,
// e1 and the limbs of delta (ctBounds' order).
func (p *Params) witnesses(pl *Plan, x ring128.Vec, rnd io.Reader) ([][][]int64, error) {
	if x.Len() != pl.EncLen() {
		return nil, errs.New(errs.Shape, "hemat Encrypt %s: %d elements, want %d", pl.Name, x.Len(), pl.EncLen())
	}
	g, err := newPRG(rnd)
	if err != nil {
		return nil, err
	}
	gs := p.gaussian(g)
	ts, err := p.ternary(g)
	if err != nil {
		return nil, err
	}
	lo, hi := make([]uint64, pl.XPolys*N), make([]uint64, pl.XPolys*N)
	for e, pos := range pl.xPos {
		lo[pos], hi[pos] = x.Lo[e], x.Hi[e]
	}
	wits := make([][][]int64, pl.XPolys)
	for u := range wits {
		w := [][]int64{p.smallInts(ts.ReadNew()), p.smallInts(gs.ReadNew()), p.smallInts(gs.ReadNew())}
		for j := 0; j < deltaLimbs; j++ {
			w = append(w, make([]int64, N))
		}
		for j := 0; j < N; j++ {
			dl, dh := p.delta(lo[u*N+j], hi[u*N+j])
			w[3][j], w[4][j], w[5][j], w[6][j] = int64(dl&(1<<32-1)), int64(dl>>32), int64(dh&(1<<32-1)), int64(int32(dh>>32))
		}
		wits[u] = w
	}
	return wits, nil
}

// delta is T round(Q m / T) - Q m = -(Q mod T) m mod T, centered (two's complement).
func (p *Params) delta(lo, hi uint64) (dlo, dhi uint64) {
	h0, l0 := bits.Mul64(p.qLoL, lo)
	h := h0 + p.qLoL*hi + p.qLoH*lo
	dlo = -l0
	dhi = ^h
	if l0 == 0 {
		dhi++
	}
	return
}

// sealUpload encrypts the witnesses (ctRelation) and proves each group. tamper, if not
// nil, changes a ciphertext before it is serialized and proven (tests: a cheating
// encryptor); force is relation.prove's.
func (p *Params) sealUpload(pk *PublicKey, pl *Plan, wits [][][]int64, rnd io.Reader, tamper func(u int, c0, c1 ring.Poly), force bool) ([]byte, error) {
	rel := p.ctRelation(pk)
	out := make([]byte, 0, p.UploadBytes(pl))
	c := []ring.Poly{p.r.NewPoly(), p.r.NewPoly()}
	for gi, g := range proofGroups(pl.XPolys) {
		start := len(out)
		for u := g[0]; u < g[1]; u++ {
			rel.apply(wits[u], c)
			if tamper != nil {
				tamper(u, c[0], c[1])
			}
			w := &bitWriter{buf: out}
			for _, ci := range c {
				for i := 0; i < Primes; i++ {
					w.writeAll(ci.Coeffs[i], p.qBits[i])
				}
				w.flush()
			}
			out = w.buf
		}
		proof, err := rel.prove(uploadDigest(pk, pl, gi, out[start:]), wits[g[0]:g[1]], rnd, force)
		if err != nil {
			return nil, err
		}
		out = append(out, proof...)
	}
	return out, nil
}

// Upload is a parsed and verified encrypted factor: per polynomial c0 and c1 (NTT form),
// with the encryptor's public key.
type Upload struct {
	pl     *Plan
	pk     *PublicKey
	c0, c1 []ring.Poly
}

// ReadUpload parses the other party's encrypted factor for plan pl, under its public
// key pk, and verifies its proofs: it fails with an errs.Cheating error naming the
// check unless every ciphertext is proven well-formed (package doc, "Proofs of
// plaintext knowledge"). Respond only takes uploads ReadUpload accepted.
func (p *Params) ReadUpload(pl *Plan, pk *PublicKey, upload []byte) (*Upload, error) {
	return p.readUpload(pl, pk, upload, true)
}

// readUpload is ReadUpload; without verify (tests only: the noise at the proven bounds)
// it skips the proofs.
func (p *Params) readUpload(pl *Plan, pk *PublicKey, upload []byte, verify bool) (*Upload, error) {
	if len(upload) != p.UploadBytes(pl) {
		return nil, errs.New(errs.Party, "hemat ReadUpload %s: upload of %d bytes, want %d", pl.Name, len(upload), p.UploadBytes(pl))
	}
	up := &Upload{pl: pl, pk: pk, c0: make([]ring.Poly, pl.XPolys), c1: make([]ring.Poly, pl.XPolys)}
	rel := p.ctRelation(pk)
	per := p.polyBytes(Primes, N)
	off := 0
	for gi, g := range proofGroups(pl.XPolys) {
		start := off
		stmt := make([][]ring.Poly, 0, g[1]-g[0])
		for u := g[0]; u < g[1]; u++ {
			for k, c := range []*ring.Poly{&up.c0[u], &up.c1[u]} {
				*c = p.r.NewPoly()
				rd := &bitReader{buf: upload[off : off+per]}
				off += per
				for i := 0; i < Primes; i++ {
					if err := rd.readAll(c.Coeffs[i], p.qBits[i], p.q[i]); err != nil {
						return nil, errs.New(errs.Party, "hemat ReadUpload %s: ciphertext %d c%d: %v", pl.Name, u, k, err)
					}
				}
			}
			s0, s1 := p.r.NewPoly(), p.r.NewPoly()
			p.r.INTT(up.c0[u], s0)
			p.r.INTT(up.c1[u], s1)
			stmt = append(stmt, []ring.Poly{s0, s1})
		}
		n := rel.proofBytes(g[1] - g[0])
		if !verify {
			off += n
			continue
		}
		if err := rel.verify(uploadDigest(pk, pl, gi, upload[start:off]), stmt, upload[off:off+n]); err != nil {
			return nil, errs.New(errs.Cheating, "hemat ReadUpload %s: ciphertexts %d-%d: %v", pl.Name, g[0], g[1]-1, err)
		}
		off += n
	}
	return up, nil
}

// Respond is the multiplier's step: from the other party's encrypted factor up (parsed
// and verified by ReadUpload) and its own plaintext factor w (PlainLen elements) it
// computes, per response polynomial, sum X_u W_w, re-randomizes it with an encryption of
// zero under the encryptor's public key, adds flooding noise and subtracts round(Q R /
// T) + rho round(Q / 2T) on the wanted coefficients for a uniform mask R and a uniform
// bit rho (R' = 2R + rho uniform modulo 2T, zk.go), switches the modulus down to Q' and keeps c1 and the wanted
// coefficients of c0. It returns the response and R (OutLen elements): the multiplier's
// share of the product, the decryptor's being f(...) - R. One upload may serve several
// responses (SPDZ2k's sacrificed triple shares the encrypted factor). Respond counts its
// response polynomials under the encryptor's public key and refuses, with an errs.Config
// error, a response that would make more than MaxResponses under that key.
func (p *Params) Respond(up *Upload, w ring128.Vec, rnd io.Reader) ([]byte, ring128.Vec, error) {
	pl, pk := up.pl, up.pk
	if w.Len() != pl.PlainLen() {
		return nil, ring128.Vec{}, errs.New(errs.Shape, "hemat Respond %s: %d elements, want %d", pl.Name, w.Len(), pl.PlainLen())
	}
	if err := pk.reserve(int64(pl.OutPolys()), p.maxResponses); err != nil {
		return nil, ring128.Vec{}, err
	}
	g, err := newPRG(rnd)
	if err != nil {
		return nil, ring128.Vec{}, err
	}
	gs := p.gaussian(g)
	ts, err := p.ternary(g)
	if err != nil {
		return nil, ring128.Vec{}, err
	}
	c0s, c1s := up.c0, up.c1
	// the plaintext polynomials: centered coefficients, NTT and Montgomery form
	ws := make([]ring.Poly, pl.WPolys)
	for k := range ws {
		ws[k] = p.r.NewPoly()
	}
	for e, pos := range pl.wPos {
		l, h := w.Lo[e], w.Hi[e]
		if l == 0 && h == 0 {
			continue
		}
		for i := 0; i < Primes; i++ {
			ws[pos/N].Coeffs[i][pos%N] = p.centered(l, h, i)
		}
	}
	for k := range ws {
		p.r.NTT(ws[k], ws[k])
		p.r.MForm(ws[k], ws[k])
	}
	mask := ring128.Make(pl.OutLen)
	g.Fill(mask.Lo)
	g.Fill(mask.Hi)
	out := &bitWriter{buf: make([]byte, 0, p.ResponseBytes(pl))}
	acc0, acc1, u := p.r.NewPoly(), p.r.NewPoly(), p.r.NewPoly()
	flood := make([]uint64, floodWords)
	rho := make([]uint64, 1)
	wanted := make([]uint64, 0, N)
	for _, o := range pl.outs {
		for i := range acc0.Coeffs {
			clear(acc0.Coeffs[i])
			clear(acc1.Coeffs[i])
		}
		for _, pr := range o.pairs {
			p.r.MulCoeffsMontgomeryThenAdd(c0s[pr[0]], ws[pr[1]], acc0)
			p.r.MulCoeffsMontgomeryThenAdd(c1s[pr[0]], ws[pr[1]], acc1)
		}
		// re-randomize: + (b u, a u + e1)
		ts.Read(u)
		p.r.NTT(u, u)
		p.r.MForm(u, u)
		p.r.MulCoeffsMontgomeryThenAdd(pk.b, u, acc0)
		p.r.MulCoeffsMontgomeryThenAdd(pk.a, u, acc1)
		p.r.INTT(acc0, acc0)
		p.r.INTT(acc1, acc1)
		// e1 on c1; c0's e0 is subsumed by the flooding of the wanted coefficients (the
		// others are never sent)
		gs.ReadAndAdd(acc1)
		// flood and mask the wanted coefficients: subtract round(Q R / T) + rho round(Q /
		// 2T), the mask R' = 2R + rho uniform modulo 2T (zk.go: the decryptor learns only
		// f(X, W) - R' mod 2T of a proven upload's plaintext modulo 2T)
		for t, pos := range o.wanted {
			e := o.elem[t]
			ml, mh := mask.Lo[e], mask.Hi[e]
			vl, vh := p.scaledV(ml, mh)
			if t%64 == 0 {
				g.Fill(rho)
			}
			odd := rho[0]>>(t%64)&1 == 1
			g.Fill(flood)
			flood[floodWords-1] &= 1<<((FloodBits+1)-64*(floodWords-1)) - 1
			for i := 0; i < Primes; i++ {
				q := p.q[i]
				c := acc0.Coeffs[i][pos]
				c = addMod(c, q-p.scaled(ml, mh, vl, vh, i), q)
				if odd {
					c = addMod(c, q-p.half[i], q)
				}
				if !p.noFlood { // + flood - 2^FloodBits, flood uniform in [0, 2^(FloodBits+1))
					c = addMod(c, addMod(p.residueWords(flood, i), q-p.pFlood[i], q), q)
				}
				acc0.Coeffs[i][pos] = c
			}
		}
		for l := Primes - 1; l >= p.outPrimes; l-- {
			rl := p.r.AtLevel(l)
			rl.DivRoundByLastModulus(acc0, acc0)
			rl.DivRoundByLastModulus(acc1, acc1)
		}
		for i := 0; i < p.outPrimes; i++ {
			out.writeAll(acc1.Coeffs[i], p.qBits[i])
			wanted = wanted[:0]
			for _, pos := range o.wanted {
				wanted = append(wanted, acc0.Coeffs[i][pos])
			}
			out.writeAll(wanted, p.qBits[i])
		}
		out.flush()
	}
	return out.buf, mask, nil
}

// Decrypt is the encryptor's last step: it decrypts a response to plan pl into f(X, W) -
// R (OutLen elements), rounding T x / Q' for x = c0 + c1 s mod Q' on each wanted
// coefficient.
func (sk *SecretKey) Decrypt(pl *Plan, resp []byte) (ring128.Vec, error) {
	p := sk.p
	res := ring128.Make(pl.OutLen)
	err := sk.phases(pl, resp, func(e int32, r []uint64) {
		res.Lo[e], res.Hi[e] = p.decode(r)
	})
	return res, err
}

// phases calls fn with the residues of x = c0 + c1 s mod Q' for each wanted coefficient,
// by C's element (r is reused between calls).
func (sk *SecretKey) phases(pl *Plan, resp []byte, fn func(e int32, r []uint64)) error {
	p := sk.p
	if len(resp) != p.ResponseBytes(pl) {
		return errs.New(errs.Party, "hemat Decrypt %s: response of %d bytes, want %d", pl.Name, len(resp), p.ResponseBytes(pl))
	}
	ro := p.rOut
	c1 := ro.NewPoly()
	sOut := ring.Poly{Coeffs: sk.sM.Coeffs[:p.outPrimes]}
	c0 := make([][]uint64, p.outPrimes)
	r := make([]uint64, p.outPrimes)
	off := 0
	for k, o := range pl.outs {
		n := p.polyBytes(p.outPrimes, N+len(o.wanted))
		rd := &bitReader{buf: resp[off : off+n]}
		off += n
		for i := 0; i < p.outPrimes; i++ {
			if err := rd.readAll(c1.Coeffs[i], p.qBits[i], p.q[i]); err != nil {
				return errs.New(errs.Party, "hemat Decrypt %s: response %d: %v", pl.Name, k, err)
			}
			c0[i] = make([]uint64, len(o.wanted))
			if err := rd.readAll(c0[i], p.qBits[i], p.q[i]); err != nil {
				return errs.New(errs.Party, "hemat Decrypt %s: response %d: %v", pl.Name, k, err)
			}
		}
		ro.NTT(c1, c1)
		ro.MulCoeffsMontgomery(c1, sOut, c1)
		ro.INTT(c1, c1)
		for j, pos := range o.wanted {
			for i := range r {
				r[i] = addMod(c0[i][j], c1.Coeffs[i][pos], p.q[i])
			}
			fn(o.elem[j], r)
		}
	}
	return nil
}

// bitWriter packs values of w <= 56 bits, least significant first.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (b *bitWriter) writeAll(vs []uint64, w int) {
	for _, v := range vs {
		if b.n+uint(w) > 64 {
			for b.n >= 8 {
				b.buf = append(b.buf, byte(b.acc))
				b.acc >>= 8
				b.n -= 8
			}
		}
		b.acc |= v << b.n
		b.n += uint(w)
	}
}

// flush writes the pending bits (padding the last byte with zeros).
func (b *bitWriter) flush() []byte {
	for b.n > 0 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		b.n -= min(b.n, 8)
	}
	return b.buf
}

type bitReader struct {
	buf []byte
	pos int // in bits
}

// readAll reads len(vs) values of w <= 56 bits, each below q.
func (b *bitReader) readAll(vs []uint64, w int, q uint64) error {
	mask := uint64(1)<<w - 1
	if (b.pos+len(vs)*w+7)/8 > len(b.buf) {
		return errs.New(errs.Party, "short data")
	}
	for j := range vs {
		i := b.pos >> 3
		var x uint64
		if i+8 <= len(b.buf) {
			x = binary.LittleEndian.Uint64(b.buf[i:])
		} else {
			for k := len(b.buf) - 1; k >= i; k-- {
				x = x<<8 | uint64(b.buf[k])
			}
		}
		v := x >> (b.pos & 7) & mask
		b.pos += w
		if v >= q {
			return errs.New(errs.Party, "residue %d not below its prime", v)
		}
		vs[j] = v
	}
	return nil
}

// writeWide writes the low w <= 64 bits of v (in two parts above 32 bits).
func (b *bitWriter) writeWide(v uint64, w int) {
	if w < 64 {
		v &= 1<<w - 1
	}
	if w <= 32 {
		b.writeAll([]uint64{v}, w)
		return
	}
	b.writeAll([]uint64{v & (1<<32 - 1)}, 32)
	b.writeAll([]uint64{v >> 32}, w-32)
}

// readWide reads a value written by writeWide.
func (b *bitReader) readWide(w int) (uint64, error) {
	var lo, hi [1]uint64
	if w <= 32 {
		err := b.readAll(lo[:], w, 1<<w)
		return lo[0], err
	}
	if err := b.readAll(lo[:], 32, 1<<32); err != nil {
		return 0, err
	}
	if err := b.readAll(hi[:], w-32, 1<<(w-32)); err != nil {
		return 0, err
	}
	return lo[0] | hi[0]<<32, nil
}
