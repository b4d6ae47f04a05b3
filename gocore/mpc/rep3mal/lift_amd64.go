package rep3mal

import "golang.org/x/sys/cpu"

// hasLiftAsm selects the lift's YMM kernels (lift_amd64.s): AVX2 for the extensions,
// AVX-512 DQ and VL for the four-lane 64-bit products (VPMULLQ on YMM).
var hasLiftAsm = cpu.X86.HasAVX2 && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

//go:noescape
func extendSub4(out *[4]uint64, diffs *[3]int32, n int)

//go:noescape
func extendXor4(out *[4]uint64, diffs *[3]int32, n int)

//go:noescape
func mulAcc1(acc, u, w, w2 *[4]uint64, idx *int, n int)

//go:noescape
func mulAcc2(acc, u, v, w, z *[4]uint64, idx *int, n int)
