package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, n int) []uint64 {
	v := make([]uint64, n)
	for i := range v {
		switch r.IntN(8) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = ^uint64(0)
		case 2:
			v[i] = 1 << 63
		default:
			v[i] = r.Uint64()
		}
	}
	return v
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := randVec(r, 100), randVec(r, 100)
	d := make([]uint64, 100)
	cases := []struct {
		name string
		f    func()
		want func(x, y uint64) uint64
	}{
		{"Add", func() { Add(d, a, b) }, func(x, y uint64) uint64 { return x + y }},
		{"Sub", func() { Sub(d, a, b) }, func(x, y uint64) uint64 { return x - y }},
		{"Neg", func() { Neg(d, a) }, func(x, y uint64) uint64 { return 0 - x }},
		{"Mul", func() { Mul(d, a, b) }, func(x, y uint64) uint64 { return x * y }},
		{"Xor", func() { Xor(d, a, b) }, func(x, y uint64) uint64 { return x ^ y }},
		{"And", func() { And(d, a, b) }, func(x, y uint64) uint64 { return x & y }},
		{"Not", func() { Not(d, a) }, func(x, y uint64) uint64 { return ^x }},
		{"AddConst", func() { AddConst(d, a, 7) }, func(x, y uint64) uint64 { return x + 7 }},
		{"MulConst", func() { MulConst(d, a, 1<<63+3) }, func(x, y uint64) uint64 { return x * (1<<63 + 3) }},
		{"AddPublic1", func() { AddPublic(d, a, []uint64{5}) }, func(x, y uint64) uint64 { return x + 5 }},
		{"MulPublic", func() { MulPublic(d, a, b) }, func(x, y uint64) uint64 { return x * y }},
	}
	for _, c := range cases {
		c.f()
		for i := range d {
			if w := c.want(a[i], b[i]); d[i] != w {
				t.Fatalf("%s[%d] = %d, want %d", c.name, i, d[i], w)
			}
		}
	}
}

func TestGatherSumConcat(t *testing.T) {
	x := []uint64{10, 20, 30, 40}
	g := Gather(x, []int32{3, -1, 0, 0})
	if fmt.Sprint(g) != "[40 0 10 10]" {
		t.Fatalf("Gather = %v", g)
	}
	if s := SumGroups(x, 2); fmt.Sprint(s) != "[30 70]" {
		t.Fatalf("SumGroups = %v", s)
	}
	if s := Concat(x[:1], nil, x[2:]); fmt.Sprint(s) != "[10 30 40]" {
		t.Fatalf("Concat = %v", s)
	}
}

func TestBytes(t *testing.T) {
	v := []uint64{0x0102030405060708, 0, ^uint64(0)}
	b := ToBytes(v)
	if b[0] != 8 || b[7] != 1 || len(b) != 24 {
		t.Fatalf("ToBytes = %v", b)
	}
	w, err := FromBytes(b, 3)
	if err != nil || fmt.Sprint(w) != fmt.Sprint(v) {
		t.Fatalf("FromBytes = %v, %v", w, err)
	}
	if _, err := FromBytes(b[:23], 3); err == nil {
		t.Fatal("FromBytes accepted a short message")
	}
}

func TestTranspose64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var a [64]uint64
	for i := range a {
		a[i] = r.Uint64()
	}
	orig := a
	Transpose64(&a)
	for i := 0; i < 64; i++ {
		for j := 0; j < 64; j++ {
			if (a[j]>>uint(i))&1 != (orig[i]>>uint(j))&1 {
				t.Fatalf("bit %d of a[%d] != bit %d of orig[%d]", i, j, j, i)
			}
		}
	}
}

func TestPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 63, 64, 65, 200} {
		for _, w := range []int{1, 8, 32, 64} {
			v := randVec(r, n)
			p := ToPlanes(v, w)
			if len(p) != w*Words(n) {
				t.Fatalf("n=%d w=%d: %d words", n, w, len(p))
			}
			// Check the layout against the definition.
			for i := 0; i < n; i++ {
				for j := 0; j < w; j++ {
					if p[j*Words(n)+i/64]>>(uint(i)%64)&1 != v[i]>>uint(j)&1 {
						t.Fatalf("n=%d w=%d: bit %d of element %d misplaced", n, w, j, i)
					}
				}
			}
			// ToPlanesTo writes every word, whatever out held before.
			stale := randVec(r, len(p))
			ToPlanesTo(stale, v, w)
			for i := range p {
				if stale[i] != p[i] {
					t.Fatalf("n=%d w=%d: ToPlanesTo word %d = %x over stale contents, want %x", n, w, i, stale[i], p[i])
				}
			}
			back := FromPlanes(p, n, w)
			for i := range v {
				want := v[i]
				if w < 64 {
					want &= 1<<uint(w) - 1
				}
				if back[i] != want {
					t.Fatalf("n=%d w=%d: FromPlanes[%d] = %x, want %x", n, w, i, back[i], want)
				}
			}
		}
	}
}

func TestGatherConcatBits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const w = 5
	v := randVec(r, 150)
	idx := make([]int32, 130)
	for i := range idx {
		idx[i] = int32(r.IntN(151)) - 1
	}
	got := FromPlanes(GatherBits(ToPlanes(v, w), len(v), w, idx), len(idx), w)
	for i, id := range idx {
		var want uint64
		if id >= 0 {
			want = v[id] & (1<<w - 1)
		}
		if got[i] != want {
			t.Fatalf("GatherBits[%d] = %d, want %d", i, got[i], want)
		}
	}
	parts := [][]uint64{v[:3], v[3:70], v[70:70], v[70:150]}
	var ps [][]uint64
	var ns []int
	for _, p := range parts {
		ps = append(ps, ToPlanes(p, w))
		ns = append(ns, len(p))
	}
	cat := FromPlanes(ConcatBits(w, ps, ns), len(v), w)
	for i := range v {
		if cat[i] != v[i]&(1<<w-1) {
			t.Fatalf("ConcatBits[%d] = %d, want %d", i, cat[i], v[i]&(1<<w-1))
		}
	}
	p := ToPlanes(v[:70], 2)
	Not(p, p)
	MaskTail(p, 70)
	if p[1]>>6 != 0 || p[3]>>6 != 0 || p[0] == 0 {
		t.Fatalf("MaskTail left %x %x %x", p[0], p[1], p[3])
	}
}

func naiveMatMul(a, b []uint64, m, k, n int) []uint64 {
	c := make([]uint64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s uint64
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {64, 72, 64}, {130, 3, 5}, {5, 300, 9}, {0, 3, 4}, {200, 70, 70}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randVec(r, m*k), randVec(r, k*n)
		want := naiveMatMul(a, b, m, k, n)
		c := randVec(r, m*n)
		MatMul(c, a, b, m, k, n)
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("%v: c[%d] = %d, want %d", s, i, c[i], want[i])
			}
		}
		c0 := randVec(r, m*n)
		c = Clone(c0)
		MatMulAdd(c, a, b, m, k, n)
		for i := range c {
			if c[i] != want[i]+c0[i] {
				t.Fatalf("%v: MatMulAdd c[%d] wrong", s, i)
			}
		}
	}
}

func BenchmarkMatMul(b *testing.B) {
	for _, s := range [][3]int{{4096, 72, 64}, {1024, 576, 64}, {256, 1024, 1024}, {64, 64, 64}} {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("m=%d/k=%d/n=%d", m, k, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, y := randVec(r, m*k), randVec(r, k*n)
			c := make([]uint64, m*n)
			b.ResetTimer()
			for b.Loop() {
				MatMul(c, x, y, m, k, n)
			}
			b.ReportMetric(float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gmac/s")
		})
	}
}

func BenchmarkPlanes(b *testing.B) {
	const n = 1 << 20
	v := randVec(rand.New(rand.NewPCG(1, 1)), n)
	b.Run("n=1M/w=64/ToPlanes", func(b *testing.B) {
		b.SetBytes(8 * n)
		for b.Loop() {
			ToPlanes(v, 64)
		}
	})
	p := ToPlanes(v, 64)
	b.Run("n=1M/w=64/FromPlanes", func(b *testing.B) {
		b.SetBytes(8 * n)
		for b.Loop() {
			FromPlanes(p, n, 64)
		}
	})
}

func TestAsBytesAsWords(t *testing.T) {
	v := []uint64{0x0102030405060708, 42}
	b := AsBytes(v)
	if fmt.Sprint(b) != fmt.Sprint(ToBytes(v)) {
		t.Fatalf("AsBytes = %v", b)
	}
	w, err := AsWords(append([]byte(nil), b...), 2)
	if err != nil || fmt.Sprint(w) != fmt.Sprint(v) {
		t.Fatalf("AsWords = %v, %v", w, err)
	}
	// Misaligned buffers are copied.
	buf := make([]byte, 17)
	copy(buf[1:], b)
	w, err = AsWords(buf[1:], 2)
	if err != nil || fmt.Sprint(w) != fmt.Sprint(v) {
		t.Fatalf("AsWords misaligned = %v, %v", w, err)
	}
	if _, err := AsWords(b, 3); err == nil {
		t.Fatal("AsWords accepted a short buffer")
	}
	if w, err := AsWords(nil, 0); err != nil || len(w) != 0 {
		t.Fatalf("AsWords empty = %v, %v", w, err)
	}
}

// TestTranspose8x64 compares Transpose8x64 with Transpose64 on random and edge rows.
func TestTranspose8x64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for it := 0; it < 200; it++ {
		var p [8]uint64
		var full [64]uint64
		for j := range p {
			switch it {
			case 0:
				p[j] = ^uint64(0)
			case 1:
				p[j] = 1 << uint(j*9%64)
			default:
				p[j] = r.Uint64()
			}
			full[j] = p[j]
		}
		Transpose64(&full)
		var out [64]uint64
		Transpose8x64(&p, &out)
		if out != full {
			t.Fatalf("rows %x: got %x, want %x", p, out, full)
		}
	}
}

func TestExtractBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := make([]uint64, 5)
	for i := range x {
		x[i] = r.Uint64()
	}
	for _, c := range []struct{ lo, n int }{{0, 1}, {0, 64}, {0, 320}, {5, 59}, {5, 60}, {63, 2}, {64, 64}, {70, 130}, {100, 220}, {319, 1}} {
		out := make([]uint64, Words(c.n)+1)
		for i := range out {
			out[i] = ^uint64(0) // stale contents: every word of the range must be overwritten
		}
		ExtractBits(out, x, c.lo, c.n)
		for k := range 64 * Words(c.n) {
			want := uint64(0)
			if k < c.n {
				want = x[(c.lo+k)/64] >> ((c.lo + k) % 64) & 1
			}
			if got := out[k/64] >> (k % 64) & 1; got != want {
				t.Fatalf("lo %d n %d: bit %d is %d, want %d", c.lo, c.n, k, got, want)
			}
		}
		if out[Words(c.n)] != ^uint64(0) {
			t.Fatalf("lo %d n %d: wrote past Words(n)", c.lo, c.n)
		}
	}
}
