package ring128

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

var mod = new(big.Int).Lsh(big.NewInt(1), 128)

func toBig(s Scalar) *big.Int {
	b := new(big.Int).SetUint64(s.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(s.Lo))
}

func randVec(r *rand.Rand, n int) Vec {
	v := Make(n)
	for i := range v.Lo {
		v.Lo[i], v.Hi[i] = r.Uint64(), r.Uint64()
	}
	return v
}

// TestOpsAgainstBigInt checks every operation against math/big modulo 2^128.
func TestOpsAgainstBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200
	a, b := randVec(r, n), randVec(r, n)
	c := make([]uint64, n)
	for i := range c {
		c[i] = r.Uint64()
	}
	// Extreme values.
	a.Lo[0], a.Hi[0] = ^uint64(0), ^uint64(0)
	b.Lo[0], b.Hi[0] = ^uint64(0), ^uint64(0)
	c[0] = ^uint64(0)
	type op struct {
		name string
		got  func() Vec
		want func(x, y *big.Int, k uint64) *big.Int
	}
	cases := []op{
		{"Add", func() Vec { d := Make(n); Add(d, a, b); return d }, func(x, y *big.Int, _ uint64) *big.Int { return new(big.Int).Add(x, y) }},
		{"Sub", func() Vec { d := Make(n); Sub(d, a, b); return d }, func(x, y *big.Int, _ uint64) *big.Int { return new(big.Int).Sub(x, y) }},
		{"Neg", func() Vec { d := Make(n); Neg(d, a); return d }, func(x, _ *big.Int, _ uint64) *big.Int { return new(big.Int).Neg(x) }},
		{"Mul", func() Vec { d := Make(n); Mul(d, a, b); return d }, func(x, y *big.Int, _ uint64) *big.Int { return new(big.Int).Mul(x, y) }},
		{"MulU64", func() Vec { d := Make(n); MulU64(d, a, c); return d }, func(x, _ *big.Int, k uint64) *big.Int {
			return new(big.Int).Mul(x, new(big.Int).SetUint64(k))
		}},
		{"AddU64", func() Vec { d := Make(n); AddU64(d, a, c); return d }, func(x, _ *big.Int, k uint64) *big.Int {
			return new(big.Int).Add(x, new(big.Int).SetUint64(k))
		}},
		{"MulScalar", func() Vec { d := Make(n); MulScalar(d, a, b.At(3)); return d }, func(x, _ *big.Int, _ uint64) *big.Int {
			return new(big.Int).Mul(x, toBig(b.At(3)))
		}},
		{"aliased Add", func() Vec { d := a.Clone(); Add(d, d, b); return d }, func(x, y *big.Int, _ uint64) *big.Int { return new(big.Int).Add(x, y) }},
	}
	for _, tc := range cases {
		got := tc.got()
		for i := 0; i < n; i++ {
			want := tc.want(toBig(a.At(i)), toBig(b.At(i)), c[i])
			want.Mod(want, mod)
			if toBig(got.At(i)).Cmp(want) != 0 {
				t.Fatalf("%s[%d] = %v, want %v", tc.name, i, toBig(got.At(i)), want)
			}
		}
	}
	// Dot and MatMulAdd.
	want := new(big.Int)
	for i := 0; i < n; i++ {
		want.Add(want, new(big.Int).Mul(toBig(a.At(i)), new(big.Int).SetUint64(c[i])))
	}
	if got := Dot(a, c); toBig(got).Cmp(want.Mod(want, mod)) != 0 {
		t.Fatalf("Dot = %v, want %v", toBig(got), want)
	}
	m, k, nn := 3, 5, 4
	x, y := randVec(r, m*k), randVec(r, k*nn)
	z := randVec(r, m*nn)
	z0 := z.Clone()
	MatMulAdd(z, x, y, m, k, nn)
	for i := 0; i < m; i++ {
		for j := 0; j < nn; j++ {
			w := toBig(z0.At(i*nn + j))
			for t2 := 0; t2 < k; t2++ {
				w.Add(w, new(big.Int).Mul(toBig(x.At(i*k+t2)), toBig(y.At(t2*nn+j))))
			}
			if toBig(z.At(i*nn+j)).Cmp(w.Mod(w, mod)) != 0 {
				t.Fatalf("MatMulAdd[%d,%d] wrong", i, j)
			}
		}
	}
	s := SumGroups(a, 4)
	g := Gather(a, []int32{3, -1, 0})
	if s.At(0) != a.At(0).Add(a.At(1)).Add(a.At(2)).Add(a.At(3)) || g.At(0) != a.At(3) || g.At(1) != (Scalar{}) || g.At(2) != a.At(0) {
		t.Fatal("SumGroups/Gather wrong")
	}
}

func BenchmarkMul(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := randVec(r, 1<<16), randVec(r, 1<<16)
	d := Make(1 << 16)
	b.SetBytes(16 << 16)
	for b.Loop() {
		Mul(d, x, y)
	}
}

func BenchmarkMatMulAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := randVec(r, 64*64), randVec(r, 64*64)
	z := Make(64 * 64)
	for b.Loop() {
		MatMulAdd(z, x, y, 64, 64, 64)
	}
}
