package hemat

// Zero-knowledge proofs of plaintext knowledge with bounded noise (ZKPoPK) for the
// uploads and the public keys.
//
// Protocol: the amortized Sigma protocol of TopGear (Baum, Cozzo, Smart, "Using TopGear
// in Overdrive: A more efficient ZKPoK for SPDZ", SAC 2019), itself the HighGear proof of
// Overdrive (Keller, Orsini, Scholl, EUROCRYPT 2018) with the monomial challenges of
// Benhamouda, Camenisch, Krenn, Lyubashevsky, Neven (ASIACRYPT 2014), made
// non-interactive with Fiat-Shamir, and with rejection sampling (Lyubashevsky,
// "Fiat-Shamir with aborts", ASIACRYPT 2009) instead of TopGear's drowning for zero
// knowledge. Threat model: a malicious prover (the encryptor); the verifier (the
// responder) only checks. See the package doc, "Proofs of plaintext knowledge", for the
// relation, the bounds, the slack and the argument.
//
// Statement: U outputs y_k = F(x_k) of a linear map F over R_Q = Z_Q[Z]/(Z^N + 1) whose
// witnesses x_k (integer polynomials, several components) have ||x_{k,c}||_inf <= B_c.
// Messages (one, the proof): h = H(statement, d_1..d_V) (32 bytes) and z_1..z_V, where
// the prover drew y_i uniform with ||y_{i,c}||_inf <= A_c = 2^kappa U B_c, computed d_i
// = F(y_i), the challenge W (V x U, entries from C) from h, and z_i = y_i + sum_k W_ik
// x_k, restarting with fresh y unless every ||z_{i,c}||_inf <= Bz_c = A_c - U B_c. The
// verifier checks the bounds on z, recomputes d_i = F(z_i) - sum_k W_ik y_k and h.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math/big"
	"math/bits"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
)

// Proof parameters (package doc, "Proofs of plaintext knowledge").
const (
	// ProofRows is V for the uploads' proofs: challenges from C = {0} u {+-Z^j : j <
	// N}, |C| = 2N + 1, so V log2(2N + 1) = 135 >= 128 + 2 (TopGear's condition for
	// soundness error 2^-128; Fiat-Shamir needs the computational 128 bits).
	ProofRows = 9
	// ProofKappaBits: the uploads' masks are uniform in [-2^23 U B_c, 2^23 U B_c], so a
	// proof attempt is accepted with probability about exp(-7 V N / 2^23) = 0.88.
	ProofKappaBits = 23
	// MaxProofCiphertexts is the most ciphertexts one proof covers (U); an upload of
	// more polynomials carries one proof per group of at most 32.
	MaxProofCiphertexts = 32
	// KeyProofRows is V for the public key's proof: binary challenges, soundness error
	// 2^-128, and no factor 2 in the extracted relation (see the package doc).
	KeyProofRows = 128
	// KeyProofKappaBits: the key proof's masks in [-2^25 B_c, 2^25 B_c] (acceptance
	// about exp(-2 V N / 2^25) = 0.88).
	KeyProofKappaBits = 25
	// deltaLimbs: delta = T round(Q m / T) - Q m in [-2^127, 2^127] is proven as four
	// 32-bit limbs (delta = sum_j 2^(32 j) delta_j), so that every witness and mask
	// coefficient fits an int64.
	deltaLimbs = 4
	limbBound  = 1 << 32
	// maxAttempts bounds the prover's rejection-sampling loop (an honest prover needs
	// more than 40 attempts with probability 0.12^40 < 2^-120).
	maxAttempts = 40
)

// ctBounds are the honest bounds of an upload's witness: u (ternary), e0, e1 (|e| <=
// 19) and the four limbs of delta.
var ctBounds = []int64{1, ErrBound, ErrBound, limbBound, limbBound, limbBound, limbBound}

// keyBounds are the honest bounds of a public key's witness: s (ternary) and e.
var keyBounds = []int64{1, ErrBound}

// proven is what an accepted proof guarantees (soundness, with the slack): per upload
// ciphertext c, 2c = Enc(u', e0', e1', delta') with ||u'|| <= U, ||e'|| <= E, |delta'| <=
// Delta; per public key b = -a s' + e' with ||s'|| <= S, ||e'|| <= Epk.
type proven struct{ U, E, Delta, S, Epk *big.Int }

// bz is the verifier's bound on z: (2^kappa - 1) u b.
func bz(kappa uint, u int, b int64) int64 { return (1<<kappa - 1) * int64(u) * b }

func provenBounds() proven {
	ext := func(f int64, kappa uint, u int, b int64) *big.Int { // f Bz
		return new(big.Int).Mul(big.NewInt(f), big.NewInt(bz(kappa, u, b)))
	}
	var p proven
	p.U = ext(2*N, ProofKappaBits, MaxProofCiphertexts, 1)
	p.E = ext(2*N, ProofKappaBits, MaxProofCiphertexts, ErrBound)
	limb := ext(2*N, ProofKappaBits, MaxProofCiphertexts, limbBound)
	p.Delta = new(big.Int)
	for j := 0; j < deltaLimbs; j++ {
		p.Delta.Add(p.Delta, new(big.Int).Lsh(limb, uint(32*j)))
	}
	p.S = ext(2, KeyProofKappaBits, 1, 1)
	p.Epk = ext(2, KeyProofKappaBits, 1, ErrBound)
	return p
}

// relation is a linear map F from witnesses (components of N int64 coefficients) to
// outs polynomials of R_Q in NTT form, with the proof's parameters.
type relation struct {
	p      *Params
	tag    string
	bounds []int64
	outs   int
	rows   int
	kappa  uint
	binary bool // challenges in {0, 1}; else {0} u {+-Z^j}
	apply  func(x [][]int64, out []ring.Poly)
}

// ctRelation is the upload's public-key encryption under pk: (c0, c1) = (b u + e0 +
// T^-1 sum_j 2^(32 j) delta_j, a u + e1).
func (p *Params) ctRelation(pk *PublicKey) *relation {
	return &relation{p: p, tag: "qmpc hemat upload proof v1", bounds: ctBounds, outs: 2, rows: ProofRows, kappa: ProofKappaBits,
		apply: func(x [][]int64, out []ring.Poly) {
			r := p.r
			u := r.NewPoly()
			p.setSigned(u, x[0])
			r.NTT(u, u)
			r.MForm(u, u)
			c0, c1 := out[0], out[1]
			for i := range c0.Coeffs {
				q := p.q[i]
				t0, t1, t2, t3 := p.tau[0][i], p.tau[1][i], p.tau[2][i], p.tau[3][i]
				ci := c0.Coeffs[i]
				for j := range ci {
					v := p.signed(x[1][j], i)
					v = addMod(v, p.mul(t0, p.signed(x[3][j], i), i), q)
					v = addMod(v, p.mul(t1, p.signed(x[4][j], i), i), q)
					v = addMod(v, p.mul(t2, p.signed(x[5][j], i), i), q)
					v = addMod(v, p.mul(t3, p.signed(x[6][j], i), i), q)
					ci[j] = v
				}
			}
			r.NTT(c0, c0)
			r.MulCoeffsMontgomeryThenAdd(pk.b, u, c0)
			p.setSigned(c1, x[2])
			r.NTT(c1, c1)
			r.MulCoeffsMontgomeryThenAdd(pk.a, u, c1)
		}}
}

// keyRelation is the public key: b = -a s + e.
func (p *Params) keyRelation(a ring.Poly) *relation {
	return &relation{p: p, tag: "qmpc hemat key proof v1", bounds: keyBounds, outs: 1, rows: KeyProofRows, kappa: KeyProofKappaBits, binary: true,
		apply: func(x [][]int64, out []ring.Poly) {
			r := p.r
			s := r.NewPoly()
			p.setSigned(s, x[0])
			r.NTT(s, s)
			r.MForm(s, s)
			p.setSigned(out[0], x[1])
			r.NTT(out[0], out[0])
			r.MulCoeffsMontgomeryThenSub(a, s, out[0])
		}}
}

// setSigned writes the residues of the integer coefficients x into every prime of a.
func (p *Params) setSigned(a ring.Poly, x []int64) {
	for i := range a.Coeffs {
		ai := a.Coeffs[i]
		for j, v := range x {
			ai[j] = p.signed(v, i)
		}
	}
}

// smallInts reads a polynomial with small coefficients (|x| < q_0 / 2, coefficient
// form) back as integers.
func (p *Params) smallInts(a ring.Poly) []int64 {
	x := make([]int64, N)
	q := p.q[0]
	for j, v := range a.Coeffs[0] {
		if v > q/2 {
			x[j] = -int64(q - v)
		} else {
			x[j] = int64(v)
		}
	}
	return x
}

// zBounds are the verifier's bounds Bz_c for U statements, and the wire widths.
func (rel *relation) zBounds(u int) (bz_ []int64, width []int) {
	for _, b := range rel.bounds {
		z := bz(rel.kappa, u, b)
		bz_ = append(bz_, z)
		width = append(width, bits.Len64(uint64(2*z)))
	}
	return
}

// proofBytes is the size of a proof for U statements.
func (rel *relation) proofBytes(u int) int {
	_, w := rel.zBounds(u)
	t := 0
	for _, x := range w {
		t += x
	}
	return sha256.Size + (rel.rows*N*t+7)/8
}

// challenge expands h into the V x U challenge: 0 is zero, e in [1, 2N] is Z^(e-1)
// (Z^N = -1); binary challenges are 0 or 1 (Z^0).
func (rel *relation) challenge(h []byte, u int) [][]int32 {
	d := sha256.Sum256(append([]byte(rel.tag+" challenge"), h...))
	var k prg.Key
	copy(k[:], d[:])
	g := prg.New(k)
	w := make([][]int32, rel.rows)
	buf := make([]uint64, 1)
	const size = 2*N + 1
	const limit = (1 << 32) / size * size
	for i := range w {
		w[i] = make([]int32, u)
		for k := range w[i] {
			if rel.binary {
				g.Fill(buf)
				w[i][k] = int32(buf[0] & 1)
				continue
			}
			for {
				g.Fill(buf)
				v := uint32(buf[0])
				if v < limit {
					w[i][k] = int32(v % size)
					break
				}
			}
		}
	}
	return w
}

// addMonoInt adds Z^(e-1) x to acc (e >= 1; negacyclic). Z^(e-1) = (-1)^neg Z^j with j <
// N: x[t] lands on acc[t+j] with that sign for t < N-j and wraps to acc[t+j-N] with the
// opposite sign for the rest, two loops without a branch per coefficient.
func addMonoInt(acc, x []int64, e int32) {
	j, neg := monomial(e)
	addSignedInts(acc[j:], x[:N-j], neg)
	addSignedInts(acc[:j], x[N-j:], !neg)
}

// monomial splits Z^(e-1) into (-1)^neg Z^j, 0 <= j < N (Z^N = -1).
func monomial(e int32) (j int, neg bool) {
	j = int(e-1) % (2 * N)
	return j % N, j >= N
}

// addSignedInts adds x to dst, or subtracts it when sub is set.
func addSignedInts(dst, x []int64, sub bool) {
	dst = dst[:len(x)]
	if sub {
		for t, v := range x {
			dst[t] -= v
		}
		return
	}
	for t, v := range x {
		dst[t] += v
	}
}

// addMonoPoly adds Z^(e-1) x to acc in every prime (coefficient form), split as in
// addMonoInt.
func (p *Params) addMonoPoly(acc, x ring.Poly, e int32) {
	j, neg := monomial(e)
	for i := range acc.Coeffs {
		q := p.q[i]
		a, xi := acc.Coeffs[i], x.Coeffs[i]
		addSignedMod(a[j:], xi[:N-j], neg, q)
		addSignedMod(a[:j], xi[N-j:], !neg, q)
	}
}

// addSignedMod adds x to dst modulo q (entries below q), or subtracts it when sub is set.
func addSignedMod(dst, x []uint64, sub bool, q uint64) {
	dst = dst[:len(x)]
	if sub {
		for t, v := range x {
			d := dst[t] - v
			if dst[t] < v {
				d += q
			}
			dst[t] = d
		}
		return
	}
	for t, v := range x {
		dst[t] = addMod(dst[t], v, q)
	}
}

// commitHash hashes the statement digest and then the commitments d_i (NTT form), fed
// row by row so that neither side keeps all V rows of d.
type commitHash struct {
	h   hash.Hash
	buf []byte
}

func (rel *relation) newCommitHash(stmt []byte) *commitHash {
	c := &commitHash{h: sha256.New(), buf: make([]byte, 8*N)}
	c.h.Write([]byte(rel.tag))
	c.h.Write(stmt)
	return c
}

func (c *commitHash) add(d []ring.Poly) {
	for _, o := range d {
		for _, co := range o.Coeffs {
			for j, v := range co {
				binary.LittleEndian.PutUint64(c.buf[8*j:], v)
			}
			c.h.Write(c.buf)
		}
	}
}

func (c *commitHash) sum() []byte { return c.h.Sum(nil) }

// statementDigest hashes the tag and the parts of a statement's wire form.
func statementDigest(tag string, parts ...[]byte) []byte {
	var h hash.Hash = sha256.New()
	h.Write([]byte(tag))
	for _, b := range parts {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return h.Sum(nil)
}

// prove proves knowledge of the witnesses wit[k] (components of N coefficients within
// rel.bounds) of the statements whose digest is stmt. With force (tests only) it
// returns the first attempt even if a response exceeds its bound.
func (rel *relation) prove(stmt []byte, wit [][][]int64, rnd io.Reader, force bool) ([]byte, error) {
	p := rel.p
	u := len(wit)
	g, err := newPRG(rnd)
	if err != nil {
		return nil, err
	}
	nc := len(rel.bounds)
	zb, width := rel.zBounds(u)
	amp := make([]int64, nc) // A_c
	for c, b := range rel.bounds {
		amp[c] = int64(1<<rel.kappa) * int64(u) * b
	}
	y := make([][][]int64, rel.rows)
	z := make([][][]int64, rel.rows)
	for i := range y {
		y[i], z[i] = make([][]int64, nc), make([][]int64, nc)
		for c := range y[i] {
			y[i][c], z[i][c] = make([]int64, N), make([]int64, N)
		}
	}
	d := make([]ring.Poly, rel.outs)
	for o := range d {
		d[o] = p.r.NewPoly()
	}
	raw := make([]uint64, N)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		ch := rel.newCommitHash(stmt)
		for i := range y {
			for c := range y[i] {
				uniformInts(g, y[i][c], amp[c], raw)
			}
			rel.apply(y[i], d)
			ch.add(d)
		}
		h := ch.sum()
		w := rel.challenge(h, u)
		ok := true
		for i := range z {
			for c := range z[i] {
				copy(z[i][c], y[i][c])
				for k := range wit {
					if e := w[i][k]; e != 0 {
						addMonoInt(z[i][c], wit[k][c], e)
					}
				}
				for _, v := range z[i][c] {
					if v > zb[c] || v < -zb[c] {
						ok = false
					}
				}
			}
		}
		if !ok && !force {
			continue
		}
		out := &bitWriter{buf: append(make([]byte, 0, rel.proofBytes(u)), h...)}
		for i := range z {
			for c := range z[i] {
				for _, v := range z[i][c] {
					out.writeWide(uint64(v+zb[c]), width[c])
				}
			}
		}
		return out.flush(), nil
	}
	return nil, errs.New(errs.Internal, "hemat: %s: no accepted attempt in %d (a witness beyond its bounds?)", rel.tag, maxAttempts)
}

// uniformInts fills x with integers uniform in [-a, a] (rejection sampling on 64 bits).
func uniformInts(g *prg.PRG, x []int64, a int64, raw []uint64) {
	size := uint64(2*a + 1)
	limit := ^uint64(0) / size * size
	for j := 0; j < len(x); {
		g.Fill(raw[:len(x)-j])
		for _, v := range raw[:len(x)-j] {
			if v < limit {
				x[j] = int64(v%size) - a
				j++
			}
		}
	}
}

// verify checks a proof for the statements stmtPolys[k] (outs polynomials each, in
// coefficient form) with digest stmt. It returns an error naming the failed check (the
// callers make it an errs.Cheating error).
func (rel *relation) verify(stmt []byte, stmtPolys [][]ring.Poly, proof []byte) error {
	p := rel.p
	u := len(stmtPolys)
	if len(proof) != rel.proofBytes(u) {
		return fmt.Errorf("%s: %d bytes, want %d", rel.tag, len(proof), rel.proofBytes(u))
	}
	h := proof[:sha256.Size]
	w := rel.challenge(h, u)
	zb, width := rel.zBounds(u)
	rd := &bitReader{buf: proof[sha256.Size:]}
	nc := len(rel.bounds)
	z := make([][]int64, nc)
	for c := range z {
		z[c] = make([]int64, N)
	}
	d := make([]ring.Poly, rel.outs)
	for o := range d {
		d[o] = p.r.NewPoly()
	}
	ch := rel.newCommitHash(stmt)
	sum := p.r.NewPoly()
	for i := 0; i < rel.rows; i++ {
		for c := range z {
			for j := range z[c] {
				v, err := rd.readWide(width[c])
				if err != nil {
					return fmt.Errorf("%s: %v", rel.tag, err)
				}
				if v > uint64(2*zb[c]) {
					return fmt.Errorf("%s: response row %d component %d coefficient %d out of its bound %d", rel.tag, i, c, j, zb[c])
				}
				z[c][j] = int64(v) - zb[c]
			}
		}
		rel.apply(z, d)
		for o := range d {
			for l := range sum.Coeffs {
				clear(sum.Coeffs[l])
			}
			for k := range stmtPolys {
				if e := w[i][k]; e != 0 {
					p.addMonoPoly(sum, stmtPolys[k][o], e)
				}
			}
			p.r.NTT(sum, sum)
			p.r.Sub(d[o], sum, d[o])
		}
		ch.add(d)
	}
	if got := ch.sum(); string(got) != string(h) {
		return fmt.Errorf("%s: the recomputed commitments do not hash to the challenge (a statement not of the claimed form, or a tampered proof)", rel.tag)
	}
	return nil
}
