package rep3mal

import (
	"fmt"
	"testing"

	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/prg"
)

// dotCase is a product in the factored form with random components, u and v.
type dotCase struct {
	d    dotRecord
	u    []uint64
	v    []galois.Elem
	name string
}

// dotCases returns a matrix product, a convolution-like gather (padding terms, row
// pattern) and a depthwise one (no row pattern), with sizes that leave partial groups of
// four, and some components zero.
func dotCases(t testing.TB) []dotCase {
	g := prg.New(prg.Key{7})
	rnd := func(n int, zero bool) rep3.Pair {
		p := rep3.Pair{A: g.Uint64s(n), B: g.Uint64s(n)}
		if zero {
			clear(p.A)
		}
		return p
	}
	var out []dotCase
	add := func(name string, rel rep3.Relation, nx, ny, nz int, zero bool) {
		pr := product{rel: rel, x: rnd(nx, zero), y: rnd(ny, false), z: rnd(nz, false), next: g.Uint64s(nz), prev: g.Uint64s(nz)}
		d, ok := dotOf(pr)
		if !ok {
			t.Fatalf("%s: no factored form", name)
		}
		c := dotCase{d: d, name: name}
		for range d.na {
			e := galois.Exceptional(g)
			c.u = append(c.u, e.Bits())
		}
		for range d.p {
			c.v = append(c.v, galois.Exceptional(g))
		}
		out = append(out, c)
	}
	add("matmul", rep3.Relation{Kind: "matmul", M: 7, K: 5, N: 9}, 35, 45, 63, false)
	add("matmul-zero-x", rep3.Relation{Kind: "matmul", M: 3, K: 6, N: 13}, 18, 78, 39, true)
	// Convolution-like: na pixels, P channels, K taps, padding at pixel 0 tap 0 and pixel
	// na-1 tap K-1; depthwise: the x index depends on the channel.
	for _, depthwise := range []bool{false, true} {
		const na, p, k = 11, 6, 5
		var xi, yi []int32
		for a := range na {
			for b := range p {
				for j := range k {
					x, y := int32(a*k+j), int32(b*k+j)
					if depthwise {
						x += int32(b * na * k)
					}
					if (a == 0 && j == 0) || (a == na-1 && j == k-1) {
						x, y = -1, 99
					}
					xi, yi = append(xi, x), append(yi, y)
				}
			}
		}
		nx := na * k
		if depthwise {
			nx *= p
		}
		add(fmt.Sprintf("gather-depthwise=%v", depthwise), rep3.Relation{Kind: "gathermulsum", K: k, XIdx: xi, YIdx: yi}, nx, p*k, na*p, false)
	}
	return out
}

// refShares is dotRecord.sharesInto by the definitions (dot.go), element by element.
func refShares(d *dotRecord, uBits []uint64, v []galois.Elem) dotShares {
	u := make([]galois.Elem, len(uBits))
	for a, b := range uBits {
		for c := range galois.D {
			u[a][c] = b >> uint(c) & 1
		}
	}
	n := d.p * d.k
	if d.xbar != nil {
		n = d.k
	}
	s := dotShares{la: make([]galois.Elem, n), lb: make([]galois.Elem, n), ra: make([]galois.Elem, n), rb: make([]galois.Elem, n)}
	for a := range d.na {
		for b := range d.p {
			for j := range d.k {
				var q int32
				i := b*d.k + j
				if d.xbar != nil {
					q, i = d.xbar[a*d.k+j], j
					if b > 0 {
						continue // L_j sums over a only
					}
				} else {
					q = d.xi[(a*d.p+b)*d.k+j]
				}
				if q >= 0 {
					s.la[i].AddScaled(&u[a], d.x.A[q])
					s.lb[i].AddScaled(&u[a], d.x.B[q])
				}
			}
		}
	}
	for b := range d.p {
		for j := range d.k {
			i := b*d.k + j
			if d.xbar != nil {
				i = j
			}
			if q := d.ybar[b*d.k+j]; q >= 0 {
				s.ra[i].AddScaled(&v[b], d.y.A[q])
				s.rb[i].AddScaled(&v[b], d.y.B[q])
			}
		}
	}
	for a := range d.na {
		for b := range d.p {
			e := a*d.p + b
			var psi, t galois.Elem
			psi.Mul(&u[a], &v[b])
			t.AddScaled(&psi, d.z.B[e]+d.next[e])
			s.cm.Add(&s.cm, &t)
			t = galois.Elem{}
			t.AddScaled(&psi, -d.prev[e])
			s.cp.Add(&s.cp, &t)
		}
	}
	return s
}

// sharesOf is d.sharesInto with L and R in the buffers lr (grown and zeroed), as the
// proof's bases hold them in finish.
func sharesOf(d *dotRecord, u []uint64, v []galois.Elem, lr *[4][]galois.Elem) dotShares {
	n := d.length()
	s := dotShares{la: elems(&lr[0], n), lb: elems(&lr[1], n), ra: elems(&lr[2], n), rb: elems(&lr[3], n)}
	d.sharesInto(&s, u, v)
	return s
}

// TestDotShares: a dot record's L, R and claim shares equal their definitions for every
// form (row pattern or not, partial groups of four, zero components).
func TestDotShares(t *testing.T) {
	for _, c := range dotCases(t) {
		t.Run(c.name, func(t *testing.T) {
			c.d.sc = &dotScratch{}
			var lr [4][]galois.Elem
			want := refShares(&c.d, c.u, c.v)
			for rep := range 2 { // the second time on the used buffers
				got := sharesOf(&c.d, c.u, c.v, &lr)
				for name, p := range map[string][2][]galois.Elem{"la": {got.la, want.la}, "lb": {got.lb, want.lb}, "ra": {got.ra, want.ra}, "rb": {got.rb, want.rb}} {
					if len(p[0]) != len(p[1]) {
						t.Fatalf("rep %d: %s has %d entries, want %d", rep, name, len(p[0]), len(p[1]))
					}
					for i := range p[0] {
						if p[0][i] != p[1][i] {
							t.Fatalf("rep %d: %s[%d] differs", rep, name, i)
						}
					}
				}
				if got.cm != want.cm || got.cp != want.cp {
					t.Fatalf("rep %d: claim shares differ", rep)
				}
			}
		})
	}
}

// BenchmarkDotShares is shares for a 1x1 convolution late in MobileNetV1 0.25_128 (64
// pixels, 128 channels in and out: the row form) and a depthwise 3x3 one (256 pixels, 64
// channels).
func BenchmarkDotShares(b *testing.B) {
	g := prg.New(prg.Key{9})
	bench := func(name string, na, p, k int, depthwise bool) {
		var xi, yi []int32
		for a := range na {
			for c := range p {
				for j := range k {
					x := int32(a*k + j)
					if depthwise {
						x = int32((a*p+c)*k + j)
					}
					xi, yi = append(xi, x), append(yi, int32(c*k+j))
				}
			}
		}
		nx := na * k
		if depthwise {
			nx *= p
		}
		pr := product{rel: rep3.Relation{Kind: "gathermulsum", K: k, XIdx: xi, YIdx: yi},
			x: rep3.Pair{A: g.Uint64s(nx), B: g.Uint64s(nx)}, y: rep3.Pair{A: g.Uint64s(p * k), B: g.Uint64s(p * k)},
			z: rep3.Pair{A: g.Uint64s(na * p), B: g.Uint64s(na * p)}, next: g.Uint64s(na * p), prev: g.Uint64s(na * p)}
		d, ok := dotOf(pr)
		if !ok || (d.xbar == nil) != depthwise {
			b.Fatalf("%s: form %v %v", name, ok, d.xbar == nil)
		}
		d.sc = &dotScratch{}
		u := make([]uint64, d.na)
		for i := range u {
			e := galois.Exceptional(g)
			u[i] = e.Bits()
		}
		v := make([]galois.Elem, d.p)
		for i := range v {
			v[i] = galois.Exceptional(g)
		}
		var lr [4][]galois.Elem
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sharesOf(&d, u, v, &lr)
			}
		})
	}
	bench("pointwise", 64, 128, 128, false)
	bench("depthwise", 256, 64, 9, true)
}

// TestPatterns: patterns agrees with the definitions (ybar: a term's y index depends only
// on (e mod p, k) over the terms present; xbar: the x indices repeat along each block of p
// outputs) on conv-like maps, depthwise ones, and maps broken in one entry.
func TestPatterns(t *testing.T) {
	const na, p, k = 5, 3, 4
	n := na * p
	build := func(depthwise bool) (xi, yi []int32) {
		for a := range na {
			for b := range p {
				for j := range k {
					x, y := int32(a*k+j), int32(b*k+j)
					if depthwise {
						x += int32(100 * b)
					}
					if a == 1 && j == 2 {
						x, y = -1, 77 // padding: y arbitrary
					}
					xi, yi = append(xi, x), append(yi, y)
				}
			}
		}
		return
	}
	for _, c := range []struct {
		name          string
		depthwise     bool
		brk           func(xi, yi []int32)
		wantOK, wantX bool
	}{
		{"conv", false, nil, true, true},
		{"depthwise", true, nil, true, false},
		{"x differs in a block", false, func(xi, yi []int32) { xi[(2*p+1)*k+3]++ }, true, false},
		{"padding differs in a block", false, func(xi, yi []int32) { xi[(1*p+2)*k+2], yi[(1*p+2)*k+2] = 9, 2*k+2 }, true, false},
		{"a term missing in a block", false, func(xi, yi []int32) { xi[(3*p+2)*k+1] = -1 }, true, false},
		{"y differs in a column", false, func(xi, yi []int32) { yi[(3*p+1)*k] = 50 }, false, false},
		{"negative y of a term", false, func(xi, yi []int32) { yi[(4*p+2)*k+1] = -1 }, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			xi, yi := build(c.depthwise)
			if c.brk != nil {
				c.brk(xi, yi)
			}
			ybar, xbar, ok := patterns(xi, yi, k, n, p)
			if ok != c.wantOK || (xbar != nil) != c.wantX {
				t.Fatalf("ok %v xbar %v, want %v %v", ok, xbar != nil, c.wantOK, c.wantX)
			}
			if !ok {
				return
			}
			for e := range n {
				for j := range k {
					if x := xi[e*k+j]; x >= 0 && ybar[(e%p)*k+j] != yi[e*k+j] {
						t.Fatalf("ybar at (%d, %d) = %d, want %d", e%p, j, ybar[(e%p)*k+j], yi[e*k+j])
					}
					if xbar != nil && xbar[(e/p)*k+j] != xi[e*k+j] {
						t.Fatalf("xbar at (%d, %d) = %d, want %d", e/p, j, xbar[(e/p)*k+j], xi[e*k+j])
					}
				}
			}
		})
	}
}
