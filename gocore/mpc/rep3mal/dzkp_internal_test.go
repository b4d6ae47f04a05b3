package rep3mal

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
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
		z.extend(a, ea, false)
		z.extend(b, eb, false)
		for _, xor := range []bool{false, true} { // the differences equal the variable-by-variable extension
			ref, got := make([]uint64, z.points), make([]uint64, z.points)
			z.extendRef(a, ref, tmp, xor)
			z.extend(a, got, xor)
			for q := range ref {
				if ref[q] != got[q] {
					t.Fatalf("s=%d xor=%v: point %d differs from the reference extension", s, xor, q)
				}
			}
		}
		if len(z.diffs) != len(z.offGrid) {
			t.Fatalf("s=%d: %d differences for %d points off the grid", s, len(z.diffs), len(z.offGrid))
		}
		for l, q := range z.gridPt {
			if ea[q] != a[l] {
				t.Fatalf("s=%d: extension differs from the values at grid point %d", s, l)
			}
		}
		r := make([]galois.Elem, s)
		for j := range r {
			r[j] = galois.Exceptional(g)
		}
		basis := liftBasis(grAlg{}, z, r)
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

// TestLiftKernels: the four-lane extensions (extend4, extend4xor) equal extend lane by
// lane, with the YMM kernels and without them, and the product kernels (mulAcc1,
// mulAcc2) the sums they stand for.
func TestLiftKernels(t *testing.T) {
	g := prg.New(prg.Key{4})
	z := newLift(liftVars)
	savedExt, saved := hasExtendAsm, hasLiftAsm
	defer func() { hasExtendAsm, hasLiftAsm = savedExt, saved }()
	for _, asm := range []bool{false, true} {
		if asm && !savedExt {
			continue
		}
		hasExtendAsm, hasLiftAsm = asm, asm && saved
		in := make([][4]uint64, z.grid)
		for l := range in {
			copy(in[l][:], g.Uint64s(4))
		}
		for _, xor := range []bool{false, true} {
			out := make([][4]uint64, z.points)
			if xor {
				z.extend4xor(in, out)
			} else {
				z.extend4(in, out)
			}
			for dt := range 4 {
				lane, ref := make([]uint64, z.grid), make([]uint64, z.points)
				for l := range lane {
					lane[l] = in[l][dt]
				}
				z.extend(lane, ref, xor)
				for q := range ref {
					if out[q][dt] != ref[q] {
						t.Fatalf("asm=%v xor=%v: lane %d point %d differs from extend", asm, xor, dt, q)
					}
				}
			}
		}
		tab := func() [][4]uint64 {
			v := make([][4]uint64, z.points)
			for q := range v {
				copy(v[q][:], g.Uint64s(4))
			}
			return v
		}
		u, v, w, x, acc := tab(), tab(), tab(), tab(), tab()
		// (Without the kernels liftGroup sums in Go: nothing to compare here.) The AVX2
		// kernels, and the AVX-512 ones where the processor has them; the tables'
		// extremes too (all ones, whose 32-bit halves and cross terms all carry).
		type kernels struct {
			name   string
			m1     func(acc, u, w, w2 *[4]uint64, idx *int, n int)
			m2     func(acc, u, v, w, z *[4]uint64, idx *int, n int)
			usable bool
		}
		for _, k := range []kernels{{"avx2", mulAcc1AVX2, mulAcc2AVX2, asm}, {"avx512", mulAcc1, mulAcc2, hasLiftAsm}} {
			if !k.usable {
				continue
			}
			for _, ext := range []bool{false, true} {
				u, v, w, x, acc := u, v, w, x, acc
				if ext {
					ones := make([][4]uint64, z.points)
					for q := range ones {
						ones[q] = [4]uint64{^uint64(0), 1<<63 | 1<<31, ^uint64(0) >> 1, 1 << 32}
					}
					u, v, w, x, acc = ones, ones, ones, ones, ones
				}
				want := make([][4]uint64, z.points)
				copy(want, acc)
				got := make([][4]uint64, z.points)
				copy(got, acc)
				for _, q := range z.offGrid {
					for dt := range 4 {
						want[q][dt] += u[q][dt]*(w[q][dt]+x[q][dt]) + v[q][dt]*w[q][dt] + u[q][dt]*(v[q][dt]+x[q][dt])
					}
				}
				k.m2(&got[0], &u[0], &v[0], &w[0], &x[0], &z.offGrid[0], len(z.offGrid))
				k.m1(&got[0], &u[0], &v[0], &x[0], &z.offGrid[0], len(z.offGrid))
				for q := range want {
					if got[q] != want[q] {
						t.Fatalf("product kernels (%s, extremes %v) differ at point %d", k.name, ext, q)
					}
				}
			}
		}
	}
}

// SetProofs selects the check of the products of p (a rep3-mal party): proofs (true) or
// bucket-verified triples and the sacrifice (false). For tests.
func SetProofs(p mpc.Protocol, on bool) { p.(*Protocol).proofs = on }

// PoisonSlab makes p (a rep3-mal party) hand out its slab's words (masks and scratch)
// filled with words that depend on the party and the position, as stale contents would
// be. For tests.
func PoisonSlab(p mpc.Protocol) {
	q := p.(*Protocol)
	q.rec.poison = 0x9e3779b97f4a7c15 * uint64(q.ID()+1)
}

// SetAdderB2A sets the least width of B2A by ABY3's adder for p (a rep3-mal party; 0: the
// products of rep3/convert_checked.go for every width). For tests.
func SetAdderB2A(p mpc.Protocol, minWidth int) { p.(*Protocol).Protocol.SetAdderB2A(minWidth) }

// TestDotOf: the factored form is found for a matrix product and a convolution-like
// gather (period = channels, padding skipped) and refused for an index map without it.
func TestDotOf(t *testing.T) {
	mk := func(n int) rep3.Pair { return rep3.Pair{A: make([]uint64, n), B: make([]uint64, n)} }
	mm := product{rel: rep3.Relation{Kind: "matmul", M: 4, K: 3, N: 5}, z: mk(20)}
	if d, ok := dotOf(mm); !ok || d.p != 5 || d.na != 4 || d.ybar[2*3+1] != 1*5+2 || d.xbar[3*3+2] != 3*3+2 {
		t.Fatalf("matmul: %v %+v", ok, d)
	}
	// A large matrix product (a classifier layer) keeps the form of length 2K.
	big := product{rel: rep3.Relation{Kind: "matmul", M: 1, K: 256, N: 1001}, z: mk(1001)}
	if _, ok := dotOf(big); !ok {
		t.Fatal("1x256 by 256x1001: no factored form")
	}
	var xi, yi []int32
	for a := range 6 {
		for b := range 4 {
			for k := range 3 {
				x := int32(a*3 + k)
				if a == 0 && k == 0 {
					x = -1 // padding: its y index is arbitrary
				}
				xi = append(xi, x)
				y := int32(b*3 + k)
				if x < 0 {
					y = 99
				}
				yi = append(yi, y)
			}
		}
	}
	conv := product{rel: rep3.Relation{Kind: "gathermulsum", K: 3, XIdx: xi, YIdx: yi}, z: mk(24)}
	if d, ok := dotOf(conv); !ok || d.p != 4 || d.na != 6 || d.ybar[0] != 0 || d.xbar == nil {
		t.Fatalf("conv: %v %+v", ok, d)
	}
	// Depthwise: the x index depends on the channel b too: no row pattern.
	dx := append([]int32(nil), xi...)
	for e := range 24 {
		for k := range 3 {
			if dx[e*3+k] >= 0 {
				dx[e*3+k] += int32(100 * (e % 4))
			}
		}
	}
	dw := product{rel: rep3.Relation{Kind: "gathermulsum", K: 3, XIdx: dx, YIdx: yi}, z: mk(24)}
	if d, ok := dotOf(dw); !ok || d.p != 4 || d.xbar != nil {
		t.Fatalf("depthwise: %v %+v", ok, d)
	}
	yr := append([]int32(nil), yi...)
	yr[len(yr)-1] = 0 // the last output's last term breaks every period below 24
	odd := product{rel: rep3.Relation{Kind: "gathermulsum", K: 3, XIdx: xi, YIdx: yr}, z: mk(24)}
	if d, ok := dotOf(odd); ok && d.p != 24 {
		t.Fatalf("irregular map factored with period %d", d.p)
	}
}

// TestAndLiftKernel: the AND lift's program (andLiftProgram) reaches every point off the
// grid once, and its run (andLiftExt) adds to each point off the grid the sum of psi[dt]
// times the lane products, computed field element by field element from extend lane by
// lane, with each kernel (YMM and XMM carry-less products) and without, over several
// runs with the same scratch and accumulators; zero psi lanes (the dead positions) add
// nothing.
func TestAndLiftKernel(t *testing.T) {
	g := prg.New(prg.Key{5})
	z := newLift(andLiftVars)
	prog := andLiftProgram(z)
	seen := make([]int, z.points)
	for _, op := range prog {
		if op[0] >= 0 {
			seen[op[3]]++
			continue
		}
		for _, d := range []int{2, 5, 6, 7, 8} {
			seen[int(op[1])+d]++
		}
	}
	for _, q := range z.offGrid {
		if seen[q] != 1 {
			t.Fatalf("point %d reached %d times", q, seen[q])
		}
	}
	for _, q := range z.gridPt {
		if seen[q] != 0 {
			t.Fatalf("grid point %d reached", q)
		}
	}
	withAndKernels(func(mode string) {
		acc := make([][2]uint64, z.points)
		want := make([]galois.F64, z.points)
		ext := new([andLiftEntries][4][4]uint64)
		for round, dead := range []int{-1, 2, -1} {
			var in [4][4][]uint64 // component, position: the grid values
			for c := range in {
				for dt := range in[c] {
					in[c][dt] = g.Uint64s(z.grid)
					for l := range z.grid {
						ext[l][c][dt] = in[c][dt][l]
					}
				}
			}
			in[0][1][5], in[2][1][5] = ^uint64(0), ^uint64(0)
			ext[5][0][1], ext[5][2][1] = ^uint64(0), ^uint64(0)
			var psi [4]uint64
			copy(psi[:], g.Uint64s(4))
			psi[0] = ^uint64(0)
			if dead >= 0 {
				psi[dead] = 0
			}
			andLiftExt(ext, prog, acc, &psi)
			var ref [4][4][]uint64
			for c := range ref {
				for dt := range ref[c] {
					ref[c][dt] = make([]uint64, z.points)
					z.extend(in[c][dt], ref[c][dt], true)
				}
			}
			for _, q := range z.offGrid {
				for dt := range 4 {
					p := galois.F64(ref[0][dt][q]&ref[2][dt][q] ^ ref[1][dt][q]&ref[3][dt][q])
					want[q] ^= p.Mul(galois.F64(psi[dt]))
				}
			}
			for _, q := range z.offGrid {
				if got := (&galois.F64Wide{Hi: acc[q][1], Lo: acc[q][0]}).Reduce(); got != want[q] {
					t.Fatalf("%s round %d: point %d: %x, want %x", mode, round, q, got, want[q])
				}
			}
		}
	})
}

// TestAndBlock: the block positions read from the products (andStatement.block) are the
// products' words laid end to end, zero past n, for products of lengths that cross the
// blocks' bounds (and an empty one).
func TestAndBlock(t *testing.T) {
	g := prg.New(prg.Key{8})
	var ands []product
	var cat [6][]uint64 // x^A, x^B, y^A, y^B, z^B ^ next, prev
	for _, n := range []int{5, 0, 64, 130, 1, 63, 200} {
		w := func() []uint64 { return g.Uint64s(n) }
		pr := product{x: rep3.Pair{A: w(), B: w()}, y: rep3.Pair{A: w(), B: w()}, z: rep3.Pair{A: w(), B: w()}, next: w(), prev: w()}
		ands = append(ands, pr)
		for c, v := range [][]uint64{pr.x.A, pr.x.B, pr.y.A, pr.y.B} {
			cat[c] = append(cat[c], v...)
		}
		for e := range n {
			cat[4] = append(cat[4], pr.z.B[e]^pr.next[e])
			cat[5] = append(cat[5], pr.prev[e])
		}
	}
	st := &andStatement{ands: ands, start: make([]int, len(ands))}
	for i, pr := range ands {
		st.start[i] = st.n
		st.n += len(pr.z.B)
	}
	var b andBlock
	for tb := range (st.n + 63) / 64 {
		for c := range b.x { // stale words must be overwritten
			b.x[c][63], b.wm[63], b.wp[63] = 7, 7, 7
		}
		st.block(tb, &b, true)
		for j := range 64 {
			e := 64*tb + j
			for c := range 6 {
				var want, got uint64
				if e < st.n {
					want = cat[c][e]
				}
				switch {
				case c < 4:
					got = b.x[c][j]
				case c == 4:
					got = uint64(b.wm[j])
				default:
					got = uint64(b.wp[j])
				}
				if got != want {
					t.Fatalf("block %d word %d component %d: %x, want %x", tb, j, c, got, want)
				}
			}
		}
	}
}

// TestMulVec: the a side's products (mulVec) equal galois's, with each kernel and
// without, for random elements and the extremes whose reductions carry furthest.
func TestMulVec(t *testing.T) {
	g := prg.New(prg.Key{6})
	withAndKernels(func(asm string) {
		var a, c [64]galois.F64
		for j := range a {
			a[j], c[j] = galois.F64(g.Uint64s(1)[0]), galois.F64(g.Uint64s(1)[0])
		}
		a[0], c[0], a[1], c[1], a[63] = ^galois.F64(0), ^galois.F64(0), 1<<63, 1<<63, 0
		dst := make([]galois.F64, 64)
		mulVec(dst, &a, &c)
		for j := range dst {
			if want := a[j].Mul(c[j]); dst[j] != want {
				t.Fatalf("%s: %d: %x * %x = %x, want %x", asm, j, a[j], c[j], dst[j], want)
			}
		}
	})
}

// TestScaleAcc: the grid claims' sums (scaleAcc) equal the carry-less products added
// one by one, with each kernel and without, over several calls and the extremes.
func TestScaleAcc(t *testing.T) {
	g := prg.New(prg.Key{10})
	withAndKernels(func(asm string) {
		var acc [andBlockWords][2]uint64
		var want [andBlockWords]galois.F64Wide
		for round := range 3 {
			var w [andBlockWords]galois.F64
			for l := range w {
				w[l] = galois.F64(g.Uint64s(1)[0])
			}
			w[0], w[63] = ^galois.F64(0), 1<<63
			c := galois.F64(g.Uint64s(1)[0])
			if round == 1 {
				c = ^galois.F64(0)
			}
			scaleAcc(&acc, &w, c)
			for l := range w {
				want[l].MulAdd(w[l], c)
				if acc[l][0] != want[l].Lo || acc[l][1] != want[l].Hi {
					t.Fatalf("%s round %d: sum %d: %x %x, want %x %x", asm, round, l, acc[l][1], acc[l][0], want[l].Hi, want[l].Lo)
				}
			}
		}
	})
}

// TestFoldTop: the AND proof's fold lo + r (hi - lo) (gfAlg.foldTop) equals the field
// arithmetic entry by entry, with each kernel and without, for halves of every residue
// modulo 4.
func TestFoldTop(t *testing.T) {
	g := prg.New(prg.Key{7})
	withAndKernels(func(asm string) {
		for _, half := range []int{1, 2, 3, 4, 5, 7, 300, 513, 514, 515} {
			w := make([]galois.F64, 2*half)
			for j := range w {
				w[j] = galois.F64(g.Uint64s(1)[0])
			}
			w[0], w[half] = 0, ^galois.F64(0)
			r := gfAlg{}.challenge(g)
			want := make([]galois.F64, half)
			for j := range want {
				want[j] = w[j] ^ (w[half+j] ^ w[j]).Mul(r)
			}
			got := gfAlg{}.foldTop(w, &r)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s half=%d: entry %d: %x, want %x", asm, half, j, got[j], want[j])
				}
			}
		}
	})
}

// TestHalves: the AND proof's halving-step values (gfAlg.halves) equal the inner
// products computed element by element, with each kernel and without, for halves of
// every residue modulo 4 and halves beyond a chunk.
func TestHalves(t *testing.T) {
	g := prg.New(prg.Key{9})
	withAndKernels(func(asm string) {
		for _, half := range []int{1, 2, 3, 4, 5, 6, 256, 301, 514, 515} {
			vec := func() []galois.F64 {
				v := make([]galois.F64, 2*half)
				for j := range v {
					v[j] = galois.F64(g.Uint64s(1)[0])
				}
				v[half-1] = ^galois.F64(0)
				return v
			}
			z := &zkBases[galois.F64]{a: vec(), b: vec(), ya: vec(), yb: vec()}
			var w0, w2 galois.F64
			for j := range half {
				a, b, ya, yb := z.a[j], z.b[j], z.ya[j], z.yb[j]
				ah, bh, yah, ybh := z.a[half+j], z.b[half+j], z.ya[half+j], z.yb[half+j]
				w0 ^= a.Mul(ya^yb) ^ b.Mul(ya)
				w2 ^= (ah ^ a).Mul(yah^ya^ybh^yb) ^ (bh ^ b).Mul(yah^ya)
			}
			if h0, hinf := (gfAlg{}).halves(z); h0 != w0 || hinf != w2 {
				t.Fatalf("%s half=%d: (%x, %x), want (%x, %x)", asm, half, h0, hinf, w0, w2)
			}
		}
	})
}

// withAndKernels runs f without the AND proof's kernels ("go"), with those on XMM
// registers ("xmm") and with those on YMM registers ("ymm"), each if the processor has
// them, and restores the selection.
func withAndKernels(f func(asm string)) {
	savedV, savedX := hasAndLiftV, hasAndLiftAsm
	defer func() { hasAndLiftV, hasAndLiftAsm = savedV, savedX }()
	for _, mode := range []struct {
		name string
		v, x bool
	}{{"go", false, false}, {"xmm", false, true}, {"ymm", true, true}} {
		if mode.v && !savedV || mode.x && !savedX {
			continue
		}
		hasAndLiftV, hasAndLiftAsm = mode.v, mode.x
		f(mode.name)
	}
}

// withKernels runs f without the kernels that *flag selects and, if the processor has
// them, with them, and restores *flag.
func withKernels(flag *bool, f func(asm bool)) {
	saved := *flag
	defer func() { *flag = saved }()
	for _, asm := range []bool{false, true} {
		if asm && !saved {
			continue
		}
		*flag = asm
		f(asm)
	}
}

// TestPoints2: the compression step's values for v = 2 over GF(2^64) (chunked, XOR
// extension) equal the generic ones, for lengths below and above a chunk.
func TestPoints2(t *testing.T) {
	g := prg.New(prg.Key{11})
	lift := newLift(2)
	skip := lift.gridPt[lift.grid-1]
	for _, B := range []int{1, 5, 300} {
		z := &zkBases[galois.F64]{}
		for range 4 * B {
			w := g.Uint64s(4)
			a, b, ya, yb := galois.F64(w[0]), galois.F64(w[1]), galois.F64(w[2]), galois.F64(w[3])
			z.push(&a, &b, &ya, &yb)
		}
		got, want := points2(z, skip), gfPoints(z, lift, skip)
		for q := range want {
			if q != skip && got[q] != want[q] {
				t.Fatalf("B=%d: point %d differs", B, q)
			}
		}
	}
}

// extendRef (the tests' reference) writes the values at {0,1,inf}^s of the multilinear polynomial with values in
// (length 2^s, bit j of the index = variable j) to out (length 3^s); tmp has 3^s words.
// Variable by variable: (v0, v1) becomes (v0, v1, v1 - v0), the values at 0, 1 and the
// leading coefficient (over GF(2), for bit-sliced words: v1 ^ v0, if xor).
func (z *zkLift) extendRef(in, out, tmp []uint64, xor bool) {
	// Variable 0 from in (pairs of words), then the others ping-ponging between tmp and
	// out so that the last one writes out.
	dst, src := out, tmp
	if z.s%2 == 0 {
		dst, src = tmp, out
	}
	d, v := dst[:3*(len(in)/2)], in[:len(in)/2*2]
	for h := range len(v) / 2 {
		v0, v1 := v[2*h], v[2*h+1]
		w := v1 - v0
		if xor {
			w = v1 ^ v0
		}
		d[3*h], d[3*h+1], d[3*h+2] = v0, v1, w
	}
	src, dst = dst, src
	pw := 3 // 3^j
	for j := 1; j < z.s; j++ {
		highs := z.grid >> (j + 1)
		for h := range highs {
			c0 := src[pw*2*h : pw*(2*h+1)]
			c1 := src[pw*(2*h+1) : pw*(2*h+2)]
			n := dst[pw*3*h : pw*3*(h+1)]
			n0, n1, n2 := n[:pw], n[pw:2*pw], n[2*pw:3*pw]
			c1 = c1[:len(c0)]
			if xor {
				for lo, v0 := range c0 {
					v1 := c1[lo]
					n0[lo], n1[lo], n2[lo] = v0, v1, v1^v0
				}
				continue
			}
			for lo, v0 := range c0 {
				v1 := c1[lo]
				n0[lo], n1[lo], n2[lo] = v0, v1, v1-v0
			}
		}
		src, dst = dst, src
		pw *= 3
	}
}

// SetErrorBudget sets the run's soundness budget of p (a rep3-mal party) to units of
// 2^-64 (budget.go). For tests.
func SetErrorBudget(p mpc.Protocol, units uint64) { p.(*Protocol).budget = units }

// BatchErrorBound is the error bound of a batch with both proofs, in units of 2^-64.
const BatchErrorBound = arithProofError + andProofError

// TestErrorBudget: the budget is 2^-40, a batch of both proofs is bounded by the package
// doc's 3 * 100 * 2^-56 + 3 * 100 * 2^-64, and 217 of them fit, not 218.
func TestErrorBudget(t *testing.T) {
	if errorBudget != 1<<24 {
		t.Fatalf("budget %d units of 2^-64, want 2^24 (2^-40)", errorBudget)
	}
	if e := batchError(true, true, 0, false); e != 300*256+300 {
		t.Fatalf("proof batch bound %d units", e)
	}
	if maxProofBatches*BatchErrorBound > errorBudget || (maxProofBatches+1)*BatchErrorBound <= errorBudget || maxProofBatches != 217 {
		t.Fatalf("maxProofBatches = %d", maxProofBatches)
	}
	// A batch with the triples of both kinds and a sacrifice (proofs off): 3 * 2^-46.
	if e := batchError(false, false, 2, true); e != 3<<18 {
		t.Fatalf("triples and sacrifice bound %d units", e)
	}
}

// BenchmarkHalves: the prover's GR halving sums (h(0), h(inf)) over 4096 random pairs.
func BenchmarkHalves(b *testing.B) {
	const n = 1 << 13
	g := prg.New(prg.Key{21})
	z := &zkBases[galois.Elem]{}
	for range n {
		a, bb, ya, yb := galois.Uniform(g), galois.Uniform(g), galois.Uniform(g), galois.Uniform(g)
		z.push(&a, &bb, &ya, &yb)
	}
	for b.Loop() {
		grAlg{}.halves(z)
	}
}
