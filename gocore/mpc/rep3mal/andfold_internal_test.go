package rep3mal

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/prg"
)

// TestAndFinishFold: the AND proof's folded bases (andStatement.finish: transposes, byte
// tables, the a side times psi_t X^j, and the all-zero blocks skipped) equal the fold
// computed bit by bit from the definition, A_{t,j} = psi_t X^j sum_l bit j of word 64t+l
// times eq(r, l), on products with components zero in whole blocks and in part of one,
// from an arena holding stale values.
func TestAndFinishFold(t *testing.T) {
	g := prg.New(prg.Key{11})
	var ands []product
	for _, tc := range []struct {
		n    int
		zero [4]bool // x^A, x^B, y^A, y^B all zero
	}{{130, [4]bool{false, true, false, false}}, {64, [4]bool{false, false, true, true}}, {70, [4]bool{true, false, false, true}}, {5, [4]bool{}}} {
		w := func(z bool) []uint64 {
			if z {
				return make([]uint64, tc.n)
			}
			return g.Uint64s(tc.n)
		}
		ands = append(ands, product{x: rep3.Pair{A: w(tc.zero[0]), B: w(tc.zero[1])}, y: rep3.Pair{A: w(tc.zero[2]), B: w(tc.zero[3])},
			z: rep3.Pair{A: w(false), B: w(false)}, next: w(false), prev: w(false)})
	}
	var ar arena[galois.F64]
	for range 4 { // stale values in the arena's buffers
		v := ar.getDirty(1024, 1024)
		for i := range v {
			v[i] = ^galois.F64(i)
		}
	}
	ar.reset()
	st := newAndStatement(ands, prg.New(prg.Key{12}), &ar)
	off := make([]uint64, len(st.lift.offGrid))
	pr := st.finish(off, off, prg.New(prg.Key{13}))
	// The reference: the same coin's r, the fold from the definition.
	a, rg := gfAlg{}, prg.New(prg.Key{13})
	rs := make([]galois.F64, andLiftVars)
	for i := range rs {
		rs[i] = a.challenge(rg)
	}
	basis := liftBasis(a, st.lift, rs)
	var cat [4][]uint64
	for _, p := range ands {
		for c, v := range [][]uint64{p.x.A, p.x.B, p.y.A, p.y.B} {
			cat[c] = append(cat[c], v...)
		}
	}
	got := [4][]galois.F64{pr.bases.a, pr.bases.b, pr.bases.ya, pr.bases.yb}
	for c := range cat {
		if len(got[c]) != 64*st.m {
			t.Fatalf("component %d: %d entries, want %d", c, len(got[c]), 64*st.m)
		}
		for tb := range st.m {
			for j := range 64 {
				var f galois.F64
				for l := range andBlockWords {
					if e := tb*andBlockWords + l; e < st.n && cat[c][e]>>j&1 == 1 {
						f ^= basis[st.lift.gridPt[l]]
					}
				}
				if c < 2 {
					f = f.Mul(st.psi[tb].MulXPow(uint(j)))
				}
				if g := got[c][64*tb+j]; g != f {
					t.Fatalf("component %d block %d lane %d: %x, want %x", c, tb, j, g, f)
				}
			}
		}
	}
}
