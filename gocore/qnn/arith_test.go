package qnn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantizeMultiplier(t *testing.T) {
	tests := []struct {
		real  float64
		m     int32
		shift int
	}{
		{0, 0, 0},
		{0.5, 1 << 30, 0},
		{1, 1 << 30, 1},
		{0.75, 3 << 29, 0},
		{0.25, 1 << 30, -1},
		{1 - 1e-12, 1 << 30, 1}, // rounds up to 2^31, renormalised
	}
	for _, tc := range tests {
		m, s := QuantizeMultiplier(tc.real)
		if m != tc.m || s != tc.shift {
			t.Errorf("QuantizeMultiplier(%g) = (%d, %d), want (%d, %d)", tc.real, m, s, tc.m, tc.shift)
		}
	}
}

func TestSRDHMIsFloorFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edge := []int32{0, 1, -1, 2, -2, math.MaxInt32, math.MinInt32 + 1, 1 << 30, -(1 << 30)}
	for i := 0; i < 200000; i++ {
		a, b := int32(r.Uint32()), int32(r.Uint32()>>1)
		if i < len(edge)*len(edge) {
			a, b = edge[i%len(edge)], edge[i/len(edge)]
		}
		got := SaturatingRoundingDoublingHighMul(a, b)
		ab := int64(a) * int64(b)
		want := (ab + 1<<30) >> 31 // arithmetic shift is floor
		if a == math.MinInt32 && b == math.MinInt32 {
			continue
		}
		if int64(got) != want {
			t.Fatalf("SRDHM(%d,%d)=%d, floor formula %d", a, b, got, want)
		}
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	tests := []struct {
		x    int32
		e    int
		want int32
	}{
		{5, 1, 3}, {-5, 1, -3}, {4, 1, 2}, {-4, 1, -2}, {6, 2, 2}, {-6, 2, -2}, {5, 2, 1}, {-5, 2, -1},
		{7, 0, 7}, {-7, 0, -7}, {math.MaxInt32, 31, 1}, {math.MinInt32, 31, -1},
	}
	for _, tc := range tests {
		if got := RoundingDivideByPOT(tc.x, tc.e); got != tc.want {
			t.Errorf("RoundingDivideByPOT(%d,%d)=%d want %d", tc.x, tc.e, got, tc.want)
		}
	}
}
