//go:build !amd64 || purego

package ring

func transpose64AVX2(a *[64]uint64) { panic("ring: no assembly kernel") }
