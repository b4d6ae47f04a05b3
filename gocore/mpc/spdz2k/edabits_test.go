package spdz2k

import (
	"fmt"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// TestEdaBitBucket: the bucket sizes at daBitStatBits for edaBitOpened opened edaBits (the parameters in
// the design notes) keep 40 bits, and one less would not.
func TestEdaBitBucket(t *testing.T) {
	for _, tc := range []struct{ n, b int }{{edaBitMin, 6}, {1 << 10, 5}, {1 << 12, 5}, {edaBitMin << edaBitMaxGrow, 4}, {1 << 17, 4}, {1 << 19, 3}, {1 << 20, 3}} {
		b := bucketFor(tc.n, edaBitOpened, daBitStatBits)
		sec := daBitSecurity(tc.n, b, edaBitOpened)
		if b != tc.b || sec < daBitStatBits || daBitSecurity(tc.n, b-1, edaBitOpened) >= daBitStatBits {
			t.Errorf("%d edaBits: bucket %d (%.1f bits), want %d", tc.n, b, sec, tc.b)
		}
		t.Logf("N = %d: B = %d, C = %d, %.1f bits", tc.n, b, edaBitOpened, sec)
	}
}

// verifyEdaBits checks that the arithmetic values agree with the bits modulo 2^m, with
// every arithmetic and binary MAC relation, and returns the arithmetic values.
func verifyEdaBits(s [2]*otSource, n, m int, bin [2]*BShare, arith [2]*AShare) (ring128.Vec, error) {
	if bin[0].Len() != n || bin[0].Width() != m || arith[0].Len() != n || bin[1].Len() != n || arith[1].Len() != n {
		return ring128.Vec{}, fmt.Errorf("shapes %d %d %d, want %d x %d", bin[0].Len(), bin[0].Width(), arith[0].Len(), n, m)
	}
	x, err := verifyShared(alphaOf(s), arith, nil)
	if err != nil {
		return x, err
	}
	var delta [2]uint64
	_, delta[0] = s[0].Keys()
	_, delta[1] = s[1].Keys()
	W := ring.Words(n)
	for i := range n {
		var v uint64
		for j := range m {
			b := bitAt(bin[0].x, W, j, i) ^ bitAt(bin[1].x, W, j, i)
			v |= b << j
			q := j*n + i
			for p := range 2 {
				if bin[p].m[q] != bin[1-p].k[q]^delta[1-p]&mask(bitAt(bin[p].x, W, j, i)) {
					return x, fmt.Errorf("edaBit %d bit %d, party %d: binary MAC relation fails", i, j, p)
				}
			}
		}
		if lowBits(x.Lo[i], m) != v {
			return x, fmt.Errorf("edaBit %d: arithmetic %v, bits %#x (length %d)", i, x.At(i), v, m)
		}
	}
	return x, nil
}

// testEdaMin is the tests' smallest private edaBit check (bucket size 8).
const testEdaMin = 256

func TestOTSourceEdaBits(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	s[0].edaBitMin, s[1].edaBitMin = testEdaMin, testEdaMin
	// (1, 8) and (70, 8) share one pool; 64 is the B2A length; (20000, 1) needs two
	// refills of at most testEdaMin << edaBitMaxGrow (and, with one bit, no AND); (300, 5)
	// checks 300 buckets, planes of bits not word-aligned (ring.ExtractBits).
	for _, tc := range []struct{ n, m int }{{0, 3}, {1, 8}, {70, 8}, {5, 1}, {100, 64}, {20000, 1}, {300, 5}} {
		var bin [2]*BShare
		var arith [2]*AShare
		mustBoth(t, conns,
			func() (err error) { bin[0], arith[0], err = s[0].EdaBits(tc.n, tc.m); return },
			func() (err error) { bin[1], arith[1], err = s[1].EdaBits(tc.n, tc.m); return })
		x, err := verifyEdaBits(s, tc.n, tc.m, bin, arith)
		if err != nil {
			t.Fatalf("%d edaBits of length %d: %v", tc.n, tc.m, err)
		}
		distinct := map[uint64]bool{}
		for i := range tc.n {
			distinct[x.Hi[i]] = true
		}
		if tc.n > 1 && len(distinct) < tc.n {
			t.Fatalf("%d edaBits of length %d: high words not uniform (%d distinct)", tc.n, tc.m, len(distinct))
		}
	}
	if got := s[0].eda[8].len(); got != testEdaMin-71 {
		t.Fatalf("pool of length 8 holds %d edaBits, want %d", got, testEdaMin-71)
	}
}

// TestOTSourceEdaBitsCheating: an owner that inputs inconsistent private edaBits (an
// arithmetic value whose low m bits differ from its bits: a flipped bit, one of the top
// bit, all of them off by the same amount; or a flipped binary bit) is caught whatever
// buckets they land in; a change of the arithmetic value above bit m is no inconsistency
// (loose edaBits) and must leave correct edaBits.
func TestOTSourceEdaBitsCheating(t *testing.T) {
	const n, m = 20, 5
	for _, tc := range []struct {
		name   string
		caught bool
		tweak  func(x ring128.Vec, planes []uint64, W int)
	}{
		{"arithmetic bit 0 flipped", true, func(x ring128.Vec, planes []uint64, W int) { x.Lo[3] ^= 1 }},
		{"arithmetic top bit flipped", true, func(x ring128.Vec, planes []uint64, W int) { x.Lo[7] ^= 1 << (m - 1) }},
		{"binary bit flipped", true, func(x ring128.Vec, planes []uint64, W int) { planes[2*W] ^= 1 << 9 }},
		{"all arithmetic + 1", true, func(x ring128.Vec, planes []uint64, W int) {
			for i := range x.Lo {
				x.Lo[i]++
			}
		}},
		{"all arithmetic + 2^(m-1)", true, func(x ring128.Vec, planes []uint64, W int) {
			for i := range x.Lo {
				x.Lo[i] += 1 << (m - 1)
			}
		}},
		{"arithmetic + 2^m (harmless)", false, func(x ring128.Vec, planes []uint64, W int) { x.Lo[4] += 1 << m }},
	} {
		for cheater := range 2 {
			conns := net.NewPipes(2)
			s := otPair(t, conns)
			s[cheater].edaBitInput = tc.tweak
			s[0].edaBitMin, s[1].edaBitMin = testEdaMin, testEdaMin
			var bin [2]*BShare
			var arith [2]*AShare
			e0, e1 := both(conns, func() (err error) { bin[0], arith[0], err = s[0].EdaBits(n, m); return },
				func() (err error) { bin[1], arith[1], err = s[1].EdaBits(n, m); return })
			eh := []error{e0, e1}[1-cheater]
			if tc.caught {
				if errs.KindOf(eh) != errs.Cheating {
					t.Fatalf("%s by party %d: honest party's error %v", tc.name, cheater, eh)
				}
				continue
			}
			if e0 != nil || e1 != nil {
				t.Fatalf("%s by party %d: %v; %v", tc.name, cheater, e0, e1)
			}
			if _, err := verifyEdaBits(s, n, m, bin, arith); err != nil {
				t.Fatalf("%s by party %d: %v", tc.name, cheater, err)
			}
		}
	}
}

// TestProvenSum: the owner's proven sum of its planes is x + y mod 2^m with every MAC
// relation, for element counts on and off word boundaries; an owner that inputs wrong
// carries (one flipped, a whole plane flipped, no carries at all: z = x ^ y) is caught
// by the verifier's check, and a flipped mask bit is harmless (the mask is any element
// the owner likes).
func TestProvenSum(t *testing.T) {
	const m = 6
	for _, tc := range []struct {
		name   string
		n      int
		caught bool
		tweak  func(in []uint64, n int)
	}{
		{"honest", 300, false, nil},
		{"honest, 128 elements", 128, false, nil},
		{"honest, 600 elements (three chunks)", 600, false, nil},
		{"last carry flipped, 600 elements", 600, true, func(in []uint64, n int) { b := 5*n - 1; in[b/64] ^= 1 << (b % 64) }},
		{"one carry flipped", 300, true, func(in []uint64, n int) { in[(2*n+7)/64] ^= 1 << ((2*n + 7) % 64) }},
		{"a plane of carries flipped", 128, true, func(in []uint64, n int) {
			for w := range n / 64 {
				in[3*n/64+w] = ^in[3*n/64+w]
			}
		}},
		{"no carries", 128, true, func(in []uint64, n int) { clear(in[:(m-1)*n/64]) }},
		{"mask bit flipped (harmless)", 300, false, func(in []uint64, n int) {
			b := (m-1)*n + 77
			in[b/64] ^= 1 << (b % 64)
		}},
	} {
		for owner := range 2 {
			conns := net.NewPipes(2)
			s := otPair(t, conns)
			s[owner].carryInput = tc.tweak
			W := ring.Words(tc.n)
			xv := [2][]uint64{s[owner].rng.Uint64s(m * W), s[owner].rng.Uint64s(m * W)}
			var x, y, z [2][]tinyot.Bits
			var fails [2][]string
			e0, e1 := both(conns, func() (err error) {
				if x[0], y[0], z[0], fails[0], err = provenSumRun(s[0], owner, xv, tc.n, m); err != nil {
					return err
				}
				return s[0].bin.Check()
			}, func() (err error) {
				if x[1], y[1], z[1], fails[1], err = provenSumRun(s[1], owner, xv, tc.n, m); err != nil {
					return err
				}
				return s[1].bin.Check()
			})
			if e0 != nil || e1 != nil {
				t.Fatalf("%s, owner %d: %v; %v", tc.name, owner, e0, e1)
			}
			if fails[owner] != nil {
				t.Fatalf("%s, owner %d: the prover reports %v", tc.name, owner, fails[owner])
			}
			if got := fails[1-owner] != nil; got != tc.caught {
				t.Fatalf("%s, owner %d: verifier's verdict %v, want caught = %v", tc.name, owner, fails[1-owner], tc.caught)
			}
			if tc.caught {
				continue
			}
			d := [2]ot.Block{s[0].bin.Delta(), s[1].bin.Delta()}
			val := func(p [2][]tinyot.Bits, i int) uint64 {
				var v uint64
				for j := range m {
					v |= (p[0][j].X[i/64] ^ p[1][j].X[i/64]) >> (i % 64) & 1 << j
				}
				return v
			}
			for i := range tc.n {
				if got, want := val(z, i), (val(x, i)+val(y, i))&(1<<m-1); got != want {
					t.Fatalf("%s, owner %d: element %d: sum %d, want %d", tc.name, owner, i, got, want)
				}
				for j := range m {
					for p := range 2 {
						want := z[1-p][j].K[i]
						if z[p][j].X[i/64]>>(i%64)&1 == 1 {
							want = xorBlock(want, d[1-p])
						}
						if z[p][j].M[i] != want {
							t.Fatalf("%s, owner %d: element %d plane %d: party %d's MAC relation fails", tc.name, owner, i, j, p)
						}
					}
				}
			}
		}
	}
}

// TestPlaneViews: planeViews' planes equal tinyot's Slice of each plane (bits, MACs and
// keys, the bits above n zero) for word-aligned and unaligned plane lengths.
func TestPlaneViews(t *testing.T) {
	g := prg.New(prg.Key{11})
	for _, n := range []int{1, 63, 64, 65, 100, 128, 300} {
		const m = 5
		x := tinyot.NewBits(m*n + 40) // a tail after the planes, as the carries' mask
		copy(x.X, g.Uint64s(len(x.X)))
		for i := range x.M {
			r := g.Uint64s(4)
			x.M[i], x.K[i] = ot.Block{r[0], r[1]}, ot.Block{r[2], r[3]}
		}
		for j, p := range planeViews(x, m, n) {
			want := x.Slice(j*n, (j+1)*n)
			if p.N != n || fmt.Sprint(p.X) != fmt.Sprint(want.X) || fmt.Sprint(p.M, p.K) != fmt.Sprint(want.M, want.K) {
				t.Fatalf("n = %d, plane %d: %v, want %v", n, j, p.X, want.X)
			}
		}
	}
}

// provenSumRun inputs the owner's planes x and y (xv: m planes of words(n) words each)
// with tinyot Input and returns them and their proven sum.
func provenSumRun(s *otSource, owner int, xv [2][]uint64, n, m int) (x, y, z []tinyot.Bits, failed []string, err error) {
	W := ring.Words(n)
	planes := make([][]tinyot.Bits, 2)
	for k := range 2 {
		planes[k] = make([]tinyot.Bits, m)
		for j := range m {
			var in []uint64
			if s.id == owner {
				in = xv[k][j*W : (j+1)*W]
			}
			if planes[k][j], err = s.bin.Input(s.id == owner, in, n); err != nil {
				return nil, nil, nil, nil, err
			}
		}
	}
	z, failed, err = s.provenSum(owner, planes[0], planes[1])
	return planes[0], planes[1], z, failed, err
}

// TestOTSourceEdaBitTamperSweep alters each message of an edaBit generation (setup
// included; a random bit flip and a replay, sourceTamperSweep) and counts the outcomes:
// the honest party must abort or hold correct edaBits. Skipped with -short.
func TestOTSourceEdaBitTamperSweep(t *testing.T) {
	const n, m = 8, 3
	var bin [2]*BShare
	var arith [2]*AShare
	sourceTamperSweep(t, 11, 0, func(i int, s *otSource) (err error) {
		s.edaBitMin = testEdaMin
		bin[i], arith[i], err = s.EdaBits(n, m)
		return err
	}, func(s [2]*otSource) error {
		_, err := verifyEdaBits(s, n, m, bin, arith)
		return err
	})
}

// TestOTSourceCarryEdaBitTamperSweep is the sweep of CarryEdaBits (64-bit edaBits and
// the prefix products of their planes from w = 60 on) over each party's last
// carrySweepLast messages (the products' AND triples, tinyot ANDs and check; the edaBit
// generation before them is TestOTSourceEdaBitTamperSweep's, and a 64-bit one per run
// makes a sweep of every message take about 10 minutes): the honest party must abort or
// hold correct edaBits and correct products, with valid MACs.
func TestOTSourceCarryEdaBitTamperSweep(t *testing.T) {
	const carrySweepLast = 8
	const n, w = 8, 60
	var bin, pre [2]*BShare
	var arith [2]*AShare
	sourceTamperSweep(t, 13, carrySweepLast, func(i int, s *otSource) (err error) {
		s.edaBitMin = testEdaMin
		bin[i], arith[i], pre[i], err = s.CarryEdaBits(n, w)
		return err
	}, func(s [2]*otSource) error {
		if _, err := verifyEdaBits(s, n, 64, bin, arith); err != nil {
			return err
		}
		return verifyCarryProducts(s, n, w, bin, pre)
	})
}

// verifyCarryProducts checks that plane t of pre is the AND of planes w..w+t of bin, with
// valid MACs.
func verifyCarryProducts(s [2]*otSource, n, w int, bin, pre [2]*BShare) error {
	var delta [2]uint64
	_, delta[0] = s[0].Keys()
	_, delta[1] = s[1].Keys()
	W := ring.Words(n)
	if pre[0].Width() != 63-w || pre[1].Width() != 63-w {
		return fmt.Errorf("%d and %d product planes, want %d", pre[0].Width(), pre[1].Width(), 63-w)
	}
	for i := range n {
		prod := uint64(1)
		for t := range 63 - w {
			prod &= bitAt(bin[0].x, W, w+t, i) ^ bitAt(bin[1].x, W, w+t, i)
			if got := bitAt(pre[0].x, W, t, i) ^ bitAt(pre[1].x, W, t, i); got != prod {
				return fmt.Errorf("element %d: product plane %d is %d, want %d", i, t, got, prod)
			}
			q := t*n + i
			for p := range 2 {
				if pre[p].m[q] != pre[1-p].k[q]^delta[1-p]&mask(bitAt(pre[p].x, W, t, i)) {
					return fmt.Errorf("element %d product plane %d, party %d: binary MAC relation fails", i, t, p)
				}
			}
		}
	}
	return nil
}

// TestEdaBucketPlanes: a private edaBit check's parts in bucket order (edaBuckets,
// permuteBlocks, edaInput.planes, the firsts' blocks copied B - 1 times as
// privateEdaBits does) equal pickBits of the whole input's planes at the parts' indices,
// for both parties and plane lengths on and off word boundaries; the parts cover every
// item once (each bucket's first once per other item).
func TestEdaBucketPlanes(t *testing.T) {
	const m, B = 3, 4
	g := prg.New(prg.Key{9})
	for _, N := range []int{64, 50} {
		for _, want := range []int{N, 7} {
			M := N*B + 5
			perm := make([]int, M)
			for i, r := range g.Uint64s(M) {
				j := int(r % uint64(i+1))
				perm[i], perm[j] = perm[j], i
			}
			firsts, others, opened, keep := edaBuckets(perm, N, B, want)
			seen := make([]int, M)
			for _, part := range [][]int{firsts[:N], others, opened} {
				for _, q := range part {
					seen[q]++
				}
			}
			for q, c := range seen {
				if c != 1 {
					t.Fatalf("N %d: item %d in %d parts", N, q, c)
				}
			}
			for _, mine := range []bool{true, false} {
				// The whole input as tinyot Input leaves it: the owner's bits and MACs,
				// the other party's keys.
				all := tinyot.NewBits(m * M)
				blk := make([]ot.Block, m*M)
				for q := range blk {
					r := g.Uint64s(2)
					blk[q] = ot.Block{r[0], r[1]}
				}
				var bits []uint64
				if mine {
					bits = g.Uint64s(ring.Words(m * M))
					ring.MaskTail(bits, m*M)
					copy(all.X, bits)
					copy(all.M, blk)
				} else {
					copy(all.K, blk)
				}
				whole := make([]tinyot.Bits, m)
				for j := range m {
					whole[j] = all.Slice(j*M, (j+1)*M)
				}
				ei := edaInput{sd: newInputSide(mine, m*M), bits: bits, M: M}
				pb := permuteBlocks(make([]ot.Block, m*M), blk, m, perm)
				nb := len(firsts)
				fb := make([]ot.Block, m*nb)
				for j := range m {
					for r := range B - 1 {
						copy(fb[j*nb+r*N:], pb[j*M:j*M+N])
					}
				}
				for _, part := range []struct {
					name string
					idx  []int
					got  []tinyot.Bits
				}{
					{"firsts", firsts, ei.planes(firsts, fb, nb, 0)},
					{"others", others, ei.planes(others, pb, M, N)},
					{"opened", opened, ei.planes(opened, pb, M, N*B)},
					{"keep", keep, ei.planes(keep, pb, M, 0)},
				} {
					for j := range m {
						want := pickBits(whole[j], part.idx)
						if fmt.Sprint(part.got[j]) != fmt.Sprint(want) {
							t.Fatalf("N %d, owner %v, %s plane %d: differs from pickBits", N, mine, part.name, j)
						}
					}
				}
			}
		}
	}
}

// TestAndInto: andInto gives tinyot And's outputs (bits, MACs and keys at both parties,
// then a passing Check) for triples at aligned and unaligned offsets and lengths on and
// off word boundaries (its word-by-word and bit-by-bit paths).
func TestAndInto(t *testing.T) {
	for _, tc := range []struct{ n, off int }{{128, 64}, {64, 0}, {100, 37}, {128, 30}} {
		conns := net.NewPipes(2)
		s := otPair(t, conns)
		var got, want [2]tinyot.Bits
		run := func(i int) func() error {
			return func() error {
				p := s[i]
				u, err := p.bin.Random(tc.n)
				if err != nil {
					return err
				}
				v, err := p.bin.Random(tc.n)
				if err != nil {
					return err
				}
				ta, tb, tcc, err := p.andTake(tc.off + tc.n)
				if err != nil {
					return err
				}
				z, open := tinyot.NewBits(tc.n), tinyot.NewBits(2*tc.n)
				if err := p.andInto(&z, u, v, ta, tb, tcc, tc.off, &open); err != nil {
					return err
				}
				sl := func(x tinyot.Bits) tinyot.Bits { return x.Slice(tc.off, tc.off+tc.n) }
				w, err := p.bin.And(u, v, sl(ta), sl(tb), sl(tcc))
				if err != nil {
					return err
				}
				got[i], want[i] = z, w
				return p.bin.Check()
			}
		}
		mustBoth(t, conns, run(0), run(1))
		for i := range 2 {
			if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
				t.Fatalf("n %d, offset %d, party %d: andInto differs from tinyot And", tc.n, tc.off, i)
			}
		}
	}
}

// newInputSide returns an inputSide for Bits of up to n bits with zero components of its
// own; mine reports whether this party is the owner.
func newInputSide(mine bool, n int) inputSide {
	return inputSide{mine: mine, zeroW: make([]uint64, ring.Words(n)), zeroB: make([]ot.Block, n)}
}

// TestScratchReleasedForANDBatch: the edaBit checks' scratch does not outlive the start of
// an AND batch (the offline phase's largest live set), and the pool serves the triples.
func TestScratchReleasedForANDBatch(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	run := func(i int) func() error {
		return func() error {
			p := s[i]
			p.inputSide(true, 1<<10) // a check's zero components, kept in the scratch
			p.scratch.pb = make([]ot.Block, 1<<10)
			if p.scratch.zeroB == nil {
				return fmt.Errorf("party %d: inputSide kept no zeros in the scratch", i)
			}
			a, b, c, err := p.andTake(p.plan.andLeft() + 100) // more than the pool holds: a batch
			if err != nil {
				return err
			}
			if p.scratch.pb != nil || p.scratch.zeroB != nil || p.scratch.zeroW != nil {
				return fmt.Errorf("party %d: the edaBit scratch outlived the start of an AND batch", i)
			}
			if a.N != 100 || b.N != 100 || c.N != 100 {
				return fmt.Errorf("party %d: %d/%d/%d triples, want 100", i, a.N, b.N, c.N)
			}
			return p.bin.Check()
		}
	}
	mustBoth(t, conns, run(0), run(1))
}
