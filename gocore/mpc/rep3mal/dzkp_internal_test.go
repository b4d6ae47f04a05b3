package rep3mal

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/prg"
)

// TestLiftExtendAndBasis: the product of two multilinear polynomials, computed from their
// extensions to {0,1,inf}^s point by point and evaluated at a random r with basis, equals
// the product of their values at r (each the eq-weighted sum over the grid).
func TestLiftExtendAndBasis(t *testing.T) {
	g := prg.New(prg.Key{3})
	for _, s := range []int{1, 2, 3, 6} {
		z := newLift(s)
		a, b := g.Uint64s(z.grid), g.Uint64s(z.grid)
		ea, eb, tmp := make([]uint64, z.points), make([]uint64, z.points), make([]uint64, z.points)
		z.extend(a, ea, tmp)
		z.extend(b, eb, tmp)
		for l, q := range z.gridPt {
			if ea[q] != a[l] {
				t.Fatalf("s=%d: extension differs from the values at grid point %d", s, l)
			}
		}
		r := make([]galois.Elem, s)
		for j := range r {
			r[j] = galois.Exceptional(g)
		}
		basis := z.basis(r)
		var fa, fb, prod, lhs galois.Elem
		for l, q := range z.gridPt {
			fa.AddScaled(&basis[q], a[l])
			fb.AddScaled(&basis[q], b[l])
		}
		prod.Mul(&fa, &fb)
		for q := range z.points {
			lhs.AddScaled(&basis[q], ea[q]*eb[q])
		}
		if lhs != prod {
			t.Fatalf("s=%d: sum_q basis(r)_q (fg)(q) != f(r) g(r)", s)
		}
	}
}

// SetProofs selects the check of the arithmetic elementwise products of p (a rep3-mal
// party): proofs (true) or bucket-verified triples (false). For tests.
func SetProofs(p mpc.Protocol, on bool) { p.(*Protocol).proofs = on }
