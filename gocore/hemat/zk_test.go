package hemat

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// wantCheating fails unless err is an errs.Cheating error containing want.
func wantCheating(t *testing.T, what string, err error, want string) {
	t.Helper()
	if errs.KindOf(err) != errs.Cheating || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("%s: got %v, want a cheating error with %q", what, err, want)
	}
}

// wantRefused fails unless err is the verifier's refusal of a response beyond its
// bound (usually of component c; the forced attempt may also have another component's
// response out of bound, as rejection sampling would have restarted it 12 % of the
// time), or, when the response does not even fit its field on the wire (the encoding
// keeps its low bits), that the recomputed commitments do not hash to the challenge.
func wantRefused(t *testing.T, what string, err error, c int) {
	t.Helper()
	msg := fmt.Sprint(err)
	if errs.KindOf(err) != errs.Cheating || !strings.Contains(msg, "out of its bound") && !strings.Contains(msg, "do not hash to the challenge") {
		t.Errorf("%s: got %v, want the proof's refusal", what, err)
	}
}

// TestProofGroups: an upload of 33 polynomials carries two proofs (32 + 1 ciphertexts),
// both verified, and the product is exact; the byte count is UploadBytes'.
func TestProofGroups(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 20)
	pl, err := MatMulPlan(33, 1, 3, 1, 1, 3, false)
	if err != nil || pl.XPolys != 33 {
		t.Fatalf("plan: %d polynomials (%v)", pl.XPolys, err)
	}
	r := rand.New(rand.NewPCG(20, 1))
	x, w := randVec(r, 33), randVec(r, 3)
	dec, mask := cross(t, p, pl, ps[0], ps[1], x, w, 21)
	want := ring128.Make(99)
	ring128.MatMulAdd(want, x, w, 33, 1, 3)
	if !equal(sum(dec, mask), want) {
		t.Errorf("wrong product")
	}
	groups := proofGroups(33)
	if len(groups) != 2 || groups[1] != [2]int{32, 33} {
		t.Errorf("groups %v", groups)
	}
}

// honestUpload returns a plan of two upload polynomials, the witnesses of a random
// factor and the encryptor's key pair.
func honestUpload(t *testing.T, p *Params, seed uint64) (*Plan, [][][]int64, [2]party) {
	ps := newParties(t, p, 22)
	pl, err := MatMulPlan(2, 1, 5, 1, 1, 5, false)
	if err != nil || pl.XPolys != 2 {
		t.Fatalf("plan: %v", err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	wits, err := p.witnesses(pl, randVec(r, pl.EncLen()), rnd(seed))
	if err != nil {
		t.Fatal(err)
	}
	return pl, wits, ps
}

func cloneWits(w [][][]int64) [][][]int64 {
	c := make([][][]int64, len(w))
	for k := range w {
		for _, comp := range w[k] {
			c[k] = append(c[k], append([]int64(nil), comp...))
		}
	}
	return c
}

// TestProofRejectsBounds: an upload (or public key) whose witness exceeds a bound by
// more than the slack is refused: each component of the upload's witness (u, e0, e1,
// and each limb of delta, that is a plaintext beyond [-T/2, T/2]) and of the key's (s,
// e), one coefficient set far out, the proof made anyway (force) and checked by the
// verifier. The honest witnesses are accepted.
func TestProofRejectsBounds(t *testing.T) {
	p := params(t)
	pl, wits, ps := honestUpload(t, p, 23)
	up, err := p.sealUpload(ps[0].pk, pl, wits, rnd(1), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ReadUpload(pl, ps[0].pk, up); err != nil {
		t.Fatalf("honest upload: %v", err)
	}
	for c, name := range []string{"u", "e0", "e1", "delta_0", "delta_1", "delta_2", "delta_3"} {
		bad := cloneWits(wits)
		// far beyond the verifier's bound on z (2^23 U B_c, U = 2) for this component
		bad[1][c][77] = ctBounds[c] << 26
		up, err := p.sealUpload(ps[0].pk, pl, bad, rnd(uint64(c)), nil, true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.ReadUpload(pl, ps[0].pk, up)
		wantRefused(t, "upload with a large "+name, err, c)
		t.Logf("%s: %v", name, err)
	}
	for c, name := range []string{"s", "e"} {
		s := make([]int64, N)
		e := make([]int64, N)
		w := [][]int64{s, e}
		w[c][5] = keyBounds[c] << 27
		_, pk, err := p.keyFromWitness(prg.Key{1}, s, e, rnd(3), true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.UnmarshalPublicKey(p.MarshalPublicKey(pk))
		wantRefused(t, "public key with a large "+name, err, c)
	}
}

// TestProofRejectsMalformed: a ciphertext not of the claimed form, proven by its
// encryptor as if it were (the statement changed after the encryption: c1 or c0 plus a
// term the witness does not explain), is refused; so is an upload verified under
// another key or for another plan, and a public key whose b is not -a s + e.
func TestProofRejectsMalformed(t *testing.T) {
	p := params(t)
	pl, wits, ps := honestUpload(t, p, 24)
	for _, c := range []struct {
		name   string
		tamper func(u int, c0, c1 ring.Poly)
	}{
		{"c1 + 1 in one NTT slot", func(u int, c0, c1 ring.Poly) {
			if u == 1 {
				c1.Coeffs[0][9] = addMod(c1.Coeffs[0][9], 1, p.q[0])
			}
		}},
		{"c1 = a (a secret-key ciphertext's c1)", func(u int, c0, c1 ring.Poly) {
			if u == 0 {
				c1.Copy(ps[0].pk.a)
			}
		}},
		{"c0 + 2^200 in every coefficient's residue", func(u int, c0, c1 ring.Poly) {
			if u == 0 {
				for i := range c0.Coeffs {
					c0.Coeffs[i][0] = addMod(c0.Coeffs[i][0], p.pw[3][i], p.q[i])
				}
			}
		}},
	} {
		up, err := p.sealUpload(ps[0].pk, pl, wits, rnd(2), c.tamper, false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.ReadUpload(pl, ps[0].pk, up)
		wantCheating(t, c.name, err, "do not hash to the challenge")
	}
	up, err := p.sealUpload(ps[0].pk, pl, wits, rnd(2), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.ReadUpload(pl, ps[1].pk, up)
	wantCheating(t, "under the other party's key", err, "do not hash to the challenge")
	other, err := MatMulPlan(2, 1, 5, 1, 1, 4, false) // another plan of two upload polynomials
	if err != nil || other.XPolys != 2 || p.UploadBytes(other) != len(up) {
		t.Fatalf("plan: %v", err)
	}
	_, err = p.ReadUpload(other, ps[0].pk, up)
	wantCheating(t, "for another plan", err, "do not hash to the challenge")
	// a public key b' = b + 1 with the proof of b
	_, pk, err := p.KeyGen(rnd(30))
	if err != nil {
		t.Fatal(err)
	}
	for i := range pk.b.Coeffs {
		pk.b.Coeffs[i][0] = addMod(pk.b.Coeffs[i][0], 1, p.q[i])
	}
	_, err = p.UnmarshalPublicKey(p.MarshalPublicKey(pk))
	wantCheating(t, "public key b + 1", err, "do not hash to the challenge")
}

// TestProofTampered: a bit flipped anywhere in an upload (each ciphertext's c0 and c1,
// the proof's hash, which seeds the challenge, and its responses, first and last row,
// every component) or in a public key (seed, b, proof) is refused.
func TestProofTampered(t *testing.T) {
	p := params(t)
	pl, wits, ps := honestUpload(t, p, 25)
	up, err := p.sealUpload(ps[0].pk, pl, wits, rnd(4), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	per := p.polyBytes(Primes, N)
	cts := 2 * p.ciphertextBytes()
	rel := p.ctRelation(nil)
	_, width := rel.zBounds(2)
	row := 0
	for _, w := range width {
		row += w * N
	}
	offsets := map[string]int{}
	for u := 0; u < 2; u++ {
		offsets[fmt.Sprintf("ct %d c0 first byte", u)] = 2 * u * per
		offsets[fmt.Sprintf("ct %d c0 last byte", u)] = 2*u*per + per - 2
		offsets[fmt.Sprintf("ct %d c1 middle", u)] = 2*u*per + per + per/2
	}
	offsets["proof hash byte 0"] = cts
	offsets["proof hash byte 31"] = cts + 31
	for _, i := range []int{0, ProofRows - 1} {
		bit := i * row
		for c, w := range width {
			offsets[fmt.Sprintf("response row %d component %d", i, c)] = cts + 32 + (bit+w*N/2)/8
			bit += w * N
		}
	}
	offsets["last byte"] = len(up) - 1
	for name, off := range offsets {
		for _, b := range []byte{1, 0x80} {
			bad := bytes.Clone(up)
			bad[off] ^= b
			if _, err := p.ReadUpload(pl, ps[0].pk, bad); errs.KindOf(err) != errs.Cheating && errs.KindOf(err) != errs.Party {
				t.Errorf("%s (byte %d ^ %#x): %v", name, off, b, err)
			} else if errs.KindOf(err) == errs.Party && !strings.Contains(fmt.Sprint(err), "not below its prime") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	key := p.MarshalPublicKey(ps[1].pk)
	kb := SeedSize + p.polyBytes(Primes, N)
	for name, off := range map[string]int{"seed": 3, "b": SeedSize + 1000, "proof hash": kb + 7, "proof response": kb + 32 + 5000, "proof last byte": len(key) - 1} {
		bad := bytes.Clone(key)
		bad[off] ^= 4
		if _, err := p.UnmarshalPublicKey(bad); errs.KindOf(err) != errs.Cheating && (errs.KindOf(err) != errs.Party || !strings.Contains(fmt.Sprint(err), "not below its prime")) {
			t.Errorf("public key, %s flipped: %v", name, err)
		}
	}
}

// TestProofAttack: the attack the proofs stop. A malicious encryptor uploads an
// encryption of 0 whose c0 carries an extra 2^179 (in coefficient 0: the error of a
// ciphertext not of the claimed form) for the scalar plan; the responder's product then
// carries 2^179 W_e on coefficient e, far above the flooding (2^305 at Q, so about
// 2^(179+127-288) = 2^18 against 2^17 at Q'), and the decryptor reads the sign of each
// of the responder's W_e from the decrypted noise: without the proof (readUpload with
// verify off) it guesses more than 80 % of 4096 signs right (chance: 50 %); the same
// upload, with its proof, is refused by ReadUpload.
func TestProofAttack(t *testing.T) {
	p := params(t)
	ps := newParties(t, p, 26)
	n := 4096
	pl, err := ScalarPlan(n)
	if err != nil {
		t.Fatal(err)
	}
	wits, err := p.witnesses(pl, ring128.Make(1), rnd(5))
	if err != nil {
		t.Fatal(err)
	}
	e179 := new(big.Int).Lsh(big.NewInt(1), 179)
	attack := func(u int, c0, c1 ring.Poly) {
		for i := range c0.Coeffs { // + 2^179 Z^0: every NTT slot + 2^179
			v := new(big.Int).Mod(e179, new(big.Int).SetUint64(p.q[i])).Uint64()
			for j := range c0.Coeffs[i] {
				c0.Coeffs[i][j] = addMod(c0.Coeffs[i][j], v, p.q[i])
			}
		}
	}
	up, err := p.sealUpload(ps[0].pk, pl, wits, rnd(6), attack, false)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(26, 3))
	w := randVec(r, n)
	guess := func(u *Upload) float64 {
		resp, _, err := p.Respond(u, w, rnd(7))
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		T2 := new(big.Int).Lsh(big.NewInt(1), 129)
		err = ps[0].sk.phases(pl, resp, func(e int32, res []uint64) {
			x := new(big.Int)
			for i, ri := range res {
				x.Add(x, new(big.Int).Mul(new(big.Int).SetUint64(ri), p.crt[i]))
			}
			x.Mod(x, p.bigQOut)
			// the residual x - D Q'/2T, D the nearest point of the plaintext grid
			d := new(big.Int).Mul(x, T2)
			d.Add(d, p.qOutHalf).Quo(d, p.bigQOut)
			res2 := new(big.Int).Sub(new(big.Int).Mul(x, T2), new(big.Int).Mul(d, p.bigQOut))
			if (res2.Sign() < 0) == (w.Hi[e]>>63 == 1) {
				right++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return float64(right) / float64(n)
	}
	unchecked, err := p.readUpload(pl, ps[0].pk, up, false)
	if err != nil {
		t.Fatal(err)
	}
	frac := guess(unchecked)
	t.Logf("without the proof: %.1f %% of W's signs read from the decrypted noise", 100*frac)
	if frac < 0.8 {
		t.Errorf("the attack read only %.1f %% of the signs: it should work without the proof", 100*frac)
	}
	// an honest upload gives the attacker nothing: about half the signs
	honest, err := p.sealUpload(ps[0].pk, pl, wits, rnd(6), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	hu, err := p.ReadUpload(pl, ps[0].pk, honest)
	if err != nil {
		t.Fatal(err)
	}
	if f := guess(hu); f > 0.55 || f < 0.45 {
		t.Errorf("an honest upload let the attacker read %.1f %% of the signs", 100*f)
	}
	_, err = p.ReadUpload(pl, ps[0].pk, up)
	wantCheating(t, "the attack's upload", err, "do not hash to the challenge")
}

// TestNoiseProvenBound: the noise at the PROVEN bounds. A key pair with s = P_s and e =
// P_epk in every coefficient (the largest the key's proof lets through) and an upload
// whose u, e0, e1 are the largest the upload's proof lets through (P / 2 in every
// coefficient: the proof guarantees 2c, package doc), times the worst-case plaintext
// (every coefficient 2^127, 1024 x 1023 accumulated): the product's noise without
// flooding stays below the bound's Product + Rerand, and with flooding the decryption
// at Q is exact. (delta stays the honest encoding of the plaintext: its term delta / T
// is at most 2^43 in the bound, 2^-45 of it. At Q' the modulus switching's rounding
// grows with ||s||_1, so a decryptor with such a key only hurts itself; Q' is checked
// with honest keys in TestNoiseWorstCase.)
func TestNoiseProvenBound(t *testing.T) {
	pr := provenBounds()
	ps, pe := pr.S.Int64(), pr.Epk.Int64()
	pu := new(big.Int).Rsh(pr.U, 1).Int64()
	pe0 := new(big.Int).Rsh(pr.E, 1).Int64()
	pl, err := MatMulPlan(1, 1024, 1023, 1, 16, 1023, false)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(v int64) []int64 {
		x := make([]int64, N)
		for i := range x {
			x[i] = v
		}
		return x
	}
	l, r := constVec(1024, ^uint64(0), ^uint64(0)), constVec(1024*1023, 0, 1<<63)
	want := ring128.Make(1023)
	ring128.MatMulAdd(want, l, r, 1, 1024, 1023)
	for _, flood := range []bool{false, true} {
		p, err := newParams(Primes, !flood)
		if err != nil {
			t.Fatal(err)
		}
		b := p.Bound()
		sk, pk, err := p.keyFromWitness(prg.Key{9}, fill(ps), fill(pe), rnd(1), true)
		if err != nil {
			t.Fatal(err)
		}
		wits, err := p.witnesses(pl, l, rnd(2))
		if err != nil {
			t.Fatal(err)
		}
		for k := range wits {
			wits[k][0], wits[k][1], wits[k][2] = fill(pu), fill(pe0), fill(pe0)
		}
		up, err := p.sealUpload(pk, pl, wits, rnd(3), nil, true)
		if err != nil {
			t.Fatal(err)
		}
		u, err := p.readUpload(pl, pk, up, false)
		if err != nil {
			t.Fatal(err)
		}
		resp, mask, err := p.Respond(u, r, rnd(4))
		if err != nil {
			t.Fatal(err)
		}
		m := ring128.Make(want.Len())
		ring128.Sub(m, want, mask)
		noise := maxNoise(t, sk, pl, resp, m)
		limit := new(big.Int).Add(b.Product, b.Rerand)
		if flood {
			limit = b.Total()
			dec, err := sk.Decrypt(pl, resp)
			if err != nil || !equal(sum(dec, mask), want) {
				t.Errorf("flooded at the proven bounds: wrong product (%v)", err)
			}
		}
		t.Logf("proven bounds, flood %v: noise 2^%d, bound 2^%d (Q/4T 2^%d)", flood, noise.BitLen(), limit.BitLen(), b.MaxAtQ.BitLen()-1)
		if noise.Cmp(limit) > 0 {
			t.Errorf("flood %v: noise %v above the bound %v", flood, noise, limit)
		}
	}
}

// TestProofParameters: the proofs' parameters meet the conditions of the package doc:
// uploads V log2(2N + 1) >= 128 + 2 (TopGear's soundness condition for 2^-128), keys
// 128 binary rows; an honest attempt is accepted with probability at least 0.85
// (rejection sampling: (1 - 1/2^kappa)^dimension); the proven bounds are the slack
// times the honest bounds (2N 2^23 32 = 2^43 for uploads, 2 2^25 = 2^26 for keys, less
// the rejection's margin); and NewParams' check fails if the slack were 8 times larger.
func TestProofParameters(t *testing.T) {
	if s := float64(ProofRows) * math.Log2(2*N+1); s < 130 {
		t.Errorf("upload proofs: V log2(2N+1) = %.1f < 130", s)
	}
	if KeyProofRows < 128 {
		t.Errorf("key proofs: %d binary rows", KeyProofRows)
	}
	for _, c := range []struct {
		name        string
		rows, comps int
		kappa       uint
	}{{"upload", ProofRows, len(ctBounds), ProofKappaBits}, {"key", KeyProofRows, len(keyBounds), KeyProofKappaBits}} {
		acc := math.Exp(float64(c.rows*c.comps*N) * math.Log1p(-1/math.Exp2(float64(c.kappa))))
		t.Logf("%s proofs: acceptance %.3f", c.name, acc)
		if acc < 0.85 {
			t.Errorf("%s proofs: acceptance %.3f", c.name, acc)
		}
	}
	pr := provenBounds()
	for _, c := range []struct {
		name string
		got  *big.Int
		bits int
	}{{"P_u", pr.U, 43}, {"P_e", pr.E, 48}, {"P_delta", pr.Delta, 171}, {"P_s", pr.S, 26}, {"P_epk", pr.Epk, 31}} {
		if c.got.BitLen() != c.bits {
			t.Errorf("%s = 2^%d, want %d bits", c.name, c.got.BitLen(), c.bits)
		}
	}
	b := params(t).Bound()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	b.Upload.Lsh(b.Upload, 3)
	b.Product = new(big.Int).Lsh(new(big.Int).Mul(b.Upload, big.NewInt(MaxAccum)), 127)
	if err := b.Check(); err == nil {
		t.Errorf("the check accepted an upload noise of 2^%d", b.Upload.BitLen())
	}
}

// TestMonomialAdds checks addMonoInt and addMonoPoly against the negacyclic definition,
// coefficient by coefficient, for monomials at both ends of each half of [1, 2N] (the
// split loops' boundaries), and signed against the division for extreme values.
func TestMonomialAdds(t *testing.T) {
	p, err := NewParams()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]int64, N)
	for i := range x {
		x[i] = r.Int64N(1<<40) - 1<<39
	}
	xp := p.r.NewPoly()
	p.setSigned(xp, x)
	for _, e := range []int32{1, 2, N - 1, N, N + 1, N + 2, 2*N - 1, 2 * N} {
		base := make([]int64, N)
		for i := range base {
			base[i] = r.Int64N(1<<40) - 1<<39
		}
		want := append([]int64(nil), base...)
		for t := range x { // Z^(e-1) x[t] Z^t = x[t] Z^(t+e-1), Z^N = -1
			pos, v := t+int(e-1), x[t]
			for pos >= N {
				pos, v = pos-N, -v
			}
			want[pos] += v
		}
		got := append([]int64(nil), base...)
		addMonoInt(got, x, e)
		acc := p.r.NewPoly()
		p.setSigned(acc, base)
		p.addMonoPoly(acc, xp, e)
		wantP := p.r.NewPoly()
		p.setSigned(wantP, want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("addMonoInt e=%d: coefficient %d is %d, want %d", e, i, got[i], want[i])
			}
		}
		for l := range acc.Coeffs {
			for i := range acc.Coeffs[l] {
				if acc.Coeffs[l][i] != wantP.Coeffs[l][i] {
					t.Fatalf("addMonoPoly e=%d: prime %d coefficient %d is %d, want %d", e, l, i, acc.Coeffs[l][i], wantP.Coeffs[l][i])
				}
			}
		}
	}
	for _, v := range []int64{0, 1, -1, 1 << 50, -(1 << 50), math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for i, q := range p.q {
			var want uint64
			if v >= 0 {
				want = uint64(v) % q
			} else if m := uint64(-v) % q; m != 0 {
				want = q - m
			}
			if got := p.signed(v, i); got != want {
				t.Fatalf("signed(%d) mod prime %d is %d, want %d", v, i, got, want)
			}
		}
	}
}
