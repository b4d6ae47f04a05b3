package rep3mal

// Verified multiplication triples by cut-and-choose and bucketing, and the check of the
// elementwise products (Mul, MulSum terms, AND words) with them.
//
// Source: Furukawa, Lindell, Nof and Pinkas, "High-Throughput Secure Three-Party
// Computation for Malicious Adversaries and an Honest Majority", Eurocrypt 2017, and
// Araki, Barak, Furukawa, Lichter, Lindell, Nof, Ohara, Watzman and Weinstein,
// "Optimized Honest-Majority MPC for Malicious Adversaries", S&P 2017, for bits; the same
// check works over Z_2^64, since it multiplies by no random scalar (Eerikson, Keller,
// Orlandi, Pullonen, Puura, Simkin, "Use your Brain! Arithmetic 3PC for any Modulus with
// Active Security", ITC 2020).
//
// Protocol, for N products of one domain (ring words, or 64-bit words of AND bits):
//  1. T = N*B + C random triples (a, b, c = a*b) with rep3's semi-honest product: a and b
//     are free random sharings (rep3.Rand), c costs one reshare; a cheater may add an
//     error to any c.
//  2. After all c are sent, a coin (coin.go) gives a random permutation of the T triples.
//  3. Cut-and-choose: the first C are opened (a, b and c) and every party checks c = a*b.
//  4. Bucketing: the other N*B form N buckets of B; the first triple of a bucket is
//     checked against each other one by opening rho = a - a', sigma = b - b' and testing
//     c - c' - sigma*a' - rho*b' - rho*sigma = 0 (= e - e', the difference of the errors).
//  5. Each product z = x*y (+ e_z) uses its bucket's first triple: open rho = x - a,
//     sigma = y - b (uniform: masked by a and b) and test z - c - sigma*a - rho*b -
//     rho*sigma = 0 (= e_z - e_c). A MulSum output tests the sum over its terms.
//
// Soundness: a bad triple survives only if every bucket holding a bad triple holds only
// bad triples with equal errors (otherwise some test in step 4 is non-zero) and no bad
// triple is among the C opened. If the adversary makes t = kB triples bad, over the
// random permutation this happens with probability
//
//	C(T-t, C)/C(T, C) * C(N, k)/C(NB, t),
//
// and a bad output triple is needed to hide a wrong product in step 5. bucketParams picks
// the smallest B (with C = B) for which the maximum over k is at most 2^-46; for AND
// words the 64 bit lanes share one permutation, so the bound is multiplied by 64 (union
// bound over the lanes). Zero tests and openings are checked as in check.go.

import (
	"math"
	"math/rand/v2"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
)

// securityBits is the statistical security of each check of a batch: 46 bits, so that a
// run of up to 32 batches with two checks each keeps 40 bits (package doc).
const securityBits = 46

// bucketParams returns the bucket size B and the number C = B of opened triples for n
// verified triples in `lanes` parallel instances (1, or 64 for AND words).
func bucketParams(n, lanes int) (b, c int) {
	target := -securityBits - math.Log2(float64(lanes))
	for b = 2; b < 64; b++ {
		if bucketLog2Bound(n, b, b, target) <= target {
			return b, b
		}
	}
	return 64, 64
}

// bucketLog2Bound is log2 of max over k = 1..n of C(T-kB, C)/C(T, C) * C(n, k)/C(nB, kB)
// with T = nB + C, computed term by term; it stops early once a term exceeds stop.
func bucketLog2Bound(n, b, c int, stop float64) float64 {
	lg := func(x float64) float64 { return math.Log(x) }
	t := n*b + c
	// f(k) in natural logs, from f(0) = 0, one k at a time.
	var f float64
	worst := math.Inf(-1)
	stopLn := stop * math.Ln2
	for k := 1; k <= n; k++ {
		m := t - (k-1)*b // C(m, c) -> C(m-b, c)
		for i := range b {
			f += lg(float64(m-i-c)) - lg(float64(m-i))
		}
		f += lg(float64(n-k+1)) - lg(float64(k)) // C(n, k-1) -> C(n, k)
		for j := (k-1)*b + 1; j <= k*b; j++ {    // C(nb, j-1) -> C(nb, j)
			f -= lg(float64(n*b-j+1)) - lg(float64(j))
		}
		worst = max(worst, f)
		if worst > stopLn {
			break
		}
	}
	return worst / math.Ln2
}

// ops is one domain's arithmetic: Z_2^64, or bitwise for AND words.
type ops struct{ xor bool }

func (o ops) mul(a, b uint64) uint64 {
	if o.xor {
		return a & b
	}
	return a * b
}

func (o ops) add(a, b uint64) uint64 {
	if o.xor {
		return a ^ b
	}
	return a + b
}

func (o ops) sub(a, b uint64) uint64 {
	if o.xor {
		return a ^ b
	}
	return a - b
}

// triples are T = NB + C triples of one domain, this party's components.
type triples struct {
	o       ops
	n, b, c int
	a, bb   rep3.Pair
	cc      rep3.Pair
}

// genTriples makes the T triples for n products (step 1).
func (p *Protocol) genTriples(o ops, n int) (*triples, error) {
	lanes := 1
	if o.xor {
		lanes = 64
	}
	key := [2]int{n, lanes}
	bc, ok := p.params[key]
	if !ok {
		b, c := bucketParams(n, lanes)
		bc = [2]int{b, c}
		p.params[key] = bc
	}
	b, c := bc[0], bc[1]
	t := n*b + c
	tr := &triples{o: o, n: n, b: b, c: c, a: p.raw.Rand(t), bb: p.raw.Rand(t)}
	if o.xor {
		z, err := p.raw.AND([]mpc.BShare{rep3.FromBComponents(tr.a.A, tr.a.B, 64*t, 1)},
			[]mpc.BShare{rep3.FromBComponents(tr.bb.A, tr.bb.B, 64*t, 1)})
		if err != nil {
			return nil, err
		}
		za, zb := rep3.BComponents(z[0])
		tr.cc = rep3.Pair{A: za, B: zb}
		return tr, nil
	}
	z, err := p.raw.Mul(rep3.FromComponents(tr.a.A, tr.a.B), rep3.FromComponents(tr.bb.A, tr.bb.B))
	if err != nil {
		return nil, err
	}
	za, zb := rep3.Components(z)
	tr.cc = rep3.Pair{A: za, B: zb}
	return tr, nil
}

// permute applies the coin's permutation to the triples (step 2). The six words of a
// triple are first interleaved, so that the random reads touch one cache line per triple.
func (tr *triples) permute(r *rand.Rand) {
	t := len(tr.a.A)
	perm := r.Perm(t)
	src := make([]uint64, 6*t)
	for i := range t {
		q := src[6*i : 6*i+6 : 6*i+6]
		q[0], q[1], q[2], q[3], q[4], q[5] = tr.a.A[i], tr.a.B[i], tr.bb.A[i], tr.bb.B[i], tr.cc.A[i], tr.cc.B[i]
	}
	var out [6][]uint64
	for k := range out {
		out[k] = make([]uint64, t)
	}
	for i, j := range perm {
		q := src[6*j : 6*j+6 : 6*j+6]
		out[0][i], out[1][i], out[2][i], out[3][i], out[4][i], out[5][i] = q[0], q[1], q[2], q[3], q[4], q[5]
	}
	tr.a, tr.bb, tr.cc = rep3.Pair{A: out[0], B: out[1]}, rep3.Pair{A: out[2], B: out[3]}, rep3.Pair{A: out[4], B: out[5]}
}

// addPublic adds the public k to this party's components of a sharing (component 0,
// held by parties 0 and 2): returns the new pair values (a, b).
func addPublic(o ops, id int, a, b, k uint64) (uint64, uint64) {
	switch id {
	case 0:
		a = o.add(a, k)
	case 2:
		b = o.add(b, k)
	}
	return a, b
}

// scalarCheck verifies the elementwise products prods (all of tr's domain) with the
// triples tr: cut-and-choose, bucket sacrifices and the products' own tests (steps 3-5).
// Opened values are checked by the openings' hashes; the zero tests go to zs and ze.
func (p *Protocol) scalarCheck(tr *triples, prods []product, zero *zeroTest) (failed string, err error) {
	o, id := tr.o, p.ID()
	c, n, b := tr.c, tr.n, tr.b
	// 3. Open the first C triples.
	opened := rep3.Pair{}
	for _, v := range []rep3.Pair{tr.a, tr.bb, tr.cc} {
		opened.A = append(opened.A, v.A[:c]...)
		opened.B = append(opened.B, v.B[:c]...)
	}
	vals, err := p.Protocol.OpenPair(opened, -1, o.xor)
	if err != nil {
		return "", err
	}
	for i := range c {
		if o.mul(vals[i], vals[c+i]) != vals[2*c+i] {
			failed = "triple check (an opened multiplication triple is wrong)"
		}
	}
	// 4 and 5: one opening of all rho and sigma: bucket sacrifices (N(B-1) each), then the
	// products' (N each).
	out := func(k int) int { return c + k*b } // triple index of bucket k's first
	s := n * (b - 1)
	m := rep3.Pair{A: make([]uint64, 0, 2*s+2*n), B: make([]uint64, 0, 2*s+2*n)}
	push := func(x, y uint64) {
		m.A = append(m.A, x)
		m.B = append(m.B, y)
	}
	for j := 1; j < b; j++ { // rho
		for k := range n {
			i, h := out(k), out(k)+j
			push(o.sub(tr.a.A[i], tr.a.A[h]), o.sub(tr.a.B[i], tr.a.B[h]))
		}
	}
	for j := 1; j < b; j++ { // sigma
		for k := range n {
			i, h := out(k), out(k)+j
			push(o.sub(tr.bb.A[i], tr.bb.A[h]), o.sub(tr.bb.B[i], tr.bb.B[h]))
		}
	}
	k := 0
	for _, pr := range prods { // rho = x - a
		for t := range pr.x.A {
			i := out(k + t)
			push(o.sub(pr.x.A[t], tr.a.A[i]), o.sub(pr.x.B[t], tr.a.B[i]))
		}
		k += len(pr.x.A)
	}
	k = 0
	for _, pr := range prods { // sigma = y - b
		for t := range pr.y.A {
			i := out(k + t)
			push(o.sub(pr.y.A[t], tr.bb.A[i]), o.sub(pr.y.B[t], tr.bb.B[i]))
		}
		k += len(pr.y.A)
	}
	pub, err := p.Protocol.OpenPair(m, -1, o.xor)
	if err != nil {
		return "", err
	}
	// Bucket tests: c - c' - sigma*a' - rho*b' - rho*sigma.
	va, vb := make([]uint64, 0, s), make([]uint64, 0, s)
	for j := 1; j < b; j++ {
		for k := range n {
			i, h := out(k), out(k)+j
			rho, sig := pub[(j-1)*n+k], pub[s+(j-1)*n+k]
			x := o.sub(o.sub(o.sub(tr.cc.A[i], tr.cc.A[h]), o.mul(sig, tr.a.A[h])), o.mul(rho, tr.bb.A[h]))
			y := o.sub(o.sub(o.sub(tr.cc.B[i], tr.cc.B[h]), o.mul(sig, tr.a.B[h])), o.mul(rho, tr.bb.B[h]))
			x, y = addPublic(o, id, x, y, o.sub(0, o.mul(rho, sig)))
			va, vb = append(va, x), append(vb, y)
		}
	}
	zero.add(o.xor, va, vb)
	// Product tests: z - sum over the output's terms of (c + sigma*a + rho*b + rho*sigma).
	rhos, sigs := pub[2*s:2*s+n], pub[2*s+n:]
	k = 0
	for _, pr := range prods {
		kk := 1
		if pr.rel.Kind == "mulsum" {
			kk = pr.rel.K
		}
		nz := len(pr.z.A)
		va, vb := make([]uint64, nz), make([]uint64, nz)
		for e := range nz {
			x, y := pr.z.A[e], pr.z.B[e]
			var pc uint64
			for t := e * kk; t < (e+1)*kk; t++ {
				i := out(k + t)
				rho, sig := rhos[k+t], sigs[k+t]
				x = o.sub(o.sub(o.sub(x, tr.cc.A[i]), o.mul(sig, tr.a.A[i])), o.mul(rho, tr.bb.A[i]))
				y = o.sub(o.sub(o.sub(y, tr.cc.B[i]), o.mul(sig, tr.a.B[i])), o.mul(rho, tr.bb.B[i]))
				pc = o.add(pc, o.mul(rho, sig))
			}
			va[e], vb[e] = addPublic(o, id, x, y, o.sub(0, pc))
		}
		zero.add(o.xor, va, vb)
		k += len(pr.x.A)
	}
	return failed, nil
}
