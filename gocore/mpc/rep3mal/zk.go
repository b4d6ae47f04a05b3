package rep3mal

// The steps of the distributed zero-knowledge proofs that do not depend on the algebra
// (dzkp.go's steps 2 and 3), written once over an algebra interface and instantiated
// twice: over GR(2^64, 56) for the arithmetic products (dzkp.go, dot.go) and over
// GF(2^64) for the AND words (andproof.go). The proofs of one batch run in lockstep: each
// round carries every proof's message in one message per party and one coin, so that the
// rounds are those of the longest proof, not the sum.

import (
	"fmt"
	"io"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// zkAlg is the algebra of one proof: its elements E, their encoding in words, the
// additive sharing of the messages (arithmetic or XOR), the challenges, and the vector
// kernels of the compression steps.
type zkAlg[E comparable] interface {
	// what names the proof in failures ("product proof", "AND proof").
	what() string
	// words is the number of uint64 words of an element.
	words() int
	put(dst []uint64, e *E)
	get(src []uint64) E
	add(z, x, y *E)
	sub(z, x, y *E)
	mul(z, x, y *E)
	one() E
	// xor reports whether shares are XOR (GF(2^64)) rather than Z_2^64 sums (GR).
	xor() bool
	// challenge draws a challenge from g: uniform in the exceptional set, outside {0, 1}.
	challenge(g *prg.PRG) E
	// halves is the prover's h(0) and h(inf) for a halving step of the bases, and halve
	// that step's fold of the four vectors (of even length, in place): lo + r (hi - lo)
	// for each pair (lo, hi) of entries, the first len/2 entries of each. The
	// algebra chooses how the entries pair up (both methods the same way): a public
	// permutation of the vectors, which changes neither the claim nor the bound.
	halves(z *zkBases[E]) (h0, hinf E)
	halve(z *zkBases[E], r *E)
	// foldTop replaces v by lo + r (hi - lo) with lo the first half and hi the second
	// (the top variable of a step in v > 1 variables, and the instances of length 2), in
	// place, and returns the first half.
	foldTop(v []E, r *E) []E
	// points is the prover's h at the points of {0,1,inf}^v (base-3 indices, lift's
	// tables) of a compression step in v variables, except the grid point skip (left
	// zero): the bases' length is a multiple of 2^v, entry b*B + j in block b.
	points(z *zkBases[E], lift *zkLift, skip int) []E
}

// foldVars is the number of variables of a compression step after the lift: a step
// divides the vectors' length by 2^foldVars. BGIN19 allow any compression factor; by 4
// (foldVars = 2) takes half the steps of halving for about 4/3 times the prover's
// products (16 per four pairs and step, against 4 per two pairs), and since the lift
// became cheap those products were the larger part: halving takes about 8 % less CPU for
// MobileNetV1 0.25_128 in one process, for 88 more rounds (BENCHMARKS.md, session 8).
const foldVars = 1

// stepVars is the number of variables of the step on vectors of length n > 1.
func stepVars(n int) int { return min(foldVars, bits.Len(uint(n-1))) }

// extendE writes the values at {0,1,inf}^v of the multilinear polynomial with values in
// (length 2^v) to out (length 3^v), as zkLift.extend over the algebra.
func extendE[E comparable](a zkAlg[E], z *zkLift, in, out []E) {
	for l, q := range z.gridPt {
		out[q] = in[l]
	}
	for _, d := range z.diffs {
		a.sub(&out[d[0]], &out[d[1]], &out[d[2]])
	}
}

// zkBases are the four vectors every party's view of the three proofs is made of: with
// A, B the a-side and YA, YB the b-side words of this party's two components (after the
// lift, or a dot record's L and R), pair j of the prover's vectors is a = (A_j, B_j), b =
// (YA_j + YB_j, YA_j); of its share as V- of the next prover a = (B_j, 0), b = (YB_j,
// YB_j); as V+ of the previous one a = (0, A_j), b = (YA_j, 0) (dzkp.go's statement).
// A compression step splits the bases into blocks alike (entries of the interleaved
// vectors in pairs), so each of the four is folded instead of six interleaved vectors.
//
// zero lists, per vector (a, b, ya, yb), ranges of entries that are zero (the components
// zero in whole records: arithStatement.finish), sorted (nil: none known). Only the first
// and the last entry of a range are stored as zeros (so that a pair across a range's end
// reads zeros); the others are not written and are read by no one: an algebra's halving
// steps skip them (grAlg) and keep the lists up to date, and materialize writes them
// before a kernel that reads every entry.
type zkBases[E any] struct {
	a, b, ya, yb []E
	zero         [4][]span
}

// materialize writes the zeros of the zero ranges and forgets the ranges.
func (z *zkBases[E]) materialize() {
	for k, w := range [4][]E{z.a, z.b, z.ya, z.yb} {
		for _, sp := range z.zero[k] {
			clear(w[sp.lo:sp.hi])
		}
		z.zero[k] = nil
	}
}

// zeroEnds writes the first and the last entry of each zero range of w as zero.
func zeroEnds[E any](w []E, sp []span) {
	var zero E
	for _, r := range sp {
		w[r.lo], w[r.hi-1] = zero, zero
	}
}

// span is the range [lo, hi) of a vector's entries.
type span struct{ lo, hi int }

// addSpan appends [lo, hi) to sp (sorted, after its last range), merged with an adjacent
// last range.
func addSpan(sp []span, lo, hi int) []span {
	if lo >= hi {
		return sp
	}
	if n := len(sp); n > 0 && sp[n-1].hi == lo {
		sp[n-1].hi = hi
		return sp
	}
	return append(sp, span{lo, hi})
}

func (z *zkBases[E]) push(a, b, ya, yb *E) {
	z.a, z.b, z.ya, z.yb = append(z.a, *a), append(z.b, *b), append(z.ya, *ya), append(z.yb, *yb)
}

// padTo appends zero pairs up to a multiple of k: a step in v variables splits the bases
// into 2^v blocks of ceil(n/2^v), the last one completed with zeros. (The same proof as
// with the bases zero-padded to a power of two, with the zeros placed where they cost no
// products.)
func (z *zkBases[E]) padTo(k int) {
	var zero E
	for len(z.a)%k != 0 {
		z.push(&zero, &zero, &zero, &zero)
	}
}

// zkInstance is one proof as one party sees it: the prover's full vectors, or a
// verifier's additive shares of them and of the claim c.
type zkInstance[E any] struct {
	a, b []E
	c    E
}

// zkProof is one party's state in the three proofs of one algebra (as the prover of its
// own statement, V- of the next party's and V+ of the previous one's) after the first
// step: the bases (at least one pair) and the claim shares cm (as V-) and cp (as V+).
type zkProof[E comparable] struct {
	alg         zkAlg[E]
	bases       *zkBases[E]
	cm, cp      E
	own, vm, vp *zkInstance[E] // after the bases reach length 1
	lifts       [foldVars + 1]*zkLift
	v           int // the variables of the current step
	m, n        E   // the last step's masks
	fm, fp      []E // the last step's f(r), g(r), h(r) as V- and V+
}

// zkStepper is a zkProof of any algebra, as the lockstep driver sees it.
type zkStepper interface {
	left() int         // compression steps before the last step
	xor() bool         // XOR shares
	stepMsg() []uint64 // this round's values as prover
	stepApply(sm, sp []uint64, g *prg.PRG)
	lastMsg(rnd io.Reader) ([]uint64, error)
	lastApply(sm, sp []uint64, g *prg.PRG) (toPrev, toNext []uint64)
	lastWords() int
	verify(fromPrev, fromNext []uint64) (badNext, badPrev bool)
	what() string
}

func newZKProof[E comparable](alg zkAlg[E], bases *zkBases[E], cm, cp E) *zkProof[E] {
	if len(bases.a) == 0 {
		var zero E
		bases.push(&zero, &zero, &zero, &zero)
	}
	return &zkProof[E]{alg: alg, bases: bases, cm: cm, cp: cp}
}

func (s *zkProof[E]) what() string { return s.alg.what() }
func (s *zkProof[E]) xor() bool    { return s.alg.xor() }

// left is ceil(log2) of the bases' length, plus 1 for the interleaved instances of
// length 2.
func (s *zkProof[E]) left() int {
	if s.own != nil {
		if len(s.own.a) > 1 {
			return 1
		}
		return 0
	}
	steps := 1 // the instances' halving step
	for n := len(s.bases.a); n > 1; n = (n + 1<<stepVars(n) - 1) >> stepVars(n) {
		steps++
	}
	return steps
}

func (s *zkProof[E]) lift(v int) *zkLift {
	if s.lifts[v] == nil {
		s.lifts[v] = newLift(v)
	}
	return s.lifts[v]
}

func (s *zkProof[E]) encode(es ...E) []uint64 {
	w := s.alg.words()
	out := make([]uint64, len(es)*w)
	for i := range es {
		s.alg.put(out[i*w:(i+1)*w], &es[i])
	}
	return out
}

func (s *zkProof[E]) decode(v []uint64) []E {
	w := s.alg.words()
	out := make([]E, len(v)/w)
	for i := range out {
		out[i] = s.alg.get(v[i*w : (i+1)*w])
	}
	return out
}

// stepMsg is the next compression step's message: h at the points of {0,1,inf}^v but
// the last grid point (v = 1: h(0), h(inf)).
func (s *zkProof[E]) stepMsg() []uint64 {
	if s.own == nil && len(s.bases.a) == 1 {
		s.own, s.vm, s.vp = s.instances()
	}
	if s.own != nil {
		h0, hinf := s.halvesInstance()
		return s.encode(h0, hinf)
	}
	s.v = stepVars(len(s.bases.a))
	s.bases.padTo(1 << s.v)
	if s.v > 1 { // points and foldTop read every entry
		s.bases.materialize()
	}
	if s.v == 1 {
		h0, hinf := s.alg.halves(s.bases)
		return s.encode(h0, hinf)
	}
	lift := s.lift(s.v)
	last := lift.gridPt[lift.grid-1]
	hs := s.alg.points(s.bases, lift, last)
	return s.encode(append(hs[:last:last], hs[last+1:]...)...)
}

// stepApply takes this party's V- and V+ shares of the other provers' step messages,
// draws the challenges r and folds: the claims c become h(r), with h at the last grid
// point c minus h at the others.
func (s *zkProof[E]) stepApply(sm, sp []uint64, g *prg.PRG) {
	a := s.alg
	if s.own == nil {
		v := s.v
		rs := make([]E, v)
		for i := range rs {
			rs[i] = a.challenge(g)
		}
		lift := s.lift(v)
		last := lift.gridPt[lift.grid-1]
		basis := liftBasis(a, lift, rs)
		claim := func(c *E, msg []uint64) {
			sh := s.decode(msg)
			hs := make([]E, 0, lift.points)
			hs = append(append(append(hs, sh[:last]...), *c), sh[last:]...)
			for _, q := range lift.gridPt[:lift.grid-1] {
				a.sub(&hs[last], &hs[last], &hs[q])
			}
			var out, t E
			for q := range hs {
				a.mul(&t, &basis[q], &hs[q])
				a.add(&out, &out, &t)
			}
			*c = out
		}
		claim(&s.cm, sm)
		claim(&s.cp, sp)
		if v == 1 { // the algebra's pairs (halves)
			a.halve(s.bases, &rs[0])
			return
		}
		for i := v - 1; i >= 0; i-- { // the top variable first: block b = index / B
			for _, w := range []*[]E{&s.bases.a, &s.bases.b, &s.bases.ya, &s.bases.yb} {
				*w = a.foldTop(*w, &rs[i])
			}
		}
		return
	}
	r := a.challenge(g)
	line := func(c *E, sh []E) {
		var h1 E
		a.sub(&h1, c, &sh[0])
		*c = evalLine(a, &sh[0], &h1, &sh[1], &r)
	}
	line(&s.vm.c, s.decode(sm))
	line(&s.vp.c, s.decode(sp))
	for _, in := range []*zkInstance[E]{s.own, s.vm, s.vp} {
		in.a = a.foldTop(in.a, &r)
		in.b = a.foldTop(in.b, &r)
	}
}

// instances expands bases of length 1 into the three interleaved instances (length 2).
func (s *zkProof[E]) instances() (own, vm, vp *zkInstance[E]) {
	z := s.bases
	var ab, zero E
	s.alg.add(&ab, &z.ya[0], &z.yb[0])
	own = &zkInstance[E]{a: []E{z.a[0], z.b[0]}, b: []E{ab, z.ya[0]}}
	vm = &zkInstance[E]{a: []E{z.b[0], zero}, b: []E{z.yb[0], z.yb[0]}, c: s.cm}
	vp = &zkInstance[E]{a: []E{zero, z.a[0]}, b: []E{z.ya[0], zero}, c: s.cp}
	return
}

// halvesInstance is h(0), h(inf) of the prover's instance of length 2.
func (s *zkProof[E]) halvesInstance() (h0, hinf E) {
	a, in := s.alg, s.own
	var da, db E
	a.mul(&h0, &in.a[0], &in.b[0])
	a.sub(&da, &in.a[1], &in.a[0])
	a.sub(&db, &in.b[1], &in.b[0])
	a.mul(&hinf, &da, &db)
	return
}

// lastMsg draws the masks M, N and returns M, N, h(0) = MN, h(inf) = (A - M)(B - N).
func (s *zkProof[E]) lastMsg(rnd io.Reader) ([]uint64, error) {
	a := s.alg
	if s.own == nil { // a proof of length 1 with no halving step
		s.own, s.vm, s.vp = s.instances()
	}
	w := a.words()
	mn := make([]byte, 2*w*8)
	if _, err := io.ReadFull(rnd, mn); err != nil {
		return nil, fmt.Errorf("proof masks: %w", err)
	}
	mw, err := ring.AsWords(mn, 2*w)
	if err != nil {
		return nil, err
	}
	s.m, s.n = a.get(mw[:w]), a.get(mw[w:])
	var h0, hinf, da, db E
	a.mul(&h0, &s.m, &s.n)
	a.sub(&da, &s.own.a[0], &s.m)
	a.sub(&db, &s.own.b[0], &s.n)
	a.mul(&hinf, &da, &db)
	return s.encode(s.m, s.n, h0, hinf), nil
}

func (s *zkProof[E]) lastWords() int { return 3 * s.alg.words() }

// lastApply takes the shares of the other provers' M, N, h(0), h(inf), draws r and
// returns this party's shares of f(r), g(r), h(r) for the other verifier of each proof:
// as V- (of the next prover) to the previous party, as V+ (of the previous prover) to the
// next one.
func (s *zkProof[E]) lastApply(sm, sp []uint64, g *prg.PRG) (toPrev, toNext []uint64) {
	a := s.alg
	r := a.challenge(g)
	final := func(in *zkInstance[E], sh []E) []E {
		one := a.one()
		var omr, t1, t2, fr, gr E
		a.sub(&omr, &one, &r)
		a.mul(&t1, &omr, &sh[0])
		a.mul(&t2, &r, &in.a[0])
		a.add(&fr, &t1, &t2)
		a.mul(&t1, &omr, &sh[1])
		a.mul(&t2, &r, &in.b[0])
		a.add(&gr, &t1, &t2)
		hr := evalLine(a, &sh[2], &in.c, &sh[3], &r)
		return []E{fr, gr, hr}
	}
	s.fm, s.fp = final(s.vm, s.decode(sm)), final(s.vp, s.decode(sp))
	return s.encode(s.fm...), s.encode(s.fp...)
}

// verify adds the other verifier's shares: fromPrev completes the proof of the next
// prover (this party is its V-, the previous party its V+), fromNext that of the
// previous prover; f(r) g(r) = h(r) must hold.
func (s *zkProof[E]) verify(fromPrev, fromNext []uint64) (badNext, badPrev bool) {
	a := s.alg
	ok := func(mine []E, other []uint64) bool {
		o := s.decode(other)
		var fr, gr, hr, prod E
		a.add(&fr, &mine[0], &o[0])
		a.add(&gr, &mine[1], &o[1])
		a.add(&hr, &mine[2], &o[2])
		a.mul(&prod, &fr, &gr)
		return prod == hr
	}
	return !ok(s.fm, fromPrev), !ok(s.fp, fromNext)
}

// lineBasis is (1-r, r, r^2-r).
func lineBasis[E comparable](a zkAlg[E], r *E) [3]E {
	one := a.one()
	var b [3]E
	a.sub(&b[0], &one, r)
	b[1] = *r
	var r2 E
	a.mul(&r2, r, r)
	a.sub(&b[2], &r2, r)
	return b
}

// evalLine is h(r) for h of degree 2 given h(0), h(1), h(inf).
func evalLine[E comparable](a zkAlg[E], h0, h1, hinf, r *E) E {
	b := lineBasis(a, r)
	var out, t E
	a.mul(&out, h0, &b[0])
	a.mul(&t, h1, &b[1])
	a.add(&out, &out, &t)
	a.mul(&t, hinf, &b[2])
	a.add(&out, &out, &t)
	return out
}

// zkRound is one message of the proofs and its coin: this party's values (one part per
// proof) minus the words of the key it shares with its V- (which draws the same words as
// its B component; XOR for a proof over GF(2^64)) go to the next party (V+) in one
// message, the coin's commitment in the same round; then the previous party's message is
// received and the coin revealed. It returns per part this party's V- shares (its B
// words) and V+ shares (received). All parties call it with the same part sizes.
//
// A message of the wrong length is reported in failed (its shares taken as zero), so that
// every party still reaches the verdict exchange.
func (p *Protocol) zkRound(parts [][]uint64, xor []bool) (vm, vp [][]uint64, g *prg.PRG, failed string, err error) {
	words := 0
	for _, v := range parts {
		words += len(v)
	}
	mask := p.raw.Rand(words)
	msg := make([]uint64, 0, words)
	off := 0
	for i, v := range parts {
		for j, x := range v {
			if xor[i] {
				x ^= mask.A[off+j]
			} else {
				x -= mask.A[off+j]
			}
			msg = append(msg, x)
		}
		off += len(v)
	}
	conn := p.Conn()
	next, prev := (p.ID()+1)%3, (p.ID()+2)%3
	if err := sendFlush(conn, next, ring.AsBytes(msg)); err != nil {
		return nil, nil, nil, "", err
	}
	c, err := p.coinCommit()
	if err != nil {
		return nil, nil, nil, "", err
	}
	m, err := conn.Recv(prev)
	if err != nil {
		return nil, nil, nil, "", err
	}
	got, err := ring.AsWords(m, words)
	if err != nil {
		got = make([]uint64, words)
		failed = fmt.Sprintf("product proof (party %d's proof message has %d bytes, not %d)", prev, len(m), 8*words)
	}
	g, f, err := c.reveal(p)
	if err != nil {
		return nil, nil, nil, "", err
	}
	if failed == "" {
		failed = f
	}
	off = 0
	for _, v := range parts {
		vm = append(vm, mask.B[off:off+len(v)])
		vp = append(vp, got[off:off+len(v)])
		off += len(v)
	}
	return vm, vp, g, failed, nil
}

// runProofs runs steps 2 and 3 of the proofs ps in lockstep (a proof with fewer compression
// steps joins later, so that all reach the last step together) and returns the first
// failure found (appended to failed).
func (p *Protocol) runProofs(ps []zkStepper, failed string) (string, error) {
	note := func(f string) {
		if failed == "" && f != "" {
			failed = f
		}
	}
	R := 0
	for _, s := range ps {
		R = max(R, s.left())
	}
	// 2. Compression steps.
	for k := range R {
		var act []zkStepper
		var parts [][]uint64
		var xor []bool
		for _, s := range ps {
			if s.left() == R-k {
				act = append(act, s)
				parts = append(parts, s.stepMsg())
				xor = append(xor, s.xor())
			}
		}
		sm, sp, g, f, err := p.zkRound(parts, xor)
		if err != nil {
			return "", fmt.Errorf("compression step: %w", err)
		}
		note(f)
		for i, s := range act {
			s.stepApply(sm[i], sp[i], g)
		}
	}
	// 3. The masked last step.
	var parts [][]uint64
	var xor []bool
	for _, s := range ps {
		m, err := s.lastMsg(p.opt.Reader())
		if err != nil {
			return "", err
		}
		parts = append(parts, m)
		xor = append(xor, s.xor())
	}
	sm, sp, g, f, err := p.zkRound(parts, xor)
	if err != nil {
		return "", fmt.Errorf("last step: %w", err)
	}
	note(f)
	var toPrev, toNext []uint64
	words := 0
	for i, s := range ps {
		a, b := s.lastApply(sm[i], sp[i], g)
		toPrev, toNext = append(toPrev, a...), append(toNext, b...)
		words += s.lastWords()
	}
	conn := p.Conn()
	id := p.ID()
	next, prev := (id+1)%3, (id+2)%3
	if err := sendFlush(conn, prev, ring.AsBytes(toPrev)); err != nil {
		return "", err
	}
	if err := sendFlush(conn, next, ring.AsBytes(toNext)); err != nil {
		return "", err
	}
	var from [2][]uint64
	for i, src := range []int{prev, next} {
		m, err := conn.Recv(src)
		if err != nil {
			return "", err
		}
		w, err := ring.AsWords(m, words)
		if err != nil {
			note(fmt.Sprintf("product proof (party %d's last message has %d bytes)", src, len(m)))
			w = nil
		}
		from[i] = w
	}
	if from[0] == nil || from[1] == nil {
		return failed, nil
	}
	off := 0
	for _, s := range ps {
		n := s.lastWords()
		badNext, badPrev := s.verify(from[0][off:off+n], from[1][off:off+n])
		off += n
		if badNext {
			note(fmt.Sprintf("%s (party %d's proof of its %s does not verify)", s.what(), next, proved(s.what())))
		}
		if badPrev {
			note(fmt.Sprintf("%s (party %d's proof of its %s does not verify)", s.what(), prev, proved(s.what())))
		}
	}
	return failed, nil
}

func proved(what string) string {
	if what == andProof {
		return "AND words"
	}
	return "products"
}

// prove runs the proofs of a batch (all parties at once; g is the batch's coin): of the
// arithmetic elementwise products prods and dot records dots over GR(2^64, 56), of the
// AND words ands over GF(2^64), their lifts in one round and their later steps in
// lockstep. It returns a failure description ("" if every proof verifies).
func (p *Protocol) prove(prods []product, dots []dotRecord, ands []product, g *prg.PRG) (string, error) {
	var arith *arithStatement
	var and *andStatement
	var parts [][]uint64
	var xor []bool
	if len(prods)+len(dots) > 0 {
		p.elems.reset()
		arith = newArithStatement(prods, dots, g, &p.elems)
		if m := arith.liftMsg(); m != nil {
			parts, xor = append(parts, m), append(xor, false)
		}
	}
	if len(ands) > 0 {
		p.f64s.reset()
		and = newAndStatement(ands, g, &p.f64s)
		parts, xor = append(parts, and.off), append(xor, true)
	}
	// 1. The lifts' messages and coin.
	var sm, sp [][]uint64
	var lg *prg.PRG
	var failed string
	if len(parts) > 0 {
		var err error
		sm, sp, lg, failed, err = p.zkRound(parts, xor)
		if err != nil {
			return "", fmt.Errorf("lift: %w", err)
		}
	}
	var ps []zkStepper
	if arith != nil {
		var am, ap []uint64
		if arith.off != nil {
			am, ap, sm, sp = sm[0], sp[0], sm[1:], sp[1:]
		}
		a, err := arith.finish(am, ap, lg)
		if err != nil {
			return "", err
		}
		ps = append(ps, a)
	}
	if and != nil {
		ps = append(ps, and.finish(sm[0], sp[0], lg))
	}
	return p.runProofs(ps, failed)
}

// stepPoints is the common part of the algebras' points kernels: for each j in [lo, hi)
// (j < B) it
// extends the four bases' entries of the 2^v blocks to {0,1,inf}^v and hands them to
// acc (j's contribution to h at every point but skip).
func stepPoints[E comparable](a zkAlg[E], z *zkBases[E], lift *zkLift, lo, hi int, acc func(ext *[4][]E)) {
	G, P := lift.grid, lift.points
	B := len(z.a) / G
	var in, ext [4][]E
	for k := range in {
		in[k], ext[k] = make([]E, G), make([]E, P)
	}
	var zero E
	for j := lo; j < hi; j++ {
		nza, nzb := false, false
		for b := range G {
			e := b*B + j
			in[0][b], in[1][b], in[2][b], in[3][b] = z.a[e], z.b[e], z.ya[e], z.yb[e]
			nza = nza || z.a[e] != zero || z.b[e] != zero
			nzb = nzb || z.ya[e] != zero || z.yb[e] != zero
		}
		if !nza || !nzb { // the a side or the b side is zero: no contribution
			continue
		}
		for k := range in {
			extendE(a, lift, in[k], ext[k])
		}
		acc(&ext)
	}
}
