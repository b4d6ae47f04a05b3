//go:build amd64 && !purego

package ring

import "golang.org/x/sys/cpu"

//go:noescape
func gemm4x4AVX2(c *uint64, ldc int, a *uint64, lda int, panel *uint64, k int)

// useAVX2 selects the AVX2 kernel: the CPU has AVX2 and the OS saves the YMM registers
// (golang.org/x/sys/cpu checks both).
var useAVX2 = cpu.X86.HasAVX2

// kernelAsm adds the 4x4 block a[4 rows at stride lda, k columns] * panel to c (stride
// ldc) with AVX2. Callers check useAVX2.
func kernelAsm(c []uint64, ldc int, a []uint64, lda int, panel []uint64, k int) {
	if k > 0 {
		// Bounds: the kernel touches c[0..3*ldc+3], a[0..3*lda+k-1], panel[0..8k-1].
		_ = c[3*ldc+3]
		_ = a[3*lda+k-1]
		_ = panel[8*k-1]
	}
	gemm4x4AVX2(&c[0], ldc, &a[0], lda, &panel[0], k)
}
