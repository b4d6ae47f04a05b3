package rep3mal

import (
	"github.com/qmpc/qmpc/gocore/galois"
	"golang.org/x/sys/cpu"
)

// hasExtendAsm selects the lift's extension kernels (lift_amd64.s: extendSub4,
// extendXor4) and the four-lane 64-bit product kernels from 32-bit products
// (mulAcc1AVX2, mulAcc2AVX2), which need AVX2 only; hasLiftAsm the product kernels by
// VPMULLQ on YMM (mulAcc1, mulAcc2), which need AVX-512 DQ and VL as well.
//
// hasAndLiftAsm selects the AND proof's kernels with carry-less products (andLiftProgX,
// mulF64Vec, foldF64, halvesF64; and the fold's look-ups, foldLanes), which need AVX2 and
// PCLMULQDQ; hasAndLiftV those with VPCLMULQDQ on YMM registers, two products per
// instruction (andLiftProgV, mulF64VecV, foldF64V, halvesF64V, scaleAcc64V; x/sys/cpu
// reports VPCLMULQDQ only with AVX-512, hence galois.HasVPCLMULQDQ).
var (
	hasExtendAsm  = cpu.X86.HasAVX2
	hasLiftAsm    = hasExtendAsm && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
	hasAndLiftAsm = hasExtendAsm && cpu.X86.HasPCLMULQDQ
	hasAndLiftV   = hasAndLiftAsm && galois.HasVPCLMULQDQ
)

//go:noescape
func extendSub4(out *[4]uint64, diffs *[3]int32, n int)

//go:noescape
func extendXor4(out *[4]uint64, diffs *[3]int32, n int)

//go:noescape
func mulAcc1(acc, u, w, w2 *[4]uint64, idx *int, n int)

//go:noescape
func mulAcc2(acc, u, v, w, z *[4]uint64, idx *int, n int)

//go:noescape
func mulAcc1AVX2(acc, u, w, w2 *[4]uint64, idx *int, n int)

//go:noescape
func mulAcc2AVX2(acc, u, v, w, z *[4]uint64, idx *int, n int)

//go:noescape
func andLiftProgV(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int)

//go:noescape
func andLiftProgX(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int)

//go:noescape
func mulF64Vec(dst, a, c *uint64, n int)

//go:noescape
func foldF64(lo, hi *uint64, r uint64, n int)

//go:noescape
func halvesF64(a, b, ya, yb *uint64, half, n int, out *[4]uint64)

//go:noescape
func mulF64VecV(dst, a, c *uint64, n int)

//go:noescape
func foldF64V(lo, hi *uint64, r uint64, n int)

//go:noescape
func halvesF64V(a, b, ya, yb *uint64, half, n int, out *[4]uint64)

//go:noescape
func foldLanes(dst *[64]galois.F64, rows *[64]uint64, wt *[8][256]galois.F64)

//go:noescape
func scaleAcc64V(acc *[64][2]uint64, w *[64]galois.F64, c uint64)
