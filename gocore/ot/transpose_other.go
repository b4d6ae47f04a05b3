//go:build !amd64

package ot

var hasAVX2 = false

func transpose2x128AVX2(rows *Block, cols *uint64, stride int, a *[256]uint64) {
	panic("ot: no AVX2")
}
