package hemat

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ring128"
)

var (
	paramsOnce sync.Once
	testParams *Params
	paramsErr  error
)

func params(t testing.TB) *Params {
	paramsOnce.Do(func() { testParams, paramsErr = NewParams() })
	if paramsErr != nil {
		t.Fatal(paramsErr)
	}
	return testParams
}

func rnd(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func randVec(r *rand.Rand, n int) ring128.Vec {
	v := ring128.Make(n)
	for i := range v.Lo {
		v.Lo[i], v.Hi[i] = r.Uint64(), r.Uint64()
	}
	return v
}

func constVec(n int, lo, hi uint64) ring128.Vec {
	v := ring128.Make(n)
	for i := range v.Lo {
		v.Lo[i], v.Hi[i] = lo, hi
	}
	return v
}

// party holds one party's keys.
type party struct {
	sk *SecretKey
	pk *PublicKey
}

// keyCache holds the key pairs of newParties by parameters and seed: a key pair with its
// proof takes seconds to make and to verify.
var keyCache sync.Map // keyCacheKey -> [2]party

type keyCacheKey struct {
	p    *Params
	seed uint64
}

// newParties returns two key pairs drawn from seed, the public keys marshaled and parsed
// (their proofs verified) once per parameters and seed; every call gets fresh
// PublicKey values, whose response counts start at zero.
func newParties(t testing.TB, p *Params, seed uint64) [2]party {
	if v, ok := keyCache.Load(keyCacheKey{p, seed}); ok {
		ps := v.([2]party)
		for i := range ps {
			pk := ps[i].pk
			ps[i].pk = &PublicKey{Seed: pk.Seed, b: pk.b, a: pk.a, proof: pk.proof, digest: pk.digest}
		}
		return ps
	}
	var ps [2]party
	for i := range ps {
		sk, pk, err := p.KeyGen(rnd(seed + uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		// the public key goes over the wire
		if pk, err = p.UnmarshalPublicKey(p.MarshalPublicKey(pk)); err != nil {
			t.Fatal(err)
		}
		ps[i] = party{sk, pk}
	}
	keyCache.Store(keyCacheKey{p, seed}, ps)
	return newParties(t, p, seed)
}

// cross runs one direction: party i encrypts its factor enc, party j multiplies by its
// factor plain. It returns the decryptor's share f - R and the multiplier's R.
func cross(t testing.TB, p *Params, pl *Plan, pi, pj party, enc, plain ring128.Vec, seed uint64) (dec, mask ring128.Vec) {
	t.Helper()
	up, err := pi.sk.Encrypt(pl, enc, rnd(seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != p.UploadBytes(pl) {
		t.Fatalf("upload %d bytes, UploadBytes %d", len(up), p.UploadBytes(pl))
	}
	u, err := p.ReadUpload(pl, pi.pk, up)
	if err != nil {
		t.Fatal(err)
	}
	resp, mask, err := p.Respond(u, plain, rnd(seed+1))
	if err != nil {
		t.Fatal(err)
	}
	dec, err = pi.sk.Decrypt(pl, resp)
	if err != nil {
		t.Fatal(err)
	}
	return dec, mask
}

// tripleShares computes shares of f(L0 + L1, R0 + R1) from both directions' cross terms
// and the local products (apply adds f(l, r) to out).
func tripleShares(t testing.TB, p *Params, pl *Plan, ps [2]party, l, r [2]ring128.Vec, apply func(out, l, r ring128.Vec)) [2]ring128.Vec {
	var c [2]ring128.Vec
	for i := range c {
		c[i] = ring128.Make(pl.OutLen)
		apply(c[i], l[i], r[i])
	}
	for i := 0; i < 2; i++ {
		j := 1 - i
		enc, plain := l[i], r[j]
		if !pl.EncryptLeft {
			enc, plain = r[i], l[j]
		}
		dec, mask := cross(t, p, pl, ps[i], ps[j], enc, plain, uint64(100+10*i))
		ring128.Add(c[i], c[i], dec)
		ring128.Add(c[j], c[j], mask)
	}
	return c
}

func equal(a, b ring128.Vec) bool {
	for i := range a.Lo {
		if a.Lo[i] != b.Lo[i] || a.Hi[i] != b.Hi[i] {
			return false
		}
	}
	return a.Len() == b.Len()
}

func sum(a, b ring128.Vec) ring128.Vec {
	s := ring128.Make(a.Len())
	ring128.Add(s, a, b)
	return s
}

func matMulRef(m, k, n int) func(out, l, r ring128.Vec) {
	return func(out, l, r ring128.Vec) { ring128.MatMulAdd(out, l, r, m, k, n) }
}

// depthwiseRef is spdz2k's gatherMul (out[i] += sum_j x[xIdx[i k + j]] w[wIdx[i k + j]])
// from ring128's Gather, Mul and SumGroups.
func depthwiseRef(d Depthwise) func(out, l, r ring128.Vec) {
	xIdx, wIdx := d.IndexMaps()
	return func(out, l, r ring128.Vec) {
		prod := ring128.Gather(l, xIdx)
		ring128.Mul(prod, prod, ring128.Gather(r, wIdx))
		ring128.Add(out, out, ring128.SumGroups(prod, d.KH*d.KW))
	}
}

func TestParamsBound(t *testing.T) {
	p := params(t)
	b := p.Bound()
	t.Logf("log2 Q = %.2f, log2 Q' = %.2f; %v", p.LogQ(), p.LogQOut(), b)
	if p.LogQ() > 438 {
		t.Errorf("log2 Q = %.1f above 438 (HE standard, 128-bit, N = 2^14)", p.LogQ())
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	// the check fails when the flooding no longer fits
	b.Flood = new(big.Int).Lsh(b.Flood, uint(b.MaxAtQ.BitLen()-FloodBits))
	if err := b.Check(); err == nil {
		t.Errorf("Check accepted a flooding of 2^%d with Q/2T = 2^%d", b.Flood.BitLen()-1, b.MaxAtQ.BitLen()-1)
	}
}

func TestMatMulShares(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 1)
	cases := []struct {
		m, k, n, mw, kw, nw int
		transpose           bool
	}{
		{2, 3, 4, 2, 3, 4, false},
		{5, 7, 3, 5, 7, 3, true},
		{33, 65, 17, 8, 16, 5, false},  // edge blocks everywhere, 5 x 5 x 4 ciphertext blocks
		{17, 100, 29, 7, 11, 13, true}, // transposed, not powers of two
		{40, 300, 50, 40, 1, 409, false},
	}
	for ci, c := range cases {
		pl, err := MatMulPlan(c.m, c.k, c.n, c.mw, c.kw, c.nw, c.transpose)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(ci), 7))
		l := [2]ring128.Vec{randVec(r, c.m*c.k), randVec(r, c.m*c.k)}
		w := [2]ring128.Vec{randVec(r, c.k*c.n), randVec(r, c.k*c.n)}
		shares := tripleShares(t, p, pl, ps, l, w, matMulRef(c.m, c.k, c.n))
		want := ring128.Make(c.m * c.n)
		ring128.MatMulAdd(want, sum(l[0], l[1]), sum(w[0], w[1]), c.m, c.k, c.n)
		if !equal(sum(shares[0], shares[1]), want) {
			t.Errorf("%s: shares do not sum to the product", pl.Name)
		}
		t.Logf("%s: %d+%d polynomials, %d responses, %d products", pl.Name, pl.XPolys, pl.WPolys, pl.OutPolys(), pl.Products)
	}
}

func TestDepthwiseShares(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 2)
	cases := []Depthwise{
		{H: 6, W: 5, C: 3, KH: 3, KW: 3, Stride: 1, PadT: 1, PadL: 1, OH: 6, OW: 5},
		{H: 9, W: 9, C: 7, KH: 3, KW: 3, Stride: 2, PadT: 0, PadL: 0, OH: 4, OW: 4},
		{H: 8, W: 8, C: 37, KH: 3, KW: 3, Stride: 2, PadT: 0, PadL: 0, OH: 4, OW: 4},    // TFLite SAME, stride 2: pad bottom/right
		{H: 64, W: 64, C: 3, KH: 3, KW: 3, Stride: 1, PadT: 1, PadL: 1, OH: 64, OW: 64}, // one channel per ciphertext
	}
	for ci, d := range cases {
		pl, err := DepthwisePlan(d)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(ci), 9))
		l := [2]ring128.Vec{randVec(r, pl.LeftLen), randVec(r, pl.LeftLen)}
		w := [2]ring128.Vec{randVec(r, pl.RightLen), randVec(r, pl.RightLen)}
		shares := tripleShares(t, p, pl, ps, l, w, depthwiseRef(d))
		want := ring128.Make(pl.OutLen)
		depthwiseRef(d)(want, sum(l[0], l[1]), sum(w[0], w[1]))
		if !equal(sum(shares[0], shares[1]), want) {
			t.Errorf("%s: shares do not sum to the product", pl.Name)
		}
		t.Logf("%s: %d ciphertexts, %d responses", pl.Name, pl.XPolys, pl.OutPolys())
	}
}

// maxNoise decrypts resp and returns the largest distance of x = c0 + c1 s (centered
// mod Q') to the grid Q'/2T Z of the plaintext space 2T (zk.go) over the wanted
// coefficients, checking that the nearest grid point is 2 (want - mask) - rho for rho
// in {0, 1}.
func maxNoise(t *testing.T, sk *SecretKey, pl *Plan, resp []byte, want ring128.Vec) *big.Int {
	p := sk.p
	T2 := new(big.Int).Lsh(big.NewInt(1), 129)
	worst := new(big.Int)
	bad := 0
	err := sk.phases(pl, resp, func(e int32, r []uint64) {
		x := new(big.Int)
		for i, ri := range r { // CRT
			x.Add(x, new(big.Int).Mul(new(big.Int).SetUint64(ri), p.crt[i]))
		}
		x.Mod(x, p.bigQOut)
		// D = round(2T x / Q'), noise = x - D Q' / 2T
		d := new(big.Int).Mul(x, T2)
		d.Add(d, p.qOutHalf).Quo(d, p.bigQOut)
		n := new(big.Int).Mul(d, p.bigQOut)
		n.Sub(new(big.Int).Mul(x, T2), n)
		n.Quo(n, T2)
		if n.CmpAbs(worst) > 0 {
			worst.Abs(n)
		}
		m := new(big.Int).Lsh(new(big.Int).SetUint64(want.Hi[e]), 64)
		m.Or(m, new(big.Int).SetUint64(want.Lo[e]))
		m.Lsh(m, 1)
		diff := new(big.Int).Sub(m, d)
		diff.Mod(diff, T2)
		if diff.Cmp(big.NewInt(1)) > 0 {
			bad++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d coefficients off the plaintext", bad)
	}
	return worst
}

// TestNoiseWorstCase: the decryption bound at the worst-case inputs (every coefficient
// 2^128 - 1 or 2^127, which is -2^127 centered) with the most accumulation a plan may
// have (1024 x 1023 plaintext coefficients per response, near MaxAccum): the product's
// noise measured without flooding at Q stays below the bound's product term; with the
// flooding and no modulus switching the noise at Q is the flooding's (above
// 2^(FloodBits-1): the largest of 1023 uniform draws in [-2^FloodBits, 2^FloodBits) is
// below that with probability 2^-1023) and below the total bound; and with the real
// parameters the decrypted shares are right and the noise at Q' below its bound.
func TestNoiseWorstCase(t *testing.T) {
	pNoFlood, err := newParams(Primes, true)
	if err != nil {
		t.Fatal(err)
	}
	pFloodQ, err := newParams(Primes, false)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := MatMulPlan(1, 1024, 1023, 1, 16, 1023, false)
	if err != nil {
		t.Fatal(err)
	}
	if pl.outs[0].accum != 1024*1023 {
		t.Fatalf("accumulated %d", pl.outs[0].accum)
	}
	for _, in := range []struct {
		name               string
		lLo, lHi, rLo, rHi uint64
	}{
		{"2^128-1 by 2^127", ^uint64(0), ^uint64(0), 0, 1 << 63},
		{"2^127 by 2^127", 0, 1 << 63, 0, 1 << 63},
		{"2^128-1 by 2^128-1", ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)},
	} {
		l, r := constVec(1024, in.lLo, in.lHi), constVec(1024*1023, in.rLo, in.rHi)
		want := ring128.Make(1023)
		ring128.MatMulAdd(want, l, r, 1, 1024, 1023)
		for _, p := range []*Params{pNoFlood, pFloodQ, params(t)} {
			name := fmt.Sprintf("%s, flood %v, %d primes out", in.name, !p.noFlood, p.outPrimes)
			ps := newParties(t, p, 3)
			up, err := ps[0].sk.Encrypt(pl, l, rnd(5))
			if err != nil {
				t.Fatal(err)
			}
			u, err := p.ReadUpload(pl, ps[0].pk, up)
			if err != nil {
				t.Fatal(err)
			}
			resp, mask, err := p.Respond(u, r, rnd(6))
			if err != nil {
				t.Fatal(err)
			}
			dec, err := ps[0].sk.Decrypt(pl, resp)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(sum(dec, mask), want) {
				t.Errorf("%s: wrong product", name)
			}
			m := ring128.Make(want.Len())
			ring128.Sub(m, want, mask)
			noise := maxNoise(t, ps[0].sk, pl, resp, m)
			b := p.Bound()
			limit := b.TotalOut()
			switch {
			case p.noFlood:
				limit = new(big.Int).Add(b.Product, b.Rerand)
			case p.outPrimes == Primes:
				limit = b.Total()
				if noise.BitLen() < FloodBits {
					t.Errorf("%s: noise 2^%d at Q, below the flooding's 2^%d", name, noise.BitLen(), FloodBits-1)
				}
			}
			t.Logf("%s: noise 2^%d, bound 2^%d", name, noise.BitLen(), limit.BitLen())
			if noise.Cmp(limit) > 0 {
				t.Errorf("%s: noise %v above the bound %v", name, noise, limit)
			}
		}
	}
}

// TestResponseLimit: Respond counts the response polynomials under each parsed public
// key and refuses, with a Config error naming the limit, the response that would exceed
// it (counting nothing for it); another key pair (a new session) is counted apart. The
// limit is lowered to 3 on a copy of the parameters; the real one is 2^16, the most that
// keeps 2^-KeyStatBits per key pair at 2^-StatBits per response polynomial.
func TestResponseLimit(t *testing.T) {
	if MaxResponses != 1<<16 || params(t).maxResponses != MaxResponses || StatBits-KeyStatBits != 16 || KeyStatBits < 40 {
		t.Fatalf("limit %d (params %d), StatBits %d, KeyStatBits %d", MaxResponses, params(t).maxResponses, StatBits, KeyStatBits)
	}
	p := new(Params)
	*p = *params(t)
	p.maxResponses = 3
	ps := newParties(t, p, 8)
	one, err := MatMulPlan(4, 6, 5, 4, 6, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	two, err := ScalarPlan(N + 1) // two response polynomials
	if err != nil || one.OutPolys() != 1 || two.OutPolys() != 2 {
		t.Fatalf("plans: %d and %d response polynomials (%v)", one.OutPolys(), two.OutPolys(), err)
	}
	r := rand.New(rand.NewPCG(8, 8))
	upload := func(pi party, pl *Plan) *Upload {
		up, err := pi.sk.Encrypt(pl, randVec(r, pl.EncLen()), rnd(1))
		if err != nil {
			t.Fatal(err)
		}
		u, err := p.ReadUpload(pl, pi.pk, up)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	respond := func(u *Upload) error {
		_, _, err := p.Respond(u, randVec(r, u.pl.PlainLen()), rnd(2))
		return err
	}
	u1, u2 := upload(ps[0], one), upload(ps[0], two)
	if err := respond(u1); err != nil {
		t.Fatal(err)
	}
	if err := respond(u2); err != nil { // 3 of 3
		t.Fatal(err)
	}
	err = respond(u1) // the 4th
	if errs.KindOf(err) != errs.Config || !strings.Contains(fmt.Sprint(err), "at most 3 response polynomials per key pair; start a new session") {
		t.Fatalf("4th response polynomial under one key: %v", err)
	}
	if n := ps[0].pk.Responses(); n != 3 {
		t.Errorf("%d responses counted, want 3", n)
	}
	// all or nothing: 2 more do not fit after 2, and the refusal counts nothing
	q := newParties(t, p, 10)
	v1, v2 := upload(q[0], one), upload(q[0], two)
	if err := respond(v1); err != nil {
		t.Fatal(err)
	}
	if err := respond(v1); err != nil {
		t.Fatal(err)
	}
	if err := respond(v2); errs.KindOf(err) != errs.Config {
		t.Errorf("2 response polynomials after 2 of 3: %v", err)
	}
	if err := respond(v1); err != nil {
		t.Errorf("the 3rd after a refusal: %v", err)
	}
	// the other party's key is counted apart
	if err := respond(upload(ps[1], two)); err != nil {
		t.Errorf("another key: %v", err)
	}
}

// TestWrongKeyOrCorrupted: a response decrypted with another key, or computed from a
// corrupted upload, or corrupted itself, does not give the product.
func TestWrongKeyOrCorrupted(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 4)
	pl, err := MatMulPlan(4, 6, 5, 4, 6, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	l, w := randVec(r, 24), randVec(r, 30)
	want := ring128.Make(20)
	ring128.MatMulAdd(want, l, w, 4, 6, 5)
	up, err := ps[0].sk.Encrypt(pl, l, rnd(1))
	if err != nil {
		t.Fatal(err)
	}
	respond := func(up []byte) ([]byte, ring128.Vec, error) {
		u, err := p.ReadUpload(pl, ps[0].pk, up)
		if err != nil {
			return nil, ring128.Vec{}, err
		}
		return p.Respond(u, w, rnd(2))
	}
	resp, mask, err := respond(up)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := ps[0].sk.Decrypt(pl, resp)
	if err != nil || !equal(sum(dec, mask), want) {
		t.Fatalf("honest run: %v", err)
	}
	if dec, err := ps[1].sk.Decrypt(pl, resp); err != nil || equal(sum(dec, mask), want) {
		t.Errorf("the other party's key decrypted the product (err %v)", err)
	}
	// a wrong bit in c0 or c1 (coefficient 0 of the first prime, in the NTT domain) is
	// refused by the upload's proof (zk_test.go tampers every part of the upload)
	for _, off := range []int{0, p.polyBytes(Primes, N)} {
		bad := bytes.Clone(up)
		bad[off] ^= 1 << 3
		if _, _, err := respond(bad); errs.KindOf(err) != errs.Cheating {
			t.Errorf("an upload with a bit flipped at byte %d: %v", off, err)
		}
	}
	// a corrupted response: a bit of c1
	bad := bytes.Clone(resp)
	bad[100] ^= 1 << 5
	if dec, err := ps[0].sk.Decrypt(pl, bad); err == nil && equal(sum(dec, mask), want) {
		t.Errorf("a corrupted response decrypted to the product")
	}
	// wrong sizes are the peer's fault
	if _, _, err := respond(up[:len(up)-1]); errs.KindOf(err) != errs.Party {
		t.Errorf("short upload: %v", err)
	}
	if _, err := ps[0].sk.Decrypt(pl, resp[1:]); errs.KindOf(err) != errs.Party {
		t.Errorf("short response: %v", err)
	}
	if _, err := p.UnmarshalPublicKey(make([]byte, p.PublicKeyBytes())); errs.KindOf(err) != errs.Cheating {
		t.Errorf("zero public key (and a zero proof): %v", err)
	}
	allOnes := bytes.Repeat([]byte{0xff}, p.PublicKeyBytes())
	if _, err := p.UnmarshalPublicKey(allOnes); errs.KindOf(err) != errs.Party {
		t.Errorf("residues above their primes accepted: %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	if _, err := MatMulPlan(64, 64, 64, 64, 64, 64, false); errs.KindOf(err) != errs.Shape {
		t.Errorf("blocks of 64^3 > N: %v", err)
	}
	if _, err := MatMulPlan(1, 2048, 1024, 1, 16, 1023, false); errs.KindOf(err) != errs.Shape {
		t.Errorf("accumulating 2048 x 1023 > MaxAccum: %v", err)
	}
	if _, err := DepthwisePlan(Depthwise{H: 200, W: 200, C: 1, KH: 3, KW: 3, Stride: 1, PadT: 1, PadL: 1, OH: 200, OW: 200}); errs.KindOf(err) != errs.Shape {
		t.Errorf("a 202x202 channel > N: %v", err)
	}
}

// TestBestMatMulCost: the chosen plan's predicted bytes are the plan's serialized sizes
// (the response's within one byte per polynomial), and the plan computes the product.
func TestBestMatMulCost(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 6)
	for _, s := range [][3]int{{1024, 32, 32}, {1, 256, 1001}, {64, 64, 128}, {4096, 27, 8}, {3, 5, 7}} {
		c, err := p.BestMatMul(s[0], s[1], s[2], 2)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := c.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if u := p.UploadBytes(pl); u != c.Upload {
			t.Errorf("%s: upload %d, predicted %d", pl.Name, u, c.Upload)
		}
		if r := p.ResponseBytes(pl); r > c.Response || r < c.Response-pl.OutPolys() {
			t.Errorf("%s: response %d, predicted %d", pl.Name, r, c.Response)
		}
		if pl.XPolys != c.XPolys || pl.WPolys != c.WPolys || pl.OutPolys() != c.OutPolys || pl.Products != c.Products {
			t.Errorf("%s: polynomials %d %d %d %d, predicted %+v", pl.Name, pl.XPolys, pl.WPolys, pl.OutPolys(), pl.Products, c)
		}
		if testing.Short() && s[0]*s[1]*s[2] > 1<<16 {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(s[0]), 8))
		l := [2]ring128.Vec{randVec(r, s[0]*s[1]), randVec(r, s[0]*s[1])}
		w := [2]ring128.Vec{randVec(r, s[1]*s[2]), randVec(r, s[1]*s[2])}
		shares := tripleShares(t, p, pl, ps, l, w, matMulRef(s[0], s[1], s[2]))
		want := ring128.Make(s[0] * s[2])
		ring128.MatMulAdd(want, sum(l[0], l[1]), sum(w[0], w[1]), s[0], s[1], s[2])
		if !equal(sum(shares[0], shares[1]), want) {
			t.Errorf("%s: shares do not sum to the product", pl.Name)
		}
	}
}

// TestDecode: the RNS decoding gives M for x = round(Q' (2M - rho) / 2T) + e, rho in {0,
// 1} (the mask's low bit) and |e| up to the noise bound at Q', for random M.
func TestDecode(t *testing.T) {
	p := params(t)
	T := new(big.Int).Lsh(big.NewInt(1), 128)
	r := rand.New(rand.NewPCG(5, 5))
	limit := p.Bound().TotalOut().Int64()
	res := make([]uint64, p.outPrimes)
	for it := 0; it < 20000; it++ {
		lo, hi := r.Uint64(), r.Uint64()
		if it%4 == 0 {
			lo, hi = ^uint64(0), ^uint64(0)>>uint(r.IntN(2)*63) // near T and near 2^65
		}
		m := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		m.Or(m, new(big.Int).SetUint64(lo))
		// the honest decryptor's value: round(Q' (2M - rho) / 2T) (zk.go, plaintext space 2T)
		x := new(big.Int).Lsh(m, 1)
		x.Sub(x, big.NewInt(int64(it&1)))
		x.Mul(x, p.bigQOut)
		x.Add(x, T).Quo(x, new(big.Int).Lsh(T, 1))
		x.Add(x, big.NewInt(r.Int64N(2*limit+1)-limit))
		x.Mod(x, p.bigQOut)
		for i := range res {
			res[i] = new(big.Int).Mod(x, new(big.Int).SetUint64(p.q[i])).Uint64()
		}
		gl, gh := p.decode(res)
		if gl != lo || gh != hi {
			t.Fatalf("decode of M = %v + noise gave %x %x", m, gh, gl)
		}
	}
}

// TestScalarShares: shares of alpha x for shared alpha and x (SPDZ's MACs) from the
// scalar plan, over more than one response polynomial; and its bytes per element.
func TestScalarShares(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 7)
	n := N + 1000
	pl, err := ScalarPlan(n)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	a := [2]ring128.Vec{randVec(r, 1), randVec(r, 1)}
	x := [2]ring128.Vec{randVec(r, n), randVec(r, n)}
	apply := func(out, a, x ring128.Vec) {
		tmp := ring128.Make(n)
		ring128.MulScalar(tmp, x, a.At(0))
		ring128.Add(out, out, tmp)
	}
	shares := tripleShares(t, p, pl, ps, a, x, apply)
	want := ring128.Make(n)
	apply(want, sum(a[0], a[1]), sum(x[0], x[1]))
	if !equal(sum(shares[0], shares[1]), want) {
		t.Errorf("%s: shares do not sum to alpha x", pl.Name)
	}
	t.Logf("%s: response %d bytes, %.1f B per element (upload %d bytes once per key)", pl.Name, p.ResponseBytes(pl), float64(p.ResponseBytes(pl))/float64(n), p.UploadBytes(pl))
}
