//go:build amd64 && !purego

package qnn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func dot2x4AVX2(a0, a1, w *int16, ws, n int, out *[8]int32)

// haveAVX2: the CPU has AVX2 and the OS saves the YMM registers (x/sys/cpu checks both).
var haveAVX2 = cpu.X86.HasAVX2

// dot2x4 computes out[j] = a0·w[j] and out[4+j] = a1·w[j] for the 4 weight rows
// w[j] = w[j*stride : j*stride+n] (n a positive multiple of 16).
func dot2x4(a0, a1, w []int16, stride, n int, out *[8]int32) {
	if haveAVX2 {
		_ = a0[n-1]
		_ = a1[n-1]
		_ = w[3*stride+n-1]
		dot2x4AVX2(unsafe.SliceData(a0), unsafe.SliceData(a1), unsafe.SliceData(w), 2*stride, n, out)
		return
	}
	dot2x4Go(a0, a1, w, stride, n, out)
}

//go:noescape
func mulAddAVX2(acc *int32, x, w *int16, n int)

// mulAdd computes acc[i] += x[i]*w[i] for i < len(acc) (len(x), len(w) >= len(acc)).
func mulAdd(acc []int32, x, w []int16) {
	n := len(acc)
	v := n &^ 7
	if haveAVX2 && v > 0 {
		_ = x[n-1]
		_ = w[n-1]
		mulAddAVX2(unsafe.SliceData(acc), unsafe.SliceData(x), unsafe.SliceData(w), v)
	} else {
		v = 0
	}
	mulAddGo(acc[v:], x[v:n], w[v:n])
}

//go:noescape
func requantAVX2(x *int32, n int, p *rqBlock, pstride int, zp, lo, hi int32)

const rqBlockSize = int(unsafe.Sizeof(rqBlock{}))

// applyVec requantizes row with the AVX2 kernel where it can; it returns how many
// leading values it did.
func (f *fastRequant) applyVec(row []int32) int {
	if !haveAVX2 || len(f.blocks) == 0 {
		return 0
	}
	if f.uniform {
		v := len(row) &^ 7
		if v > 0 {
			requantAVX2(unsafe.SliceData(row), v, &f.blocks[0], 0, f.zp, f.lo, f.hi)
		}
		return v
	}
	v := min(len(row), 8*len(f.blocks)) &^ 7
	if v > 0 {
		requantAVX2(unsafe.SliceData(row), v, &f.blocks[0], rqBlockSize, f.zp, f.lo, f.hi)
	}
	return v
}

//go:noescape
func subNarrowAVX2(dst *int16, src *int32, n int, zp int32)

// subNarrow sets dst[i] = int16(src[i] - zp) for i < len(dst) (len(src) >= len(dst)).
func subNarrow(dst []int16, src []int32, zp int32) {
	n := len(dst)
	v := n &^ 15
	if haveAVX2 && v > 0 {
		_ = src[n-1]
		subNarrowAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), v, zp)
	} else {
		v = 0
	}
	subNarrowGo(dst[v:], src[v:n], zp)
}
