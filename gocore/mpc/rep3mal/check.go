package rep3mal

// The batch check: elementwise products against bucket-verified triples (bucket.go),
// matrix products by the D-fold sacrifice, the zero test of the tested values and the
// opening and import cross-checks (package doc). All three parties
// run it at the same point with the same recorded relations (their public sizes agree
// because every party makes the same calls).

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// product is one recorded z = f(x, y) with this party's components.
type product struct {
	rel     rep3.Relation
	x, y, z rep3.Pair
	// next and prev are the zero-share words of a Mul or MulSum (rep3.MaskObserver).
	next, prev []uint64
}

func (pr product) size() int { return len(pr.x.A) + len(pr.y.A) + len(pr.z.A) }

func sub(c rep3.Pair, lo, hi int) rep3.Pair { return rep3.Pair{A: c.A[lo:hi:hi], B: c.B[lo:hi:hi]} }

// sacrificed computes c = f(a, y) for the D stacked copies a of x's shape (MatMul: D*M
// rows; GatherMulSum: the index map repeated over the copies), with rep3's own product
// (unobserved): D outputs of z's shape, end to end.
func (p *Protocol) sacrificed(pr product, a rep3.Pair) (rep3.Pair, error) {
	r := pr.rel
	A := rep3.FromComponents(a.A, a.B)
	switch r.Kind {
	case "matmul":
		c, err := p.raw.MatMul(A, rep3.FromComponents(pr.y.A, pr.y.B), D*r.M, r.K, r.N)
		if err != nil {
			return rep3.Pair{}, err
		}
		ca, cb := rep3.Components(c)
		return rep3.Pair{A: ca, B: cb}, nil
	case "gathermulsum":
		nx := len(pr.x.A)
		xi := make([]int32, 0, D*len(r.XIdx))
		for t := range D {
			for _, q := range r.XIdx {
				if q >= 0 {
					q += int32(t * nx)
				}
				xi = append(xi, q)
			}
		}
		yi := make([]int32, 0, D*len(r.YIdx))
		for range D {
			yi = append(yi, r.YIdx...)
		}
		c, err := p.raw.GatherMulSum(A, xi, rep3.FromComponents(pr.y.A, pr.y.B), yi, r.K)
		if err != nil {
			return rep3.Pair{}, err
		}
		ca, cb := rep3.Components(c)
		return rep3.Pair{A: ca, B: cb}, nil
	}
	return rep3.Pair{}, errs.New(errs.Internal, "%s: no check for relation %q", Name, r.Kind)
}

// smallerMasked returns a GatherMulSum with its operands swapped when y (e.g. a
// convolution's weights) is smaller than x, so that the sacrifice masks and opens the
// smaller one (the relation is the same: products commute). Skipped terms (x index < 0)
// stay skipped.
func smallerMasked(pr product) product {
	r := pr.rel
	if r.Kind != "gathermulsum" || len(pr.y.A) >= len(pr.x.A) {
		return pr
	}
	xi := make([]int32, len(r.XIdx))
	for j, q := range r.XIdx {
		xi[j] = r.YIdx[j]
		if q < 0 {
			xi[j] = -1
		}
	}
	r.XIdx, r.YIdx = xi, r.XIdx
	return product{rel: r, x: pr.y, y: pr.x, z: pr.z}
}

// fPublic computes f(rho, y) for a public rho (x's shape) and one component y of y (MatMul
// or GatherMulSum): a component of the sharing of f(rho, y), since f is linear in y.
func fPublic(r rep3.Relation, rho, y []uint64, nz int) []uint64 {
	out := make([]uint64, nz)
	switch r.Kind {
	case "matmul":
		ring.MatMulAdd(out, rho, y, r.M, r.K, r.N)
	case "gathermulsum":
		k := r.K
		for i := range out {
			var s uint64
			for j := i * k; j < (i+1)*k; j++ {
				if q := r.XIdx[j]; q >= 0 {
					s += rho[q] * y[r.YIdx[j]]
				}
			}
			out[i] = s
		}
	}
	return out
}

// zeroTest accumulates the hashes of the zero test: party i sends H(v_i + v_{i+1}) to
// party i+1, which expects H(-v_{i+2}) from its own second component (XOR: H(v_i ^
// v_{i+1}) and H(v_{i+2})).
type zeroTest struct{ send, expect hash.Hash }

func newZeroTest() *zeroTest { return &zeroTest{sha256.New(), sha256.New()} }

func (z *zeroTest) add(xor bool, va, vb []uint64) {
	s, e := make([]uint64, len(va)), make([]uint64, len(va))
	for j := range va {
		if xor {
			s[j], e[j] = va[j]^vb[j], vb[j]
		} else {
			s[j], e[j] = va[j]+vb[j], -vb[j]
		}
	}
	z.send.Write(ring.AsBytes(s))
	z.expect.Write(ring.AsBytes(e))
}

// check runs the batch check of everything recorded since the last one: the products
// (Mul, MulSum, AND words, and MatMul and GatherMulSum in the factored form of dot.go)
// by the distributed zero-knowledge proofs (dzkp.go, andproof.go), MatMul and
// GatherMulSum without that form by the D-fold sacrifice, then the hash exchange. With
// proofs off (SetProofs) the elementwise products are checked against bucket-verified
// triples (bucket.go) and all matrix products by the sacrifice.
func (p *Protocol) check() error {
	r := p.rec
	r.checking = true
	prods := r.products
	r.products, r.words = nil, 0
	defer func() {
		r.checking = false
		// The next batch records into prods' array, cleared: no stale reference keeps a
		// checked batch's operands alive.
		if r.products == nil {
			clear(prods)
			r.products = prods[:0]
		}
	}()
	var arith, bin, other, proved, ands []product
	var dots []dotRecord
	var nArith, nBin int
	for _, pr := range prods {
		switch pr.rel.Kind {
		case "mul", "mulsum":
			if p.proofs {
				proved = append(proved, pr)
				continue
			}
			arith, nArith = append(arith, pr), nArith+len(pr.x.A)
		case "and":
			if p.proofs {
				ands = append(ands, pr)
				continue
			}
			bin, nBin = append(bin, pr), nBin+len(pr.x.A)
		default:
			if p.proofs {
				if d, ok := dotOf(pr); ok {
					d.sc = &p.dotBufs
					dots = append(dots, d)
					continue
				}
			}
			other = append(other, smallerMasked(pr))
		}
	}
	p.dotBufs.reserve(dots)
	// 0. The run's soundness budget (budget.go): refuse the batch before anything is sent.
	tripleChecks := 0
	for _, n := range []int{nArith, nBin} {
		if n > 0 {
			tripleChecks++
		}
	}
	if err := p.charge(batchError(len(proved)+len(dots) > 0, len(ands) > 0, tripleChecks, len(other) > 0)); err != nil {
		return err
	}
	// 1. Everything a cheater could falsify is sent before the coin: the triples and the
	// sacrificed products.
	var trs [2]*triples
	for i, n := range []int{nArith, nBin} {
		if n == 0 {
			continue
		}
		tr, err := p.genTriples(ops{xor: i == 1}, n)
		if err != nil {
			return fmt.Errorf("%s check: triples: %w", Name, err)
		}
		trs[i] = tr
	}
	as := make([]rep3.Pair, len(other))
	cs := make([]rep3.Pair, len(other))
	for i, pr := range other {
		as[i] = p.raw.Rand(D * len(pr.x.A))
		c, err := p.sacrificed(pr, as[i])
		if err != nil {
			return fmt.Errorf("%s check: sacrificed %s product: %w", Name, pr.rel.Kind, err)
		}
		cs[i] = c
	}
	// 2. The coin.
	g, failed, err := p.coin()
	if err != nil {
		return err
	}
	var seed [32]byte
	g.Read(seed[:])
	shuffle := rand.New(rand.NewChaCha8(seed))
	zero := newZeroTest()
	// 3. Triples: cut-and-choose, buckets, elementwise products.
	for i, ps := range [][]product{arith, bin} {
		if trs[i] == nil {
			continue
		}
		trs[i].permute(shuffle)
		f, err := p.scalarCheck(trs[i], ps, zero)
		if err != nil {
			return fmt.Errorf("%s check: %w", Name, err)
		}
		if failed == "" {
			failed = f
		}
	}
	// 4. D-fold sacrifice of the other products: D scalars tau; rho = tau*x - a opened.
	tau := g.Uint64s(D)
	nrho := 0
	for _, pr := range other {
		nrho += D * len(pr.x.A)
	}
	rho := rep3.Pair{A: make([]uint64, 0, nrho), B: make([]uint64, 0, nrho)}
	for i, pr := range other {
		nx := len(pr.x.A)
		a := as[i]
		for t := range D {
			for j := range nx {
				rho.A = append(rho.A, tau[t]*pr.x.A[j]-a.A[t*nx+j])
				rho.B = append(rho.B, tau[t]*pr.x.B[j]-a.B[t*nx+j])
			}
		}
	}
	opened, err := p.Protocol.OpenPair(rho, -1, false)
	if err != nil {
		return fmt.Errorf("%s check: opening rho: %w", Name, err)
	}
	off := 0
	for i, pr := range other {
		nx, nz := len(pr.x.A), len(pr.z.A)
		c := cs[i]
		for t := range D {
			ct := sub(c, t*nz, (t+1)*nz)
			rho := opened[off : off+nx]
			off += nx
			fa, fb := fPublic(pr.rel, rho, pr.y.A, nz), fPublic(pr.rel, rho, pr.y.B, nz)
			va, vb := make([]uint64, nz), make([]uint64, nz)
			for j := range nz {
				va[j] = tau[t]*pr.z.A[j] - ct.A[j] - fa[j]
				vb[j] = tau[t]*pr.z.B[j] - ct.B[j] - fb[j]
			}
			zero.add(false, va, vb)
		}
	}
	// 5. The proofs of the products (dzkp.go, dot.go, andproof.go).
	if len(proved)+len(dots)+len(ands) > 0 {
		f, err := p.prove(proved, dots, ands, g)
		if err != nil {
			return fmt.Errorf("%s check: product proofs: %w", Name, err)
		}
		if failed == "" {
			failed = f
		}
	}
	// 6. Hashes: zero test and imports to the next party, openings to the previous one;
	// then every party's verdict to both others, so that all abort together.
	var salt [32]byte
	g.Read(salt[:])
	return p.exchange(zero.send.Sum(nil), zero.expect.Sum(nil), salt[:], failed)
}

// exchange sends and compares the hashes of a check and agrees on the verdict.
// failed names a failure found earlier in the check ("" if none). Every digest is sent
// as SHA-256(salt || digest) with the check's salt from the coin, so that equal digests in
// two checks (e.g. of nothing) are not equal messages.
func (p *Protocol) exchange(zeroSend, zeroExpect, salt []byte, failed string) error {
	r := p.rec
	conn := p.Conn()
	id := p.ID()
	next, prev := (id+1)%3, (id+2)%3
	salted := func(d []byte) []byte {
		h := sha256.Sum256(append(append([]byte{}, salt...), d...))
		return h[:]
	}
	toNext := append(salted(zeroSend), salted(r.importSend.Sum(nil))...)
	toPrev := salted(r.openSend.Sum(nil))
	expectPrev := append(salted(zeroExpect), salted(r.importRecv.Sum(nil))...)
	expectNext := salted(r.openRecv.Sum(nil))
	r.openSend.Reset()
	r.openRecv.Reset()
	r.importSend.Reset()
	r.importRecv.Reset()
	if err := sendFlush(conn, next, toNext); err != nil {
		return fmt.Errorf("%s check: %w", Name, err)
	}
	if err := sendFlush(conn, prev, toPrev); err != nil {
		return fmt.Errorf("%s check: %w", Name, err)
	}
	fromPrev, err := conn.Recv(prev)
	if err != nil {
		return fmt.Errorf("%s check: %w", Name, err)
	}
	fromNext, err := conn.Recv(next)
	if err != nil {
		return fmt.Errorf("%s check: %w", Name, err)
	}
	switch {
	case failed != "":
	case len(fromPrev) != 64 || !bytes.Equal(fromPrev[:32], expectPrev[:32]):
		failed = fmt.Sprintf("product check (party %d's zero test disagrees with party %d's)", prev, id)
	case !bytes.Equal(fromPrev[32:], expectPrev[32:]):
		failed = fmt.Sprintf("input check (parties %d and %d hold different copies of a client's share)", prev, id)
	case !bytes.Equal(fromNext, expectNext):
		failed = fmt.Sprintf("opening check (party %d received a component that party %d holds differently)", id, next)
	}
	// Verdicts: one byte to each peer (1: this party found a failure).
	v := []byte{0}
	if failed != "" {
		v[0] = 1
	}
	for _, to := range []int{next, prev} {
		if err := sendFlush(conn, to, v); err != nil {
			return fmt.Errorf("%s check: %w", Name, err)
		}
	}
	for _, from := range []int{next, prev} {
		m, err := conn.Recv(from)
		if err != nil {
			return fmt.Errorf("%s check: %w", Name, err)
		}
		if failed == "" && (len(m) != 1 || m[0] != 0) {
			failed = fmt.Sprintf("party %d reported a failed check", from)
		}
	}
	if failed != "" {
		return errs.New(errs.Cheating, "%s: party %d: %s", Name, id, failed)
	}
	return nil
}

func sendFlush(conn interface {
	Send(int, []byte) error
	Flush() error
}, to int, msg []byte) error {
	if err := conn.Send(to, msg); err != nil {
		return err
	}
	return conn.Flush()
}

// coin tosses a fresh PRG among the three parties: each commits to a 32-byte seed
// (SHA-256 of its id and the seed), then all reveal; the key is a hash of the three seeds.
// A seed that does not match its commitment is reported in failed (the check goes on to
// the verdict exchange, so that all parties abort together).
func (p *Protocol) coin() (g *prg.PRG, failed string, err error) {
	c, err := p.coinCommit()
	if err != nil {
		return nil, "", err
	}
	return c.reveal(p)
}

// coinState is a coin between its commitment and its reveal.
type coinState struct{ seed [32]byte }

func coinCommitment(i int, s []byte) []byte {
	h := sha256.Sum256(append([]byte{byte(i)}, s...))
	return h[:]
}

// coinCommit draws this party's seed and sends its commitment to both peers (the first
// half of coin: other messages may be sent and received before the reveal, in the same
// order at all parties).
func (p *Protocol) coinCommit() (*coinState, error) {
	conn := p.Conn()
	id := p.ID()
	c := &coinState{}
	if _, err := io.ReadFull(p.opt.Reader(), c.seed[:]); err != nil {
		return nil, fmt.Errorf("%s coin: %w", Name, err)
	}
	for _, to := range []int{(id + 1) % 3, (id + 2) % 3} {
		if err := conn.Send(to, coinCommitment(id, c.seed[:])); err != nil {
			return nil, fmt.Errorf("%s coin: %w", Name, err)
		}
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("%s coin: %w", Name, err)
	}
	return c, nil
}

// reveal receives the peers' commitments, reveals this party's seed, checks the peers'
// seeds and returns the coin's PRG (the second half of coin).
func (c *coinState) reveal(p *Protocol) (g *prg.PRG, failed string, err error) {
	conn := p.Conn()
	id := p.ID()
	peers := []int{(id + 1) % 3, (id + 2) % 3}
	coms := map[int][]byte{}
	for _, from := range peers {
		m, err := conn.Recv(from)
		if err != nil {
			return nil, "", fmt.Errorf("%s coin: %w", Name, err)
		}
		coms[from] = m
	}
	for _, to := range peers {
		if err := conn.Send(to, c.seed[:]); err != nil {
			return nil, "", fmt.Errorf("%s coin: %w", Name, err)
		}
	}
	if err := conn.Flush(); err != nil {
		return nil, "", fmt.Errorf("%s coin: %w", Name, err)
	}
	seeds := [3][]byte{}
	seeds[id] = c.seed[:]
	for _, from := range peers {
		m, err := conn.Recv(from)
		if err != nil {
			return nil, "", fmt.Errorf("%s coin: %w", Name, err)
		}
		if len(m) != 32 || !bytes.Equal(coinCommitment(from, m), coms[from]) {
			failed = fmt.Sprintf("coin toss (party %d's seed does not match its commitment)", from)
		}
		seeds[from] = m
	}
	h := sha256.New()
	for _, s := range seeds {
		h.Write(s)
	}
	var k prg.Key
	copy(k[:], h.Sum(nil))
	return prg.New(k), failed, nil
}
