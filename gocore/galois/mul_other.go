//go:build !amd64

package galois

var hasAVX512 = false

func mulAdd56AVX512(acc *[2 * D]uint64, x, y *[D]uint64) { panic("galois: no AVX-512") }
