package spdz2k

import (
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/ot"
)

// gf128MulRef is the schoolbook product in F_2[X]/(X^128 + X^7 + X^2 + X + 1): shift and
// add, one bit of b at a time.
func gf128MulRef(a, b ot.Block) ot.Block {
	var z ot.Block
	for k := range 128 {
		if b[k/64]>>(k%64)&1 == 1 {
			z = xorBlock(z, a)
		}
		a = gfMulX(a)
	}
	return z
}

// TestGFMul: gfMul equals the schoolbook product on random and extreme operands, X^128
// reduces to X^7 + X^2 + X + 1, and the product is commutative and distributive.
func TestGFMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ones := ot.Block{^uint64(0), ^uint64(0)}
	cases := [][2]ot.Block{{ones, ones}, {{1, 0}, ones}, {{0, 1 << 63}, {0, 1 << 63}}, {{0, 0}, ones}}
	for range 2000 {
		cases = append(cases, [2]ot.Block{{r.Uint64(), r.Uint64()}, {r.Uint64(), r.Uint64()}})
	}
	for _, c := range cases {
		if got, want := gfMul(c[0], c[1]), gf128MulRef(c[0], c[1]); got != want {
			t.Fatalf("gfMul(%x, %x) = %x, want %x", c[0], c[1], got, want)
		}
		if gfMul(c[0], c[1]) != gfMul(c[1], c[0]) {
			t.Fatalf("gfMul(%x, %x) not commutative", c[0], c[1])
		}
		d := ot.Block{r.Uint64(), r.Uint64()}
		if gfMul(c[0], xorBlock(c[1], d)) != xorBlock(gfMul(c[0], c[1]), gfMul(c[0], d)) {
			t.Fatalf("gfMul not distributive at %x, %x, %x", c[0], c[1], d)
		}
	}
	// X^64 * X^64 = X^128 = X^7 + X^2 + X + 1
	if got := gfMul(ot.Block{0, 1}, ot.Block{0, 1}); got != (ot.Block{0x87, 0}) {
		t.Fatalf("X^128 = %x, want 0x87", got)
	}
}

func BenchmarkGFMul(b *testing.B) {
	x, y := ot.Block{0x0123456789abcdef, 0xfedcba9876543210}, ot.Block{0x1111, 0x2222}
	for b.Loop() {
		x = gfMul(x, y)
	}
	_ = x
}

// TestGFPoly: gfPoly's chunked evaluation (gfDot or gfMulDot with tail(l) per chunk,
// horner between chunks) equals sum_g H^(G-g) x_g by Horner with gfMul, for chunkings
// whose chunks are full, short and of one element, on both paths (PCLMULQDQ and
// portable); gfMulDot's x_g = a_g b_g.
func TestGFPoly(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	h := ot.Block{r.Uint64(), r.Uint64()}
	poly := newGFPoly(h)
	for _, path := range clmulPaths(t) {
		hasCLMUL = path.on
		for _, G := range []int{1, 7, gfChunk, 3*gfChunk + 5} {
			a, b := make([]ot.Block, G), make([]ot.Block, G)
			var wantDot, wantMul ot.Block
			for g := range a {
				a[g], b[g] = ot.Block{r.Uint64(), r.Uint64()}, ot.Block{r.Uint64(), r.Uint64()}
				wantDot = xorBlock(gfMul(wantDot, h), a[g])
				wantMul = xorBlock(gfMul(wantMul, h), gf128MulRef(a[g], b[g]))
			}
			wantDot, wantMul = gfMul(wantDot, h), gfMul(wantMul, h) // the last weight is H^1
			for _, c := range []int{1, 5, gfChunk} {
				var dot, mul ot.Block
				for lo := 0; lo < G; lo += c {
					l := min(c, G-lo)
					w := poly.tail(l)
					dot = poly.horner(dot, gfDot(w, a[lo:]), l)
					mul = poly.horner(mul, gfMulDot(w, a[lo:], b[lo:]), l)
				}
				if dot != wantDot || mul != wantMul {
					t.Fatalf("%s, G = %d in chunks of %d: %x, %x, want %x, %x", path.name, G, c, dot, mul, wantDot, wantMul)
				}
			}
		}
	}
}

// clmulPaths returns gfMulVec's, gfDot's and gfMulDot's paths to test (PCLMULQDQ if the
// processor has it, and the portable one); the caller's hasCLMUL is restored at the
// end of the test.
func clmulPaths(t *testing.T) []struct {
	name string
	on   bool
} {
	has := hasCLMUL
	t.Cleanup(func() { hasCLMUL = has })
	paths := []struct {
		name string
		on   bool
	}{{"portable", false}}
	if has {
		paths = append(paths, struct {
			name string
			on   bool
		}{"clmul", true})
	} else {
		t.Log("no PCLMULQDQ: only the portable path")
	}
	return paths
}

// TestGFMulDot: gfMulDot's product of one element (weight 1) equals the schoolbook
// product on both paths (PCLMULQDQ where the processor has it, and the portable one),
// random and extreme operands, and the sum over lengths 0, 1 and more is the sum of the
// products.
func TestGFMulDot(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ones := ot.Block{^uint64(0), ^uint64(0)}
	for _, path := range clmulPaths(t) {
		hasCLMUL = path.on
		for _, n := range []int{0, 1, 5, 1000} {
			a, b := make([]ot.Block, n), make([]ot.Block, n+3)
			for i := range a {
				a[i] = ot.Block{r.Uint64(), r.Uint64()}
				b[i] = ot.Block{r.Uint64(), r.Uint64()}
			}
			if n >= 5 {
				a[0], b[0] = ones, ones
				a[1], b[1] = ot.Block{0, 1}, ot.Block{0, 1} // X^64 X^64 = X^128
				a[2], b[2] = ot.Block{0, 1 << 63}, ot.Block{0, 1 << 63}
				b[3] = ot.Block{}
			}
			want := make([]ot.Block, n)
			for i := range a {
				want[i] = gf128MulRef(a[i], b[i])
			}
			one := []ot.Block{{1, 0}}
			var sum ot.Block
			for i := range want {
				if got := gfMulDot(one, a[i:], b[i:]); got != want[i] {
					t.Fatalf("%s, n = %d: element %d = %x, want %x", path.name, n, i, got, want[i])
				}
				sum = xorBlock(sum, want[i])
			}
			weights := make([]ot.Block, n)
			for i := range weights {
				weights[i] = one[0]
			}
			if got := gfMulDot(weights, a, b); got != sum {
				t.Fatalf("%s, n = %d: sum %x, want %x", path.name, n, got, sum)
			}
		}
	}
}

func BenchmarkGFMulDot(b *testing.B) {
	x, y := make([]ot.Block, gfChunk), make([]ot.Block, gfChunk)
	for i := range x {
		x[i], y[i] = ot.Block{uint64(i) * 0x9e3779b97f4a7c15, ^uint64(i)}, ot.Block{0x1111 + uint64(i), 0x2222}
	}
	poly := newGFPoly(ot.Block{3, 5})
	var acc ot.Block
	for b.Loop() {
		acc = xorBlock(acc, gfMulDot(poly.tail(gfChunk), x, y))
	}
	_ = acc
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/product")
}
