package qnn

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// rneRat rounds a rational to the nearest integer, ties to even (the oracle).
func rneRat(r *big.Rat) *big.Int {
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).DivMod(num, den, new(big.Int)) // floor for den > 0, 0 <= m < den
	twice := new(big.Int).Lsh(m, 1)
	switch twice.Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// exactMul is x * m * 2^(shift-31) as a rational.
func exactMul(x int64, m int32, shift int) *big.Rat {
	r := new(big.Rat).SetInt(new(big.Int).Mul(big.NewInt(x), big.NewInt(int64(m))))
	e := shift - 31
	p := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(abs(e))))
	if e >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestHalfEvenMultiplierExactForFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		f := float32(math.Ldexp(rng.Float64()+0.5, rng.IntN(40)-30))
		m, s := HalfEvenMultiplier(float64(f))
		if m < 1<<30 {
			t.Fatalf("%v: m=%d below 2^30", f, m)
		}
		if got := math.Ldexp(float64(m), s-31); got != float64(f) {
			t.Fatalf("%v: m=%d shift=%d gives %v", f, m, s, got)
		}
	}
	for _, tc := range []struct {
		real float64
		m    int32
		s    int
	}{
		{0, 0, 0}, {-1, 0, 0}, {math.Inf(1), 0, 0}, {math.NaN(), 0, 0},
		{0.5, 1 << 30, 0}, {1, 1 << 30, 1}, {0.75, 3 << 29, 0},
		{1 - 1.0/(1<<33), 1 << 30, 1}, // rounds up to 2^31 and renormalizes
		{1 << 40, math.MaxInt32, 31},
	} {
		m, s := HalfEvenMultiplier(tc.real)
		if m != tc.m || s != tc.s {
			t.Errorf("HalfEvenMultiplier(%v) = %d, %d; want %d, %d", tc.real, m, s, tc.m, tc.s)
		}
	}
}

func TestRoundHalfEvenShift(t *testing.T) {
	for _, tc := range []struct {
		p    int64
		r    int
		want int64
	}{
		{5, 1, 2}, {7, 1, 4}, {-5, 1, -2}, {-7, 1, -4}, {3, 1, 2}, {1, 1, 0}, {-1, 1, 0},
		{6, 2, 2}, {10, 2, 2}, {-6, 2, -2}, {-10, 2, -2}, {9, 2, 2}, {11, 2, 3},
		{-9, 2, -2}, {-11, 2, -3}, {12345, 0, 12345}, {math.MaxInt64, 64, 0},
		{math.MinInt64, 63, -1}, {math.MaxInt64, 63, 1}, {math.MinInt64, 64, 0},
	} {
		if got := RoundHalfEvenShift(tc.p, tc.r); got != tc.want {
			t.Errorf("RoundHalfEvenShift(%d, %d) = %d, want %d", tc.p, tc.r, got, tc.want)
		}
	}
}

func TestMulHalfEvenMatchesExactRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(x, m int32, s int) {
		t.Helper()
		want := rneRat(exactMul(int64(x), m, s))
		if want.Cmp(big.NewInt(math.MaxInt32)) > 0 {
			want = big.NewInt(math.MaxInt32)
		}
		if want.Cmp(big.NewInt(math.MinInt32)) < 0 {
			want = big.NewInt(math.MinInt32)
		}
		if got := MulHalfEven(x, m, s); int64(got) != want.Int64() {
			t.Fatalf("MulHalfEven(%d, %d, %d) = %d, want %d", x, m, s, got, want)
		}
	}
	for i := 0; i < 50000; i++ {
		m := int32(1<<30 + rng.IntN(1<<30))
		if i%4 == 0 {
			m &^= 1<<rng.IntN(30) - 1 // short mantissas make ties frequent
		}
		x := int32(rng.Uint32())
		if i%2 == 0 {
			x = int32(rng.IntN(1<<20)) - 1<<19
		}
		check(x, m, rng.IntN(80)-60)
	}
	// Ties: x * m * 2^(shift-31) = k + 1/2.
	for _, x := range []int32{1, -1, 3, -3, 5, -5, 255, -255} {
		check(x, 1<<30, 0)
		check(x, 1<<30, -1)
	}
	check(math.MinInt32, math.MaxInt32, 31)
	check(math.MaxInt32, math.MaxInt32, 31)
	check(math.MinInt32, math.MaxInt32, 200)
	check(math.MinInt32, math.MaxInt32, -200)
}

// TestMulHalfEvenMatchesFloat32Runtime compares with the runtimes' float32 arithmetic
// (nearbyintf(float(acc) * scale)) where that arithmetic is exact: |acc| < 2^24 and an
// exactly representable product.
func TestMulHalfEvenMatchesFloat32Runtime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50000; i++ {
		scale := float32(rng.IntN(1<<8)+1) / float32(int(1)<<(8+rng.IntN(12)))
		acc := int32(rng.IntN(1<<14)) - 1<<13
		prod := float32(acc) * scale // exact: 8+14 bits
		want := int32(math.RoundToEven(float64(prod)))
		m, s := HalfEvenMultiplier(float64(scale))
		if got := MulHalfEven(acc, m, s); got != want {
			t.Fatalf("acc %d scale %v: got %d, want %d", acc, scale, got, want)
		}
	}
}

func TestHalfEvenRequantApply(t *testing.T) {
	q := NewHalfEvenConvRequant(0.5, []float32{0.25, 0.125}, 0.25, 10, 0, 255)
	// channel 0: acc * 0.5; channel 1: acc * 0.25
	for _, tc := range []struct{ acc, c, want int32 }{
		{3, 0, 12}, {5, 0, 12}, {7, 0, 14}, {-30, 0, 0}, {1000, 0, 255},
		{2, 1, 10}, {6, 1, 12}, {10, 1, 12},
	} {
		if got := q.Apply(tc.acc, int(tc.c)); got != tc.want {
			t.Errorf("Apply(%d, %d) = %d, want %d", tc.acc, tc.c, got, tc.want)
		}
	}
}

func BenchmarkMulHalfEven(b *testing.B) {
	m, s := HalfEvenMultiplier(0.0123)
	var sink int32
	for i := 0; i < b.N; i++ {
		sink += MulHalfEven(int32(i), m, s)
	}
	_ = sink
}
