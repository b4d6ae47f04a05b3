package hemat

import (
	"encoding/binary"
	"io"
	"sync/atomic"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// SeedSize is the size of the seed that replaces a uniform polynomial on the wire.
const SeedSize = prg.KeySize

// SecretKey is a party's secret key s (ternary), kept in NTT and Montgomery form.
type SecretKey struct {
	p  *Params
	sM ring.Poly
}

// PublicKey is (b, a) with b = -a s + e, a expanded from Seed. It also counts the
// response polynomials Respond has made under it (at most MaxResponses: the flooding's
// 2^-StatBits per response polynomial adds up to 2^-KeyStatBits per key pair), so the
// responder must parse its peer's key once per session and use that value for every
// upload of the session.
type PublicKey struct {
	Seed      prg.Key
	b, a      ring.Poly    // NTT form
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

// KeyGen draws a key pair from rnd (crypto/rand in production).
func (p *Params) KeyGen(rnd io.Reader) (*SecretKey, *PublicKey, error) {
	g, err := newPRG(rnd)
	if err != nil {
		return nil, nil, err
	}
	ts, err := p.ternary(g)
	if err != nil {
		return nil, nil, err
	}
	s := ts.ReadNew()
	p.r.NTT(s, s)
	p.r.MForm(s, s)
	pk := &PublicKey{}
	if pk.Seed, err = prg.ReadKey(rnd); err != nil {
		return nil, nil, errs.New(errs.Internal, "hemat: randomness: %v", err)
	}
	pk.a = p.uniform(pk.Seed)
	pk.b = p.gaussian(g).ReadNew()
	p.r.NTT(pk.b, pk.b)
	p.r.MulCoeffsMontgomeryThenSub(pk.a, s, pk.b)
	return &SecretKey{p: p, sM: s}, pk, nil
}

// PublicKeyBytes is the size of a serialized public key.
func (p *Params) PublicKeyBytes() int { return SeedSize + p.polyBytes(Primes, N) }

// MarshalPublicKey serializes pk (seed and b).
func (p *Params) MarshalPublicKey(pk *PublicKey) []byte {
	w := &bitWriter{buf: append(make([]byte, 0, p.PublicKeyBytes()), pk.Seed[:]...)}
	for i := 0; i < Primes; i++ {
		w.writeAll(pk.b.Coeffs[i], p.qBits[i])
	}
	return w.flush()
}

// UnmarshalPublicKey parses a public key, checking every residue.
func (p *Params) UnmarshalPublicKey(data []byte) (*PublicKey, error) {
	if len(data) != p.PublicKeyBytes() {
		return nil, errs.New(errs.Party, "hemat: public key of %d bytes, want %d", len(data), p.PublicKeyBytes())
	}
	pk := &PublicKey{}
	copy(pk.Seed[:], data)
	pk.a = p.uniform(pk.Seed)
	pk.b = p.r.NewPoly()
	rd := &bitReader{buf: data[SeedSize:]}
	for i := 0; i < Primes; i++ {
		if err := rd.readAll(pk.b.Coeffs[i], p.qBits[i], p.q[i]); err != nil {
			return nil, errs.New(errs.Party, "hemat: public key: %v", err)
		}
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

// UploadBytes is the size of the encrypted factor for plan pl: per polynomial a seed and
// c0 modulo Q.
func (p *Params) UploadBytes(pl *Plan) int { return pl.XPolys * (SeedSize + p.polyBytes(Primes, N)) }

// ResponseBytes is the size of the response for plan pl: per response polynomial c1 and
// the wanted coefficients of c0, modulo Q'.
func (p *Params) ResponseBytes(pl *Plan) int {
	b := 0
	for _, o := range pl.outs {
		b += p.polyBytes(p.outPrimes, N+len(o.wanted))
	}
	return b
}

// Encrypt encrypts the factor x of plan pl (its encrypted factor, EncLen elements) under
// sk: per polynomial X_u, a fresh seed for c1 = a and c0 = -a s + e + round(Q X_u / T).
func (sk *SecretKey) Encrypt(pl *Plan, x ring128.Vec, rnd io.Reader) ([]byte, error) {
	p := sk.p
	if x.Len() != pl.EncLen() {
		return nil, errs.New(errs.Shape, "hemat Encrypt %s: %d elements, want %d", pl.Name, x.Len(), pl.EncLen())
	}
	g, err := newPRG(rnd)
	if err != nil {
		return nil, err
	}
	gs := p.gaussian(g)
	lo, hi := make([]uint64, pl.XPolys*N), make([]uint64, pl.XPolys*N)
	for e, pos := range pl.xPos {
		lo[pos], hi[pos] = x.Lo[e], x.Hi[e]
	}
	w := &bitWriter{buf: make([]byte, 0, p.UploadBytes(pl))}
	c0 := p.r.NewPoly()
	for u := 0; u < pl.XPolys; u++ {
		for i := range c0.Coeffs {
			clear(c0.Coeffs[i])
		}
		ml, mh := lo[u*N:(u+1)*N], hi[u*N:(u+1)*N]
		for j := range ml {
			if ml[j] == 0 && mh[j] == 0 {
				continue
			}
			vl, vh := p.scaledV(ml[j], mh[j])
			for i := range c0.Coeffs {
				c0.Coeffs[i][j] = p.scaled(ml[j], mh[j], vl, vh, i)
			}
		}
		gs.ReadAndAdd(c0)
		p.r.NTT(c0, c0)
		seed, err := prg.ReadKey(rnd)
		if err != nil {
			return nil, errs.New(errs.Internal, "hemat: randomness: %v", err)
		}
		p.r.MulCoeffsMontgomeryThenSub(p.uniform(seed), sk.sM, c0)
		w.flush()
		w.buf = append(w.buf, seed[:]...)
		for i := 0; i < Primes; i++ {
			w.writeAll(c0.Coeffs[i], p.qBits[i])
		}
		w.flush()
	}
	return w.buf, nil
}

// Upload is a parsed encrypted factor: per polynomial c0 (NTT form, checked below the
// primes) and c1 expanded from its seed, with the encryptor's public key.
type Upload struct {
	pl     *Plan
	pk     *PublicKey
	c0, c1 []ring.Poly
}

// ReadUpload parses the other party's encrypted factor for plan pl, under its public key pk.
func (p *Params) ReadUpload(pl *Plan, pk *PublicKey, upload []byte) (*Upload, error) {
	if len(upload) != p.UploadBytes(pl) {
		return nil, errs.New(errs.Party, "hemat ReadUpload %s: upload of %d bytes, want %d", pl.Name, len(upload), p.UploadBytes(pl))
	}
	up := &Upload{pl: pl, pk: pk, c0: make([]ring.Poly, pl.XPolys), c1: make([]ring.Poly, pl.XPolys)}
	per := SeedSize + p.polyBytes(Primes, N)
	for u := range up.c0 {
		chunk := upload[u*per : (u+1)*per]
		var seed prg.Key
		copy(seed[:], chunk)
		up.c1[u] = p.uniform(seed)
		up.c0[u] = p.r.NewPoly()
		rd := &bitReader{buf: chunk[SeedSize:]}
		for i := 0; i < Primes; i++ {
			if err := rd.readAll(up.c0[u].Coeffs[i], p.qBits[i], p.q[i]); err != nil {
				return nil, errs.New(errs.Party, "hemat ReadUpload %s: ciphertext %d: %v", pl.Name, u, err)
			}
		}
	}
	return up, nil
}

// Respond is the multiplier's step: from the other party's encrypted factor up and its
// own plaintext factor w (PlainLen elements) it computes, per response polynomial, sum
// X_u W_w, re-randomizes it with an encryption of zero under the encryptor's public key,
// adds flooding noise and subtracts round(Q R / T) on the wanted coefficients for a
// uniform mask R, switches the modulus down to Q' and keeps c1 and the wanted
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
	flood := make([]uint64, 4)
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
		// flood and mask the wanted coefficients
		for t, pos := range o.wanted {
			e := o.elem[t]
			ml, mh := mask.Lo[e], mask.Hi[e]
			vl, vh := p.scaledV(ml, mh)
			g.Fill(flood)
			flood[3] &= 1<<(FloodBits+1-192) - 1 // 192 < FloodBits+1 <= 256, or this does not compile
			for i := 0; i < Primes; i++ {
				q := p.q[i]
				c := acc0.Coeffs[i][pos]
				c = addMod(c, q-p.scaled(ml, mh, vl, vh, i), q)
				if !p.noFlood { // + flood - 2^FloodBits, flood uniform in [0, 2^(FloodBits+1))
					f := addMod(p.residue(flood[0], flood[1], i), p.mul(p.residue(flood[2], flood[3], i), p.p128[i], i), q)
					c = addMod(c, addMod(f, q-p.pFlood[i], q), q)
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
