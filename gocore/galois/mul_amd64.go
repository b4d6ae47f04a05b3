package galois

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/genmul -o mul_amd64.s

// hasAVX512 selects the AVX-512 (VPMULLQ) schoolbook product for MulAdd.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// mulAdd56AVX512 adds the product of x and y (coefficients 0..110) to acc.
//
//go:noescape
func mulAdd56AVX512(acc *[2 * D]uint64, x, y *[D]uint64)
