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
// times eq(r, l), with each kernel set and without, on products with components zero in
// whole blocks and in part of one, from an arena holding stale values.
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
	withAndKernels(func(mode string) { testAndFinishFold(t, mode, ands) })
}

func testAndFinishFold(t *testing.T, mode string, ands []product) {
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
			t.Fatalf("%s: component %d: %d entries, want %d", mode, c, len(got[c]), 64*st.m)
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
					t.Fatalf("%s: component %d block %d lane %d: %x, want %x", mode, c, tb, j, g, f)
				}
			}
		}
	}
}

// andBenchProducts are AND words for the benchmarks: n words in products of 1000 words,
// random, with x^B zero in every third product (rep3's known-zero components).
func andBenchProducts(n int) []product {
	g := prg.New(prg.Key{21})
	var ands []product
	for i := 0; n > 0; i++ {
		k := min(n, 1000)
		n -= k
		xb := g.Uint64s(k)
		if i%3 == 0 {
			xb = make([]uint64, k)
		}
		ands = append(ands, product{x: rep3.Pair{A: g.Uint64s(k), B: xb}, y: rep3.Pair{A: g.Uint64s(k), B: g.Uint64s(k)},
			z: rep3.Pair{A: g.Uint64s(k), B: g.Uint64s(k)}, next: g.Uint64s(k), prev: g.Uint64s(k)})
	}
	return ands
}

// BenchmarkAndProof: the AND proof's local work for 2^18 AND words: the lift
// (newAndStatement), the fold at the lift's coin (finish), and the halvings' values and
// folds down to length 1.
func BenchmarkAndProof(b *testing.B) {
	ands := andBenchProducts(1 << 18)
	var ar arena[galois.F64]
	b.Run("lift", func(b *testing.B) {
		for b.Loop() {
			newAndStatement(ands, prg.New(prg.Key{12}), &ar)
		}
	})
	st := newAndStatement(ands, prg.New(prg.Key{12}), &ar)
	off := make([]uint64, len(st.lift.offGrid))
	b.Run("finish", func(b *testing.B) {
		for b.Loop() {
			ar.reset()
			st.finish(off, off, prg.New(prg.Key{13}))
		}
	})
	b.Run("halvings", func(b *testing.B) {
		a := gfAlg{}
		r := galois.F64(0x1234567890abcdef)
		for b.Loop() {
			b.StopTimer()
			ar.reset()
			z := st.finish(off, off, prg.New(prg.Key{13})).bases
			b.StartTimer()
			for len(z.a) > 1 {
				z.padTo(2)
				a.halves(z)
				a.halve(z, &r)
			}
		}
	})
}

// BenchmarkAndLiftKernel: the lift's extension and products of four block positions
// (andLiftExt, 665 points), with each kernel.
func BenchmarkAndLiftKernel(b *testing.B) {
	g := prg.New(prg.Key{5})
	z := newLift(andLiftVars)
	prog := andLiftProgram(z)
	ext := new([andLiftEntries][4][4]uint64)
	for l := range z.grid {
		for c := range 4 {
			copy(ext[l][c][:], g.Uint64s(4))
		}
	}
	acc := make([][2]uint64, z.points)
	var psi [4]uint64
	copy(psi[:], g.Uint64s(4))
	withAndKernels(func(mode string) {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				andLiftExt(ext, prog, acc, &psi)
			}
		})
	})
}
