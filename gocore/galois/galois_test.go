package galois

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/prg"
)

// gf2MulMod multiplies binary polynomials (bit i: X^i) modulo f of degree D.
func gf2MulMod(a, b, f uint64) uint64 {
	var r uint64
	for b != 0 {
		if b&1 != 0 {
			r ^= a
		}
		b >>= 1
		a <<= 1
		if a>>D&1 != 0 {
			a ^= f
		}
	}
	return r
}

func gf2Mod(a, b uint64) uint64 {
	for a != 0 && bitLen(a) >= bitLen(b) {
		a ^= b << uint(bitLen(a)-bitLen(b))
	}
	return a
}

func bitLen(a uint64) int {
	n := 0
	for a != 0 {
		n++
		a >>= 1
	}
	return n
}

func gf2Gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, gf2Mod(a, b)
	}
	return a
}

// TestModulusIrreducible: Rabin's test for F mod 2: X^(2^56) = X mod F, and
// gcd(X^(2^(56/q)) - X, F) = 1 for the prime divisors q = 2, 7 of 56.
func TestModulusIrreducible(t *testing.T) {
	f := uint64(1) << D
	for _, k := range taps {
		f |= 1 << uint(k)
	}
	pow := func(k int) uint64 { // X^(2^k) mod F
		x := uint64(2)
		for range k {
			x = gf2MulMod(x, x, f)
		}
		return x
	}
	if pow(D) != 2 {
		t.Fatal("X^(2^56) != X mod F")
	}
	for _, q := range []int{2, 7} {
		if g := gf2Gcd(f, pow(D/q)^2); g != 1 {
			t.Fatalf("gcd(X^(2^%d) - X, F) = %#x", D/q, g)
		}
	}
}

func randElems(n int) []Elem {
	g := prg.New(prg.Key{1})
	out := make([]Elem, n)
	for i := range out {
		out[i] = Uniform(g)
	}
	return out
}

// TestRingLaws: commutativity, associativity and distributivity of the product, and
// multiplication by X^56 equals multiplication by -(X^7 + X^4 + X^2 + 1).
func TestRingLaws(t *testing.T) {
	es := randElems(12)
	for i := 0; i+2 < len(es); i += 3 {
		x, y, z := &es[i], &es[i+1], &es[i+2]
		var xy, yx, xyz1, yz, xyz2, s, l, r1, r2, r Elem
		xy.Mul(x, y)
		yx.Mul(y, x)
		if xy != yx {
			t.Fatal("x*y != y*x")
		}
		xyz1.Mul(&xy, z)
		yz.Mul(y, z)
		xyz2.Mul(x, &yz)
		if xyz1 != xyz2 {
			t.Fatal("(xy)z != x(yz)")
		}
		s.Add(y, z)
		l.Mul(x, &s)
		r1.Mul(x, y)
		r2.Mul(x, z)
		r.Add(&r1, &r2)
		if l != r {
			t.Fatal("x(y+z) != xy+xz")
		}
	}
	// X^28 * X^28 = X^56 = -(X^7 + X^4 + X^2 + 1).
	var a, p Elem
	a[28] = 1
	p.Mul(&a, &a)
	var want Elem
	for _, k := range taps {
		want[k] = ^uint64(0)
	}
	if p != want {
		t.Fatalf("X^56 = %v", p)
	}
	// Constants multiply coefficientwise.
	var c, d Elem
	c = FromScalar(5)
	d.Mul(&c, &es[0])
	var e Elem
	e.AddScaled(&es[0], 5)
	if d != e {
		t.Fatal("5*x != x+x+x+x+x")
	}
}

// TestKaratsuba: MulAdd (Karatsuba in Go, the AVX2 and the AVX-512 schoolbooks where the
// processor has them: eachKernel) equals the Go schoolbook product, also when adding to a
// non-zero sum, for random elements and for the extremes (all words 0 or 2^64 - 1, whose
// 32-bit halves and cross terms all carry).
func TestKaratsuba(t *testing.T) {
	es := randElems(20)
	var ones, top Elem
	for i := range ones {
		ones[i] = ^uint64(0)
		top[i] = 1<<63 | 1<<31
	}
	es = append(es, ones, ones, top, ones, Elem{}, top, top)
	eachKernel(func(kernel string) {
		var a, b Wide
		for i := 0; i+1 < len(es); i++ {
			a.MulAdd(&es[i], &es[i+1])
			b.mulAddSchool(&es[i], &es[i+1])
			if a != b {
				t.Fatalf("MulAdd (kernel %s) differs from schoolbook at pair %d", kernel, i)
			}
		}
		for i := range es {
			var c Elem
			c.Mul(&es[i], &es[len(es)-1-i])
			var w Wide
			w.mulAddSchool(&es[i], &es[len(es)-1-i])
			var d Elem
			w.Reduce(&d)
			if c != d {
				t.Fatalf("Mul (kernel %s) differs from schoolbook at %d", kernel, i)
			}
		}
	})
}

// TestExceptionalDifferenceIsUnit: a non-zero e in Z_2^64 (even 2^63) times the difference
// of two distinct exceptional elements is not zero; two exceptional elements drawn from
// the same generator differ.
func TestExceptionalDifferenceIsUnit(t *testing.T) {
	g := prg.New(prg.Key{2})
	for range 100 {
		u, v := Exceptional(g), Exceptional(g)
		if u == v {
			t.Fatal("two draws are equal")
		}
		var diff, p Elem
		diff.Sub(&u, &v)
		for _, c := range []uint64{1 << 63, 3 << 62, 12345} {
			k := FromScalar(c)
			p.Mul(&diff, &k)
			if p.IsZero() {
				t.Fatalf("%#x * (u - v) = 0", c)
			}
		}
	}
}

func BenchmarkMulAdd(b *testing.B) {
	es := randElems(2)
	eachKernel(func(kernel string) {
		b.Run(kernel, func(b *testing.B) {
			var w Wide
			for b.Loop() {
				w.MulAdd(&es[0], &es[1])
			}
		})
	})
}

func BenchmarkMulAddSchool(b *testing.B) {
	es := randElems(2)
	var w Wide
	for b.Loop() {
		w.mulAddSchool(&es[0], &es[1])
	}
}

// TestVectorPaths: AddScaled and AddLookup equal the Go loops with every kernel the
// processor has (eachKernel).
func TestVectorPaths(t *testing.T) {
	g := prg.New(prg.Key{10})
	x, e0 := Uniform(g), Uniform(g)
	c := g.Uint64s(1)[0]
	var tab [16]uint64
	copy(tab[:], g.Uint64s(16))
	var idx [D]uint8
	for i, w := range g.Uint64s(D) {
		idx[i] = uint8(w % 16)
	}
	eachKernel(func(avx string) {
		e := e0
		e.AddScaled(&x, c)
		e.AddLookup(&tab, &idx)
		for i := range e0 {
			if e[i] != e0[i]+x[i]*c+tab[idx[i]] {
				t.Fatalf("avx=%v: AddScaled or AddLookup differs", avx)
			}
		}
	})
}

// TestReduce: Reduce equals the reduction one top coefficient at a time, with every
// kernel (eachKernel), for random wide sums and extremes (all ones; large top
// coefficients); the top word, above any product's degree, is ignored.
func TestReduce(t *testing.T) {
	g := prg.New(prg.Key{12})
	var ws []Wide
	for range 20 {
		var w Wide
		copy(w[:], g.Uint64s(2*D))
		ws = append(ws, w)
	}
	var ones, top Wide
	for i := range ones {
		ones[i] = ^uint64(0)
		top[D+i/2] = uint64(i) << 58
	}
	ws = append(ws, ones, top)
	eachKernel(func(kernel string) {
		for i, w := range ws {
			ref := w
			for j := 2*D - 2; j >= D; j-- {
				for _, k := range taps {
					ref[j-D+k] -= ref[j]
				}
			}
			var e Elem
			w.Reduce(&e)
			if e != Elem(ref[:D]) || w != ws[i] {
				t.Fatalf("Reduce (kernel %s) differs from the reference at %d", kernel, i)
			}
		}
	})
}

// TestNibbleSums: AddNibbleSums equals the sum of the rows selected by the nibbles' bits,
// with each kernel (eachKernel).
func TestNibbleSums(t *testing.T) {
	g := prg.New(prg.Key{9})
	rows := make([]Elem, 128)
	for i := range rows {
		rows[i] = Uniform(g)
	}
	tbl := NewNibbleTable(rows)
	for trial := range 20 {
		idx := make([]uint8, 32-trial%5)
		for i, w := range g.Uint64s(len(idx)) {
			idx[i] = uint8(w & 15)
		}
		start := Uniform(g)
		want := start
		for gi, b := range idx {
			for i := range 4 {
				if b>>i&1 == 1 {
					want.Add(&want, &rows[4*gi+i])
				}
			}
		}
		eachKernel(func(avx string) {
			got := start
			got.AddNibbleSums(tbl, idx)
			if got != want {
				t.Fatalf("trial %d avx=%v: wrong sum", trial, avx)
			}
		})
	}
}

// TestSubsetSums: AddSubsetSums equals the sum over the groups of the four words times
// their exceptional elements (Mul by the element), with each kernel (eachKernel).
func TestSubsetSums(t *testing.T) {
	g := prg.New(prg.Key{12})
	for trial := range 20 {
		n := []int{1, 2, 3, 7, 16}[trial%5]
		vs := make([][4]uint64, n)
		idx := make([][D]uint8, n)
		start := Uniform(g)
		want := start
		for gi := range n {
			copy(vs[gi][:], g.Uint64s(4))
			if trial == 0 {
				vs[gi] = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
			}
			for i := range 4 {
				psi := Exceptional(g)
				if trial == 1 {
					psi = FromScalar(1)
				}
				for c := range D {
					idx[gi][c] |= uint8(psi[c]) << i
				}
				var p Elem
				v := FromScalar(vs[gi][i])
				p.Mul(&psi, &v)
				want.Add(&want, &p)
			}
		}
		eachKernel(func(avx string) {
			got := start
			got.AddSubsetSums(vs, idx)
			if got != want {
				t.Fatalf("trial %d avx=%v: wrong sum", trial, avx)
			}
		})
	}
}

// TestSubsetSums4: AddSubsetSums4 equals AddSubsetSums element by element (the Go code
// of one element), with each kernel, for group counts below, at and past the AVX2
// kernel's 16 groups per call.
func TestSubsetSums4(t *testing.T) {
	g := prg.New(prg.Key{14})
	for trial, n := range []int{0, 1, 2, 3, 7, 16, 17, 40} {
		vs, idx := randSubsetSums4(g, n)
		var start, want [4]Elem
		for p := range start {
			start[p] = Uniform(g)
			want[p] = start[p]
			for gi := range n {
				for c := range D {
					for i := range 4 {
						if idx[gi][c]>>i&1 == 1 {
							want[p][c] += vs[p][gi][i]
						}
					}
				}
			}
		}
		eachKernel(func(avx string) {
			got := start
			galoisAddSubsetSums4(&got, &vs, idx)
			if got != want {
				t.Fatalf("trial %d (n = %d) avx=%v: wrong sums", trial, n, avx)
			}
		})
	}
}

// randSubsetSums4 returns AddSubsetSums4's operands for n groups: four vectors of
// random words and random nibbles.
func randSubsetSums4(g *prg.PRG, n int) (vs [4][][4]uint64, idx [][D]uint8) {
	for p := range vs {
		vs[p] = make([][4]uint64, n)
		for gi := range n {
			copy(vs[p][gi][:], g.Uint64s(4))
		}
	}
	idx = make([][D]uint8, n)
	for gi := range n {
		for c := range D {
			idx[gi][c] = uint8(g.Uint64s(1)[0] & 15)
		}
	}
	return vs, idx
}

func galoisAddSubsetSums4(e *[4]Elem, vs *[4][][4]uint64, idx [][D]uint8) {
	AddSubsetSums4(&[4]*Elem{&e[0], &e[1], &e[2], &e[3]}, vs, idx)
}

// TestScaledRows: AddScaledRows equals the sum of the rows times the words (Mul by the
// word as a ring element), with each kernel (eachKernel).
func TestScaledRows(t *testing.T) {
	g := prg.New(prg.Key{13})
	for trial := range 10 {
		n := []int{1, 3, 128, 17, 64}[trial%5]
		rows := make([]Elem, n)
		for i := range rows {
			rows[i] = Uniform(g)
		}
		xs := g.Uint64s(n)
		if trial == 0 {
			xs[0] = ^uint64(0)
		}
		start := Uniform(g)
		want := start
		for l := range rows {
			var p Elem
			x := FromScalar(xs[l])
			p.Mul(&x, &rows[l])
			want.Add(&want, &p)
		}
		eachKernel(func(avx string) {
			got := start
			got.AddScaledRows(rows, xs)
			if got != want {
				t.Fatalf("trial %d avx=%v: wrong sum", trial, avx)
			}
		})
	}
}

// TestMulBits: the product by an exceptional element from its bit mask equals Mul, with
// each kernel (eachKernel).
func TestMulBits(t *testing.T) {
	g := prg.New(prg.Key{10})
	for trial := range 50 {
		x, y := Exceptional(g), Uniform(g)
		if trial == 0 {
			x = FromScalar(0)
		}
		if trial == 1 {
			for i := range x {
				x[i] = 1
			}
		}
		var want Elem
		want.Mul(&x, &y)
		eachKernel(func(avx string) {
			var got Elem
			got.MulBits(x.Bits(), &y)
			if got != want {
				t.Fatalf("trial %d avx=%v: MulBits differs from Mul", trial, avx)
			}
		})
	}
}

func BenchmarkMul(b *testing.B) {
	g := prg.New(prg.Key{11})
	x, y := Exceptional(g), Uniform(g)
	b.Run("Mul", func(b *testing.B) {
		for range b.N {
			y.Mul(&x, &y)
		}
	})
	xb := x.Bits()
	eachKernel(func(kernel string) {
		b.Run("MulBits/"+kernel, func(b *testing.B) {
			for range b.N {
				y.MulBits(xb, &y)
			}
		})
	})
}

// eachKernel runs f with the Go code (kernel "go") and, where the CPU has them, with the
// AVX2 kernels alone ("avx2") and with the AVX-512 ones ("avx512"), and restores the
// package's choice afterwards.
func eachKernel(f func(kernel string)) {
	saved512, saved2 := hasAVX512, hasAVX2
	defer func() { hasAVX512, hasAVX2 = saved512, saved2 }()
	for _, k := range []struct {
		name         string
		avx512, avx2 bool
	}{{"go", false, false}, {"avx2", false, true}, {"avx512", true, saved2}} {
		if k.avx512 && !saved512 || k.avx2 && !saved2 {
			continue
		}
		hasAVX512, hasAVX2 = k.avx512, k.avx2
		f(k.name)
	}
}

// BenchmarkSubsetSums: four elements' subset sums over 8 groups (the prover lift's chunk),
// one element at a time and by AddSubsetSums4, with each kernel.
func BenchmarkSubsetSums(b *testing.B) {
	vs, idx := randSubsetSums4(prg.New(prg.Key{15}), 8)
	var e [4]Elem
	eachKernel(func(kernel string) {
		b.Run("each/"+kernel, func(b *testing.B) {
			for range b.N {
				for p := range e {
					e[p].AddSubsetSums(vs[p], idx)
				}
			}
		})
		b.Run("four/"+kernel, func(b *testing.B) {
			for range b.N {
				galoisAddSubsetSums4(&e, &vs, idx)
			}
		})
	})
}

// BenchmarkScaledRows: the verifiers' generic lift fold, 128 rows, with each kernel.
func BenchmarkScaledRows(b *testing.B) {
	g := prg.New(prg.Key{16})
	rows := make([]Elem, 128)
	for i := range rows {
		rows[i] = Uniform(g)
	}
	xs := g.Uint64s(len(rows))
	var e Elem
	eachKernel(func(kernel string) {
		b.Run(kernel, func(b *testing.B) {
			for range b.N {
				e.AddScaledRows(rows, xs)
			}
		})
	})
}

// TestIsZero: IsZero is false for an element with one non-zero word (at every position:
// its low bit, its high bit, both) and true for 0.
func TestIsZero(t *testing.T) {
	var z Elem
	if !z.IsZero() {
		t.Fatal("0 is not zero")
	}
	for i := range D {
		for _, c := range []uint64{1, 1 << 63, 0x8000_0001} {
			e := Elem{}
			e[i] = c
			if e.IsZero() {
				t.Fatalf("word %d = %#x: reported zero", i, c)
			}
		}
	}
}

// BenchmarkIsZero: 0, and elements non-zero only in their first or their last word.
func BenchmarkIsZero(b *testing.B) {
	var zero, last, first Elem
	last[D-1], first[0] = 1, 1
	for _, c := range []struct {
		name string
		e    *Elem
	}{{"zero", &zero}, {"first", &first}, {"last", &last}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				if c.e.IsZero() {
					n++
				}
			}
			_ = n
		})
	}
}

// TestMulAdd2 compares MulAdd2 with two MulAdd on a running sum (random elements, zero and
// all-ones words, both factors' frames distinct), with each kernel.
func TestMulAdd2(t *testing.T) {
	es := randElems(40)
	var ones Elem
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	es = append(es, Elem{}, ones, ones, Elem{})
	eachKernel(func(kernel string) {
		var got, want Wide
		for i := 0; i+3 < len(es); i += 2 {
			x1, y1, x2, y2 := &es[i], &es[i+1], &es[i+2], &es[(i+7)%len(es)]
			got.MulAdd2(x1, y1, x2, y2)
			want.MulAdd(x1, y1)
			want.MulAdd(x2, y2)
			if got != want {
				t.Fatalf("%s: MulAdd2 at %d differs from two MulAdd", kernel, i)
			}
		}
	})
}

func BenchmarkMulAdd2(b *testing.B) {
	es := randElems(4)
	eachKernel(func(kernel string) {
		b.Run("two/"+kernel, func(b *testing.B) {
			var w Wide
			for b.Loop() {
				w.MulAdd(&es[0], &es[1])
				w.MulAdd(&es[2], &es[3])
			}
		})
		b.Run("MulAdd2/"+kernel, func(b *testing.B) {
			var w Wide
			for b.Loop() {
				w.MulAdd2(&es[0], &es[1], &es[2], &es[3])
			}
		})
	})
}
