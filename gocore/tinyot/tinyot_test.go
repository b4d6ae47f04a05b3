package tinyot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
)

func seeded(seed byte) *prg.PRG { return prg.New(prg.Key{seed, 0x7a, 0x17}) }

// run2 runs the two parties (net.RunPair).
func run2(conns []net.Conn, f0, f1 func() error) (e0, e1 error) { return net.RunPair(conns, f0, f1) }

func must2(t testing.TB, conns []net.Conn, f0, f1 func() error) {
	t.Helper()
	if e0, e1 := run2(conns, f0, f1); e0 != nil || e1 != nil {
		t.Fatalf("party 0: %v; party 1: %v", e0, e1)
	}
}

// newParties connects two parties over conns (OT sessions, then tinyot parties).
func newParties(conns []net.Conn) (ps [2]*Party, e0, e1 error) {
	return newPartiesK(conns, ot.DefaultK)
}

// newPartiesK is newParties on malicious OT sessions with SoftSpoken parameter k.
func newPartiesK(conns []net.Conn, k int) (ps [2]*Party, e0, e1 error) {
	f := func(i int) func() error {
		return func() error {
			s, err := ot.NewSessionMalicious(conns[i], 1-i, seeded(byte(1+i)), k)
			if err != nil {
				return err
			}
			ps[i], err = NewParty(conns[i], 1-i, s, seeded(byte(11+i)))
			return err
		}
	}
	e0, e1 = run2(conns, f(0), f(1))
	return ps, e0, e1
}

func pair(t testing.TB) ([2]*Party, []net.Conn) {
	t.Helper()
	conns := net.NewPipes(2)
	ps, e0, e1 := newParties(conns)
	if e0 != nil || e1 != nil {
		t.Fatalf("setup: %v; %v", e0, e1)
	}
	return ps, conns
}

// verify checks that x0, x1 are consistent shares under the parties' Deltas and returns
// the shared bits; it reports the first broken MAC relation.
func verify(ps [2]*Party, x0, x1 Bits) ([]uint64, error) {
	if x0.N != x1.N || len(x0.M) != x0.N || len(x1.K) != x1.N {
		return nil, fmt.Errorf("shapes: %d/%d bits, %d MACs, %d keys", x0.N, x1.N, len(x0.M), len(x1.K))
	}
	d0, d1 := ps[0].Delta(), ps[1].Delta()
	out := make([]uint64, words(x0.N))
	for j := range x0.N {
		b0, b1 := getBit(x0.X, j), getBit(x1.X, j)
		if want := xorBlock(x1.K[j], andBlock(d1, -b0)); x0.M[j] != want {
			return nil, fmt.Errorf("bit %d: party 0's MAC is not K_1 xor x_0*Delta_1", j)
		}
		if want := xorBlock(x0.K[j], andBlock(d0, -b1)); x1.M[j] != want {
			return nil, fmt.Errorf("bit %d: party 1's MAC is not K_0 xor x_1*Delta_0", j)
		}
		out[j/64] |= (b0 ^ b1) << (j % 64)
	}
	for _, x := range []Bits{x0, x1} {
		if len(x.X) != words(x.N) || (x.N%64 != 0 && x.X[len(x.X)-1]>>(x.N%64) != 0) {
			return nil, fmt.Errorf("%d bits in %d words, tail %x", x.N, len(x.X), x.X)
		}
	}
	return out, nil
}

func randWords(r *rand.Rand, n int) []uint64 {
	w := make([]uint64, words(n))
	for i := range w {
		w[i] = r.Uint64()
	}
	clearTail(w, n)
	return w
}

var sizes = []int{0, 1, 63, 64, 65, 1000}

func TestAuthenticateRandomInput(t *testing.T) {
	ps, conns := pair(t)
	r := rand.New(rand.NewPCG(1, 2))
	var dirty [2][]ot.Block // InputOneSidedInto's buffers, never cleared
	for i := range dirty {
		dirty[i] = make([]ot.Block, ps[i].InputRows(slices.Max(sizes)))
		for j := range dirty[i] {
			dirty[i][j] = ot.Block{r.Uint64(), r.Uint64()}
		}
	}
	if ps[0].Delta() == ps[1].Delta() || !ps[0].First() || ps[1].First() {
		t.Fatal("parties not distinct")
	}
	for _, n := range sizes {
		cases := []struct {
			name   string
			run    func(i int, x []uint64) (Bits, error)
			expect func(x0, x1 []uint64) []uint64 // nil: random
		}{
			{"authenticate", func(i int, x []uint64) (Bits, error) { return ps[i].Authenticate(x, n) },
				func(x0, x1 []uint64) []uint64 { return xorWords(x0, x1) }},
			{"random", func(i int, _ []uint64) (Bits, error) { return ps[i].Random(n) }, nil},
			{"input0", func(i int, x []uint64) (Bits, error) {
				if i == 0 {
					return ps[0].Input(true, x, n)
				}
				return ps[1].Input(false, nil, n)
			}, func(x0, _ []uint64) []uint64 { return x0 }},
			{"input1", func(i int, x []uint64) (Bits, error) {
				if i == 1 {
					return ps[1].Input(true, x, n)
				}
				return ps[0].Input(false, nil, n)
			}, func(_, x1 []uint64) []uint64 { return x1 }},
			// InputOneSidedInto with each party's buffer left dirty by the previous sizes
			// (every block of the result must be overwritten) and the zero components
			// added as Input does.
			{"input0 into", func(i int, x []uint64) (Bits, error) {
				dst := dirty[i][:0:ps[i].InputRows(n)]
				bits, blk, err := ps[i].InputOneSidedInto(dst, i == 0, x, n)
				if err != nil {
					return Bits{}, err
				}
				if n > 0 && &blk[0] != &dirty[i][0] {
					return Bits{}, fmt.Errorf("party %d: the blocks are not in the buffer", i)
				}
				if i == 0 {
					return Bits{N: n, X: bits, M: blk, K: make([]ot.Block, n)}, nil
				}
				return Bits{N: n, X: make([]uint64, words(n)), M: make([]ot.Block, n), K: blk}, nil
			}, func(x0, _ []uint64) []uint64 { return x0 }},
		}
		for _, c := range cases {
			x := [2][]uint64{randWords(r, n), randWords(r, n)}
			var b [2]Bits
			sent := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
			must2(t, conns, func() (err error) { b[0], err = c.run(0, x[0]); return },
				func() (err error) { b[1], err = c.run(1, x[1]); return })
			for i := range 2 {
				want := AuthenticateBytes(n, ot.DefaultK)
				if strings.HasPrefix(c.name, "input0") && i == 1 || c.name == "input1" && i == 0 {
					want = 0
				}
				if got := conns[i].Stats().BytesSent - sent[i]; got != want {
					t.Fatalf("%s n=%d: party %d sent %d bytes, want %d", c.name, n, i, got, want)
				}
			}
			got, err := verify(ps, b[0], b[1])
			if err != nil {
				t.Fatalf("%s n=%d: %v", c.name, n, err)
			}
			if c.expect != nil {
				if want := c.expect(x[0], x[1]); !slices.Equal(got, want) {
					t.Fatalf("%s n=%d: bits %x, want %x", c.name, n, got, want)
				}
			}
			// Opening agrees with the shares and the check passes; the bytes are as the
			// cost functions say.
			var o [2][]uint64
			before := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
			must2(t, conns, func() (err error) { o[0], err = ps[0].Open(b[0]); return },
				func() (err error) { o[1], err = ps[1].Open(b[1]); return })
			if !slices.Equal(o[0], got) || !slices.Equal(o[1], got) {
				t.Fatalf("%s n=%d: opened %x / %x, want %x", c.name, n, o[0], o[1], got)
			}
			must2(t, conns, ps[0].Check, ps[1].Check)
			for i := range 2 {
				want := OpenBytes(n)
				if n > 0 {
					want += CheckBytes(i == 0)
				}
				if got := conns[i].Stats().BytesSent - before[i]; got != want {
					t.Fatalf("%s n=%d: party %d sent %d bytes opening, want %d", c.name, n, i, got, want)
				}
			}
		}
	}
}

func xorWords(a, b []uint64) []uint64 {
	out := make([]uint64, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// TestLocalOps: Xor, XorPublic, AndPublic and Slice keep every MAC relation and compute
// the right bits.
func TestLocalOps(t *testing.T) {
	ps, conns := pair(t)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 130
	var x, y [2]Bits
	must2(t, conns, func() (err error) { x[0], err = ps[0].Random(n); return },
		func() (err error) { x[1], err = ps[1].Random(n); return })
	must2(t, conns, func() (err error) { y[0], err = ps[0].Random(n); return },
		func() (err error) { y[1], err = ps[1].Random(n); return })
	xv, _ := verify(ps, x[0], x[1])
	yv, _ := verify(ps, y[0], y[1])
	c := randWords(r, n)
	cases := []struct {
		name string
		op   func(i int) Bits
		want []uint64
	}{
		{"xor", func(i int) Bits { return Xor(x[i], y[i]) }, xorWords(xv, yv)},
		{"xor-public", func(i int) Bits { return ps[i].XorPublic(x[i], c) }, xorWords(xv, c)},
		{"and-public", func(i int) Bits { return AndPublic(x[i], c) }, andWords(xv, c)},
		{"slice", func(i int) Bits { return x[i].Slice(3, 70) }, sliceWords(xv, 3, 70)},
	}
	for _, tc := range cases {
		got, err := verify(ps, tc.op(0), tc.op(1))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("%s: %x, want %x", tc.name, got, tc.want)
		}
	}
}

func andWords(a, b []uint64) []uint64 {
	out := make([]uint64, len(a))
	for i := range a {
		out[i] = a[i] & b[i]
	}
	return out
}

func sliceWords(a []uint64, lo, hi int) []uint64 {
	out := make([]uint64, words(hi-lo))
	for j := lo; j < hi; j++ {
		out[(j-lo)/64] |= getBit(a, j) << ((j - lo) % 64)
	}
	return out
}

// checkTriples verifies the MAC relations of both parties' triples and c = a AND b.
func checkTriples(ps [2]*Party, a, b, c [2]Bits) error {
	av, err := verify(ps, a[0], a[1])
	if err != nil {
		return fmt.Errorf("a: %w", err)
	}
	bv, err := verify(ps, b[0], b[1])
	if err != nil {
		return fmt.Errorf("b: %w", err)
	}
	cv, err := verify(ps, c[0], c[1])
	if err != nil {
		return fmt.Errorf("c: %w", err)
	}
	for j := range a[0].N {
		if getBit(av, j)&getBit(bv, j) != getBit(cv, j) {
			return fmt.Errorf("triple %d: a=%d b=%d c=%d", j, getBit(av, j), getBit(bv, j), getBit(cv, j))
		}
	}
	return nil
}

func TestTriples(t *testing.T) {
	ps, conns := pair(t)
	for _, tc := range []struct{ n, batch int }{
		{0, 100}, {1, 100}, {64, 100}, {100, 100}, {130, 64}, {250, 100}, {1000, 1000}, {5000, 2048},
	} {
		ps[0].Batch, ps[1].Batch = tc.batch, tc.batch
		var a, b, c [2]Bits
		before := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
		must2(t, conns, func() (err error) { a[0], b[0], c[0], err = ps[0].Triples(tc.n); return },
			func() (err error) { a[1], b[1], c[1], err = ps[1].Triples(tc.n); return })
		for i := range 2 {
			got := conns[i].Stats().BytesSent - before[i]
			if want := TriplesBytes(tc.n, tc.batch, 0, ot.DefaultK, i == 0); got != want {
				t.Fatalf("n=%d batch=%d: party %d sent %d bytes, TriplesBytes says %d", tc.n, tc.batch, i, got, want)
			}
		}
		if a[0].N != tc.n || c[1].N != tc.n {
			t.Fatalf("n=%d: got %d, %d triples", tc.n, a[0].N, c[1].N)
		}
		if err := checkTriples(ps, a, b, c); err != nil {
			t.Fatalf("n=%d batch=%d: %v", tc.n, tc.batch, err)
		}
		// The triples are not degenerate: about a quarter of the c are one.
		if tc.n >= 1000 {
			cv, _ := verify(ps, c[0], c[1])
			ones := 0
			for _, w := range cv {
				ones += popcount(w)
			}
			if ones < tc.n/5 || ones > tc.n*3/10 {
				t.Fatalf("n=%d: %d of the c are one", tc.n, ones)
			}
		}
	}
}

// TestTriplesSoftSpoken8: triples on malicious OT sessions with SoftSpoken k = 8 (half the
// extension bytes of the default k = 4, BenchmarkTriplesSoftSpoken) are correct, and
// TriplesBytes predicts their bytes exactly (67 instead of 85 per triple at B = 3).
func TestTriplesSoftSpoken8(t *testing.T) {
	conns := net.NewPipes(2)
	ps, e0, e1 := newPartiesK(conns, 8)
	if e0 != nil || e1 != nil {
		t.Fatalf("setup: %v; %v", e0, e1)
	}
	const n, batch = 5000, 2048
	ps[0].Batch, ps[1].Batch = batch, batch
	var a, b, c [2]Bits
	before := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
	must2(t, conns, func() (err error) { a[0], b[0], c[0], err = ps[0].Triples(n); return },
		func() (err error) { a[1], b[1], c[1], err = ps[1].Triples(n); return })
	for i := range 2 {
		got := conns[i].Stats().BytesSent - before[i]
		if want := TriplesBytes(n, batch, 0, 8, i == 0); got != want {
			t.Fatalf("party %d sent %d bytes, TriplesBytes says %d", i, got, want)
		}
		if k4 := TriplesBytes(n, batch, 0, ot.DefaultK, i == 0); got >= k4 {
			t.Fatalf("party %d sent %d bytes at k = 8, not fewer than the %d at k = %d", i, got, k4, ot.DefaultK)
		}
	}
	if err := checkTriples(ps, a, b, c); err != nil {
		t.Fatal(err)
	}
}

func popcount(w uint64) int {
	n := 0
	for ; w != 0; w &= w - 1 {
		n++
	}
	return n
}

// TestAND: And with generated triples computes x AND y, with every MAC relation intact
// and the openings' check passing.
func TestAND(t *testing.T) {
	ps, conns := pair(t)
	ps[0].Batch, ps[1].Batch = 500, 500
	const n = 300
	var x, y, z [2]Bits
	must2(t, conns, func() (err error) { x[0], err = ps[0].Random(n); return },
		func() (err error) { x[1], err = ps[1].Random(n); return })
	must2(t, conns, func() (err error) { y[0], err = ps[0].Random(n); return },
		func() (err error) { y[1], err = ps[1].Random(n); return })
	and := func(i int) func() error {
		return func() error {
			p := ps[i]
			a, b, c, err := p.Triples(n + 7) // And uses the first n
			if err != nil {
				return err
			}
			if z[i], err = p.And(x[i], y[i], a, b, c); err != nil {
				return err
			}
			return p.Check()
		}
	}
	must2(t, conns, and(0), and(1))
	xv, _ := verify(ps, x[0], x[1])
	yv, _ := verify(ps, y[0], y[1])
	zv, err := verify(ps, z[0], z[1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(zv, andWords(xv, yv)) {
		t.Fatalf("AND wrong: %x", xorWords(zv, andWords(xv, yv)))
	}
}

func TestBucketSize(t *testing.T) {
	for _, tc := range []struct{ l, batches, want int }{
		{1, 1, 40}, {1000, 1, 5}, {3100, 1, 4}, {280000, 1, 3}, {1 << 20, 1, 3},
		{1 << 20, 14, 3}, {1 << 20, 70, 4}, {1 << 21, 35, 3},
		// Buckets of 2 need about 2^38 buckets in one batch (39.4 bits at 2^37): 3 is the
		// floor at any batch a party can hold.
		{1 << 37, 1, 3}, {1 << 38, 1, 2},
	} {
		b := BucketSize(tc.l, tc.batches)
		if b != tc.want {
			t.Errorf("BucketSize(%d, %d) = %d, want %d", tc.l, tc.batches, b, tc.want)
		}
		if s := SecurityBits(tc.l, b, tc.batches); s < StatBits {
			t.Errorf("l=%d B=%d: %.1f bits", tc.l, b, s)
		}
		if b > 2 && SecurityBits(tc.l, b-1, tc.batches) >= StatBits {
			t.Errorf("l=%d: B=%d is not the smallest", tc.l, b)
		}
	}
}

func TestPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 3, 1000, 1<<15 + 3, 1 << 17} {
		p, q := make([]int32, n), make([]int32, n)
		permutation(seeded(9), p, make([]uint16, n))
		permutation(seeded(9), q, make([]uint16, n))
		seen := make([]bool, n)
		moved := 0
		for i, v := range p {
			if v < 0 || int(v) >= n || seen[v] || q[i] != v {
				t.Fatalf("n=%d: not a deterministic permutation at %d", n, i)
			}
			seen[v] = true
			if int(v) != i {
				moved++
			}
		}
		if n >= 1000 && moved < n*9/10 {
			t.Fatalf("only %d of %d moved", moved, n)
		}
	}
}

// TestPermutationUniform: the bucketed shuffle (permuteBuckets) gives each of the 24
// permutations of 4 entries with frequency 1/24, with 1, 2 and 4 buckets (more than 4
// standard deviations off fails: about once in 10^4 runs per count at worst).
func TestPermutationUniform(t *testing.T) {
	const draws = 48000
	for kb := range 3 {
		g := seeded(byte(kb) + 11)
		count := map[[4]int32]int{}
		p, lab := make([]int32, 4), make([]uint16, 4)
		for range draws {
			permuteBuckets(g, p, lab, kb)
			count[[4]int32(p)]++
		}
		if len(count) != 24 {
			t.Fatalf("kb=%d: %d distinct permutations of 4", kb, len(count))
		}
		mean := float64(draws) / 24
		sd := math.Sqrt(mean * (1 - 1.0/24))
		for q, c := range count {
			if math.Abs(float64(c)-mean) > 4.5*sd {
				t.Errorf("kb=%d: %v drawn %d times, want about %.0f", kb, q, c, mean)
			}
		}
	}
}

// isCaught reports whether err is how a protocol reports a cheating or failing peer.
func isCaught(err error) bool {
	k := errs.KindOf(err)
	return k == errs.Cheating || k == errs.Party
}

// TestOpenWrongBit: a party that sends a flipped share at opening is caught by Check
// (errs.Cheating at the honest party), for a flip in any opened word.
func TestOpenWrongBit(t *testing.T) {
	for cheater := range 2 {
		for _, tc := range []struct {
			n, word int
			xor     uint64
		}{{1, 0, 1}, {64, 0, 1 << 63}, {200, 3, 0x80}, {200, 1, 0xff00}} {
			conns := net.NewPipes(2)
			ps, e0, e1 := newParties(conns)
			if e0 != nil || e1 != nil {
				t.Fatal(e0, e1)
			}
			var x [2]Bits
			must2(t, conns, func() (err error) { x[0], err = ps[0].Random(tc.n); return },
				func() (err error) { x[1], err = ps[1].Random(tc.n); return })
			// The next message of the cheater is its share of the opening.
			tm, err := net.NewTamperer(conns[cheater], net.Tamper{Message: 0, Word: tc.word, Xor: tc.xor})
			if err != nil {
				t.Fatal(err)
			}
			ps[cheater].conn = tm
			var got [2][]uint64
			e := [2]error{}
			e[0], e[1] = run2(conns, func() (err error) {
				if got[0], err = ps[0].Open(x[0]); err != nil {
					return err
				}
				return ps[0].Check()
			}, func() (err error) {
				if got[1], err = ps[1].Open(x[1]); err != nil {
					return err
				}
				return ps[1].Check()
			})
			honest := 1 - cheater
			if !tm.Tampered() {
				t.Fatalf("cheater %d %+v: nothing altered", cheater, tc)
			}
			if errs.KindOf(e[honest]) != errs.Cheating {
				t.Fatalf("cheater %d %+v: honest party's error %v, want cheating (opened %x)", cheater, tc, e[honest], got[honest])
			}
		}
	}
}

// sweepRun runs setup and Triples(n) with party cheater's message m altered as tm says
// (cheater < 0: no alteration) and reports the outcome. sizes are the message sizes of
// an honest run (cheater < 0).
type outcome int

const (
	harmless   outcome = iota // no error, triples correct (the alteration changed nothing)
	caught                    // the honest party failed with a cheating or party error
	undetected                // no error at the honest party, but wrong triples
	notSent                   // the message does not exist or was not altered
)

func sweepRun(t *testing.T, cheater int, tm net.Tamper, n, batch int) (outcome, [2][]int, error) {
	conns := net.NewPipes(2)
	var logs [2]*net.EventLog
	var tc *net.Tamperer
	if cheater >= 0 {
		var err error
		if tc, err = net.NewTamperer(conns[cheater], tm); err != nil {
			t.Fatal(err)
		}
		conns[cheater] = tc
	} else {
		for i := range conns {
			logs[i] = net.NewEventLog(conns[i])
			conns[i] = logs[i]
		}
	}
	var sizes [2][]int
	ps, e0, e1 := newParties(conns)
	var a, b, c [2]Bits
	if e0 == nil && e1 == nil {
		ps[0].Batch, ps[1].Batch = batch, batch
		e0, e1 = run2(conns, func() (err error) { a[0], b[0], c[0], err = ps[0].Triples(n); return },
			func() (err error) { a[1], b[1], c[1], err = ps[1].Triples(n); return })
	}
	for i, l := range logs {
		if l != nil {
			sizes[i] = l.Sizes()
		}
	}
	if cheater < 0 {
		if e0 != nil || e1 != nil {
			return caught, sizes, fmt.Errorf("honest run: %v; %v", e0, e1)
		}
		return harmless, sizes, checkTriples(ps, a, b, c)
	}
	if !tc.Tampered() {
		return notSent, sizes, nil
	}
	eh := []error{e0, e1}[1-cheater]
	if eh != nil {
		if !isCaught(eh) {
			return caught, sizes, fmt.Errorf("honest party's error of kind %s: %v", errs.KindOf(eh), eh)
		}
		return caught, sizes, nil
	}
	if err := checkTriples(ps, a, b, c); err != nil {
		return undetected, sizes, err
	}
	return harmless, sizes, nil
}

// TestTriplesTamperSweep alters one message of the triple generation (every message after
// the OT session setup, of either party, the Delta-COT extension messages included; 16
// words and bit patterns each, and a replay of the previous message) and counts the
// outcomes: an alteration must either be caught by the honest party or change nothing
// (the honest x share was 0, or a padding bit past the last triple); no run may end with
// wrong triples or a broken MAC relation and no error. TINYOT_SWEEP=N adds N random
// alterations (2000 at commit time: 1912 caught, 88 harmless, 0 undetected).
func TestTriplesTamperSweep(t *testing.T) {
	const n, batch = 300, 300
	_, sizes, err := sweepRun(t, -1, net.Tamper{}, n, batch)
	if err != nil {
		t.Fatal(err)
	}
	const setup = 3 // ot.NewSession's messages
	r := rand.New(rand.NewPCG(5, 6))
	var total [4]int
	for cheater := range 2 {
		for m := setup; m < len(sizes[cheater]); m++ {
			nw := max(1, (sizes[cheater][m]+7)/8)
			var tms []net.Tamper
			per := 16
			if testing.Short() {
				per = 4
			}
			for i := range per {
				w := []int{0, nw - 1}[min(i, 1)]
				if i >= 2 {
					w = r.IntN(nw)
				}
				xor := []uint64{1, 1 << 63, r.Uint64() | 1, 1 << r.IntN(64)}[i%4]
				tms = append(tms, net.Tamper{Message: m, Word: w, Xor: xor})
			}
			tms = append(tms, net.Tamper{Message: m, Replay: 1})
			for _, tm := range tms {
				o, _, err := sweepRun(t, cheater, tm, n, batch)
				switch {
				case o == undetected:
					t.Errorf("party %d %v: not caught: %v", cheater, tm, err)
				case err != nil:
					t.Errorf("party %d %v: %v", cheater, tm, err)
				case o == harmless && testing.Verbose():
					t.Logf("party %d %v (message of %d bytes): harmless", cheater, tm, sizes[cheater][m])
				}
				total[o]++
			}
		}
	}
	t.Logf("messages per party %d/%d; outcomes: %d caught, %d harmless, %d undetected, %d not sent",
		len(sizes[0]), len(sizes[1]), total[caught], total[harmless], total[undetected], total[notSent])

	// TINYOT_SWEEP=N adds N random alterations (party, message, word, xor / add / replay).
	extra, _ := strconv.Atoi(os.Getenv("TINYOT_SWEEP"))
	total = [4]int{}
	for range extra {
		cheater := r.IntN(2)
		m := setup + r.IntN(len(sizes[cheater])-setup)
		tm := net.Tamper{Message: m, Word: r.IntN(max(1, (sizes[cheater][m]+7)/8))}
		switch r.IntN(4) {
		case 0:
			tm.Add = r.Uint64() | 1
		case 1:
			tm.Replay = 1
		default:
			tm.Xor = 1 << r.IntN(64)
			if r.IntN(2) == 0 {
				tm.Xor = r.Uint64() | 1
			}
		}
		o, _, err := sweepRun(t, cheater, tm, n, batch)
		if o == undetected || err != nil {
			t.Errorf("party %d %v: outcome %d: %v", cheater, tm, o, err)
		}
		total[o]++
	}
	if extra > 0 {
		t.Logf("%d random alterations: %d caught, %d harmless, %d undetected, %d not sent",
			extra, total[caught], total[harmless], total[undetected], total[notSent])
	}
}

// TestLeakIsExactlyX: altering the cheater's u bit or G block of leaky triple j is caught
// exactly when the honest party's share x_Q[j] is 1 (the guess WRK17's leaky AND allows,
// and the reason for bucketing); when x_Q[j] = 0 the triples come out correct.
func TestLeakIsExactlyX(t *testing.T) {
	const n, batch = 100, 100
	var seen [2]int // runs with x_Q[j] = 0, 1
	for cheater := range 2 {
		for _, j := range []int{0, 1, 37, 64, 200, 511, 512, 599} {
			for _, field := range []string{"u", "G"} {
				conns := net.NewPipes(2)
				ps0, e0, e1 := newParties(conns)
				if e0 != nil || e1 != nil {
					t.Fatal(e0, e1)
				}
				honest := 1 - cheater
				var xq []uint64
				ps0[honest].leakyX = func(x []uint64) { xq = append([]uint64(nil), x...) }
				N := n * BucketSize(n, 1)
				nw := words(N)
				// Message 0 of the tinyot connection (the OT session keeps its own) is u, G.
				tm := net.Tamper{Message: 0, Word: j / 64, Xor: 1 << (j % 64)}
				if field == "G" {
					tm = net.Tamper{Message: 0, Word: nw + 2*j + 1, Xor: 1 << 40}
				}
				tc, err := net.NewTamperer(conns[cheater], tm)
				if err != nil {
					t.Fatal(err)
				}
				ps0[cheater].conn = tc
				var a, b, c [2]Bits
				for _, p := range ps0 {
					p.Batch = batch
				}
				e := [2]error{}
				e[0], e[1] = run2(conns, func() (err error) { a[0], b[0], c[0], err = ps0[0].Triples(n); return },
					func() (err error) { a[1], b[1], c[1], err = ps0[1].Triples(n); return })
				if !tc.Tampered() {
					t.Fatalf("cheater %d %s j=%d: not altered", cheater, field, j)
				}
				wantCaught := getBit(xq, j) == 1
				seen[getBit(xq, j)]++
				if caught := e[honest] != nil; caught != wantCaught {
					t.Fatalf("cheater %d %s j=%d: x_Q = %d, caught = %v (%v)", cheater, field, j, getBit(xq, j), caught, e[honest])
				}
				if e[honest] == nil {
					if err := checkTriples(ps0, a, b, c); err != nil {
						t.Fatalf("cheater %d %s j=%d: passed with wrong triples: %v", cheater, field, j, err)
					}
				} else if errs.KindOf(e[honest]) != errs.Cheating {
					t.Fatalf("cheater %d %s j=%d: %v, want a cheating error", cheater, field, j, e[honest])
				}
			}
		}
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("x_Q was %d times 0 and %d times 1: the test saw one case only", seen[0], seen[1])
	}
	t.Logf("%d alterations passed unnoticed with x_Q = 0, %d were caught with x_Q = 1", seen[0], seen[1])
}

func TestNewPartyNeedsMaliciousSession(t *testing.T) {
	conns := net.NewPipes(2)
	var s [2]*ot.Session
	must2(t, conns, func() (err error) { s[0], err = ot.NewSession(conns[0], 1, seeded(1)); return },
		func() (err error) { s[1], err = ot.NewSession(conns[1], 0, seeded(2)); return })
	if _, err := NewParty(conns[0], 1, s[0], seeded(3)); errs.KindOf(err) != errs.Config {
		t.Fatalf("NewParty over a semi-honest session: %v, want a config error", err)
	}
}

// TestTake: triples taken from the pool in uneven amounts are correct, and the pool
// generates whole batches only when it runs short.
func TestTake(t *testing.T) {
	ps, conns := pair(t)
	ps[0].Batch, ps[1].Batch = 300, 300
	for _, n := range []int{0, 1, 100, 299, 300, 301, 700} {
		var a, b, c [2]Bits
		have := ps[0].pool[0].N
		before := conns[0].Stats().BytesSent
		must2(t, conns, func() (err error) { a[0], b[0], c[0], err = ps[0].Take(n); return },
			func() (err error) { a[1], b[1], c[1], err = ps[1].Take(n); return })
		if a[0].N != n || c[1].N != n {
			t.Fatalf("n=%d: got %d triples", n, a[0].N)
		}
		if err := checkTriples(ps, a, b, c); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		k := 0
		if have < n {
			k = (n - have + 299) / 300
		}
		if got, want := conns[0].Stats().BytesSent-before, TriplesBytes(300*k, 300, 0, ot.DefaultK, true); got != want {
			t.Fatalf("n=%d with %d in the pool: sent %d bytes, want %d (%d batches)", n, have, got, want, k)
		}
		if left := ps[0].pool[0].N; left != have+300*k-n || left != ps[1].pool[2].N {
			t.Fatalf("n=%d: %d left in the pool", n, left)
		}
	}
}

// openAllParts returns a fresh pair and random Bits of the given lengths, both parties'.
func openAllParts(t *testing.T, sizes []int) ([2]*Party, []net.Conn, [2][]Bits) {
	conns := net.NewPipes(2)
	ps, e0, e1 := newParties(conns)
	if e0 != nil || e1 != nil {
		t.Fatal(e0, e1)
	}
	var xs [2][]Bits
	for _, n := range sizes {
		var x [2]Bits
		must2(t, conns, func() (err error) { x[0], err = ps[0].Random(n); return },
			func() (err error) { x[1], err = ps[1].Random(n); return })
		xs[0], xs[1] = append(xs[0], x[0]), append(xs[1], x[1])
	}
	return ps, conns, xs
}

// openChecked runs open at both parties, then Check.
func openChecked(conns []net.Conn, ps [2]*Party, open func(p *Party, i int) ([]uint64, error)) (out [2][]uint64, e [2]error) {
	e[0], e[1] = run2(conns, func() (err error) {
		if out[0], err = open(ps[0], 0); err != nil {
			return err
		}
		return ps[0].Check()
	}, func() (err error) {
		if out[1], err = open(ps[1], 1); err != nil {
			return err
		}
		return ps[1].Check()
	})
	return out, e
}

// TestOpenAll: OpenAll of several Bits (aligned and unaligned lengths, an empty one) sends
// the same bytes and returns the same bits as Open of their Concat, and both checks pass;
// a wrong share bit in an unaligned part is caught, either party cheating.
func TestOpenAll(t *testing.T) {
	sizes := []int{64, 0, 37, 200, 1}
	ps, conns, xs := openAllParts(t, sizes)
	var sent [2][2]int64
	var outs [2][2][]uint64
	for k, open := range []func(p *Party, i int) ([]uint64, error){
		func(p *Party, i int) ([]uint64, error) { return p.OpenAll(xs[i]...) },
		func(p *Party, i int) ([]uint64, error) { return p.Open(Concat(xs[i]...)) },
	} {
		before := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
		var e [2]error
		if outs[k], e = openChecked(conns, ps, open); e[0] != nil || e[1] != nil {
			t.Fatal(e[0], e[1])
		}
		for i := range 2 {
			sent[k][i] = conns[i].Stats().BytesSent - before[i]
		}
	}
	for i := range 2 {
		if !slices.Equal(outs[0][i], outs[1][i]) || sent[0][i] != sent[1][i] {
			t.Fatalf("party %d: OpenAll %x (%d bytes), Open of the Concat %x (%d bytes)", i, outs[0][i], sent[0][i], outs[1][i], sent[1][i])
		}
	}
	for cheater := range 2 {
		ps, conns, xs := openAllParts(t, sizes)
		// Bit 69 of the opening: bit 5 of the 37-bit part (the third Bits).
		tm, err := net.NewTamperer(conns[cheater], net.Tamper{Message: 0, Word: 1, Xor: 1 << 5})
		if err != nil {
			t.Fatal(err)
		}
		ps[cheater].conn = tm
		_, e := openChecked(conns, ps, func(p *Party, i int) ([]uint64, error) { return p.OpenAll(xs[i]...) })
		if !tm.Tampered() || errs.KindOf(e[1-cheater]) != errs.Cheating {
			t.Fatalf("cheater %d: tampered %v, honest party's error %v, want cheating", cheater, tm.Tampered(), e[1-cheater])
		}
	}
}

// sliceBits, bitsAt and putBitsAt move bit ranges word by word: each equals the bit-by-bit
// definition at every offset and length around word boundaries.
func TestBitRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]uint64, 5)
	for i := range x {
		x[i] = rng.Uint64()
	}
	for lo := 0; lo <= 130; lo++ {
		for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 190 - lo} {
			if n < 0 || lo+n > 64*len(x) {
				continue
			}
			got, at := sliceBits(x, lo, lo+n), bitsAt(x, lo, n)
			dst := make([]uint64, words(lo+n)+1)
			putBitsAt(dst, lo, got, n)
			for j := range n {
				if getBit(got, j) != getBit(x, lo+j) || getBit(at, j) != getBit(x, lo+j) || getBit(dst, lo+j) != getBit(x, lo+j) {
					t.Fatalf("lo %d, n %d: bit %d differs", lo, n, j)
				}
			}
			for j := n; j < 64*len(got); j++ {
				if getBit(got, j) != 0 {
					t.Fatalf("sliceBits(lo %d, n %d): bit %d past n set", lo, n, j)
				}
			}
			for j := range 64 * len(dst) {
				if (j < lo || j >= lo+n) && getBit(dst, j) != 0 {
					t.Fatalf("putBitsAt(lo %d, n %d): bit %d outside the range set", lo, n, j)
				}
			}
		}
	}
}

// TestTriplesBucket: with Party.Bucket above BucketSize's choice every batch uses the
// larger buckets (BatchBytes at that size is what each party sends), the triples are
// correct, and a Bucket below BucketSize's choice changes nothing.
func TestTriplesBucket(t *testing.T) {
	for _, tc := range []struct{ n, batch, bucket, want int }{
		{3000, 2048, 6, 6}, // BucketSize(2048, 2) = 5
		{3000, 2048, 2, 5},
	} {
		ps, conns := pair(t)
		for _, p := range ps {
			p.Batch, p.Bucket = tc.batch, tc.bucket
		}
		var a, b, c [2]Bits
		before := [2]int64{conns[0].Stats().BytesSent, conns[1].Stats().BytesSent}
		must2(t, conns, func() (err error) { a[0], b[0], c[0], err = ps[0].Triples(tc.n); return },
			func() (err error) { a[1], b[1], c[1], err = ps[1].Triples(tc.n); return })
		for i := range 2 {
			want := BatchBytes(tc.batch, tc.want, ot.DefaultK, i == 0) + BatchBytes(tc.n-tc.batch, tc.want, ot.DefaultK, i == 0) + CheckBytes(i == 0)
			if got := conns[i].Stats().BytesSent - before[i]; got != want {
				t.Fatalf("bucket %d: party %d sent %d bytes, want %d (buckets of %d)", tc.bucket, i, got, want, tc.want)
			}
		}
		if err := checkTriples(ps, a, b, c); err != nil {
			t.Fatal(err)
		}
	}
}
