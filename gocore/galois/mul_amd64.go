package galois

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/genmul -o mul_amd64.s
//go:generate go run ./internal/genavx2 -o avx2_amd64.s

// hasAVX512 selects the AVX-512 (VPMULLQ) schoolbook product for MulAdd.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// mulAdd56AVX512 adds the product of x and y (coefficients 0..110) to acc.
//
//go:noescape
func mulAdd56AVX512(acc *[2 * D]uint64, x, y *[D]uint64)

// addScaledAVX512 adds x*c to e.
//
//go:noescape
func addScaledAVX512(e, x *[D]uint64, c uint64)

// addScaledRowsAVX512 adds xs[l] times row l of rows (rows of D words) to e for l < n.
//
//go:noescape
func addScaledRowsAVX512(e *[D]uint64, rows *[D]uint64, xs *uint64, n int)

// addLookupAVX512 adds t[idx[i]] to e[i] (idx[i] < 16).
//
//go:noescape
func addLookupAVX512(e *[D]uint64, t *[16]uint64, idx *[D]uint8)

// addSubsetSumsAVX512 adds, for g < n, entry idx[56g+i] of the 16 subset sums of the
// four words v[4g..4g+4) to e[i].
//
//go:noescape
func addSubsetSumsAVX512(e *[D]uint64, v *[4]uint64, idx *[D]uint8, n int)

// addNibbleSumsAVX512 adds row 16g + idx[g] of t (rows of D words) to e for g < n.
//
//go:noescape
func addNibbleSumsAVX512(e *[D]uint64, t *[D]uint64, idx *uint8, n int)

// mulAdd56BitsAVX512 adds the product of x (coefficient i: bit i of x) and y to acc.
//
//go:noescape
func mulAdd56BitsAVX512(acc *[2 * D]uint64, x uint64, y *[D]uint64)

// hasAVX2 selects the AVX2 kernels (avx2_amd64.s) where AVX-512 is missing.
var hasAVX2 = cpu.X86.HasAVX2

// mulAdd56BitsAVX2 is mulAdd56BitsAVX512 with four-lane registers; ypad holds four zero
// words, y and four zero words.
//
//go:noescape
func mulAdd56BitsAVX2(acc *[2 * D]uint64, x uint64, ypad *[64]uint64)

// subsetSums4AVX2 adds, for g < n <= 16 and p < 4, entry idx[56g+c] of the 16 subset
// sums of the four words vp[4g..4g+4) to ep[c].
//
//go:noescape
func subsetSums4AVX2(e0, e1, e2, e3 *[D]uint64, v0, v1, v2, v3 *[4]uint64, idx *[D]uint8, n int)

// addScaledRowsAVX2 adds xs[l] times row l of rows (rows of D words) to e for l < n
// (n >= 1).
//
//go:noescape
func addScaledRowsAVX2(e *[D]uint64, rows *[D]uint64, xs *uint64, n int)

// addNibbleSumsAVX2 adds row 16g + idx[g] of t (rows of D words) to e for g < n.
//
//go:noescape
func addNibbleSumsAVX2(e *[D]uint64, t *[D]uint64, idx *uint8, n int)

// mulAdd56AVX2 is mulAdd56AVX512 with four-lane registers: the 64-bit products from
// VPMULUDQ and VPMULLD (avx2_amd64.s).
//
//go:noescape
func mulAdd56AVX2(acc *[2 * D]uint64, x, y *[D]uint64)

// mulAdd2x56AVX2 adds the products x1 y1 and x2 y2 to acc: mulAdd56AVX2 of both with one
// join per pass (avx2_amd64.s).
//
//go:noescape
func mulAdd2x56AVX2(acc *[2 * D]uint64, x1, y1, x2, y2 *[D]uint64)

// reduceAVX2 is Wide.Reduce with four-lane registers (avx2_amd64.s).
//
//go:noescape
func reduceAVX2(e *[D]uint64, wide *[2 * D]uint64)
