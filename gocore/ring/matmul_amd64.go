//go:build amd64 && !purego

package ring

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

//go:noescape
func gemm4x4AVX2(c *uint64, ldc int, a *uint64, lda int, panel *uint64, k int)

// hasAVX2 reports whether the CPU and the OS support AVX2 (CPUID and XCR0 checks).
func hasAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// useAVX2 selects the AVX2 kernel; set once at package initialization.
var useAVX2 = hasAVX2()

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
