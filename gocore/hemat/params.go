package hemat

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Parameters (see the package comment for the bound they satisfy).
const (
	// LogN is log2 of the ring degree: polynomials of N = 2^14 coefficients.
	LogN = 14
	// N is the ring degree.
	N = 1 << LogN
	// OutPrimeBits and PrimeBits are the sizes of the NTT primes: the first OutPrimes
	// primes (those Q' keeps) just below 2^50, the others just below 2^48. log2 Q is then
	// just below 3*50 + 6*48 = 438, the HE standard's bound for 128-bit security at N =
	// 2^14 with a ternary secret and sigma = 3.2.
	OutPrimeBits = 50
	PrimeBits    = 48
	// Primes is the number of primes in Q.
	Primes = 9
	// OutPrimes is the number of primes kept in Q' after the response's modulus
	// switching (log2 Q' about 150).
	OutPrimes = 3
	// Sigma and ErrBound are the error distribution: a discrete Gaussian of standard
	// deviation 3.2 truncated to [-19, 19].
	Sigma    = 3.2
	ErrBound = 19
	// MaxAccum is the most plaintext coefficients (nonzeros of the plaintext polynomials,
	// summed over the products accumulated into one response polynomial) a plan may
	// use: it bounds the product's noise by MaxAccum 2^127 times the noise the proofs
	// allow an upload (Params.Bound), below 2^ProductBits.
	MaxAccum = 1 << 20
	// ProductBits bounds the product's noise at the PROVEN bounds (zk.go): |noise| <
	// 2^235 per coefficient for any upload and public key that passed their proofs.
	ProductBits = 235
	// StatBits is the statistical security of the noise flooding per response polynomial.
	StatBits = 56
	// FloodBits: the flooding noise is uniform in [-2^305, 2^305), so that the product's
	// noise (< 2^235) shifts it by a statistical distance below N 2^235 / 2^305 = 2^-56
	// per polynomial of N coefficients.
	FloodBits = ProductBits + StatBits + LogN
	// floodWords is the number of 64-bit words of a flooding sample (FloodBits+1 bits).
	floodWords = (FloodBits + 1 + 63) / 64
	// KeyStatBits is the statistical security per key pair (one session of the offline
	// phase): a union bound over at most MaxResponses response polynomials under one
	// public key, MaxResponses 2^-StatBits = 2^-40.
	KeyStatBits = 40
	// MaxResponses is the most response polynomials Respond makes under one (parsed)
	// public key: 2^(StatBits - KeyStatBits) = 65536. Respond refuses the one that would
	// exceed it; a new session (a new key pair) starts the count again.
	MaxResponses = 1 << (StatBits - KeyStatBits)
)

// Params holds the ring and the constants for plaintext modulus T = 2^128.
type Params struct {
	r    *ring.Ring // level Primes-1 (Q)
	rOut *ring.Ring // level OutPrimes-1 (Q')
	q    []uint64
	// qHi[i] = floor(Q/T) mod q_i; qLo = Q mod T (two words).
	qHi        []uint64
	qLoL, qLoH uint64
	// pw[w][i] = 2^(64 w) mod q_i (w < floodWords); pFlood[i] = 2^FloodBits mod q_i.
	pw     [][]uint64
	pFlood []uint64
	// tau[j][i] = T^-1 2^(32 j) mod q_i: round(Q m / T) = T^-1 delta mod Q for delta =
	// T round(Q m / T) - Q m, taken in four 32-bit limbs (zk.go).
	tau [4][]uint64
	// half[i] = round(Q / 2T) mod q_i: the mask's low bit (plaintext space 2T, zk.go).
	half          []uint64
	bigQ, bigQOut *big.Int
	crt           []*big.Int  // CRT constants for Q': x = sum r_i crt_i mod Q'
	crtInv        []uint64    // (Q'/q_i)^-1 mod q_i
	crtF          [][3]uint64 // floor(2^192 / q_i)
	qOutHalf      *big.Int
	qOutBits      []int // bits per residue on the wire, per prime
	qBits         []int
	bred          [][]uint64 // Barrett constants per prime
	outPrimes     int        // primes kept by the response (OutPrimes; Primes in noise tests)
	noFlood       bool       // tests only: measure the product's noise without flooding
	maxResponses  int64      // MaxResponses; smaller in tests of the refusal
}

// NewParams builds the parameters: N = 2^14, Q the product of three 50-bit and six
// 48-bit NTT primes, Q' the first three. It checks the decryption and flooding bounds
// (Bound) at the bounds the proofs of plaintext knowledge guarantee.
func NewParams() (*Params, error) { return newParams(OutPrimes, false) }

// ResponseLimit is the most response polynomials Respond makes under one parsed public
// key (MaxResponses unless WithResponseLimit lowered it).
func (p *Params) ResponseLimit() int64 { return p.maxResponses }

// WithResponseLimit returns a copy of p whose Respond refuses past n response polynomials
// per public key instead of MaxResponses (n <= MaxResponses: a lower limit only
// tightens the flooding's union bound). Callers use it to exercise their new-key path
// without 2^16 responses.
func (p *Params) WithResponseLimit(n int64) (*Params, error) {
	if n < 1 || n > MaxResponses {
		return nil, errs.New(errs.Config, "hemat: response limit %d not in [1, %d]", n, MaxResponses)
	}
	q := *p
	q.maxResponses = n
	return &q, nil
}

func newParams(outPrimes int, noFlood bool) (*Params, error) {
	g50, g48 := ring.NewNTTFriendlyPrimesGenerator(OutPrimeBits, 2*N), ring.NewNTTFriendlyPrimesGenerator(PrimeBits, 2*N)
	q, err := g50.NextDownstreamPrimes(OutPrimes)
	if err != nil {
		return nil, errs.New(errs.Internal, "hemat: primes: %v", err)
	}
	q2, err := g48.NextDownstreamPrimes(Primes - OutPrimes)
	if err != nil {
		return nil, errs.New(errs.Internal, "hemat: primes: %v", err)
	}
	q = append(q, q2...)
	r, err := ring.NewRing(N, q)
	if err != nil {
		return nil, errs.New(errs.Internal, "hemat: ring: %v", err)
	}
	p := &Params{r: r, rOut: r.AtLevel(outPrimes - 1), q: q, outPrimes: outPrimes, noFlood: noFlood, maxResponses: MaxResponses}
	p.bigQ = r.Modulus()
	p.bigQOut = new(big.Int).SetInt64(1)
	for _, qi := range q {
		p.qBits = append(p.qBits, bits.Len64(qi))
		p.bred = append(p.bred, ring.BRedConstant(qi))
	}
	for _, qi := range q[:outPrimes] {
		p.bigQOut.Mul(p.bigQOut, new(big.Int).SetUint64(qi))
	}
	two := func(e uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), e) }
	T := two(128)
	hi, lo := new(big.Int).QuoRem(p.bigQ, T, new(big.Int))
	p.qLoL, p.qLoH = lo128(lo)
	// round(Q / 2T) = floor((Q + T) / 2T)
	half := new(big.Int).Quo(new(big.Int).Add(p.bigQ, T), two(129))
	p.pw = make([][]uint64, floodWords)
	for _, qi := range q {
		bq := new(big.Int).SetUint64(qi)
		p.qHi = append(p.qHi, new(big.Int).Mod(hi, bq).Uint64())
		for w := range p.pw {
			p.pw[w] = append(p.pw[w], new(big.Int).Mod(two(uint(64*w)), bq).Uint64())
		}
		p.pFlood = append(p.pFlood, new(big.Int).Mod(two(FloodBits), bq).Uint64())
		tinv := new(big.Int).ModInverse(new(big.Int).Mod(T, bq), bq)
		for j := range p.tau {
			p.tau[j] = append(p.tau[j], new(big.Int).Mod(new(big.Int).Lsh(tinv, uint(32*j)), bq).Uint64())
		}
		p.half = append(p.half, new(big.Int).Mod(half, bq).Uint64())
	}
	for _, qi := range q[:outPrimes] {
		bq := new(big.Int).SetUint64(qi)
		qs := new(big.Int).Quo(p.bigQOut, bq)
		inv := new(big.Int).ModInverse(new(big.Int).Mod(qs, bq), bq)
		p.crtInv = append(p.crtInv, inv.Uint64())
		f := new(big.Int).Quo(new(big.Int).Lsh(big.NewInt(1), 192), bq)
		var fw [3]uint64
		for w := range fw {
			fw[w] = new(big.Int).And(new(big.Int).Rsh(f, uint(64*w)), new(big.Int).SetUint64(^uint64(0))).Uint64()
		}
		p.crtF = append(p.crtF, fw)
		p.crt = append(p.crt, qs.Mul(qs, inv).Mod(qs, p.bigQOut))
		p.qOutBits = append(p.qOutBits, bits.Len64(qi))
	}
	p.qOutHalf = new(big.Int).Rsh(p.bigQOut, 1)
	if err := p.Bound().Check(); err != nil {
		return nil, err
	}
	return p, nil
}

func lo128(x *big.Int) (lo, hi uint64) {
	m := new(big.Int).SetUint64(^uint64(0))
	lo = new(big.Int).And(x, m).Uint64()
	hi = new(big.Int).And(new(big.Int).Rsh(x, 64), m).Uint64()
	return
}

// LogQ and LogQOut are log2 of Q and Q'.
func (p *Params) LogQ() float64    { return logBig(p.bigQ) }
func (p *Params) LogQOut() float64 { return logBig(p.bigQOut) }

func logBig(x *big.Int) float64 {
	sh := x.BitLen() - 60
	if sh < 0 {
		sh = 0
	}
	return float64(sh) + math.Log2(float64(new(big.Int).Rsh(x, uint(sh)).Uint64()))
}

// NoiseBound is the decryption and flooding bound, each term an upper bound on the
// absolute noise of a wanted coefficient (as an integer) at the bounds the proofs
// guarantee (zk.go): for ANY upload and public key that passed their proofs, not only
// honest ones.
type NoiseBound struct {
	// Upload bounds the noise of an accepted upload ciphertext as an encryption with
	// plaintext modulus 2T under the key's extracted secret: (N P_epk P_u + P_e + N P_e
	// P_s + P_delta / T) / 2.
	Upload *big.Int
	// Product is Upload 2^127 MaxAccum: the product's noise over MaxAccum plaintext
	// coefficients of at most 2^127 (centered).
	Product *big.Int
	// Rerand is N P_epk + N ErrBound P_s + 1: the re-randomization's e_pk u + e1 s under
	// the extracted key, and the mask's rounding (at most 1).
	Rerand   *big.Int
	Flood    *big.Int // 2^FloodBits
	Switch   *big.Int // the modulus switching's rounding, at Q': (1 + N)
	Q, QOut  *big.Int
	MaxAtQ   *big.Int // Q / (4T): what the total at Q must stay below (plaintext space 2T)
	MaxAtOut *big.Int // Q' / (4T)
}

// Bound computes the noise bound of the parameters.
func (p *Params) Bound() NoiseBound {
	b := NoiseBound{Q: p.bigQ, QOut: p.bigQOut}
	pr := provenBounds()
	n := big.NewInt(N)
	mul := func(xs ...*big.Int) *big.Int {
		r := big.NewInt(1)
		for _, x := range xs {
			r.Mul(r, x)
		}
		return r
	}
	u := mul(n, pr.Epk, pr.U)
	u.Add(u, pr.E)
	u.Add(u, mul(n, pr.E, pr.S))
	u.Add(u, new(big.Int).Rsh(pr.Delta, 128))
	u.Add(u, big.NewInt(2)) // P_delta / T rounded up, and the halving's rounding up
	b.Upload = u.Rsh(u, 1)
	b.Product = new(big.Int).Lsh(mul(b.Upload, big.NewInt(MaxAccum)), 127)
	b.Rerand = mul(n, pr.Epk)
	b.Rerand.Add(b.Rerand, mul(n, big.NewInt(ErrBound), pr.S))
	b.Rerand.Add(b.Rerand, big.NewInt(1))
	b.Flood = new(big.Int).Lsh(big.NewInt(1), FloodBits)
	b.Switch = big.NewInt(1 + N)
	b.MaxAtQ = new(big.Int).Rsh(p.bigQ, 130)
	b.MaxAtOut = new(big.Int).Rsh(p.bigQOut, 130)
	return b
}

// Total is the noise bound at Q.
func (b NoiseBound) Total() *big.Int {
	t := new(big.Int).Add(b.Product, b.Rerand)
	return t.Add(t, b.Flood)
}

// TotalOut is the noise bound at Q' after modulus switching: Total Q'/Q + Switch (rounded up).
func (b NoiseBound) TotalOut() *big.Int {
	t := new(big.Int).Mul(b.Total(), b.QOut)
	t.Add(t, new(big.Int).Sub(b.Q, big.NewInt(1)))
	t.Quo(t, b.Q)
	return t.Add(t, b.Switch)
}

// Check returns an error unless the product's and re-randomization's noise at the
// proven bounds fits 2^ProductBits (so that the flooding 2^FloodBits hides it within
// 2^-StatBits per response polynomial), and the noise stays below Q/(4T) at Q and
// Q'/(4T) at Q', so that decryption at plaintext modulus 2T (zk.go) is exact.
func (b NoiseBound) Check() error {
	pr := new(big.Int).Add(b.Product, b.Rerand)
	if pr.BitLen() > ProductBits {
		return errs.New(errs.Internal, "hemat: product noise bound 2^%d above 2^%d", pr.BitLen(), ProductBits)
	}
	if b.Total().Cmp(b.MaxAtQ) >= 0 {
		return errs.New(errs.Internal, "hemat: noise bound %d bits, Q/4T %d bits", b.Total().BitLen(), b.MaxAtQ.BitLen())
	}
	if b.TotalOut().Cmp(b.MaxAtOut) >= 0 {
		return errs.New(errs.Internal, "hemat: noise bound at Q' %d bits, Q'/4T %d bits", b.TotalOut().BitLen(), b.MaxAtOut.BitLen())
	}
	return nil
}

func (b NoiseBound) String() string {
	return fmt.Sprintf("noise < 2^%d at Q (Q/4T = 2^%d), < 2^%d at Q' (Q'/4T = 2^%d); proven upload noise < 2^%d, product < 2^%d, flood 2^%d",
		b.Total().BitLen(), b.MaxAtQ.BitLen()-1, b.TotalOut().BitLen(), b.MaxAtOut.BitLen()-1, b.Upload.BitLen(), b.Product.BitLen(), FloodBits)
}

func addMod(a, b, q uint64) uint64 {
	s := a + b
	if s >= q || s < a {
		s -= q
	}
	return s
}

// mul is a*b mod q_i for a, b < q_i (Barrett).
func (p *Params) mul(a, b uint64, i int) uint64 { return ring.BRed(a, b, p.q[i], p.bred[i]) }

// residue is (hi 2^64 + lo) mod q_i.
func (p *Params) residue(lo, hi uint64, i int) uint64 {
	q, u := p.q[i], p.bred[i]
	return addMod(ring.BRed(ring.BRedAdd(hi, q, u), p.pw[1][i], q, u), ring.BRedAdd(lo, q, u), q)
}

// residueWords is (sum_w x[w] 2^(64 w)) mod q_i for len(x) <= floodWords.
func (p *Params) residueWords(x []uint64, i int) uint64 {
	q, u := p.q[i], p.bred[i]
	r := ring.BRedAdd(x[0], q, u)
	for w := 1; w < len(x); w++ {
		r = addMod(r, ring.BRed(ring.BRedAdd(x[w], q, u), p.pw[w][i], q, u), q)
	}
	return r
}

// signed is the residue of a signed 64-bit integer mod q_i.
// Barrett's reduction of one word (ring.BRedAdd) is exact for every 64-bit magnitude and
// about ten times cheaper than the division; -v of math.MinInt64 is 2^63 as a uint64.
func (p *Params) signed(v int64, i int) uint64 {
	q, u := p.q[i], p.bred[i]
	if v >= 0 {
		return ring.BRedAdd(uint64(v), q, u)
	}
	r := ring.BRedAdd(uint64(-v), q, u)
	if r == 0 {
		return 0
	}
	return q - r
}

// centered is the residue of the centered representative of the 128-bit value (in
// [-2^127, 2^127)).
func (p *Params) centered(lo, hi uint64, i int) uint64 {
	r := p.residue(lo, hi, i)
	if hi>>63 == 1 {
		q := p.q[i]
		r = addMod(r, q-p.pw[2][i], q)
	}
	return r
}

// scaledTop returns round(Q m / T) as (qHi-part, v): round(Q m/T) = floor(Q/T) m + v
// with v = round((Q mod T) m / T) < 2^128.
func (p *Params) scaledV(lo, hi uint64) (vlo, vhi uint64) {
	// 256-bit product (qLoH:qLoL) * (hi:lo)
	h0, l0 := bits.Mul64(p.qLoL, lo)
	h1, l1 := bits.Mul64(p.qLoL, hi)
	h2, l2 := bits.Mul64(p.qLoH, lo)
	h3, l3 := bits.Mul64(p.qLoH, hi)
	_ = l0
	// word1 = h0 + l1 + l2, word2 = h1 + h2 + l3 + carries, word3 = h3 + carries
	w1, c := bits.Add64(h0, l1, 0)
	w2, c2 := bits.Add64(h1, l3, c)
	w3 := h3 + c2
	w1, c = bits.Add64(w1, l2, 0)
	w2, c2 = bits.Add64(w2, h2, c)
	w3 += c2
	// round by bit 127 (top bit of w1)
	r := w1 >> 63
	vlo, c = bits.Add64(w2, r, 0)
	vhi = w3 + c
	return
}

// scaled is round(Q m / T) mod q_i for m = hi 2^64 + lo in [0, 2^128), given v from scaledV.
func (p *Params) scaled(lo, hi, vlo, vhi uint64, i int) uint64 {
	q := p.q[i]
	return addMod(p.mul(p.qHi[i], p.residue(lo, hi, i), i), p.residue(vlo, vhi, i), q)
}

// decode returns floor(T x / Q' + 3/4) mod T for x in Z_Q' given by its residues r (the
// first outPrimes): the decryptor's share ceil(D / 2) of D = round(2T x / Q') mod 2T =
// 2 (f - R) - rho, rho the mask's low bit (zk.go, "plaintext space 2T"). T x / Q' = sum_i
// y_i T / q_i mod T with y_i = r_i (Q'/q_i)^-1 mod q_i; each T / q_i is taken as
// floor(2^192 / q_i) / 2^64, an error below y_i / 2^64 < 2^-15 per term. Honest
// decryption gives T x / Q' within 2^-3 of an integer or of an integer and a half (the
// noise bound at Q' is below Q'/(2^3 4T)), so this rounding is exact.
func (p *Params) decode(r []uint64) (lo, hi uint64) {
	var a0, a1, a2 uint64 // the sum mod 2^192, in units of 2^-64
	for i := 0; i < p.outPrimes; i++ {
		y := p.mul(r[i], p.crtInv[i], i)
		f := &p.crtF[i]
		h0, l0 := bits.Mul64(y, f[0])
		h1, l1 := bits.Mul64(y, f[1])
		l2 := y * f[2]
		w1, c := bits.Add64(h0, l1, 0)
		w2 := h1 + l2 + c
		var c0, c1 uint64
		a0, c0 = bits.Add64(a0, l0, 0)
		a1, c1 = bits.Add64(a1, w1, c0)
		a2 += w2 + c1
	}
	var c uint64
	_, c = bits.Add64(a0, 3<<62, 0) // floor(T x / Q' + 3/4) (plaintext space 2T, zk.go)
	a1, c = bits.Add64(a1, 0, c)
	a2 += c
	return a1, a2
}
