//go:build !amd64 || purego

package ring

const useAVX2 = false

func kernelAsm(c []uint64, ldc int, a []uint64, lda int, panel []uint64, k int) {
	panic("ring: no assembly kernel")
}
