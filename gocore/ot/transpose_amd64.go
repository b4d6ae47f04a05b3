package ot

import "golang.org/x/sys/cpu"

// hasAVX2 selects the AVX2 kernel of colsToRows. Tests switch it off to check the portable
// path.
var hasAVX2 = cpu.X86.HasAVX2

// transpose2x128AVX2 transposes words w and w+1 of the 128 columns (cols points at column
// 0's word w, columns stride words apart) into the 128 rows 64w .. 64w+127 (rows points at
// row 64w), with a as scratch (transpose_amd64.s).
//
//go:noescape
func transpose2x128AVX2(rows *Block, cols *uint64, stride int, a *[256]uint64)
