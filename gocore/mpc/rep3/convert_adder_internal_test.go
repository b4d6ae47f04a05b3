package rep3

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/ring"
)

// countRecorder counts the reported AND words and keeps the openings' received words.
type countRecorder struct {
	andWords, products, opens int
	arith                     int
}

func (r *countRecorder) Input(int, bool, Pair) {}
func (r *countRecorder) Open(_ int, _ bool, _ Pair, got []uint64) {
	if got != nil {
		r.opens += len(got)
	}
}
func (r *countRecorder) Product(rel Relation, x, _, _ Pair) {
	r.products++
	if rel.Kind == "and" {
		r.andWords += len(x.A)
	} else {
		r.arith++
	}
}

// TestB2AAdder: the checked B2A by ABY3's adder returns a sharing of each element's
// unsigned value whose components agree between their holders, for widths 1 to 64 and
// values at the extremes; it reports 125 AND planes per word of elements (63 in the
// full-adder layer, one per ripple step), no arithmetic product, and one opening to each
// of parties 0 and 2 of 64 planes.
func TestB2AAdder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ n, w int }{{1, 1}, {70, 8}, {200, 2}, {130, 17}, {64, 63}, {65, 64}} {
		mask := ^uint64(0)
		if tc.w < 64 {
			mask = 1<<tc.w - 1
		}
		vals := make([]uint64, tc.n)
		for i := range vals {
			switch i % 4 {
			case 0:
				vals[i] = 0
			case 1:
				vals[i] = mask
			default:
				vals[i] = r.Uint64() & mask
			}
		}
		// Random binary components b_0 ^ b_1 ^ b_2 = vals (as planes).
		var comps [3][]uint64
		comps[0] = ring.ToPlanes(vals, tc.w)
		for c := 1; c < 3; c++ {
			rv := make([]uint64, tc.n)
			for i := range rv {
				rv[i] = r.Uint64() & mask
			}
			comps[c] = ring.ToPlanes(rv, tc.w)
			ring.Xor(comps[0], comps[0], comps[c])
		}
		var recs [3]*countRecorder
		var out [3]*AShare
		run3Observed(t, func(i int) Observer { recs[i] = &countRecorder{}; return recs[i] }, func(p *Protocol) error {
			s := &BShare{tc.n, tc.w, comps[p.id], comps[(p.id+1)%3]}
			z, err := p.b2aAdder(s)
			out[p.id] = z
			return err
		})
		nw := ring.Words(tc.n)
		for e := range tc.n {
			for c := range 3 {
				if out[c].a[e] != out[(c+2)%3].b[e] {
					t.Fatalf("n=%d w=%d: component %d of element %d differs between its holders", tc.n, tc.w, c, e)
				}
			}
			if got := out[0].a[e] + out[1].a[e] + out[2].a[e]; got != vals[e] {
				t.Fatalf("n=%d w=%d: element %d is %#x, want %#x", tc.n, tc.w, e, got, vals[e])
			}
		}
		for i, rec := range recs {
			wantOpen := 0
			if i != 1 {
				wantOpen = 64 * nw
			}
			if rec.andWords != 125*nw || rec.arith != 0 || rec.products != 63 || rec.opens != wantOpen {
				t.Fatalf("n=%d w=%d party %d: %d AND words in %d products, %d arithmetic, %d opened words; want %d, 63, 0, %d",
					tc.n, tc.w, i, rec.andWords, rec.products, rec.arith, rec.opens, 125*nw, wantOpen)
			}
		}
	}
}

// TestA2BCheckedOperands: the checked A2B's operands (an Observer attached) are binary
// sharings whose components agree between their holders and add up to x mod 2^w, with one
// AND round of w-1 planes; for widths 1 to 64 and values at the extremes.
func TestA2BCheckedOperands(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ n, w int }{{1, 1}, {70, 8}, {200, 2}, {130, 17}, {65, 64}} {
		mask := ^uint64(0)
		if tc.w < 64 {
			mask = 1<<tc.w - 1
		}
		var comps [3][]uint64
		for c := range comps {
			comps[c] = make([]uint64, tc.n)
			for e := range comps[c] {
				switch e % 3 {
				case 0:
					comps[c][e] = ^uint64(0)
				case 1:
					comps[c][e] = 0
				default:
					comps[c][e] = r.Uint64()
				}
			}
		}
		var recs [3]*countRecorder
		var sums, carries [3]*BShare
		run3Observed(t, func(i int) Observer { recs[i] = &countRecorder{}; return recs[i] }, func(p *Protocol) error {
			s := &AShare{a: comps[p.id], b: comps[(p.id+1)%3]}
			sum, carry, err := p.a2bCheckedOperands(s, tc.w)
			sums[p.id], carries[p.id] = sum, carry
			return err
		})
		open := func(sh [3]*BShare) []uint64 {
			for c := range 3 {
				if !slices.Equal(sh[c].a, sh[(c+2)%3].b) {
					t.Fatalf("n=%d w=%d: component %d differs between its holders", tc.n, tc.w, c)
				}
			}
			x := slices.Clone(sh[0].a)
			ring.Xor(x, x, sh[1].a)
			ring.Xor(x, x, sh[2].a)
			return ring.FromPlanes(x, tc.n, tc.w)
		}
		sv, cv := open(sums), open(carries)
		for e := range tc.n {
			want := (comps[0][e] + comps[1][e] + comps[2][e]) & mask
			if got := (sv[e] + cv[e]) & mask; got != want {
				t.Fatalf("n=%d w=%d: element %d is %#x, want %#x", tc.n, tc.w, e, got, want)
			}
		}
		wantAND, wantProducts := (tc.w-1)*ring.Words(tc.n), 1
		if tc.w == 1 {
			wantProducts = 0
		}
		for i, rec := range recs {
			if rec.andWords != wantAND || rec.products != wantProducts {
				t.Fatalf("n=%d w=%d party %d: %d AND words in %d products, want %d in %d",
					tc.n, tc.w, i, rec.andWords, rec.products, wantAND, wantProducts)
			}
		}
	}
}

// nopObserver takes every report and keeps nothing.
type nopObserver struct{}

func (nopObserver) Input(int, bool, Pair)              {}
func (nopObserver) Product(Relation, Pair, Pair, Pair) {}
func (nopObserver) Open(int, bool, Pair, []uint64)     {}
func (nopObserver) ProductMasks(next, prev []uint64)   {}

// BenchmarkCheckedConversions: the checked forms' local work and messages (three parties
// over pipes, an Observer that keeps nothing): the B2A by the adder (w = 8) and A2B's
// checked operands (w = 32), n elements; ns/op is the wall time of the three parties.
func BenchmarkCheckedConversions(b *testing.B) {
	const n = 100_000
	r := rand.New(rand.NewPCG(9, 10))
	var comps [3][]uint64
	for c := range comps {
		comps[c] = make([]uint64, n)
		for e := range comps[c] {
			comps[c][e] = r.Uint64()
		}
	}
	b.Run("b2aAdder/w=8", func(b *testing.B) {
		var planes [3][]uint64
		for c := range planes {
			planes[c] = ring.ToPlanes(comps[c], 8)
		}
		run3Observed(b, func(int) Observer { return nopObserver{} }, func(p *Protocol) error {
			s := &BShare{n, 8, planes[p.id], planes[(p.id+1)%3]}
			for range b.N {
				if _, err := p.b2aAdder(s); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("a2bCheckedOperands/w=32", func(b *testing.B) {
		run3Observed(b, func(int) Observer { return nopObserver{} }, func(p *Protocol) error {
			s := &AShare{a: comps[p.id], b: comps[(p.id+1)%3]}
			for range b.N {
				if _, _, err := p.a2bCheckedOperands(s, 32); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
