//go:build amd64 && !purego

package ring

import (
	"math/rand/v2"
	"testing"
)

// TestTranspose64BothPaths: bit j of row i moves to bit i of row j, with the AVX2 kernel
// (if the CPU has it) and without it, on random rows and on single set bits (every
// position, so that a wrong mask or shift of any round shows).
func TestTranspose64BothPaths(t *testing.T) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	r := rand.New(rand.NewPCG(5, 6))
	for _, avx := range []bool{false, saved} {
		useAVX2 = avx
		var ins [][64]uint64
		for range 4 {
			var a [64]uint64
			for i := range a {
				a[i] = r.Uint64()
			}
			ins = append(ins, a)
		}
		for i := range 64 {
			var a [64]uint64
			a[i] = 1 << uint((i*37+5)%64)
			ins = append(ins, a)
		}
		for _, in := range ins {
			a := in
			Transpose64(&a)
			for i := range 64 {
				for j := range 64 {
					if a[j]>>uint(i)&1 != in[i]>>uint(j)&1 {
						t.Fatalf("avx2=%v: bit (%d,%d) not transposed", avx, i, j)
					}
				}
			}
		}
	}
}

func BenchmarkTranspose64(b *testing.B) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	r := rand.New(rand.NewPCG(5, 6))
	var a [64]uint64
	for i := range a {
		a[i] = r.Uint64()
	}
	for _, avx := range []bool{false, saved} {
		useAVX2 = avx
		b.Run(map[bool]string{false: "go", true: "avx2"}[avx], func(b *testing.B) {
			for b.Loop() {
				Transpose64(&a)
			}
		})
	}
}
