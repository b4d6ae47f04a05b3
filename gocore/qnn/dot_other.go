//go:build !amd64 || purego

package qnn

func dot2x4(a0, a1, w []int16, stride, n int, out *[8]int32) {
	dot2x4Go(a0, a1, w, stride, n, out)
}

func mulAdd(acc []int32, x, w []int16) { mulAddGo(acc, x, w) }

func (f *fastRequant) applyVec(row []int32) int { return 0 }

func subNarrow(dst []int16, src []int32, zp int32) { subNarrowGo(dst, src, zp) }
