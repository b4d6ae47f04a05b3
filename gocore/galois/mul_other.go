//go:build !amd64

package galois

var hasAVX512 = false

func mulAdd56AVX512(acc *[2 * D]uint64, x, y *[D]uint64) { panic("galois: no AVX-512") }

func addScaledAVX512(e, x *[D]uint64, c uint64) { panic("galois: no AVX-512") }

func addScaledRowsAVX512(e *[D]uint64, rows *[D]uint64, xs *uint64, n int) {
	panic("galois: no AVX-512")
}

func addLookupAVX512(e *[D]uint64, t *[16]uint64, idx *[D]uint8) {
	panic("galois: no AVX-512")
}

func addSubsetSumsAVX512(e *[D]uint64, v *[4]uint64, idx *[D]uint8, n int) {
	panic("galois: no AVX-512")
}

func addNibbleSumsAVX512(e *[D]uint64, t *[D]uint64, idx *uint8, n int) {
	panic("galois: no AVX-512")
}

func mulAdd56BitsAVX512(acc *[2 * D]uint64, x uint64, y *[D]uint64) { panic("galois: no AVX-512") }

var hasAVX2 = false

func mulAdd56BitsAVX2(acc *[2 * D]uint64, x uint64, ypad *[64]uint64) { panic("galois: no AVX2") }

func mulAdd56AVX2(acc *[2 * D]uint64, x, y *[D]uint64) { panic("galois: no AVX2") }

func mulAdd2x56AVX2(acc *[2 * D]uint64, x1, y1, x2, y2 *[D]uint64) { panic("galois: no AVX2") }

func reduceAVX2(e *[D]uint64, wide *[2 * D]uint64) { panic("galois: no AVX2") }

func subsetSums4AVX2(e0, e1, e2, e3 *[D]uint64, v0, v1, v2, v3 *[4]uint64, idx *[D]uint8, n int) {
	panic("galois: no AVX2")
}

func addScaledRowsAVX2(e *[D]uint64, rows *[D]uint64, xs *uint64, n int) { panic("galois: no AVX2") }

func addNibbleSumsAVX2(e *[D]uint64, t *[D]uint64, idx *uint8, n int) { panic("galois: no AVX2") }
