//go:build amd64 && !purego

package ring

import (
	"math/rand/v2"
	"testing"
)

// TestMatMulBothPaths runs the AVX2 kernel (if the CPU has it) and the Go path against the
// naive product, on shapes with row, column and k-block tails.
func TestMatMulBothPaths(t *testing.T) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	r := rand.New(rand.NewPCG(11, 12))
	for _, avx := range []bool{false, saved} {
		useAVX2 = avx
		for _, s := range [][3]int{{4, 1, 4}, {9, 257, 7}, {13, 600, 12}, {64, 72, 64}, {300, 33, 19}} {
			m, k, n := s[0], s[1], s[2]
			a, b := randVec(r, m*k), randVec(r, k*n)
			want := naiveMatMul(a, b, m, k, n)
			c0 := randVec(r, m*n)
			c := Clone(c0)
			MatMulAdd(c, a, b, m, k, n)
			for i := range c {
				if c[i] != want[i]+c0[i] {
					t.Fatalf("avx2=%v %v: c[%d] = %d, want %d", avx, s, i, c[i], want[i]+c0[i])
				}
			}
		}
	}
	t.Logf("AVX2 available: %v", saved)
}
