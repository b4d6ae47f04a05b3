package galois

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/prg"
)

// clmulSlow is the bit-by-bit carry-less product.
func clmulSlow(a, b uint64) (hi, lo uint64) {
	for i := range 64 {
		if b>>uint(i)&1 != 0 {
			lo ^= a << uint(i)
			if i > 0 {
				hi ^= a >> uint(64-i)
			}
		}
	}
	return hi, lo
}

// mulModX returns r*X mod h for deg h <= 63 (h given with its leading bit).
func mulModX(r, h uint64) uint64 {
	top := bitLen(h) - 1
	r <<= 1
	if r>>uint(top)&1 != 0 {
		r ^= h
	}
	return r
}

// TestGF64Modulus: Rabin's test for X^64 + X^4 + X^3 + X + 1: X^(2^64) = X, and
// gcd(X^(2^32) - X, F) = 1 (2 is the only prime divisor of 64).
func TestGF64Modulus(t *testing.T) {
	x := F64(2)
	p := x
	for range 64 {
		p = p.Mul(p)
	}
	if p != x {
		t.Fatal("X^(2^64) != X")
	}
	g := x
	for range 32 {
		g = g.Mul(g)
	}
	h := uint64(g ^ x) // X^(2^32) - X mod F, degree < 64
	if h == 0 {
		t.Fatal("X^(2^32) = X: F has a factor of degree dividing 32")
	}
	// F mod h = (X^64 mod h) ^ (taps mod h), then Euclid on words.
	r := uint64(1)
	for range 64 {
		r = mulModX(r, h)
	}
	fm := r ^ gf2Mod(gf64Taps, h)
	if gcd := gf2Gcd(h, fm); gcd != 1 {
		t.Fatalf("gcd(X^(2^32) - X, F) = %#x", gcd)
	}
}

// TestGF64Field: the windowed product equals the bit-by-bit one; products commute,
// associate and distribute; a^(2^64-1) = 1 for a != 0.
func TestGF64Field(t *testing.T) {
	g := prg.New(prg.Key{4})
	w := g.Uint64s(60)
	for i := 0; i+2 < len(w); i += 3 {
		a, b, c := F64(w[i]), F64(w[i+1]), F64(w[i+2])
		h1, l1 := clmul(w[i], w[i+1])
		h2, l2 := clmulSlow(w[i], w[i+1])
		if h1 != h2 || l1 != l2 {
			t.Fatal("windowed carry-less product differs")
		}
		if a.Mul(b) != b.Mul(a) || a.Mul(b).Mul(c) != a.Mul(b.Mul(c)) || a.Mul(b.Add(c)) != a.Mul(b).Add(a.Mul(c)) {
			t.Fatal("field laws")
		}
		// a^(2^64 - 1) = prod of a^(2^j), j < 64.
		p, s := F64(1), a
		for range 64 {
			p = p.Mul(s)
			s = s.Mul(s)
		}
		if a != 0 && p != 1 {
			t.Fatalf("a^(2^64-1) = %#x for a = %#x", p, a)
		}
	}
	if F64(1<<63).Mul(2) != gf64Taps {
		t.Fatal("X^63 * X != X^4 + X^3 + X + 1")
	}
}

func BenchmarkGF64Mul(b *testing.B) {
	x, y := F64(0x9e3779b97f4a7c15), F64(0xbf58476d1ce4e5b9)
	for b.Loop() {
		x = x.Mul(y)
	}
	_ = x
}

// TestF64TableAndWide: the table product and the reduced wide sums equal Mul.
func TestF64TableAndWide(t *testing.T) {
	g := prg.New(prg.Key{5})
	w := g.Uint64s(64)
	var tab F64Table
	for i := 0; i+1 < len(w); i += 2 {
		a, b := F64(w[i]), F64(w[i+1])
		tab.Set(a)
		k := uint(w[i] % 64)
		if tab.Mul(b) != a.Mul(b) || tab.Mul(1) != a || tab.Mul(0) != 0 || b.MulXPow(k) != b.Mul(F64(1)<<k) {
			t.Fatalf("table product of %#x and %#x", a, b)
		}
	}
	var acc F64Wide
	var want F64
	for i := 0; i+1 < len(w); i += 2 {
		acc.MulAdd(F64(w[i]), F64(w[i+1]))
		want ^= F64(w[i]).Mul(F64(w[i+1]))
	}
	if acc.Reduce() != want {
		t.Fatal("wide sum differs from the sum of products")
	}
}

// TestCLMULPaths: the PCLMULQDQ products (if the processor has them) and the inner
// product equal the Go ones.
func TestCLMULPaths(t *testing.T) {
	has := hasCLMUL
	defer func() { hasCLMUL = has }()
	for _, h := range []bool{false, has} {
		hasCLMUL = h
		testCLMULPaths(t)
	}
	t.Logf("PCLMULQDQ: %v", has)
}

func testCLMULPaths(t *testing.T) {
	g := prg.New(prg.Key{6})
	w := g.Uint64s(201)
	a, b := make([]F64, 100), make([]F64, 100)
	var want F64Wide
	for i := range a {
		a[i], b[i] = F64(w[2*i]), F64(w[2*i+1])
		hi, lo := clmulSoft(w[2*i], w[2*i+1])
		h2, l2 := clmul(w[2*i], w[2*i+1])
		if hi != h2 || lo != l2 {
			t.Fatal("clmul differs from clmulSoft")
		}
		want.Hi ^= hi
		want.Lo ^= lo
	}
	var got F64Wide
	got.Dot(a, b)
	if got != want {
		t.Fatal("Dot differs from the sum of products")
	}
	acc := NewF64Acc(len(a))
	acc.AddScaled(a, b[0])
	acc.AddScaled(b, a[1])
	out := make([]F64, len(a))
	acc.Reduce(out)
	for i := range a {
		if out[i] != a[i].Mul(b[0])^b[i].Mul(a[1]) || acc.Hi[i]|acc.Lo[i] != 0 {
			t.Fatal("F64Acc differs from the products")
		}
	}
}

func BenchmarkF64Dot(b *testing.B) {
	g := prg.New(prg.Key{7})
	x, y := make([]F64, 1024), make([]F64, 1024)
	for i, v := range g.Uint64s(2048) {
		if i < 1024 {
			x[i] = F64(v)
		} else {
			y[i-1024] = F64(v)
		}
	}
	for b.Loop() {
		var w F64Wide
		w.Dot(x, y)
	}
}
