package spdz2k

// edaBits in the OT-based offline phase: a random value r authenticated arithmetically
// together with its m low bits authenticated in binary (TinyOT), for the conversions
// (convert.go).
//
// Source: Escudero, Ghosh, Keller, Rachuri, Scholl, "Improved Primitives for MPC over
// Mixed Arithmetic-Binary Circuits", CRYPTO 2020 (the edaBits paper), its malicious
// dishonest-majority protocol: each party generates private edaBits (values it chooses,
// input in both worlds), their consistency is checked by cut-and-choose and bucketing
// (a bucket's first edaBit is added to each other one with the binary adder and with
// arithmetic addition, and the two sums are opened and compared), and the parties'
// checked private edaBits are summed (binary adder with AND triples; arithmetic addition
// locally). MP-SPDZ's EdabitShuffleSacrifice (Protocols/ShuffleSacrifice.hpp) was read
// as a reference for the non-strict check; nothing is copied.
//
// Threat model: as the rest of otsource.go (two parties, static malicious corruption of
// either, abort with errs.Cheating at both parties; statistical security at least 40
// bits per private edaBit check by daBitSecurity's bound, more as the inference's plan
// gives it (bucketSize, security.go), computational kappa = 128).
//
// # What an edaBit is here ("loose" edaBits)
//
// An edaBit of length m (1 <= m <= 64) is [r] in Z_2^128 and bits <b_0>, ..., <b_{m-1}>
// with r = sum_j 2^j b_j mod 2^m. The bits of r above m are NOT zero: they are uniform
// and unknown to either party (each party's private value is uniform in Z_2^128 with its
// low m bits input in binary, and the sum of the two is uniform). This is the paper's
// non-strict edaBit (the sum of the parties' private edaBits carries into bit m; the
// paper, and MP-SPDZ's default for A2B, keep the carry in the arithmetic value instead of
// converting it), with the carry and everything above it masked by the uniform high
// part. It is what the conversions need: A2B opens x - r, whose bits above m are
// uniform thanks to r's high part, so no extra random [t] * 2^m is needed (convert.go);
// B2A uses m = 64, for which r is exactly sum_j 2^j b_j modulo 2^64, the computation's
// ring.
//
// # Private edaBits (privateEdaBits) and their check
//
// The owner draws M = N*B + C uniform values v in Z_2^128 (N = max(want, edaBitMin)), B
// and C from bucketSize: it authenticates v arithmetically (Π_[[·]], only its
// component, otsource.go) and inputs the m low bits of every v in binary (tinyot Input).
// A coin permutes the M edaBits. Cut-and-choose: C are opened in both worlds, and the
// low m bits of each opened arithmetic value must equal its opened bits. Buckets: the
// other N*B form N buckets of B; for the first edaBit a of a bucket and every other f,
// both parties compute <z> = <a> + <f> mod 2^m with a ripple-carry binary adder whose
// carries the owner inputs and proves with QuickSilver (provenSum, quicksilver.go: every
// input of these adders is the owner's, so the owner is a prover and the other party a
// verifier) and [a] + [f] locally, open z (tinyot Open) and a + f (one message each
// way), check the binary openings (tinyot Check) and then that the low m bits of the
// opened a + f equal z, with the batched MAC check of every opened arithmetic value
// (coin chi in Z_2^64, commit, reveal, verdict). The first edaBit of the first `want`
// buckets is kept.
//
// Soundness: let delta(e) = (arithmetic value - bits) mod 2^m for a private edaBit e
// (any value the owner chose: the binary bits are bits by construction, the carries are
// proven (a wrong one passes with probability about (G+1)/2^128, quicksilver.go) and the
// openings are authenticated, so the adder's z is the true sum of the bits, and
// a wrong opened arithmetic value changes it modulo 2^64, caught by the MAC check except
// with probability about 2^-57). A bucket passes iff delta(a) + delta(f) = 0 for every
// other f: a bucket mixing edaBits with delta = 0 and delta != 0 fails, so the owner
// keeps a bad edaBit only if its bad ones fill whole buckets and none was opened: the
// bound of daBitSecurity (Rotaru-Wood's and the edaBits paper's combinatorics: bad
// elements fill u whole buckets, none of the C opened), evaluated in bucketFor.
// Privacy of the owner's kept edaBit a (honest owner): each opened z = a + f mod 2^m and
// a + f (whose bits from m up are masked by f's uniform high part) is masked by a fresh
// f that is discarded; the opened edaBits are discarded.
//
// # Combining the two parties' private edaBits (EdaBits)
//
// With (a_i, <b_i>) party i's checked private edaBits: <b> = <b_0> + <b_1> mod 2^m (the
// ripple-carry adder, m - 1 AND triples) and [r] = [a_0] + [a_1] (local). Then r = b mod
// 2^m: the carry out of bit m - 1 stays in r's arithmetic high part. b is uniform and
// unknown to a corrupt party (the honest party's b_i is uniform and secret), and so are
// r's bits above m (the honest party's high part).
//
// # Messages (in order, per private edaBit check and owner, then the combination)
//
//   - owner -> peer: COPEe corrections of the M values (772 bytes each) and the
//     authentication check (coin: commitment and seed both ways; the check value y_i both
//     ways; z_i commitment, z_i, verdict both ways: otsource.go's authenticate);
//   - owner -> peer: the Delta-COT extension message of tinyot Input (m*M bits);
//   - both: the permutation coin (commitment, seed);
//   - the proven sum (provenSum): owner -> peer the Delta-COT extension of the carries
//     ((m-1) bits per bucket pair) and 128 mask bits, both the proof's coin, owner ->
//     peer the proof (U, V: 32 bytes); the peer's verdict joins checkZero's below;
//   - both: the opened z (m bits per bucket pair) and the C opened edaBits' bits (tinyot
//     Open), then tinyot Check (commitment, value, opening);
//   - both: the arithmetic openings a + f and the C opened values (16 bytes each), then
//     the MAC check coin, z_i commitment, z_i, verdict (checkZero).
//
// The combination adds tinyot's AND triple messages (triples.go), m - 1 rounds of AND
// openings and a tinyot Check.
//
// Cost per edaBit of length m and party (B the bucket size): its own B private edaBits
// (a 772-byte COPEe row each plus m bits of tinyot input), (B-1)(m-1) proven carries for
// its bucket checks (one tinyot input bit, 4 bytes, each), m - 1 tinyot AND triples for
// the combination (85-113 bytes), and the openings (m bits and 16 bytes per bucket
// pair). Measured in BenchmarkOTSource (BENCHMARKS.md, session 10): 10,388 bytes for m =
// 64 and B = 4 (16,815 with the personal triples of sessions 8-9, 9 tinyot input bits
// and 3 opened bits per AND gate); about 0.4x the CPU. The combination's adder runs its
// AND gates in place (andInto).

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// edaBitOpened is the number of private edaBits the cut-and-choose opens per check. Its
// size hardly matters for the bound (the worst attack makes B edaBits bad, which the
// opening misses with probability about 1 - B*C/M): 64 as for daBits.
const edaBitOpened = 64

// edaBitMin is the fewest buckets a private edaBit check uses: a smaller call checks
// this many and keeps the rest in a pool for later calls of the same length. Each refill
// of a length's pool doubles it, up to edaBitMaxGrow doublings: a small model makes few
// edaBits (buckets of 6 for 2^8), a large one reaches buckets of 4, which keep 40 bits
// from 2^14 buckets on (45.4 bits; 5 from 2^10) and 48.4 bits at 2^15, the largest
// refill (about 0.6 GB per party for 64-bit edaBits while a private check runs; its
// combining adder's triples come from the AND pool). Buckets of 3 need 2^19 (40.2 bits),
// which for 64-bit edaBits would hold about 4 GB of private edaBits at once. Each check's
// bucket size keeps the bits that the inference's security budget gives it
// (security.go; at least daBitStatBits).
const (
	edaBitMin     = 1 << 8
	edaBitMaxGrow = 7
)

// bucketSize is the bucket size of a private edaBit check of N buckets with the bits of
// the current plan (bucketFor), computed once per N and bits (the bound's binomials cost
// milliseconds).
func (s *otSource) bucketSize(N int) int {
	key := bucketKey{N, max(s.checkBits, daBitStatBits)}
	if b, ok := s.bucketSizes[key]; ok {
		return b
	}
	if s.bucketSizes == nil {
		s.bucketSizes = map[bucketKey]int{}
	}
	b := bucketFor(N, edaBitOpened, key.bits)
	s.bucketSizes[key] = b
	return b
}

// bucketKey is a private edaBit check's number of buckets and bits.
type bucketKey struct {
	N    int
	bits float64
}

// edaPool holds checked edaBits of one length not yet handed out: planes[j] is bit j of
// every element.
type edaPool struct {
	planes []tinyot.Bits
	arith  *AShare
}

// edaMin is edaBitMin, or the tests' smaller value.
func (s *otSource) edaMin() int {
	if s.edaBitMin > 0 {
		return s.edaBitMin
	}
	return edaBitMin
}

func (p *edaPool) len() int {
	if p == nil || p.arith == nil {
		return 0
	}
	return p.arith.Len()
}

// coinPerm returns a uniformly random permutation of [0, M) from a joint coin
// (Fisher-Yates; the bias of r mod (i+1) is at most M/2^64).
func (s *otSource) coinPerm(label string, M int) ([]int, error) {
	g, err := s.coin(label)
	if err != nil {
		return nil, err
	}
	perm := make([]int, M)
	for i := range perm {
		perm[i] = i
	}
	r := g.Uint64s(M)
	for i := M - 1; i > 0; i-- {
		j := int(r[i] % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm, nil
}

// buckets splits a permutation of N*B + opened items into N buckets of B (the items
// perm[k*B ..]) and the opened rest: keep holds the first item of each of the first want
// buckets, and (firsts[i], others[i]) pair each bucket's first item with each of its
// other items, for the bucket checks.
func buckets(perm []int, N, B, want int) (opened, keep, firsts, others []int) {
	opened = perm[N*B:]
	keep = make([]int, want)
	firsts = make([]int, 0, N*(B-1))
	others = make([]int, 0, N*(B-1))
	for k := range N {
		if k < want {
			keep[k] = perm[k*B]
		}
		for j := 1; j < B; j++ {
			firsts = append(firsts, perm[k*B])
			others = append(others, perm[k*B+j])
		}
	}
	return opened, keep, firsts, others
}

// planeViews returns x's m planes of n bits each (plane j: bits [j*n, (j+1)*n)), for
// reading only (bitsView).
func planeViews(x tinyot.Bits, m, n int) []tinyot.Bits {
	y := make([]tinyot.Bits, m)
	for j := range m {
		y[j] = bitsView(x, j*n, (j+1)*n)
	}
	return y
}

// bitsView returns bits [lo, hi) of x for reading only: the MACs and keys are views of
// x's (capacity-limited), the bits too when lo and hi are multiples of 64, else a shifted
// copy (ring.ExtractBits; 1 bit per 32 bytes of blocks). tinyot's Slice copies all three.
func bitsView(x tinyot.Bits, lo, hi int) tinyot.Bits {
	n := hi - lo
	var bits []uint64
	if lo%64 == 0 && hi%64 == 0 {
		bits = x.X[lo/64 : hi/64 : hi/64]
	} else {
		bits = make([]uint64, ring.Words(n))
		ring.ExtractBits(bits, x.X, lo, n)
	}
	return tinyot.Bits{N: n, X: bits, M: x.M[lo:hi:hi], K: x.K[lo:hi:hi]}
}

// edaBuckets splits a permutation of N*B + opened items into N buckets of B: bucket k is
// perm[k] (its first item) and perm[N + r*N + k] for r < B - 1, the opened rest is
// perm[N*B:], keep holds the first item of each of the first want buckets, and
// (firsts[g], others[g]) pair each bucket's first item with each of its other items, for
// the bucket checks. The permutation is uniform and the split fixed, so the buckets are
// as random as buckets' (the same distribution); this split lets the checks read the
// permuted items as contiguous ranges (others = perm[N:N*B], firsts = perm[:N] B - 1
// times).
func edaBuckets(perm []int, N, B, want int) (firsts, others, opened, keep []int) {
	firsts = make([]int, N*(B-1))
	for r := range B - 1 {
		copy(firsts[r*N:], perm[:N])
	}
	return firsts, perm[N : N*B], perm[N*B:], perm[:want]
}

// inputSide builds this party's tinyot Bits of bits that one party (the owner of a
// private edaBit check) input, from this party's nonzero component only: tinyot Input
// leaves the owner bits and MACs (its keys zero) and the other party keys (its bits and
// MACs zero). The zero components are capacity-limited views of one zeroed buffer that
// nothing writes (every consumer of these Bits in a private edaBit check reads them or
// copies them), so the check's many planes do not each allocate and clear their own.
type inputSide struct {
	mine  bool
	zeroW []uint64
	zeroB []ot.Block
}

// edaScratch holds a private edaBit check's large buffers from one check to the next, so
// that a refill's two checks (and, while the plan has edaBits to make, the next refills)
// reuse them instead of allocating, clearing and faulting in some 235 MB per check of 2^14
// 64-bit edaBits: the zero components (never written), and the permuted blocks, the
// firsts' blocks and the sums' blocks, each overwritten whole before it is read and dead
// when the check returns (its kept edaBits are copies; tinyot's openings hash what they
// record at once). Per source (one party's, used by one goroutine), no global state;
// sized by the largest check so far, released by edaTake when the plan has no edaBits
// left to make and by andTake before every AND batch (the two largest live sets never add
// up: 0.25_128's peak RSS 10.5 GB with the scratch kept across batches, 9.05 GB without,
// for about 4 % more CPU; BENCHMARKS.md, session 13 lead).
type edaScratch struct {
	zeroW      []uint64
	zeroB      []ot.Block
	pb, fb, zB []ot.Block
	// in receives a check's tinyot Input blocks: the m*M bits of the private edaBits
	// (dead once permuteBlocks has copied them into pb), then the proven sum's carries
	// and mask (provenSum; dead when the check returns).
	in []ot.Block
}

// inputBlocks returns the scratch's buffer for the blocks of a tinyot Input of n bits
// (InputOneSidedInto's destination, with room for the extension's rows).
func (s *otSource) inputBlocks(n int) []ot.Block {
	return scratchOf(&s.scratch.in, s.bin.InputRows(n))
}

// scratchOf returns (*buf)[:n], reallocating *buf when it is shorter.
func scratchOf[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// inputSide returns an inputSide for Bits of up to n bits whose zero components are
// views of the scratch's zeros.
func (s *otSource) inputSide(mine bool, n int) inputSide {
	sc := &s.scratch
	if len(sc.zeroB) < n {
		sc.zeroW, sc.zeroB = make([]uint64, ring.Words(n)), make([]ot.Block, n)
	}
	return inputSide{mine: mine, zeroW: sc.zeroW, zeroB: sc.zeroB}
}

// bits returns the Bits of len(blk) bits with this party's blocks blk and, at the owner,
// the bits x (ignored at the other party).
func (o inputSide) bits(x []uint64, blk []ot.Block) tinyot.Bits {
	n := len(blk)
	zb := o.zeroB[:n:n]
	if o.mine {
		return tinyot.Bits{N: n, X: x, M: blk, K: zb}
	}
	w := ring.Words(n)
	return tinyot.Bits{N: n, X: o.zeroW[:w:w], M: zb, K: blk}
}

// blocks returns b's nonzero blocks at this party: the owner's MACs, the other's keys.
func (o inputSide) blocks(b tinyot.Bits) []ot.Block {
	if o.mine {
		return b.M
	}
	return b.K
}

// permuteBlocks returns the m planes of M blocks blk (plane j: blocks [j*M, (j+1)*M)) in
// the order perm: block k of plane j of the result is block perm[k] of plane j. One
// random read per block; the bucket checks then read contiguous ranges (edaBuckets).
func permuteBlocks(out, blk []ot.Block, m int, perm []int) []ot.Block {
	M := len(perm)
	out = out[:m*M]
	for j := range m {
		src, dst := blk[j*M:(j+1)*M:(j+1)*M], out[j*M:(j+1)*M:(j+1)*M]
		for k, q := range perm {
			dst[k] = src[q]
		}
	}
	return out
}

// edaInput is one party's part of a private edaBit check's tinyot Input of m planes of
// M bits (edaBit q's bit j is input bit j*M + q): the owner's bits (nil at the other
// party) and the zero components.
type edaInput struct {
	sd   inputSide
	bits []uint64
	M    int
}

// planes returns the m planes of the input's items idx, with this party's blocks of
// plane j at blk[j*stride+lo ...] (len(idx) of them: the items' blocks, already in the
// order of idx, as permuteBlocks and the firsts' copies lay them out). The blocks are
// views of blk, the zero components of the input's.
func (e edaInput) planes(idx []int, blk []ot.Block, stride, lo int) []tinyot.Bits {
	m, n := len(blk)/stride, len(idx)
	y := make([]tinyot.Bits, m)
	for j := range m {
		var bits []uint64
		if e.sd.mine {
			bits = gatherBits(e.bits, j*e.M, idx)
		}
		b := j*stride + lo
		y[j] = e.sd.bits(bits, blk[b:b+n:b+n])
	}
	return y
}

// gatherBits returns the bits base + idx[k] of x, bit k at bit k.
func gatherBits(x []uint64, base int, idx []int) []uint64 {
	out := make([]uint64, ring.Words(len(idx)))
	for k, q := range idx {
		b := base + q
		out[k/64] |= (x[b/64] >> (b % 64) & 1) << (k % 64)
	}
	return out
}

// addPlanes returns the planes of (x + y) mod 2^m for the m planes x and y of n bits
// each (a ripple-carry adder: carry c_1 = x_0 & y_0, c_{j+1} = c_j ^ ((x_j ^ c_j) & (y_j ^
// c_j)), sum bit j = x_j ^ y_j ^ c_j): (m-1)*n AND triples from triples, in m - 1 rounds
// of tinyot's AND (andInto), whose openings the caller's next tinyot Check verifies.
func (s *otSource) addPlanes(x, y []tinyot.Bits, triples func(n int) (a, b, c tinyot.Bits, err error)) ([]tinyot.Bits, error) {
	m := len(x)
	out := make([]tinyot.Bits, m)
	out[0] = tinyot.Xor(x[0], y[0])
	if m == 1 {
		return out, nil
	}
	n := x[0].N
	ta, tb, tc, err := triples((m - 1) * n)
	if err != nil {
		return nil, err
	}
	// Scratch, reused plane after plane: the AND's operands u, v, the opening, its
	// product t, and the carry c.
	u, v, t, c, open := tinyot.NewBits(n), tinyot.NewBits(n), tinyot.NewBits(n), tinyot.NewBits(n), tinyot.NewBits(2*n)
	for j := 0; j < m-1; j++ {
		if j == 0 {
			u, v = x[0], y[0]
		} else {
			xorInto(&u, x[j], c)
			xorInto(&v, y[j], c)
		}
		if err := s.andInto(&t, u, v, ta, tb, tc, j*n, &open); err != nil {
			return nil, err
		}
		if j == 0 {
			c, u, v = t, tinyot.NewBits(n), tinyot.NewBits(n)
			t = tinyot.NewBits(n)
		} else {
			xorInto(&c, c, t)
		}
		o := tinyot.NewBits(n)
		xorInto(&o, x[j+1], y[j+1])
		xorInto(&o, o, c)
		out[j+1] = o
	}
	return out, nil
}

// xorInto sets dst = x ^ y (all three of the same length; dst may be x or y).
func xorInto(dst *tinyot.Bits, x, y tinyot.Bits) {
	for w := range dst.X {
		dst.X[w] = x.X[w] ^ y.X[w]
	}
	for j := range dst.M {
		dst.M[j] = xorBlock(x.M[j], y.M[j])
		dst.K[j] = xorBlock(x.K[j], y.K[j])
	}
}

// andInto sets z = u AND v with the triples (a, b, c) at bits [off, off+n) (n = u.N):
// tinyot's And (one opening of d = u ^ a and e = v ^ b together; z = c ^ d b ^ e a ^ d e,
// the public d e added as XorPublic does: the first party flips its share, the other
// XORs its Delta into its key), in place, with open (2n bits) as the opening's buffer.
// The same message and the same outputs as tinyot's And.
func (s *otSource) andInto(z *tinyot.Bits, u, v, a, b, c tinyot.Bits, off int, open *tinyot.Bits) error {
	n := u.N
	// The bits word by word when the triples' and the opening's halves are word-aligned
	// (every refill of a multiple of 64 edaBits), else bit by bit.
	aligned := off%64 == 0 && n%64 == 0
	o, W := off/64, n/64
	if aligned {
		for w := range W {
			open.X[w] = u.X[w] ^ a.X[o+w]
			open.X[W+w] = v.X[w] ^ b.X[o+w]
		}
	} else {
		for w := range open.X {
			open.X[w] = 0
		}
		for i := range n {
			q, k := off+i, n+i
			open.X[i/64] |= (u.X[i/64]>>(i%64) ^ a.X[q/64]>>(q%64)) & 1 << (i % 64)
			open.X[k/64] |= (v.X[i/64]>>(i%64) ^ b.X[q/64]>>(q%64)) & 1 << (k % 64)
		}
	}
	am, ak, bm, bk := a.M[off:off+n], a.K[off:off+n], b.M[off:off+n], b.K[off:off+n]
	for i := range n {
		k := n + i
		open.M[i], open.K[i] = xorBlock(u.M[i], am[i]), xorBlock(u.K[i], ak[i])
		open.M[k], open.K[k] = xorBlock(v.M[i], bm[i]), xorBlock(v.K[i], bk[i])
	}
	de, err := s.bin.Open(*open)
	if err != nil {
		return err
	}
	first, delta := s.bin.First(), s.bin.Delta()
	var firstMask uint64 // d e goes into the first party's share
	if first {
		firstMask = ^uint64(0)
	}
	if aligned {
		for w := range W {
			d, e := de[w], de[W+w]
			z.X[w] = c.X[o+w] ^ d&b.X[o+w] ^ e&a.X[o+w] ^ d&e&firstMask
		}
	} else {
		for w := range z.X {
			z.X[w] = 0
		}
		for i := range n {
			q, k := off+i, n+i
			d, e := de[i/64]>>(i%64)&1, de[k/64]>>(k%64)&1
			x := c.X[q/64]>>(q%64) ^ d&(b.X[q/64]>>(q%64)) ^ e&(a.X[q/64]>>(q%64)) ^ d&e&firstMask
			z.X[i/64] |= x & 1 << (i % 64)
		}
	}
	cm, ck := c.M[off:off+n], c.K[off:off+n]
	for i := range n {
		k := n + i
		d := -(de[i/64] >> (i % 64) & 1)
		e := -(de[k/64] >> (k % 64) & 1)
		z.M[i] = xorBlock(cm[i], xorBlock(andBlock(bm[i], d), andBlock(am[i], e)))
		kk := xorBlock(ck[i], xorBlock(andBlock(bk[i], d), andBlock(ak[i], e)))
		if !first {
			kk = xorBlock(kk, andBlock(delta, d&e))
		}
		z.K[i] = kk
	}
	return nil
}

// lowBits returns v mod 2^m (1 <= m <= 64).
func lowBits(v uint64, m int) uint64 {
	if m == 64 {
		return v
	}
	return v & (1<<m - 1)
}

// planeValue returns sum_j 2^j (bit q of opened plane j) for the opened planes o (plane
// j is words [j*W, (j+1)*W)).
func planeValue(o []uint64, W, m, q int) uint64 {
	var v uint64
	for j := range m {
		v |= (o[j*W+q/64] >> (q % 64) & 1) << j
	}
	return v
}

// openPlanes opens the planes x (tinyot Open of all of them at once) and returns them
// as m planes of W words.
func (s *otSource) openPlanes(x []tinyot.Bits) ([]uint64, int, error) {
	n := x[0].N
	W := ring.Words(n)
	o, err := s.bin.OpenAll(x...)
	if err != nil {
		return nil, 0, err
	}
	if n%64 == 0 { // plane j is words [j*W, (j+1)*W) of o already
		return o[:len(x)*W], W, nil
	}
	out := make([]uint64, len(x)*W)
	for j := range x {
		ring.ExtractBits(out[j*W:(j+1)*W], o, j*n, n)
	}
	return out, W, nil
}

// privateEdaBits returns want checked edaBits of length m whose values party owner
// chose (see the file comment): m planes of want bits and the arithmetic values.
func (s *otSource) privateEdaBits(owner, want, m int) ([]tinyot.Bits, *AShare, error) {
	N := max(want, s.edaMin())
	B := s.bucketSize(N)
	M := N*B + edaBitOpened
	x := ring128.Make(M)
	var in []uint64 // the bits, plane j in words [j*W, (j+1)*W)
	W := ring.Words(M)
	if s.id == owner {
		x = s.randVec(M)
		in = make([]uint64, m*W)
		for j := range m {
			for q := range M {
				in[j*W+q/64] |= (x.Lo[q] >> j & 1) << (q % 64)
			}
		}
		if s.edaBitInput != nil {
			s.edaBitInput(x, in, W)
		}
	}
	var sends [2]bool
	sends[owner] = true
	arith, err := s.authenticate(x, sends)
	if err != nil {
		return nil, nil, err
	}
	// One tinyot Input of all m planes (bit j*M + q is bit j of edaBit q).
	var flat []uint64
	switch {
	case s.id == owner && M%64 == 0: // the planes are word-aligned: in is that already
		flat = in
	case s.id == owner:
		flat = make([]uint64, ring.Words(m*M))
		for j := range m {
			for q := range M {
				b := j*M + q
				flat[b/64] |= (in[j*W+q/64] >> (q % 64) & 1) << (b % 64)
			}
		}
	}
	mine := s.id == owner
	inBits, inBlk, err := s.bin.InputOneSidedInto(s.inputBlocks(m*M), mine, flat, m*M)
	if err != nil {
		return nil, nil, err
	}
	sd := s.inputSide(mine, m*M)
	perm, err := s.coinPerm("edaBit buckets", M)
	if err != nil {
		return nil, nil, err
	}
	firsts, others, opened, keep := edaBuckets(perm, N, B, want)
	// The blocks in bucket order once (pb), then every part of the check is a range of
	// it; the bits (cheap) are gathered per part.
	pb := permuteBlocks(scratchOf(&s.scratch.pb, m*M), inBlk, m, perm)
	ei := edaInput{sd: sd, bits: inBits, M: M}
	nb := len(firsts)
	fb := scratchOf(&s.scratch.fb, m*nb) // the firsts' blocks: each bucket's first, B - 1 times
	for j := range m {
		for r := range B - 1 {
			copy(fb[j*nb+r*N:], pb[j*M:j*M+N])
		}
	}
	xs := ei.planes(firsts, fb, nb, 0)
	ys := ei.planes(others, pb, M, N)
	// The bucket adders' inputs are all the owner's: it proves their carries itself.
	z, failed, err := s.provenSum(owner, xs, ys)
	if err != nil {
		return nil, nil, err
	}
	zOpen, zW, err := s.openPlanes(z)
	if err != nil {
		return nil, nil, err
	}
	cOpen, cW, err := s.openPlanes(ei.planes(opened, pb, M, N*B))
	if err != nil {
		return nil, nil, err
	}
	if err := s.bin.Check(); err != nil {
		return nil, nil, err
	}
	d1, dj := pickShare(arith, firsts), pickShare(arith, others)
	y, my := ring128.Make(len(firsts)), ring128.Make(len(firsts))
	ring128.Add(y, d1.x, dj.x)
	ring128.Add(my, d1.m, dj.m)
	oa := pickShare(arith, opened)
	y, my = ring128.Concat(y, oa.x), ring128.Concat(my, oa.m)
	msg, err := s.exchange("edaBit checks", vecBytes(y))
	if err != nil {
		return nil, nil, err
	}
	yOpen := bytesVec(msg, y.Len())
	ring128.Add(yOpen, yOpen, y)
	for q := range nb {
		if lowBits(yOpen.Lo[q], m) != planeValue(zOpen, zW, m, q) {
			failed = append(failed, "edaBit bucket check")
			break
		}
	}
	for q := range opened {
		if lowBits(yOpen.Lo[nb+q], m) != planeValue(cOpen, cW, m, q) {
			failed = append(failed, "edaBit cut-and-choose")
			break
		}
	}
	g, err := s.coin("edaBit MAC check")
	if err != nil {
		return nil, nil, err
	}
	chi := g.Uint64s(yOpen.Len())
	if err := s.checkZero("edaBit buckets", ring128.Dot(yOpen, chi), ring128.Dot(my, chi), failed); err != nil {
		return nil, nil, err
	}
	kept := ei.planes(keep, pb, M, 0)
	for j := range kept {
		kept[j] = kept[j].Slice(0, want) // the caller's own copy, not a view of pb and sd
	}
	return kept, pickShare(arith, keep), nil
}

// EdaBits returns n edaBits of length m (1 <= m <= 64): the bits as n elements of m
// planes, and [r] with r = sum_j 2^j b_j mod 2^m and r's bits above m uniform (see the
// file comment). A call that the pool of length m cannot serve refills it: by the plan
// (plan.go) while it lasts, else each refill making max(what is missing, edaBitMin *
// 2^refills) (refills so far for m, at most edaBitMaxGrow doublings) but at most
// edaBitMin << edaBitMaxGrow, and keeps the rest.
func (s *otSource) EdaBits(n, m int) (*BShare, *AShare, error) {
	take, arith, err := s.edaTake(n, m)
	if err != nil {
		return nil, nil, err
	}
	return planesBShare(take, n), arith, nil
}

// CarryEdaBits returns n edaBits of length 64 as EdaBits(n, 64) and the prefix products
// of their planes from w on (Source): plane t of pre is b_w & ... & b_{w+t}, made here
// with tinyot AND triples, one plane after the other (62 - w rounds of tinyot And per
// call, 62 - w AND triples per element, from ANDTriples' pool), and verified by a tinyot
// Check before they are returned.
func (s *otSource) CarryEdaBits(n, w int) (bin *BShare, arith *AShare, pre *BShare, err error) {
	if w < 1 || w > 62 {
		return nil, nil, nil, errs.New(errs.Internal, "spdz2k offline: carry edaBits from plane %d", w)
	}
	take, arith, err := s.edaTake(n, 64)
	if err != nil {
		return nil, nil, nil, err
	}
	np := 63 - w
	prod := make([]tinyot.Bits, np)
	for t := range prod {
		prod[t] = tinyot.NewBits(n)
	}
	prod[0] = take[w]
	if n > 0 && np > 1 {
		ta, tb, tc, err := s.andTake((np - 1) * n)
		if err != nil {
			return nil, nil, nil, err
		}
		for t := 1; t < np; t++ {
			sl := func(x tinyot.Bits) tinyot.Bits { return x.Slice((t-1)*n, t*n) }
			if prod[t], err = s.bin.And(prod[t-1], take[w+t], sl(ta), sl(tb), sl(tc)); err != nil {
				return nil, nil, nil, err
			}
		}
		if err := s.bin.Check(); err != nil {
			return nil, nil, nil, err
		}
	}
	return planesBShare(take, n), arith, planesBShare(prod, n), nil
}

// edaTake takes n edaBits of length m from the pool of that length (refilling it as
// EdaBits says), as m planes of tinyot bits and the arithmetic shares.
func (s *otSource) edaTake(n, m int) ([]tinyot.Bits, *AShare, error) {
	if n < 0 || m < 1 || m > 64 {
		return nil, nil, errs.New(errs.Internal, "spdz2k offline: %d edaBits of length %d", n, m)
	}
	if n == 0 {
		take := make([]tinyot.Bits, m)
		for j := range take {
			take[j] = tinyot.NewBits(0)
		}
		return take, &AShare{x: ring128.Make(0), m: ring128.Make(0)}, nil
	}
	if s.eda == nil {
		s.eda, s.edaRefills = map[int]*edaPool{}, map[int]int{}
	}
	pool := s.eda[m]
	for have := pool.len(); have < n; have = pool.len() {
		// One refill: at most edaBitMin << edaBitMaxGrow at a time (bounded memory: about
		// 0.6 GB per party for 2^15 edaBits of 64 bits while a private check runs), sized
		// by the plan (plan.go); the combining adder's triples come from the AND pool.
		gen := s.edaRefill(m, n-have, s.edaRefills[m])
		s.edaRefills[m]++
		b0, a0, err := s.privateEdaBits(0, gen, m)
		if err != nil {
			return nil, nil, err
		}
		b1, a1, err := s.privateEdaBits(1, gen, m)
		if err != nil {
			return nil, nil, err
		}
		b, err := s.addPlanes(b0, b1, s.andTake)
		if err != nil {
			return nil, nil, err
		}
		if err := s.bin.Check(); err != nil {
			return nil, nil, err
		}
		if s.plan.edaLeft() == 0 {
			s.scratch = edaScratch{} // no planned refill left to reuse it
		}
		r := &AShare{x: ring128.Make(gen), m: ring128.Make(gen)}
		ring128.Add(r.x, a0.x, a1.x)
		ring128.Add(r.m, a0.m, a1.m)
		if have == 0 {
			pool = &edaPool{planes: b, arith: r}
		} else {
			for j := range m {
				pool.planes[j] = tinyot.Concat(pool.planes[j], b[j])
			}
			pool.arith = &AShare{x: ring128.Concat(pool.arith.x, r.x), m: ring128.Concat(pool.arith.m, r.m)}
		}
		s.eda[m] = pool
	}
	// Views, not copies: the callers read the planes (planesBShare, And) and copy what
	// they keep; a later refill's Concat copies the pool's rest.
	take := make([]tinyot.Bits, m)
	for j := range m {
		take[j] = bitsView(pool.planes[j], 0, n)
		pool.planes[j] = bitsView(pool.planes[j], n, pool.planes[j].N)
	}
	rest := pool.len() - n
	arith := &AShare{x: pool.arith.x.Slice(0, n).Clone(), m: pool.arith.m.Slice(0, n).Clone()}
	pool.arith = &AShare{x: pool.arith.x.Slice(n, n+rest).Clone(), m: pool.arith.m.Slice(n, n+rest).Clone()}
	return take, arith, nil
}

func xorBlock(a, b ot.Block) ot.Block { return ot.Block{a[0] ^ b[0], a[1] ^ b[1]} }

// andBlock returns a if m is all ones, zero if m is 0.
func andBlock(a ot.Block, m uint64) ot.Block { return ot.Block{a[0] & m, a[1] & m} }
