//go:build amd64 && !purego

package ring

// transpose64AVX2 is Transpose64 with AVX2 (bits_amd64.s). Callers check useAVX2.
//
//go:noescape
func transpose64AVX2(a *[64]uint64)
