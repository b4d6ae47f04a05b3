//go:build !amd64

package rep3mal

import "github.com/qmpc/qmpc/gocore/galois"

var hasExtendAsm, hasLiftAsm, hasAndLiftAsm, hasAndLiftV = false, false, false, false

func extendSub4(out *[4]uint64, diffs *[3]int32, n int) { panic("rep3mal: no lift kernels") }

func extendXor4(out *[4]uint64, diffs *[3]int32, n int) { panic("rep3mal: no lift kernels") }

func mulAcc1(acc, u, w, w2 *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc2(acc, u, v, w, z *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc1AVX2(acc, u, w, w2 *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc2AVX2(acc, u, v, w, z *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func andLiftProgV(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int) {
	panic("rep3mal: no lift kernels")
}

func andLiftProgX(ext *[4][4]uint64, prog *[4]int32, acc *[2]uint64, psi *[4]uint64, n int) {
	panic("rep3mal: no lift kernels")
}

func mulF64Vec(dst, a, c *uint64, n int) { panic("rep3mal: no lift kernels") }

func foldF64(lo, hi *uint64, r uint64, n int) { panic("rep3mal: no lift kernels") }

func halvesF64(a, b, ya, yb *uint64, half, n int, out *[4]uint64) {
	panic("rep3mal: no lift kernels")
}

func mulF64VecV(dst, a, c *uint64, n int) { panic("rep3mal: no lift kernels") }

func foldF64V(lo, hi *uint64, r uint64, n int) { panic("rep3mal: no lift kernels") }

func halvesF64V(a, b, ya, yb *uint64, half, n int, out *[4]uint64) {
	panic("rep3mal: no lift kernels")
}

func foldLanes(dst *[64]galois.F64, rows *[64]uint64, wt *[8][256]galois.F64) {
	panic("rep3mal: no lift kernels")
}

func scaleAcc64V(acc *[64][2]uint64, w *[64]galois.F64, c uint64) { panic("rep3mal: no lift kernels") }
