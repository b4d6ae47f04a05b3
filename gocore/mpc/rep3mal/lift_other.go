//go:build !amd64

package rep3mal

var hasExtendAsm, hasLiftAsm = false, false

func extendSub4(out *[4]uint64, diffs *[3]int32, n int) { panic("rep3mal: no lift kernels") }

func extendXor4(out *[4]uint64, diffs *[3]int32, n int) { panic("rep3mal: no lift kernels") }

func mulAcc1(acc, u, w, w2 *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc2(acc, u, v, w, z *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc1AVX2(acc, u, w, w2 *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }

func mulAcc2AVX2(acc, u, v, w, z *[4]uint64, idx *int, n int) { panic("rep3mal: no lift kernels") }
